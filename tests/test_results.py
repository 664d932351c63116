"""The results format: its JSON files written atomically, and metrics."""

import json
import math
import shutil

import pytest
from runner_fixture import FIXTURES, make_root

from lab import LabError, results
from lab.runner import commands


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    results.atomic_write_json(tmp_path / "a" / "run.json", {"x": 1})
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["run.json"]
    assert results.read_json(tmp_path / "a" / "run.json") == {"x": 1}


def test_metrics_must_be_finite_and_well_named(tmp_path):
    results.add_metric(tmp_path, "loss", 0.5, "nats", None)
    with pytest.raises(ValueError, match="finite"):
        results.add_metric(tmp_path, "bad", math.nan, None, None)
    with pytest.raises(ValueError, match="not a valid id"):
        results.add_metric(tmp_path, "Bad Name", 1.0, None, None)
    assert results.read_metrics(tmp_path) == {"loss": {"value": 0.5, "unit": "nats", "description": None}}


def test_malformed_json_names_file_and_line(tmp_path):
    path = tmp_path / "run.json"
    path.write_text('{\n "a": 1,\n}\n')
    with pytest.raises(ValueError, match=r"run.json:3: malformed JSON"):
        results.read_json(path)


def test_an_older_run_json_without_environment_reads_as_null(tmp_path):
    old = {key: key for key in results.RUN_FIELDS if key != "environment"}
    old.update(params={}, metrics={}, figures=[], cells=[])  # the fields of a shape readers index into
    results.atomic_write_json(results.result_dir("e", tmp_path) / results.RUN, old)
    run = results.load_run("e", tmp_path)
    assert tuple(run) == results.RUN_FIELDS
    assert run["environment"] is None and run["versions"] == "versions"


def test_the_environment_is_recorded_in_the_scratch_directory(tmp_path):
    assert results.read_environment(tmp_path) is None
    env = {"threads": 2, "torch": "2.13.0", "cuda": None, "cpu_capability": "AVX2", "device": "cpu"}
    results.write_environment(tmp_path, env)
    assert results.read_environment(tmp_path) == env


# --------------------------------------------------------------------------- malformed records
#
# Each wrong-shaped record is one line naming its file (MalformedRecord: a LabError for
# the commands, a ValueError for the wiki), never a KeyError or AttributeError later.


def write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_run_record_of_the_wrong_shape_is_one_line_naming_the_file(tmp_path):
    folder = results.result_dir("e", tmp_path)
    path = write(folder / "run.json", "[]\n")
    with pytest.raises(results.MalformedRecord) as err:
        results.load_run("e", tmp_path)
    assert str(err.value) == f"{path}: not a run record: a JSON array, not an object"
    assert isinstance(err.value, LabError) and isinstance(err.value, ValueError) and err.value.code == 2

    write(path, '{"name": "e", "run_id": "r", "params": {}, "metrics": {"loss": {"value": "low"}}}')
    with pytest.raises(results.MalformedRecord, match=r"run.json: metric 'loss' is not \{\"value\": number, \.\.\.\}$"):
        results.read_run(folder)
    write(path, '{"name": "e", "run_id": "r", "params": [], "metrics": {}}')
    with pytest.raises(results.MalformedRecord, match=r"run.json: params is a JSON array, not object$"):
        results.read_run(folder)
    write(path, '{"name": "e", "params": {}}')
    with pytest.raises(results.MalformedRecord, match=r"run.json: not a run record: run_id, metrics missing$"):
        results.read_run(folder)


def test_a_sweep_record_of_the_wrong_shape_names_the_file_and_the_entry(tmp_path):
    path = write(results.sweep_dir("e", "s", tmp_path) / "sweep.json", "{}")
    with pytest.raises(results.MalformedRecord) as err:
        results.load_sweep("e", "s", tmp_path)
    assert str(err.value) == (
        f"{path}: not a sweep record: name, sweep, grid, updated, points, aggregates, figures missing"
    )
    point = {"id": "seed-0", "params": {"seed": 0}, "status": "done", "run_id": None, "metrics": {}}
    record = {"name": "e", "sweep": "s", "grid": {"seed": [0]}, "updated": "t", "points": [point]}
    write(path, json.dumps({**record, "aggregates": [], "figures": []}))
    with pytest.raises(results.MalformedRecord) as err:
        results.load_sweep("e", "s", tmp_path)
    assert str(err.value) == f"{path}: points[0]: status 'done' is not one of ('ok', 'failed', 'missing')"
    write(path, json.dumps({**record, "points": [{**point, "status": "ok"}], "aggregates": [{}], "figures": []}))
    with pytest.raises(results.MalformedRecord, match=r"sweep.json: aggregates\[0\]: not an aggregate: group, metric"):
        results.load_sweep("e", "s", tmp_path)
    write(path, json.dumps({**record, "grid": {"seed": 0}, "aggregates": [], "figures": []}))
    with pytest.raises(results.MalformedRecord, match="grid does not map each parameter to a list of values"):
        results.load_sweep("e", "s", tmp_path)


def test_failure_and_history_records_are_checked_too(tmp_path):
    folder = results.result_dir("e", tmp_path)
    write(folder / "failure.json", '{"exception": "ValueError", "message": "m"}')
    failure = results.read_failure(folder)
    assert tuple(failure) == results.FAILURE_FIELDS and failure["line"] is None  # what it lacks reads as null
    path = write(folder / "failure.json", '{"exception": "ValueError", "message": "m", "cell": "3"}')
    with pytest.raises(results.MalformedRecord, match=r"failure.json: cell is a JSON string, not number or null$"):
        results.read_failure(folder)
    path = write(folder / "history.jsonl", '{"run_id": "a"}\n[1]\n')
    with pytest.raises(results.MalformedRecord) as err:
        results.load_history("e", tmp_path)
    assert str(err.value) == f"{path}:2: not a history line: a JSON array, not an object"


def test_status_lists_every_malformed_record_as_invalid_and_exits_non_zero(tmp_path, capsys):
    root = make_root(tmp_path)
    shutil.copy(FIXTURES / "grid.py", root / "experiments" / "grid.py")
    write(results.result_dir("demo", root) / "run.json", "[]")
    write(results.sweep_dir("grid", "seed", root) / "sweep.json", "{}")

    assert commands.status_command(root) == 2

    out, err = capsys.readouterr()
    demo = next(line for line in out.splitlines() if " demo " in line)
    assert demo.startswith("invalid") and demo.endswith("run.json: not a run record: a JSON array, not an object")
    seed = next(line for line in out.splitlines() if "@seed " in line)
    assert seed.startswith("  invalid") and "sweep.json: not a sweep record: name, sweep, grid" in seed
    assert "never run  grid" in out  # the others are still listed
    assert err == "error: 2 invalid (above): fix or remove what each names\n"
