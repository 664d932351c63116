"""A page's Markdown to HTML, as the core's ``Page.render`` does it, with one Markdown
instance for the whole build instead of a new one per page.

The core builds a ``markdown.Markdown`` with every configured extension for each page:
on a wiki of 1,000 short notes that costs more than a third as much as the conversions
themselves (about 0.35 ms a page, measured). Python-Markdown supports reusing an
instance: ``reset()`` between documents clears its stash and references and resets
each extension that keeps state. Per page, this module registers the core's own
page-bound processors on it (raw-HTML anchors, heading anchors, link rewriting, the
title), which replace those of the page before, and reads their results back onto the
page as the core does: the HTML is the same byte for byte (tests: every page of a
fixture wiki, under both cores).

Code blocks highlighted by Pygments are kept per build by their source and options
(``highlight_kept``): the lab's sweep-point pages repeat their experiment's code, and
highlighting was the largest cost of the lab's own cold build.

It stands in for ``Page.render`` only where that method is the one it was written
against (``RENDERS``: the digest of its source in MkDocs 1.6.1 and ProperDocs 1.6.7);
any other core version converts each page its own way (``usable`` is false).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import sys
from collections.abc import Callable

import markdown

# blake2b digests (16 bytes) of inspect.getsource(Page.render) that this module reproduces
RENDERS = {
    "mkdocs": "ff0c8968f74a38a16386b21651a06f85",
    "properdocs": "c0cf85a9e96c1eef68114dd0d5d0f10f",
}
_PARTS = ("_RawHTMLPreprocessor", "_ExtractAnchorsTreeprocessor", "_RelativePathTreeprocessor")
_PARTS += ("_ExtractTitleTreeprocessor", "get_toc", "log")


def render_digest(page_class: type) -> str:
    """The digest of ``page_class.render``'s source, as ``RENDERS`` keeps them."""
    source = inspect.getsource(page_class.render)
    return hashlib.blake2b(source.encode(), digest_size=16).hexdigest()


class Converter:
    """Pages to HTML for one build: ``render(page, config, files)`` sets what the core's
    ``page.render(config, files)`` sets."""

    def __init__(self, page_class: type, extensions: list, configs: dict) -> None:
        self.core = page_class.__module__.split(".")[0]
        module = sys.modules[page_class.__module__]
        self.parts = {name: getattr(module, name, None) for name in _PARTS}
        self.usable = RENDERS.get(self.core) == render_digest(page_class) and all(self.parts.values())
        self.extensions, self.configs = extensions, configs
        self._md: markdown.Markdown | None = None
        self.highlighted: dict[tuple, str] = {}

    def markdown(self) -> markdown.Markdown:
        """The build's Markdown instance, made on first use."""
        if self._md is None:
            self._md = markdown.Markdown(extensions=self.extensions, extension_configs=self.configs)
            highlight_kept(self._md, self.highlighted)
        return self._md

    def render(self, page, config, files) -> None:  # noqa: ANN001 (the core's Page, config and Files)
        """Convert ``page.markdown`` as the core's ``Page.render`` (see ``RENDERS``)."""
        if page.markdown is None:
            raise RuntimeError("`markdown` field hasn't been set (via `read_source`)")
        md, parts = self.markdown(), self.parts
        md.reset()
        raw_html = parts["_RawHTMLPreprocessor"]()
        raw_html._register(md)
        anchors = parts["_ExtractAnchorsTreeprocessor"](page.file, files, config)
        anchors._register(md)
        relative = parts["_RelativePathTreeprocessor"](page.file, files, config)
        relative._register(md)
        title = parts["_ExtractTitleTreeprocessor"]()
        title._register(md)
        page.content = md.convert(page.markdown)
        page.toc = parts["get_toc"](getattr(md, "toc_tokens", []))
        page._title_from_render = title.title
        page.present_anchor_ids = anchors.present_anchor_ids | raw_html.present_anchor_ids
        if self.core != "mkdocs" or parts["log"].getEffectiveLevel() > logging.DEBUG:
            page.links_to_anchors = relative.links_to_anchors


# Settings of pymdownx.highlight under which a block's HTML depends on more than its
# source and options (its number on the page, or a title stashed as HTML).
_PER_BLOCK = ("line_spans", "line_anchors", "anchor_linenums", "auto_title")


def highlight_kept(md: markdown.Markdown, kept: dict[tuple, str]) -> None:
    """Have ``md``'s fenced code blocks (pymdownx.superfences) highlighted once per
    distinct block: the HTML of a block whose source, language and options were seen
    before is the one made then. Nothing changes where superfences is absent, or where
    a setting makes a block's HTML depend on its place (``_PER_BLOCK``)."""
    ext = next((e for e in md.registeredExtensions if type(e).__name__ == "SuperFencesCodeExtension"), None)
    fences = getattr(ext, "superfences", None)
    if not fences or fences[0].get("name") != "superfences" or not callable(fences[0].get("formatter")):
        return
    # the settings superfences reads: the first extension that has them (pymdownx.highlight)
    settings = next((e for e in md.registeredExtensions if hasattr(e, "get_pymdownx_highlight_settings")), None)
    highlight = fences[0]["formatter"]
    owner = getattr(highlight, "__self__", None)  # the SuperFencesBlockPreprocessor
    if settings is None or owner is None:
        return
    if any(settings.get_pymdownx_highlight_settings().get(name) for name in _PER_BLOCK):
        return
    fences[0]["formatter"] = functools.partial(_kept, highlight, owner, kept)


def _kept(highlight: Callable[..., str], owner, kept: dict, **kwargs) -> str:  # noqa: ANN001
    options = kwargs.get("options") or {}
    if any(name in options for name in ("title", "linenums")):
        return highlight(**kwargs)
    try:
        key = (
            kwargs.get("src"),
            kwargs.get("language"),
            repr(sorted(options.items())),
            repr(kwargs.get("classes")),
            kwargs.get("id_value"),
            repr(sorted((kwargs.get("attrs") or {}).items())),
        )
    except TypeError:  # an option that does not sort: not kept
        return highlight(**kwargs)
    if key not in kept:
        kept[key] = highlight(**kwargs)
    else:  # as highlight() counts the page's blocks
        owner.highlight_ext.pygments_code_block += 1
    return kept[key]
