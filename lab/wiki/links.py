"""Wikilinks, embeds and metric citations (``lab.wiki.syntax``), and the graph they make.

Names resolve as Obsidian resolves them: by file name or by any trailing part of the
path (``experiments/NAME`` and ``NAME`` both name ``experiments/NAME/index.md``),
case-insensitively, attachments with their extension (``picture.png``), and by a
note's ``aliases``. When several pages share a name, Obsidian's pick wins (the
linking note's folder, then the shortest path) and a warning names the others.
Each vault (a top folder outside the kind folders) resolves its own names first,
so it neither shadows the lab's pages nor is shadowed by them. Code and math are
left alone (``lab.wiki.mask``).

``build_graph`` reads every note once: it resolves each reference, records what is
broken (with file and line) and collects backlinks with a snippet of the linking
sentence. ``lab.wiki.rendering`` then turns a page's references into Markdown.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lab import results
from lab.wiki import citations
from lab.wiki.mask import mask
from lab.wiki.notes import FOLDERS, Note
from lab.wiki.outline import Outline, slug
from lab.wiki.refs import (
    AMBIGUOUS,
    GONE,
    MISSING,
    NO_PLACE,
    OBSIDIAN_TOO,
    PENDING,
    UNCLOSED_MESSAGE,
    Ref,
    Resolved,
    scan,
    snippet,
    unclosed,
)
from lab.wiki.syntax import plain

# found by lab.wiki.refs, kept here too
__all__ = [
    "AMBIGUOUS",
    "GONE",
    "MISSING",
    "NO_PLACE",
    "OBSIDIAN_TOO",
    "PENDING",
    "UNCLOSED_MESSAGE",
    "Ref",
    "Resolved",
]
__all__ += ["scan", "snippet", "unclosed"]

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".svg", ".webp", ".avif")


# --------------------------------------------------------------------------- resolution


def page_keys(src: str) -> list[str]:
    """The names a page or file answers to: each trailing part of its path, without
    ``.md``. ``experiments/NAME/index.md`` answers to ``NAME`` and ``NAME/index``; a
    vault's ``index.md``, as in Obsidian, also to ``index``."""
    parts = src.removesuffix(".md").split("/")
    keys = []
    if parts[-1] == "index" and len(parts) > 1:
        # The file's own path names it too (``experiments/NAME/index.md#Result``); a bare
        # ``index`` names the lab's Home, or a vault's own index.
        keys += ["/".join(parts[i:]) for i in range(len(parts) - (not vault_of(src)))]
        parts.pop()
    keys += ["/".join(parts[i:]) for i in range(len(parts))]
    return [key.casefold() for key in keys]


@functools.lru_cache(maxsize=8192)  # a name is looked up from every page that links to it
def normalize(name: str) -> str:
    """``[[name]]`` and front-matter values alike: brackets, slashes and ``.md`` dropped."""
    name = name.strip().removeprefix("[[").removesuffix("]]").split("|")[0].split("#")[0]
    return name.strip().rstrip("\\").strip().strip("/").removesuffix(".md").casefold()


def vault_of(src: str) -> str:
    """The top folder a page belongs to: "" for the lab's own notes (the kind folders
    and the docs dir itself), else the folder a vault was put in."""
    top = src.split("/", 1)[0] if "/" in src else ""
    return "" if top in FOLDERS else top


def sweep_of(src: str) -> str | None:
    """The page of the sweep that the page ``src`` is a point of
    (``experiments/NAME/sweeps/SWEEP/points/ID/index.md`` -> ``…/sweeps/SWEEP/index.md``);
    None for any other page. Backlinks and the graph show a sweep's points as one."""
    parts = src.split("/")
    if (
        len(parts) == 7
        and parts[0] == results.RESULTS_DIR.name
        and (parts[2], parts[4])
        == (
            results.SWEEPS,
            results.POINTS,
        )
    ):
        return "/".join(parts[:4]) + "/" + results.PAGE
    return None


def obsidian_pick(candidates: list[str], from_src: str) -> str:
    """Obsidian's choice among pages sharing a name: the linking note's own folder
    first, then the shortest path."""
    here = posixpath.dirname(from_src)
    return min(candidates, key=lambda c: (posixpath.dirname(c) != here, c.count("/"), len(c), c))


class Resolver:
    """Name -> pages and files, built once from every path and alias."""

    def __init__(self, srcs: Iterable[str], aliases: dict[str, list[str]] | None = None):
        self.srcs = set(srcs)
        self._paths: dict[str, list[str]] = defaultdict(list)
        self._aliases: dict[str, list[str]] = defaultdict(list)
        for src in self.srcs:
            for key in page_keys(src):
                self._paths[key].append(src)
        for src, names in (aliases or {}).items():
            for name in names:
                self._aliases[normalize(name)].append(src)

    def candidates(self, name: str, from_src: str | None = None) -> list[str]:
        """Pages named ``name`` by path, or else by alias (a file name wins, as in Obsidian).

        From a page (``from_src``), its own vault's pages come first: the lab's pages do
        not shadow a vault's names, nor a vault's the lab's."""
        key = normalize(name)
        by_path, by_alias = self._paths.get(key, []), self._aliases.get(key, [])
        if len(by_path) == 1 and (from_src is None or vault_of(by_path[0]) == vault_of(from_src)):
            return by_path  # the common case, and the fast one
        if from_src is not None:
            vault = vault_of(from_src)
            for found in (by_path, by_alias):
                if own := [src for src in found if vault_of(src) == vault]:
                    return sorted(set(own))
        return sorted(set(by_path or by_alias))


