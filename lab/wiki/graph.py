"""The graph of the notes: what the graph page and each note's local graph draw.

- ``nodes``: every note and experiment page, with its kind, status and project
  (what the graph page filters and colours by) and its URL.
- ``edges``: one per linking pair of pages, in the direction of the link, from the
  references ``links.build_graph`` already resolved (body and front matter alike).
- ``facets``: the values of project, kind and status that occur, with counts: the
  graph page's filters.
- ``layout``: a position per node, computed here at build time.

``graph_json`` writes all of it once per build; ``assets/graph.js`` draws the graph
page from it, and on each note the note's neighbours (links in and out).
"""

from __future__ import annotations

import functools
import html
import json
from collections import Counter
from collections.abc import Callable

import numpy as np

from lab.wiki.links import Graph, sweep_of
from lab.wiki.notes import Note

GRAPH_PAGE = "graph.md"
DATA_FILE = "graph.json"  # next to graph.js in the built site
KINDS = ("project", "insight", "idea", "experiment", "sweep", "journal", "page")  # legend order
NO_PROJECT = "(no project)"
FACETS = ("project", "kind", "status")


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


# --------------------------------------------------------------------------- layout


def layout(count: int, pairs: list[tuple[int, int]], iterations: int = 50, seed: int = 0) -> np.ndarray:
    """Positions (count x 2, within [-1, 1]) of a force-directed layout: linked nodes
    pull together, all nodes push apart (Fruchterman and Reingold, 1991), and a weak
    pull to the centre keeps unlinked notes in view.

    networkx has this layout, but above 500 nodes it needs scipy (not installed), and
    its dense version took 3 s of CPU for 1,000 notes against 0.2 s here: the same
    forces on float32 rows of the distance matrix, a block at a time.
    """
    if count == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng(seed)
    pos = rng.random((count, 2), dtype=np.float32)
    ends = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    ends = ends[ends[:, 0] != ends[:, 1]]
    k2 = np.float32(1.0 / count)  # squared ideal distance: each node gets 1/count of the unit square
    step, cooling = 0.1, 0.1 / (iterations + 1)
    for _ in range(iterations):
        force = _repulsion(pos, k2)
        delta = pos[ends[:, 0]] - pos[ends[:, 1]]
        pull = delta * (np.sqrt((delta * delta).sum(1, keepdims=True)) / np.sqrt(k2))
        for axis in (0, 1):
            force[:, axis] -= np.bincount(ends[:, 0], pull[:, axis], count)
            force[:, axis] += np.bincount(ends[:, 1], pull[:, axis], count)
        force -= (pos - 0.5) * np.float32(0.5)  # gravity
        length = np.maximum(np.sqrt((force * force).sum(1, keepdims=True)), 1e-6)
        pos += force * (np.minimum(length, step) / length)  # move at most `step`, which cools
        step -= cooling
    pos -= (pos.max(0) + pos.min(0)) / 2
    return pos / max(float(np.abs(pos).max()), 1e-9)


def _repulsion(pos: np.ndarray, k2: np.float32, block: int = 64) -> np.ndarray:
    """Sum over all other nodes of k² (p_i - p_j) / |p_i - p_j|², for each node i.

    A block of rows of the distance matrix at a time, x and y apart, in reused
    buffers: contiguous float32 rows that stay in cache are what makes this fast.
    """
    x, y = np.ascontiguousarray(pos[:, 0]), np.ascontiguousarray(pos[:, 1])
    dx, dy, weight = (np.empty((block, len(pos)), np.float32) for _ in range(3))
    force = np.empty_like(pos)
    for start in range(0, len(pos), block):
        stop = min(start + block, len(pos))
        rows = slice(0, stop - start)
        np.subtract(x[start:stop, None], x, out=dx[rows])
        np.subtract(y[start:stop, None], y, out=dy[rows])
        np.multiply(dx[rows], dx[rows], out=weight[rows])
        weight[rows] += dy[rows] * dy[rows]
        np.maximum(weight[rows], 1e-6, out=weight[rows])
        np.divide(k2, weight[rows], out=weight[rows])
        force[start:stop, 0] = np.einsum("ij,ij->i", dx[rows], weight[rows])
        force[start:stop, 1] = np.einsum("ij,ij->i", dy[rows], weight[rows])
    return force


# --------------------------------------------------------------------------- output


@functools.lru_cache(maxsize=4)
def _positions(count: int, pairs: tuple[tuple[int, int], ...]) -> tuple[tuple[float, float], ...]:
    """``layout``'s positions, kept: most edits in ``make serve`` change no link, and
    the same nodes and edges lay out the same (the layout is seeded)."""
    return tuple(map(tuple, layout(count, list(pairs)).tolist()))


def graph_json(graph: Graph, url: Callable[[str], str]) -> str:
    """The graph as graph.js reads it: nodes with positions, edges as pairs of node indexes."""
    node_list = nodes(graph, url)
    index = {node["id"]: i for i, node in enumerate(node_list)}
    pairs = [(index[a], index[b]) for a, b in edges(graph)]
    for node, (x, y) in zip(node_list, _positions(len(node_list), tuple(pairs))):
        node["x"], node["y"] = round(x * 1000, 1), round(y * 1000, 1)
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
