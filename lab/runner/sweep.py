"""One sweep of an experiment, as named steps: check, lock, plan, run, publish, aggregate.

1. the grid's size is checked (``grid.check_size``: a grid past ``MAX_POINTS`` runs
   only when confirmed) and every point is checked (``grid.validate``) before anything
   starts; an ad-hoc grid may not take the name of a sweep the header declares;
2. the sweep takes its experiment's sweep lock (``build/locks/NAME/sweep.lock``):
   a second sweep of the same experiment is refused while one runs;
3. plan: a point whose results are fresh (same input hash, no failure) is kept;
   missing, failed and stale points are due; a malformed record stops the sweep here,
   in one line naming the file (``results.MalformedRecord``);
4. the engine (``engines``) runs the due points and hands back each one's files; the
   driver stamps them with its git state and publishes each point as it arrives,
   in one step (``points/POINT/``, history carried over), or adds its failure.json,
   and rewrites ``sweep.json`` at once (and the page, if it has none yet), so that a
   sweep killed outright still shows in ``status`` as partial with the points it finished;
5. the page and the aggregate figures are rebuilt with ``sweep.json`` from what the
   points hold, even when some failed or the sweep was interrupted. A sweep that
   changed nothing (no point landed: Ray unreachable, interrupted at once) writes
   nothing, unless its record is missing or out of date with points all fresh.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lab import LabError, atomic, results
from lab.runner import archive, engines, execute, progress, provenance, publish, run, staleness
from lab.runner import grid as grids
from lab.runner.scripts import Script

Say = Callable[[str], None]


@dataclass
class Outcome:
    ran: list[str]  # points run this time
    kept: list[str]  # fresh points left as they were
    failed: list[dict]  # failure records of the points that failed this time, with their "point"
    record: dict  # sweep.json as written (or as it stands, when nothing changed)
    written: bool  # whether this sweep wrote its record: not when it ran nothing


@dataclass
class Plan:
    tasks: list[engines.Task]  # every point of the grid, in grid order
    due: list[engines.Task]  # those to run: missing, failed or stale
    kept: list[engines.Task]  # those fresh


def sweep(
    script: Script,
    grid: grids.Grid,
    sweep_id: str,
    root: Path,
    say: Say,
    engine: str = "pool",
    jobs: int = 1,
    confirmed: bool = False,
) -> Outcome:
    """Run the due points of ``grid`` and rebuild the sweep's record and page."""
    root = Path(root).resolve()
    grids.check_size(grid, confirmed)  # before making the points: a typo can make millions
    check_name(script, grid, sweep_id)
    chosen = grids.validate(script, grid)
    tasks = [engines.Task(i, p, f"sweeps/{sweep_id}/{i}") for i, p in zip(grids.point_ids(grid), chosen)]
    folder = results.sweep_dir(script.name, sweep_id, root)
    commit, dirty = provenance.git_state(root)
    failed: list[dict] = []

    with run.experiment_lock(f"{script.name}/sweep", root), execute.sigterm_as_interrupt():
        if archive.unarchive(script.name, sweep_id, root):  # running it again makes it live
            say(f"[{script.name}@{sweep_id}] was archived: its points are now judged as any sweep's")
        planned = plan(script, tasks, folder)
        previous = results.load_sweep(script.name, sweep_id, root)
        if previous and previous["grid"] != grid:
            say(f"[{script.name}@{sweep_id}] the grid changed: {_grid_text(previous['grid'])} -> {_grid_text(grid)}")
        book = Book(script, grid, sweep_id, planned.tasks, engine, commit, dirty, folder, previous)
        due = planned.due
        # k/N and an ETA per landed point, estimated from what each point took when it
        # last ran, else as long as the sweep's points that ran before (a grown grid's new
        # points), else a typical point of the experiment: terminal only, never on a page
        kept = [d for t in planned.kept if (d := _recorded(folder, t))]
        typical = sum(kept) / len(kept) if kept else progress.typical_point(script.name, root)
        estimates = {t.point: _recorded(folder, t) or typical for t in due}
        jobs_at_once = jobs if engine == "pool" else len(due)
        meter = progress.Meter(f"{script.name}@{sweep_id}", estimates, say, jobs_at_once, alike=True)
        say = meter.write

        def done(task: engines.Task, files: engines.Files, reason: str) -> None:
            failure = publish_point(files, folder / results.POINTS / task.point, commit, dirty, reason)
            took = progress.recorded_duration(folder / results.POINTS / task.point / results.RUN)
            count = meter.tick(task.point, took)
            if failure and failure["exception"] == NO_RESULTS:
                say(f"[{task.point}] ended without results: {failure['message']}{count}")
            elif failure:
                say(f"[{task.point}] failed: {failure['exception']}: {failure['message']}{count}")
            else:
                say(f"[{task.point}] done" + (f" in {took:.1f} s" if took else "") + count)
            if failure:
                failed.append({**failure, "point": task.point})
            if not failure or failure["exception"] != NO_RESULTS:  # something landed in points/
                book.landed(task)

        say(
            f"[{script.name}@{sweep_id}] {len(tasks)} points: {len(due)} to run, {len(planned.kept)} fresh"
            + (
                f" ({engine}" + (f", {jobs} at a time" if engine == "pool" else "") + f"; {meter.plan()})"
                if due
                else ""
            )
        )
        try:
            if due and engine == "ray":
                engines.run_ray(script.name, due, root, done, say)
            elif due:
                engines.run_pool(script.name, due, root, jobs, done, say)
        finally:
            meter.close()
            book.finish(nothing_due=not due)
    record = book.written or book.record()
    return Outcome([t.point for t in due], [t.point for t in planned.kept], failed, record, book.written is not None)