# Sections the wiki adds to a page of these kinds (``lab.wiki.pages``), which links may
# name besides the page's own headings; every note gets "Linked from".
ADDED_SECTIONS = {"experiment": ("Run", "Metrics", "Sweeps"), "project": ("Experiments", "Insights", "Ideas")}
LINKED_FROM = "Linked from"


@dataclass(frozen=True)
class Backlink:
    source: str  # src of the linking page
    snippet: str  # the linking sentence, as plain text


@dataclass(frozen=True)
class Problem:
    where: str  # "site/ideas/x.md:12"
    message: str
    kind: str = ""  # as ``Resolved.kind``
    src: str = ""  # the page it is on

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
    sweeps: dict[str, dict] = field(default_factory=dict)  # sweep page src -> sweep.json, point page src -> run.json
    reproductions: dict[str, dict] = field(default_factory=dict)  # experiment name -> reproduction.json
    # experiment name or NAME@SWEEP -> lab.wiki.freshness.Freshness (make status's judgement)
    freshness: dict[str, Any] = field(default_factory=dict)
    # (page, citation, state) of each cited number whose result is not fresh, for one warning
    stale_citations: list[tuple[str, str, str]] = field(default_factory=list)
    # each citation of a value no run has recorded yet (lab.wiki.citations), for one warning
    pending: list[citations.Pending] = field(default_factory=list)
    declared: dict[str, list[str]] = field(default_factory=dict)  # experiment -> the sweeps its header declares
    titles: dict[str, str] = field(default_factory=dict)  # a generated page's title, by src
    # src -> (target src, embedded?) of each reference it makes: what its rendering reads of others
    targets: dict[str, set[tuple[str, bool]]] = field(default_factory=lambda: defaultdict(set))
    _outlines: dict[str, Outline] = field(default_factory=dict)
    _resolved: dict[tuple, Resolved] = field(default_factory=dict, repr=False)  # by reference as written, and page
    scripts: set[str] = field(default_factory=set)  # every experiment there is (experiments/NAME.py), run or not

    def pending_on(self, src: str) -> list[citations.Pending]:
        """The pending citations written on page ``src``."""
        return [p for p in self.pending if p.src == src]

    def title(self, src: str) -> str:
        note = self.notes.get(src)
        return note.title if note else self.titles.get(src) or posixpath.basename(src)

    def outline(self, src: str) -> Outline:
        if src not in self._outlines:
            self._outlines[src] = Outline(self.notes[src].body)
        return self._outlines[src]

    def page(self, name: str, from_src: str, anchor: str = "", written: str = "", exact: bool = False) -> Resolved:
        """The page or file ``name`` points to from ``from_src``, and the id of ``anchor``
        there; with ``exact``, ``name`` is the path of one (a name may hold ``#``)."""
        written = written or (name if name.startswith("[[") else f"[[{name}]]")
        if exact:
            found = [name]
        else:  # [[#heading]]: this page
            found = self.resolver.candidates(name, from_src) if normalize(name) else [from_src]
        if not found:
            return Resolved(None, f"{written} does not name any page or file", kind=MISSING)
        src = found[0] if len(found) == 1 else obsidian_pick(found, from_src)
        warning = ""
        if len(found) > 1:
            others = ", ".join(c for c in found if c != src)
            warning = (
                f"{written} is ambiguous: it could be {', '.join(found)}; "
                f"chose {src} as Obsidian does, not {others}; write the folder to choose"
            )
        kind = AMBIGUOUS if warning else ""
        if not src.endswith(".md") or anchor.startswith("^") and src not in self.notes:
            return Resolved(src, warning, anchor, kind)  # a file's own fragment (an SVG's view), or a generated page's
        if not anchor or src not in self.notes:  # a page the wiki generates: not read
            return Resolved(src, warning, slug(anchor.split("#")[-1]) if anchor else "", kind)
        place = self.outline(src).anchor(anchor)
        added = {slug(s) for s in (*ADDED_SECTIONS.get(self.notes[src].kind, ()), LINKED_FROM)}
        if place is None and "#" not in anchor and slug(anchor) in added:
            place = slug(anchor)  # a section the wiki adds to the page (Run, Metrics, Ideas, …)
        if place is None:
            return self._no_place(written, src, anchor)
        return Resolved(src, warning, place, kind)

    def _no_place(self, written: str, src: str, anchor: str) -> Resolved:
        what = f"block {anchor!r}" if anchor.startswith("^") else f"heading {anchor!r}"
        names = self.outline(src).names()
        if not anchor.startswith("^"):
            names += [*ADDED_SECTIONS.get(self.notes[src].kind, ()), LINKED_FROM]
        headings = ", ".join(names) or "none"
        return Resolved(None, f"{written}: {src} has no {what} (its headings: {headings})", kind=NO_PLACE)

    def resolve(self, ref: Ref, from_src: str) -> Resolved:
        """What ``ref`` on page ``from_src`` points to, worked out once: ``build_graph``
        resolves each reference, and the page's rendering asks again."""
        key = (ref.form, ref.target, ref.anchor, ref.label, ref.written, from_src)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(ref, from_src)
        return self._resolved[key]

    def _resolve(self, ref: Ref, from_src: str) -> Resolved:
        if ref.form in ("mdlink", "mdembed"):
            # As Obsidian: the path from the linking note's folder if there is such a
            # file, else the same name lookup as a wikilink's (``[x](Other%20note.md)``).
            relative = posixpath.normpath(posixpath.join(posixpath.dirname(from_src), ref.target))
            if relative in self.resolver.srcs:
                return self.page(relative, from_src, ref.anchor, ref.written, exact=True)
            return self.page(ref.target, from_src, ref.anchor, ref.written)
        cited = citations.resolve(self, ref, from_src)
        if cited is not None:
            return cited
        found = self.page(ref.target, from_src, ref.anchor, ref.written)
        if (
            ref.form == "embed"
            and found.src in self.notes
            and ref.anchor
            and self.outline(found.src).anchor(ref.anchor) is None
        ):
            return self._no_place(ref.written, found.src, ref.anchor)  # a section the wiki adds cannot be shown here
        return found


