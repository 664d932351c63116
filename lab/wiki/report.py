"""The vault report: what in an Obsidian vault Obsidian itself would not flag, collected
on one page instead of failing the build.

A vault is written for Obsidian, which shows a note whose link names no note (it offers
to create one), no heading or block of it (it opens the note at the top), or a name
several notes share (it picks one). The wiki resolves all three as Obsidian does
(``links``), and lists them here with the vault notes whose properties could not be read
(``notes.parse_note``), so the build goes on. The plugin counts them in the build output;
they warn, and fail ``--strict``, only when mkdocs.yml asks (the lab plugin's
``vault_strict: true``). The lab's own notes and experiments are always strict.
"""

from __future__ import annotations

from lab.wiki.links import AMBIGUOUS, MISSING, NO_PLACE, OBSIDIAN_TOO, Graph, Problem, vault_of
from lab.wiki.rendering import md_escape, md_link

REPORT_PAGE = "vault-report.md"
TITLE = "Vault report"
_SECTIONS = (
    (MISSING, "Links to no note", "Obsidian shows these links as unresolved too (a click creates the note)."),
    (NO_PLACE, "Links to no heading or block", "Obsidian opens these notes at the top."),
    (
        AMBIGUOUS,
        "Links to a name several notes share",
        "Resolved as Obsidian does: the linking note's folder, then the shortest path.",
    ),
)


def vault_problems(graph: Graph) -> list[Problem]:
    """The problems of vault notes that Obsidian would leave as they are."""
    return [p for p in graph.problems if p.kind in OBSIDIAN_TOO and vault_of(p.src)]


def summary(graph: Graph) -> str:
    """One line for the build output and Home, e.g. '3 links to no note, 1 name several notes share'."""
    problems = vault_problems(graph)
    counts = [(sum(p.kind == kind for p in problems), title.lower()) for kind, title, _ in _SECTIONS]
    counts.append((sum(bool(n.problems) for n in graph.notes.values()), "notes with properties that could not be read"))
    # "Links to no note" -> "1 link to no note": the first word is the noun
    return ", ".join(f"{n} {what if n > 1 else what.replace('s ', ' ', 1)}" for n, what in counts if n) or (
        "nothing to report"
    )


def report_page(graph: Graph) -> str:
    """The report: a table per kind of problem, each row the note (linked), its line and what."""
    problems = vault_problems(graph)
    parts = [
        f"# {TITLE}",
        "What in the vaults Obsidian would show as it is; the build goes on. "
        "`vault_strict: true` under the `lab` plugin in mkdocs.yml turns these into warnings, "
        f"which fail `make wiki`. In all: {summary(graph)}.",
    ]
    for kind, title, why in _SECTIONS:
        rows = [_row(graph, p.src, str(p)) for p in problems if p.kind == kind]
        if rows:
            parts += [f"## {title}", why, "| Note | Line | Problem |\n|---|---|---|\n" + "\n".join(rows)]
    unread = [(src, problem) for src, n in graph.notes.items() for problem in n.problems]
    if unread:
        parts += [
            "## Properties that could not be read",
            "These notes are shown with their properties as text.",
            "| Note | Line | Problem |\n|---|---|---|\n" + "\n".join(_row(graph, s, p) for s, p in unread),
        ]
    return "\n\n".join(parts) + "\n"


def _row(graph: Graph, src: str, text: str) -> str:
    """A row for ``text``, a message "path:line: what" (or "path: what") about note ``src``."""
    rest = text.removeprefix(graph.notes[src].where()).removeprefix(":")
    line, what = rest.split(": ", 1) if rest[:1].isdigit() else ("", rest.strip())
    return f"| {md_link(REPORT_PAGE, src, md_escape(graph.title(src)))} | {line} | {md_escape(what)} |"
