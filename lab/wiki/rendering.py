"""A page's references as Markdown: links, metric citations (a run's value, or a sweep's
mean ± std), images, figures and transclusions, resolved through the graph that
``lab.wiki.links.build_graph`` made.
"""

from __future__ import annotations

import functools
import html
import math
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from lab import results, stats
from lab.runner import aggregate
from lab.wiki import citations, freshness, htmllinks
from lab.wiki.citations import figure_captions
from lab.wiki.links import GONE, IMAGES, PENDING, Graph, Ref, Resolved, scan
from lab.wiki.mask import mask
from lab.wiki.notes import experiment_name
from lab.wiki.syntax import BLOCK_ID

MAX_EMBED_DEPTH = 4  # transclusions inside transclusions
_SIZE = re.compile(r"(\d+)(?:x(\d+))?")  # an image's |W or |WxH
_MARKDOWN_CHAR = re.compile(r"([\\`*_{}\[\]#|!$])")  # what md_escape escapes


def md_escape(text: str) -> str:
    """Plain text safe to put in Markdown (and its inline HTML)."""
    return _MARKDOWN_CHAR.sub(r"\\\1", html.escape(text, quote=False))


def md_link(from_src: str, to_src: str, text: str, anchor: str = "", title: str = "", cls: str = "") -> str:
    """A Markdown link between two pages; MkDocs turns the ``.md`` path into a URL.
    ``cls``: its class. While a page's links are collected (``htmllinks``), a link
    without a title is a token that becomes its ``<a>`` after the conversion."""
    links = htmllinks.active()
    if links is not None and not title and (token := links.token(to_src, text, anchor, cls)):
        return token
    # Percent-encoded: a name may hold spaces, ?, #, %, > or unbalanced parentheses;
    # the core decodes the path to find the page.
    target = quote(relative_path(to_src, from_src)) + (f"#{anchor}" if anchor else "")
    link = f"[{text}]({target}" + (f' "{html.escape(title)}"' if title else "") + ")"
    return link + (f"{{ .{cls} }}" if cls else "")


def relative_path(to_src: str, from_src: str) -> str:
    """The path of file ``to_src`` from the folder of file ``from_src`` (both relative
    to the docs dir), as ``posixpath.relpath`` gives it.

    relpath makes both paths absolute (a getcwd each time): a tenth of the plugin's
    time on 1,000 notes of ten links each. The folders of a wiki are few, so the path
    between two folders is worked out once and the file name joined to it."""
    start = posixpath.dirname(from_src)
    folder, name = posixpath.split(to_src)
    # not a plain file path, or the page's own folder is in it: as relpath says
    if not name or "/." in f"/{to_src}" or "//" in to_src or f"{start}/".startswith(f"{to_src}/"):
        return posixpath.relpath(to_src, start or ".")
    between = _between(start, folder)
    return name if between == "." else f"{between}/{name}"


@functools.lru_cache(maxsize=4096)
def _between(from_folder: str, to_folder: str) -> str:
    return posixpath.relpath(to_folder or ".", from_folder or ".")


STEP_UNITS = ("step", "steps")  # a count of training steps: a whole number, however it was estimated


def format_metric(metric: dict) -> str:
    unit = metric.get("unit")
    value = metric["value"]
    if unit in STEP_UNITS and isinstance(value, (int, float)) and math.isfinite(value):
        value = round(value)  # 4.847 steps reads as a step count it is not: 5 steps
    return stats.format_value(value) + (f" {unit}" if unit else "")


@dataclass(frozen=True)
class _Context:
    graph: Graph
    url: Callable[[str], str]  # a file of the docs dir -> its URL relative to the page
    page: str  # the page being built: links are written relative to it
    embedding: tuple[str, ...] = ()  # "src#anchor" of the transclusions we are inside


def render(text: str, src: str, graph: Graph, url: Callable[[str], str]) -> str:
    """``text`` of page ``src`` with its references as Markdown and HTML.

    ``url(path)`` gives the URL of a file of the docs dir (a figure's JSON, an image)
    relative to this page. Broken references were reported by ``build_graph``; here
    they are marked in red so they show in ``mkdocs serve``. ``^id`` markers become
    anchors.
    """
    return _render(text, src, _Context(graph, url, src))


def markdown_links(text: str, src: str, graph: Graph, url: Callable[[str], str]) -> str:
    """``text`` of page ``src`` with its Markdown-syntax links and images resolved by
    Obsidian's rules (``links.Graph.resolve``), as links the core resolves as they are.
    Run on the note's own text, before the wiki adds its sections to it."""
    return _markdown_links(text, src, _Context(graph, url, src))


def _markdown_links(text: str, src: str, ctx: _Context) -> str:
    if "](" not in text:
        return text
    edits = [_edit(r, src, ctx, text, text) for r in scan(text, markdown=True) if r.form[:2] == "md"]
    return _apply(text, edits)


