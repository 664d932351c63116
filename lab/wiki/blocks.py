"""Where Obsidian starts a block and Python-Markdown does not: blank lines added so that
both read the same blocks.

Python-Markdown (as Markdown.pl did) needs a blank line before a list and around
``$$`` display math; Obsidian, like CommonMark, does not:

    Steps:                   Steps:
    - one           ->                            (a list, not "Steps: - one - two")
    - two                    - one
                             - two

    where                    where
    $$x^2$$         ->                            (display math, not "$$x^2$$" as text)
    holds.                   $$x^2$$

                             holds.

Inside block quotes and callouts too (the blank line is a bare ``>`` there). Code is
left alone. mdx-breakless-lists does the list half as a Python-Markdown preprocessor,
but also inside fenced code and not inside quotes, and no extension does the math half,
so this is a plain function on the page's text, run with the other Obsidian rules.
"""

from __future__ import annotations

import re

from lab.wiki.mask import mask_code

_QUOTE = re.compile(r"[ \t]*(?:>[ \t]?)*")  # a line's block-quote prefix ("> > ")
# A list item that may interrupt a paragraph (CommonMark): a bullet, or an ordered list
# starting at 1, with text after the marker.
_INTERRUPTS = re.compile(r" {0,3}(?:[-*+]|1[.)])[ \t]+\S")
_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d+[.)])(?:[ \t]|$)")
_OPENS_DISPLAY = re.compile(r" {0,3}\$\$")
_CLOSES_DISPLAY = re.compile(r".*\$\$[ \t]*$")
_MAYBE = re.compile(r"\n[ \t>]*(?:[-*+]|1[.)]|\$\$)")
_BLOCK_START = re.compile(r" {0,3}(?:#{1,6}[ \t]|```|~~~|\||<|!!!|\?\?\?|\[!)")  # blocks that need no blank


def separate(text: str) -> str:
    """``text`` with a blank line before each list that follows a paragraph, and around
    each ``$$`` display block that touches text."""
    if not _MAYBE.search(text):
        return text  # most pages: no list or display math right under a line
    lines, masked = text.split("\n"), mask_code(text).split("\n")
    out: list[str] = []
    in_list = in_math = False
    for i, line in enumerate(lines):
        prefix = _QUOTE.match(masked[i]).group()
        rest = masked[i][len(prefix) :]
        before = masked[i - 1][len(_QUOTE.match(masked[i - 1]).group()) :] if i else ""
        same_quote = i and _QUOTE.match(masked[i - 1]).group().strip() == prefix.strip()
        after_text = bool(i and same_quote and before.strip() and not _BLOCK_START.match(before))
        if in_math:
            out.append(line)
            if _CLOSES_DISPLAY.match(rest):
                in_math = False
                if i + 1 < len(lines) and _text_follows(masked[i + 1], prefix):
                    out.append(prefix.rstrip())
            continue
        if rest.strip() and _OPENS_DISPLAY.match(rest) and not rest.lstrip().startswith("$$$"):
            if after_text and not in_list:
                out.append(prefix.rstrip())
            closes_here = _CLOSES_DISPLAY.match(rest.lstrip()[2:])
            out.append(line)
            if closes_here and i + 1 < len(lines) and _text_follows(masked[i + 1], prefix):
                out.append(prefix.rstrip())  # $$x$$ on a line of its own, text right below
            in_math = not closes_here
            continue
        if _ITEM.match(rest):
            if after_text and not in_list and _INTERRUPTS.match(rest):
                out.append(prefix.rstrip())
            in_list = True
        elif not rest.strip():
            in_list = False
        out.append(line)
    return "\n".join(out)


def _text_follows(masked_line: str, prefix: str) -> bool:
    """Whether ``masked_line`` holds text in the same quote as ``prefix``."""
    quote = _QUOTE.match(masked_line).group()
    return quote.strip() == prefix.strip() and bool(masked_line[len(quote) :].strip())
