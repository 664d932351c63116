"""Every experiment's ``checks:`` header names checks of ``lab.checks`` on its own
parameters, passes with the defaults, and refuses what the lab knows will fail
(loss-shelf's ``digit="A0"``), before any kernel starts (torch-free)."""

import subprocess
import sys
from pathlib import Path

import pytest

from lab import LabError
from lab.runner.params import check_params
from lab.runner.scripts import experiment_names, read_script

REPO = Path(__file__).resolve().parent.parent
NAMES = experiment_names(REPO)


def run_checks(name: str, **params) -> None:
    """The header's checks on the defaults with ``params`` changed, as a run calls them."""
    script = read_script(name, REPO)  # refuses checks that are not calls on parameters
    check_params(script, {**script.defaults(), **params})


@pytest.mark.parametrize("name", NAMES)
def test_the_defaults_pass_their_checks(name):
    run_checks(name)


def test_every_experiment_with_a_model_checks_it():
    for name in NAMES:
        script = read_script(name, REPO)
        presets = [p for p in script.params if p == "preset" or p.endswith("_preset")]
        checked = {check.args[0] for check in script.checks if check.function == "model"}
        assert set(presets) <= checked, f"{name}: {sorted(set(presets) - checked)} unchecked"


@pytest.mark.parametrize("name", ["loss-shelf", "carry-odds"])
def test_the_units_digit_fails_before_any_kernel(name):
    with pytest.raises(LabError, match="A0, the units digit, never receives a carry"):
        run_checks(name, digit="A0")
    with pytest.raises(LabError, match="unknown setting"):
        run_checks(name, overrides={"n_digit": 3})


def test_the_checks_do_not_import_torch():
    code = "import sys, lab.checks, lab.analysis.problems, lab.components; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_the_recipe_refuses_a_model_not_trained_on_addition():
    with pytest.raises(LabError, match="repeat data, not addition"):
        run_checks("training-recipe", preset="attn2")
