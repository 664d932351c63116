"""A note's headings and ``^block`` ids: what ``[[note#heading]]`` and
``[[note#^id]]`` point at, and the part of the note ``![[note#…]]`` shows.

A heading's id is chosen here and written into the page (``with_ids``: ``## Title
{ #id }``, which attr_list reads), so a link's anchor equals the page's id for every
heading, whatever the slug rules would make of numbers, code spans, escapes,
underscores or emoji. The id is the toc extension's slug of the heading's text (``_1``, ``_2``… for
repeats), the Unicode slug where that is empty (a heading in another script), and
``section`` where even that is (a heading of emoji). Headings are matched by slug,
which ignores case and punctuation as Obsidian does.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from markdown.extensions.toc import slugify, slugify_unicode

from lab.wiki.mask import mask
from lab.wiki.syntax import BLOCK_ID, WIKILINK

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.M)
_ATTR_ID = re.compile(r"\s*\{[^}]*#([\w-]+)[^}]*\}$")  # "## Title { #id }" (attr_list)
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d+[.)])[ \t]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


# An escaped ASCII punctuation character (``\*``, ``\_``) is that character, never
# emphasis: it stands in for itself as a private-use character until the end.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_KEPT = 0xE000  # + the character's code, for an escaped one or one in a code span


def _keep(text: str) -> str:
    return "".join(chr(_KEPT + ord(c)) if ord(c) < 128 else c for c in text)


def heading_text(text: str) -> str:
    """A heading's Markdown as the text it shows: links as their text, code spans as
    their code (as written: no escapes there), escaped characters as themselves, no
    emphasis, tags or escapes. Unlike ``syntax.plain`` it keeps what looks like a list
    marker (``1. Create access token``)."""
    text = WIKILINK.sub(lambda m: m["label"] or m["target"].split("/")[-1] or m["anchor"] or "", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](url)
    text = re.sub(r"(`+)(.+?)\1", lambda m: _keep(m[2].strip()), text)
    text = _ESCAPED.sub(lambda m: _keep(m[1]), text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"[*]+|(?<!\w)_+|_+(?!\w)", "", text)  # emphasis, not snake_case
    return re.sub("[\ue000-\ue07f]", lambda m: chr(ord(m[0]) - _KEPT), text).strip()


@functools.lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """The id of a heading (or the anchor of a link to it) written ``text``.

    Kept per text: most notes share their headings' words, and links name them again."""
    shown = heading_text(text)
    return slugify(shown, "-") or slugify_unicode(shown, "-") or "section"


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    id: str  # its HTML id on the page
    start: int  # offset of the heading line
    end: int  # where its section ends: the next heading of the same or a higher level
    id_at: int | None = None  # where ``with_ids`` writes the id; None: the heading has its own


class Outline:
    """The headings and block ids of one note's text, found once."""

    def __init__(self, text: str):
        self.text = text
        masked = mask(text)
        self.headings: list[Heading] = []
        seen: set[str] = set()
        found = list(_HEADING.finditer(masked))
        for i, m in enumerate(found):
            # The title from the text itself: in the masked text a code span is blank
            # (`` ## `fgets` Function `` would read "Function").
            line = _HEADING.match(text[m.start() : m.end()])
            level, title = len(m[1]), line[2]
            custom = _ATTR_ID.search(title)
            title = title[: custom.start()] if custom else title
            end = next((h.start() for h in found[i + 1 :] if len(h[1]) <= level), len(text))
            heading_id = custom[1] if custom else _unique(slug(title), seen)
            self.headings.append(
                Heading(level, title, heading_id, m.start(), end, None if custom else m.start() + line.end(2))
            )
        # BLOCK_ID tries its lookbehinds at every offset: most notes have no ^ to look for
        self.blocks = {m["id"]: m for m in BLOCK_ID.finditer(masked)} if "^" in masked else {}

    def with_ids(self) -> str:
        """The text with each heading's id written into it (``## Title { #id }``)."""
        out, pos = [], 0
        for h in self.headings:
            if h.id_at is not None:
                out += [self.text[pos : h.id_at], f" {{ #{h.id} }}"]
                pos = h.id_at
        return "".join(out) + self.text[pos:]

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
