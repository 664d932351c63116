"""Parameters given on the command line, parsed against the script's defaults and checked."""

import sys
import types

import pytest
from runner_fixture import make_root

from lab import LabError
from lab.runner import params, scripts


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path)


@pytest.fixture
def demo(root):
    return scripts.read_script("demo", root)


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "text, default, value",
    [
        ("3", 1, 3),
        ("1e-3", 0.5, 0.001),
        ("2", 0.5, 2.0),
        ("true", False, True),
        ("False", True, False),
        ("[4, 5]", [1, 2], [4, 5]),
        ("[1, 2.5]", [0.5], [1.0, 2.5]),
        ("a b", "x", "a b"),  # PARAMS="title='a b'": the shell hands over `title=a b`
        ("'a b'", "x", "a b"),  # python -m lab run demo "title='a b'"
        ("42", "x", "42"),  # a string parameter keeps the text
        ("{'a': 1}", {}, {"a": 1}),
        ("anything", None, "anything"),
    ],
)
def test_values_parse_as_their_defaults_type(text, default, value):
    parsed = params.parse_value(text, default)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    "text, default",
    [
        ("2.5", 1),
        ("1e3", 1),
        ("true", 1),
        ("abc", 0.1),
        ("yes", False),
        ("1", False),
        ("3", [1]),
        ("[1.5]", [1]),
        ("[1, 2]", {}),
    ],
)
def test_values_of_the_wrong_type_are_refused(text, default):
    with pytest.raises(ValueError):
        params.parse_value(text, default)


def test_params_merge_typed_values(demo):
    given = ["seed=3", "scale=1e-4", "widths=[7]", "label=a b", "fail=true"]
    assert params.parse_params(given, demo) == {
        "seed": 3,
        "scale": 1e-4,
        "widths": [7],
        "label": "a b",
        "fail": True,
    }


def test_unknown_parameter_lists_valid_ones_with_defaults(demo):
    with pytest.raises(LabError) as err:
        params.parse_params(["sead=1"], demo)
    assert err.value.code == 2
    assert "demo has no parameter 'sead'" in str(err.value)
    assert "seed = 0  # recorded as the run's seed; scale = 0.001" in str(err.value)


def test_wrong_type_names_value_default_and_line(demo):
    with pytest.raises(
        LabError,
        match=r"seed='1.5' is not a whole number like the default 0 "
        r"\(experiments/demo.py:14\)",
    ):
        params.parse_params(["seed=1.5"], demo)


@pytest.mark.parametrize(
    "item, message",
    [
        ("seed", "parameter .seed. has no value: write seed=VALUE"),
        ("2]", "is not a parameter: write name=value"),
        ("=3", "is not a parameter: write name=value"),
    ],
)
def test_malformed_overrides_are_refused(demo, item, message):
    with pytest.raises(LabError, match=message):
        params.parse_params([item], demo)


def test_a_parameter_given_twice_is_refused(demo):
    with pytest.raises(LabError, match="seed is given twice"):
        params.parse_params(["seed=1", "seed=2"], demo)


def test_make_params_string_keeps_quotes_and_spaces():
    text = " overrides={'n_digits': 3, 'steps': 600} title='a b' lrs=[1e-3, 1e-4] name=x y "
    assert params.split_params(text) == [
        "overrides={'n_digits': 3, 'steps': 600}",
        "title='a b'",
        "lrs=[1e-3, 1e-4]",
        "name=x y",
    ]
    assert params.split_params("   ") == []


# --------------------------------------------------------------------------- checks


def positive(scale):
    """A check like those of lab.checks, for the fixture."""
    if scale <= 0:
        raise LabError(f"scale={scale!r}: must be positive")


def at_most_ten(seed):
    if seed > 10:
        raise LabError(f"seed={seed!r}: at most 10")


@pytest.fixture
def checked(root, monkeypatch):
    """The demo fixture with ``checks: ["positive(scale)"]``, and a lab.checks holding
    only this file's checks (not the lab's own, which may change)."""
    import lab

    fake = types.ModuleType("lab.checks")
    fake.LabError, fake.positive, fake.at_most_ten = LabError, positive, at_most_ten
    monkeypatch.setitem(sys.modules, "lab.checks", fake)
    monkeypatch.setattr(lab, "checks", fake, raising=False)
    text = (root / "experiments" / "demo.py").read_text()
    (root / "experiments" / "checked.py").write_text(
        text.replace("# links: [ideas/runner]\n", '# links: [ideas/runner]\n# checks: ["positive(scale)"]\n')
    )
    return scripts.read_script("checked", root)


def test_checks_pass_on_good_values(checked):
    params.check_params(checked, {**checked.defaults(), "scale": 2.0})


def test_a_failing_check_names_the_script_the_call_and_the_value(checked):
    with pytest.raises(LabError) as err:
        params.check_params(checked, {**checked.defaults(), "scale": -1.0})
    assert str(err.value) == "experiments/checked.py: positive(scale=-1.0): scale=-1.0: must be positive"
    assert err.value.code == 2


def test_an_unknown_check_names_the_available_ones(checked, monkeypatch):
    monkeypatch.delattr(sys.modules["lab.checks"], "positive")
    with pytest.raises(
        LabError,
        match=r"experiments/checked.py:6: no check 'positive' in lab.checks; "
        r"there are: at_most_ten$",
    ):
        params.check_params(checked, checked.defaults())


def test_a_failing_check_stops_the_run_before_the_lock_or_a_kernel(checked, root, monkeypatch, capsys):
    from lab import cli
    from lab.runner import execute

    monkeypatch.chdir(root)
    monkeypatch.setattr(execute, "execute", lambda *a, **k: pytest.fail("a kernel was started"))
    assert cli.main(["run", "checked", "scale=-0.5"]) == 2
    assert capsys.readouterr().err == (
        "error: experiments/checked.py: positive(scale=-0.5): scale=-0.5: must be positive\n"
    )
    assert not (root / "build").exists()  # no lock taken, no scratch directory made
