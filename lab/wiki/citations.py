"""Metric citations and figure embeds: what ``{{ metric NAME.metric }}``,
``{{ metric NAME@SWEEP.metric }}`` and ``![[NAME#figure-id]]`` resolve to.

A citation resolves to the page of the run or sweep that recorded the value; or it is
broken, a lab error that fails a strict build (an unknown experiment, an undeclared
sweep, a metric or figure a fresh run lacks), with the names it may have meant; or it
is **pending**: a value the lab is about to record and has not yet, which a page shows
as "pending" instead of a number and the build lists in one warning that never fails
it (``freshness.warn_pending``). A citation is pending when it names

- an experiment whose script exists and that has no good run yet;
- a sweep that the experiment's header declares (``sweeps:``) and that never ran;
- a metric or figure that its run (or sweep) lacks while that run is not fresh, so
  that its next run may record it: "not fresh" as ``lab.runner.staleness`` judges it
  for the page's badge (``freshness.Freshness.reruns``). A run whose write-up alone
  changed is not run again, nor is an archived one: what those lack stays an error;
- a metric or figure that a result lacks, cited on the page of another result that
  is itself due to run again (a stale sweep point's page, written with an older
  write-up, citing a metric since renamed): its re-run rewrites the page.

A citation is **gone** when an archived result's page (a record of its commit, never
run again) cites a metric or figure that the cited result no longer records: the
write-up cited a value recorded then. The page shows "no longer recorded" and the build
goes on; the same citation anywhere else is an error.

Plain functions over the graph (``lab.wiki.links.Graph``), whose ``resolve`` calls
``resolve`` here for every reference that is not a plain link.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab import results, suggest
from lab.runner import aggregate
from lab.wiki.notes import experiment_name
from lab.wiki.refs import GONE, PENDING, Ref, Resolved

if TYPE_CHECKING:
    from lab.wiki.links import Graph


@dataclass(frozen=True)
class Pending:
    """A citation, on a page, of a value no run has recorded yet."""

    where: str  # "site/ideas/x.md:12"
    src: str  # the page it is on
    written: str  # the citation as written
    why: str  # why there is no value yet
    command: str  # what records it

    def __str__(self) -> str:
        return f"{self.where}: {self.written} ({self.command})"


def figure_captions(run: dict) -> dict[str, str]:
    return {f["id"]: f.get("caption") or "" for f in run.get("figures", [])}


def sweep_src(name: str, sweep: str) -> str:
    """The page of sweep ``name@sweep`` in the docs dir."""
    return f"{results.RESULTS_DIR.name}/{name}/{results.SWEEPS}/{sweep}/{results.PAGE}"


def resolve(graph: Graph, ref: Ref, from_src: str) -> Resolved | None:
    """What a metric citation or a figure embed resolves to; None when ``ref`` is neither
    (a link, or an embed of a note or file)."""
    swept = resolve_sweep(graph, ref, from_src)
    if swept is not None:
        return swept
    if ref.form == "metric" or is_figure(graph, ref):
        exp, found = experiment(graph, ref.target, from_src, ref.written)
        if not found.src:
            return found
        figure = ref.form != "metric"
        have = figure_captions(graph.runs[exp]) if figure else graph.runs[exp].get("metrics", {})
        if ref.anchor not in have:
            why = f"experiment {exp!r} has no {'figure' if figure else 'metric'} {ref.anchor!r}"
            if pending := (
                _lacking(graph, exp, why, f"make experiments NAME={exp}")
                or _rewritten(graph, from_src, why)
                or _on_archived(graph, from_src, why)
            ):
                return pending
            hint = suggest.did_you_mean(ref.anchor, have)
            return Resolved(None, f"{why}{hint} (it has: {suggest.listing(have)})")
        return found
    return _unrun_embed(graph, ref, from_src)


def experiment_page(graph: Graph, name: str) -> str | None:
    """The one experiment page ``name`` names. Only experiment pages are candidates:
    figures and metrics belong to experiments, so an idea named like the experiment
    realizing it is no rival."""
    pages = [
        src for src in graph.resolver.candidates(name) if (note := graph.notes.get(src)) and note.kind == "experiment"
    ]
    return pages[0] if len(pages) == 1 else None


def experiment(graph: Graph, name: str, from_src: str, written: str) -> tuple[str, Resolved]:
    """(experiment name, its page) for a name that must be a run experiment; pending when
    its script is there and it has no good run yet."""
    page = experiment_page(graph, name)
    if page is None:
        found = graph.page(name, from_src, written=written)
        if found.src:
            return "", Resolved(None, f"{name!r} is not an experiment page ({found.src})")
        script = posixpath.basename(name)
        if script in graph.scripts:  # an experiment that has never published a page
            return "", _not_run(script, "is not run yet")
        hint = suggest.did_you_mean(script, graph.scripts | set(graph.runs))
        return "", Resolved(None, found.message + hint, found.kind)
    exp = experiment_name(page)
    if exp in graph.runs:
        return exp, Resolved(page)
    if exp in graph.scripts:  # a page made by its sweeps or by a failed first run
        return exp, _not_run(exp, "has no successful run yet")
    return exp, Resolved(None, f"experiment {exp!r} has no successful run yet: make experiment NAME={exp}")


def sweep_ids(graph: Graph, exp: str) -> set[str]:
    """The sweeps of experiment ``exp`` that have pages."""
    prefix = f"{results.RESULTS_DIR.name}/{exp}/{results.SWEEPS}/"
    return {src[len(prefix) :].split("/")[0] for src in graph.sweeps if src.startswith(prefix)}


def sweep_page(graph: Graph, ref: Ref, from_src: str) -> str | None:
    """The sweep or sweep point page an embed with an anchor names, if it names one."""
    if ref.form != "embed" or not ref.anchor:
        return None
    found = graph.resolver.candidates(ref.target, from_src)
    return found[0] if len(found) == 1 and found[0] in graph.sweeps else None


def resolve_sweep(graph: Graph, ref: Ref, from_src: str) -> Resolved | None:
    """A citation of a sweep (``{{ metric NAME@SWEEP.metric }}``) or a figure of a
    sweep page; None when ``ref`` is neither."""
    cited = aggregate.split_citation(ref.target) if ref.form == "metric" else None
    if cited:
        name, sweep = cited
        src = sweep_src(name, sweep)
        if src not in graph.sweeps:
            if sweep in graph.declared.get(name, ()):
                return _sweep_not_run(name, sweep)
            return Resolved(None, f"{ref.written}: {_no_sweep(graph, name, sweep)}")
        record = graph.sweeps[src]
        try:
            aggregate.citation(record, ref.anchor)
        except ValueError as err:
            # Only a metric the sweep lacks may come with its next run; several groups to
            # choose from is the citation's own mistake.
            recorded = {row["metric"] for row in record["aggregates"]}
            why = f"sweep {name}@{sweep} has no metric {ref.anchor!r}"
            command = f"make sweep NAME={name} SWEEP={sweep}"
            if ref.anchor not in recorded and (
                pending := _lacking(graph, f"{name}@{sweep}", why, command)
                or _rewritten(graph, from_src, why)
                or _on_archived(graph, from_src, why)
            ):
                return pending
            return Resolved(None, f"{ref.written}: {err}")
        return Resolved(src)
    page = sweep_page(graph, ref, from_src)
    if page is None:
        return None
    have = figure_captions(graph.sweeps[page])
    if ref.anchor not in have:
        parts = page.split("/")  # experiments/NAME/sweeps/SWEEP/…: a point is judged with its sweep
        why = f"{page} has no figure {ref.anchor!r}"
        if pending := _lacking(graph, f"{parts[1]}@{parts[3]}", why, f"make sweep NAME={parts[1]} SWEEP={parts[3]}"):
            return pending
        return Resolved(None, f"{why} (it has: {', '.join(have) or 'none'})")
    return Resolved(page)


def is_figure(graph: Graph, ref: Ref) -> bool:
    """Whether ``ref`` embeds a figure: ``![[experiment#id]]`` where ``id`` is one of
    its figures, or at least not one of its headings (then it is a missing figure)."""
    page = experiment_page(graph, ref.target) if ref.form == "embed" and ref.anchor else None
    if page is None:
        return sweep_page(graph, ref, "") is not None
    run = graph.runs.get(experiment_name(page))
    return bool(run and ref.anchor in figure_captions(run)) or graph.outline(page).anchor(ref.anchor) is None


def _no_sweep(graph: Graph, name: str, sweep: str) -> str:
    """Why ``name@sweep`` names nothing: neither run nor declared, with the names meant."""
    if name not in graph.scripts and name not in graph.runs and not sweep_ids(graph, name):
        hint = suggest.did_you_mean(name, graph.scripts | set(graph.runs))
        return f"no experiment {name!r}{hint}"
    have = sorted(sweep_ids(graph, name))
    declared = [s for s in graph.declared.get(name, ()) if s not in have]
    hint = suggest.did_you_mean(sweep, [*have, *declared])
    also = f"; its header declares: {suggest.listing(declared)}" if declared else ""
    return f"experiment {name!r} has no sweep {sweep!r}{hint} (it has: {suggest.listing(have)}{also})"


def _not_run(name: str, what: str) -> Resolved:
    return Resolved(None, f"{name!r} {what}", kind=PENDING, command=f"make experiment NAME={name}")


def _sweep_not_run(name: str, sweep: str) -> Resolved:
    # make refresh runs it too (lab.runner.refresh), and so does its own command.
    why = f"sweep {name}@{sweep} is declared in {results.EXPERIMENTS_DIR}/{name}.py but has not run yet"
    return Resolved(None, why, kind=PENDING, command=f"make sweep NAME={name} SWEEP={sweep}")


def _lacking(graph: Graph, result: str, why: str, command: str) -> Resolved | None:
    """Pending, when ``result`` (an experiment or ``NAME@SWEEP``) lacks what is cited and
    its next run may record it; None when that run is fresh (or never re-run): then the
    citation is wrong, not early."""
    fresh = graph.freshness.get(result)
    if fresh is None or not fresh.reruns:
        return None
    return Resolved(
        None,
        f"{why} yet; it is {fresh.status} ({fresh.detail}), so its next run may record it",
        kind=PENDING,
        command=command,
    )


def _result_of(from_src: str) -> str | None:
    """The result (``NAME`` or ``NAME@SWEEP``) whose page, or sweep point's page,
    ``from_src`` is; None for any other page."""
    parts = from_src.split("/")
    if parts[0] != results.RESULTS_DIR.name or len(parts) < 3:
        return None
    return f"{parts[1]}@{parts[3]}" if len(parts) > 4 and parts[2] == results.SWEEPS else parts[1]


def _on_archived(graph: Graph, from_src: str, why: str) -> Resolved | None:
    """Gone, when the citing page ``from_src`` belongs to an archived result, which is
    never run again; None for any other page."""
    result = _result_of(from_src)
    fresh = graph.freshness.get(result) if result else None
    if fresh is None or fresh.status != "archived":
        return None
    return Resolved(None, f"{why} now; cited on the page of {result}, archived: a record of its commit", kind=GONE)


def _rewritten(graph: Graph, from_src: str, why: str) -> Resolved | None:
    """Pending, when the citing page ``from_src`` is the page of a result (an experiment,
    a sweep or one of its points) due to run again: the run rewrites the page with the
    write-up as it is now. None for any other page."""
    result = _result_of(from_src)
    fresh = graph.freshness.get(result) if result else None
    if fresh is None or not fresh.reruns:
        return None
    name, _, sweep = result.partition("@")
    command = f"make sweep NAME={name} SWEEP={sweep}" if sweep else f"make experiments NAME={name}"
    return Resolved(
        None,
        f"{why}; cited on the page of {result}, {fresh.status}, whose re-run rewrites it",
        kind=PENDING,
        command=command,
    )


def _unrun_embed(graph: Graph, ref: Ref, from_src: str) -> Resolved | None:
    """Pending, for ``![[NAME#figure]]`` of an experiment never run (its script is there)
    or ``![[experiments/NAME/sweeps/SWEEP#figure]]`` of a declared sweep never run; None
    for any other embed or link, which resolves as a page does."""
    if ref.form != "embed" or not ref.anchor or graph.resolver.candidates(ref.target, from_src):
        return None
    parts = ref.target.strip().strip("/").removesuffix(".md").removesuffix("/index").split("/")
    if parts[0] == results.RESULTS_DIR.name:
        parts = parts[1:]
    if len(parts) == 1 and parts[0] in graph.scripts:
        return _not_run(parts[0], "is not run yet")
    if len(parts) == 3 and parts[1] == results.SWEEPS and parts[2] in graph.declared.get(parts[0], ()):
        return _sweep_not_run(parts[0], parts[2])
    return None
