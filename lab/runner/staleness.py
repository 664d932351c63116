"""Whether an experiment's results are still what its inputs give: ``status``, ``run-stale``.

A run's numbers depend on four things, and a result is stale only when one of them
changed since the run:

- the script's code cells (``input_hash``: ``script=H``);
- its parameters (``params=H``);
- the lab code it executed, and the code that made the weights it used: each unit
  with its fingerprint, recorded in the kernel (``run.json``'s ``code``, see
  ``lab.executed``) and compared here with the code as it is now
  (``lab.fingerprint``), so that ``status`` names what changed
  (``lab/train.py:train changed``), and an edit to code no run executed, or to a
  docstring, comment or formatting, stales nothing;
- nothing else: the write-up (header and markdown cells, ``prose=H``) changes no
  number. When it alone changed, ``make experiments`` re-renders the page with the
  new prose and runs nothing (``State.rerender``).

A run made before the lab recorded executed code has no ``code``: it is stale, since
nothing says what it ran. An archived result (``lab.runner.archive``) is a record of
the commit that made it, never stale and never re-run.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab import LabError, fingerprint, results
from lab.runner import archive, scripts
from lab.runner import grid as grids
from lab.runner.scripts import Script

LAB_DIR = fingerprint.LAB_DIR  # the lab package the kernel imports
PROSE = "prose"  # the input_hash part of the write-up, which changes no number
NO_CODE = "no record of the lab code it executed (made before runs recorded it)"
SHOWN_CHANGES = 3  # units named in one line; the rest are counted


def input_hash(script: Script, params: dict[str, Any]) -> str:
    """The script's inputs: ``script=... params=... prose=...``, one short hash each
    (``script``: the code cells; ``prose``: the write-up). Kept in parts so that
    ``status`` can say which changed; the lab code is compared unit by unit instead
    (``stale_reasons``)."""
    parts = {
        "script": hashlib.sha256(script.code.encode()).hexdigest(),
        "params": hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest(),
        PROSE: hashlib.sha256(script.prose.encode()).hexdigest(),
    }
    return " ".join(f"{key}={digest[:12]}" for key, digest in parts.items())


def stale_reasons(run: dict, now: str, lab_dir: Path = LAB_DIR, script: str | None = None) -> list[str]:
    """Why the numbers of ``run`` (a run or failure record) are not what the inputs
    ``now`` (an ``input_hash``) and the lab code as it is would give; [] when they
    stand. The write-up does not count. With the ``script``'s text, a module constant
    that neither it nor the lab code the run executed names does not count either
    (``fingerprint.changes``)."""
    old, new = _parts(run["input_hash"]), _parts(now)
    reasons = [f"{key} changed" for key in ("script", "params") if old.get(key) != new.get(key)]
    code = run.get("code")
    if code is None:
        return [*reasons, NO_CODE]
    return reasons + fingerprint.changes(code, lab_dir, script)


def numbers_stand(run: dict, now: str, lab_dir: Path = LAB_DIR, script: str | None = None) -> bool:
    """Whether ``run``'s numbers are still what the inputs ``now`` give (``stale_reasons``)."""
    return not stale_reasons(run, now, lab_dir, script)


def describe(reasons: list[str]) -> str:
    """``lab/train.py:train changed, script changed`` with at most ``SHOWN_CHANGES``
    units named, the rest counted."""
    shown = reasons[:SHOWN_CHANGES]
    more = len(reasons) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


@dataclass
class State:
    name: str
    status: str  # "fresh", "stale", "archived", "failed" or "never run"; for a sweep also "partial"
    detail: str  # why, in words
    due: bool  # whether `make experiments` should run it
    overrides: dict[str, Any] = field(default_factory=dict)  # the parameters a rerun keeps
    rerender: bool = False  # only the write-up changed: re-render the page, run nothing
    reasons: list[str] = field(default_factory=list)  # what changed, one entry each (for pages)


