"""Tags: the ``tags:`` of the notes' front matter, as one index page and as links.

- ``tags_page``: every tag, each under its own heading with the notes that carry it.
- ``tag_links``: a note's tags as links to their headings on that page.

A tag is the same tag whatever its case (``Carry`` and ``carry``), as in Obsidian;
the index shows the spelling that sorts first.
"""

from __future__ import annotations

from collections import defaultdict

from markdown.extensions.toc import slugify_unicode

from lab.wiki.links import Graph
from lab.wiki.notes import Note
from lab.wiki.rendering import md_escape, md_link

TAGS_PAGE = "tags.md"


def tag_id(tag: str) -> str:
    """The anchor of ``tag``'s heading on the tags page."""
    return "tag-" + slugify_unicode(tag, "-")


def tagged(graph: Graph) -> dict[str, tuple[str, list[Note]]]:
    """Anchor -> (tag as shown, its notes by title), ordered by tag."""
    spellings: dict[str, set[str]] = defaultdict(set)
    members: dict[str, dict[str, Note]] = defaultdict(dict)
    for note in graph.notes.values():
        for tag in note.meta.get("tags", []):
            spellings[tag_id(tag)].add(tag)
            members[tag_id(tag)][note.src] = note
    groups = {
        key: (min(spellings[key]), sorted(notes.values(), key=lambda n: n.title.casefold()))
        for key, notes in members.items()
    }
    return dict(sorted(groups.items(), key=lambda item: item[1][0].casefold()))


def tags_page(graph: Graph) -> str:
    """The tags index: a line of all tags with counts, then a section per tag."""
    groups = tagged(graph)
    if not groups:
        return "# Tags\n\n*No note has tags yet: add `tags: [carry, attention]` to a note's front matter.*\n"
    summary = " · ".join(f"[{md_escape(shown)}](#{key}) ({len(notes)})" for key, (shown, notes) in groups.items())
    parts = ["# Tags", summary]
    for key, (shown, notes) in groups.items():
        items = [f"- {md_link(TAGS_PAGE, n.src, md_escape(n.title))} — {n.kind}" for n in notes]
        parts += [f"## {md_escape(shown)} {{ #{key} }}", "\n".join(items)]
    return "\n\n".join(parts) + "\n"


def tag_links(note: Note) -> str:
    """``note``'s tags as Markdown links to the tags page, comma-separated."""
    return ", ".join(
        md_link(note.src, TAGS_PAGE, md_escape(tag), tag_id(tag), cls="lab-tag") for tag in note.meta.get("tags", [])
    )
