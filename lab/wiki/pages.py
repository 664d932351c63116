"""What the wiki writes itself.

- ``SECTIONS``: the generated index pages (Home, Projects, Insights, Ideas, Journal,
  Experiments, and the graph and tags pages of ``graph`` and ``tags``), which are
  also the whole sidebar.
- ``decorate``: what each note gets around its own text, as Markdown: its meta line
  (``metaline``), on a project page the lists of its notes, and on an experiment page
  the failure banner, provenance and metric history.
- ``backlinks`` (from ``lab.wiki.backlinks``): every page's "Linked from" section, as HTML.

Everything here is a pure function of the graph (``links.build_graph``).
"""

from __future__ import annotations

from collections.abc import Callable

from lab import render, stats
from lab.wiki import folders, freshness, metaline
from lab.wiki.backlinks import BACKLINKS_ID, backlinks  # noqa: F401 (the plugin's, found here too)
from lab.wiki.graph import GRAPH_PAGE, graph_page
from lab.wiki.links import Graph
from lab.wiki.notes import PRIORITIES, Note, experiment_name, unread_properties
from lab.wiki.rendering import format_metric, md_escape, md_link
from lab.wiki.tags import TAGS_PAGE, tags_page

HOME = "index.md"


# --------------------------------------------------------------------------- helpers


def _notes(graph: Graph, kind: str, srcs: list[str] | None = None) -> list[Note]:
    chosen = graph.notes.values() if srcs is None else (graph.notes[s] for s in srcs)
    return sorted((n for n in chosen if n.kind == kind), key=lambda n: n.title.casefold())


def _when(record: dict | None, key: str = "started") -> str:
    """An ISO 8601 time of a run or failure record, to the minute."""
    return ((record or {}).get(key) or "")[:16].replace("T", " ")


def _ref_link(from_src: str, value: str, graph: Graph) -> str:
    """A front-matter reference as a link, or as plain text when it is broken."""
    found = graph.page(value, from_src)
    return md_link(from_src, found.src, md_escape(graph.title(found.src))) if found.src else md_escape(value)


def _item(from_src: str, note: Note, graph: Graph, *details: str) -> str:
    if note.meta.get("project"):
        details = (*details, _ref_link(from_src, note.meta["project"], graph))
    extra = " — " + " · ".join(d for d in details if d) if any(details) else ""
    return f"- {md_link(from_src, note.src, md_escape(note.title))}{extra}"


def _list(lines: list[str], empty: str) -> str:
    return "\n".join(lines) if lines else f"*{empty}*"


def _by_priority(note: Note) -> tuple[int, str]:
    return PRIORITIES.index(note.meta["priority"]), note.title.casefold()


def _newest_first(items: list[Note]) -> list[Note]:
    # Notes without a date go last; `date` is ISO text, so it sorts as a date.
    return sorted(items, key=lambda n: n.meta.get("date") or "", reverse=True)


# --------------------------------------------------------------------------- experiments


def _status(graph: Graph, name: str) -> str:
    """Fresh, stale, archived, failed or never ran, as ``make status`` judges it."""
    if name in graph.failures:
        return "**failed**"
    if name not in graph.runs:
        return "never ran"
    return freshness.badge(graph.freshness.get(name), graph.runs[name])


def _reproduced(graph: Graph, name: str) -> str:
    """The reproduction verdict of the run shown, in a table cell; an earlier run's is named as such."""
    verdict, other = freshness.verdict_for(graph.reproductions.get(name), graph.runs.get(name))
    return md_escape(other and "earlier run only" or render.reproduction_cell(verdict))


def _headline(run: dict | None, chosen: object = None, count: int = 3) -> str:
    """The metrics an experiment's header names in ``headline:`` (those it recorded), or
    else its first ``count``: the first recorded are often set-up numbers, not findings."""
    recorded = (run or {}).get("metrics", {})
    names = [n for n in chosen if n in recorded] if isinstance(chosen, list) else []
    metrics = [(n, recorded[n]) for n in names] or list(recorded.items())[:count]
    return ", ".join(f"{md_escape(k)} = {md_escape(format_metric(m))}" for k, m in metrics)


