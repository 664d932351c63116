"""Whether the results a page shows are still what the code gives: the runner's own
judgement (``lab.runner.staleness``, the same as ``make status``), gathered once per
build and shown on every page that shows results.

- a badge in the experiments table and on Home: fresh, stale, archived, failed;
- a banner on each experiment and sweep page: stale (and what changed), archived (a
  record of commit X), or made from uncommitted changes;
- the reproduction verdict tied to its run: a verdict of an earlier run than the one
  shown says so;
- a mark on a cited number whose result is stale, archived or failed, with the reason
  in its tooltip, and one warning per build listing those citations. A warning, not a
  build error: a stale page never blocks the wiki;
- "pending" in place of a cited value that no run has recorded yet
  (``lab.wiki.citations`` decides which, from the judgement here: ``Freshness.reruns``),
  a banner counting them on the note, and one warning per build listing them.

Plain functions over plain records; nothing here imports torch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab import LabError, results
from lab.runner import grid, scripts

if TYPE_CHECKING:
    from lab.runner.staleness import State

# Not a logger under mkdocs: its warnings would fail a strict build, and a stale
# citation is news for the reader, not an error in the notes.
log = logging.getLogger("lab.freshness")

# What a state is called on a page, and whether a number from it deserves a mark.
LABELS = {
    "fresh": "fresh",
    "stale": "stale",
    "archived": "archived",
    "failed": "failed",
    "partial": "partial",
    "never run": "never ran",
    "invalid": "invalid record",
    "no script": "no script",
}
MARKED = {"stale", "archived", "failed", "partial", "invalid", "no script"}
MARK = "†"  # after a cited number from a result that is not fresh


@dataclass
class Freshness:
    status: str  # a key of LABELS
    detail: str  # why, in words (what changed, the archive's commit)
    # whether its next run (make experiments, make sweep, make refresh) runs it again, so
    # that it may record what it lacks: due, and not only for its write-up
    reruns: bool = False


def gather(root: Path, names: list[str], sweeps: dict[str, list[str]]) -> dict[str, Freshness]:
    """The freshness of each experiment (by name) and sweep (``NAME@SWEEP``) that has
    results; a record or script that cannot be read is ``invalid``, not an abort."""
    # Imported here: the judgement reads the runner's archive and fingerprints, a tenth
    # of the plugin's import, and a wiki with no results (a vault) judges nothing.
    from lab.runner import staleness

    found: dict[str, Freshness] = {}
    for name in names:
        if not (Path(root) / results.EXPERIMENTS_DIR / f"{name}.py").is_file():
            found[name] = Freshness("no script", f"{results.EXPERIMENTS_DIR}/{name}.py is gone: nothing re-runs it")
            continue
        found[name] = _judge(staleness.experiment_state, name, root)
        for sweep in sweeps.get(name, []):
            found[f"{name}@{sweep}"] = _judge(staleness.sweep_state, name, sweep, root)
    return found


def _judge(state: Callable[..., State], *args: Any) -> Freshness:
    try:
        judged = state(*args)
    except (LabError, ValueError) as err:
        return Freshness("invalid", str(err))
    # A run whose write-up alone changed is re-rendered, not re-run: its numbers stay.
    return Freshness(judged.status, judged.detail, judged.due and not judged.rerender)


def declared_sweeps(root: Path, names: list[str]) -> dict[str, list[str]]:
    """The sweeps each experiment's header declares (``sweeps:``), as ``make refresh``
    and ``make sweep`` read them; a script that cannot be read declares none (``make
    status`` names its error)."""
    found = {}
    for name in names:
        try:
            found[name] = grid.declared(scripts.read_script(name, root))
        except LabError:
            found[name] = []
    return found


def badge(fresh: Freshness | None, run: dict | None = None) -> str:
    """The state in a table cell: ``fresh``, ``**stale**``, ``archived``; a run made from
    uncommitted changes says so."""
    if fresh is None:  # a graph built without the runner's judgement (tests of pages alone)
        return "not judged"
    label = LABELS.get(fresh.status, fresh.status)
    shown = f"**{label}**" if fresh.status in MARKED - {"archived"} else label
    return shown + (" · uncommitted" if run and run.get("dirty") and not run.get("inputs_commit") else "")


def banner(fresh: Freshness | None, run: dict | None, refresh: str) -> str:
    """An admonition for the top of a results page: what is not fresh about it, and the
    command that refreshes it (``refresh``); nothing for a fresh, committed result."""
    blocks = []
    if fresh and fresh.status == "stale":
        blocks.append(_admonition("warning", "Stale: the code has changed since these numbers", fresh.detail, refresh))
    elif fresh and fresh.status == "archived":
        blocks.append(
            _admonition("info", "Archived", fresh.detail, "kept as it is, never re-run; the lab may have changed since")
        )
    elif fresh and fresh.status in ("partial", "invalid"):
        blocks.append(_admonition("warning", LABELS[fresh.status].capitalize(), fresh.detail, refresh))
    if run and run.get("dirty") and run.get("inputs_commit"):
        made, inputs = str(run.get("commit"))[:7], run["inputs_commit"][:7]
        edits = (
            "none of them to what it ran: its code cells, parameters and lab code are that commit's"
            if inputs == made
            else f"which commit {inputs}, a later one, holds: its code cells, parameters and lab code are {inputs}'s"
        )
        blocks.append(
            _admonition(
                "info",
                f"Made with uncommitted edits; its inputs are commit {inputs}'s",
                f"made at commit {made} plus uncommitted edits, {edits} (make check-inputs)",
                f"commit {inputs} remakes it",
            )
        )
    elif run and run.get("dirty"):
        blocks.append(
            _admonition(
                "warning",
                "Made from uncommitted changes",
                f"made at commit {str(run.get('commit'))[:7]} plus edits that were never committed",
                "its commit alone cannot remake it",
            )
        )
    return "\n\n".join(blocks)


def _admonition(kind: str, title: str, detail: str, hint: str) -> str:
    return f'!!! {kind} "{title}"\n\n    {_sentence(_escape(detail))}\n\n    {_sentence(hint)}\n'


def _sentence(text: str) -> str:
    """``text`` as a sentence: a capital first letter and a full stop."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def verdict_for(verdict: dict | None, run: dict | None) -> tuple[dict | None, str]:
    """(the verdict, if it checked the run shown; a note saying which run it checked, if
    it checked another). A verdict outlives the run it checked only in an old record."""
    if verdict is None or run is None:
        return verdict, ""
    if verdict.get("run_id") == run.get("run_id"):
        return verdict, ""
    return None, f"an earlier run ({verdict.get('run_id')}) was reproduced, not this one ({run.get('run_id')})"


