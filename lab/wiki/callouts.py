"""Obsidian callouts as Material admonitions.

    > [!tip] Title             !!! tip "Title"
    > Text.            ->          Text.

``> [!type]-`` folds (a closed ``???`` details block), ``> [!type]+`` folds open
(``???+``). Material knows Obsidian's types and their aliases; any other type is
drawn as a note titled with the type. Callouts nest; code is left alone.
"""

from __future__ import annotations

import re

from lab.wiki.mask import mask_code

# Material's admonition types and aliases, which are Obsidian's callout types.
TYPES = frozenset(
    "note abstract summary tldr info todo tip hint important success check done question help faq "
    "warning caution attention failure fail missing danger error bug example quote cite".split()
)
_CALLOUT = re.compile(r"(?P<lead>[ \t]*)>[ \t]?\[!(?P<type>[\w-]+)\](?P<fold>[+-]?)[ \t]*(?P<title>.*)")
_OPENER = {"": "!!!", "+": "???+", "-": "???"}


def convert(text: str) -> str:
    """``text`` with each callout turned into an admonition (or a details block)."""
    if "[!" not in text:
        return text  # most pages: no need to look for code
    lines, masked = text.split("\n"), mask_code(text).split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        callout = _CALLOUT.fullmatch(lines[i]) if _CALLOUT.fullmatch(masked[i]) else None
        if callout is None:
            out.append(lines[i])
            i += 1
            continue
        lead, name = callout["lead"], callout["type"].lower()
        quoted = re.compile(rf"{re.escape(lead)}>[ \t]?")
        body = []
        i += 1
        while i < len(lines) and quoted.match(lines[i]):
            body.append(quoted.sub("", lines[i], count=1))
            i += 1
        title = callout["title"].strip() or (name.capitalize() if name not in TYPES else "")
        if out and out[-1].strip():
            out.append("")  # an admonition starts a block of its own
        out.append(
            f"{lead}{_OPENER[callout['fold']]} {name if name in TYPES else 'note'}" + (f' "{title}"' if title else "")
        )
        out += [f"{lead}    {line}" if line.strip() else "" for line in convert("\n".join(body)).split("\n")]
        out.append("")
    return "\n".join(out)
