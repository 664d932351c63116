"""Generated indexes and what each note gets around it, on the fixture wiki."""

from pathlib import Path

import pytest
from wiki_fixture import make_wiki

from lab import results
from lab.wiki import folders, links, pages
from lab.wiki.notes import parse_note


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wiki")
    make_wiki(root)
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


def section(markdown: str, heading: str) -> str:
    return markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_home_lists_latest_runs_open_ideas_and_newest_insights(graph):
    home = pages.home(graph)
    runs = section(home, "Latest runs")
    assert runs.index("carry-probe") < runs.index("loss-shelf")  # its failed attempt is the latest
    assert "| **failed** |" in runs and "final\\_loss = 0.05 nats" in runs
    ideas = section(home, "Open ideas")
    assert "[Probe the residual stream for carries](ideas/probe-carries.md) — **high** · open" in ideas
    assert "Ablate" not in ideas  # done
    assert "[Two heads compute the carry](insights/carry-heads.md)" in section(home, "Newest insights")


def test_ideas_board_groups_by_status(graph):
    board = pages.ideas_board(graph)
    assert "Probe the residual" in section(board, "Open") and "waits on [Two heads" in section(board, "Open")
    assert "realized by [The loss shelf](../experiments/loss-shelf/index.md)" in section(board, "Done")
    assert section(board, "Doing").strip() == "*None.*"


def test_insights_journal_projects_and_experiments_indexes(graph):
    assert "Two heads" in section(pages.insights_index(graph), "Supported")
    assert "[First run of the loss shelf](2026-11-26-first-run.md) — 2026-11-26" in pages.journal_index(graph)
    assert "2 experiments · 1 insights · 2 ideas" in pages.projects_index(graph)
    table = pages.experiments_table(graph)
    assert (
        "| [loss-shelf](loss-shelf/index.md) | [Learning addition](../projects/addition.md) | 2026-11-26 12:00 "
        "| not judged |" in table
    )


def test_project_page_lists_its_notes(graph):
    project = graph.notes["projects/addition.md"]
    page = pages.decorate(project, project.body, graph, [])
    assert "[carry-probe](../experiments/carry-probe/index.md)" in section(page, "Experiments")
    assert "Two heads" in section(page, "Insights")
    ideas = section(page, "Ideas")
    assert ideas.index("Probe the residual") < ideas.index("Ablate")  # open before done


def test_experiment_page_gets_banner_provenance_and_history(graph, root):
    failed = graph.notes["experiments/carry-probe/index.md"]
    page = pages.decorate(failed, failed.body, graph, [])
    assert page.startswith('!!! failure "The latest attempt failed"')
    assert "in cell 3, line 12 of the script: `check(n_digits)`" in page
    assert "ValueError: n\\_digits must be &gt; 0" in page
    assert "Below are the results of the last good run" in page  # carry-probe has one
    shelf = graph.notes["experiments/loss-shelf/index.md"]
    page = pages.decorate(shelf, shelf.body, graph, results.load_history("loss-shelf", root))
    assert "| Commit | `0123456789` |" in section(page, "Run") and "`n_digits=2`" in section(page, "Run")
    metrics = section(page, "Metrics")
    assert "<polyline" in metrics and "2 runs" in metrics and "| 20261125T120000Z |" in metrics


def test_notes_get_a_status_line(graph):
    idea = graph.notes["ideas/probe-carries.md"]
    page = pages.decorate(idea, idea.body, graph, [])
    assert page.startswith(
        "**Status:** open · **Priority:** high · **Project:** [[addition]] · **Waits on:** [[carry-heads]]"
    )


def test_backlinks_list_linking_pages_with_their_sentence_and_say_when_none(graph):
    shelf = graph.notes["experiments/loss-shelf/index.md"]
    html = pages.backlinks(shelf, graph, lambda src: f"/{src}")
    assert html.startswith(f'<h2 id="{pages.BACKLINKS_ID}">Linked from</h2>\n<ul>')
    assert (
        '<li><a href="/insights/carry-heads.md">Two heads compute the carry</a> — “The loss shelf ends when'
    ) in html
    assert "realized_by: loss-shelf" in html  # a front-matter reference links too
    idea = graph.notes["ideas/probe-carries.md"]
    assert pages.backlinks(idea, graph, str).endswith("<p><em>Nothing links here yet.</em></p>\n")


def test_sparkline():
    assert pages.sparkline([1.0]) == ""
    assert 'points="0.0,20.0 50.0,0.0 100.0,10.0"' in pages.sparkline([0, 2, 1])


def test_folders_outside_the_kind_folders_get_a_page_and_a_place_on_home(graph):
    extra = [
        parse_note(src, text, f"site/{src}")
        for src, text in {
            "notes/a.md": "---\ntitle: Alpha\n---\nA.\n",
            "notes/sub/b.md": "Beta.\n",
            "vault/index.md": "Home of it.\n",
            "about.md": "About.\n",
        }.items()
    ]
    both = links.build_graph(
        [*graph.notes.values(), *extra], graph.runs, graph.failures, generated=[src for _, src, _ in pages.SECTIONS]
    )
    assert folders.folders(both.notes) == ["notes", "vault"]
    assert folders.folder_index(both, "notes") == "# notes\n\n- [Alpha](a.md)\n\n## sub\n\n- [b](sub/b.md)\n"
    assert (
        section(pages.home(both), "Folders")
        == "\n- [notes](notes/index.md) — 2 notes\n- [vault](vault/index.md) — 1 note\n"
        "- [Vault report](vault-report.md): nothing to report\n"
    )
    assert "## Folders" not in pages.home(graph)


@pytest.mark.parametrize("status, waits", [("open", True), ("doing", True), ("done", False), ("dropped", False)])
def test_only_an_idea_not_yet_settled_waits_on_another(graph, status, waits):
    text = (
        f"---\ntitle: Finished\nstatus: {status}\npriority: low\nproject: addition\nwaits_on: [carry-heads]\n---\n\nx\n"
    )
    idea = parse_note("ideas/finished.md", text, "finished.md")
    assert ("waits on [Two heads" in pages._idea_item("ideas/index.md", idea, graph)) == waits
