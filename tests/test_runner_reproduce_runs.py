"""Reproduction of real runs (``make reproduce``): the verdict, drift, timings, and what
a new run keeps of it; on the demo fixture, as in test_runner_runs."""

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from runner_fixture import snapshot

from lab import cli, results
from lab.runner import commands

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------- reproduction


def site_files(root: Path) -> dict[str, bytes]:
    return snapshot(root / "site")


def reproduced_notebook_text(root: Path) -> str:
    nb = nbformat.read(root / "build" / "reproduce" / "demo" / "notebook.ipynb", as_version=4)
    return "".join(o.get("text", "") for cell in nb.cells for o in cell.get("outputs", []))


def test_reproduce_reports_identical_and_writes_only_the_verdict(good_root, capsys):
    before = site_files(good_root)
    committed = results.load_run("demo", good_root)

    assert commands.reproduce_command([], root=good_root) == 0  # all with committed results: demo

    after = site_files(good_root)
    verdict = json.loads(after.pop("experiments/demo/reproduction.json"))
    assert after == before
    assert tuple(verdict) == results.REPRODUCTION_FIELDS
    assert (verdict["identical"], verdict["within"], verdict["drifted"]) == (1, 0, 0)
    assert verdict["run_id"] == committed["run_id"] and verdict["environment"] == committed["environment"]
    assert verdict["tolerance"] == {"relative": 0.0, "why": "same environment: bit-identical"}
    assert verdict["cached"] is False and verdict["failure"] is None
    out = capsys.readouterr().out
    assert f"[demo] reproduction of run {committed['run_id']} (" in out
    assert "1 identical, 0 within tolerance, 0 drifted" in out
    assert "    total_width  identical  0.006      0.006  +0.000e+00" in out
    # a fresh model cache reached the kernel; the reproduced run is kept for a look
    assert f"model cache {good_root.resolve() / 'build' / 'reproduce' / 'cache'}\n" in reproduced_notebook_text(
        good_root
    )
    assert results.read_json(good_root / "build" / "reproduce" / "demo" / "run.json")["metrics"] == committed["metrics"]


def test_reproduce_lists_timings_apart_from_drifts(good_root, monkeypatch):
    run_json = results.result_dir("demo", good_root) / "run.json"
    run = json.loads(run_json.read_text())
    run["metrics"]["seconds_to_fit"] = {"value": 99.0, "unit": "s", "description": "wall clock"}
    run_json.write_text(results.dumps(run))
    monkeypatch.chdir(good_root)
    assert cli.main(["reproduce", "demo", "--cached"]) == 0  # a timing that went missing is no drift
    verdict = results.read_json(results.result_dir("demo", good_root) / results.REPRODUCTION)
    assert verdict["drifts"] == [] and verdict["drifted"] == 0
    assert verdict["timings"] == [{"metric": "seconds_to_fit", "committed": 99.0, "new": None}]


def test_a_new_run_keeps_the_reproduction_verdict_of_the_run_it_checked(good_root):
    assert commands.reproduce_command(["demo"], cached=True, root=good_root) == 0
    checked = results.load_reproduction("demo", good_root)
    assert commands.run_command("demo", [], good_root) == 0
    assert results.load_reproduction("demo", good_root) == checked  # carried over, naming its run
    assert checked["run_id"] != results.load_run("demo", good_root)["run_id"]


def test_publishing_never_leaves_the_results_missing(good_root, monkeypatch):
    """A reader or a crash at any step of publishing finds results: the swap is one step."""
    target = results.result_dir("demo", good_root)
    seen = []
    real_rmtree, real_rename = shutil.rmtree, os.rename

    def rmtree(path, *args, **kwargs):
        real_rmtree(path, *args, **kwargs)
        seen.append((target / results.RUN).exists())

    def rename(a, b):
        real_rename(a, b)
        seen.append((target / results.RUN).exists())

    monkeypatch.setattr(shutil, "rmtree", rmtree)
    monkeypatch.setattr(os, "rename", rename)
    assert commands.run_command("demo", [], good_root) == 0
    assert seen and all(seen)


def test_reproduce_names_a_drifted_metric_and_exits_non_zero(good_root, monkeypatch, capsys):
    run_json = results.result_dir("demo", good_root) / "run.json"
    run = json.loads(run_json.read_text())
    run["metrics"]["total_width"]["value"] = 0.007
    run_json.write_text(results.dumps(run))
    before = site_files(good_root)

    monkeypatch.chdir(good_root)
    assert cli.main(["reproduce", "demo", "--cached"]) == 1

    after = site_files(good_root)
    verdict = json.loads(after.pop("experiments/demo/reproduction.json"))
    assert after == before
    assert verdict["drifted"] == 1 and verdict["cached"] is True
    assert verdict["drifts"] == [
        {"metric": "total_width", "committed": 0.007, "new": 0.006, "difference": pytest.approx(-0.001)}
    ]
    out, err = capsys.readouterr()
    assert "    total_width  drifted  0.007      0.006  -1.000e-03" in out
    assert err.endswith("not reproduced: demo\n")
    assert "model cache None\n" in reproduced_notebook_text(good_root)  # --cached: the lab's cache