def _recorded(folder: Path, task: engines.Task) -> float | None:
    """What the point took when it last ran, else None."""
    return progress.recorded_duration(folder / results.POINTS / task.point / results.RUN)


def check_name(script: Script, grid: grids.Grid, sweep_id: str) -> None:
    """LabError if ``sweep_id`` is a sweep the header declares and ``grid`` is not its grid:
    an ad-hoc grid must not replace a declared sweep's points."""
    if sweep_id in grids.declared(script) and grids.named_grid(script, sweep_id) != grid:
        raise LabError(
            f"{sweep_id!r} is a sweep declared in {script.path} with another grid: "
            f"run it with SWEEP={sweep_id} alone, or give this grid another name (SWEEP=... with GRID=)"
        )


def plan(script: Script, tasks: list[engines.Task], folder: Path) -> Plan:
    """Which points are due and which are fresh, from the points' records on disk."""
    present = on_disk(folder)
    fresh = [t.point in present and is_fresh(script, t, folder) for t in tasks]
    return Plan(tasks, [t for t, f in zip(tasks, fresh) if not f], [t for t, f in zip(tasks, fresh) if f])


def on_disk(folder: Path) -> set[str]:
    """The points that have a directory under ``folder``: one listing, so that a grid's
    new points (10,000 of them, say) cost no file lookups each."""
    points = folder / results.POINTS
    return {p.name for p in points.iterdir()} if points.is_dir() else set()


def is_fresh(script: Script, task: engines.Task, folder: Path) -> bool:
    """Whether the point's last good run has the inputs that change numbers it would have
    now (its write-up may differ), and no later failure."""
    point = folder / results.POINTS / task.point
    good = results.read_run(point)
    if not good or results.read_failure(point) is not None:
        return False  # decided without hashing the inputs
    now = staleness.input_hash(script, {**script.defaults(), **task.overrides})
    return staleness.numbers_stand(good, now, script=script.text)


NO_RESULTS = "NoResults"  # the exception name of a point that handed back no files


