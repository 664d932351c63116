"""Wikilinks, embeds and metric citations: parsing, resolution, backlinks, rendering."""

import pytest

from lab.wiki import links, rendering, syntax
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
        ("link", "a", "", "", 1),
        ("link", "dir/b", "", "shown", 1),
        ("link", "c", "Some heading", "", 1),
        ("embed", "experiments/x", "fig", "", 2),
        ("metric", "x", "loss", "", 2),
    ]
    assert text[refs[1].start : refs[1].end] == "[[dir/b|shown]]"


def test_scan_leaves_code_alone():
    text = (
        "`[[span]]` and ``[[double `tick`]]``\n"
        "````python\n[[fenced]]\n```\nstill [[fenced]]: ``` does not close ````\n````\n"
        "~~~\n{{ metric x.y }}\n~~~\n"
        "[[real]]\n"
    )
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
    html = rendering.render("See [[nowhere]].", "ideas/probe.md", graph, str)
    assert '<span class="lab-broken"' in html and "nowhere</span>" in html


def test_a_link_broken_across_lines_is_a_problem_on_the_line_it_opens():
    body = "One.\n\nThe [[insights/carry|carry\nheads]] and [[ideas/probe]].\n```\n[[in code\n```\n`[[span` [[tail"
    graph = make_graph({**BASE, "ideas/x.md": page("X", body, "status: open\n")})
    assert [str(p) for p in graph.problems] == [
        f"site/ideas/x.md:7: {links.UNCLOSED_MESSAGE}",
        f"site/ideas/x.md:12: {links.UNCLOSED_MESSAGE}",
    ]
    assert [b.source for b in graph.backlinks["ideas/probe.md"]] == ["ideas/x.md"]  # the rest resolves
    assert links.unclosed("[[a]] and [[b|c]]\n![[d#e]]\n") == []


def test_front_matter_references_are_checked_with_their_line():
    graph = make_graph({**BASE, "ideas/x.md": page("X", "", "status: open\nwaits_on: [carry, ghost]\n")})
    [problem] = graph.problems
    assert problem.where == "site/ideas/x.md:4" and "[[ghost]]" in problem.message
    assert [b.source for b in graph.backlinks["insights/carry.md"]] == ["ideas/x.md"]


def test_render_links_alias_heading_and_title():
    graph = make_graph(BASE)
    out = rendering.render("[[carry]], [[carry|the heads]], [[carry#The Evidence]]", "ideas/probe.md", graph, str)
    assert out == (
        "[Carry heads](../insights/carry.md), [the heads](../insights/carry.md), "
        "[Carry heads › The Evidence](../insights/carry.md#the-evidence)"
    )


def test_backlinks_one_per_page_with_sentence_snippet():
    body = "Intro here. We think\n[[carry]] explains it, mostly. Then more.\n\nAgain [[carry]].\n"
    graph = make_graph({**BASE, "ideas/probe.md": page("Probe", body, "status: open\n")})
    [backlink] = graph.backlinks["insights/carry.md"]
    assert backlink == links.Backlink("ideas/probe.md", "We think carry explains it, mostly.")


def test_metric_citation_renders_value_unit_and_run():
    graph = make_graph(BASE)
    out = rendering.render(
        "{{ metric loss-shelf.final_loss }} / {{metric loss-shelf.steps}}", "ideas/probe.md", graph, str
    )
    assert out == (
        '[0.0512 nats](../experiments/loss-shelf/index.md "loss-shelf.final_loss, run 20261126T120000Z")'
        '{ .lab-metric } / [180](../experiments/loss-shelf/index.md "loss-shelf.steps, run 20261126T120000Z")'
        "{ .lab-metric }"
    )
    assert graph.backlinks["experiments/loss-shelf/index.md"] == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("{{ metric loss-shelf.nope }}", "experiment 'loss-shelf' has no metric 'nope' (it has: final_loss, steps)"),
        ("{{ metric carry.x }}", "'carry' is not an experiment page (insights/carry.md)"),
        ("![[experiments/loss-shelf#nope]]", "experiment 'loss-shelf' has no figure 'nope' (it has: loss-curve)"),
        ("![[experiments/ghost#fig]]", "![[experiments/ghost#fig]] does not name any page or file"),
    ],
)
def test_missing_metric_or_figure_names_file_and_line(text, message):
    graph = make_graph({**BASE, "ideas/probe.md": page("Probe", f"x\n{text}\n", "status: open\n")})
    assert [str(p) for p in graph.problems] == [f"site/ideas/probe.md:6: {message}"]


def test_metric_and_figure_resolve_among_experiments_only():
    """An idea named like the experiment that realizes it is no rival for a citation,
    while a plain link to the shared name stays ambiguous."""
    pages = {
        **BASE,
        "ideas/loss-shelf.md": page(
            "Shelf idea", "{{ metric loss-shelf.steps }}\n![[loss-shelf#loss-curve]]\n", "status: open\n"
        ),
    }
    assert make_graph(pages).problems == []
    pages["ideas/probe.md"] = page("Probe", "[[loss-shelf]]\n", "status: open\n")
    assert ["ambiguous" in p.message for p in make_graph(pages).problems] == [True]


def test_experiment_without_a_good_run_cannot_be_cited():
    graph = make_graph(
        {**BASE, "ideas/probe.md": page("Probe", "{{ metric loss-shelf.x }}\n", "status: open\n")}, runs={}
    )
    assert "experiment 'loss-shelf' has no successful run yet" in str(graph.problems[0])


def test_figure_embed_renders_a_plot_div_with_caption_elsewhere():
    graph = make_graph(BASE)
    url = lambda path: f"/root/{path}"  # noqa: E731
    elsewhere = rendering.render("![[loss-shelf#loss-curve]]", "ideas/probe.md", graph, url)
    assert (
        '<div class="lab-plot" data-figure="/root/experiments/loss-shelf/figures/loss-curve.json"></div>' in elsewhere
    )
    assert "*Loss per digit* (from [The loss shelf](../experiments/loss-shelf/index.md))" in elsewhere
    own = rendering.render("![[loss-shelf#loss-curve]]", "experiments/loss-shelf/index.md", graph, url)
    assert "Loss per digit" not in own and "lab-plot" in own


# --------------------------------------------------------------------------- Obsidian's syntax and rules


def test_scan_reads_obsidian_forms():
    text = "| [[a\\|shown]] | x |\n[[b#H1#H2]] [[c#^blk]] [[Name (with paren]] ![[p.png|300x200]]\n"
    assert [(r.form, r.target, r.anchor, r.label) for r in links.scan(text)] == [
        ("link", "a", "", "shown"),
        ("link", "b", "H1#H2", ""),
        ("link", "c", "^blk", ""),
        ("link", "Name (with paren", "", ""),
        ("embed", "p.png", "", "300x200"),
    ]
    assert links.scan(text)[0].written == "[[a\\|shown]]"


def test_scan_leaves_indented_code_and_math_alone_but_not_nested_list_content():
    text = (
        "Para.\n\n    [[indented-code]]\n\n$[[in-math]]$ and $$\n[[display]]\n$$ costs $5 or $6 [[after-dollars]]\n\n"
        "- item\n\t- nested\n\t\t![[pic.png]]\n\n!!! note\n\n    [[in-admonition]]\n"
    )
    assert [r.target for r in links.scan(text)] == ["after-dollars", "pic.png", "in-admonition"]


def test_scan_counts_lines_through_many_links():
    text = "".join(f"line {i} [[n{i}]] [[m{i}]]\n" for i in range(2000))
    refs = links.scan(text)
    assert [r.line for r in refs[::2]] == list(range(1, 2001)) and refs[-1].target == "m1999"


VAULT = {
    **BASE,
    "vault/index.md": page("Vault home", "# Start here\n"),
    "vault/Welcome.md": page("Welcome", "Hi.\n", "aliases: [Front door]\n"),
    "vault/Research/Carry Notes.md": page(
        "Carry Notes",
        "The claim. ^key\n\n## Evidence\n\n### Ablations\n\nText.\n\n## Other\n\n### Ablations\n\nMore.\n",
        "aliases: carry\n",
    ),
    "vault/A/Same.md": page("Same A", "In A.\n"),
    "vault/B/Same.md": page("Same B", "In B.\n"),
}
FILES = ["vault/attachments/diagram.png", "vault/attachments/paper.pdf", "vault/attachments/icons.svg"]


def vault_graph(extra: dict[str, str] | None = None) -> links.Graph:
    notes = [parse_note(src, text, f"site/{src}") for src, text in {**VAULT, **(extra or {})}.items()]
    return links.build_graph(notes, {"loss-shelf": RUN}, {}, generated=["index.md", "ideas/index.md"], files=FILES)


def test_aliases_name_a_note_but_a_file_name_wins():
    graph = vault_graph({"vault/Carry.md": page("Plain carry", "x\n")})
    assert graph.page("Front door", "vault/x.md").src == "vault/Welcome.md"
    assert graph.page("carry", "vault/x.md").src == "vault/Carry.md"
    assert vault_graph().page("carry", "vault/x.md").src == "vault/Research/Carry Notes.md"


def test_a_vault_resolves_its_own_names_first():
    graph = vault_graph()
    assert graph.page("index", "vault/Research/x.md").src == "vault/index.md"  # not the lab's Home
    assert graph.page("index", "ideas/probe.md").src == "index.md"
    assert graph.page("ideas", "ideas/probe.md").src == "ideas/index.md"  # a section page, by its folder
    assert graph.page("carry", "vault/x.md").message == ""  # insights/carry.md is the lab's, no rival


def test_index_with_several_index_files_picks_as_obsidian_and_says_so():
    # Three index.md in the vault; the lab has its Home, the experiments' and the sections'.
    graph = vault_graph(
        {
            "vault/Deep/index.md": page("Deep", "x\n"),
            "vault/Deep/Er/index.md": page("Er", "x\n"),
            "vault/Other/y.md": page("Y", "See [[index]].\n"),
        }
    )
    every = "vault/Deep/Er/index.md, vault/Deep/index.md, vault/index.md"  # the vault's only
    for where, chosen in (
        ("vault/Deep/x.md", "vault/Deep/index.md"),  # the linking note's folder
        ("vault/Deep/Er/x.md", "vault/Deep/Er/index.md"),
        ("vault/Other/y.md", "vault/index.md"),  # else the shortest path
    ):
        found = graph.page("index", where)
        assert (found.src, found.kind) == (chosen, links.AMBIGUOUS)
        assert found.message.startswith(f"[[index]] is ambiguous: it could be {every}; chose {chosen} as Obsidian")
    # Shown by the chosen note's title, not "index.md", and reported where it is written.
    assert rendering.render("See [[index]].", "vault/Other/y.md", graph, str) == "See [Vault home](../index.md)."
    assert [p.where for p in graph.problems if p.kind == links.AMBIGUOUS] == ["site/vault/Other/y.md:4"]
    # In the lab's own notes a bare [[index]] is its Home, whatever other index.md there are.
    assert graph.page("index", "ideas/probe.md") == links.Resolved("index.md")


def test_ambiguous_vault_name_picks_same_folder_then_shortest_path_and_warns():
    graph = vault_graph({"vault/A/Sub/Same.md": page("Same deep", "x\n")})
    assert graph.page("Same", "vault/A/Sub/x.md").src == "vault/A/Sub/Same.md"
    found = graph.page("Same", "vault/Welcome.md")
    assert found.src == "vault/A/Same.md"
    assert found.message == (
        "[[Same]] is ambiguous: it could be vault/A/Same.md, vault/A/Sub/Same.md, vault/B/Same.md; "
        "chose vault/A/Same.md as Obsidian does, not vault/A/Sub/Same.md, vault/B/Same.md; "
        "write the folder to choose"
    )


def test_a_reference_resolves_again_from_each_page_as_from_that_page():
    # Graph.resolve keeps what it worked out: by the page too, since [[Same]] means another note elsewhere.
    graph = vault_graph({"vault/A/Sub/Same.md": page("Same deep", "x\n")})
    ref = links.scan("See [[Same]].")[0]
    assert graph.resolve(ref, "vault/A/Sub/x.md").src == "vault/A/Sub/Same.md"
    assert graph.resolve(ref, "vault/Welcome.md").src == "vault/A/Same.md"
    assert graph.resolve(ref, "vault/A/Sub/x.md").src == "vault/A/Sub/Same.md"


def test_plain_text_of_each_kind_of_markup():
    assert (
        syntax.plain("a _word_ and **bold** and `code`, not snake_case") == "a word and bold and code, not snake_case"
    )
    assert syntax.plain("only _underscores_ here") == "only underscores here"
    assert syntax.plain("See [[note|shown]], [[folder/other]] and [text](x.md).") == "See shown, other and text."
    assert syntax.plain("> [!note] Title\n- {{ metric loss-shelf.final_loss }} ^block-id") == "loss-shelf.final_loss"


def test_attachments_resolve_by_name_or_path_with_their_extension():
    graph = vault_graph()
    assert graph.page("diagram.png", "vault/Welcome.md").src == "vault/attachments/diagram.png"
    assert graph.page("attachments/paper.pdf", "vault/Welcome.md").src == "vault/attachments/paper.pdf"
    assert not graph.page("diagram", "vault/Welcome.md").src


def test_heading_paths_and_block_ids_resolve_to_their_ids():
    graph = vault_graph()
    assert graph.page("Carry Notes", "vault/x.md", "Evidence#Ablations").anchor == "ablations"
    assert graph.page("Carry Notes", "vault/x.md", "Other#Ablations").anchor == "ablations_1"
    assert graph.page("Carry Notes", "vault/x.md", "other").anchor == "other"  # case does not matter
    assert graph.page("Carry Notes", "vault/x.md", "^key").anchor == "^key"


def test_missing_heading_or_block_names_file_line_and_the_headings():
    graph = vault_graph(
        {"vault/x.md": page("X", "a\n[[Carry Notes#Nope]] [[Carry Notes#Evidence#Other]] [[carry#^nope]]\n")}
    )
    headings = "(its headings: Evidence, Ablations, Other, Ablations, Linked from)"  # and the section the wiki adds
    blocks = "(its headings: Evidence, Ablations, Other, Ablations)"
    assert [str(p) for p in graph.problems] == [
        f"site/vault/x.md:5: [[Carry Notes#Nope]]: vault/Research/Carry Notes.md has no heading 'Nope' {headings}",
        f"site/vault/x.md:5: [[Carry Notes#Evidence#Other]]: vault/Research/Carry Notes.md has no heading 'Evidence#Other' {headings}",
        f"site/vault/x.md:5: [[carry#^nope]]: vault/Research/Carry Notes.md has no block '^nope' {blocks}",
    ]
    html = rendering.render("[[Carry Notes#Nope]]", "vault/x.md", graph, str)
    assert html.startswith(
        '<span class="lab-broken" title="&#91;&#91;Carry Notes#Nope&#93;&#93;: vault/Research/Carry Notes.md has no heading'
    )


def test_images_render_with_size_and_fragment_and_other_files_as_links():
    graph = vault_graph()
    out = rendering.render(
        "![[diagram.png]] ![[diagram.png|300]] ![[diagram.png|a plan|30x20]] ![[icons.svg#icon]] ![[paper.pdf]] "
        "[[paper.pdf|the paper]]",
        "vault/Welcome.md",
        graph,
        lambda path: f"/{path}",
    )
    assert out == (
        '<img class="lab-image" src="/vault/attachments/diagram.png" alt="diagram.png"> '
        '<img class="lab-image" src="/vault/attachments/diagram.png" alt="diagram.png" width="300"> '
        '<img class="lab-image" src="/vault/attachments/diagram.png" alt="a plan" width="30" height="20"> '
        '<img class="lab-image" src="/vault/attachments/icons.svg#icon" alt="icons.svg"> '
        "[paper.pdf](attachments/paper.pdf) [the paper](attachments/paper.pdf)"
    )
    assert (
        "![[diagram.png]]" not in links.scan("![[diagram.png]]")[0].written[1:]
    )  # the ! is part of what messages show


def test_transclusion_shows_the_part_with_a_link_and_guards_cycles():
    graph = vault_graph(
        {"vault/Loop.md": page("Loop", "Loop text ![[Loop2]]\n"), "vault/Loop2.md": page("Loop2", "Second ![[Loop]]\n")}
    )
    out = rendering.render("![[Carry Notes#Evidence]]", "vault/Welcome.md", graph, str)
    assert out.startswith(
        '\n\n<div class="lab-embed" markdown>\n\n[Carry Notes › Evidence](Research/Carry%20Notes.md#evidence)'
        "{ .lab-embed-source }\n\n## Evidence\n\n### Ablations\n\nText.\n\n</div>"
    )
    block = rendering.render("- ![[carry#^key]]", "vault/Welcome.md", graph, str)
    assert "\n    The claim.\n" in block and "^key" not in block.split(")", 1)[1]  # nested in the item, no marker
    loop = rendering.render("![[Loop2]]", "vault/Loop.md", graph, str)
    assert "Second" in loop and "[Loop](Loop.md) (embedded here already)" in loop


def test_block_markers_become_anchors_on_their_own_page():
    graph = vault_graph()
    note = graph.notes["vault/Research/Carry Notes.md"]
    assert 'The claim. <a id="^key"></a>' in rendering.render(note.body, note.src, graph, str)


def test_special_characters_in_a_link_target_are_percent_encoded():
    assert rendering.md_link("vault/a.md", "vault/Name (with paren.md", "x") == "[x](Name%20%28with%20paren.md)"
    assert rendering.md_link("a.md", "Why? 50% > #1.md", "x", "h") == "[x](Why%3F%2050%25%20%3E%20%231.md#h)"


def test_snippets_drop_callout_markers_and_show_a_table_row_as_cells():
    body = "> [!note] Title\n> Read [[carry]] first.\n\n| a | b |\n|---|---|\n| [[carry\\|c]] | why |\n"
    graph = make_graph(
        {
            **BASE,
            "ideas/probe.md": page("Probe", body, "status: open\n"),
            "ideas/other.md": page("Other", "| x | [[carry]] |\n", "status: open\n"),
        }
    )
    assert [b.snippet for b in graph.backlinks["insights/carry.md"]] == ["Read carry first.", "x · carry"]


def test_a_plain_page_links_through_properties_written_as_wikilinks_only():
    graph = vault_graph(
        {"vault/p.md": page("P", "x\n", 'project: Website redesign\nrelated: ["[[Welcome]]", "[[ghost]]"]\n')}
    )
    assert [str(p) for p in graph.problems] == ["site/vault/p.md:4: [[ghost]] does not name any page or file"]
    assert [b.snippet for b in graph.backlinks["vault/Welcome.md"]] == ["related: Welcome"]


def test_relative_paths_are_relpaths_between_any_two_files():
    """``rendering.relative_path`` works the folder part out once per pair of folders;
    it must give what ``posixpath.relpath`` gives, odd paths included."""
    import itertools
    import posixpath

    paths = ["index.md", "ideas/a.md", "ideas/b c.md", "experiments/x/index.md", "vault/deep/er/note.md"]
    paths += ["experiments/x/sweeps/s/points/p1/index.md", "ideas", "/abs/a.md"]
    paths += ["ideas/", "ideas/./a.md", "ideas/../a.md", "ideas//a.md", "ideas/a.md/b.md"]  # odd ones
    for to_src, from_src in itertools.product(paths, paths):
        expected = posixpath.relpath(to_src, posixpath.dirname(from_src) or ".")
        assert rendering.relative_path(to_src, from_src) == expected, (to_src, from_src)
