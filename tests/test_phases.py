"""The kernel's phase timer (lab.phases): nesting, the file written after each cell, and
that timing code changes no fingerprint (lab.fingerprint) and no record (lab.executed)."""

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
