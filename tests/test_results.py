"""The results format: its JSON files written atomically, and metrics."""

import math

import pytest

from lab import results


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
    results.atomic_write_json(results.result_dir("e", tmp_path) / results.RUN, old)
    run = results.load_run("e", tmp_path)
    assert tuple(run) == results.RUN_FIELDS
    assert run["environment"] is None and run["versions"] == "versions"


def test_the_environment_is_recorded_in_the_scratch_directory(tmp_path):
    assert results.read_environment(tmp_path) is None
    env = {"threads": 2, "torch": "2.13.0", "cuda": None, "cpu_capability": "AVX2", "device": "cpu"}
    results.write_environment(tmp_path, env)
    assert results.read_environment(tmp_path) == env