def _edit(ref: Ref, src: str, ctx: _Context, text: str, masked: str) -> tuple[int, int, str]:
    """(start, end, what replaces ``ref``); in a heading, whose text is its entry in the
    table of contents too, links stay Markdown (``htmllinks``)."""
    if not _in_heading(masked, ref.start):
        return ref.start, ref.end, _render_ref(ref, src, ctx, text)
    with htmllinks.held():
        return ref.start, ref.end, _render_ref(ref, src, ctx, text)


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for start, end, new in sorted(edits):
        out += [text[pos:start], new]
        pos = end
    return "".join(out) + text[pos:]


def _render(text: str, src: str, ctx: _Context) -> str:
    """``text``, which lives in ``src`` (names resolve from there), for ``ctx.page``."""
    if "[[" not in text and "{{" not in text and "^" not in text:
        return text  # no reference and no block id to look for (a meta line's value, a short note)
    masked = mask(text)
    edits = [_edit(ref, src, ctx, text, masked) for ref in scan(text, masked)]
    if "^" in masked:
        anchor = (lambda m: f'<a id="^{m["id"]}"></a>') if src == ctx.page else (lambda m: "")  # ids once per page
        edits += [(m.start(), m.end(), anchor(m)) for m in BLOCK_ID.finditer(masked)]
    return _apply(text, edits)


_SETEXT = re.compile(r"[ \t>]*(?:=+|-+)[ \t]*(?:\n|$)")


def _in_heading(text: str, at: int) -> bool:
    """Whether position ``at`` of ``text`` is on a heading's line: ``# …`` (in a quote
    too), or a line that ``===`` or ``---`` underlines."""
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    if text[start:at].lstrip(" \t>").startswith("#"):
        return True
    return end != -1 and _SETEXT.match(text, end + 1) is not None


def _cited(ctx: _Context, src: str, value: str, title: str, result: str) -> str:
    """A cited number linked to its result; marked when the result (an experiment or
    ``NAME@SWEEP``) is not fresh, and noted for the build's one warning."""
    sign, why = freshness.mark(ctx.graph.freshness.get(result))
    if sign:
        ctx.graph.stale_citations.append((ctx.page, f"{title.split(',')[0]} = {value}", why.split(":")[0]))
        title = f"{title}; {why}"
    link = md_link(ctx.page, src, value, title=title, cls="lab-metric")
    return link + (f'<sup class="lab-stale" title="{html.escape(why)}">{sign}</sup>' if sign else "")


def _render_ref(ref: Ref, src: str, ctx: _Context, text: str) -> str:
    graph = ctx.graph
    found = graph.resolve(ref, src)
    if found.kind == PENDING:
        return _pending(ref, found)
    if found.kind == GONE:
        return _gone(ref, found)
    if not found.src:
        shown = ref.label or ref.target or ref.anchor
        return f'<span class="lab-broken" title="{_attribute(found.message)}">{md_escape(shown)}</span>'
    if ref.form == "metric" and found.src in graph.sweeps:
        record = graph.sweeps[found.src]
        value = md_escape(aggregate.citation(record, ref.anchor))
        rows = [row for row in record["aggregates"] if row["metric"] == ref.anchor]
        counted = bool(rows) and aggregate.seed_count(rows[0]) is not None
        title = f"{ref.target}.{ref.anchor}, " + ("seeds where it holds" if counted else "mean ± std over seeds")
        return _cited(ctx, found.src, value, title, f"{found.src.split('/')[1]}@{record['sweep']}")
    if ref.form == "metric":
        exp = experiment_name(found.src)
        run = graph.runs[exp]
        value = md_escape(format_metric(run["metrics"][ref.anchor]))
        return _cited(ctx, found.src, value, f"{exp}.{ref.anchor}, run {run.get('run_id')}", exp)
    is_page = found.src.endswith(".md")
    if ref.form == "mdlink" or ref.form == "mdembed" and (is_page or not found.src.lower().endswith(IMAGES)):
        return md_link(ctx.page, found.src, ref.label or md_escape(graph.title(found.src)), found.anchor)
    if ref.form == "link" or (ref.form == "embed" and not is_page and not found.src.lower().endswith(IMAGES)):
        shown = ref.label or (graph.title(found.src) + (f" › {ref.anchor.replace('#', ' › ')}" if ref.anchor else ""))
        return md_link(ctx.page, found.src, md_escape(shown), found.anchor)
    if not is_page:
        return _image(ref, found.src, ctx)
    if citations.is_figure(graph, ref):
        return _figure(ref, found.src, ctx)
    return _as_block(_transclusion(ref, found, ctx), text, ref)


def _gone(ref: Ref, found: Resolved) -> str:
    """A value an archived page cited that is no longer recorded (``lab.wiki.citations``):
    said so where the number or figure would be, with why on hover."""
    cited = f"{ref.target}.{ref.anchor}" if ref.form == "metric" else f"{ref.target}#{ref.anchor}"
    title = _attribute(f"{cited}: {found.message}")
    if ref.form == "metric":
        return f'<span class="lab-pending lab-gone" title="{title}">no longer recorded</span>'
    what = f"Figure {html.escape(ref.anchor)} of {html.escape(ref.target)}: no longer recorded"
    return f'\n<div class="lab-pending lab-pending-figure lab-gone" title="{title}">{what}</div>\n\n'


