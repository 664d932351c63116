"""Every page's "Linked from" section: the pages that link to it, each with the
sentence that does, a sweep's points grouped under their sweep."""

from __future__ import annotations

import html
from collections.abc import Callable

from lab.wiki.links import Graph, sweep_of
from lab.wiki.notes import Note

BACKLINKS_ID = "linked-from"


def backlinks(note: Note, graph: Graph, href: Callable[[str], str]) -> str:
    """The "Linked from" section of ``note``: each page that links to it, with the
    sentence that does; a sweep's points as one row under their sweep ("loss-shelf@seeds,
    5 points"), since they link alike. ``href(src)`` is the URL of page ``src`` relative
    to this one.

    HTML rather than Markdown: the plugin adds it to the built page after Markdown
    and search have run, so it costs no Markdown conversion (a tenth of the time to
    build 1,000 short notes) and search does not find each linking sentence again on
    every page it links to.
    """
    rows: dict[tuple[str, bool], list] = {}  # (the linking page, or the sweep of its points; points?) -> backlinks
    for b in graph.backlinks.get(note.src, []):
        sweep = sweep_of(b.source)
        key = (sweep, True) if sweep and sweep != note.src else (b.source, False)
        rows.setdefault(key, []).append(b)
    items = []
    for (src, points), found in rows.items():
        link, shown = src, graph.title(src)
        if points:  # to the sweep's page if it has one yet, else its first point
            parts = src.split("/")  # experiments/NAME/sweeps/SWEEP/index.md
            link = src if src in graph.notes else found[0].source
            shown = f"{parts[1]}@{parts[3]}, {len(found)} point{'s' * (len(found) != 1)}"
        items.append(
            f'<li><a href="{html.escape(href(link))}">{html.escape(shown)}</a> — “{html.escape(found[0].snippet)}”</li>'
        )
    listing = "<ul>\n" + "\n".join(items) + "\n</ul>" if items else "<p><em>Nothing links here yet.</em></p>"
    return f'<h2 id="{BACKLINKS_ID}">Linked from</h2>\n{listing}\n'
