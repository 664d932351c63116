"""Staleness: the input hash of a run, and where each experiment stands."""

import shutil
import subprocess

import pytest
from runner_fixture import make_root, write_experiment

from lab import results
from lab.runner import commands, scripts, staleness


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path)


@pytest.fixture
def demo(root):
    return scripts.read_script("demo", root)


# --------------------------------------------------------------------------- staleness


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """A root where demo ran once (a real kernel), and a copy of the lab package to edit."""
    root = make_root(tmp_path_factory.mktemp("ran"))
    assert commands.run_command("demo", [], root) == 0
    return root


@pytest.fixture
def lab(tmp_path):
    copy = tmp_path / "lab"
    shutil.copytree(staleness.LAB_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _edit(lab, file, old, new):
    text = (lab / file).read_text()
    assert old in text, f"the test's edit no longer applies to {file}"
    (lab / file).write_text(text.replace(old, new))


def test_a_run_records_the_lab_code_it_executed(ran):
    code = results.load_run("demo", ran)["code"]
    assert {"lab/record.py:metric", "lab/record.py:figure", "lab/results.py:add_metric"} <= set(code)
    assert "lab/results.py:load_history" not in code  # never called
    assert "lab/record.py:<module>" in code  # imported: its top-level code ran
    assert not any(ref.startswith(("lab/executed.py", "lab/fingerprint.py")) for ref in code)  # the recorder


def test_editing_a_function_the_run_executed_stales_it(ran, lab):
    assert staleness.experiment_state("demo", ran, lab).status == "fresh"
    _edit(lab, "record.py", "    results.add_metric(", "    value = value + 0\n    results.add_metric(")
    state = staleness.experiment_state("demo", ran, lab)
    assert (state.status, state.detail, state.due) == ("stale", "lab/record.py:metric changed", True)
    assert not state.rerender  # the numbers may change: a run, not a re-render


def test_editing_a_function_the_run_never_called_stales_nothing(ran, lab):
    _edit(lab, "results.py", "def load_history(", "def load_history(*unused, ")
    (lab / "task.py").write_text("# not even imported by demo\n")
    assert staleness.experiment_state("demo", ran, lab).status == "fresh"


def test_docstring_comment_and_formatting_edits_stale_nothing(ran, lab):
    _edit(lab, "record.py", "def metric(name: str", "def metric(  # a comment\n    name: str")
    text = (lab / "record.py").read_text()
    docstring_start = text.index('"""', text.index("def metric("))
    (lab / "record.py").write_text(text[: docstring_start + 3] + "Edited docs. " + text[docstring_start + 3 :])
    assert staleness.experiment_state("demo", ran, lab).status == "fresh"


def test_a_constant_added_to_a_module_the_run_imported_stales_it_only_if_its_code_names_it(ran, lab):
    code = results.load_run("demo", ran)["code"]
    assert "lab/record.py:<module>:*" in code  # the module's statements are recorded in parts too
    _edit(lab, "record.py", "\ndef metric(", "\nSPARE_LIMIT = 3\n\n\ndef metric(")
    assert staleness.experiment_state("demo", ran, lab).status == "fresh"  # no code names it
    _edit(lab, "record.py", "\ndef metric(", "\nresults = None\n\n\ndef metric(")  # shadows a name metric() uses
    state = staleness.experiment_state("demo", ran, lab)
    assert (state.status, state.detail) == ("stale", "lab/record.py:results added")


PRESET_USER = """# ---
# title: Preset user
# project: fixtures
# question: Does a run depend on the presets it read, and on no other?
# ---

# %%
from lab import presets, record

record.metric("steps", presets.resolve("tiny").training.steps, None, "the tiny preset's steps")
"""


def test_editing_a_preset_the_run_never_read_stales_nothing(root, lab):
    write_experiment(root, "preset-user", PRESET_USER)
    assert commands.run_command("preset-user", [], root) == 0
    code = results.load_run("preset-user", root)["code"]
    assert "lab/presets.py:<module>:PRESETS[tiny]" in code and "lab/presets.py:<module>:PRESETS[add2]" not in code
    _edit(lab, "presets.py", "steps=2500, lr=1e-3", "steps=2600, lr=1e-3")  # add2's recipe
    assert staleness.experiment_state("preset-user", root, lab).status == "fresh"
    _edit(lab, "presets.py", "steps=600,", "steps=700,")  # tiny's, which it read
    state = staleness.experiment_state("preset-user", root, lab)
    assert (state.status, state.detail) == ("stale", "lab/presets.py:PRESETS[tiny] changed")


def test_removing_an_executed_function_stales_it(ran, lab):
    _edit(lab, "record.py", "def table(", "def renamed_table(")
    state = staleness.experiment_state("demo", ran, lab)
    assert (state.status, state.detail) == ("stale", "lab/record.py:table removed")


def test_script_and_parameter_changes_are_named_and_the_write_up_only_rerenders(ran, lab):
    demo = scripts.read_script("demo", ran)
    run = results.load_run("demo", ran)
    assert staleness.stale_reasons(run, staleness.input_hash(demo, {**demo.defaults(), "seed": 1}), lab) == [
        "params changed"
    ]
    assert staleness.stale_reasons({**run, "code": None}, run["input_hash"], lab) == [staleness.NO_CODE]
    script = ran / "experiments" / "demo.py"
    original = script.read_text()
    try:
        script.write_text(original.replace("# A tiny experiment", "# A small experiment"))
        state = staleness.experiment_state("demo", ran, lab)
        assert (state.status, state.rerender) == ("stale", True)
        script.write_text(original.replace('print("done")', 'print("finished")'))
        assert staleness.experiment_state("demo", ran, lab).detail == "script changed"
    finally:
        script.write_text(original)


def test_never_run_experiments_are_due(root, capsys):
    state = staleness.experiment_state("demo", root)
    assert (state.status, state.due) == ("never run", True)
    commands.status_command(root)
    assert capsys.readouterr().out.split() == ["never", "run", "demo"]


def test_a_failure_is_retried_only_once_its_inputs_change(root, demo, capsys):
    failure = results.make_record(
        results.FAILURE_FIELDS,
        {
            "run_id": "20260101T000000Z",
            "when": "2026-01-01T00:00:00+00:00",
            "cell": 7,
            "line": 52,
            "source": "raise ValueError(label)",
            "exception": "ValueError",
            "message": "boom",
            "notebook": "build/failed/demo.ipynb",
            "input_hash": staleness.input_hash(demo, demo.defaults()),
            "code": {},  # it ran no lab code before failing
        },
    )
    results.atomic_write_json(results.result_dir("demo", root) / results.FAILURE, failure)

    assert commands.run_stale_command(root) == 0  # skipped: no kernel starts
    assert capsys.readouterr().out == (
        "skip demo: failed (2026-01-01T00:00:00+00:00 at experiments/demo.py:52: ValueError: boom; "
        "inputs unchanged since)\n"
    )

    script = root / "experiments" / "demo.py"
    script.write_text(script.read_text() + "\n# fixed\n")
    state = staleness.experiment_state("demo", root)
    assert state.status == "failed" and state.due and state.detail.endswith("inputs changed since")


def test_status_reports_a_broken_script_and_goes_on(root, capsys):
    write_experiment(root, "broken", '# %% tags=["parameters"]\nx = 1 +\n')
    assert commands.status_command(root) == 2  # the others listed, and the invalid one fails status
    assert capsys.readouterr().out.splitlines() == [
        "invalid    broken                   experiments/broken.py:2: parameters cell: invalid syntax",
        "never run  demo",
    ]


def test_status_says_when_an_edit_changes_nothing_any_run_executed(ran, tmp_path, capsys):
    root = tmp_path / "repo"
    shutil.copytree(ran, root)
    (root / "lab").mkdir()
    (root / "lab" / "tools.py").write_text("def used():\n    return 1\n\n\ndef unused():\n    return 2\n")
    git = lambda *args: subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "lab", "--allow-empty")
    git("add", "lab")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tools")
    run = results.load_run("demo", root)
    results.atomic_write_json(
        results.result_dir("demo", root) / results.RUN, {**run, "code": {**run["code"], "lab/tools.py:used": "x"}}
    )
    (root / "lab" / "tools.py").write_text("def used():\n    return 1\n\n\ndef unused():\n    return 3\n")
    assert staleness.edited_units(root) == ["lab/tools.py:unused"]
    commands.status_command(root)
    assert "executed by no run (nothing is stale by it): lab/tools.py:unused" in capsys.readouterr().out

    (root / "lab" / "tools.py").write_text("def used():\n    return 0\n\n\ndef unused():\n    return 3\n")
    assert staleness.edited_units(root) == ["lab/tools.py:unused", "lab/tools.py:used"]
    commands.status_command(root)
    out = capsys.readouterr().out
    assert "executed by no run (nothing is stale by it): lab/tools.py:unused\n" in out  # used was executed
