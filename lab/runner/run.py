"""One run of an experiment, as named steps: check, lock, execute, record, publish.

1. check the parameter values (the header's ``checks``), before any lock or kernel;
2. take the experiment's lock (``build/locks/NAME.lock``);
3. execute the script in a fresh kernel (``execute``), the kernel writing what it
   records into a scratch output directory;
4. build the run record from what the run recorded, or, when a cell raised, the
   failure record from ``execute.CellFailed``;
5. publish: swap the assembled results in (``publish``), or add ``failure.json``;
   the run record says where the seconds went (``timings``).

An interrupted or killed run changes nothing in the results: the kernel exits with
its parent, and the lock is an flock, which the OS drops with its holder. Progress
goes to the ``say`` callback; only the commands print.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab import LabError, results
from lab.runner import execute, params, progress, provenance, publish, staleness, timings
from lab.runner.scripts import Script

Say = Callable[[str], None]


class RunFailed(Exception):
    """The experiment raised (or its kernel died); carries the failure record as written."""

    def __init__(self, failure: dict, traceback: str):
        super().__init__(failure["message"])
        self.failure = failure
        self.traceback = traceback


def run(
    script: Script,
    overrides: dict[str, Any],
    root: Path,
    say: Say,
    target: Path | None = None,
    env: dict[str, str] | None = None,
    slot: str | None = None,
) -> dict:
    """Run ``script`` with ``overrides`` and publish into ``target`` (by default its
    ``site/experiments/NAME``); the run record, or RunFailed.

    ``env`` is added to the kernel's environment (``reproduce`` points the model
    cache elsewhere with it). ``slot`` names a run beside others of the same
    experiment (a sweep point, ``sweeps/SWEEP/POINT``): it gets its own lock, work
    directory and kept failed notebook, ``NAME/SLOT``, instead of the experiment's.
    """
    root = Path(root).resolve()
    target = target or results.result_dir(script.name, root)
    values = {**script.defaults(), **overrides}
    params.check_params(script, values)
    place = f"{script.name}/{slot}" if slot else script.name
    with experiment_lock(place, root):
        # ``runs/NAME/work``, not ``runs/NAME``: a slot's work directory lies under
        # ``runs/NAME/`` too, and emptying the experiment's own must not touch a
        # sweep's running points (each directory is guarded by its own lock only)
        work = publish.fresh_dir(root / publish.BUILD / "runs" / place / "work")
        try:
            return _run(script, overrides, values, work, root, target, say, env or {}, place)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def rerender(script: Script, overrides: dict[str, Any], root: Path) -> bool:
    """Re-render the published page of ``script`` with its write-up as it is now, running
    nothing: for a run whose inputs that change numbers are unchanged
    (``staleness.numbers_stand``). False if the markdown cells no longer pair off with
    the published notebook's, and a run is needed."""
    root = Path(root).resolve()
    input_hash = staleness.input_hash(script, {**script.defaults(), **overrides})
    with experiment_lock(script.name, root):
        return publish.rerender(
            script, execute.markdown_sources(script), input_hash, results.result_dir(script.name, root)
        )


def _run(
    script: Script,
    overrides: dict[str, Any],
    values: dict[str, Any],
    work: Path,
    root: Path,
    target: Path,
    say: Say,
    env: dict[str, str],
    place: str,
) -> dict:
    clock = time.monotonic()  # the run's own start: its timings' total counts from here
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    commit, dirty = provenance.git_state(root)
    input_hash = staleness.input_hash(script, values)
    out = work / "out"
    out.mkdir()
    given = " ".join(f"{k}={v!r}" for k, v in overrides.items())
    say(f"[{place}] run {run_id}: {script.path} {given}".rstrip())

    first_cell: list[float] = []  # when the first cell started: the kernel had started by then
    # the kernel's trainings, step by step with an ETA: the terminal's, never the notebook's
    watch = progress.Watch(place, say, lambda: results.read_progress(out))

    def on_cell(number: int, total: int, line: int | None) -> None:
        first_cell[:] = first_cell or [time.monotonic()]
        watch.poll()  # the last cell's training, ended, says so before the next cell's line
        where = f"{script.path}:{line}" if line else "parameters from the command line"
        say(f"[{place}] cell {number}/{total}  {where}")

    t0 = time.monotonic()
    try:
        with watch:
            executed = _execute(script, overrides, work, out, root, env, on_cell, say, place)
    except execute.CellFailed as failed:
        failure = results.make_record(
            results.FAILURE_FIELDS,
            {
                "run_id": run_id,
                "when": started.isoformat(timespec="seconds"),
                "cell": failed.cell,
                "line": failed.line,
                "source": failed.source,
                "exception": failed.exception,
                "message": failed.message,
                "notebook": str(publish.keep_failed_notebook(failed.notebook, place, root)),
                "input_hash": input_hash,
                "code": results.read_executed(out),
            },
        )
        publish.publish_failure(failure, target)
        raise RunFailed(failure, failed.traceback) from None
    run = results.make_record(
        results.RUN_FIELDS,
        {
            "name": script.name,
            "status": "ok",
            "run_id": run_id,
            "started": started.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - t0, 3),
            "commit": commit,
            "dirty": dirty,
            "inputs_commit": None,  # judged afterwards, at a commit, by make check-inputs
            "params": values,
            "seed": values.get("seed"),
            "versions": provenance.versions(),
            "machine": provenance.machine(),
            "environment": results.read_environment(out),
            "cells": executed.cells,
            "metrics": results.read_metrics(out),
            "figures": publish.figures(executed.notebook, out),
            "input_hash": input_hash,
            "code": results.read_executed(out),
            "timings": None,  # once the page is written, below
            "models": results.read_models(out) or {},
        },
    )
    page_started = time.monotonic()
    staging = publish.assemble(script, run_id, executed.notebook, out, target, root)
    page_s = time.monotonic() - page_started
    kernel_start_s = (first_cell[0] if first_cell else page_started) - t0
    run["timings"] = timings.timings(
        kernel_start_s, executed.cells, results.read_phases(out), page_s, time.monotonic() - clock
    )
    publish.swap_in(run, staging, target)
    return run


def _execute(
    script: Script,
    overrides: dict[str, Any],
    work: Path,
    out: Path,
    root: Path,
    env: dict[str, str],
    on_cell: execute.OnCell,
    say: Say,
    place: str,
) -> execute.Executed:
    """``execute.execute``, tried once more if the kernel fails to start (kernels started
    side by side can race for the same ports)."""
    try:
        return execute.execute(script, overrides, work, out, root, env, on_cell)
    except execute.KernelStartFailed as err:
        say(f"[{place}] {err}; trying once more")
        shutil.rmtree(out)
        out.mkdir()
    try:
        return execute.execute(script, overrides, work, out, root, env, on_cell)
    except execute.KernelStartFailed as err:
        raise LabError(f"{place}: {err} (twice)", code=1) from None


@contextmanager
def experiment_lock(name: str, root: Path) -> Iterator[None]:
    """Hold ``build/locks/NAME.lock`` or refuse: one run of an experiment at a time.

    flock, not a pid file: the OS releases it when the holder dies, even by SIGKILL.
    """
    path = root / publish.BUILD / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise LabError(
                f"{name} is already running (pid {holder}, lock {path.relative_to(root)}); "
                "wait for it to finish or stop it",
                code=1,
            ) from None
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield
