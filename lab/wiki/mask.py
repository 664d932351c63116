"""What link processing leaves alone: code and math.

``mask`` blanks them out (same length, newlines kept), so that a pattern searched in
the masked text finds only prose, at the offsets of the original text.

- fenced code (``` or ~~~, also inside block quotes), indented code (four spaces
  or a tab after a blank line, unless inside a list item or an admonition, where
  indentation is how content nests), and code spans;
- math: ``$…$`` and ``$$…$$``, by the rules the math extension reads them with
  (``lab.wiki.math``): no space just inside an inline ``$``, ``\\$`` is a dollar.
"""

from __future__ import annotations

import functools
import re

_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})")
_MAYBE_BLOCK = re.compile(r"```|~~~|^(?: {4}|\t)", re.M)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.S)
# Lines after which indented lines are nested content, not code: list items, admonitions.
_CONTAINER = re.compile(r" {0,3}(?:[-*+]|\d+[.)])(?:[ \t]|$)| {0,3}(?:!!!|\?\?\?\+?)[ \t]")
_MATH = re.compile(
    r"(?<!\\)\$\$(?:\\.|[^\\])+?\$\$"  # display: may span lines
    r"|(?<![\\$])\$(?![\s$])(?:\\.|[^\\$\n]|\n(?![ \t]*\n))+?(?<![\s\\])\$",  # inline: within a paragraph
    re.S,
)


def blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _indent(line: str) -> int:
    expanded = line.expandtabs(4) if "\t" in line else line  # most lines have no tab
    return len(expanded) - len(expanded.lstrip(" "))


def _blank_line(line: str) -> str:
    """``blank`` of one line of ``splitlines(keepends=True)``: a newline only at its end."""
    return " " * (len(line) - 1) + "\n" if line.endswith("\n") else " " * len(line)


@functools.lru_cache(maxsize=2048)
def mask(text: str) -> str:
    """``text`` with code and math blanked out.

    Kept for the same text: a note's text is masked to find its links, its headings and
    its blocks, and again on every rebuild of ``make serve`` (a page of code, an
    experiment's, takes milliseconds)."""
    masked = mask_code(text)
    return _MATH.sub(lambda m: blank(m.group()), masked) if "$" in masked else masked


def mask_code(text: str) -> str:
    """``text`` with fenced code, indented code and code spans blanked out."""
    if not _MAYBE_BLOCK.search(text):  # most notes: no fence and no indented line, so no code block
        return _CODE_SPAN.sub(lambda m: blank(m.group()), text) if "`" in text else text
    lines, fence = [], None
    indented_code, in_container, after_blank = False, False, True
    for line in text.splitlines(keepends=True):
        is_blank, indent = not line.strip(), _indent(line)
        match = _FENCE.match(line) if "`" in line or "~" in line else None
        if fence is not None:  # inside fenced code, until a bare closing fence
            code = True
            if match and match.group(1).startswith(fence) and not line[match.end() :].strip():
                fence = None
        elif indented_code and (is_blank or indent >= 4):
            code = True
        elif not is_blank and indent >= 4 and after_blank and not in_container:
            code = indented_code = True
        elif match:
            code, fence, indented_code = True, match.group(1), False
        else:
            code = indented_code = False
            if not is_blank and indent < 4:
                in_container = bool(_CONTAINER.match(line)) or (in_container and not after_blank)
        after_blank = is_blank
        lines.append(_blank_line(line) if code else line)
    return _CODE_SPAN.sub(lambda m: blank(m.group()), "".join(lines))
