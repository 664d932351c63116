"""The graph of the notes: what the graph page and each note's local graph draw.

- ``nodes``: every note and experiment page, with its kind, status and project
  (what the graph page filters and colours by) and its URL.
- ``edges``: one per linking pair of pages, in the direction of the link, from the
  references ``links.build_graph`` already resolved (body and front matter alike).
- ``facets``: the values of project, kind and status that occur, with counts: the
  graph page's filters.

``graph_json`` writes all of it once per build; ``assets/graph.js`` draws the graph
page from it, and on each note the note's neighbours (links in and out).

Where the layout is done, and by what. The build used to lay the graph out with numpy
(a hand-written Fruchterman-Reingold): ~0.14 s per build at 1,000 notes, plus ~0.08 s
to import numpy, paid on every build whether anyone opens the graph or not. The browser
now lays it out, once per visit, with d3-force (Barnes-Hut many-body repulsion, link
springs, collision), vendored from the npm registry under ``assets/vendor/d3-force``
(``SCRIPTS``; its README says where from and how to update). Weighed against it:

- sigma.js with graphology (WebGL, ForceAtlas2): the best at tens of thousands of
  nodes, but a notebook's graph has hundreds to a few thousand. It draws into a
  canvas, so the colours per kind set in graph.css (and recoloured by material's
  light/dark switch with no script), the nodes as focusable links with a tooltip, and
  the browser tests that find nodes by ``data-id`` would all be rewritten against its
  API; WebGL does run in headless Chromium with ``--disable-gpu`` (SwiftShader), but a
  reader's browser without a GPU may refuse it; and sigma 3 ships no browser build,
  so vendoring it means bundling (a build step the repository does not have).
- cytoscape.js (canvas, layouts of its own): one browser file, but ~430 kB, the same
  loss of CSS colours, DOM nodes and tests as sigma, and its built-in ``cose`` layout
  is O(n²) per iteration, slower than Barnes-Hut at 1,000 nodes.
- d3-force: ~17 kB in four files (d3-force needs d3-dispatch, d3-quadtree and d3-timer),
  layout only, so the SVG renderer (graph.js: filters, colours per kind from CSS,
  sweep points as one node, hub-only labels until zoomed, links to pages) stays as it
  was and only its hand-written positions go. Seeded: the same graph lays out the same.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Callable

from lab.wiki.links import Graph, sweep_of
from lab.wiki.notes import Note

GRAPH_PAGE = "graph.md"
DATA_FILE = "graph.json"  # next to graph.js in the built site
KINDS = ("project", "insight", "idea", "experiment", "sweep", "journal", "page")  # legend order
NO_PROJECT = "(no project)"
FACETS = ("project", "kind", "status")
# graph.js and what it needs, in loading order, under assets/ (the plugin lists them on
# every page): d3-force reads the other three from window.d3 when it loads.
VENDOR = "vendor/d3-force"
SCRIPTS = (*(f"{VENDOR}/{name}.min.js" for name in ("d3-dispatch", "d3-quadtree", "d3-timer", "d3-force")), "graph.js")


# --------------------------------------------------------------------------- nodes and edges


def status(note: Note, graph: Graph) -> str:
    """An insight's or idea's ``status``; an experiment's ok, failed or never ran; else ""."""
    if note.kind == "experiment":
        name = note.src.split("/")[-2]  # experiments/NAME/index.md
        return "failed" if name in graph.failures else "ok" if name in graph.runs else "never ran"
    return note.meta.get("status", "") if note.kind in ("insight", "idea") else ""


def projects(graph: Graph) -> dict[str, str]:
    """Note src -> the src of its project (a project is its own), for notes that have one."""
    owner = {src: project for project, members in graph.members.items() for src in members}
    owner |= {src: src for src, note in graph.notes.items() if note.kind == "project"}
    return owner


