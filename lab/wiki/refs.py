"""References in a note's text, found outside code and math (``lab.wiki.mask``):

- wikilinks, embeds and metric citations (``lab.wiki.syntax``);
- Markdown-syntax links and images, ``[text](Other%20note.md#Heading)`` and
  ``![](Pasted image.png)``, which Obsidian resolves by the same rules as wikilinks
  (``markdown=True``; see ``markdown_target``). Web addresses, ``#anchors`` within the
  page and site-absolute paths are not references to notes: left to the core.

``snippet`` is the sentence around a reference: what a backlink shows. ``Resolved`` is
what a reference resolves to (``lab.wiki.links`` for pages, ``lab.wiki.citations`` for
metrics and figures), with the kind of problem when it does not.
"""

from __future__ import annotations

import re
from bisect import bisect
from dataclasses import dataclass
from urllib.parse import unquote

from lab.wiki.mask import mask
from lab.wiki.syntax import METRIC, UNCLOSED_WIKILINK, WIKILINK, plain

# [text](target) and ![alt](target): the target in <…>, or up to the closing parenthesis
# (Obsidian allows spaces: ![](Pasted image.png)), with an optional "title".
MARKDOWN_LINK = re.compile(
    r"(?P<embed>!?)\[(?P<label>(?:\\.|[^\[\]\n]|\[[^\[\]\n]*\])*)\]"
    r"\((?P<target><[^<>\n]+>|(?:[^()\n\\]|\\.|\([^()\n]*\))*?)(?:[ \t]+\"[^\"\n]*\")?\)"
)
_NOT_A_NOTE = re.compile(r"[a-zA-Z][\w+.-]*:|[#/]|\s*$")  # a scheme (https:, mailto:), #anchor, /path, nothing


@dataclass(frozen=True)
class Ref:
    """One reference in a page's text."""

    form: str  # "link", "embed" or "metric"; "mdlink", "mdembed": Markdown syntax
    target: str  # the page or file (for a metric: the experiment) as written
    anchor: str  # heading path, ^block, figure id or metric name; "" if none
    label: str  # shown text (for an image: its size); "" if none
    start: int  # offsets in the text
    end: int
    line: int  # 1-based line in the text
    written: str  # the reference as written, for messages


# What a problem is, where Obsidian would show the note all the same: a link to no
# note (Obsidian offers to create it), to no heading or block of one (it opens the
# note), a name that several notes share (it picks one, as ``links.obsidian_pick`` does).
MISSING, NO_PLACE, AMBIGUOUS = "missing", "no place", "ambiguous"
OBSIDIAN_TOO = (MISSING, NO_PLACE, AMBIGUOUS)
# Not a problem at all: a value a run will record but none has yet (``lab.wiki.citations``).
PENDING = "pending"
# Not a problem either: a value cited on an archived result's page (a record of its
# commit, never re-run) that the cited result no longer records.
GONE = "gone"


@dataclass(frozen=True)
class Resolved:
    src: str | None  # the page or file it points to; None when broken or pending
    message: str = ""  # why it is broken or pending, or a warning about how it resolved
    anchor: str = ""  # the HTML id on that page, for a heading or ^block
    kind: str = ""  # MISSING, NO_PLACE, AMBIGUOUS, PENDING, GONE, or "" (any other problem: a lab error)
    command: str = ""  # for a PENDING citation: the command that records the value


def _group(text: str, m: re.Match, name: str) -> str:
    return text[m.start(name) : m.end(name)] if m.start(name) >= 0 else ""


def markdown_target(target: str) -> tuple[str, str] | None:
    """(path, anchor) a Markdown link's target names, decoded; None for a web address,
    an anchor on the same page or a site-absolute path."""
    target = target.strip().removeprefix("<").removesuffix(">")
    if _NOT_A_NOTE.match(target) or target.endswith("/"):
        return None
    path, _, anchor = target.partition("#")
    return unquote(path), unquote(anchor)


def scan(text: str, masked: str | None = None, markdown: bool = False) -> list[Ref]:
    """Every wikilink, embed and metric citation outside code and math, in order, and
    with ``markdown`` every Markdown link and image to a note or file.
    ``masked``: ``mask(text)``, if the caller has it already."""
    masked = mask(text) if masked is None else masked
    found = []
    for m in MARKDOWN_LINK.finditer(masked) if markdown and "](" in masked else ():
        if named := markdown_target(m["target"]):
            found.append((m.start(), m.end(), "mdembed" if m["embed"] else "mdlink", *named, _group(text, m, "label")))
    # WIKILINK opens with an optional "!", which Python's re tries at every offset: a
    # text without brackets (most of a page's added sections) is not searched at all.
    for m in WIKILINK.finditer(masked) if "[[" in masked else ():
        form = "embed" if m["embed"] else "link"
        # the parts from the text itself: a code span in a link (``[[note#`code` heading]]``) is blank in ``masked``
        found.append((m.start(), m.end(), form, *(_group(text, m, g) for g in ("target", "anchor", "label"))))
    for m in METRIC.finditer(masked) if "{{" in masked else ():
        found.append((m.start(), m.end(), "metric", m["target"], m["anchor"], ""))
    found.sort()
    refs, line, counted = [], 1, 0
    for start, end, form, target, anchor, label in found:
        line += text.count("\n", counted, start)  # counted once through the text: linear in its size
        counted = start
        refs.append(Ref(form, target.strip(), anchor.strip(), label.strip(), start, end, line, text[start:end]))
    return refs


UNCLOSED_MESSAGE = "[[ opens a link that does not close on its line: close it there (a link cannot span lines)"


def unclosed(text: str, masked: str | None = None) -> list[int]:
    """The 1-based lines of ``text`` where a wikilink opens and does not close, outside
    code and math."""
    masked = mask(text) if masked is None else masked
    return [text.count("\n", 0, m.start()) + 1 for m in UNCLOSED_WIKILINK.finditer(masked)]


_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def snippet(text: str, ref: Ref, paragraphs: list[int] | None = None, width: int = 200) -> str:
    """The sentence around ``ref`` (within its paragraph, or its table row), as plain
    text on one line. ``paragraphs``: where each paragraph of ``text`` starts, if known."""
    line_start = text.rfind("\n", 0, ref.start) + 1
    line_end = text.find("\n", ref.end) % (len(text) + 1)
    if text[line_start : ref.start].lstrip().startswith("|"):  # a table row: its cells
        cells = [plain(cell) for cell in text[line_start:line_end].strip().strip("|").split("|")]
        sentence = " · ".join(c for c in cells if c)
    else:
        if paragraphs is None:
            paragraphs = [m.end() for m in _BLANK_LINE.finditer(text, 0, ref.start)]
        starts = paragraphs[: bisect(paragraphs, ref.start)]
        end = _BLANK_LINE.search(text, ref.end)
        before = _SENTENCE_END.split(text[starts[-1] if starts else 0 : ref.start])[-1]
        after = _SENTENCE_END.split(text[ref.end : end.start() if end else len(text)], maxsplit=1)[0]
        sentence = plain(before + text[ref.start : ref.end] + after)
    sentence = " ".join(sentence.split())
    return sentence if len(sentence) <= width else sentence[: width - 1].rstrip() + "…"