def build_graph(
    notes: Iterable[Note],
    runs: dict[str, dict],
    failures: dict[str, dict],
    generated: Iterable[str] = (),
    files: Iterable[str] = (),
    sweeps: dict[str, dict] | None = None,
    scripts: Iterable[str] = (),
    freshness: dict[str, Any] | None = None,
    declared: dict[str, list[str]] | None = None,
) -> Graph:
    """Resolve every reference of every note once; collect backlinks, problems and the
    citations still pending.

    ``generated`` are the pages the wiki writes itself (src, or src -> title), ``files`` the other files of
    the docs dir (images, attachments), which embeds and links may name too; ``scripts`` every experiment
    there is, ``declared`` the sweeps each one's header declares, ``freshness`` each result's
    (``lab.wiki.freshness.gather``): what decides whether a value not there is pending or an error.
    """
    notes = {n.src: n for n in notes}
    resolver = Resolver([*notes, *generated, *files], {src: n.aliases for src, n in notes.items() if n.aliases})
    graph = Graph(notes, runs, failures, resolver, sweeps=sweeps or {}, scripts=set(scripts))
    graph.freshness, graph.declared = freshness or {}, declared or {}
    graph.titles = dict(generated) if isinstance(generated, dict) else {}
    for note in notes.values():
        paragraphs = [m.end() for m in _BLANK_LINE.finditer(note.body)]
        masked = mask(note.body)
        for ref in scan(note.body, masked, markdown=True):
            found = graph.resolve(ref, note.src)
            line = note.body_line + ref.line - 1
            if found.kind == PENDING:  # not a problem: news for the reader, warned once (lab.wiki.freshness)
                graph.pending.append(
                    citations.Pending(note.where(line), note.src, ref.written, found.message, found.command)
                )
                continue
            if found.kind == GONE:  # not a problem: an archived page's record, marked where it is shown
                continue
            # _record calls the snippet function at once (if at all), so the loop's variables are current
            _record(graph, note, found, note.where(line), lambda: snippet(note.body, ref, paragraphs))  # noqa: B023
            if found.src:
                graph.targets[note.src].add((found.src, ref.form == "embed"))
        for line in unclosed(note.body, masked):
            graph.problems.append(Problem(note.where(note.body_line + line - 1), UNCLOSED_MESSAGE, MISSING, note.src))
        for name, value in note.references():
            found = graph.page(value, note.src)
            _record(graph, note, found, note.where(note.field_lines.get(name)), lambda: f"{name}: {plain(value)}")  # noqa: B023
            if found.src:
                graph.targets[note.src].add((found.src, False))
            if name == "project" and found.src:
                graph.members[found.src].append(note.src)
    return graph


def _record(graph: Graph, note: Note, found: Resolved, where: str, make_snippet: Callable[[], str]) -> None:
    if found.message:
        graph.problems.append(Problem(where, found.message, found.kind, note.src))
    if not found.src:
        return
    backlinks = graph.backlinks[found.src]
    if found.src != note.src and not any(b.source == note.src for b in backlinks[-1:]):
        backlinks.append(Backlink(note.src, make_snippet()))  # one per linking page: refs come in page order
