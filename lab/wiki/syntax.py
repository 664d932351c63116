"""The notes' own syntax, written and read here only.

    [[name]]  [[folder/name]]  [[name|shown text]]  [[name#heading#subheading]]  [[name#^block]]
    ![[name]]  ![[name#heading]]  ![[name#^block]]       transclusion: the target's text, shown here
    ![[picture.png]]  ![[picture.png|300]]  ![[picture.png|300x200]]   an image (width, height)
    ![[experiments/NAME#FIGURE_ID]]                      a figure of an experiment's latest run
    {{ metric NAME.metric_name }}                        a metric value of that run

In a table cell Obsidian writes the alias pipe as ``\\|`` (``[[name\\|shown]]``); it
means the same.
"""

from __future__ import annotations

import re

from lab import results

WIKILINK = re.compile(
    r"(?P<embed>!?)\[\["
    r"(?P<target>(?:[^\[\]|#\n\\]|\\(?!\|))*)"  # a backslash only counts as the table escape before |
    r"(?:#(?P<anchor>(?:[^\[\]|\n\\]|\\(?!\|))*))?"
    r"(?:\\?\|(?P<label>[^\[\]\n]*))?\]\]"
)
# "[[" with no "]]" before the line ends: a link cannot span lines (in Obsidian either),
# so what was meant as one shows as its raw text, and no resolution ever sees it.
UNCLOSED_WIKILINK = re.compile(r"!?\[\[[^\[\]\n]*(?=\n|\Z)")
METRIC = re.compile(r"\{\{\s*metric\s+(?P<target>[^\s.{}]+)\.(?P<anchor>[^\s{}]+)\s*\}\}")
# "^id" at the end of a line marks that block, so that [[note#^id]] can point at it;
# Obsidian also reads it glued to an embed (``![[chart.png]]^id``).
BLOCK_ID = re.compile(r"(?:^|(?<=[ \t])|(?<=\]\]))\^(?P<id>[A-Za-z0-9-]+)[ \t]*$", re.M)


def figure_embed(experiment: str, figure_id: str) -> str:
    """How a page embeds figure ``figure_id`` of ``experiment`` (what ``lab.render`` writes)."""
    return f"![[{results.RESULTS_DIR.name}/{experiment}#{figure_id}]]"


_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")  # [text](url), ![alt](url)
_CALLOUT_LINE = re.compile(r"^[ \t>]*\[![\w-]+\][+-]?.*$", re.M)  # a callout's first line
_MARKERS = re.compile(r"^[ \t]*(?:(?:[-*+>]|\d+\.|#+)[ \t]+)+", re.M)  # list, quote, heading markers
_EMPHASIS = re.compile(r"[*`]+|(?<!\w)_+|_+(?!\w)")  # emphasis and code marks, not snake_case


def plain(text: str) -> str:
    """Markdown source as readable plain text: links as their shown text, no markup.

    Each pattern only where the text holds what it starts with: this runs on the
    sentence around every link of every note (its backlink's snippet)."""
    if "[[" in text:
        text = WIKILINK.sub(
            lambda m: (m["label"] or m["target"].split("/")[-1] or m["anchor"] or "").rstrip("\\"), text
        )
    text = METRIC.sub(lambda m: f"{m['target']}.{m['anchor']}", text) if "{{" in text else text
    text = _MARKDOWN_LINK.sub(r"\1", text) if "](" in text else text
    text = _CALLOUT_LINE.sub("", text) if "[!" in text else text
    text = _MARKERS.sub("", text)
    text = BLOCK_ID.sub("", text) if "^" in text else text  # a ^id needs a ^
    return _EMPHASIS.sub("", text).strip() if "*" in text or "`" in text or "_" in text else text.strip()
