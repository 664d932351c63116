"""``$…$`` and ``$$…$$`` as MathML, made at build time: the Markdown extension
``lab.wiki.math`` (listed in mkdocs.yml).

pymdown-extensions' arithmatex finds the math (its rules for ``$``, escapes and
blocks); latex2mathml turns the TeX into MathML, which browsers draw themselves,
so the wiki needs no script and no CDN. TeX that latex2mathml cannot read is shown
as code, marked like a broken link, and logged as a warning (fatal in ``--strict``).
``$$…$$`` within a line of text is display math, as Obsidian shows it (arithmatex reads
only ``$$`` blocks; ``lab.wiki.blocks`` makes a ``$$`` block that touches text one).
"""

from __future__ import annotations

import html
import logging
import xml.etree.ElementTree as etree

from latex2mathml.converter import convert
from markdown import Markdown
from markdown.inlinepatterns import InlineProcessor
from pymdownx.arithmatex import ArithmatexExtension, BlockArithmatexProcessor, InlineArithmatexPattern

log = logging.getLogger("mkdocs.plugins.lab.math")


def mathml(tex: str, display: bool) -> str:
    """MathML for ``tex``, or the TeX as a marked code span if it cannot be read."""
    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception as err:  # latex2mathml raises many types for bad TeX, some without a message
        reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        log.warning(f"math: cannot read ${tex.strip()}$: {reason}")
        return f'<code class="lab-broken" title="{html.escape(reason)}">{html.escape(tex)}</code>'


class _Inline(InlineArithmatexPattern):
    def handleMatch(self, m, data):  # noqa: ANN001, ANN201 (Python-Markdown's signature)
        groups = m.groups()
        if groups[0] or (len(groups) > 3 and groups[3]):  # escaped backslashes before a $: not math
            return super().handleMatch(m, data)
        tex = groups[2] or groups[5]
        return self.md.htmlStash.store(mathml(tex, display=False)), m.start(0), m.end(0)


class _Block(BlockArithmatexProcessor):
    def run(self, parent, blocks):  # noqa: ANN001, ANN201
        blocks.pop(0)
        groups = self.match.groupdict()
        tex = groups.get("math") or groups.get("math2") or groups.get("math3") or ""
        div = etree.SubElement(parent, "div", {"class": "lab-math"})
        div.text = self.parser.md.htmlStash.store(mathml(tex, display=True))
        return True


# ``$$x$$`` inside a line of text: Obsidian shows display math there; arithmatex would
# read ``$x$`` and leave a dollar either side. Not after a backslash, no space inside.
INLINE_DISPLAY = r"(?<![\\$])\$\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<![\s\\])\$\$(?!\$)"


class _InlineDisplay(InlineProcessor):
    def handleMatch(self, m, data):  # noqa: ANN001, ANN201
        return self.md.htmlStash.store(mathml(m.group(1), display=True)), m.start(0), m.end(0)


class MathExtension(ArithmatexExtension):
    """arithmatex, with its two processors swapped for ones that write MathML, and
    ``$$…$$`` within a line read as display math."""

    def extendMarkdown(self, md: Markdown) -> None:
        super().extendMarkdown(md)
        config = self.getConfigs()
        inline = md.inlinePatterns["arithmatex-inline"]
        md.inlinePatterns.register(_Inline(inline.pattern, config), "arithmatex-inline", 189.9)
        md.inlinePatterns["arithmatex-inline"].md = md
        block = md.parser.blockprocessors["arithmatex-block"]
        md.parser.blockprocessors.register(_Block(block.pattern.pattern, config, md), "arithmatex-block", 79.9)
        # after code spans (190), before arithmatex's single dollars
        md.inlinePatterns.register(_InlineDisplay(INLINE_DISPLAY, md), "lab-inline-display-math", 189.95)


def makeExtension(**kwargs) -> MathExtension:  # noqa: N802 (the name Python-Markdown looks for)
    return MathExtension(**kwargs)
