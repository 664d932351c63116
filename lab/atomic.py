"""Atomic file operations: a reader, or a crash, sees the old file or folder or the new
one, never half of one.

    write_text(path, text)        # temporary file in the same folder, then a rename
    write_bytes(path, data)       # the same, for bytes
    replace_dir(new, target)      # swap a whole folder in (Linux renameat2, or two renames)
    recover_dir(target)           # undo a swap interrupted between its two renames

``lab.results`` (the results format) writes every result file through these.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from pathlib import Path


def write_text(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename: never half a file."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2). False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    ok = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0
    return ok


def replace_dir(new: Path, target: Path) -> None:
    """Make ``new`` become ``target`` in one step; the old ``target`` is deleted after.

    On Linux the two directories are exchanged atomically, so a reader (or a crash)
    sees either the old or the new results, never a mix or nothing. Elsewhere, the
    old directory is moved aside first and restored by ``recover_dir`` if needed.
    """
    new, target = Path(new), Path(target)
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new)  # ``new`` now holds the old results
        return
    aside = target.with_name(f".{target.name}.old")
    shutil.rmtree(aside, ignore_errors=True)
    os.rename(target, aside)
    os.rename(new, target)
    shutil.rmtree(aside)


def recover_dir(target: Path) -> None:
    """Undo a ``replace_dir`` interrupted between its two renames (non-Linux path)."""
    aside = Path(target).with_name(f".{Path(target).name}.old")
    if aside.exists() and not Path(target).exists():
        os.rename(aside, target)
