"""Whether an experiment's results are still what its inputs give: ``status``, ``run-stale``.

A run's ``input_hash`` covers the script's code cells, the parameters, the lab
modules the script imports and the script's write-up (header and markdown cells), one
short hash each, so that a stale experiment can say which input changed.
``experiment_state`` compares the last good run (and any later failure) with the
inputs as they are now.

Only the first three change numbers. When the write-up alone changed (the Result
written after the numbers were seen), the numbers stand: ``make experiments``
re-renders the page with the new prose and runs nothing (``numbers_stand``).
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab import LabError, results
from lab.runner import grid as grids
from lab.runner import scripts
from lab.runner.scripts import Script

LAB_DIR = Path(__file__).resolve().parent.parent  # the lab package the kernel imports
PROSE = "prose"  # the input_hash part of the write-up, which changes no number


def input_hash(script: Script, params: dict[str, Any], lab_dir: Path = LAB_DIR) -> str:
    """What a run's page depends on: ``script=... params=... lab=... prose=...``, one
    short hash each (``script``: the code cells; ``prose``: the write-up).

    Kept in parts so that ``status`` can say which input changed.
    """
    lab = hashlib.sha256()
    for path in sorted(lab_files(script.text, lab_dir)):
        lab.update(f"{path.relative_to(lab_dir)}\n".encode() + path.read_bytes())
    parts = {
        "script": hashlib.sha256(script.code.encode()).hexdigest(),
        "params": hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest(),
        "lab": lab.hexdigest(),
        PROSE: hashlib.sha256(script.prose.encode()).hexdigest(),
    }
    return " ".join(f"{key}={digest[:12]}" for key, digest in parts.items())


def numbers_stand(old: str, new: str) -> bool:
    """Whether two ``input_hash`` values agree on everything that changes numbers: all
    but the write-up."""
    old_parts, new_parts = (_parts(h) for h in (old, new))
    return all(old_parts.get(key) == value for key, value in new_parts.items() if key != PROSE)


def lab_files(source: str, lab_dir: Path = LAB_DIR) -> set[Path]:
    """The files of the lab package that ``source`` imports, directly or through lab modules."""
    found: set[Path] = set()
    todo = [(source, "")]
    while todo:
        text, package = todo.pop()
        for module in _lab_imports(ast.parse(text), package):
            path = _module_file(module, lab_dir)
            if path and path not in found:
                found.add(path)
                package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                todo.append((path.read_text(encoding="utf-8"), package))
    return found


def _lab_imports(tree: ast.AST, package: str) -> set[str]:
    """Modules named by the imports in ``tree`` that belong to lab, with their parent packages.

    ``from lab import record`` names both ``lab`` and ``lab.record`` (one of them may
    be an attribute, not a module: ``_module_file`` sorts that out).
    """
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .results import y
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    modules = {name for name in names if name == "lab" or name.startswith("lab.")}
    parents = {".".join(m.split(".")[:i]) for m in modules for i in range(1, m.count(".") + 1)}
    return modules | parents


def _module_file(module: str, lab_dir: Path) -> Path | None:
    parts = module.split(".")[1:]
    candidates = [lab_dir.joinpath(*parts, "__init__.py")]
    if parts:
        candidates.append(lab_dir.joinpath(*parts[:-1], parts[-1] + ".py"))
    return next((path for path in candidates if path.is_file()), None)


@dataclass
class State:
    name: str
    status: str  # "fresh", "stale", "failed" or "never run"; for a sweep also "partial"
    detail: str  # why, in words
    due: bool  # whether `make experiments` should run it
    overrides: dict[str, Any] = field(default_factory=dict)  # the parameters a rerun keeps
    rerender: bool = False  # only the write-up changed: re-render the page, run nothing


def experiment_state(name: str, root: Path, lab_dir: Path = LAB_DIR) -> State:
    """Where ``name`` stands: its last good run and any later failure, against its inputs now.

    A run made with parameters (``make experiment PARAMS=...``) is judged with its own
    parameters: it is stale when the script or the lab code changed, not because its
    parameters are not the defaults, and a rerun keeps them (``overrides``).
    """
    script = scripts.read_script(name, root)
    now = input_hash(script, script.defaults(), lab_dir)
    try:
        run, failure = results.load_run(name, root), results.load_failure(name, root)
    except ValueError as err:  # a malformed run.json or failure.json: name the file
        raise LabError(str(err)) from None
    if failure:
        where = f"{script.path}:{failure['line']}" if failure["line"] else f"cell {failure['cell']}"
        detail = f"{failure['when']} at {where}: {failure['exception']}: {failure['message']}"
        if failure["input_hash"] == now:
            return State(name, "failed", f"{detail}; inputs unchanged since", due=False)
        return State(name, "failed", f"{detail}; inputs changed since", due=True)
    if run is None:
        return State(name, "never run", "", due=True)
    overrides = {k: v for k, v in (run["params"] or {}).items() if k in script.params and v != script.params[k].default}
    own = input_hash(script, {**script.defaults(), **overrides}, lab_dir)
    given = " with " + " ".join(f"{k}={v!r}" for k, v in overrides.items()) if overrides else ""
    if run["input_hash"] == own:
        return State(name, "fresh", f"run {run['run_id']}{given}", due=False, overrides=overrides)
    if numbers_stand(run["input_hash"], own):
        detail = f"write-up changed{given}: the numbers stand"
        return State(name, "stale", detail, due=True, overrides=overrides, rerender=True)
    return State(name, "stale", changed_inputs(run["input_hash"], own) + given, due=True, overrides=overrides)


def sweep_state(name: str, sweep: str, root: Path, lab_dir: Path = LAB_DIR) -> State:
    """Where a sweep stands: fresh when every point is good with today's inputs, partial
    when a point is missing or failed (or declared in the header since the sweep ran),
    stale when a good point's inputs changed."""
    script = scripts.read_script(name, root)
    try:
        record = results.load_sweep(name, sweep, root)
    except ValueError as err:
        raise LabError(str(err)) from None
    points = record["points"]
    unrun = _declared_not_run(script, sweep, points)
    bad = [p["id"] for p in points if p["status"] != "ok"] + unrun
    # A point's page is not what the sweep shows: only inputs that change numbers count.
    now = {p["id"]: input_hash(script, {**script.defaults(), **p["params"]}, lab_dir) for p in points}
    stale = [
        changed_inputs(p["input_hash"], now[p["id"]])
        for p in points
        if p["status"] == "ok" and not numbers_stand(p["input_hash"], now[p["id"]])
    ]
    label = f"{name}@{sweep}"
    if bad:
        return State(
            label,
            "partial",
            f"{len(points) + len(unrun) - len(bad)}/{len(points) + len(unrun)} points ok; "
            f"missing or failed: {', '.join(bad)}",
            due=True,
        )
    if stale:
        return State(label, "stale", f"{len(stale)}/{len(points)} points stale: {stale[0]}", due=True)
    return State(label, "fresh", f"{len(points)} points, updated {record['updated'][:16]}", due=False)


def _declared_not_run(script: Script, sweep: str, points: list[dict]) -> list[str]:
    """The points the header now declares for ``sweep`` that its record lacks (none for
    an ad-hoc sweep)."""
    if sweep not in grids.declared(script):
        return []
    recorded = {p["id"] for p in points}
    return [i for i in grids.point_ids(grids.named_grid(script, sweep)) if i not in recorded]


def changed_inputs(old: str, new: str) -> str:
    """``script changed, params changed`` and so on, from two ``input_hash`` values."""
    old_parts, new_parts = (_parts(h) for h in (old, new))
    words = {"lab": "lab code", PROSE: "write-up"}
    return ", ".join(f"{words.get(key, key)} changed" for key in new_parts if old_parts.get(key) != new_parts[key])


def _parts(digest: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in digest.split())
