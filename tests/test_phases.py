"""The kernel's phase timer (lab.phases): nesting, the file written after each cell, and
that timing code changes no fingerprint (lab.fingerprint) and no record (lab.executed)."""

import io
import json
import subprocess
import sys
import textwrap

import pytest

from lab import executed, fingerprint, phases


class Clock:
    """A perf_counter that moves only when told: exact seconds, no timed assertions."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    phases.reset()
    fake = Clock()
    monkeypatch.setattr(phases.time, "perf_counter", fake)
    yield fake
    phases.reset()


def test_a_phase_counts_the_seconds_inside_it(clock):
    assert phases.totals() == {"training": 0.0, "evaluation": 0.0}
    with phases.timed("training"):
        clock.now += 5
    clock.now += 100  # outside every phase: analysis, counted by no phase
    with phases.timed("training"):
        clock.now += 2
    assert phases.totals() == {"training": 7.0, "evaluation": 0.0}


def test_nested_phases_count_time_once_in_the_innermost(clock):
    with phases.timed("training"):
        clock.now += 3
        with phases.timed("evaluation"):
            clock.now += 4
            with phases.timed("evaluation"):  # the same phase inside itself: still once
                clock.now += 1
        clock.now += 2
    assert phases.totals() == {"training": 5.0, "evaluation": 5.0}


def test_totals_include_the_phase_open_now(clock):
    with phases.timed("training"):
        clock.now += 1
        with phases.timed("evaluation"):
            clock.now += 2
            assert phases.totals() == {"training": 1.0, "evaluation": 2.0}


def test_a_phase_that_raises_is_closed_and_counted(clock):
    with pytest.raises(KeyError):
        with phases.timed("training"):
            clock.now += 4
            raise KeyError("x")
    clock.now += 10
    assert phases.totals() == {"training": 4.0, "evaluation": 0.0}


def test_an_unknown_phase_is_refused():
    with pytest.raises(ValueError, match="phase 'trainig'"):
        with phases.timed("trainig"):
            pass


def test_a_phase_around_code_changes_no_fingerprint():
    plain = textwrap.dedent(
        """
        def fit(model, data):
            model.prepare()
            result = train(model, data)
            return result
        """
    )
    wrapped = textwrap.dedent(
        """
        def fit(model, data):
            model.prepare()
            with phases.timed("training"):  # timing only
                result = train(model, data)
            return result
        """
    )
    both = textwrap.dedent(
        """
        def fit(model, data):
            model.prepare()
            with lab.phases.timed("training"), torch.no_grad():
                result = train(model, data)
            return result
        """
    )
    assert fingerprint.units(wrapped) == fingerprint.units(plain)
    # only the phase goes: the other context manager changes what the code computes
    assert fingerprint.units(both)["fit"] == fingerprint.units(plain)["fit"].replace(
        "result = train(model, data)", "with torch.no_grad():\n        result = train(model, data)"
    )
    other = wrapped.replace("phases.timed", "phases.other")
    assert fingerprint.units(other) != fingerprint.units(plain)


def test_the_timer_is_part_of_the_recorder():
    assert "phases.py" in executed.RECORDER


def test_the_kernel_writes_the_phases_after_every_cell(tmp_path):
    """In an IPython shell started like the runner's kernel (``lab.executed.start``), each
    cell leaves ``phases.json`` beside ``executed.json``, a cell that raises included, and
    no record of the code names the timer."""
    code = textwrap.dedent(
        f"""
        import json, pathlib
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        import lab.executed
        out = pathlib.Path({str(tmp_path)!r})
        lab.executed.start(out)
        shell.run_cell("from lab import phases\\nwith phases.timed('training'):\\n    sum(range(1000))")
        first = json.loads((out / 'phases.json').read_text())
        shell.run_cell("with phases.timed('evaluation'):\\n    raise ValueError('in a phase')")
        second = json.loads((out / 'phases.json').read_text())
        code = json.loads((out / 'executed.json').read_text())
        print(json.dumps([first, second, sorted(code)]))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first, second, code = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(first) == set(second) == {"training", "evaluation"}
    assert first["training"] >= 0 and first["evaluation"] == 0
    assert second["training"] == first["training"]  # the second cell added evaluation only
    assert second["evaluation"] >= 0
    assert not [ref for ref in code if "phases" in ref]


# --------------------------------------------------------------------------- progress


TRAIN = textwrap.dedent(
    """
    def train(model, cfg, log):
        for step in range(cfg.steps + 1):
            evaluate(model, step)
            PROGRESS
            if step == cfg.steps:
                break
            model.step()
    """
)


