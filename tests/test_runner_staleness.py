"""Staleness: the input hash of a run, and where each experiment stands."""

import shutil

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


def test_lab_files_follow_imports_through_the_lab(demo):
    files = {p.name for p in staleness.lab_files(demo.text)}
    assert files == {"__init__.py", "record.py", "results.py", "atomic.py"}  # record imports results, atomic
    assert staleness.lab_files("import numpy\n") == set()


def test_lab_files_resolve_relative_and_package_imports(tmp_path):
    lab = tmp_path / "lab"
    (lab / "wiki").mkdir(parents=True)
    (lab / "__init__.py").write_text("")
    (lab / "results.py").write_text("")
    (lab / "wiki" / "__init__.py").write_text("from . import notes\n")
    (lab / "wiki" / "notes.py").write_text("from ..results import dumps\n")
    files = staleness.lab_files("from lab.wiki import notes\n", lab)
    assert {str(p.relative_to(lab)) for p in files} == {
        "__init__.py",
        "results.py",
        "wiki/__init__.py",
        "wiki/notes.py",
    }


def test_input_hash_changes_with_script_params_and_used_lab_code_only(demo, tmp_path):
    lab = tmp_path / "lab"
    shutil.copytree(staleness.LAB_DIR, lab, ignore=shutil.ignore_patterns("__pycache__"))
    base = staleness.input_hash(demo, demo.defaults(), lab)
    assert staleness.input_hash(demo, demo.defaults(), lab) == base

    (lab / "task.py").write_text("# not imported by the demo\n")
    assert staleness.input_hash(demo, demo.defaults(), lab) == base

    changed_params = staleness.input_hash(demo, {**demo.defaults(), "seed": 1}, lab)
    assert staleness.changed_inputs(base, changed_params) == "params changed"

    (lab / "results.py").write_text((lab / "results.py").read_text() + "\n# edited\n")
    assert staleness.changed_inputs(base, staleness.input_hash(demo, demo.defaults(), lab)) == "lab code changed"


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
    assert commands.status_command(root) == 0
    assert capsys.readouterr().out.splitlines() == [
        "invalid    broken                   experiments/broken.py:2: parameters cell: invalid syntax",
        "never run  demo",
    ]
