"""Imported before every test module: the lab first, so that its cap on the CPU
capability (``lab.CPU_CAPABILITY``) is in place before any test runs a torch operation;
and the runner tests' shared run of the demo fixture."""

import lab  # noqa: F401, I001 (first, before anything imports torch)

import pytest
from runner_fixture import copy_root, lab_command, make_root


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """The demo experiment run once with its defaults, via the CLI: (root, stdout)."""
    root = make_root(tmp_path_factory.mktemp("good"))
    proc = lab_command(root, "run", "demo")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return root, out


@pytest.fixture
def good_root(good_run, tmp_path):
    return copy_root(good_run[0], tmp_path)
