"""Each page's HTML kept between builds: the core's Markdown-to-HTML step, done again
only for a page whose final Markdown, or anything else that step reads, changed.

Why: converting Markdown is the largest cost of a build (about 40% of the lab's own
``make wiki``, more than everything the plugin does), and between two builds almost
every page converts to the same HTML as before. What the conversion reads:

- the page's final Markdown (after the plugin rewrote it), its source path and URL;
- every file's path and URL (links resolve against them, and warn when they do not);
- the Markdown extensions and their settings, the link validation settings, the
  versions of the core and of the Markdown packages, and the source of ``lab.wiki``
  (``lab.wiki.math`` is one of the extensions).

The last two make the cache's *context*: when it changes, nothing kept is used (a
setting whose text holds a memory address, such as a function, changes with every
process: nothing is kept then, which is safe). The first makes each page's *key*. A page whose conversion warned is not
kept, so that a build served from the cache warns (and fails ``--strict``) as a full
one would. What a conversion leaves on the page, and is kept: the HTML, the table of
contents, the title found in it, its anchors and its links to other pages' anchors
(the core checks those after every page is built).

The cache is a JSON file per core under ``.cache/`` beside mkdocs.yml (``make clean``
removes it), written whole at the end of a build: a page that is gone loses its entry, and a
``--dirty`` build keeps the entries of the pages it did not build again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

CACHE_DIR = Path(".cache") / "lab-wiki"  # relative to the directory of mkdocs.yml
FILE = "pages-{core}.json"  # one per core (ProperDocs, MkDocs): each converts links its own way
FORMAT = 1  # bumped when what an entry holds changes
PACKAGES = ("markdown", "pymdown-extensions", "pygments", "mkdocs", "properdocs", "mkdocs-material")
LOGGERS = ("mkdocs", "properdocs")  # the cores' loggers: every warning of a build passes one


def digest(*parts: object) -> str:
    return hashlib.blake2b(json.dumps(parts, default=str, sort_keys=True).encode(), digest_size=16).hexdigest()


def _versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = ""
    return found


def _wiki_source() -> str:
    """A digest of lab.wiki's source: its Markdown extensions render what is kept."""
    source = hashlib.blake2b(digest_size=16)
    for path in sorted(Path(__file__).parent.glob("*.py")):
        source.update(path.name.encode() + path.read_bytes())
    return source.hexdigest()


def context(files: list[tuple[str, str]], settings: object) -> str:
    """The digest of what every page's conversion reads: ``files``, each file's
    (path, URL), and ``settings`` (extensions, their settings, link validation)."""
    return digest(FORMAT, _versions(), _wiki_source(), sorted(files), settings)


class PageCache:
    """Entries by page path, each under the key of what its conversion read."""

    def __init__(self, folder: Path, context: str, core: str) -> None:
        self.path = folder / FILE.format(core=core)
        self.context = context
        self.entries = self._load()
        self.hits = 0

    def _load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or unreadable: start afresh
            return {}
        if not isinstance(data, dict) or data.get("context") != self.context:
            return {}
        return data.get("pages", {})

    @staticmethod
    def key(src: str, url: str, markdown: str) -> str:
        return digest(src, url, markdown)

    def get(self, src: str, key: str) -> dict | None:
        entry = self.entries.get(src)
        if entry is None or entry.get("key") != key:
            return None
        self.hits += 1
        return entry

    def put(self, src: str, key: str, entry: dict) -> None:
        self.entries[src] = {**entry, "key": key}

    def save(self, pages: set[str]) -> None:
        """Write the entries of ``pages`` (the site's pages now), atomically."""
        kept = {src: entry for src, entry in self.entries.items() if src in pages}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"context": self.context, "pages": kept}), encoding="utf-8")
        os.replace(tmp, self.path)


class _Warned(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@contextmanager
def warnings_counted() -> Iterator[_Warned]:
    """Count the warnings the core logs inside the block (``.count``)."""
    handler = _Warned()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def toc_tokens(items: list) -> list[dict]:
    """A page's table of contents (the core's AnchorLinks) as plain data."""
    return [{"title": i.title, "id": i.id, "level": i.level, "children": toc_tokens(i.children)} for i in items]
