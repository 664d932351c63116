"""The runner's commands (``python -m lab run|run-stale|status|list|new-experiment``): the
only layer that prints. Each returns its exit code; bad input raises LabError, which
the cli prints as one line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lab import LabError, results
from lab.runner import params, run, scripts, staleness


def say(line: str) -> None:
    """Progress in the terminal, flushed at once (the kernel's output interleaves)."""
    print(line, flush=True)


def run_command(name: str, items: list[str], root: Path = Path(".")) -> int:
    """Run ``name`` with parameter overrides ``items`` (``k=v``); 0 on success, 1 if it failed."""
    script = scripts.read_script(name, root)
    overrides = params.parse_params(items, script)
    if not script.has_result_section():
        print(f"warning: {script.path} has no '## Result' section: "
              "state the finding in sentences, citing its metrics", file=sys.stderr)
    try:
        record = run.run(script, overrides, root, say)
    except run.RunFailed as failed:
        _report_failure(script, failed)
        return 1
    print(f"[{name}] done in {record['duration_s']:.1f} s: {results.result_dir(name)}/")
    return 0


def _report_failure(script: scripts.Script, failed: run.RunFailed) -> None:
    f = failed.failure
    where = f"{script.path}:{f['line']}" if f["line"] else f"cell {f['cell']}"
    print(failed.traceback, file=sys.stderr)
    print(
        f"error: {script.name} failed at {where}\n"
        + (f"    {f['source']}\n" if f["source"] else "")
        + f"{f['exception']}: {f['message']}\n"
        f"the failed notebook is kept in {f['notebook']}; "
        f"the last good results in {results.result_dir(script.name)}/ are untouched",
        file=sys.stderr,
    )


def run_stale_command(root: Path = Path(".")) -> int:
    """Run every experiment that is stale, never ran, or failed and changed since; skip the rest."""
    failed = []
    for name in scripts.experiment_names(root):
        try:
            state = staleness.experiment_state(name, root)
            print(f"{'run' if state.due else 'skip'} {name}: {state.status}"
                  + (f" ({state.detail})" if state.detail else ""), flush=True)
            code = run_command(name, [], root) if state.due else 0
        except LabError as err:
            print(f"error: {err}", file=sys.stderr)
            code = err.code
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def status_command(root: Path = Path(".")) -> int:
    """One line per experiment: fresh, stale (why), failed (where) or never run."""
    for name in scripts.experiment_names(root):
        try:
            state = staleness.experiment_state(name, root)
        except LabError as err:  # one broken script should not hide the others
            state = staleness.State(name, "invalid", str(err), due=False)
        print(f"{state.status:<10} {name:<24} {state.detail}".rstrip())
    return 0


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


def new_experiment_command(name: str, root: Path = Path(".")) -> int:
    """Write ``experiments/NAME.py`` from ``experiments/_template.py``."""
    path = scripts.new_script(name, root)
    print(f"wrote {path}; run it with: make experiment NAME={name}")
    return 0
