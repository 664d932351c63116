"""A sweep's processes: what stops them, what they leave, and what runs beside them.

Each test runs real sweeps of the grid fixture whose points sleep in their last cell
(``pause_s``), after they recorded their metrics, so that a test can act while a
point and its kernel are alive: SIGTERM or SIGKILL the driver, run the experiment
beside it, hold its lock.
"""

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from runner_fixture import FIXTURES, make_root

from lab import results
from lab.runner import commands, staleness

pytestmark = pytest.mark.slow


@pytest.fixture
def root(tmp_path) -> Path:
    root = make_root(tmp_path)
    (root / "experiments" / "grid.py").write_text((FIXTURES / "grid.py").read_text())
    return root


def lab(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab", *args], cwd=root, capture_output=True, text=True, timeout=300)


def start(root: Path, command: list[str]) -> subprocess.Popen:
    """``command`` in the background, its output read as it comes."""
    return subprocess.Popen(
        command,
        cwd=root,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def start_sweep(root: Path, *args: str) -> subprocess.Popen:
    return start(root, [sys.executable, "-m", "lab", "sweep", "grid", *args])


def paused(proc: subprocess.Popen, root: Path, points: list[str]) -> dict[str, tuple[int, int]]:
    """Read the driver's output until each of ``points`` started and its kernel is
    sleeping in the last cell: point -> (point process pid, kernel pid)."""
    watchdog = threading.Timer(180, proc.kill)  # a sweep that never pauses fails the test, not hangs it
    watchdog.start()
    started: dict[str, tuple[int, Path]] = {}
    try:
        for line in proc.stdout:
            if "] started (pid " in line:
                point = line[1 : line.index("]")]
                started[point] = (
                    int(line.split("(pid ")[1].split(",")[0]),
                    root / line.split(", log ")[1].rstrip(")\n"),
                )
            if set(points) <= set(started):
                break
        kernels: dict[str, int] = {}
        while len(kernels) < len(points) and proc.poll() is None:
            for point in points:
                log = started[point][1].read_text().splitlines()
                kernels.update((point, int(t.split()[1])) for t in log if t.endswith(" pausing"))
            time.sleep(0.2)
    finally:
        watchdog.cancel()
    assert len(kernels) == len(points), proc.stderr.read()
    return {point: (started[point][0], kernels[point]) for point in points}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def gone(pid: int, within_s: float = 30.0) -> bool:
    """Whether ``pid`` exits within ``within_s`` (a bound for a hung test, not a timing claim)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_sigterm_cancels_points_and_leaves_no_process_nor_record_and_a_second_sweep_is_refused(root, capsys):
    proc = start_sweep(root, "seed=0,1", "pause_s=120", "--jobs", "2")
    pids = paused(proc, root, ["seed-0", "seed-1"])
    try:
        second = lab(root, "sweep", "grid", "seed=5")
        assert second.returncode == 1
        assert (
            f"error: grid/sweep is already running (pid {proc.pid}, lock build/locks/grid/sweep.lock)" in second.stderr
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 130
    for pid in [pid for pair in pids.values() for pid in pair]:
        assert gone(pid), f"process {pid} outlived the sweep"
    # interrupted before any point landed: the sweep ran nothing and writes nothing
    assert not (root / "site").exists()
    assert commands.status_command(root) == 0 and "@pause_s-seed" not in capsys.readouterr().out


def test_a_killed_driver_takes_its_points_and_kernels_and_status_shows_what_landed(root, capsys):
    # one point at a time: pause_s=0 lands, then pause_s=120 sleeps until the driver is killed
    proc = start_sweep(root, "seed=0", "pause_s=0,120", "--jobs", "1")
    pids = paused(proc, root, ["pause_s-120.0"])
    proc.kill()  # SIGKILL: the driver runs no cleanup of its own
    proc.wait(timeout=60)
    for pid in pids["pause_s-120.0"]:
        assert gone(pid), f"process {pid} outlived its killed driver"

    state = staleness.sweep_state("grid", "pause_s-seed", root)  # the first sweep of it, killed
    assert (state.status, state.detail) == ("partial", "1/2 points ok; missing or failed: pause_s-120.0")
    page = (results.sweep_dir("grid", "pause_s-seed", root) / "index.md").read_text()
    assert "2 points, 1 ok, 0 failed, 1 missing" in page  # the experiment page's link to it holds
    assert commands.status_command(root) == 0
    assert "\n  partial   @pause_s-seed" in capsys.readouterr().out


def test_a_plain_run_of_the_experiment_leaves_a_running_sweep_point_alone(root):
    # the point sleeps while the plain run starts (which once emptied build/runs/grid,
    # the point's work directory included), and finishes after it
    proc = start_sweep(root, "seed=0", "pause_s=15")
    paused(proc, root, ["pause_s-15.0_seed-0"])
    plain = lab(root, "run", "grid")
    out, err = proc.communicate(timeout=300)
    assert plain.returncode == 0, plain.stderr
    assert proc.returncode == 0, out + err
    assert "[grid@pause_s-seed] 1/1 points ok (1 run, 0 fresh kept)" in out
    run = results.read_run(results.point_dir("grid", "pause_s-seed", "pause_s-15.0_seed-0", root))
    assert run["params"]["pause_s"] == 15.0 and set(run["metrics"]) == {"final_loss", "slope"}


def test_a_point_that_ends_without_results_says_why_from_its_log_and_nothing_is_written(root):
    lock = root / "build" / "locks" / "grid" / "sweeps" / "seed" / "seed-7.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "w") as held:  # as a point of an earlier driver still running would hold it
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(f"{os.getpid()}\n")
        held.flush()
        done = lab(root, "sweep", "grid", "seed=7")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: point seed-7 ended without results: error: grid/sweeps/seed/seed-7 is already running "
        f"(pid {os.getpid()}, lock build/locks/grid/sweeps/seed/seed-7.lock); wait for it to finish or stop it "
        "(exit code 1); log build/points/grid/sweeps/seed/seed-7/log.txt"
    ]
    assert done.stdout.endswith("[grid@seed] 0/1 points ok (1 run, 0 fresh kept): nothing written (no point landed)\n")
    assert not (root / "site").exists()  # nothing landed: no point, no sweep record, no page


def test_sigterm_stops_the_points_even_when_the_driver_can_no_longer_report(root):
    proc = start_sweep(root, "seed=0", "pause_s=120")
    pids = paused(proc, root, ["pause_s-120.0_seed-0"])["pause_s-120.0_seed-0"]
    proc.stdout.close()  # the terminal is gone (a closed pipe): the driver's next line fails
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=120)
        for pid in pids:
            assert gone(pid), f"process {pid} outlived the sweep"
    finally:  # a failed test leaves no sweep running behind it
        for pid in (proc.pid, *pids):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