def experiment_state(name: str, root: Path, lab_dir: Path = LAB_DIR) -> State:
    """Where ``name`` stands: its last good run and any later failure, against its inputs now.

    A run made with parameters (``make experiment PARAMS=...``) is judged with its own
    parameters: it is stale when the script or the lab code it ran changed, not
    because its parameters are not the defaults, and a rerun keeps them (``overrides``).
    """
    script = scripts.read_script(name, root)
    now = input_hash(script, script.defaults())
    try:
        run, failure = results.load_run(name, root), results.load_failure(name, root)
        kept = archive.load(results.result_dir(name, root))
    except ValueError as err:  # a malformed run.json or failure.json: name the file
        raise LabError(str(err)) from None
    if kept and run:
        return State(name, "archived", archive.describe(kept), due=False)
    if failure:
        where = f"{script.path}:{failure['line']}" if failure["line"] else f"cell {failure['cell']}"
        detail = f"{failure['when']} at {where}: {failure['exception']}: {failure['message']}"
        if numbers_stand(failure, now, lab_dir, script.text):
            return State(name, "failed", f"{detail}; inputs unchanged since", due=False)
        return State(name, "failed", f"{detail}; inputs changed since", due=True)
    if run is None:
        return State(name, "never run", "", due=True)
    overrides = {k: v for k, v in (run["params"] or {}).items() if k in script.params and v != script.params[k].default}
    own = input_hash(script, {**script.defaults(), **overrides})
    given = " with " + " ".join(f"{k}={v!r}" for k, v in overrides.items()) if overrides else ""
    reasons = stale_reasons(run, own, lab_dir, script.text)
    if reasons:
        return State(name, "stale", describe(reasons) + given, due=True, overrides=overrides, reasons=reasons)
    if run["input_hash"] != own:
        detail = f"write-up changed{given}: the numbers stand"
        return State(name, "stale", detail, due=True, overrides=overrides, rerender=True)
    return State(name, "fresh", f"run {run['run_id']}{given}", due=False, overrides=overrides)


def sweep_state(name: str, sweep: str, root: Path, lab_dir: Path = LAB_DIR) -> State:
    """Where a sweep stands: fresh when every point is good with today's inputs, partial
    when a point is missing or failed (or declared in the header since the sweep ran),
    stale when a good point's inputs or code changed, archived when kept as a record."""
    script = scripts.read_script(name, root)
    folder = results.sweep_dir(name, sweep, root)
    try:
        record = results.load_sweep(name, sweep, root)
        kept = archive.load(folder)
        points = record["points"]
        runs = {p["id"]: results.read_run(folder / results.POINTS / p["id"]) for p in points if p["status"] == "ok"}
    except ValueError as err:
        raise LabError(str(err)) from None
    label = f"{name}@{sweep}"
    if kept:
        return State(label, "archived", archive.describe(kept), due=False)
    unrun = _declared_not_run(script, sweep, points)
    bad = [p["id"] for p in points if p["status"] != "ok" or runs.get(p["id"]) is None] + unrun
    if bad:
        return State(
            label,
            "partial",
            f"{len(points) + len(unrun) - len(bad)}/{len(points) + len(unrun)} points ok; "
            f"missing or failed: {', '.join(bad)}",
            due=True,
        )
    # A point's page is not what the sweep shows: only inputs that change numbers count.
    stale = {}
    for p in points:
        now = input_hash(script, {**script.defaults(), **p["params"]})
        reasons = stale_reasons(runs[p["id"]], now, lab_dir, script.text)
        if reasons:
            stale[p["id"]] = reasons
    if stale:
        first = next(iter(stale.values()))
        return State(
            label, "stale", f"{len(stale)}/{len(points)} points stale: {describe(first)}", due=True, reasons=first
        )
    return State(label, "fresh", f"{len(points)} points, updated {record['updated'][:16]}", due=False)


def _declared_not_run(script: Script, sweep: str, points: list[dict]) -> list[str]:
    """The points the header now declares for ``sweep`` that its record lacks (none for
    an ad-hoc sweep)."""
    if sweep not in grids.declared(script):
        return []
    recorded = {p["id"] for p in points}
    return [i for i in grids.point_ids(grids.named_grid(script, sweep)) if i not in recorded]


def edited_units(root: Path) -> list[str]:
    """The units of lab code (``lab/train.py:train``) that differ between the last commit
    and the working tree, added and removed ones included; [] outside git."""
    root = Path(root)
    try:
        done = subprocess.run(
            ["git", "diff", "--name-only", "HEAD", "--", "lab"], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return []
    edited = []
    for file in (f for f in done.stdout.split() if f.endswith(".py")):
        shown = subprocess.run(["git", "show", f"HEAD:{file}"], cwd=root, capture_output=True, text=True)
        path = root / file
        try:
            before = fingerprint.units(shown.stdout) if shown.returncode == 0 else {}
            after = fingerprint.units(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except SyntaxError:
            edited.append(f"{file} (does not parse)")
            continue
        edited += [f"{file}:{unit}" for unit in sorted({*before, *after}) if before.get(unit) != after.get(unit)]
    return edited


def executed_anywhere(root: Path) -> set[str]:
    """Every unit of lab code that a recorded run executed: the experiments' runs and
    their sweeps' points."""
    found: set[str] = set()
    for name in results.result_names(root):
        folders = [results.result_dir(name, root)]
        for sweep in results.sweep_names(name, root):
            points = results.sweep_dir(name, sweep, root) / results.POINTS
            folders += sorted(p for p in points.iterdir() if p.is_dir()) if points.is_dir() else []
        for folder in folders:
            try:
                run = results.read_run(folder)
            except ValueError:
                continue  # status names the malformed record on its own line
            found.update((run or {}).get("code") or {})
    return found


def _parts(digest: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in digest.split())
