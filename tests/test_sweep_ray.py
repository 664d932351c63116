"""The Ray engine on a real local Ray cluster, in a loopback-only network namespace.

The cluster (``ray start --head`` on 127.0.0.1, 2 CPUs, token auth) is started and
stopped by its pid in ``tests/ray_cluster.py``; the sweep reaches it through
``RAY_ADDRESS``, and the points come back as files (the workers' copy has no git).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from runner_fixture import FIXTURES, make_root

from lab import results

pytestmark = pytest.mark.slow

HELPER = Path(__file__).parent / "ray_cluster.py"


def namespace_reason() -> str:
    """Why a network namespace cannot be made here ("" if it can)."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare or ip is not installed"
    tried = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    return "" if tried.returncode == 0 else f"unshare -n is not permitted: {tried.stderr.strip()}"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


def test_a_sweep_runs_as_ray_tasks_on_a_local_cluster_that_the_test_stops(tmp_path):
    reason = namespace_reason()
    if reason:
        print(f"skipped: {reason}")
        pytest.skip(reason)
    (tmp_path / "repo").mkdir()
    root = make_root(tmp_path / "repo")
    shutil.copy(FIXTURES / "grid.py", root / "experiments" / "grid.py")
    (root / ".gitignore").write_text("build/\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fixture")

    # Ray's unix sockets live under its temp dir, and a socket path may not pass 107 bytes
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    try:
        done = subprocess.run(
            [
                "unshare",
                "-n",
                sys.executable,
                str(HELPER),
                str(root),
                temp,
                "--",
                "grid",
                "seed=0,1",
                "lr=0.05,0.2",
                "--engine",
                "ray",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])

    assert report["code"] == 0, report["stderr"]
    assert "4 Ray tasks submitted (2 CPUs each)" in report["stdout"]
    assert report["cluster"] > 0 and report["left"] == []  # the cluster it started is gone
    record = results.load_sweep("grid", "lr-seed", root)
    assert record["engine"] == "ray" and [p["status"] for p in record["points"]] == ["ok"] * 4
    head = git(root, "rev-parse", "HEAD")
    for entry in record["points"]:
        run = results.read_run(results.point_dir("grid", record["sweep"], entry["id"], root))
        assert run["params"]["seed"] == entry["params"]["seed"] and run["params"]["lr"] == entry["params"]["lr"]
        assert (run["commit"], run["dirty"]) == (head, False)  # stamped by the driver
        assert entry["metrics"] == {k: m["value"] for k, m in run["metrics"].items()}
    assert len(record["aggregates"]) == 4


def test_an_unreachable_cluster_fails_in_one_line_and_writes_nothing(tmp_path):
    pytest.importorskip("ray")
    root = make_root(tmp_path)
    shutil.copy(FIXTURES / "grid.py", root / "experiments" / "grid.py")
    # port 1: nothing listens there; Ray's own client would retry it for minutes, warning
    done = subprocess.run(
        [sys.executable, "-m", "lab", "sweep", "grid", "seed=0,1", "--engine", "ray"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "RAY_ADDRESS": "127.0.0.1:1"},
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["error: no Ray cluster at RAY_ADDRESS=127.0.0.1:1: Connection refused"]
    assert not (root / "site").exists()  # no point ran: no sweep page, no sweep.json
