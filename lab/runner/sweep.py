"""One sweep of an experiment, as named steps: check, lock, plan, run, publish, aggregate.

1. every point of the grid is checked (``grid.validate``) before anything starts;
2. the sweep takes its experiment's sweep lock (``build/locks/NAME/sweep.lock``):
   a second sweep of the same experiment is refused while one runs;
3. plan: a point whose results are fresh (same input hash, no failure) is kept;
   missing, failed and stale points are due;
4. the engine (``engines``) runs the due points and hands back each one's files; the
   driver stamps them with its git state and publishes each point as it arrives,
   in one step (``points/POINT/``, history carried over), or adds its failure.json;
5. ``sweep.json``, the page and the aggregate figures are rebuilt from what the
   points hold, even when some failed or the sweep was interrupted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lab import atomic, results
from lab.runner import engines, execute, provenance, publish, run, staleness
from lab.runner import grid as grids
from lab.runner.scripts import Script

Say = Callable[[str], None]


@dataclass
class Outcome:
    ran: list[str]  # points run this time
    kept: list[str]  # fresh points left as they were
    failed: list[dict]  # failure records of the points that failed this time, with their "point"
    record: dict  # sweep.json as written


def sweep(
    script: Script, grid: grids.Grid, sweep_id: str, root: Path, say: Say, engine: str = "pool", jobs: int = 1
) -> Outcome:
    """Run the due points of ``grid`` and rebuild the sweep's record and page."""
    root = Path(root).resolve()
    chosen = grids.validate(script, grid)
    tasks = [engines.Task(i, p, f"sweeps/{sweep_id}/{i}") for i, p in zip(grids.point_ids(grid), chosen)]
    folder = results.sweep_dir(script.name, sweep_id, root)
    commit, dirty = provenance.git_state(root)
    failed: list[dict] = []

    def done(task: engines.Task, files: engines.Files) -> None:
        point = folder / results.POINTS / task.point
        failure = publish_point(files, point, commit, dirty)
        if failure:
            failed.append({**failure, "point": task.point})
            say(f"[{task.point}] failed: {failure['exception']}: {failure['message']}")
        else:
            say(f"[{task.point}] done")

    with run.experiment_lock(f"{script.name}/sweep", root), execute.sigterm_as_interrupt():
        due = [t for t in tasks if not is_fresh(script, t, folder)]
        kept = [t.point for t in tasks if t not in due]
        say(
            f"[{script.name}@{sweep_id}] {len(tasks)} points: {len(due)} to run, {len(kept)} fresh"
            + (f" ({engine}" + (f", {jobs} at a time)" if engine == "pool" else ")") if due else "")
        )
        try:
            if due and engine == "ray":
                engines.run_ray(script.name, due, root, done, say)
            elif due:
                engines.run_pool(script.name, due, root, jobs, done, say)
        finally:
            record = write_sweep(script, grid, sweep_id, tasks, engine, commit, dirty, root)
    return Outcome([t.point for t in due], kept, failed, record)


def is_fresh(script: Script, task: engines.Task, folder: Path) -> bool:
    """Whether the point's last good run has the inputs that change numbers it would have
    now (its write-up may differ), and no later failure."""
    point = folder / results.POINTS / task.point
    good = results.read_run(point)
    now = staleness.input_hash(script, {**script.defaults(), **task.overrides})
    return bool(good) and results.read_failure(point) is None and staleness.numbers_stand(good["input_hash"], now)


def publish_point(files: engines.Files, folder: Path, commit: str | None, dirty: bool | None) -> dict | None:
    """Put a point's files in place: a good run replaces ``folder`` in one step, its
    history carried over; a failure only adds failure.json. The failure record, if any.

    The run record gets the driver's git state: a Ray worker's copy has no git.
    """
    if results.RUN not in files and results.FAILURE not in files:
        # killed, or its kernel would not start: nothing to publish, the point stays as it was
        return {
            "cell": None,
            "line": None,
            "source": "",
            "exception": "NoResults",
            "message": "the point ended without results (its log says why)",
            "notebook": "-",
        }
    if results.RUN not in files:
        failure = json.loads(files[results.FAILURE])
        results.atomic_write_json(folder / results.FAILURE, failure)
        return failure
    record = json.loads(files[results.RUN])
    record.update(commit=commit, dirty=dirty)
    atomic.recover_dir(folder)
    staging = publish.fresh_dir(folder.with_name(f".{folder.name}.new"))
    for name, data in files.items():
        if name not in (results.RUN, results.HISTORY, results.FAILURE):
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
    # the page was rendered as the experiment's: its figure embeds must name this point's figures
    page = (staging / results.PAGE).read_text(encoding="utf-8")
    page_name = folder.relative_to(folder.parents[4]).as_posix()  # NAME/sweeps/SWEEP/points/POINT
    (staging / results.PAGE).write_text(
        page.replace(f"![[experiments/{record['name']}#", f"![[experiments/{page_name}#"), encoding="utf-8"
    )
    (staging / results.RUN).write_text(results.dumps(record), encoding="utf-8")
    history = folder / results.HISTORY
    previous = history.read_bytes() if history.exists() else b""
    (staging / results.HISTORY).write_bytes(previous + results.history_line(record).encode())
    folder.parent.mkdir(parents=True, exist_ok=True)
    atomic.replace_dir(staging, folder)
    return None


def point_entry(task: engines.Task, folder: Path) -> dict:
    """The point's entry in sweep.json, read from what its directory holds."""
    point = folder / results.POINTS / task.point
    good, failure = results.read_run(point), results.read_failure(point)
    status = "failed" if failure else "ok" if good else "missing"
    latest = failure or good or {}
    return results.make_record(
        results.SWEEP_POINT_FIELDS,
        {
            "id": task.point,
            "params": task.overrides,
            "status": status,
            "run_id": (good or {}).get("run_id"),
            "input_hash": latest.get("input_hash"),
            "metrics": {k: m["value"] for k, m in (good or {}).get("metrics", {}).items()} if status == "ok" else {},
        },
    )


def write_sweep(
    script: Script,
    grid: grids.Grid,
    sweep_id: str,
    tasks: list[engines.Task],
    engine: str,
    commit: str | None,
    dirty: bool | None,
    root: Path,
) -> dict:
    """Write sweep.json, the sweep page and its figures from the points' directories."""
    from lab.runner import aggregate, sweep_page  # numpy, plotly: only once points exist

    folder = results.sweep_dir(script.name, sweep_id, root)
    entries = [point_entry(task, folder) for task in tasks]
    units = _units(folder, entries)
    record = results.make_record(
        results.SWEEP_FIELDS,
        {
            "name": script.name,
            "sweep": sweep_id,
            "grid": grid,
            "engine": engine,
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": commit,
            "dirty": dirty,
            "points": entries,
            "aggregates": aggregate.aggregates(entries, list(grid), units),
            "figures": [],
        },
    )
    record["figures"] = sweep_page.write(record, script, folder)
    results.atomic_write_json(folder / results.SWEEP, record)
    return record


def _units(folder: Path, entries: list[dict]) -> dict[str, str | None]:
    """Each metric's unit, from the good runs' records."""
    units: dict[str, str | None] = {}
    for entry in entries:
        good = results.read_run(folder / results.POINTS / entry["id"]) if entry["status"] == "ok" else None
        for name, metric in (good or {}).get("metrics", {}).items():
            units.setdefault(name, metric.get("unit"))
    return units