def _runs_table(from_src: str, graph: Graph, experiments: list[Note]) -> str:
    if not experiments:
        return "*No experiments yet: `make experiment NAME=…` runs one.*"
    rows = [
        "| Experiment | Project | Last run | Status | Reproduced | Headline metrics |",
        "|---|---|---|---|---|---|",
    ]
    for note in experiments:
        name = experiment_name(note.src)
        project = _ref_link(from_src, note.meta["project"], graph) if note.meta.get("project") else ""
        run = graph.runs.get(name)
        rows.append(
            f"| {md_link(from_src, note.src, md_escape(name))} | {project} | {_when(run)} "
            f"| {_status(graph, name)} | {_reproduced(graph, name)} "
            f"| {_headline(run, note.meta.get('headline'))} |"
        )
    return "\n".join(rows)


def _latest(graph: Graph, note: Note) -> str:
    name = experiment_name(note.src)
    return max(_when(graph.runs.get(name)), _when(graph.failures.get(name), "when"))


# --------------------------------------------------------------------------- generated pages


def home(graph: Graph) -> str:
    experiments = sorted(_notes(graph, "experiment"), key=lambda n: _latest(graph, n), reverse=True)
    open_ideas = [n for n in _notes(graph, "idea") if n.meta["status"] in ("doing", "next", "open")]
    insights = _newest_first(_notes(graph, "insight"))[:10]
    return (
        "\n\n".join(
            [
                "# Lab notebook",
                "## Latest runs",
                _runs_table(HOME, graph, experiments[:10]),
                "## Open ideas",
                _list(
                    [
                        _item(HOME, n, graph, f"**{n.meta['priority']}**", n.meta["status"])
                        for n in sorted(open_ideas, key=_by_priority)
                    ],
                    "No open ideas.",
                ),
                "## Newest insights",
                _list(
                    [_item(HOME, n, graph, n.meta["status"], n.meta.get("date", "")) for n in insights],
                    "No insights yet.",
                ),
                folders.home_section(graph, HOME),
            ]
        ).rstrip()
        + "\n"
    )


def projects_index(graph: Graph) -> str:
    src = "projects/index.md"
    lines = []
    for project in _notes(graph, "project"):
        members = [graph.notes[s] for s in graph.members[project.src]]
        counts = [f"{sum(m.kind == k for m in members)} {k}s" for k in ("experiment", "insight", "idea")]
        lines.append(_item(src, project, graph, " · ".join(counts)))
    return "# Projects\n\n" + _list(lines, "No projects yet: `make new-note KIND=project TITLE=…`.") + "\n"


def insights_index(graph: Graph) -> str:
    src = "insights/index.md"
    parts = ["# Insights"]
    for status in ("supported", "hypothesis", "refuted"):
        chosen = [n for n in _notes(graph, "insight") if n.meta["status"] == status]
        parts += [f"## {status.capitalize()}", _list([_item(src, n, graph) for n in chosen], "None.")]
    return "\n\n".join(parts) + "\n"


def ideas_board(graph: Graph) -> str:
    src = "ideas/index.md"
    parts = ["# Ideas"]
    for status in ("doing", "next", "open", "done", "dropped"):
        chosen = sorted((n for n in _notes(graph, "idea") if n.meta["status"] == status), key=_by_priority)
        parts += [f"## {status.capitalize()}", _list([_idea_item(src, n, graph) for n in chosen], "None.")]
    return "\n\n".join(parts) + "\n"


def _idea_item(src: str, idea: Note, graph: Graph) -> str:
    # a done or dropped idea waits on nothing any more, whatever its note still lists
    settled = idea.meta["status"] in ("done", "dropped")
    waits = "" if settled else ", ".join(_ref_link(src, v, graph) for v in idea.meta.get("waits_on", []))
    realized = idea.meta.get("realized_by")
    return _item(
        src,
        idea,
        graph,
        f"**{idea.meta['priority']}**",
        f"waits on {waits}" if waits else "",
        f"realized by {_ref_link(src, realized, graph)}" if realized else "",
    )


def journal_index(graph: Graph) -> str:
    src = "journal/index.md"
    lines = [_item(src, n, graph, n.meta["date"]) for n in _newest_first(_notes(graph, "journal"))]
    return "# Journal\n\n" + _list(lines, "No entries yet: `make new-note KIND=journal TITLE=…`.") + "\n"


