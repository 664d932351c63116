"""Wikilinks, embeds and metric citations: parsing, resolution, backlinks, rendering."""

import pytest

from lab.wiki import links
from lab.wiki.notes import parse_note

RUN = {
    "run_id": "20261126T120000Z",
    "metrics": {"final_loss": {"value": 0.0512, "unit": "nats"}, "steps": {"value": 180.0, "unit": None}},
    "figures": [{"id": "loss-curve", "caption": "Loss per digit", "file": "figures/loss-curve.json"}],
}


def make_graph(pages: dict[str, str], runs=None, failures=None) -> links.Graph:
    notes = [parse_note(src, text, f"site/{src}") for src, text in pages.items()]
    return links.build_graph(notes, runs if runs is not None else {"loss-shelf": RUN}, failures or {})


def page(title: str, body: str, extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n{body}"


BASE = {
    "experiments/loss-shelf/index.md": page("The loss shelf", "Loss stalls.\n"),
    "insights/carry.md": page("Carry heads", "Two heads.\n\n## The Evidence\n", "status: supported\n"),
    "ideas/probe.md": page("Probe", "Probe it.\n", "status: open\n"),
}


def test_scan_finds_every_form_with_lines():
    text = "See [[a]], [[dir/b|shown]] and [[c#Some heading]].\n![[experiments/x#fig]] is {{ metric x.loss }}\n"
    refs = links.scan(text)
    assert [(r.form, r.target, r.anchor, r.label, r.line) for r in refs] == [
        ("link", "a", "", "", 1), ("link", "dir/b", "", "shown", 1), ("link", "c", "Some heading", "", 1),
        ("embed", "experiments/x", "fig", "", 2), ("metric", "x", "loss", "", 2),
    ]
    assert text[refs[1].start:refs[1].end] == "[[dir/b|shown]]"


def test_scan_leaves_code_alone():
    text = ("`[[span]]` and ``[[double `tick`]]``\n"
            "````python\n[[fenced]]\n```\nstill [[fenced]]: ``` does not close ````\n````\n"
            "~~~\n{{ metric x.y }}\n~~~\n"
            "[[real]]\n")
    assert [r.target for r in links.scan(text)] == ["real"]
    assert links.scan(text)[0].line == 10


def test_resolution_by_stem_path_and_experiment_name():
    graph = make_graph(BASE)
    for name in ("carry", "insights/carry", "Insights/Carry.md", "[[carry]]"):
        assert graph.page(name, "x.md").src == "insights/carry.md"
    for name in ("loss-shelf", "experiments/loss-shelf"):
        assert graph.page(name, "x.md").src == "experiments/loss-shelf/index.md"
    assert graph.page("", "ideas/probe.md").src == "ideas/probe.md"  # [[#heading]]


def test_ambiguous_resolves_as_obsidian_does_with_a_warning_naming_the_candidates():
    graph = make_graph({**BASE, "ideas/carry.md": page("Other", "See [[carry]].\n", "status: open\n")})
    [problem] = graph.problems
    assert problem.where == "site/ideas/carry.md:5"
    assert "ambiguous: it could be ideas/carry.md, insights/carry.md; chose ideas/carry.md" in problem.message
    assert graph.page("carry", "insights/x.md").src == "insights/carry.md"  # the linking note's folder first
    assert graph.page("carry", "journal/x.md").src == "ideas/carry.md"  # then the shortest path, by name
    assert graph.page("insights/carry", "x.md") == links.Resolved("insights/carry.md")


def test_unresolved_names_file_and_line_and_is_marked():
    graph = make_graph({**BASE, "ideas/probe.md": page("Probe", "One.\n\nSee [[nowhere]].\n", "status: open\n")})
    [problem] = graph.problems
    assert str(problem) == "site/ideas/probe.md:7: [[nowhere]] does not name any page or file"
    html = links.render("See [[nowhere]].", "ideas/probe.md", graph, str)
    assert '<span class="lab-broken"' in html and "nowhere</span>" in html


def test_front_matter_references_are_checked_with_their_line():
    graph = make_graph({**BASE, "ideas/x.md": page("X", "", "status: open\nwaits_on: [carry, ghost]\n")})
    [problem] = graph.problems
    assert problem.where == "site/ideas/x.md:4" and "[[ghost]]" in problem.message
    assert [b.source for b in graph.backlinks["insights/carry.md"]] == ["ideas/x.md"]


def test_render_links_alias_heading_and_title():
    graph = make_graph(BASE)
    out = links.render("[[carry]], [[carry|the heads]], [[carry#The Evidence]]", "ideas/probe.md", graph, str)
    assert out == ("[Carry heads](../insights/carry.md), [the heads](../insights/carry.md), "
                   "[Carry heads › The Evidence](../insights/carry.md#the-evidence)")


def test_backlinks_one_per_page_with_sentence_snippet():
    body = "Intro here. We think\n[[carry]] explains it, mostly. Then more.\n\nAgain [[carry]].\n"
    graph = make_graph({**BASE, "ideas/probe.md": page("Probe", body, "status: open\n")})
    [backlink] = graph.backlinks["insights/carry.md"]
    assert backlink == links.Backlink("ideas/probe.md", "We think carry explains it, mostly.")


def test_metric_citation_renders_value_unit_and_run():
    graph = make_graph(BASE)
    out = links.render("{{ metric loss-shelf.final_loss }} / {{metric loss-shelf.steps}}", "ideas/probe.md", graph, str)
    assert out == ('[0.0512 nats](../experiments/loss-shelf/index.md "loss-shelf.final_loss, run 20261126T120000Z")'
                   '{ .lab-metric } / [180](../experiments/loss-shelf/index.md "loss-shelf.steps, run 20261126T120000Z")'
                   "{ .lab-metric }")
    assert graph.backlinks["experiments/loss-shelf/index.md"] == []


@pytest.mark.parametrize("text, message", [
    ("{{ metric loss-shelf.nope }}", "experiment 'loss-shelf' has no metric 'nope' (it has: final_loss, steps)"),
    ("{{ metric carry.x }}", "'carry' is not an experiment page (insights/carry.md)"),
    ("![[experiments/loss-shelf#nope]]", "experiment 'loss-shelf' has no figure 'nope' (it has: loss-curve)"),
    ("![[experiments/ghost#fig]]", "![[experiments/ghost#fig]] does not name any page or file"),
])
def test_missing_metric_or_figure_names_file_and_line(text, message):
    graph = make_graph({**BASE, "ideas/probe.md": page("Probe", f"x\n{text}\n", "status: open\n")})
    assert [str(p) for p in graph.problems] == [f"site/ideas/probe.md:6: {message}"]


def test_metric_and_figure_resolve_among_experiments_only():
    """An idea named like the experiment that realizes it is no rival for a citation,
    while a plain link to the shared name stays ambiguous."""
    pages = {**BASE, "ideas/loss-shelf.md": page("Shelf idea", "{{ metric loss-shelf.steps }}\n"
                                                 "![[loss-shelf#loss-curve]]\n", "status: open\n")}
    assert make_graph(pages).problems == []
    pages["ideas/probe.md"] = page("Probe", "[[loss-shelf]]\n", "status: open\n")
    assert ["ambiguous" in p.message for p in make_graph(pages).problems] == [True]


def test_experiment_without_a_good_run_cannot_be_cited():
    graph = make_graph({**BASE, "ideas/probe.md": page("Probe", "{{ metric loss-shelf.x }}\n", "status: open\n")}, runs={})
    assert "experiment 'loss-shelf' has no successful run yet" in str(graph.problems[0])


def test_figure_embed_renders_a_plot_div_with_caption_elsewhere():
    graph = make_graph(BASE)
    url = lambda path: f"/root/{path}"  # noqa: E731
    elsewhere = links.render("![[loss-shelf#loss-curve]]", "ideas/probe.md", graph, url)
    assert '<div class="lab-plot" data-figure="/root/experiments/loss-shelf/figures/loss-curve.json"></div>' in elsewhere
    assert "*Loss per digit* (from [The loss shelf](../experiments/loss-shelf/index.md))" in elsewhere
    own = links.render("![[loss-shelf#loss-curve]]", "experiments/loss-shelf/index.md", graph, url)
    assert "Loss per digit" not in own and "lab-plot" in own
