"""Every experiment's ``checks:`` header names checks of ``lab.checks`` on its own
parameters, passes with the defaults, and refuses what the lab knows will fail
(loss-shelf's ``digit="A0"``), before any kernel starts (torch-free)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from lab import LabError, checks
from lab.runner import experiment_names, read_script

REPO = Path(__file__).resolve().parent.parent
NAMES = experiment_names(REPO)


def calls(name: str) -> list[tuple[str, list[str]]]:
    """``(check, [parameter, ...])`` for each entry of the experiment's ``checks:``."""
    out = []
    for text in read_script(name, REPO).header.get("checks", []):
        call = ast.parse(text, mode="eval").body
        assert isinstance(call, ast.Call) and not call.keywords, f"{name}: {text!r} is not a bare call"
        assert all(isinstance(a, ast.Name) for a in call.args), f"{name}: {text!r} passes more than names"
        out.append((call.func.id, [a.id for a in call.args]))
    return out


def run_checks(name: str, **params) -> None:
    values = {**read_script(name, REPO).defaults(), **params}
    for check, args in calls(name):
        getattr(checks, check)(*(values[a] for a in args))


@pytest.mark.parametrize("name", NAMES)
def test_checks_name_lab_checks_on_the_experiments_parameters(name):
    params = read_script(name, REPO).params
    for check, args in calls(name):
        assert callable(getattr(checks, check, None)), f"{name}: lab.checks has no {check}"
        assert set(args) <= set(params), f"{name}: {check} names a parameter the script does not have"


@pytest.mark.parametrize("name", NAMES)
def test_the_defaults_pass_their_checks(name):
    run_checks(name)


def test_every_experiment_with_a_model_checks_it():
    for name in NAMES:
        params = read_script(name, REPO).params
        presets = [p for p in params if p == "preset" or p.endswith("_preset")]
        checked = {args[0] for check, args in calls(name) if check == "model"}
        assert set(presets) <= checked, f"{name}: {sorted(set(presets) - checked)} unchecked"


@pytest.mark.parametrize("name", ["loss-shelf", "carry-odds"])
def test_the_units_digit_fails_before_any_kernel(name):
    with pytest.raises(LabError, match="A0, the units digit, has no incoming carry"):
        run_checks(name, digit="A0")
    with pytest.raises(LabError, match="unknown setting"):
        run_checks(name, overrides={"n_digit": 3})


def test_the_checks_do_not_import_torch():
    code = ("import sys, lab.checks, lab.analysis.problems, lab.components; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
