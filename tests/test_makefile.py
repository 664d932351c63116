"""The Makefile's contract, run by `make` in a temporary repository root (the demo and
grid fixtures, the real Makefile, `.venv` linked to this interpreter's): exit codes,
PARAMS with quotes and spaces reaching run.json through make's shell intact, SWEEP
naming an ad-hoc GRID, and a SIGTERM to make reaching the program its recipe runs."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ray_cluster import descendants
from runner_fixture import FIXTURES, REPO, make_root
from test_sweep_processes import alive, gone, paused

from lab import results

pytestmark = pytest.mark.slow


@pytest.fixture
def root(tmp_path) -> Path:
    root = make_root(tmp_path)
    (root / "experiments" / "grid.py").write_text((FIXTURES / "grid.py").read_text())
    (root / "Makefile").write_text((REPO / "Makefile").read_text())
    (root / ".venv").symlink_to(Path(sys.prefix))
    return root


# ``make ARGS`` as from a user's shell (no variables inherited from an outer make).
# ``-o`` takes the installed .venv as given: the test must never reinstall it.
MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed"]
ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}


def make(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*MAKE, *args], cwd=root, env=ENV, capture_output=True, text=True, timeout=600)


def test_experiment_without_name_exits_2_with_usage_and_the_experiments(root):
    done = make(root, "experiment")
    assert done.returncode == 2
    # make's one line about the recipe's own exit 2: nothing ran after the usage
    assert len(done.stderr.splitlines()) == 1 and done.stderr.rstrip().endswith("experiment] Error 2")
    assert done.stdout.startswith("usage: make experiment NAME=<name>") and "\ndemo: Demo" in done.stdout
    assert not (root / "site").exists()


def test_unknown_parameter_fails_before_any_kernel(root):
    done = make(root, "experiment", "NAME=demo", "PARAMS=seed=1 nope=2")
    assert done.returncode != 0
    assert "demo has no parameter 'nope'" in done.stderr
    assert not (root / "site").exists() and not (root / "build").exists()


def test_params_with_quotes_and_spaces_reach_run_json(root):
    done = make(root, "experiment", "NAME=demo", """PARAMS=label="it's two words" widths=[4, 5] seed=3""")
    assert done.returncode == 0, done.stderr
    run = json.loads((results.result_dir("demo", root) / "run.json").read_text())
    assert run["params"]["label"] == "it's two words"
    assert run["params"]["widths"] == [4, 5] and run["seed"] == 3


def test_failed_run_exits_non_zero(root):
    done = make(root, "experiment", "NAME=demo", "PARAMS=fail=true label=x y")
    assert done.returncode != 0
    assert "Error 1" in done.stderr  # the runner's exit status, passed on by make
    assert "asked to fail with label 'x y'" in done.stdout + done.stderr
    assert not (results.result_dir("demo", root) / "run.json").exists()


def test_sweep_with_a_grid_and_a_name_keeps_the_grid_under_that_name(root):
    done = make(root, "sweep", "NAME=grid", "GRID=seed=0", "SWEEP=mine")
    assert done.returncode == 0, done.stderr
    assert results.load_sweep("grid", "mine", root)["grid"] == {"seed": [0]}
    assert "[grid@mine] 1/1 points ok" in done.stdout


def test_sigterm_to_make_stops_the_sweep_its_points_and_their_kernels(root):
    """What a timeout does: SIGTERM to make alone. The recipe's shell must not stand
    between make and the driver, or the driver lives on, running and publishing."""
    proc = subprocess.Popen(
        [*MAKE, "sweep", "NAME=grid", "GRID=seed=0 pause_s=120"],
        cwd=root,
        env={**ENV, "PYTHONUNBUFFERED": "1"},
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    point, kernel = paused(proc, root, ["pause_s-120.0_seed-0"])["pause_s-120.0_seed-0"]
    below = descendants(proc.pid)  # the driver, its point and kernel (and any shell between)
    assert {point, kernel} <= below
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    try:
        for pid in sorted(below):
            assert gone(pid), f"process {pid} outlived make"
    finally:  # a failed test leaves no sweep running behind it
        for pid in sorted(below, reverse=True):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert not (root / "site").exists()  # stopped before its point landed: nothing written


def test_serve_rebuilds_only_what_an_edit_touches(root):
    # The command make runs (-n); a --dirty rebuild itself is tests/test_wiki_incremental.py's.
    done = make(root, "-n", "serve")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("exec .venv/bin/properdocs serve --dirty ")
