"""Backlinks are HTML added after Markdown: titles, snippets and URLs with HTML's special
characters must come out as the same text, never as markup."""

from html.parser import HTMLParser

from lab.wiki import links, pages
from lab.wiki.notes import parse_note

TITLE = """Heads <b>& "tails"</b>"""
SENTENCE = """Compare [[ideas/target|the <i>target</i>]] with <script>alert('&amp;')</script> & "more"."""
PAGES = {
    "ideas/target.md": "---\ntitle: Target\nstatus: open\n---\nNothing yet.\n",
    "insights/linker.md": f"---\ntitle: '{TITLE}'\nstatus: supported\n---\nFirst paragraph.\n\n{SENTENCE}\n",
}
HREF = """../insights/linker/?a=1&b="2"#x"""


class Parsed(HTMLParser):
    """The tags of a fragment, each list item's text and each link's href and text."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.items: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._in: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in.append(tag)
        if tag == "li":
            self.items.append("")
        if tag == "a":
            self.links.append((dict(attrs)["href"], ""))

    def handle_endtag(self, tag):
        self._in.pop()

    def handle_data(self, data):
        if "li" in self._in:
            self.items[-1] += data
        if "a" in self._in:
            href, text = self.links[-1]
            self.links[-1] = (href, text + data)


def test_backlink_title_snippet_and_url_stay_text():
    notes = [parse_note(src, text, f"site/{src}") for src, text in PAGES.items()]
    graph = links.build_graph(notes, {}, {})
    [backlink] = graph.backlinks["ideas/target.md"]
    snippet = """Compare the <i>target</i> with <script>alert('&amp;')</script> & "more"."""
    assert backlink.snippet == snippet  # the plain text, specials and all
    html = pages.backlinks(graph.notes["ideas/target.md"], graph, lambda src: HREF)
    parsed = Parsed(html)
    assert parsed.tags == ["h2", "ul", "li", "a"]  # no markup from the note's text
    assert parsed.links == [(HREF, TITLE)]
    assert parsed.items == [f"{TITLE} — “{snippet}”"]  # and no character lost or doubled
