"""Where a run's numbers came from: the git commit and the package versions.

The numerics environment (threads, torch build, CPU capability, device) is recorded
by the kernel itself (``lab.numerics.pin``), since only it knows what torch ran with.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

from lab import LabError

ALLOW_DIRTY_ENV = "ALLOW_DIRTY"  # make ... ALLOW_DIRTY=1: publish from uncommitted code anyway

VERSIONED_PACKAGES = ("lab", "torch", "transformer-lens", "numpy", "plotly", "papermill", "jupytext")


def git_state(root: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the repository, or (None, None) outside git.

    Dirty means uncommitted changes outside ``site/``: results and notes awaiting a
    commit do not make the code that produced a run any less reproducible.
    """
    try:
        commit = _git(root, "rev-parse", "HEAD")
        changes = _git(root, "status", "--porcelain", "--", ".", ":(exclude)site")
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit, bool(changes)


def require_clean(root: Path) -> None:
    """LabError, before any work, when results would be published from uncommitted code
    (outside ``site/``) and ``ALLOW_DIRTY=1`` was not given: a result names the commit
    that made it, and an uncommitted change makes that name a half-truth."""
    commit, dirty = git_state(root)
    if dirty and os.environ.get(ALLOW_DIRTY_ENV, "") not in ("", "0"):
        return
    if dirty:
        changed = _git(root, "status", "--porcelain", "--", ".", ":(exclude)site").splitlines()
        shown = ", ".join(line.split(maxsplit=1)[-1] for line in changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        raise LabError(
            f"uncommitted changes ({shown}): commit them first, so that the results name the code that "
            f"made them, or publish anyway with {ALLOW_DIRTY_ENV}=1 (the pages will say so)"
        )


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def machine() -> dict[str, str | None]:
    """The CPU a run ran on, by name and by its CPUID numbers (family/model/stepping),
    from ``/proc/cpuinfo`` (None elsewhere). The environment a run records (threads,
    torch, CPU capability, MKL's mode) does not pin every number: models of ``d_model``
    64 trained differently on a Sapphire Rapids machine than on the machines before it,
    with all of that the same, so a comparison across CPUs is not promised bit for bit."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    numbers = [fields.get(key) for key in ("cpu family", "model", "stepping")]
    return {"cpu": fields.get("model name"), "cpuid": "/".join(numbers) if all(numbers) else None}


def versions() -> dict[str, str | None]:
    """Versions of Python and the packages a run depends on, without importing them."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found
