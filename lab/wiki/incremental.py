"""Rebuild only what an edit changes: the page fingerprints behind a ``--dirty`` build.

With ``--dirty`` (``properdocs serve --dirty``) the core rebuilds a page only when its
source file is newer than its built file. That alone misses pages whose source did not
change but whose rendering did: the backlinks of the page a new link points at, a page
that embeds the edited note, a title shown in a link, a project's lists. ``stale``
finds those from a fingerprint of what each page's rendering reads, kept between the
builds of one serving process; the plugin removes their built files, so the core builds
them again. Without ``--dirty`` every page is built anyway and this changes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable

from lab.wiki.links import Graph

# site dir -> the fingerprints of its last build (page src -> digest), worked out only when
# a next build in this process asks: a one-off build (make wiki) never does
_previous: dict[str, Callable[[], dict[str, str]]] = {}


def _digest(*parts: object) -> str:
    return hashlib.blake2b(json.dumps(parts, default=str, sort_keys=True).encode(), digest_size=16).hexdigest()


def fingerprints(graph: Graph, shared: object = None) -> dict[str, str]:
    """Page src -> a digest of what its rendering reads: its own text and properties,
    its backlinks, the title (and for an embed, the text) of each page it references,
    its project's members, and ``shared`` (what every page reads: results, the sidebar)."""
    # freshness and the declared sweeps decide a citation's mark, and whether it is pending
    common = _digest(
        shared, graph.runs, graph.failures, graph.reproductions, graph.sweeps, graph.freshness, graph.declared
    )
    members = {src: [(m, graph.notes[m].meta) for m in srcs] for src, srcs in graph.members.items()}
    out = {}
    for src, note in graph.notes.items():
        read = sorted(
            (target, graph.title(target), graph.notes[target].body if embedded and target in graph.notes else "")
            for target, embedded in graph.targets.get(src, ())
        )
        backlinks = [(b.source, b.snippet, graph.title(b.source)) for b in graph.backlinks.get(src, [])]
        out[src] = _digest(common, note.body, note.meta, note.problems, read, backlinks, members.get(src))
    return out


def stale(site_dir: str, graph: Graph, shared: object = None) -> Iterable[str] | None:
    """The pages whose fingerprint (``fingerprints(graph, shared)``) changed since this
    process last built ``site_dir``; None when it has not built it yet (then nothing is
    known: every page is stale)."""
    before = _previous.get(site_dir)
    current = _previous[site_dir] = functools.cache(functools.partial(fingerprints, graph, shared))
    if before is None:
        return None
    old = before()
    return [src for src, digest in current().items() if old.get(src) != digest]
