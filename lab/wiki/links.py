"""Wikilinks, figure embeds and metric citations, and the graph they make.

    [[name]]  [[folder/name]]  [[name|shown text]]  [[name#heading]]   a link
    ![[experiments/NAME#FIGURE_ID]]                                   a figure
    {{ metric NAME.metric_name }}                                     a metric value

Names resolve Obsidian-style, by file stem or by any trailing part of the path
(``experiments/NAME`` and ``NAME`` both name ``experiments/NAME/index.md``),
case-insensitively. Anything inside code spans or fenced code blocks is left alone.

``build_graph`` reads every note once: it resolves each reference, records what is
broken (with file and line) and collects backlinks with a snippet of the linking
sentence. ``render`` then turns a page's references into Markdown.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from markdown.extensions.toc import slugify

from lab import results
from lab.wiki.notes import Note

_WIKILINK = re.compile(
    r"(?P<embed>!?)\[\[(?P<target>[^\[\]|#\n]*)(?:#(?P<anchor>[^\[\]|\n]*))?(?:\|(?P<label>[^\[\]\n]*))?\]\]"
)
_METRIC = re.compile(r"\{\{\s*metric\s+(?P<target>[^\s.{}]+)\.(?P<anchor>[^\s{}]+)\s*\}\}")
_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.S)


@dataclass(frozen=True)
class Ref:
    """One reference in a page's text."""

    kind: str  # "link", "embed" or "metric"
    target: str  # the page (for a metric: the experiment) as written
    anchor: str  # heading, figure id or metric name; "" if none
    label: str  # shown text; "" if none
    start: int  # offsets in the text
    end: int
    line: int  # 1-based line in the text


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def mask_code(text: str) -> str:
    """``text`` with fenced code blocks and code spans blanked out, same length."""
    lines, fence = [], None
    for line in text.splitlines(keepends=True):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1).startswith(fence) and not line[match.end():].strip():
            lines.append(_blank(line))
            fence = None
            continue
        lines.append(_blank(line) if fence else line)
    return _CODE_SPAN.sub(lambda m: _blank(m.group()), "".join(lines))


def scan(text: str) -> list[Ref]:
    """Every wikilink, embed and metric citation outside code, in order."""
    masked = mask_code(text)
    refs = []
    for m in _WIKILINK.finditer(masked):
        kind = "embed" if m["embed"] else "link"
        refs.append((m.start(), kind, m["target"].strip(), (m["anchor"] or "").strip(), (m["label"] or "").strip(), m.end()))
    for m in _METRIC.finditer(masked):
        refs.append((m.start(), "metric", m["target"], m["anchor"], "", m.end()))
    refs.sort()
    return [Ref(kind, target, anchor, label, start, end, text.count("\n", 0, start) + 1)
            for start, kind, target, anchor, label, end in refs]


# --------------------------------------------------------------------------- resolution


def page_keys(src: str) -> list[str]:
    """The names a page answers to: each trailing part of its path, without ``.md``."""
    parts = src.removesuffix(".md").split("/")
    if parts[-1] == "index" and len(parts) > 1:
        parts.pop()  # experiments/NAME/index.md is "experiments/NAME" and "NAME"
    return ["/".join(parts[i:]).casefold() for i in range(len(parts))]


def normalize(name: str) -> str:
    """``[[name]]`` and front-matter values alike: brackets, slashes and ``.md`` dropped."""
    name = name.strip().removeprefix("[[").removesuffix("]]").split("|")[0].split("#")[0]
    return name.strip().strip("/").removesuffix(".md").casefold()


class Resolver:
    """Name -> pages, built once from every page's path."""

    def __init__(self, srcs: Iterable[str]):
        self._pages: dict[str, list[str]] = defaultdict(list)
        for src in srcs:
            for key in page_keys(src):
                self._pages[key].append(src)

    def candidates(self, name: str) -> list[str]:
        return sorted(self._pages.get(normalize(name), []))


@dataclass(frozen=True)
class Resolved:
    src: str | None  # the page it points to; None when broken
    error: str = ""  # why it is broken
    fatal: bool = False  # ambiguous names always fail; broken ones fail the strict build