def publish_point(
    files: engines.Files, folder: Path, commit: str | None, dirty: bool | None, reason: str = ""
) -> dict | None:
    """Put a point's files in place: a good run replaces ``folder`` in one step, its
    history carried over; a failure only adds failure.json. The failure record, if any;
    for a point with no files at all, one naming ``reason`` (its log's last error), with
    nothing written: the point stays as it was.

    The run record gets the driver's git state: a Ray worker's copy has no git.
    """
    if results.RUN not in files and results.FAILURE not in files:
        # killed, refused its lock, or its kernel would not start: nothing to publish
        return {
            "cell": None,
            "line": None,
            "source": "",
            "exception": NO_RESULTS,
            "message": reason or "the point ended without results",
            "notebook": None,
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


class Book:
    """The sweep's record as the points land: each point's entry and its metrics' units
    kept in memory, so that writing ``sweep.json`` after each point reads only that
    point's files. The engines call ``landed`` from several threads: one lock."""

    def __init__(
        self,
        script: Script,
        grid: grids.Grid,
        sweep_id: str,
        tasks: list[engines.Task],
        engine: str,
        commit: str | None,
        dirty: bool | None,
        folder: Path,
        previous: dict | None,
    ):
        self.script, self.grid, self.sweep_id, self.engine = script, grid, sweep_id, engine
        self.commit, self.dirty, self.folder, self.previous = commit, dirty, folder, previous
        self.tasks = {task.point: task for task in tasks}
        self.entries: dict[str, dict] = {}
        self.units: dict[str, dict[str, str | None]] = {}
        present = on_disk(folder)
        for task in tasks:
            self._read(task, task.point in present)
        self.figures = (previous or {}).get("figures", [])  # the page's, until it is rebuilt
        self.changed = False  # whether a point landed: only then is there anything to write
        self.written: dict | None = None  # sweep.json as last written
        self.lock = threading.Lock()

    def _read(self, task: engines.Task, present: bool = True) -> None:
        """The point's entry in sweep.json and its metrics' units, from its directory
        (``present``: whether it has one)."""
        point = self.folder / results.POINTS / task.point
        good, failure = (results.read_run(point), results.read_failure(point)) if present else (None, None)
        status = "failed" if failure else "ok" if good else "missing"
        latest = failure or good or {}
        self.entries[task.point] = results.make_record(
            results.SWEEP_POINT_FIELDS,
            {
                "id": task.point,
                "params": task.overrides,
                "status": status,
                "run_id": (good or {}).get("run_id"),
                "input_hash": latest.get("input_hash"),
                "metrics": {k: m["value"] for k, m in (good or {}).get("metrics", {}).items()}
                if status == "ok"
                else {},
            },
        )
        ok = status == "ok"
        self.units[task.point] = {k: m.get("unit") for k, m in good["metrics"].items()} if ok else {}

    def landed(self, task: engines.Task) -> None:
        """A point's files are in place: its entry read again, sweep.json rewritten. The
        page too when the sweep has none yet: the experiment's page links every sweep
        with a sweep.json, and a first sweep killed outright must not leave that link
        broken (the page is rebuilt in full at the end)."""
        with self.lock:
            self._read(task)
            self.changed = True
            self.write(page=not (self.folder / results.PAGE).exists())

    def finish(self, nothing_due: bool) -> None:
        """The page, its figures and sweep.json, when a point landed, or when every point
        was fresh but the record is out of date (``_outdated``). A sweep that ran nothing
        writes nothing."""
        with self.lock:
            if self.changed or (nothing_due and self._outdated(self.previous)):
                self.write(page=True)

    def _outdated(self, old: dict | None) -> bool:
        """Whether the record ``old`` is missing, lists other points than the grid's now,
        or holds aggregates or a page the lab would now make otherwise (a fix to how an
        interval is made or a count is shown, say)."""
        from lab.runner import sweep_page  # plotly: only when there is a record to compare

        if old is None or old["grid"] != self.grid or old["points"] != list(self.entries.values()):
            return True
        if _differ(old["aggregates"], self.record()["aggregates"]):
            return True
        captions = {figure["id"]: figure["caption"] for figure in old.get("figures") or []}
        try:
            shown = (self.folder / results.PAGE).read_text(encoding="utf-8")
        except OSError:
            return True
        return shown != sweep_page.page(old, self.script, captions)

    def record(self) -> dict:
        """``SWEEP_FIELDS`` from the entries as they stand."""
        from lab.runner import aggregate  # numpy: only once there is something to aggregate

        entries = list(self.entries.values())
        units: dict[str, str | None] = {}
        for point_units in self.units.values():
            for name, unit in point_units.items():
                units.setdefault(name, unit)
        return results.make_record(
            results.SWEEP_FIELDS,
            {
                "name": self.script.name,
                "sweep": self.sweep_id,
                "grid": self.grid,
                "engine": self.engine,
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": self.commit,
                "dirty": self.dirty,
                "inputs_commit": None,  # judged afterwards, at a commit, by make check-inputs
                "points": entries,
                "aggregates": aggregate.aggregates(entries, list(self.grid), units),
                "figures": self.figures,
            },
        )

    def write(self, page: bool) -> dict:
        """Write sweep.json; with ``page``, the page and its figures first (they take a
        second and read every point's figures: once, at the end of the sweep)."""
        from lab.runner import sweep_page  # plotly: only once points exist

        record = self.record()
        if page:
            self.figures = record["figures"] = sweep_page.write(record, self.script, self.folder)
        results.atomic_write_json(self.folder / results.SWEEP, record)
        self.written = record
        return record


def _differ(old: list[dict], new: list[dict]) -> bool:
    """Whether two lists of aggregates differ, as sweep.json would hold them (NaN equal to NaN)."""
    return json.dumps(old, sort_keys=True) != json.dumps(new, sort_keys=True)


def _grid_text(grid: grids.Grid) -> str:
    return " ".join(f"{k}={','.join(map(str, v))}" for k, v in grid.items())
