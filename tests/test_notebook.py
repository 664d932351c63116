"""`make notebook NAME=…`: the experiment opens in JupyterLab with this interpreter (the
lab's .venv) as its kernel; JupyterLab is the optional `notebook` extra, pinned."""

import os
import shutil
import sys
import tomllib
from importlib import util
from pathlib import Path

import pytest
from runner_fixture import REPO, make_root

from lab import LabError, cli


def test_a_mistyped_name_is_refused_before_jupyter(tmp_path, monkeypatch):
    monkeypatch.chdir(make_root(tmp_path))
    with pytest.raises(LabError, match=r"no experiment 'dmeo' .*did you mean 'demo'"):
        cli.notebook_command("dmeo")


def test_without_jupyterlab_it_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.chdir(make_root(tmp_path))
    monkeypatch.setattr(util, "find_spec", lambda name: None)
    with pytest.raises(LabError, match=r"JupyterLab is not installed: make notebook NAME=\.\.\. installs it"):
        cli.notebook_command("demo")


def test_it_execs_jupyterlab_of_this_interpreter_on_the_script(tmp_path, monkeypatch):
    monkeypatch.chdir(make_root(tmp_path))
    bin_dir = Path(sys.executable).parent
    monkeypatch.setattr(util, "find_spec", lambda name: object())
    monkeypatch.setattr(shutil, "which", lambda cmd, path=None: f"{path}/{cmd}")
    called = []
    monkeypatch.setattr(os, "execv", lambda program, argv: called.append((program, argv)))
    cli.notebook_command("demo", port=8890)
    [(program, argv)] = called
    assert program == f"{bin_dir}/jupyter"  # this .venv's: its kernel is this interpreter
    assert argv[1] == "lab" and argv[-1] == "experiments/demo.py" and "--ServerApp.port=8890" in argv


def test_jupyterlab_is_an_optional_pinned_extra():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    [pin] = project["optional-dependencies"]["notebook"]
    assert pin.startswith("jupyterlab==")
    assert not any(
        d.startswith("jupyterlab") for d in project["dependencies"] + project["optional-dependencies"]["dev"]
    )
    constraints = (REPO / "constraints.txt").read_text().split()
    assert pin in constraints and "jupyter_server==2.21.1" in constraints
