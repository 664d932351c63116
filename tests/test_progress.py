"""Progress of the driver's long tasks: k/N and an ETA from the recorded durations,
corrected by the pace of the tasks finished so far. No clock is asserted: the
estimates are computed from given durations."""

import io
import json
import os
import sys

import nbformat
import pytest
from runner_fixture import make_root, write_experiment

from lab import results
from lab.runner import progress, run, scripts


def test_the_plan_comes_from_recorded_durations_and_fills_the_unknown_with_their_mean():
    meter = progress.Meter("x", {"a": 10.0, "b": 20.0, "c": None}, print)
    assert meter.eta() == 45.0  # c counts as the mean of a and b
    assert meter.plan() == "about 45 s from recorded durations"
    meter.close()


def test_the_eta_follows_the_pace_of_the_finished_tasks():
    meter = progress.Meter("x", {"a": 10.0, "b": 10.0, "c": None}, print)
    line = meter.tick("a", 20.0)  # twice as slow as recorded: the rest is expected so too
    # b: 10 s recorded; c: nothing recorded, so the mean of the finished (20 s); both at pace 2
    assert meter.eta() == 2.0 * (10.0 + 20.0)
    assert line.startswith(" (1/3, ") and line.endswith(", ETA 1 min 00 s)")
    assert meter.tick("b", 20.0).startswith(" (2/3, ")
    assert "ETA" not in meter.tick("c", 20.0)  # nothing is left
    meter.close()


def test_a_point_recorded_far_off_its_neighbours_does_not_set_the_pace():
    # loss-shelf@seeds: seed-0's record (51 s) was made with its model cached, the other
    # points' (314 s) were not; seed-0 then took 156 s, and the ETA said 1 h 04 min for
    # points that took under 3 min each
    records = {"seed-0": 51.0, **{f"seed-{i}": 314.0 for i in range(1, 5)}}
    meter = progress.Meter("x", records, print, alike=True)
    meter.tick("seed-0", 156.0)
    assert meter.eta() == 4 * 314.0  # the records as they stand, not tripled
    meter.tick("seed-1", 157.0)  # an even record: its pace (one half) applies to the rest
    assert meter.eta() == 0.5 * 3 * 314.0
    meter.close()


def test_tasks_of_every_size_all_set_the_pace():
    # a refresh: experiments of 10 s beside sweeps of an hour, whose records counted
    # training that the model cache now skips
    meter = progress.Meter("x", {"circuits": 414.0, "ablations": 58.0, "a": 120.0, "b": 100.0, "c": 5121.0}, print)
    meter.tick("circuits", 7.0)
    assert meter.eta() == 7.0 / 414.0 * (58.0 + 120.0 + 100.0 + 5121.0)
    meter.close()


def test_jobs_share_the_work_left():
    meter = progress.Meter("x", {p: 60.0 for p in "abcd"}, print, jobs=2)
    assert meter.eta() == 120.0
    meter.close()


def test_without_any_duration_there_is_no_estimate():
    meter = progress.Meter("x", {"a": None}, print)
    assert meter.eta() is None and meter.plan() == "no recorded duration to estimate from"
    meter.close()


def test_a_recorded_duration_is_read_from_run_json_and_a_missing_one_is_none(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"duration_s": 232.21}))
    assert progress.recorded_duration(tmp_path / "run.json") == 232.21
    assert progress.recorded_duration(tmp_path / "nope.json") is None


def test_clock():
    assert [progress.clock(s) for s in (42, 185, 3720)] == ["42 s", "3 min 05 s", "1 h 02 min"]


# --------------------------------------------------------------------------- a run's trainings


def state(step, total=600, seconds=None, task=1, what="training add2"):
    return {
        "task": task,
        "what": what,
        "step": step,
        "total": total,
        "seconds": step / 10 if seconds is None else seconds,
    }


class Kernel:
    """What the kernel's progress file holds at each poll: a list of states, read in turn."""

    def __init__(self, *states):
        self.states = list(states)

    def __call__(self):
        return self.states.pop(0) if self.states else None


def watched(*states, bars=False):
    said = []
    watch = progress.Watch("add2@seeds/seed=0", said.append, Kernel(*states), bars=bars)
    for _ in states:
        watch.poll()
    return said


def test_an_eta_comes_from_the_pace_of_the_steps_so_far():
    assert progress.task_eta(state(150, seconds=30.0)) == 90.0  # 5 steps a second, 450 to go
    assert progress.task_eta(state(0)) is None and progress.task_eta(state(600)) is None
    assert (
        progress.task_line("p", state(150, seconds=30.0))
        == "[p] training add2: 150/600 steps, 30 s so far, ETA 1 min 30 s"
    )
    assert progress.task_line("p", state(600, seconds=62.0)) == "[p] training add2: 600/600 steps in 1 min 02 s"


def test_without_a_terminal_a_training_says_each_tenth_of_its_steps_once_and_its_end():
    said = watched(state(0), state(0), state(30), state(60), state(65), state(300), state(600), state(600))
    assert said == [
        "[add2@seeds/seed=0] training add2: 0/600 steps, 0 s so far",
        "[add2@seeds/seed=0] training add2: 60/600 steps, 6 s so far, ETA 54 s",
        "[add2@seeds/seed=0] training add2: 300/600 steps, 30 s so far, ETA 30 s",
        "[add2@seeds/seed=0] training add2: 600/600 steps in 1 min 00 s",
    ]


