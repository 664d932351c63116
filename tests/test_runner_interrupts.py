"""Interrupted runs: Ctrl-C, SIGTERM and SIGKILL of a run, a second run while one runs,
and a kill inside the swap that publishes; on the demo fixture, as in test_runner_runs.

A kernel start costs seconds, so runs are shared: one good run of the demo fixture
(module-scoped); every other test copies its root and runs at most once more.
"""

import fcntl
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from runner_fixture import lab_command, snapshot

from lab import LabError, results
from lab.runner import commands

pytestmark = pytest.mark.slow


def script_line(root: Path, text: str) -> int:
    lines = (root / "experiments" / "demo.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


# --------------------------------------------------------------------------- interruption


def start_paused_run(root: Path) -> tuple[subprocess.Popen, int]:
    """A run sleeping in its last cell: the process and its kernel's pid."""
    proc = lab_command(root, "run", "demo", "pause_s=60")
    watchdog = threading.Timer(120, proc.kill)  # a hung start fails the test instead of hanging it
    watchdog.start()
    try:
        for line in proc.stdout:
            if line.startswith("kernel ") and line.endswith(" pausing\n"):
                return proc, int(line.split()[1])
    finally:
        watchdog.cancel()
    proc.wait()
    raise AssertionError(f"the run ended before pausing: {proc.stderr.read()}")


def process_gone(pid: int, within_s: float = 15.0) -> bool:
    """Whether ``pid`` exits (or is a zombie awaiting its reaper) within ``within_s``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def lock_is_free(root: Path) -> bool:
    with open(root / "build" / "locks" / "demo.lock") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 130), (signal.SIGKILL, -9)])
def test_killing_a_run_leaves_last_good_results_and_no_kernel(good_root, sig, code):
    before = snapshot(results.result_dir("demo", good_root))
    proc, kernel = start_paused_run(good_root)

    proc.send_signal(sig)
    assert proc.wait(timeout=30) == code

    assert process_gone(kernel), f"kernel {kernel} outlived its run"
    assert snapshot(results.result_dir("demo", good_root)) == before
    assert lock_is_free(good_root)


def test_a_second_run_is_refused_while_one_runs(good_root):
    before = snapshot(results.result_dir("demo", good_root))
    first, kernel = start_paused_run(good_root)
    try:
        second = lab_command(good_root, "run", "demo")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert f"error: demo is already running (pid {first.pid}, lock build/locks/demo.lock)" in err
        with pytest.raises(LabError, match="already running"):
            commands.run_command("demo", [], good_root)
    finally:
        first.terminate()
        first.wait(timeout=30)
    assert process_gone(kernel)
    assert snapshot(results.result_dir("demo", good_root)) == before


# --------------------------------------------------------------------------- kill during publication

# Runs demo with the directory swap paused at one point; the test kills it there.
PAUSED_SWAP = """
import os, sys, time
from lab import atomic, cli

point = sys.argv[1]
exchange, rename = atomic._exchange, os.rename

def pause():
    print("swap paused", flush=True)
    time.sleep(60)

def paused_exchange(new, target):
    if point == "before exchange":
        pause()
    done = exchange(new, target)
    if point == "after exchange":
        pause()
    return done

def paused_rename(src, dst):  # where renameat2 is missing: target moved aside, new not yet in
    rename(src, dst)
    if point == "between renames" and str(dst).endswith(".old"):
        pause()

atomic._exchange = (lambda new, target: False) if point == "between renames" else paused_exchange
os.rename = paused_rename
sys.exit(cli.main(["run", "demo", "seed=7"]))
"""


def consistent_results(folder: Path) -> str:
    """The run id that page, run record and history agree on; fails on a mix."""
    run = json.loads((folder / "run.json").read_text())
    page_front = yaml.safe_load((folder / "index.md").read_text().split("---\n")[1])
    history = [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()]
    nb = nbformat.read(folder / "notebook.ipynb", as_version=4)
    assert page_front["run_id"] == run["run_id"] == history[-1]["run_id"]
    assert f"label {run['params']['label']!r}" in "".join(  # the notebook is this run's too
        o.get("text", "") for cell in nb.cells for o in cell.get("outputs", [])
    )
    assert nb.metadata.papermill.parameters == {k: v for k, v in run["params"].items() if k == "seed" and v == 7}
    assert sorted(p.name for p in (folder / "figures").iterdir()) == ["widths.json"]
    return run["run_id"]


@pytest.mark.parametrize("point", ["before exchange", "after exchange", "between renames"])
def test_killing_a_run_inside_the_swap_leaves_old_or_new_results_never_a_mix(good_root, point):
    folder = results.result_dir("demo", good_root)
    before = snapshot(folder)
    old_id = results.load_run("demo", good_root)["run_id"]
    time.sleep(1.1)  # run ids are per second
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_SWAP, point],
        cwd=good_root,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        assert any(line == "swap paused\n" for line in proc.stdout), proc.stderr.read()
        proc.kill()
        proc.wait()
    finally:
        watchdog.cancel()

    if point == "between renames":  # no renameat2: the old results wait aside for the next run
        assert not folder.exists()
        assert snapshot(folder.with_name(".demo.old")) == before
    elif point == "after exchange":
        assert consistent_results(folder) != old_id
        assert results.load_run("demo", good_root)["params"]["seed"] == 7
    else:
        assert snapshot(folder) == before
    assert commands.run_command("demo", [], good_root) == 0  # the next run recovers and cleans up
    assert consistent_results(folder) != old_id
    assert (folder / "history.jsonl").read_bytes().startswith(before["history.jsonl"])  # nothing lost
    assert sorted(p.name for p in folder.parent.iterdir()) == ["demo"]