@dataclass(frozen=True)
class Backlink:
    source: str  # src of the linking page
    snippet: str  # the linking sentence, as plain text


@dataclass(frozen=True)
class Problem:
    where: str  # "site/ideas/x.md:12"
    message: str
    fatal: bool

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Graph:
    notes: dict[str, Note]  # by src
    runs: dict[str, dict]  # experiment name -> its latest good run.json
    failures: dict[str, dict]  # experiment name -> failure.json, while the latest attempt failed
    resolver: Resolver
    backlinks: dict[str, list[Backlink]] = field(default_factory=lambda: defaultdict(list))
    members: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # project src -> note srcs
    problems: list[Problem] = field(default_factory=list)

    def title(self, src: str) -> str:
        note = self.notes.get(src)
        return note.title if note else src

    def page(self, name: str, from_src: str) -> Resolved:
        if not normalize(name):
            return Resolved(from_src)  # [[#heading]]: this page
        found = self.resolver.candidates(name)
        if len(found) == 1:
            return Resolved(found[0])
        if found:
            return Resolved(None, f"[[{name}]] is ambiguous: it could be {', '.join(found)}; write the folder too", True)
        return Resolved(None, f"[[{name}]] does not name any page")

    def experiment(self, name: str, from_src: str) -> tuple[str, Resolved]:
        """(experiment name, its page) for a name that must be a run experiment.

        Only experiment pages are candidates: figures and metrics belong to
        experiments, so an idea named like the experiment realizing it is no rival.
        """
        pages = [src for src in self.resolver.candidates(name)
                 if (note := self.notes.get(src)) and note.kind == "experiment"]
        if len(pages) != 1:
            found = self.page(name, from_src)
            if found.src:
                return "", Resolved(None, f"{name!r} is not an experiment page ({found.src})")
            return "", found
        found = Resolved(pages[0])
        exp = found.src.split("/")[-2]
        if exp not in self.runs:
            return exp, Resolved(None, f"experiment {exp!r} has no successful run yet")
        return exp, found

    def resolve(self, ref: Ref, from_src: str) -> Resolved:
        if ref.kind == "link":
            return self.page(ref.target, from_src)
        exp, found = self.experiment(ref.target, from_src)
        if not found.src:
            return found
        run = self.runs[exp]
        if ref.kind == "embed" and ref.anchor not in figure_captions(run):
            return Resolved(None, f"experiment {exp!r} has no figure {ref.anchor!r} (it has: {', '.join(figure_captions(run)) or 'none'})")
        if ref.kind == "metric" and ref.anchor not in run.get("metrics", {}):
            return Resolved(None, f"experiment {exp!r} has no metric {ref.anchor!r} (it has: {', '.join(run.get('metrics', {})) or 'none'})")
        return found


def figure_captions(run: dict) -> dict[str, str]:
    return {f["id"]: f.get("caption") or "" for f in run.get("figures", [])}


def build_graph(notes: Iterable[Note], runs: dict[str, dict], failures: dict[str, dict],
                generated: Iterable[str] = ()) -> Graph:
    """Resolve every reference of every note once; collect backlinks and problems."""
    notes = {n.src: n for n in notes}
    graph = Graph(notes, runs, failures, Resolver([*notes, *generated]))
    for note in notes.values():
        for ref in scan(note.body):
            found = graph.resolve(ref, note.src)
            line = note.body_line + ref.line - 1
            _record(graph, note, found, note.where(line), lambda: snippet(note.body, ref))
        for name, value in note.references():
            found = graph.page(value, note.src)
            _record(graph, note, found, note.where(note.field_lines.get(name)), lambda: f"{name}: {plain(value)}")
            if name == "project" and found.src:
                graph.members[found.src].append(note.src)
    return graph


def _record(graph: Graph, note: Note, found: Resolved, where: str, make_snippet: Callable[[], str]) -> None:
    if not found.src:
        graph.problems.append(Problem(where, found.error, found.fatal))
        return
    backlinks = graph.backlinks[found.src]
    if found.src != note.src and not any(b.source == note.src for b in backlinks[-1:]):
        backlinks.append(Backlink(note.src, make_snippet()))  # one per linking page: refs come in page order


