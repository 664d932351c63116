"""The runner without a kernel: reading scripts, parameters, staleness, the page, scaffolding.

The runs through papermill are in test_runner_runs.py.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from lab import LabError, cli, render, results, runner
from lab.record import FIGURE_MIMETYPE

FIXTURES = Path(__file__).parent / "fixtures" / "experiments"
REPO = Path(__file__).parent.parent


def make_root(tmp_path: Path) -> Path:
    """A repository root holding the demo fixture and the real template."""
    (tmp_path / "experiments").mkdir()
    shutil.copy(FIXTURES / "demo.py", tmp_path / "experiments" / "demo.py")
    shutil.copy(REPO / "experiments" / "_template.py", tmp_path / "experiments" / "_template.py")
    return tmp_path


def write_experiment(root: Path, name: str, text: str) -> None:
    (root / "experiments" / f"{name}.py").write_text(text)


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path)


@pytest.fixture
def demo(root):
    return runner.read_script("demo", root)


# --------------------------------------------------------------------------- reading scripts


def test_reads_header_and_parameters_without_running(demo):
    assert demo.header == {
        "title": "Demo",
        "project": "fixtures",
        "question": "Does the runner turn a script into a page?",
        "links": ["ideas/runner"],
    }
    assert demo.defaults() == {
        "seed": 0, "scale": 1e-3, "widths": [1, 2, 3], "label": "plain", "fail": False, "pause_s": 0.0,
    }
    assert demo.params["scale"].comment == "a float written like 1e-3"
    assert demo.params["seed"].line == 14
    assert str(demo.params["label"]) == "label = 'plain'  # a string"


def test_experiments_exclude_underscore_files(root):
    assert runner.experiment_names(root) == ["demo"]


@pytest.mark.parametrize("name", ["../demo", "sub/demo", "_template", ".hidden", "..", ""])
def test_names_cannot_escape_experiments(root, name):
    with pytest.raises(LabError, match="not an experiment name") as err:
        runner.find_script(name, root)
    assert err.value.code == 2


def test_list_and_status_import_neither_torch_nor_papermill(root):
    code = ("import sys; from lab import runner; runner.list_command(); runner.status_command(); "
            "print([m for m in ('torch', 'transformer_lens', 'papermill', 'jupytext') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("never run  demo\n[]\n")


def test_unknown_name_lists_experiments(root):
    with pytest.raises(LabError, match=r"no experiment 'demoo' in experiments/; there are: demo"):
        runner.find_script("demoo", root)


def test_cli_reports_bad_input_in_one_line_with_exit_code_2(root, monkeypatch, capsys):
    monkeypatch.chdir(root)
    assert cli.main(["run", "demo", "sead=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no parameter 'sead'" in err


@pytest.mark.parametrize("cell, message", [
    ('# %% tags=["parameters"]\nx = 1\n\n# %% tags=["parameters"]\ny = 2\n',
     r"bad\.py:4: a second cell tagged parameters"),
    ('# %%\nimport os\n\n# %% tags=["parameters"]\nx = 1\ny = os.sep\n',
     r"bad\.py:6: parameter y must be a literal"),
    ('# %% tags=["parameters"]\nx = 1\ny = (\n', r"bad\.py:3: parameters cell"),
    ('# %% tags=["parameters"]\nx = 1\nprint(x)\n', r"bad\.py:3: the parameters cell may hold only"),
    ("# ---\n# title: a\n# links: [unclosed\n# ---\n", r"bad\.py:\d: the YAML header does not parse"),
    ("# ---\n# title: a\n", r"bad\.py:1: the header opened by '# ---' is never closed"),
])
def test_bad_scripts_are_reported_with_file_and_line(root, cell, message):
    write_experiment(root, "bad", cell)
    with pytest.raises(LabError, match=message):
        runner.read_script("bad", root)


def test_parameters_tag_may_use_single_quotes(root):
    write_experiment(root, "quoted", "# %% tags=['parameters']\nx = 1\n\n# %%\nprint(x)\n")
    assert runner.read_script("quoted", root).defaults() == {"x": 1}


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("text, default, value", [
    ("3", 1, 3),
    ("1e-3", 0.5, 0.001),
    ("2", 0.5, 2.0),
    ("true", False, True),
    ("False", True, False),
    ("[4, 5]", [1, 2], [4, 5]),
    ("[1, 2.5]", [0.5], [1.0, 2.5]),
    ("a b", "x", "a b"),          # PARAMS="title='a b'": the shell hands over `title=a b`
    ("'a b'", "x", "a b"),        # python -m lab run demo "title='a b'"
    ("42", "x", "42"),            # a string parameter keeps the text
    ("{'a': 1}", {}, {"a": 1}),
    ("anything", None, "anything"),
])
def test_values_parse_as_their_defaults_type(text, default, value):
    parsed = runner.parse_value(text, default)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("text, default", [
    ("2.5", 1), ("1e3", 1), ("true", 1), ("abc", 0.1), ("yes", False), ("1", False),
    ("3", [1]), ("[1.5]", [1]), ("[1, 2]", {}),
])
def test_values_of_the_wrong_type_are_refused(text, default):
    with pytest.raises(ValueError):
        runner.parse_value(text, default)


def test_overrides_merge_typed_values(demo):
    given = ["seed=3", "scale=1e-4", "widths=[7]", "label=a b", "fail=true"]
    assert runner.parse_overrides(given, demo) == {
        "seed": 3, "scale": 1e-4, "widths": [7], "label": "a b", "fail": True,
    }


def test_unknown_parameter_lists_valid_ones_with_defaults(demo):
    with pytest.raises(LabError) as err:
        runner.parse_overrides(["sead=1"], demo)
    assert err.value.code == 2
    assert "demo has no parameter 'sead'" in str(err.value)
    assert "seed = 0  # recorded as the run's seed; scale = 0.001" in str(err.value)


def test_wrong_type_names_value_default_and_line(demo):
    with pytest.raises(LabError, match=r"seed='1.5' is not a whole number like the default 0 "
                                       r"\(experiments/demo.py:14\)"):
        runner.parse_overrides(["seed=1.5"], demo)


@pytest.mark.parametrize("item, message", [
    ("seed", "is not a parameter: write name=value"),
    ("2]", "is not a parameter: write name=value"),
    ("=3", "is not a parameter: write name=value"),
])
def test_malformed_overrides_are_refused(demo, item, message):
    with pytest.raises(LabError, match=message):
        runner.parse_overrides([item], demo)


def test_a_parameter_given_twice_is_refused(demo):
    with pytest.raises(LabError, match="seed is given twice"):
        runner.parse_overrides(["seed=1", "seed=2"], demo)


# --------------------------------------------------------------------------- staleness


def test_lab_files_follow_imports_through_the_lab(demo):
    files = {p.name for p in runner.lab_files(demo.text)}
    assert files == {"__init__.py", "record.py", "results.py"}  # record imports results
    assert runner.lab_files("import numpy\n") == set()


def test_lab_files_resolve_relative_and_package_imports(tmp_path):
    lab = tmp_path / "lab"
    (lab / "wiki").mkdir(parents=True)
    (lab / "__init__.py").write_text("")
    (lab / "results.py").write_text("")
    (lab / "wiki" / "__init__.py").write_text("from . import notes\n")
    (lab / "wiki" / "notes.py").write_text("from ..results import dumps\n")
    files = runner.lab_files("from lab.wiki import notes\n", lab)
    assert {str(p.relative_to(lab)) for p in files} == {
        "__init__.py", "results.py", "wiki/__init__.py", "wiki/notes.py"}


def test_input_hash_changes_with_script_params_and_used_lab_code_only(demo, tmp_path):
    lab = tmp_path / "lab"
    shutil.copytree(runner.LAB_DIR, lab, ignore=shutil.ignore_patterns("__pycache__"))
    base = runner.input_hash(demo, demo.defaults(), lab)
    assert runner.input_hash(demo, demo.defaults(), lab) == base

    (lab / "task.py").write_text("# not imported by the demo\n")
    assert runner.input_hash(demo, demo.defaults(), lab) == base

    changed_params = runner.input_hash(demo, {**demo.defaults(), "seed": 1}, lab)
    assert runner.changed_inputs(base, changed_params) == "params changed"

    (lab / "results.py").write_text((lab / "results.py").read_text() + "\n# edited\n")
    assert runner.changed_inputs(base, runner.input_hash(demo, demo.defaults(), lab)) == "lab code changed"


def test_never_run_experiments_are_due(root, capsys):
    state = runner.experiment_state("demo", root)
    assert (state.status, state.due) == ("never run", True)
    runner.status_command(root)
    assert capsys.readouterr().out.split() == ["never", "run", "demo"]


def test_a_failure_is_retried_only_once_its_inputs_change(root, demo, capsys):
    failure = results.make_record(results.FAILURE_FIELDS, {
        "run_id": "20260101T000000Z", "when": "2026-01-01T00:00:00+00:00", "cell": 7, "line": 52,
        "source": "raise ValueError(label)", "exception": "ValueError", "message": "boom",
        "notebook": "build/failed/demo.ipynb", "input_hash": runner.input_hash(demo, demo.defaults()),
    })
    results.atomic_write_json(results.result_dir("demo", root) / results.FAILURE, failure)

    assert runner.run_stale_command(root) == 0  # skipped: no kernel starts
    assert capsys.readouterr().out == (
        "skip demo: failed (2026-01-01T00:00:00+00:00 at experiments/demo.py:52: ValueError: boom; "
        "inputs unchanged since)\n")

    script = root / "experiments" / "demo.py"
    script.write_text(script.read_text() + "\n# fixed\n")
    state = runner.experiment_state("demo", root)
    assert state.status == "failed" and state.due and state.detail.endswith("inputs changed since")


def test_status_reports_a_broken_script_and_goes_on(root, capsys):
    write_experiment(root, "broken", '# %% tags=["parameters"]\nx = 1 +\n')
    assert runner.status_command(root) == 0
    assert capsys.readouterr().out.splitlines() == [
        "invalid    broken                   experiments/broken.py:2: parameters cell: invalid syntax",
        "never run  demo",
    ]


# --------------------------------------------------------------------------- the page


def test_clean_text_keeps_the_last_drawing_of_each_line():
    raw = "\x1b[32mgreen\x1b[0m\r\n  0%|  |\r 50%|# |\r100%|##|\nnext\r"
    assert render.clean_text(raw) == "green\n100%|##|\nnext"


def test_shorten_keeps_head_and_tail():
    text = "\n".join(str(i) for i in range(100))
    lines = render.shorten(text, max_lines=10).split("\n")
    assert lines == ["0", "1", "2", "3", "4", "… 90 more lines …", "95", "96", "97", "98", "99"]


def test_page_folds_code_and_keeps_text_tables_and_figure_embeds():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell("---\ntitle: ignored, the header comes from the script\n---"),
        nbformat.v4.new_markdown_cell("# Write-up\n\nProse."),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("show()", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
            nbformat.v4.new_output("display_data", data={
                FIGURE_MIMETYPE: {"id": "loss", "caption": "Loss per digit"}, "text/plain": "[figure]"}),
            nbformat.v4.new_output("display_data", data={
                "text/markdown": "| a |\n|---|\n| 1 |\n", "text/plain": "<Markdown>"}),
            nbformat.v4.new_output("display_data", data={
                "text/html": "<script>big()</script>", "text/plain": "<Figure>"}),
            nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
        ]),
        nbformat.v4.new_code_cell("   "),
    ])
    header = {"title": "Loss", "project": "p", "question": "why?", "links": ["ideas/x"],
              "jupyter": {"kernelspec": {}}}
    md = render.page(nb, header, "loss-shelf", "20260101T000000Z")
    _, front, body = md.split("---\n", 2)
    assert yaml.safe_load(front) == {"title": "Loss", "project": "p", "question": "why?",
                                     "links": ["ideas/x"], "experiment": "loss-shelf",
                                     "run_id": "20260101T000000Z"}
    assert body == (
        "\n# Write-up\n\nProse.\n\n"
        '??? abstract "Parameters"\n\n    ```python\n    x = 1\n    ```\n\n'
        '??? abstract "Code"\n\n    ```python\n    show()\n    ```\n\n'
        "```text\nhello\n```\n\n"
        "![[experiments/loss-shelf#loss]]\n\n*Loss per digit*\n\n"
        "| a |\n|---|\n| 1 |\n\n"
        "```text\n42\n```\n"
    )


def test_page_title_defaults_to_the_name():
    md = render.page(nbformat.v4.new_notebook(), {}, "demo", "r1")
    assert yaml.safe_load(md.split("---\n")[1]) == {"title": "demo", "experiment": "demo", "run_id": "r1"}


# --------------------------------------------------------------------------- scaffolding


def test_new_experiment_fills_in_the_template(root):
    assert runner.new_experiment_command("carry-probe", root) == 0
    script = runner.read_script("carry-probe", root)
    assert script.header["title"] == "Carry probe"
    assert "EXPERIMENT_" not in script.text
    assert "seed" in script.params


@pytest.mark.parametrize("name, message", [
    ("demo", "experiments/demo.py already exists"),
    ("Bad Name", "lower-case letters"),
    ("../x", "lower-case letters"),
])
def test_new_experiment_refuses_bad_or_taken_names(root, name, message):
    with pytest.raises(LabError, match=message):
        runner.new_experiment_command(name, root)


def test_results_records_must_have_exactly_their_fields():
    with pytest.raises(KeyError, match=r"missing \['when'\]"):
        results.make_record(("run_id", "when"), {"run_id": "r"})


def test_make_params_string_keeps_quotes_and_spaces():
    text = " overrides={'n_digits': 3, 'steps': 600} title='a b' lrs=[1e-3, 1e-4] name=x y "
    assert runner.split_params(text) == [
        "overrides={'n_digits': 3, 'steps': 600}", "title='a b'", "lrs=[1e-3, 1e-4]", "name=x y"]
    assert runner.split_params("   ") == []
