"""Where ``lab.record`` writes outside the runner: one scratch directory per script or notebook."""

import os
from types import SimpleNamespace

import pytest

from lab import record, results


@pytest.fixture
def notebook(monkeypatch, tmp_path):
    """A Jupyter or VS Code kernel (every one runs ipykernel_launcher.py) in ``tmp_path``;
    returns its user namespace."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(results.OUTPUT_DIR_ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setattr("sys.argv", ["/venv/lib/python3.11/site-packages/ipykernel_launcher.py", "-f", "k.json"])
    monkeypatch.setattr(record, "_in_notebook", lambda: True)
    user_ns = {}
    monkeypatch.setattr("IPython.get_ipython", lambda: SimpleNamespace(user_ns=user_ns))
    monkeypatch.setattr(results, "_cleared_scratch", set())
    return user_ns


def new_kernel(monkeypatch):
    """What a second kernel sees: nothing cleared yet in this process."""
    monkeypatch.setattr(results, "_cleared_scratch", set())


def test_jupyter_notebooks_write_under_their_own_names(notebook, monkeypatch, tmp_path):
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/lab/experiments/loss-shelf.py")
    record.metric("a", 1.0)
    assert results.read_metrics(tmp_path / "build" / "scratch" / "loss-shelf") == {
        "a": {"value": 1.0, "unit": None, "description": None}
    }


def test_vscode_notebooks_write_under_their_own_names(notebook, tmp_path):
    notebook["__vsc_ipynb_file__"] = "/home/me/lab/experiments/carry-odds.ipynb"
    record.metric("a", 1.0)
    assert (tmp_path / "build" / "scratch" / "carry-odds" / results.METRICS).exists()


def test_an_unnamed_notebook_gets_a_directory_per_kernel(notebook, tmp_path):
    record.metric("a", 1.0)
    assert (tmp_path / "build" / "scratch" / f"kernel-{os.getpid()}" / results.METRICS).exists()


def test_a_kernel_empties_only_its_own_notebooks_directory(notebook, monkeypatch, tmp_path):
    monkeypatch.setenv("JPY_SESSION_NAME", "experiments/loss-shelf.py")
    record.metric("shelf", 1.0)
    new_kernel(monkeypatch)
    monkeypatch.setenv("JPY_SESSION_NAME", "experiments/carry-odds.py")
    record.metric("odds", 2.0)
    scratch = tmp_path / "build" / "scratch"
    assert set(results.read_metrics(scratch / "loss-shelf")) == {"shelf"}
    assert set(results.read_metrics(scratch / "carry-odds")) == {"odds"}

    new_kernel(monkeypatch)  # loss-shelf's kernel restarted: a rerun starts clean
    monkeypatch.setenv("JPY_SESSION_NAME", "experiments/loss-shelf.py")
    record.metric("again", 3.0)
    assert set(results.read_metrics(scratch / "loss-shelf")) == {"again"}
    assert set(results.read_metrics(scratch / "carry-odds")) == {"odds"}


def test_a_plain_script_writes_under_its_name(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(results.OUTPUT_DIR_ENV, raising=False)
    monkeypatch.setattr("sys.argv", ["experiments/loss-shelf.py"])
    monkeypatch.setattr(record, "_in_notebook", lambda: False)
    record.metric("a", 1.0)
    assert (tmp_path / "build" / "scratch" / "loss-shelf" / results.METRICS).exists()
