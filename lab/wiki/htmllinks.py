"""Links between pages written into the HTML after the conversion, not parsed as Markdown.

A note's page holds many links the wiki writes itself (its wikilinks, its project, its
tags, a project's lists), and a generated page (an index, the tags page) hardly anything
else: as Markdown, each is parsed by the core's link pattern, split out of its text,
re-scanned by every inline pattern and resolved again by the core's link checker,
about a third of a short note's conversion (measured on 1,000 notes). While
``collecting(url)`` is active, ``rendering.md_link`` hands such a link here instead: it
goes into the Markdown as a token of two private-use characters around a number, which
no Markdown pattern reads, and ``fill`` puts the ``<a>`` element in its place in the
converted HTML, byte for byte what the core would have written:

- ``href``: the core's URL of the file, relative to the page (``url``), and the anchor;
- the text: the link's Markdown text when it is plain (``PLAIN``: escaped characters,
  the entities ``html.escape`` writes, and no character Markdown acts on), unescaped;
  a text with any other Markdown, a link with a title, and a link in a heading
  (whose text is also the table of contents' entry) stay Markdown links.

``Links.add`` takes other HTML the same way: a note's meta line (``metaline``).

The core does not check these links' anchors; the wiki resolves them itself
(``links.Graph.page``: a heading or block of a note that is not there is a problem).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_OPEN, _CLOSE = "\ue000", "\ue001"  # private use: no text of a note holds them, no pattern matches them
TOKEN = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
# Markdown text that converts to itself, less its backslashes: md_escape's escapes,
# html.escape's entities, and nothing else an inline pattern or the tables act on.
PLAIN = re.compile(r"(?:\\[\\`*_{}\[\]#|!$]|&(?:amp|lt|gt);|[^\\`*_{}\[\]#|!$&<>~^=\n])+")
_UNESCAPE = re.compile(r"\\([\\`*_{}\[\]#|!$])")


class Links:
    """The links of one page, by token."""

    def __init__(self, url: Callable[[str], str]) -> None:
        self.url = url  # a file of the docs dir -> its URL relative to the page
        self.html: list[str] = []
        self.held = 0  # > 0 while links must stay Markdown (in a heading)

    def token(self, to_src: str, text: str, anchor: str = "", cls: str = "") -> str | None:
        """The token of a link to ``to_src``; None when the link must stay Markdown."""
        shown = None if self.held else plain_html(text)
        if shown is None:
            return None
        href = self.url(to_src) + (f"#{anchor}" if anchor else "")
        attrs = (f' class="{html.escape(cls)}"' if cls else "") + f' href="{_attribute(href)}"'
        return self.add(f"<a{attrs}>{shown}</a>")

    def add(self, html: str) -> str:
        """The token that ``fill`` replaces with ``html`` (whose own tokens are filled now)."""
        self.html.append(self.fill(html))
        return f"{_OPEN}{len(self.html) - 1}{_CLOSE}"

    def fill(self, converted: str) -> str:
        """``converted`` (the page's HTML) with each token replaced by its link."""
        if not self.html or _OPEN not in converted:
            return converted
        return TOKEN.sub(lambda m: self.html[int(m[1])], converted)


def plain_html(text: str) -> str | None:
    """The HTML the core makes of Markdown ``text`` when it is plain (``PLAIN``; tokens
    of links are plain too), else None."""
    return _UNESCAPE.sub(_char, text) if PLAIN.fullmatch(text) else None


def _char(match: re.Match) -> str:
    return match[1]


_BARE_AMPERSAND = re.compile(r"&(?!(?:#[0-9]+|#x[0-9a-f]+|[0-9a-z]+);)", re.I)


def _attribute(value: str) -> str:
    """As Python-Markdown writes an attribute's value (an entity's ``&`` kept)."""
    value = _BARE_AMPERSAND.sub("&amp;", value) if "&" in value else value
    return value.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


_active: list[Links] = []


def active() -> Links | None:
    """The page's links being collected, if any."""
    return _active[-1] if _active else None


@contextmanager
def collecting(url: Callable[[str], str]) -> Iterator[Links]:
    """Links made by ``rendering.md_link`` inside the block become tokens of the
    ``Links`` yielded (``url``: a file's URL relative to the page being built)."""
    links = Links(url)
    _active.append(links)
    try:
        yield links
    finally:
        _active.remove(links)


@contextmanager
def held() -> Iterator[None]:
    """Links made inside the block stay Markdown (a link in a heading)."""
    links = active()
    if links is not None:
        links.held += 1
    try:
        yield
    finally:
        if links is not None:
            links.held -= 1
