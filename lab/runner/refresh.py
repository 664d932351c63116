"""Everything stale, brought up to date: ``make refresh``, as named steps.

1. plan: ``status``'s judgement of every experiment and sweep; what is stale, partial,
   failed-and-changed or never run is due, archived results never are. Experiments
   come first, those that share a model preset side by side (the first trains it,
   the others load it from the cache), then the sweeps the headers declare, those
   never run too: a declared sweep is part of the wiki, whose pages show its values
   as pending until it runs (an ad-hoc sweep is its author's to re-run);
2. estimate: each item's seconds from its recorded durations (the last good run of
   an experiment; for a sweep, each due point's last run, or the median of its
   points where a point never ran, or of the experiment's other sweeps' points, or
   its own last run, where none of them did), summed into the plan's total. A run
   that names the models it used is counted without the training it did, and with
   the training of each model that the cache now lacks (once, in the first item
   that uses it): on a fresh clone, every model is trained again. A run recorded
   before runs named their models is counted as it ran, and the plan says how many
   such runs it holds: where their models are no longer cached, the estimate lacks
   their training;
3. run each item, the experiments as ``make experiments NAME=...`` does and the
   sweeps as ``make sweep``, with a progress bar over the estimated seconds (tqdm:
   the ETA is the estimate corrected by the pace so far).

Each experiment and each sweep point publishes on its own, atomically, so a refresh
stopped anywhere resumes where it stopped: the next ``make refresh`` plans only what
is still due. Progress goes to the terminal, never to the pages.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from lab import LabError, results
from lab.runner import grid as grids
from lab.runner import progress, scripts, staleness

Say = Callable[[str], None]


@dataclass
class Item:
    name: str  # the experiment
    sweep: str | None  # the sweep, or None for the experiment's own run
    why: str  # status's words
    seconds: float | None  # the estimate; None when nothing was ever recorded
    points: int = 0  # for a sweep: how many points are due
    unnamed: int = 0  # due runs whose records name no models: counted as they ran (``experiment_seconds``)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.sweep}" if self.sweep else self.name


def plan(root: Path) -> list[Item]:
    """What ``make refresh`` would run, in order, with its estimates."""
    experiments, sweeps = [], []
    for name in scripts.experiment_names(root):
        state = staleness.experiment_state(name, root)
        if state.due:
            run = results.load_run(name, root)
            experiments.append(
                (_preset(run), run, state.rerender, Item(name, None, f"{state.status}: {state.detail}", None))
            )
        for sweep in declared(name, root):
            if sweep not in results.sweep_names(name, root):
                sweeps.append(Item(name, sweep, "never run: declared in the header", None))
                continue
            state = staleness.sweep_state(name, sweep, root)
            if state.due:
                sweeps.append(Item(name, sweep, f"{state.status}: {state.detail}", None))
    experiments.sort(key=lambda entry: entry[0])  # stable: same preset together, else name order
    to_train: set[str] = set()  # models an item before will train: the next ones load them
    for _, run, rerender, item in experiments:
        item.seconds = 1.0 if rerender else experiment_seconds(run, to_train)
        item.unnamed = int(not rerender and names_no_models(run))
    for item in sweeps:
        item.seconds, item.points, item.unnamed = sweep_seconds(item.name, item.sweep, root, to_train=to_train)
    return [item for *_, item in experiments] + sweeps


def _preset(run: dict | None) -> str:
    params = (run or {}).get("params") or {}
    return str(params.get("preset", ""))


def declared(name: str, root: Path) -> list[str]:
    """The sweeps the header declares: those a refresh can run again by name. An ad-hoc
    sweep (``GRID=``) stays for its author to re-run; ``status`` still lists it."""
    try:
        return grids.declared(scripts.read_script(name, root))
    except LabError:
        return []


def model_cache() -> Path:
    """Where trained models are cached: ``lab.models.cache_dir()``, worked out without
    importing torch (``tests/test_runner_refresh.py`` keeps the two the same)."""
    return Path(os.environ.get("LAB_CACHE") or ".cache") / "models"


def experiment_seconds(run: dict | None, to_train: set[str] | None = None) -> float | None:
    """What running an experiment (or a sweep point) again takes: its last good run's
    ``duration_s``, less the training it did, plus the training of each model it used
    that the cache lacks (found in the run's ``models``; added to ``to_train``, so that
    an item after it, which will load that model, does not count it again). None when
    it never ran. A run recorded before runs named their models counts as it ran."""
    if not run:
        return None
    seconds = run["duration_s"]
    if names_no_models(run):
        return seconds
    seconds -= (run.get("timings") or {}).get("training_s", 0.0)
    to_train = set() if to_train is None else to_train
    for file, training_s in run["models"].items():
        if file not in to_train and not (model_cache() / file).exists():
            to_train.add(file)
            seconds += training_s
    return seconds


def names_no_models(run: dict | None) -> bool:
    """Whether ``run`` was recorded before runs named the models they used."""
    return run is not None and run.get("models") is None


class SweepEstimate(NamedTuple):
    seconds: float | None  # None when nothing was ever timed
    points: int  # the points counted
    unnamed: int  # of those, the ones whose last run names no models


def sweep_seconds(
    name: str, sweep: str, root: Path, every: bool = False, to_train: set[str] | None = None
) -> SweepEstimate:
    """What running the sweep's due points again (``every``: all of them) takes: each
    as ``experiment_seconds`` (with ``to_train``) reckons its last run, or for one that
    never ran the median of the sweep's points, or of the experiment's other sweeps'
    points when none of them ran (``progress.typical_point``)."""
    script = scripts.read_script(name, root)
    folder = results.sweep_dir(name, sweep, root)
    record = results.load_sweep(name, sweep, root) or {"points": []}
    to_train = set() if to_train is None else to_train
    durations: list[float | None] = []
    known: list[float] = []
    unnamed = 0
    for point in record["points"]:
        run = results.read_run(folder / results.POINTS / point["id"])
        if run:
            known.append(run["duration_s"])
        if not every and _stands(script, point, run, folder):
            continue
        durations.append(experiment_seconds(run, to_train))
        unnamed += names_no_models(run)
    if sweep in grids.declared(script):  # points declared since the sweep ran
        recorded = {p["id"] for p in record["points"]}
        new = [i for i in grids.point_ids(grids.named_grid(script, sweep)) if i not in recorded]
        durations += [None] * len(new)
    typical = statistics.median(known) if known else progress.typical_point(name, root)
    filled = [d if d is not None else typical for d in durations]
    seconds = None if any(d is None for d in filled) else float(sum(filled))  # type: ignore[arg-type]
    return SweepEstimate(seconds, len(durations), unnamed)


def _stands(script: scripts.Script, point: dict, run: dict | None, folder: Path) -> bool:
    """Whether a sweep point's last run is good and its numbers still stand."""
    if not run or results.read_failure(folder / results.POINTS / point["id"]) is not None:
        return False
    return staleness.numbers_stand(
        run, staleness.input_hash(script, {**script.defaults(), **point["params"]}), script=script.text
    )


