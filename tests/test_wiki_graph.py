"""The graph of the notes (nodes, edges, filters, layout) and the tags index, on the
fixture wiki plus a few notes of this file's own."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from wiki_fixture import make_wiki

from lab import results
from lab.wiki import graph as notes_graph
from lab.wiki import links, pages, tags
from lab.wiki.notes import parse_note

ADDITION = "projects/addition.md"
EXTRA = {  # tags in two spellings, a link to a generated page, a page outside the kinds
    "insights/tagged.md": "---\ntitle: Tagged <insight>\nstatus: refuted\ntags: [Carry, mlp]\n---\n\n"
    "See [[ideas]], the board.\n",
    "ideas/also-tagged.md": "---\ntitle: Also tagged\nstatus: doing\nproject: addition\ntags: [carry, λ]\n---\n\n"
    "Builds on [[tagged]].\n",
    "about.md": "---\ntitle: About\ntags: [Ω]\n---\n\nA plain page.\n",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wiki")
    make_wiki(root)
    for src, text in EXTRA.items():
        (root / "site" / src).write_text(text)
    return root


@pytest.fixture(scope="module")
def graph(root) -> links.Graph:
    docs = root / "site"
    notes = [parse_note(p.relative_to(docs).as_posix(), p.read_text(), str(p)) for p in sorted(docs.rglob("*.md"))]
    names = results.result_names(root)
    graph = links.build_graph(
        notes,
        {n: results.load_run(n, root) for n in names},
        {n: f for n in names if (f := results.load_failure(n, root))},
        generated=[src for _, src, _ in pages.SECTIONS],
    )
    assert graph.problems == []
    return graph


def url(src: str) -> str:
    return "/" + src.removesuffix(".md").removesuffix("/index") + "/"


def by_id(graph) -> dict[str, dict]:
    return {node["id"]: node for node in notes_graph.nodes(graph, url)}


# --------------------------------------------------------------------------- nodes, edges, filters


def test_every_note_and_experiment_is_a_node_with_kind_status_and_project(graph):
    nodes = by_id(graph)
    assert set(nodes) == set(graph.notes) and len(nodes) == 10
    expected = {  # id: (kind, status, project)
        "experiments/carry-probe/index.md": ("experiment", "failed", ADDITION),
        "experiments/loss-shelf/index.md": ("experiment", "ok", ADDITION),
        "ideas/ablate-mlp.md": ("idea", "done", ADDITION),
        "ideas/probe-carries.md": ("idea", "open", ADDITION),
        "ideas/also-tagged.md": ("idea", "doing", ADDITION),
        "insights/carry-heads.md": ("insight", "supported", ADDITION),
        "insights/tagged.md": ("insight", "refuted", ""),
        "journal/2026-11-26-first-run.md": ("journal", "", ""),
        ADDITION: ("project", "", ADDITION),  # a project belongs to itself
        "about.md": ("page", "", ""),
    }
    assert {src: (n["kind"], n["status"], n["project"]) for src, n in nodes.items()} == expected
    assert nodes["insights/carry-heads.md"]["title"] == "Two heads compute the carry"
    assert nodes["experiments/loss-shelf/index.md"]["url"] == "/experiments/loss-shelf/"


def test_an_experiment_that_never_ran_says_so(graph):
    note = parse_note("experiments/new/index.md", "---\ntitle: New\n---\n")
    assert notes_graph.status(note, graph) == "never ran"


def test_edges_follow_links_in_body_and_front_matter_once_per_pair(graph):
    edges = notes_graph.edges(graph)
    assert len(edges) == len(set(edges))
    assert set(edges) == {
        ("ideas/ablate-mlp.md", "experiments/carry-probe/index.md"),  # body
        ("ideas/ablate-mlp.md", "experiments/loss-shelf/index.md"),  # realized_by
        ("ideas/ablate-mlp.md", ADDITION),  # project
        ("ideas/probe-carries.md", "insights/carry-heads.md"),  # body and waits_on: one edge
        ("ideas/probe-carries.md", ADDITION),
        ("ideas/also-tagged.md", "insights/tagged.md"),
        ("ideas/also-tagged.md", ADDITION),
        ("insights/carry-heads.md", "experiments/loss-shelf/index.md"),  # link, metric, embed, evidence
        ("insights/carry-heads.md", ADDITION),
        ("journal/2026-11-26-first-run.md", "experiments/loss-shelf/index.md"),
        (ADDITION, "insights/carry-heads.md"),
        ("experiments/loss-shelf/index.md", ADDITION),  # its embed of itself is no edge
        ("experiments/carry-probe/index.md", ADDITION),
    }  # insights/tagged.md links only a generated page: no edge


def test_facets_count_each_value_for_the_filters(graph):
    facets = notes_graph.facets(graph, notes_graph.nodes(graph, url))
    assert facets["project"] == [(ADDITION, "Learning addition", 7), ("", "(no project)", 3)]
    assert facets["kind"] == [
        ("project", "project", 1),
        ("insight", "insight", 2),
        ("idea", "idea", 3),
        ("experiment", "experiment", 2),
        ("journal", "journal", 1),
        ("page", "page", 1),
    ]
    assert facets["status"] == [
        ("doing", "doing", 1),
        ("done", "done", 1),
        ("failed", "failed", 1),
        ("ok", "ok", 1),
        ("open", "open", 1),
        ("refuted", "refuted", 1),
        ("supported", "supported", 1),
        ("", "(none)", 3),
    ]


def test_graph_page_has_a_filter_per_facet_with_counts_and_escapes_titles(graph):
    page = notes_graph.graph_page(graph)
    assert page.startswith("---\nhide: [toc]\nsearch:\n  exclude: true\n---\n")
    for facet in ("project", "kind", "status"):
        assert f'<select data-filter="{facet}"><option value="*">all</option>' in page
    assert '<option value="projects/addition.md">Learning addition (7)</option>' in page
    assert '<option value="idea">idea (3)</option>' in page
    assert '<option value="">(no project) (3)</option>' in page
    assert '<div class="lab-graph lab-graph--all"></div>' in page
    assert "<insight>" not in notes_graph.graph_page(graph) + notes_graph.local_graph('a"b.md')
    assert (
        notes_graph.local_graph('a"b.md') == '<div class="lab-graph lab-graph--local" data-node="a&quot;b.md"></div>\n'
    )


def test_graph_json_holds_nodes_and_edges_as_indexes_and_no_layout(graph):
    data = json.loads(notes_graph.graph_json(graph, url))
    ids = [node["id"] for node in data["nodes"]]
    assert ids == list(graph.notes)
    assert {(ids[a], ids[b]) for a, b in data["edges"]} == set(notes_graph.edges(graph))
    assert not any({"x", "y"} & set(node) for node in data["nodes"])  # the browser lays it out (graph.js)
    assert data["facets"]["kind"][0] == ["project", "project", 1]


# --------------------------------------------------------------------------- tags


def test_tags_page_groups_spellings_and_lists_each_tags_notes(graph):
    groups = tags.tagged(graph)
    assert [(key, shown, [n.src for n in notes]) for key, (shown, notes) in groups.items()] == [
        ("tag-arithmetic", "arithmetic", [ADDITION]),
        ("tag-carry", "Carry", ["ideas/also-tagged.md", "insights/tagged.md"]),  # Carry and carry are one tag
        ("tag-mlp", "mlp", ["insights/tagged.md"]),
        ("tag-λ", "λ", ["ideas/also-tagged.md"]),  # not folded to the same empty anchor
        ("tag-ω", "Ω", ["about.md"]),
    ]
    page = tags.tags_page(graph)
    assert "[Carry](#tag-carry) (2)" in page
    assert (
        "## Carry { #tag-carry }\n\n- [Also tagged](ideas/also-tagged.md) — idea\n"
        "- [Tagged &lt;insight&gt;](insights/tagged.md) — insight" in page
    )


def test_a_notes_tags_link_to_their_section_of_the_tags_page(graph):
    note = graph.notes["ideas/also-tagged.md"]
    assert tags.tag_links(note) == "[carry](../tags.md#tag-carry){ .lab-tag }, [λ](../tags.md#tag-λ){ .lab-tag }"
    assert "**Tags:** [carry](../tags.md#tag-carry)" in pages.decorate(note, "", graph, [])
    assert tags.tag_links(graph.notes["ideas/probe-carries.md"]) == ""


def test_tags_page_without_tags_says_how_to_add_them():
    empty = links.build_graph([parse_note("ideas/x.md", "---\ntitle: X\nstatus: open\n---\n")], {}, {})
    assert "No note has tags yet" in tags.tags_page(empty)


# --------------------------------------------------------------------------- the built wiki


# A build as `make wiki` runs it, saying at the end which modules it had imported.
BUILD = """
import runpy, sys
try:
    runpy.run_module("properdocs", run_name="__main__")
