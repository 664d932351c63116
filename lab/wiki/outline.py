"""A note's headings and ``^block`` ids: what ``[[note#heading]]`` and
``[[note#^id]]`` point at, and the part of the note ``![[note#…]]`` shows.

Heading ids are the ones Python-Markdown's toc extension gives (slug of the text,
``_1``, ``_2``… for repeats), so a link's anchor lands where the page puts it.
Headings are matched by slug, which ignores case and punctuation as Obsidian does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown.extensions.toc import slugify

from lab.wiki.mask import mask
from lab.wiki.syntax import BLOCK_ID, plain

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.M)
_ATTR_ID = re.compile(r"\s*\{[^}]*#([\w-]+)[^}]*\}$")  # "## Title { #id }" (attr_list)
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d+[.)])[ \t]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def slug(text: str) -> str:
    return slugify(plain(text), "-")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    id: str  # its HTML id on the page
    start: int  # offset of the heading line
    end: int  # where its section ends: the next heading of the same or a higher level


class Outline:
    """The headings and block ids of one note's text, found once."""

    def __init__(self, text: str):
        self.text = text
        masked = mask(text)
        self.headings: list[Heading] = []
        seen: set[str] = set()
        found = list(_HEADING.finditer(masked))
        for i, m in enumerate(found):
            level, title = len(m[1]), text[m.start(2) : m.end(2)]
            custom = _ATTR_ID.search(title)
            title = title[: custom.start()] if custom else title
            end = next((h.start() for h in found[i + 1 :] if len(h[1]) <= level), len(text))
            self.headings.append(
                Heading(level, title, custom[1] if custom else _unique(slug(title), seen), m.start(), end)
            )
        self.blocks = {m["id"]: m for m in BLOCK_ID.finditer(masked)}

    def names(self) -> list[str]:
        return [h.text for h in self.headings]

    def heading(self, path: str) -> Heading | None:
        """The heading ``A#B`` names: B within A's section (each part matched by slug)."""
        start, end, found = 0, len(self.text), None
        for part in path.split("#"):
            want = slug(part)
            found = next((h for h in self.headings if start <= h.start < end and want in (h.id, slug(h.text))), None)
            if found is None:
                return None
            start, end = found.start + 1, found.end
        return found

    def anchor(self, path: str) -> str | None:
        """The HTML id for ``[[note#path]]``; None if the note has no such place."""
        if path.startswith("^"):
            return path if path[1:] in self.blocks else None
        found = self.heading(path)
        return found.id if found else None

    def part(self, path: str) -> str:
        """The text ``![[note#path]]`` shows: the whole note, a heading's section, or a block.

        ``path`` must exist (``anchor`` said so)."""
        if not path:
            return self.text
        if not path.startswith("^"):
            found = self.heading(path)
            return self.text[found.start : found.end]
        marker = self.blocks[path[1:]]
        line_start = self.text.rfind("\n", 0, marker.start()) + 1
        line = self.text[line_start : marker.start()]
        if not line.strip():  # "^id" alone on a line: it marks the block just above
            end = line_start
        elif _LIST_ITEM.match(line):  # in a list: the item
            return line.strip() + "\n"
        else:
            end = marker.start()
        starts = [m.end() for m in _BLANK_LINE.finditer(self.text, 0, max(end - 1, 0))]
        return self.text[starts[-1] if starts else 0 : end].strip("\n") + "\n"


def _unique(id: str, seen: set[str]) -> str:
    """As the toc extension does: a repeated id gets ``_1``, ``_2``…"""
    unique, n = id, 0
    while unique in seen:
        n += 1
        unique = f"{id}_{n}"
    seen.add(unique)
    return unique
