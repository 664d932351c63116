"""The runner's commands (``python -m lab run|run-stale|status|list|reproduce|sweep|new-experiment``): the
only layer that prints. Each returns its exit code; bad input raises LabError, which
the cli prints as one line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lab import LabError, results
from lab.runner import (
    archive,
    engines,
    grid,
    params,
    progress,
    provenance,
    refresh,
    report,
    reproduce,
    run,
    scripts,
    staleness,
    sweep,
)


def say(line: str) -> None:
    """Progress in the terminal, flushed at once (the kernel's output interleaves).

    One write per line: a sweep's points report from several threads, and ``print``
    writes the text and its newline separately, so two threads' lines could merge."""
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def run_command(name: str, items: list[str], root: Path = Path(".")) -> int:
    """Run ``name`` with parameter overrides ``items`` (``k=v``); 0 on success, 1 if it failed."""
    script = scripts.read_script(name, root)
    overrides = params.parse_params(items, script)
    provenance.require_clean(root)
    return _run(script, overrides, root)


def _run(script: scripts.Script, overrides: dict, root: Path) -> int:
    name = script.name
    if not script.has_result_section():
        print(
            f"warning: {script.path} has no '## Result' section: state the finding in sentences, citing its metrics",
            file=sys.stderr,
        )
    try:
        record = run.run(script, overrides, root, say)
    except run.RunFailed as failed:
        _report_failure(script, failed)
        return 1
    print(f"[{name}] done in {record['duration_s']:.1f} s: {results.result_dir(name)}/")
    return 0


def _report_failure(script: scripts.Script, failed: run.RunFailed) -> None:
    """The summary and the last frames; the whole traceback is in the kept notebook."""
    f = failed.failure
    where = f"{script.path}:{f['line']}" if f["line"] else f"cell {f['cell']}"
    print(
        f"error: {script.name} failed at {report.failure_lines(f, where, failed.traceback)}\n"
        f"the failed notebook, with the whole traceback, is kept in {f['notebook']}; "
        f"the last good results in {results.result_dir(script.name)}/ are untouched",
        file=sys.stderr,
    )


def run_stale_command(root: Path = Path("."), names: list[str] | None = None) -> int:
    """Run every experiment (or each of ``names``) that is stale, never ran, or failed and
    changed since; skip the rest, archived ones included.

    A run made with parameters is re-run with the same parameters, never replaced by a
    run with the defaults. An experiment whose write-up alone changed is re-rendered,
    not run; nothing else starts for it (no model is trained)."""
    for name in names or []:  # every name checked before the first (long) run
        scripts.find_script(name, root)
    provenance.require_clean(root)
    failed = []
    # Judged once up front, so the plan (k/N, ETA from each one's recorded duration) is
    # known before the first long run; a script that does not read is judged in the loop.
    states: dict[str, staleness.State | LabError] = {}
    for name in names or scripts.experiment_names(root):
        try:
            states[name] = staleness.experiment_state(name, root)
        except LabError as err:
            states[name] = err
    due = [n for n, s in states.items() if isinstance(s, staleness.State) and s.due and not s.rerender]
    meter = progress.Meter(
        "make experiments", {n: progress.recorded_duration(results.result_dir(n, root) / results.RUN) for n in due}, say
    )
    if due:
        say(f"{len(due)} to run: {', '.join(due)} ({meter.plan()})")
    for name, state in states.items():
        try:
            if isinstance(state, LabError):
                raise state
            print(
                f"{'run' if state.due else 'skip'} {name}: {state.status}"
                + (f" ({state.detail})" if state.detail else ""),
                flush=True,
            )
            script = scripts.read_script(name, root)
            if state.rerender and run.rerender(script, state.overrides, root):
                print(f"re-rendered {name}: the page has the new write-up", flush=True)
                code = 0
            else:
                code = _run(script, state.overrides, root) if state.due else 0
                if name in due:
                    took = progress.recorded_duration(results.result_dir(name, root) / results.RUN)
                    say(
                        f"[{name}] {'finished' if not code else 'failed'}{meter.tick(name, took if not code else None)}"
                    )
        except LabError as err:
            print(f"error: {err}", file=sys.stderr)
            code = err.code
        if code:
            failed.append(name)
    meter.close()
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def status_command(root: Path = Path(".")) -> int:
    """One line per experiment: fresh, stale (why), failed (where) or never run; under it
    one line per sweep: fresh, stale or partial, and the declared sweeps never run.

    A broken script or a malformed record is an ``invalid`` line naming the file, the
    others still listed; the exit code is then 2."""
    invalid = 0
    for name in scripts.experiment_names(root):
        try:
            state = staleness.experiment_state(name, root)
        except LabError as err:  # one broken script should not hide the others
            state = staleness.State(name, "invalid", str(err), due=False)
        invalid += state.status == "invalid"
        print(f"{state.status:<10} {name:<24} {state.detail}".rstrip())
        recorded = results.sweep_names(name, root)
        for sweep_id in recorded:
            try:
                state = staleness.sweep_state(name, sweep_id, root)
            except LabError as err:
                state = staleness.State(sweep_id, "invalid", str(err), due=False)
            invalid += state.status == "invalid"
            print(f"  {state.status:<9} {'@' + sweep_id:<24} {state.detail}".rstrip())
        for sweep_id in refresh.declared(name, root):
            if sweep_id not in recorded:
                print(f"  never run {'@' + sweep_id:<24} make sweep NAME={name} SWEEP={sweep_id}")
    _edits_no_run_executed(root)
    if invalid:
        print(f"error: {invalid} invalid (above): fix or remove what each names", file=sys.stderr)
    return 2 if invalid else 0


def _edits_no_run_executed(root: Path) -> None:
    """Say which uncommitted edits of lab code no recorded run executed: they stale nothing."""
    edited = staleness.edited_units(root)
    if not edited:
        return
    executed = staleness.executed_anywhere(root)
    unexecuted = [unit for unit in edited if unit not in executed]
    if unexecuted:
        shown = staleness.describe(unexecuted)
        print(f"edited since the last commit, executed by no run (nothing is stale by it): {shown}")


def refresh_command(root: Path = Path("."), dry_run: bool = False) -> int:
    """Plan what is stale (``refresh.plan``), print the plan with its estimate, and run
    it (unless ``dry_run``); 0 when every item ran."""
    items = refresh.plan(root)
    if not items:
        print("nothing to refresh: every result is fresh or archived")
        return 0
    for line in refresh.describe(items):
        say(line)
    if dry_run:
        return 0
    provenance.require_clean(root)
    failed = refresh.run(
        items, lambda name: run_stale_command(root, [name]), lambda name, s: sweep_command(name, [], s, root=root), say
    )
    if failed:
        print(f"failed: {', '.join(failed)} (make refresh again once fixed: it resumes)", file=sys.stderr)
    return 1 if failed else 0


def list_command(root: Path = Path(".")) -> int:
    """The experiments with their titles and parameters; a broken script is named with its
    error, the others still listed, and the exit code is then 2."""
    names = scripts.experiment_names(root)
    if not names:
        print("no experiments yet: make new-experiment NAME=...")
    broken = 0
    for name in names:
        try:
            script = scripts.read_script(name, root)
        except LabError as err:
            print(f"error: {err}", file=sys.stderr)
            broken += 1
            continue
        question = script.header.get("question")
        print(f"{name}: {script.header.get('title', name)}" + (f" ({question})" if question else ""))
        for param in script.params.values():
            print(f"    {param}")
    return 2 if broken else 0


def reproduce_command(
    names: list[str], cached: bool = False, root: Path = Path("."), sweep: str | None = None, point: str | None = None
) -> int:
    """Reproduce the named experiments (by default every one with committed results) and
    print a table each; 0 only when no metric drifted and every run ran. An archived
    result is reproduced at its own commit (``reproduce.at_its_commit``); so are the
    points of an archived sweep (``sweep``: all of them, or ``point``)."""
    if sweep:
        return _reproduce_sweep(names, sweep, point, cached, Path(root))
    names = names or reproduce.committed_names(root)
    for name in names:  # every name checked before the first (long) run
        scripts.find_script(name, root)
        if results.load_run(name, root) is None:
            raise LabError(
                f"{name} has no committed results to reproduce ({results.result_dir(name)}/{results.RUN} is missing)"
            )
    if not names:
        print("nothing to reproduce: no experiment has committed results")
        return 0
    cache = None if cached else reproduce.fresh_cache(root)
    bad = []
    recorded = {n: progress.recorded_duration(results.result_dir(n, root) / results.RUN) for n in names}
    meter = progress.Meter("make reproduce", recorded, say)
    say(f"{len(names)} to reproduce ({meter.plan()}" + (")" if cached else "; retraining the models adds to it)"))
    for name in names:
        try:
            folder = results.result_dir(name, root)
            if mark := archive.load(folder):
                say(f"[{name}] archived: reproducing at its commit, {archive.describe(mark)}")
                verdict = reproduce.at_its_commit(name, folder, Path(root), cached)
            else:
                verdict, comparisons = reproduce.reproduce(name, root, say, cache)
                print(_reproduction_table(name, verdict, comparisons))
        except LabError as err:
            print(f"error: {err}", file=sys.stderr)
            verdict = None
        took = None if verdict is None else verdict.get("duration_s")
        say(f"[{name}] reproduced{meter.tick(name, took)}")
        if verdict is None or verdict["drifted"] or verdict["failure"]:
            bad.append(name)
    meter.close()
    if bad:
        print(f"not reproduced: {', '.join(bad)}", file=sys.stderr)
    return 1 if bad else 0


def _reproduce_sweep(names: list[str], sweep: str, point: str | None, cached: bool, root: Path) -> int:
    """Reproduce the points of an archived sweep at their commit."""
    if len(names) != 1:
        raise LabError("reproduce a sweep with one experiment: make reproduce NAME=... SWEEP=...")
    name = names[0]
    folder = results.sweep_dir(name, sweep, root)
    record = results.load_sweep(name, sweep, root)
    if record is None:
        raise LabError(f"{name}@{sweep} has no results ({folder.relative_to(root)}/{results.SWEEP})")
    if archive.load(folder) is None:
        raise LabError(f"{name}@{sweep} is not archived: re-run it with make sweep to check it at this commit")
    ids = [p["id"] for p in record["points"] if p["status"] == "ok"]
    if point and point not in ids:
        raise LabError(f"{name}@{sweep} has no good point {point!r}; points: {', '.join(ids)}")
    bad = []
    for pid in [point] if point else ids:
        say(f"[{name}@{sweep}/{pid}] archived: reproducing at its commit")
        verdict = reproduce.at_its_commit(name, folder / results.POINTS / pid, root, cached)
        if verdict["drifted"] or verdict["failure"]:
            bad.append(pid)
    if bad:
        print(f"not reproduced: {', '.join(bad)}", file=sys.stderr)
    return 1 if bad else 0


def archive_command(name: str, sweep: str | None, why: str, undo: bool = False, root: Path = Path(".")) -> int:
    """Archive the results of ``name`` (or of its sweep), or with ``undo`` take the mark away."""
    scripts.find_script(name, root)
    label = f"{name}@{sweep}" if sweep else name
    if undo:
        found = archive.unarchive(name, sweep, root)
        print(f"{label}: {'no longer archived' if found else 'was not archived'}")
        return 0
    mark = archive.archive(name, sweep, why, root)
    print(f"{label}: archived, {archive.describe(mark)}")
    return 0


def _reproduction_table(name: str, verdict: dict, comparisons: list[reproduce.Comparison]) -> str:
    tolerance = verdict["tolerance"]
    models = "models from the cache" if verdict["cached"] else "models retrained"
    lines = [
        f"[{name}] reproduction of run {verdict['run_id']} ({verdict['duration_s']:.1f} s, {models}): "
        f"{verdict['identical']} identical, {verdict['within']} within tolerance, {verdict['drifted']} drifted"
        + (f", {len(verdict['timings'])} timings (not compared)" if verdict["timings"] else ""),
        f"    tolerance {tolerance['relative']:g} relative ({tolerance['why']})",
    ]
    if verdict["failure"]:
        lines.append(f"    the run failed: {verdict['failure']}")
    rows = [("metric", "verdict", "committed", "new", "difference")] + [
        (
            c.metric,
            c.verdict,
            _number(c.committed),
            _number(c.new),
            "" if c.difference is None else f"{c.difference:+.3e}",
        )
        for c in comparisons
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines += ["    " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _number(value: float | None) -> str:
    """A metric value in full (repr: the shortest text that reads back the same float)."""
    return "-" if value is None else repr(value)


def sweep_command(
    name: str,
    items: list[str],
    named: str | None = None,
    sweep_id: str | None = None,
    jobs: int = 1,
    engine: str = "pool",
    root: Path = Path("."),
    confirmed: bool = False,
) -> int:
    """Run the grid ``items`` (``k=v1,v2``) or the header's sweep ``named`` of ``name``;
    0 when every point is good, 1 when one failed (the others' results are kept).
    ``confirmed`` lets a grid of more than ``grid.MAX_POINTS`` points run."""
    script = scripts.read_script(name, root)
    if named and items:
        raise LabError(f"give a grid or --sweep {named}, not both (a changed grid is another sweep: give it --name)")
    if engine not in engines.ENGINES:
        raise LabError(f"engine {engine!r}: use one of {', '.join(engines.ENGINES)}")
    if jobs < 1:
        raise LabError(f"--jobs {jobs}: run at least one point at a time")
    the_grid = grid.named_grid(script, named) if named else grid.parse_grid(items, script)
    sweep_id = grid.check_sweep_id(sweep_id or named or grid.grid_id(the_grid))
    provenance.require_clean(root)
    outcome = sweep.sweep(script, the_grid, sweep_id, root, say, engine=engine, jobs=jobs, confirmed=confirmed)
    for failure in outcome.failed:
        if failure["exception"] == sweep.NO_RESULTS:  # no cell ran, or none finished: the log says why
            print(f"error: point {failure['point']} ended without results: {failure['message']}", file=sys.stderr)
            continue
        where = f"{script.path}:{failure['line']}" if failure["line"] else f"cell {failure['cell']}"
        print(
            f"error: point {failure['point']} failed at {report.failure_lines(failure, where, '')}\n"
            f"the failed notebook, with the whole traceback, is kept in {failure['notebook']}",
            file=sys.stderr,
        )
    folder = results.sweep_dir(name, sweep_id)
    states = [p["status"] for p in outcome.record["points"]]
    print(
        f"[{name}@{sweep_id}] {states.count('ok')}/{len(states)} points ok "
        f"({len(outcome.ran)} run, {len(outcome.kept)} fresh kept): "
        + (f"{folder}/" if outcome.written or not outcome.ran else "nothing written (no point landed)")
    )
    return 1 if outcome.failed or states.count("ok") < len(states) else 0


def sweep_point_command(name: str, slot: str, target: Path, params_json: str, root: Path = Path(".")) -> int:
    """One point of a sweep, run by the pool engine in its own process: results into ``target``."""
    files = engines.run_point(name, json.loads(params_json), slot, target.resolve(), root.resolve(), say)
    return 0 if results.RUN in files else 1


def new_experiment_command(name: str, root: Path = Path(".")) -> int:
    """Write ``experiments/NAME.py`` from ``experiments/_template.py``."""
    path = scripts.new_script(name, root)
    print(f"wrote {path}; run it with: make experiment NAME={name}")
    return 0