def test_a_progress_statement_changes_no_fingerprint_and_a_call_in_its_arguments_does():
    plain = fingerprint.units(TRAIN.replace("PROGRESS", ""))
    for call in (
        "phases.progress(step, cfg.steps, shown=log is not None)",
        "lab.phases.progress(step, 10)",
        'phases.model_used(path.name, trained.history["seconds"][-1])',
    ):
        assert fingerprint.units(TRAIN.replace("PROGRESS", call)) == plain, call
    # each of these computes or keeps something, so it counts
    for call in (
        "phases.progress(step, model.step())",  # a call in the arguments could change a number
        "phases.progress(step, (n := cfg.steps))",
        "done = phases.progress(step, cfg.steps)",  # not a bare statement
        "phases.timed(step, cfg.steps)",
        "phases.model_used(path.name, trained.seconds())",
        "progress(step, cfg.steps)",
    ):
        assert fingerprint.units(TRAIN.replace("PROGRESS", call)) != plain, call
    # a block left with only the progress statement in it still fingerprints
    lone = "def f(xs):\n    for x in xs:\n        phases.progress(x, 3)\n"
    assert fingerprint.units(lone)["f"] == "def f(xs):\n    for x in xs:\n        pass"


def test_the_training_loop_reports_progress_and_its_fingerprint_is_as_without_it():
    source = (fingerprint.LAB_DIR / "train.py").read_text()
    lines = source.splitlines(keepends=True)
    calls = [i for i, line in enumerate(lines) if line.strip().startswith("phases.progress(")]
    assert len(calls) == 1  # the loop of lab/train.py:train says its steps
    without = "".join(lines[: calls[0]] + lines[calls[0] + 1 :])
    assert fingerprint.units(source)["train"] == fingerprint.units(without)["train"]


def test_load_or_train_notes_the_model_it_hands_out_and_its_fingerprint_is_as_without_it():
    source = (fingerprint.LAB_DIR / "models.py").read_text()
    lines = source.splitlines(keepends=True)
    notes = [i for i, line in enumerate(lines) if line.strip().startswith("phases.model_used(")]
    assert len(notes) == 2  # a model loaded from the cache, and one trained
    without = "".join(line for i, line in enumerate(lines) if i not in notes)
    assert fingerprint.units(source)["load_or_train"] == fingerprint.units(without)["load_or_train"]


class Monotonic:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def monotonic(monkeypatch):
    phases.reset()
    fake = Monotonic()
    monkeypatch.setattr(phases.time, "monotonic", fake)
    yield fake
    phases.reset()


def test_the_sink_hears_of_a_task_at_its_first_and_last_step_and_about_once_a_second(monotonic):
    heard = []
    phases.report_to(heard.append)
    with phases.timed("training", what="training tiny"):
        for step in range(11):
            if step == 6:
                monotonic.now += 1.0  # a second after step 0: step 6 is reported
            phases.progress(step, 10)
    assert [(s["task"], s["what"], s["step"], s["total"]) for s in heard] == [
        (1, "training tiny", 0, 10),
        (1, "training tiny", 6, 10),
        (1, "training tiny", 10, 10),
    ]
    assert heard[1]["seconds"] == heard[2]["seconds"] == 1.0
    phases.progress(0, 4)  # the next training is another task; no phase open: named "working"
    assert (heard[-1]["task"], heard[-1]["what"]) == (2, "working")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_outside_a_runner_a_shown_task_gets_a_bar_on_a_terminal_and_a_silent_one_none(monkeypatch):
    phases.reset()
    terminal, stdout = Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(sys, "stdout", stdout)
    phases.progress(0, 3, shown=False)
    phases.progress(3, 3, shown=False)
    assert terminal.getvalue() == ""
    with phases.timed("training", what="training tiny"):
        phases.progress(0, 3)
        print("step 0/3")  # what the task prints goes above the bar, whole
        assert sys.stdout is not stdout
        phases.progress(2, 3)
        assert "training tiny:   0%|" in terminal.getvalue() and "0/3" in terminal.getvalue()  # a bar, with its ETA
    assert sys.stdout is stdout  # put back when the phase around the task ended
    assert stdout.getvalue() == "step 0/3\n"
    phases.reset()


def test_in_the_kernel_progress_goes_to_a_file_the_runner_polls_and_not_to_the_output(tmp_path):
    """Started like the runner's kernel (``lab.executed.start``): the last step of a task
    is in ``progress.json``, the cell prints nothing of it, and writing it is the
    recorder's doing, not the run's."""
    code = textwrap.dedent(
        f"""
        import json, pathlib
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        import lab.executed
        out = pathlib.Path({str(tmp_path)!r})
        lab.executed.start(out)
        shell.run_cell(
            "from lab import phases\\n"
            "with phases.timed('training', what='training tiny'):\\n"
            "    for step in range(4):\\n"
            "        phases.progress(step, 3)"
        )
        state = json.loads((out / 'progress.json').read_text())
        code = json.loads((out / 'executed.json').read_text())
        print('RESULT ' + json.dumps([state, sorted(code)]))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed, result = done.stdout.split("RESULT ")
    state, code = json.loads(result)
    assert {k: state[k] for k in ("task", "what", "step", "total")} == {
        "task": 1,
        "what": "training tiny",
        "step": 3,
        "total": 3,
    }
    assert printed == "" and done.stderr == ""  # nothing for the notebook to keep
    assert not [ref for ref in code if "progress" in ref or "phases" in ref]