finally:
    print(sorted({"numpy", "torch"} & set(sys.modules)))
"""


@pytest.fixture(scope="module")
def build(root) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BUILD, "build", "--strict", "--quiet", "--config-file", "mkdocs.yml"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def built(root, build) -> Path:
    return root / "build" / "site"


def test_building_the_wiki_imports_no_numpy(build):
    # The graph is laid out in the browser, and numbers are formatted without numpy: a
    # wiki with no sweep to summarize (lab.stats.summarize) builds without it.
    assert build.stdout.strip().splitlines()[-1] == "[]"


def test_built_wiki_serves_the_vendored_layout_with_its_licence(built):
    note = (built / "insights/carry-heads/index.html").read_text()
    scripts = [s for s in notes_graph.SCRIPTS if f"assets/lab/{s}" in note]
    assert scripts == list(notes_graph.SCRIPTS)  # every one, on every note
    order = [note.index(f"assets/lab/{s}") for s in notes_graph.SCRIPTS]
    assert order == sorted(order)  # d3-force after what it needs, graph.js last
    vendor = built / "assets/lab" / notes_graph.VENDOR
    names = ("d3-dispatch", "d3-quadtree", "d3-timer", "d3-force")
    # the scripts and their licences, and not the note on where they came from as a page
    assert sorted(p.relative_to(vendor).as_posix() for p in vendor.rglob("*") if p.is_file()) == sorted(
        [f"{name}.min.js" for name in names] + [f"LICENSE-{name}" for name in names]
    )
    for name in names:
        assert (vendor / f"{name}.min.js").read_text().startswith(f"// https://d3js.org/{name}/ v3.")
        assert "Permission to use, copy, modify" in (vendor / f"LICENSE-{name}").read_text()


def test_built_wiki_has_the_graph_page_its_data_and_a_local_graph_per_note(built):
    page = (built / "graph/index.html").read_text()
    assert 'data-filter="kind"' in page and 'class="lab-graph lab-graph--all"' in page
    data = json.loads((built / "assets/lab/graph.json").read_text())
    for node in data["nodes"]:  # every node's URL is a built page
        assert (built / node["url"] / "index.html").exists(), node["url"]
    note = (built / "insights/carry-heads/index.html").read_text()
    assert note.count('<div class="lab-graph lab-graph--local" data-node="insights/carry-heads.md">') == 1
    assert "graph.js" in note and "graph.css" in note
    search = json.loads((built / "search/search_index.json").read_text())
    locations = {doc["location"].split("#")[0] for doc in search["docs"]}
    assert "tags/" in locations and "graph/" not in locations


def test_built_tag_links_land_on_their_tag(built):
    note = (built / "ideas/also-tagged/index.html").read_text()
    assert '<a class="lab-tag" href="../../tags/#tag-carry">carry</a>' in note
    tags_page = (built / "tags/index.html").read_text()
    assert 'id="tag-carry"' in tags_page and 'href="../ideas/also-tagged/"' in tags_page