def nodes(graph: Graph, url: Callable[[str], str]) -> list[dict]:
    """One node per note, in the order of ``graph.notes``; ``url(src)`` is the page's
    URL relative to the site root."""
    owner = projects(graph)
    points = Counter(sweep for src in graph.notes if (sweep := _grouped(src, graph)) != src)
    return [
        {
            "id": src,
            "title": note.title + (f" ({points[src]} points)" if points[src] else ""),
            "kind": note.kind,
            "status": status(note, graph),
            "project": owner.get(src, ""),
            "url": url(src),
        }
        for src, note in graph.notes.items()
        if _grouped(src, graph) == src
    ]


def _grouped(src: str, graph: Graph) -> str:
    """The node that stands for page ``src``: a sweep point's sweep (once the sweep has
    its page), else the page itself. Seventy points of one sweep are one node."""
    sweep = sweep_of(src)
    return sweep if sweep in graph.notes else src


def edges(graph: Graph) -> list[tuple[str, str]]:
    """(from src, to src) for each note that links to another, once per pair and direction,
    a sweep's points as their sweep.

    Links to generated pages (the indexes) are left out: every note would meet there.
    """
    pairs = {
        (_grouped(b.source, graph), _grouped(target, graph))
        for target, links in graph.backlinks.items()
        if target in graph.notes
        for b in links
    }
    return sorted((a, b) for a, b in pairs if a != b)


def facets(graph: Graph, node_list: list[dict]) -> dict[str, list[tuple[str, str, int]]]:
    """Per facet, the (value, label, count) of each value that occurs, in a stable order."""
    counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for node in node_list:
        for facet in FACETS:
            counts[facet][node[facet]] = counts[facet].get(node[facet], 0) + 1
    label = {
        "project": lambda v: graph.title(v) if v else NO_PROJECT,
        "kind": lambda v: v,
        "status": lambda v: v or "(none)",
    }
    order = {
        "project": lambda v: (not v, label["project"](v).casefold()),
        "kind": lambda v: KINDS.index(v),
        "status": lambda v: (not v, v),
    }
    return {
        facet: [(v, label[facet](v), counts[facet][v]) for v in sorted(counts[facet], key=order[facet])]
        for facet in FACETS
    }


# --------------------------------------------------------------------------- output


def graph_json(graph: Graph, url: Callable[[str], str]) -> str:
    """The graph as graph.js reads it: nodes, edges as pairs of node indexes, and facets.
    No positions: the browser lays the graph out (d3-force, see the module's docstring)."""
    node_list = nodes(graph, url)
    index = {node["id"]: i for i, node in enumerate(node_list)}
    pairs = [(index[a], index[b]) for a, b in edges(graph)]
    return json.dumps(
        {"nodes": node_list, "edges": pairs, "facets": facets(graph, node_list)},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def graph_page(graph: Graph) -> str:
    """The graph page: its filters (one select per facet, with counts) and the drawing."""
    selects = []
    for facet, values in facets(graph, nodes(graph, lambda src: "")).items():
        options = [f'<option value="{html.escape(v)}">{html.escape(label)} ({n})</option>' for v, label, n in values]
        selects.append(
            f'<label>{facet.capitalize()} <select data-filter="{facet}">'
            f'<option value="*">all</option>{"".join(options)}</select></label>'
        )
    selects.append(
        '<label>Colour by <select data-colour-by><option value="kind">kind</option>'
        '<option value="status">status</option></select></label>'
    )
    # For material: the drawing takes the width of the table of contents, and search
    # leaves the page out (its text is only filter labels).
    return (
        "---\nhide: [toc]\nsearch:\n  exclude: true\n---\n\n"
        "# Graph\n\n"
        "Every note and experiment, linked as they link. Click a node to open it; scroll to zoom, "
        "drag to move.\n\n"
        f'<div class="lab-graph-filters">\n{chr(10).join(selects)}\n</div>\n\n'
        '<div class="lab-graph lab-graph--all"></div>\n'
    )


def local_graph(src: str) -> str:
    """Where graph.js draws the neighbours of note ``src``, on the note's own page."""
    return f'<div class="lab-graph lab-graph--local" data-node="{html.escape(src)}"></div>\n'
