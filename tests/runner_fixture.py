"""Temporary repository roots for the runner's tests: the demo fixture experiment and
the real template, in ``experiments/``."""

from __future__ import annotations

import shutil
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
