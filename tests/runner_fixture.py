"""Temporary repository roots for the runner's tests: the demo fixture experiment and
the real template, in ``experiments/``; and the demo run once per test module
(``good_run`` and ``good_root`` in conftest.py use these), since a kernel start costs seconds."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "experiments"
REPO = Path(__file__).resolve().parents[1]


def make_root(tmp_path: Path) -> Path:
    """A repository root holding the demo fixture and the real template."""
    (tmp_path / "experiments").mkdir()
    shutil.copy(FIXTURES / "demo.py", tmp_path / "experiments" / "demo.py")
    shutil.copy(REPO / "experiments" / "_template.py", tmp_path / "experiments" / "_template.py")
    return tmp_path


def write_experiment(root: Path, name: str, text: str) -> None:
    (root / "experiments" / f"{name}.py").write_text(text)


def lab_command(root: Path, *args: str, **kwargs) -> subprocess.Popen:
    """``python -m lab ARGS`` in ``root``. Ctrl-C reaches it even where the tests run as a
    background job, which a shell without job control starts with SIGINT ignored (and
    Python then installs no KeyboardInterrupt handler)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "lab", *args],
        cwd=root,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **kwargs,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_root(good_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(good_root, root, ignore=shutil.ignore_patterns("build"))
    return root


def git(root: Path, *args: str) -> str:
    """``git ARGS`` in ``root`` as a test user; its output."""
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout
