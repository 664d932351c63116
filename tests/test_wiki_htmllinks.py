"""lab.wiki.htmllinks: a page's links as tokens in its Markdown, filled in as ``<a>``
after the conversion, give the HTML the same links as Markdown give; a link that
must stay Markdown (in a heading, with a title, with Markdown in its text) stays so."""

import json
import re
from pathlib import Path
from urllib.parse import quote

import markdown
import pytest
import yaml

from lab.wiki import htmllinks, metaline, rendering
from lab.wiki.rendering import md_escape, md_link

REPO = Path(__file__).resolve().parents[1]
URLS = {"notes/other.md": "../other/", "tags.md": "../../tags/", "a b/c?.md": "../../a%20b/c%3F/"}


def url(src: str) -> str:
    return URLS[src]


def convert(text: str) -> str:
    """``text`` converted with the wiki's Markdown extensions."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    names, configs = [], {}
    for entry in config["markdown_extensions"]:
        name, settings = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
        names.append(name)
        configs[name] = settings or {}
    return markdown.Markdown(extensions=names, extension_configs=configs).convert(text)


def as_markdown(to_src: str, text: str, anchor: str = "", cls: str = "") -> str:
    """The Markdown link as the core would see it once it has made the URL."""
    target = url(to_src) + (f"#{anchor}" if anchor else "")
    return f"[{text}]({target})" + (f"{{ .{cls} }}" if cls else "")


TITLES = ["Projects note 0", "a_b*c", "x & y < z", '"quoted" it\'s', "costs $5", "[draft] #1", "a|b", "λ → μ", "1. x"]


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("where", ["See {}.", "*in {} emphasis*", "| a | b |\n|---|---|\n| {} | x |", "- {}"])
def test_a_token_converts_to_the_link_markdown_gives(title, where):
    text = md_escape(title)
    cases = [("notes/other.md", text, "", ""), ("tags.md", text, "tag-x", "lab-tag"), ("a b/c?.md", text, "h", "")]
    for to_src, shown, anchor, cls in cases:
        with htmllinks.collecting(url) as links:
            token = md_link("notes/this.md", to_src, shown, anchor, cls=cls)
        assert token != as_markdown(to_src, shown, anchor, cls) and "[" not in token
        expected = convert(where.format(as_markdown(to_src, shown, anchor, cls)))
        assert links.fill(convert(where.format(token))) == expected


def test_links_that_stay_markdown():
    with htmllinks.collecting(url) as links:
        assert md_link("notes/this.md", "notes/other.md", "*emphasis*") == "[*emphasis*](other.md)"
        assert md_link("notes/this.md", "notes/other.md", "x", title="t") == '[x](other.md "t")'
        with htmllinks.held():
            assert md_link("notes/this.md", "tags.md", "carry", "tag-carry", cls="lab-tag") == (
                "[carry](../tags.md#tag-carry){ .lab-tag }"
            )
        assert links.html == []
    assert md_link("notes/this.md", "notes/other.md", "x") == "[x](other.md)"  # nothing collected: Markdown


def test_a_link_in_a_heading_stays_markdown():
    text = "## See [[other]]\n\nSee [[other]].\n\nAlso [[other]]\n---\n\n> # [[other]]\n"
    assert [rendering._in_heading(text, m.start()) for m in re.finditer(r"\[\[", text)] == [
        True,
        False,
        True,
        True,
    ]


def test_fill_leaves_a_page_without_tokens_alone():
    links = htmllinks.Links(url)
    assert links.fill("<p>x</p>") == "<p>x</p>"
    links.token("notes/other.md", "Other")
    assert links.fill("<p>\ue0000\ue001</p>") == '<p><a href="../other/">Other</a></p>'


def test_a_note_renders_its_heading_links_as_markdown_and_the_rest_as_tokens():
    from lab.wiki import links
    from lab.wiki.notes import parse_note

    notes = [
        parse_note("notes/this.md", "---\ntitle: This\n---\n\n## About [[other]]\n\nSee [[other]].\n"),
        parse_note("notes/other.md", "---\ntitle: Other\n---\n\nText.\n"),
    ]
    graph = links.build_graph(notes, {}, {})
    with htmllinks.collecting(url) as collected:
        text = rendering.render(notes[0].body, "notes/this.md", graph, url)
    assert "## About [Other](other.md)\n" in text
    assert "See \ue0000\ue001." in text
    assert collected.html == ['<a href="../other/">Other</a>']


def _meta_graph(project_title: str):
    from lab.wiki import links
    from lab.wiki.notes import parse_note

    idea = "---\ntitle: This\nstatus: open\npriority: high\nproject: other\ntags: [carry, λ]\n---\n\nText.\n"
    other = f"---\ntitle: {json.dumps(project_title)}\n---\n\nText.\n"
    notes = [parse_note("ideas/this.md", idea), parse_note("projects/other.md", other)]
    return links.build_graph(notes, {}, {})


def _relative(src: str) -> str:
    """As the core's URLs, but the Markdown paths: a plain Markdown conversion leaves them so."""
    return quote(rendering.relative_path(src, "ideas/this.md"))


@pytest.mark.parametrize("project_title", ["Other", "a_b*c", "x & y < z", "costs $5"])
def test_a_meta_line_of_html_converts_as_its_markdown_does(project_title):
    graph = _meta_graph(project_title)
    note = graph.notes["ideas/this.md"]
    as_markdown = rendering.render(metaline.meta_line(note, graph), note.src, graph, _relative)
    assert as_markdown.startswith("**Status:** open · **Priority:** high · **Project:** [")
    with htmllinks.collecting(_relative) as links:
        line = metaline.meta_line(note, graph)
    assert line.endswith("\n{ .lab-meta }") and "**" not in line and "[" not in line
    assert links.fill(convert(line)) == convert(as_markdown)


def test_a_meta_line_with_a_broken_link_stays_markdown():
    graph = _meta_graph("Other")
    note = graph.notes["ideas/this.md"]
    note.meta["project"] = "nowhere"
    with htmllinks.collecting(_relative):
        line = metaline.meta_line(note, graph)
    assert line.startswith("**Status:** open · **Priority:** high · **Project:** [[nowhere]] · **Tags:** ")
