"""Reading experiment scripts without running them: header, checks, parameters cell."""

import pytest
from runner_fixture import make_root, write_experiment

from lab import LabError
from lab.runner import scripts


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path)


@pytest.fixture
def demo(root):
    return scripts.read_script("demo", root)


# --------------------------------------------------------------------------- reading scripts


def test_reads_header_and_parameters_without_running(demo):
    assert demo.header == {
        "title": "Demo",
        "project": "fixtures",
        "question": "Does the runner turn a script into a page?",
        "links": ["ideas/runner"],
    }
    assert demo.defaults() == {
        "seed": 0,
        "scale": 1e-3,
        "widths": [1, 2, 3],
        "label": "plain",
        "fail": False,
        "pause_s": 0.0,
    }
    assert demo.params["scale"].comment == "a float written like 1e-3"
    assert demo.params["seed"].line == 14
    assert str(demo.params["label"]) == "label = 'plain'  # a string"


def test_experiments_exclude_underscore_files(root):
    assert scripts.experiment_names(root) == ["demo"]


@pytest.mark.parametrize("name", ["../demo", "sub/demo", "_template", ".hidden", "..", ""])
def test_names_cannot_escape_experiments(root, name):
    with pytest.raises(LabError, match="not an experiment name") as err:
        scripts.find_script(name, root)
    assert err.value.code == 2


def test_unknown_name_lists_experiments(root):
    with pytest.raises(
        LabError, match=r"no experiment 'demoo' in experiments/ \(did you mean 'demo'\?\); there are: demo"
    ):
        scripts.find_script("demoo", root)


@pytest.mark.parametrize(
    "cell, message",
    [
        (
            '# %% tags=["parameters"]\nx = 1\n\n# %% tags=["parameters"]\ny = 2\n',
            r"bad\.py:4: a second cell tagged parameters",
        ),
        (
            '# %%\nimport os\n\n# %% tags=["parameters"]\nx = 1\ny = os.sep\n',
            r"bad\.py:6: parameter y must be a literal",
        ),
        ('# %% tags=["parameters"]\nx = 1\ny = (\n', r"bad\.py:3: parameters cell"),
        ('# %% tags=["parameters"]\nx = 1\nprint(x)\n', r"bad\.py:3: the parameters cell may hold only"),
        # PyYAML gives up a line after each slip; the slip's own line is named
        ("# ---\n# title: a\n# links: [unclosed\n# ---\n", r"bad\.py:3: the YAML header does not parse"),
        ("# ---\n# title: a\n# question what\n# links: []\n# ---\n", r"bad\.py:3: the YAML header does not parse"),
        ('# ---\n# title: "a\n# links: []\n# ---\n', r"bad\.py:2: the YAML header does not parse"),
        ("# ---\n# title: a\n", r"bad\.py:1: the header opened by '# ---' is never closed"),
    ],
)
def test_bad_scripts_are_reported_with_file_and_line(root, cell, message):
    write_experiment(root, "bad", cell)
    with pytest.raises(LabError, match=message):
        scripts.read_script("bad", root)


def test_parameters_tag_may_use_single_quotes(root):
    write_experiment(root, "quoted", "# %% tags=['parameters']\nx = 1\n\n# %%\nprint(x)\n")
    assert scripts.read_script("quoted", root).defaults() == {"x": 1}


# --------------------------------------------------------------------------- checks in the header


def with_checks(root, checks: str) -> scripts.Script:
    """The demo fixture with ``checks`` (a YAML value) added to its header, as 'checked'."""
    text = (root / "experiments" / "demo.py").read_text()
    write_experiment(
        root, "checked", text.replace("# links: [ideas/runner]\n", f"# links: [ideas/runner]\n# checks: {checks}\n")
    )
    return scripts.read_script("checked", root)


def test_checks_are_read_as_calls_on_parameters_with_their_lines(root):
    script = with_checks(root, '\n#   - "positive(scale)"\n#   - "sums_to(widths, seed, scale)"')
    assert [(c.function, c.args, c.line) for c in script.checks] == [
        ("positive", ["scale"], 7),
        ("sums_to", ["widths", "seed", "scale"], 8),
    ]
    assert script.checks[1].text == "sums_to(widths, seed, scale)"


def test_a_script_without_checks_has_none(demo):
    assert demo.checks == []


@pytest.mark.parametrize(
    "checks, message",
    [
        ('"positive(scale)"', r"checked\.py:6: checks must be a list of calls"),
        ('["positive(scale"]', r"checked\.py:6: check 'positive\(scale' is not a call"),
        ('["os.system(label)"]', r"checked\.py:6: check 'os.system\(label\)': write function\(parameter, \.\.\.\)"),
        ('["positive(scale * 2)"]', r"checked\.py:6: check 'positive\(scale \* 2\)': write function"),
        ('["positive(scale=scale)"]', r"checked\.py:6: check 'positive\(scale=scale\)': write function"),
        ('["positive"]', r"checked\.py:6: check 'positive': write function"),
        (
            '["positive(scael)"]',
            r"checked\.py:6: check 'positive\(scael\)' names scael, not a parameter "
            r"of the script \(its parameters: seed, scale",
        ),
    ],
)
def test_malformed_checks_name_the_script_and_header_line(root, checks, message):
    with pytest.raises(LabError, match=message) as err:
        with_checks(root, checks)
    assert err.value.code == 2


@pytest.mark.parametrize(
    "markdown, found",
    [
        ("# ## Result\n#\n# The shelf is spread.\n", True),
        ("# ## Results\n", True),
        ("# ## Result: spread, not leak\n", True),
        ("# ## Resulting curves\n", False),
        ("# ### Result\n", False),
        ("# Result\n", False),
    ],
)
def test_the_result_section_is_a_level_two_heading(root, markdown, found):
    write_experiment(root, "e", f"# %% [markdown]\n# # E\n\n# %% [markdown]\n{markdown}\n# %%\nx = 1\n")
    assert scripts.read_script("e", root).has_result_section() is found
