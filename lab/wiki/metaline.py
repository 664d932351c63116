"""A note's meta line: what its front matter says (status, priority, date, project,
evidence, tags), under its title.

    **Status:** supported · **Project:** [[add1]] · **Tags:** [carry](../tags.md#tag-carry){ .lab-tag }
    { .lab-meta }

As Markdown its references stay wikilinks, which ``rendering.render`` resolves with the
rest of the page. While the page's links are collected (``htmllinks``, as the plugin
builds a note) the line's text is instead written as the HTML the core would make of
it, its links resolved here, and goes into the page as one ``htmllinks`` token in a
paragraph of class ``lab-meta``: a line on every note, its bold labels and links cost
the core about a sixth of a short note's conversion (measured on 1,000 notes). A
value with Markdown in it that is not plain text (a broken link's marker, a title
with emphasis) keeps the whole line Markdown.
"""

from __future__ import annotations

from lab.wiki import htmllinks, rendering
from lab.wiki.links import Graph
from lab.wiki.notes import Note
from lab.wiki.tags import tag_links


def _wikilink(value: str) -> str:
    return value if value.startswith("[[") else f"[[{value}]]"


def fields(note: Note) -> dict[str, str]:
    """Label -> value (Markdown) of each field the note has, in the line's order."""
    meta = note.meta
    values = {
        "Status": meta.get("status") if note.kind in ("insight", "idea") else None,
        "Priority": meta.get("priority"),
        "Date": meta.get("date") if note.kind == "journal" else None,
        "Project": _wikilink(meta["project"]) if meta.get("project") and note.kind != "experiment" else None,
        "Evidence": ", ".join(map(_wikilink, meta.get("evidence", []))),
        "Waits on": ", ".join(map(_wikilink, meta.get("waits_on", []))),
        "Realized by": _wikilink(meta["realized_by"]) if meta.get("realized_by") else None,
        "Tags": tag_links(note),
    }
    return {label: str(value) for label, value in values.items() if value}  # a YAML date is a date


def meta_line(note: Note, graph: Graph) -> str:
    """The meta line of ``note``: its text a token of HTML while links are collected and
    every value is plain, else Markdown; "" when the note has no such field."""
    shown = fields(note)
    links = htmllinks.active()
    if shown and links is not None:
        values = [htmllinks.plain_html(rendering.render(v, note.src, graph, links.url)) for v in shown.values()]
        if None not in values:
            items = [f"<strong>{label}:</strong> {value}" for label, value in zip(shown, values)]
            return links.add(" · ".join(items)) + "\n{ .lab-meta }"  # the paragraph and its class: the core's
    return " · ".join(f"**{k}:** {v}" for k, v in shown.items()) + "\n{ .lab-meta }" if shown else ""