# --------------------------------------------------------------------------- snippets


def plain(text: str) -> str:
    """Markdown source as readable plain text: links as their shown text, no markup."""
    text = _WIKILINK.sub(lambda m: m["label"] or m["target"].split("/")[-1] or m["anchor"], text)
    text = _METRIC.sub(lambda m: f"{m['target']}.{m['anchor']}", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](url)
    text = re.sub(r"^\s*(?:[-*+>]|\d+\.|#+)\s+", "", text)  # list, quote, heading markers
    return re.sub(r"[*`]+|(?<!\w)_+|_+(?!\w)", "", text).strip()  # emphasis, not snake_case


_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def snippet(text: str, ref: Ref, width: int = 200) -> str:
    """The sentence around ``ref`` (within its paragraph), as plain text on one line."""
    starts = [m.end() for m in _BLANK_LINE.finditer(text, 0, ref.start)]
    end = _BLANK_LINE.search(text, ref.end)
    before = _SENTENCE_END.split(text[starts[-1] if starts else 0:ref.start])[-1]
    after = _SENTENCE_END.split(text[ref.end:end.start() if end else len(text)], maxsplit=1)[0]
    sentence = " ".join(plain(before + text[ref.start:ref.end] + after).split())
    return sentence if len(sentence) <= width else sentence[: width - 1].rstrip() + "…"


# --------------------------------------------------------------------------- rendering


def md_escape(text: str) -> str:
    """Plain text safe to put in Markdown (and its inline HTML)."""
    return re.sub(r"([\\`*_{}\[\]#|!])", r"\\\1", html.escape(text, quote=False))


def md_link(from_src: str, to_src: str, text: str, anchor: str = "", title: str = "") -> str:
    """A Markdown link between two pages; MkDocs turns the ``.md`` path into a URL."""
    path = posixpath.relpath(to_src, posixpath.dirname(from_src) or ".")
    target = path + (f"#{anchor}" if anchor else "") + (f' "{html.escape(title)}"' if title else "")
    return f"[{text}]({target})"


def format_metric(metric: dict) -> str:
    unit = metric.get("unit")
    return f"{metric['value']:.4g}" + (f" {unit}" if unit else "")


def render(text: str, src: str, graph: Graph, url: Callable[[str], str]) -> str:
    """``text`` of page ``src`` with its references as Markdown and HTML.

    ``url(path)`` gives the URL of a static file of the docs dir (a figure's JSON)
    relative to this page. Broken references were reported by ``build_graph``; here
    they are marked in red so they show in ``mkdocs serve``.
    """
    out, pos = [], 0
    for ref in scan(text):
        out += [text[pos:ref.start], _render_ref(ref, src, graph, url)]
        pos = ref.end
    return "".join(out) + text[pos:]


def _render_ref(ref: Ref, src: str, graph: Graph, url: Callable[[str], str]) -> str:
    found = graph.resolve(ref, src)
    if not found.src:
        shown = ref.label or ref.target or ref.anchor
        return f'<span class="lab-broken" title="{html.escape(found.error)}">{md_escape(shown)}</span>'
    if ref.kind == "link":
        shown = ref.label or graph.title(found.src) + (f" › {ref.anchor}" if ref.anchor else "")
        return md_link(src, found.src, md_escape(shown), slugify(ref.anchor, "-") if ref.anchor else "")
    exp = found.src.split("/")[-2]
    run = graph.runs[exp]
    if ref.kind == "metric":
        value = md_escape(format_metric(run["metrics"][ref.anchor]))
        return md_link(src, found.src, value, title=f"{exp}.{ref.anchor}, run {run.get('run_id')}") + "{ .lab-metric }"
    figure = f"{posixpath.dirname(found.src)}/{results.figure_file(ref.anchor)}"
    div = f'\n<div class="lab-plot" data-figure="{html.escape(url(figure))}"></div>\n\n'
    if found.src == src:
        return div  # the experiment's own page: the runner wrote the caption
    caption = md_escape(figure_captions(run)[ref.anchor])
    return div + f"*{caption}* (from {md_link(src, found.src, md_escape(graph.title(found.src)))})\n"