def total(items: list[Item]) -> float:
    """The plan's estimated seconds (items never timed count as nothing: see ``unknown``)."""
    return float(sum(item.seconds or 0.0 for item in items))


def unknown(items: list[Item]) -> list[Item]:
    """The items with no recorded duration to estimate from."""
    return [item for item in items if item.seconds is None]


def describe(items: list[Item]) -> list[str]:
    """The plan in lines: each item with its estimate and why, then the total."""
    lines = [
        f"  {item.label:<32} {'~' + progress.clock(item.seconds) if item.seconds is not None else 'never timed':>14}"
        + (f"  {item.points} points" if item.sweep else "")
        + f"  ({item.why})"
        for item in items
    ]
    missing = unknown(items)
    lines.append(
        f"{len(items)} to refresh, about {progress.clock(total(items))} from recorded durations"
        + (f" (and {len(missing)} never timed)" if missing else "")
    )
    unnamed = sum(item.unnamed for item in items)
    if unnamed:
        lines.append(unnamed_note(unnamed))
    return lines


def unnamed_note(count: int) -> str:
    """What an estimate cannot know of ``count`` runs that name no models (``names_no_models``)."""
    return (
        f"{count} of the runs were recorded before runs named their models: each is counted as it ran,"
        " without training again a model it loaded that the cache may no longer hold"
    )


def run(items: list[Item], experiment: Callable[[str], int], sweep: Callable[[str, str], int], say: Say) -> list[str]:
    """Run ``items`` in order (``experiment(name)``, ``sweep(name, sweep)``, each
    returning an exit code), with ``k/N`` and an ETA after each; the labels that failed."""
    meter = progress.Meter("make refresh", {item.label: item.seconds for item in items}, say)
    failed = []
    try:
        for item in items:
            started = time.monotonic()
            code = sweep(item.name, item.sweep) if item.sweep else experiment(item.name)
            if code:
                failed.append(item.label)
            meter.write(
                f"[refresh] {item.label} {'failed' if code else 'done'}{meter.tick(item.label, time.monotonic() - started)}"
            )
    finally:
        meter.close()
    return failed