def experiments_table(graph: Graph) -> str:
    table = _runs_table("experiments/index.md", graph, _notes(graph, "experiment"))
    # Staleness needs the scripts' input hashes, which the runner computes: it is not
    # worth importing here for every page view.
    return f"# Experiments\n\n{table}\n\n`make status` says which experiments are stale.\n"


# (nav title, src, content): the generated pages, in sidebar order.
SECTIONS: tuple[tuple[str, str, Callable[[Graph], str]], ...] = (
    ("Home", HOME, home),
    ("Projects", "projects/index.md", projects_index),
    ("Insights", "insights/index.md", insights_index),
    ("Ideas", "ideas/index.md", ideas_board),
    ("Journal", "journal/index.md", journal_index),
    ("Experiments", "experiments/index.md", experiments_table),
    ("Graph", GRAPH_PAGE, graph_page),
    ("Tags", TAGS_PAGE, tags_page),
)


# --------------------------------------------------------------------------- around each note


def decorate(note: Note, markdown: str, graph: Graph, history: list[dict]) -> str:
    """``markdown`` (the note's text) with what the wiki adds around it.

    The additions may hold wikilinks; ``rendering.render`` runs after this.
    """
    top = [
        unread_properties(note),
        metaline.meta_line(note, graph),
        freshness.pending_banner(graph.pending_on(note.src)),
    ]
    bottom = []
    if note.kind == "project":
        bottom.append(_project_lists(note, graph))
    if note.kind == "experiment":
        name = experiment_name(note.src)
        run = graph.runs.get(name)
        top.append(_failure_banner(graph.failures.get(name), run is not None))
        top.append(freshness.banner(graph.freshness.get(name), run, f"`make experiments NAME={name}` refreshes it"))
        verdict, other = freshness.verdict_for(graph.reproductions.get(name), run)
        top.append(render.reproduction_block(verdict) if verdict else f"*Reproduction: {other}.*" if other else "")
        bottom += [
            _provenance(graph.runs.get(name)),
            _metric_history(graph.runs.get(name), history),
            _sweeps(note, graph),
        ]
    if note.kind == "sweep" and note.src in graph.sweeps:  # the sweep's own page, not a point's
        parts = note.src.split("/")  # experiments/NAME/sweeps/SWEEP/index.md
        name, sweep = parts[1], parts[3]
        refresh = f"`make sweep NAME={name} SWEEP={sweep}` re-runs its stale points"
        top.append(freshness.banner(graph.freshness.get(f"{name}@{sweep}"), graph.sweeps[note.src], refresh))
    return "\n\n".join(p for p in [*top, markdown, *bottom] if p) + "\n"


def unrun_experiment(name: str) -> str:
    """The page of experiment ``name`` while it has results (a sweep, a failed first run)
    but no good run, so that links to it resolve; ``decorate`` adds the failure and the
    sweeps as on any experiment page. Its first good run writes the real page."""
    return (
        f"---\ntitle: {name}\n---\n\n# {name}\n\n"
        f"*No run of this experiment has succeeded yet: `make experiment NAME={name}` writes this page.*\n"
    )


def _sweeps(note: Note, graph: Graph) -> str:
    """The experiment's sweeps, each linked with its grid and how many points are good."""
    folder = note.src.rsplit("/", 1)[0] + "/sweeps/"
    lines = []
    for src, record in sorted(graph.sweeps.items()):
        if src.startswith(folder) and src.count("/") == folder.count("/") + 1:  # not a point's page
            grid = " ".join(f"{k}={','.join(map(str, v))}" for k, v in record["grid"].items())
            good = sum(p["status"] == "ok" for p in record["points"])
            lines.append(
                f"- {md_link(note.src, src, md_escape(record['sweep']))}: `{grid}`, "
                f"{good}/{len(record['points'])} points ok"
            )
    return "## Sweeps\n\n" + "\n".join(lines) if lines else ""