def test_each_training_is_its_own_task_and_a_malformed_state_is_not_shown():
    said = watched(state(600), {"task": 2, "step": "x"}, state(0, total=100, task=2, what="training tiny"), None)
    assert said == [
        "[add2@seeds/seed=0] training add2: 600/600 steps in 1 min 00 s",
        "[add2@seeds/seed=0] training tiny: 0/100 steps, 0 s so far",
    ]


def test_in_a_terminal_a_training_is_a_bar_with_its_eta_and_a_line_when_it_ends(monkeypatch):
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    said = watched(state(0), state(150, seconds=30.0), bars=True)
    assert said == []  # the bar says it all while the training runs
    assert "[add2@seeds/seed=0] training add2:" in terminal.getvalue()
    said = watched(state(150, seconds=30.0), state(600, seconds=60.0), bars=True)
    assert "150/600 steps, 30 s so far, ETA 1 min 30 s" in terminal.getvalue()
    assert said == ["[add2@seeds/seed=0] training add2: 600/600 steps in 1 min 00 s"]


def test_watching_polls_once_more_when_the_kernel_is_done():
    """A training that ended after the last poll of the thread still gets its line."""
    said = []
    kernel = Kernel()
    with progress.Watch("p", said.append, kernel, bars=False):
        kernel.states.append(state(600))
    assert said[-1] == "[p] training add2: 600/600 steps in 1 min 00 s"


def test_a_long_kernel_line_is_cut_at_the_terminal_width_and_a_short_one_is_whole():
    terminal = io.StringIO()
    clipped = progress.Clipped(terminal, 10)
    for chunk in ("short\n", "0123456789abc", "def\nnext\r\n", "ab", "cdefghijkl\n", "exactly 10\n"):
        clipped.write(chunk)  # a line may come in pieces; its row is counted across them
    assert terminal.getvalue().splitlines() == ["short", "012345678…", "next", "abcdefghi…", "exactly 10"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_terminal_the_kernels_output_is_clipped_above_the_bars_and_elsewhere_kept_whole(monkeypatch):
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda: os.terminal_size((20, 24)))
    line = "training tiny: " + "ModelConfig(n_layers=2) " * 20 + "\n"
    kept = io.StringIO()
    assert progress.above_bars(kept, clip=True) is kept  # not a terminal: a log keeps every line whole
    monkeypatch.setattr(sys, "stderr", Terminal())
    shown = io.StringIO()
    echo = progress.above_bars(shown, clip=True)
    echo.write(line)
    echo.write("step 100/600 loss 0.9879\n")
    echo.flush()
    assert shown.getvalue().splitlines() == ["training tiny: Mode…", "step 100/600 loss 0…"]
    whole = io.StringIO()
    progress.above_bars(whole).write(line)  # stderr's echo (warnings, tracebacks) is not cut
    assert whole.getvalue() == line


TRAINS = """# ---
# title: Trains
# project: fixtures
# ---

# %% tags=["parameters"]
seed = 0

# %%
from lab import phases, record

with phases.timed("training", what="training tiny"):
    for step in range(41):
        phases.progress(step, 40)
        if step % 20 == 0:
            print(f"loss line {step}")  # the training's own output, which the notebook keeps
record.metric("answer", 42)
"""


@pytest.mark.slow
def test_a_run_shows_its_training_in_the_terminal_and_nowhere_on_the_page(tmp_path, capsys):
    root = make_root(tmp_path)
    write_experiment(root, "trains", TRAINS)
    said = []
    run.run(scripts.read_script("trains", root), {}, root, said.append)
    assert said[-1].startswith("[trains] training tiny: 40/40 steps in ")  # polled as the kernel finished
    assert "loss line 40" in capsys.readouterr().out  # the kernel's own output is echoed as before
    folder = results.result_dir("trains", root)
    notebook = nbformat.read(folder / results.NOTEBOOK, as_version=4)
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    page = (folder / "index.md").read_text()
    assert "loss line 20" in outputs and "loss line 20" in page  # what the cell printed is kept ...
    for kept in (outputs, page, (folder / results.RUN).read_text()):
        assert "40/40" not in kept and "steps in" not in kept and "ETA" not in kept  # ... its progress is not
    assert not (folder / results.PROGRESS).exists()


@pytest.mark.slow
def test_in_a_terminal_a_runs_long_lines_are_clipped_and_the_notebook_keeps_them_whole(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda: os.terminal_size((10, 24)))
    monkeypatch.setattr(sys, "stderr", Terminal())
    root = make_root(tmp_path)
    write_experiment(root, "trains", TRAINS)
    run.run(scripts.read_script("trains", root), {}, root, lambda line: None)
    out = capsys.readouterr().out
    assert "loss line…" in out and "loss line 20" not in out
    notebook = nbformat.read(results.result_dir("trains", root) / results.NOTEBOOK, as_version=4)
    assert "loss line 20" in json.dumps([cell.get("outputs", []) for cell in notebook.cells])
