"""Sections for the folders outside the kind folders: an Obsidian vault put under
``site/`` or pointed at from mkdocs.yml (``lab.wiki.vault``).

Each such top folder is a section of the sidebar and of Home, and gets a generated
page listing its notes by subfolder, unless it has an ``index.md`` of its own,
which then stands for it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from lab.wiki import report
from lab.wiki.links import Graph, vault_of
from lab.wiki.rendering import md_escape, md_link


def folders(srcs: Iterable[str]) -> list[str]:
    """The top folders, outside the kind folders, that hold pages."""
    return sorted({vault_of(src) for src in srcs if src.endswith(".md")} - {""}, key=str.casefold)


def index_src(folder: str) -> str:
    return f"{folder}/index.md"


def folder_index(graph: Graph, folder: str) -> str:
    """The generated page of ``folder``: its notes, grouped by subfolder, by title."""
    src = index_src(folder)
    groups: dict[str, list[str]] = {}
    for note in sorted(graph.notes.values(), key=lambda n: (n.src.count("/"), n.title.casefold())):
        if vault_of(note.src) == folder:
            groups.setdefault(posixpath.dirname(note.src), []).append(
                f"- {md_link(src, note.src, md_escape(note.title))}"
            )
    parts = [f"# {md_escape(folder)}"]
    for sub in sorted(groups, key=str.casefold):
        if sub != folder:
            parts.append(f"## {md_escape(sub.removeprefix(folder + '/'))}")
        parts.append("\n".join(groups[sub]))
    return "\n\n".join(parts) + "\n"


def home_section(graph: Graph, home: str) -> str:
    """The folders as a list for Home, with how many notes each holds."""
    counts: dict[str, int] = {}
    for src in graph.notes:
        counts[vault_of(src)] = counts.get(vault_of(src), 0) + 1
    items = [
        f"- {md_link(home, index_src(f), md_escape(f))} — {counts[f]} note{'s' * (counts[f] != 1)}"
        for f in folders(graph.notes)
    ]
    if not items:
        return ""
    items.append(f"- {md_link(home, report.REPORT_PAGE, report.TITLE)}: {report.summary(graph)}")
    return "## Folders\n\n" + "\n".join(items)