def _project_lists(project: Note, graph: Graph) -> str:
    src, members = project.src, graph.members[project.src]
    ideas = sorted(
        _notes(graph, "idea", members), key=lambda n: (n.meta["status"] in ("done", "dropped"), _by_priority(n))
    )
    return "\n\n".join(
        [
            "## Experiments",
            _runs_table(src, graph, _notes(graph, "experiment", members)),
            "## Insights",
            _list([_item(src, n, graph, n.meta["status"]) for n in _notes(graph, "insight", members)], "None yet."),
            "## Ideas",
            _list([_item(src, n, graph, n.meta["status"], f"**{n.meta['priority']}**") for n in ideas], "None yet."),
        ]
    )


def _failure_banner(failure: dict | None, good_run: bool) -> str:
    """When, where and what: the fields of ``results.FAILURE_FIELDS``; ``good_run``:
    whether results of an earlier good run follow on the page."""
    if not failure:
        return ""
    where = f"in cell {failure.get('cell')}"
    if failure.get("line"):
        where += f", line {failure['line']} of the script: `{failure.get('source', '').strip()}`"
    error = md_escape(f"{failure.get('exception')}: {failure.get('message')}")
    return (
        f'!!! failure "The latest attempt failed"\n\n'
        f"    Run {failure.get('run_id')} at {_when(failure, 'when')}, {where}\n\n"
        f"    **{error}**\n\n"
        f"    {'Below are the results of the last good run' if good_run else 'No run has succeeded yet'}; "
        f"`make experiment` shows the full traceback."
    )


def _uncommitted(run: dict) -> str:
    """What a run's uncommitted changes were, as far as the lab knows (``lab.runner.committed``)."""
    if not run.get("dirty"):
        return ""
    if run.get("inputs_commit"):
        return f" (with uncommitted changes; its inputs are `{run['inputs_commit'][:10]}`'s)"
    return " (with uncommitted changes)"


def _provenance(run: dict | None) -> str:
    if not run:
        return "## Run\n\n*No successful run yet.*"
    commit = f"`{(run.get('commit') or 'not in git')[:10]}`" + _uncommitted(run)
    params = ", ".join(f"`{k}={v}`" for k, v in run.get("params", {}).items())
    versions = ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items())
    rows = [
        ("Run", f"`{run.get('run_id')}`"),
        ("Started", _when(run)),
        ("Duration", f"{run.get('duration_s', 0):.1f} s"),
        ("Commit", commit),
        ("Seed", str(run.get("seed"))),
        ("Parameters", params),
        ("Versions", versions),
    ]
    return "## Run\n\n| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def sparkline(values: list[float], width: int = 100, height: int = 20) -> str:
    """An inline SVG line of ``values``; empty for fewer than two."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    points = " ".join(
        f"{i * width / (len(values) - 1):.1f},{height - (v - low) / span * height:.1f}" for i, v in enumerate(values)
    )
    return (
        f'<svg class="lab-spark" viewBox="-1 -1 {width + 2} {height + 2}" width="{width}" height="{height}">'
        f'<polyline points="{points}"/></svg>'
    )


def _metric_history(run: dict | None, history: list[dict]) -> str:
    metrics = (run or {}).get("metrics", {})
    if not metrics:
        return ""
    rows = ["| Metric | Latest | Over runs | Description |", "|---|---|---|---|"]
    for name, metric in metrics.items():
        values = [h["metrics"][name] for h in history if name in h.get("metrics", {})]
        trend = sparkline(values) + (f" {len(values)} runs" if len(values) > 1 else "")
        rows.append(
            f"| {md_escape(name)} | {md_escape(format_metric(metric))} | {trend} | {md_escape(metric.get('description') or '')} |"
        )
    return "## Metrics\n\n" + "\n".join(rows) + _history_table(list(metrics), history)


def _history_table(names: list[str], history: list[dict]) -> str:
    if len(history) < 2:
        return ""
    head = "| Run | Commit | " + " | ".join(map(md_escape, names)) + " |"
    rows = [head, "|---" * (len(names) + 2) + "|"]
    for h in reversed(history):
        cells = [stats.format_value(h["metrics"][n]) if n in h.get("metrics", {}) else "" for n in names]
        rows.append(f"| {h.get('run_id')} | `{(h.get('commit') or '')[:10]}` | " + " | ".join(cells) + " |")
    return '\n\n??? note "Every run, newest first"\n\n' + "\n".join("    " + r for r in rows)
