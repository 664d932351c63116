"""Whether a run made from uncommitted changes was made from a commit's inputs all the
same: ``make check-inputs NAME=... [SWEEP=...]``.

A run made from a dirty working tree names a commit that may not remake it: the
uncommitted edits could have been to the code it ran. Often they were not (the
write-up was being edited while a sweep ran, say), and then the commit does remake it.
This finds out which, with no run: in a temporary worktree at the run's commit, that
commit's own code computes the run's inputs (the ``input_hash`` of the script with the
recorded parameters and, where the run recorded them, the fingerprints of the lab code
it executed) and judges them as ``status`` would: everything but the write-up counts.

A run started before its code was committed has the inputs of a later commit: after
its own, the next ``LOOKAHEAD`` commits on the first-parent line to HEAD are tried in
turn. The first whose inputs are the run's is written into the run record as
``inputs_commit``; ``dirty`` stays true, since the tree was dirty. The pages then name
that commit as the one that remakes the run.

A sweep record written from uncommitted changes is judged the same way on what it adds
to its points: a commit's aggregation must give its aggregates from its points. An
archived result's mark is marked checked once everything under it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from lab import LabError, results
from lab.runner import archive

LOOKAHEAD = 5  # later commits tried when the run's own does not hold its inputs

# Run in the worktree, by its own lab: that commit's way of hashing inputs and judging
# them. Prints true when the recorded run's numbers stand there.
JUDGE = """
import json, sys
from pathlib import Path
from lab.runner import scripts, staleness
run = json.load(sys.stdin)
script = scripts.read_script(sys.argv[1], Path.cwd())
now = staleness.input_hash(script, {**script.defaults(), **run["params"]})
if hasattr(staleness, "stale_reasons"):  # lab code judged function by function
    print(json.dumps(not staleness.stale_reasons(run, now, script=script.text)))
else:  # older: the lab modules' bytes are part of the input hash
    print(json.dumps(staleness.numbers_stand(run["input_hash"], now)))
"""

# Likewise for a sweep record: does that commit's aggregation give its aggregates from its points?
JUDGE_SWEEP = """
import json, sys
from lab.runner import aggregate
record = json.load(sys.stdin)
units = {a["metric"]: a["unit"] for a in record["aggregates"]}
made = aggregate.aggregates(record["points"], list(record["grid"]), units)
print(json.dumps(json.loads(json.dumps(made)) == record["aggregates"]))
"""


def dirty_runs(name: str, sweep: str | None, root: Path) -> dict[Path, dict]:
    """The run records made from uncommitted changes and not yet checked, by folder: the
    experiment's own run, or every point of its sweep ``sweep``."""
    if sweep:
        points = results.sweep_dir(name, sweep, root) / results.POINTS
        folders = sorted(points.iterdir()) if points.is_dir() else []
    else:
        folders = [results.result_dir(name, root)]
    runs = {folder: results.read_run(folder) for folder in folders}
    return {folder: run for folder, run in runs.items() if run and run["dirty"] and not run.get("inputs_commit")}


