"""Presets and settings: checked by name and type before anything is built (no torch)."""

import subprocess
import sys

import pytest

from lab import LabError, checks, presets


def test_overrides_reach_the_config_that_owns_them():
    p = presets.resolve("add2", {"n_digits": 3, "steps": 600, "d_model": 64, "seed": 4})
    assert p.training.data.n_digits == 3 and p.training.steps == 600 and p.model.d_model == 64
    assert p.model.seed == 4 and p.training.seed == 4  # one seed: initialization and data order
    assert presets.PRESETS["add2"].training.steps == 2500  # the table is not changed


def test_settings_keep_their_types():
    assert presets.resolve("tiny", {"lr": 1}).training.lr == 1.0
    assert isinstance(presets.resolve("tiny", {"lr": 1}).training.lr, float)
    with pytest.raises(LabError, match=r"steps=2.5 must be a whole number"):
        presets.resolve("tiny", {"steps": 2.5})
    with pytest.raises(LabError, match=r"reverse='yes' must be a true/false"):
        presets.resolve("tiny", {"reverse": "yes"})
    with pytest.raises(LabError, match=r"unknown setting\(s\) stepz; valid settings: .*steps"):
        presets.resolve("tiny", {"stepz": 1})
    with pytest.raises(LabError, match="unknown preset 'nope'; presets: add2"):
        presets.resolve("nope")


def test_data_shares_are_checked_before_anything_is_built():
    assert presets.resolve("add2", {"nine_share": 0.3, "contrast_share": 0.2}).training.data.contrast_share == 0.2
    with pytest.raises(LabError, match=r"setting contrast_share=1.5 must be a share between 0 and 1"):
        presets.resolve("add2", {"contrast_share": 1.5})
    with pytest.raises(LabError, match=r"setting nine_share=-0.1 must be a share"):
        presets.resolve("add2", {"nine_share": -0.1})
    with pytest.raises(LabError, match=r"nine_share \+ contrast_share = 1.1 must be at most 1"):
        presets.resolve("add2", {"nine_share": 0.6, "contrast_share": 0.5})


def test_checks_name_the_bad_value():
    checks.model("add2", {"n_digits": 3})
    checks.carry_digit("A3", "add2", {"n_digits": 3})
    with pytest.raises(
        LabError,
        match="digit='A0': A0, the units digit, never receives a carry; answer digits of 3-digit addition with an incoming carry are A3, A2, A1",
    ):
        checks.carry_digit("A0", "add2", {"n_digits": 3})
    with pytest.raises(LabError, match="digit='A7'"):
        checks.carry_digit("A7", "add2", {})
    with pytest.raises(LabError, match="repeat data, not addition"):
        checks.carry_digit("A1", "attn2", {})


def test_presets_and_checks_do_not_import_torch():
    code = "import sys, lab.checks, lab.presets; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
