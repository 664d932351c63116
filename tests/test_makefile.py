"""The Makefile's contract, run by `make` in a temporary repository root (the demo
fixture, the real Makefile, `.venv` linked to this interpreter's): exit codes, and
PARAMS with quotes and spaces reaching run.json through make's shell intact."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from runner_fixture import REPO, make_root

from lab import results

pytestmark = pytest.mark.slow


@pytest.fixture
def root(tmp_path) -> Path:
    root = make_root(tmp_path)
    (root / "Makefile").write_text((REPO / "Makefile").read_text())
    (root / ".venv").symlink_to(Path(sys.prefix))
    return root


def make(root: Path, *args: str) -> subprocess.CompletedProcess:
    """``make ARGS`` as from a user's shell (no variables inherited from an outer make).
    ``-o`` takes the installed .venv as given: the test must never reinstall it."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


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