def mark(fresh: Freshness | None) -> tuple[str, str]:
    """(the mark after a cited number, its tooltip): empty for a fresh result."""
    if fresh is None or fresh.status not in MARKED:
        return "", ""
    return MARK, f"{LABELS[fresh.status]}: {fresh.detail}"


def warn_stale_citations(citations: list[tuple[str, str, str]]) -> None:
    """One warning listing each (page, citation, state) of a result that is not fresh."""
    if citations:
        lines = "\n".join(f"  {page}: {cited} ({state})" for page, cited, state in sorted(set(citations)))
        log.warning(f"{len(set(citations))} citation(s) of results that are not fresh:\n{lines}")


def pending_banner(pending: list[Any]) -> str:
    """An admonition for the top of a note citing values no run has recorded yet
    (``citations.Pending``): how many, and the commands that record them."""
    if not pending:
        return ""
    count = len({p.written for p in pending})
    commands = ", ".join(f"`{command}`" for command in sorted({p.command for p in pending}))
    return _admonition(
        "info",
        f"{count} value{'s' if count > 1 else ''} pending",
        "cited here but not recorded by any run yet: shown as pending, with the reason on hover",
        f"to record {'them' if count > 1 else 'it'}: {commands}",
    )


def warn_pending(pending: list[Any]) -> None:
    """One warning listing each citation of a value no run has recorded yet."""
    if pending:
        lines = "\n".join(f"  {p}" for p in sorted(set(pending), key=str))
        log.warning(f"{len(set(pending))} citation(s) of values not recorded yet (pending):\n{lines}")


def _escape(text: str) -> str:
    return text.replace("\n", " ").replace("*", "\\*").replace("_", "\\_")
