"""Results kept as a record of the commit that made them: ``make archive``.

Exploration that led somewhere (a sweep of recipes, say) should not have to re-run
every time the lab changes. Archiving an experiment's results, or one sweep's, writes
``archived.json`` beside them: the commit that made them, when and why. From then on
they stay exactly as they are: ``status`` shows them as archived, never stale, and
``make experiments`` / ``make refresh`` never re-run them. A new run of the
experiment (``make experiment``) or of the sweep replaces the record, and with it the
archive mark: the new results are judged fresh or stale as usual.

A record stays provably reproducible: ``make reproduce`` of an archived result checks
it at its own commit, in a temporary git worktree (``at_commit``), with that commit's
code, and writes the verdict beside it as for any other run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from lab import LabError, results
from lab.runner import publish

WORKTREES = publish.BUILD / "worktrees"


def archive(name: str, sweep: str | None, why: str, root: Path) -> dict:
    """Mark the results of ``name`` (or of its sweep ``sweep``) as a record of the commit
    that made them; the mark as written. LabError when there is nothing to archive, or
    nothing says which commit made it."""
    folder = _folder(name, sweep, root)
    made = results.load_sweep(name, sweep, root) if sweep else results.load_run(name, root)
    label = f"{name}@{sweep}" if sweep else name
    if made is None:
        raise LabError(f"{label} has no results to archive ({folder.relative_to(root)} has no record)")
    if not made.get("commit"):
        raise LabError(f"{label} was not made in a git repository: no commit to keep it as a record of")
    if not why.strip():
        raise LabError(f'say why {label} is archived: make archive NAME={name} WHY="..."')
    mark = results.make_record(
        results.ARCHIVE_FIELDS,
        {
            "commit": made["commit"],
            "dirty": made.get("dirty"),
            "inputs_commit": made.get("inputs_commit"),
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "why": why.strip(),
        },
    )
    results.atomic_write_json(folder / results.ARCHIVED, mark)
    return mark


def unarchive(name: str, sweep: str | None, root: Path) -> bool:
    """Remove the archive mark of ``name`` (or its sweep); False if there was none."""
    path = _folder(name, sweep, root) / results.ARCHIVED
    if not path.exists():
        return False
    path.unlink()
    return True


def load(folder: Path) -> dict | None:
    """The archive mark of the results in ``folder`` (an experiment's or a sweep's), or None."""
    path = Path(folder) / results.ARCHIVED
    return results.read_json(path) if path.exists() else None


def describe(mark: dict) -> str:
    """``a record of commit 1cdfb7a (archived 2026-12-06: why)``."""
    dirty = ", with uncommitted changes" if mark.get("dirty") else ""
    if mark.get("dirty") and mark.get("inputs_commit"):
        dirty = ", with uncommitted changes; its inputs checked to be a commit's (make check-inputs)"
    return f"a record of commit {mark['commit'][:7]}{dirty} (archived {mark['when'][:10]}: {mark['why']})"


@contextmanager
def worktree(commit: str, root: Path) -> Iterator[Path]:
    """A temporary git worktree of ``root`` at ``commit`` (``build/worktrees/COMMIT``),
    removed afterwards, whatever happens."""
    root = Path(root).resolve()
    place = root / WORKTREES / commit[:12]
    _git(root, "worktree", "prune")
    if place.exists():
        _git(root, "worktree", "remove", "--force", str(place))
    _git(root, "worktree", "add", "--detach", str(place), commit)
    try:
        yield place
    finally:
        _git(root, "worktree", "remove", "--force", str(place))


def run_lab(place: Path, command: list[str], env: dict[str, str] | None = None) -> int:
    """``python -m lab COMMAND`` in the worktree ``place``, with its own lab package
    (first on the path, before the one this interpreter has installed); its exit code."""
    environment = {**os.environ, **(env or {}), "PYTHONPATH": str(place)}
    return subprocess.run([sys.executable, "-m", "lab", *command], cwd=place, env=environment).returncode


def copy_record(source: Path, target: Path) -> None:
    """Put a result's record files (``run.json`` and the like, not its folders) in
    ``target``, where the worktree's lab reads them; not the archive mark (there the
    record is to be re-run, not kept) nor an old verdict."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.name not in (results.ARCHIVED, results.REPRODUCTION):
            shutil.copy2(item, target / item.name)


def _folder(name: str, sweep: str | None, root: Path) -> Path:
    return results.sweep_dir(name, sweep, root) if sweep else results.result_dir(name, root)


def _git(root: Path, *args: str) -> None:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if done.returncode:
        raise LabError(f"git {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