def candidates(commit: str, root: Path, lookahead: int = LOOKAHEAD) -> list[str]:
    """``commit``, then up to ``lookahead`` commits after it on the first-parent line to HEAD."""
    done = subprocess.run(
        ["git", "rev-list", "--reverse", "--first-parent", "--ancestry-path", f"{commit}..HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    later = done.stdout.split() if done.returncode == 0 else []  # not an ancestor of HEAD: its own only
    return [commit, *later[:lookahead]]


def judge(place: Path, judge: str, record: dict, *args: str) -> bool:
    """Whether the commit checked out at ``place`` gives ``record``: ``judge`` (``JUDGE``,
    ``JUDGE_SWEEP``) run by that commit's own lab, the record on its standard input."""
    done = subprocess.run(
        [sys.executable, "-c", judge, *args],
        cwd=place,
        env={**os.environ, "PYTHONPATH": str(place)},  # the worktree's lab, not this one
        input=json.dumps(record),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise LabError(f"cannot judge a record at {place.name}: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(name: str, runs: dict[Path, dict], root: Path, say: Callable[[str], None] = print) -> dict[Path, str | None]:
    """For each run in ``runs`` (by folder), the commit whose inputs are its own, or None;
    each found one written into its run.json as ``inputs_commit``. One worktree per commit
    tried, shared by the runs that try it."""
    tries = {folder: candidates(run["commit"], root) for folder, run in runs.items()}
    found: dict[Path, str | None] = dict.fromkeys(runs)
    for depth in range(LOOKAHEAD + 1):
        due: dict[str, list[Path]] = {}
        for folder, commits in tries.items():
            if found[folder] is None and depth < len(commits):
                due.setdefault(commits[depth], []).append(folder)
        for commit, folders in due.items():
            with archive.worktree(commit, root) as place:
                for folder in folders:
                    if judge(place, JUDGE, runs[folder], name):
                        found[folder] = commit
                        checked = results.make_record(
                            results.RUN_FIELDS,
                            {**dict.fromkeys(results.RUN_FIELDS), **runs[folder], "inputs_commit": commit},
                        )
                        results.atomic_write_json(folder / results.RUN, checked)
    for folder, commit in found.items():
        made = runs[folder]["commit"][:7]
        if commit is None:
            say(
                f"{folder.name}: made at {made} from uncommitted code: no commit of {len(tries[folder])} tried has its inputs"
            )
        else:
            later = "" if commit == runs[folder]["commit"] else f", a later commit than {made}"
            say(f"{folder.name}: its inputs are commit {commit[:7]}'s{later}; the uncommitted edits were elsewhere")
    return found


def check_sweep(name: str, sweep: str, record: dict, root: Path, say: Callable[[str], None] = print) -> str | None:
    """The commit whose code gives the aggregates of sweep ``sweep`` (its ``record``,
    written from uncommitted changes) from its points: its own first, then later ones;
    written into sweep.json as ``inputs_commit``. None if none does."""
    for commit in candidates(record["commit"], root):
        with archive.worktree(commit, root) as place:
            if judge(place, JUDGE_SWEEP, record):
                checked = {**dict.fromkeys(results.SWEEP_FIELDS), **record, "inputs_commit": commit}
                results.atomic_write_json(
                    results.sweep_dir(name, sweep, root) / results.SWEEP,
                    results.make_record(results.SWEEP_FIELDS, checked),
                )
                say(f"{sweep}: its aggregates are what commit {commit[:7]}'s code gives from its points")
                return commit
    say(f"{sweep}: made at {record['commit'][:7]}: no commit tried gives its aggregates from its points")
    return None


def check_inputs_command(name: str, sweep: str | None, root: Path = Path(".")) -> int:
    """``make check-inputs``: 0 when every record made from uncommitted changes (the
    experiment's run; or a sweep's points and the sweep record itself) has its inputs
    in a commit. An archived result's mark then says so too."""
    runs = dirty_runs(name, sweep, root)
    label = f"{name}@{sweep}" if sweep else name
    record = results.load_sweep(name, sweep, root) if sweep else None
    sweep_due = bool(record and record["dirty"] and not record.get("inputs_commit"))
    folder = results.sweep_dir(name, sweep, root) if sweep else results.result_dir(name, root)
    mark = archive.load(folder)
    mark_due = bool(mark and mark.get("dirty") and not mark.get("inputs_commit"))
    if not runs and not sweep_due and not mark_due:
        print(f"{label}: no record made from uncommitted changes is left to check")
        return 0
    print(f"{label}: checking {len(runs) + sweep_due} record(s) made from uncommitted changes, each at its commit")
    found = list(check(name, runs, root).values())
    if sweep_due:
        found.append(check_sweep(name, sweep, record, root))
    if mark_due and all(found):
        made = results.load_sweep(name, sweep, root) if sweep else results.load_run(name, root)
        checked = {**dict.fromkeys(results.ARCHIVE_FIELDS), **mark, "inputs_commit": made["inputs_commit"]}
        results.atomic_write_json(folder / results.ARCHIVED, results.make_record(results.ARCHIVE_FIELDS, checked))
        print(f"{label}: its archive mark says its inputs are checked to be a commit's")
    return 0 if all(found) else 1