def _attribute(text: str) -> str:
    """``text`` as an HTML attribute's value. It may hold a link as written: no Markdown
    may read it as a link or code there."""
    return html.escape(text).translate({ord("["): "&#91;", ord("]"): "&#93;", ord("`"): "&#96;"})


def _pending(ref: Ref, found: Resolved) -> str:
    """A value no run has recorded yet (``lab.wiki.citations``): "pending" where the number
    or figure would be, never a number, with why and the command that records it on hover."""
    cited = f"{ref.target}.{ref.anchor}" if ref.form == "metric" else f"{ref.target}#{ref.anchor}"
    title = _attribute(f"{cited} pending: {found.message}: {found.command}")
    if ref.form == "metric":
        return f'<span class="lab-pending" title="{title}">pending</span>'
    command = html.escape(found.command)
    what = f"Figure {html.escape(ref.anchor)} of {html.escape(ref.target)}: pending (<code>{command}</code>)"
    return f'\n<div class="lab-pending lab-pending-figure" title="{title}">{what}</div>\n\n'


def _image(ref: Ref, file: str, ctx: _Context) -> str:
    """``![[picture.png|300]]``: the image, ``|W`` or ``|WxH`` its size, other text its alt."""
    alt, attrs = posixpath.basename(file), ""
    for part in ref.label.split("|") if ref.label else []:
        size = _SIZE.fullmatch(part.strip())
        if size:
            attrs += f' width="{size[1]}"' + (f' height="{size[2]}"' if size[2] else "")
        elif part.strip():
            alt = part.strip()
    address = ctx.url(file) + (f"#{ref.anchor}" if ref.anchor else "")  # an SVG's #fragment is a view of it
    return f'<img class="lab-image" src="{html.escape(address)}" alt="{html.escape(alt)}"{attrs}>'


def _figure(ref: Ref, page: str, ctx: _Context) -> str:
    figure = f"{posixpath.dirname(page)}/{results.figure_file(ref.anchor)}"
    div = f'\n<div class="lab-plot" data-figure="{html.escape(ctx.url(figure))}"></div>\n\n'
    if page == ctx.page:
        return div  # the experiment's own page: the runner wrote the caption
    record = ctx.graph.sweeps.get(page) or ctx.graph.runs[experiment_name(page)]
    caption = md_escape(figure_captions(record)[ref.anchor])
    return div + f"*{caption}* (from {md_link(ctx.page, page, md_escape(ctx.graph.title(page)))})\n"


def _transclusion(ref: Ref, found: Resolved, ctx: _Context) -> str:
    """``![[note#…]]``: the note's text (or a heading's section, or a block) in a box
    that links to it. A note that embeds itself, directly or not, gets a link instead."""
    graph = ctx.graph
    where = f"{found.src}#{ref.anchor}"
    title = graph.title(found.src) + (f" › {ref.anchor.replace('#', ' › ')}" if ref.anchor else "")
    shown = md_escape(ref.label or title)
    if where in ctx.embedding or found.src == ctx.page and not ref.anchor or len(ctx.embedding) >= MAX_EMBED_DEPTH:
        return f"{md_link(ctx.page, found.src, shown, found.anchor)} (embedded here already)"
    link = md_link(ctx.page, found.src, shown, found.anchor, cls="lab-embed-source")
    part = _markdown_links(graph.outline(found.src).part(ref.anchor), found.src, ctx)  # relative to their note
    inner = _render(part, found.src, _Context(graph, ctx.url, ctx.page, (*ctx.embedding, where)))
    return f'<div class="lab-embed" markdown>\n\n{link}\n\n{inner.strip()}\n\n</div>'


def _as_block(block: str, text: str, ref: Ref) -> str:
    """``block`` in place of ``ref``, on lines of its own that keep the quote or list
    it sits in (``> ![[note]]``, ``- ![[note]]``)."""
    before = text[text.rfind("\n", 0, ref.start) + 1 : ref.start]
    lead = re.match(r"[ \t>]*", before).group()
    if lead != before:  # after a list marker (the block nests in the item), or after text
        nested = re.fullmatch(r"[ \t]*(?:[-*+]|\d+[.)])[ \t]+", before)
        lead = " " * 4 * (1 + len(before.expandtabs(4)) // 4) if nested else ""
    lines = ["", *block.split("\n"), ""]
    out = "\n" + "\n".join(lead + line if line else lead.rstrip() for line in lines)
    # The line's own end follows: a newline of ours too would be a blank line, which
    # ends the quote or callout around the embed (``> ![[note]]`` then ``> more``).
    rest = text[ref.end : text.find("\n", ref.end) % (len(text) + 1)]
    return out + ("\n" + lead if rest.strip() else "")
