"""``make costs``: where the time goes, from the recorded runs.

One row per experiment and per sweep that is not archived: the seconds its last run
(a sweep: its points' last runs, added up) spent in each phase of ``run.json``'s
``timings`` (kernel start, training, evaluation, analysis, page writing, the rest),
its recorded total, and what running it again would take by ``make refresh``'s own
estimate (``refresh.experiment_seconds``, ``refresh.sweep_seconds``: with the training
of the models the cache lacks). Runs recorded before runs had timings show their
total alone, their phases as "—".

Under the table: what a full refresh of everything not archived would take on this
machine, and what ``make refresh`` would run now. It reads records only: no kernel,
no torch.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lab import LabError, results
from lab.runner import archive, progress, refresh, scripts

# The phase columns: (heading, field of run.json's timings)
PHASES = (
    ("kernel", "kernel_start_s"),
    ("training", "training_s"),
    ("evaluation", "evaluation_s"),
    ("analysis", "analysis_s"),
    ("page", "page_s"),
    ("other", "other_s"),
)
NONE = "—"  # no timings recorded (a run made before they were)


@dataclass
class Row:
    label: str  # NAME or NAME@SWEEP
    runs: int  # the runs it adds up: 1, or a sweep's points that ran
    timed: int  # of those, how many recorded their timings
    phases: dict[str, float] = field(default_factory=dict)  # summed over the timed runs
    total: float = 0.0  # recorded seconds of all its runs (timings' total, else duration_s)
    refresh: float | None = None  # make refresh's estimate for running all of it again
    unnamed: int = 0  # runs in that estimate whose records name no models (``refresh.names_no_models``)


def rows(root: Path) -> tuple[list[Row], list[str]]:
    """A row per experiment and per sweep not archived, in name order; and the labels
    of the archived ones, left out."""
    found, archived = [], []
    to_train: set[str] = set()  # models the cache lacks, counted once, in the first row that uses them
    for name in scripts.experiment_names(root):
        folder = results.result_dir(name, root)
        if archive.load(folder):
            archived.append(name)
        else:
            run = results.load_run(name, root)
            row = _row(name, [run] if run else [])
            row.refresh, row.unnamed = refresh.experiment_seconds(run, to_train), refresh.names_no_models(run)
            found.append(row)
        for sweep in results.sweep_names(name, root):
            label = f"{name}@{sweep}"
            if archive.load(results.sweep_dir(name, sweep, root)):
                archived.append(label)
                continue
            row = _row(label, _point_runs(name, sweep, root))
            estimate = refresh.sweep_seconds(name, sweep, root, every=True, to_train=to_train)
            row.refresh, row.unnamed = estimate.seconds, estimate.unnamed
            found.append(row)
        for sweep in refresh.declared(name, root):  # declared, never run: a refresh runs it too
            if sweep not in results.sweep_names(name, root):
                row = _row(f"{name}@{sweep}", [])
                row.refresh = refresh.sweep_seconds(name, sweep, root, to_train=to_train).seconds
                found.append(row)
    return found, archived


def _point_runs(name: str, sweep: str, root: Path) -> list[dict]:
    record = results.load_sweep(name, sweep, root) or {"points": []}
    folder = results.sweep_dir(name, sweep, root) / results.POINTS
    return [run for point in record["points"] if (run := results.read_run(folder / point["id"]))]


def _row(label: str, runs: list[dict]) -> Row:
    timed = [run["timings"] for run in runs if run.get("timings")]
    phases = {key: sum(t[key] for t in timed) for _, key in PHASES} if timed else {}
    total = sum((run["timings"] or {}).get("total_s") or run.get("duration_s") or 0.0 for run in runs)
    return Row(label, len(runs), len(timed), phases, total)


def table(found: list[Row]) -> str:
    """The rows as a plain-text table (rich's, without colour or frame), with a sum row."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_footer=True)
    everything = _sum(found)
    grid.add_column("experiment / sweep", footer="all not archived", no_wrap=True)
    grid.add_column("runs", footer=str(everything.runs), justify="right", no_wrap=True)
    for heading, key in PHASES:
        grid.add_column(heading, footer=_phase(everything, key), justify="right", no_wrap=True)
    grid.add_column("total", footer=_seconds(everything.total), justify="right", no_wrap=True)
    grid.add_column("refresh", footer=_refresh(everything.refresh), justify="right", no_wrap=True)
    for row in found:
        runs = f"{row.timed}/{row.runs}" if 0 < row.timed < row.runs else str(row.runs)
        phases = [_phase(row, key) for _, key in PHASES]
        grid.add_row(row.label, runs, *phases, _seconds(row.total), _refresh(row.refresh))
    # wide enough never to wrap a row; no colour: the table goes to logs and pipes too
    text = io.StringIO()
    Console(width=1000, color_system=None, highlight=False, file=text).print(grid)
    return "\n".join(line.rstrip() for line in text.getvalue().splitlines()).strip("\n")


def _sum(found: list[Row]) -> Row:
    timed = [row for row in found if row.timed]
    estimates = [row.refresh for row in found if row.refresh is not None]
    return Row(
        "all",
        sum(row.runs for row in found),
        sum(row.timed for row in found),
        {key: sum(row.phases[key] for row in timed) for _, key in PHASES} if timed else {},
        sum(row.total for row in found),
        sum(estimates) if estimates else None,
    )


def _phase(row: Row, key: str) -> str:
    return _seconds(row.phases[key]) if row.phases else NONE


def _seconds(value: float) -> str:
    return f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def _refresh(value: float | None) -> str:
    return "never timed" if value is None else _seconds(value)


def costs_command(root: Path = Path(".")) -> int:
    """Print the costs table, what a full refresh would take and what ``make refresh``
    would run now; 0, or 2 when a record is malformed (named in one line)."""
    found, archived = rows(root)
    if not found:
        print("no results yet: make experiment NAME=...")
        return 0
    print("seconds per phase of each result's last runs (a sweep: its points' added up), recorded on this machine")
    print(table(found))
    untimed = [row.label for row in found if row.runs and row.timed < row.runs]
    if untimed:
        which = "all of them" if len(untimed) == len(found) else ", ".join(untimed)
        print(
            f"{NONE}: recorded before runs recorded their phases, only the total is known ({which}); "
            "a sweep partly re-run adds up the phases of its timed points (k/n under runs)"
        )
    print("refresh: make refresh's estimate for running it all again (each run's recorded duration_s)")
    everything = _sum(found)
    never = [row.label for row in found if row.refresh is None]
    print(
        f"a full refresh of everything not archived ({len(found)} experiments and sweeps, {everything.runs} runs): "
        + (f"about {progress.clock(everything.refresh)}" if everything.refresh is not None else "not estimated")
        + " on this machine, from recorded durations, one run at a time"
        + (f" (and {len(never)} never timed: {', '.join(never)})" if never else "")
    )
    unnamed = sum(row.unnamed for row in found)
    if unnamed:
        print(refresh.unnamed_note(unnamed))
    try:
        due = refresh.plan(root)
    except LabError as err:  # a broken script: the table stands, the plan says why not
        print(f"due now: not planned ({err})", file=sys.stderr)
    else:
        print(
            f"due now (make refresh): {len(due)}, about {progress.clock(refresh.total(due))}"
            + (f" (and {len(refresh.unknown(due))} never timed)" if refresh.unknown(due) else "")
        )
    if archived:
        print(f"archived, left out: {', '.join(archived)}")
    return 0
