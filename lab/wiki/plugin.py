"""The MkDocs plugin ``lab``: the glue between the core and the wiki's plain functions.

What the glue is: this file, and only this file. The core (ProperDocs by default, or
MkDocs 1.6.1: both run this plugin unchanged) calls the hooks below; each hands the
files or the page to functions of ``lab.wiki`` that take notes and return Markdown,
HTML or JSON and know nothing of the core:

    hook              what happens                                         plain functions
    on_config         the sidebar is the generated sections (so the build  pages.SECTIONS
                      stays linear in pages); the lab's scripts and styles
                      join every page
    on_files          every note is parsed once into the graph; the        notes.parse_note,
                      generated pages (indexes, graph, tags), graph.json    links.build_graph,
                      and the assets are added as files                     pages.SECTIONS, graph.graph_json
    on_page_markdown  a note gets its additions and its references          pages.decorate, links.render
                      rendered
    on_page_content   "Linked from" joins the page's table of contents      -
    on_post_page      backlinks and the local graph go into the built       pages.backlinks, graph.local_graph
                      page, after Markdown and after search indexed it

Bad front matter and ambiguous links fail the build (PluginError); broken references
are warnings, fatal in ``--strict``. What the core provides, and any core that replaces
this glue must too: the list of source files, Markdown to HTML with the configured
extensions, URLs per page, the theme (Material: sidebar, search, palette switch), and
writing the site. Moving to a core that runs no third-party plugins means rewriting
these hooks as that core's extension points, or as a script that calls the same
functions: nothing under ``lab.wiki`` but this file changes.
"""

from __future__ import annotations

import logging
import os
from importlib.util import find_spec
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink, TableOfContents
from mkdocs.utils import get_relative_url

from lab import results
from lab.wiki import links, pages
from lab.wiki.graph import DATA_FILE as GRAPH_DATA, graph_json, local_graph
from lab.wiki.notes import Note, NoteError, parse_note

log = get_plugin_logger(__name__)

ASSETS = Path(__file__).parent / "assets"
# The one copy of plotly.js, from the plotly package (found without importing it).
PLOTLY_JS = Path(find_spec("plotly").origin).parent / "package_data" / "plotly.min.js"
ASSET_DIR = "assets/lab"  # in the built site; lab.js loads plotly.min.js next to itself
BACKLINKS_MARK = "<!-- lab: linked from -->"  # where on_post_page puts a note's backlinks


class LabPlugin(BasePlugin):
    graph: links.Graph
    files: Files
    root: Path  # the repository the docs dir belongs to: results live under it

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        if not config.nav:
            config.nav = [{title: src} for title, src, _ in pages.SECTIONS]
            # Leaving the notes out of the sidebar is the point, not an oversight to list.
            config.validation.nav.omitted_files = logging.DEBUG
        config.extra_css.append(f"{ASSET_DIR}/lab.css")
        config.extra_javascript.append(f"{ASSET_DIR}/lab.js")
        config.extra_css.append(f"{ASSET_DIR}/graph.css")
        config.extra_javascript.append(f"{ASSET_DIR}/graph.js")
        self.root = Path(config.docs_dir).parent
        return config

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        notes = self._parse_notes(files)
        names = results.result_names(self.root)
        try:
            runs = {n: run for n in names if (run := results.load_run(n, self.root))}
            failures = {n: fail for n in names if (fail := results.load_failure(n, self.root))}
        except ValueError as err:  # malformed run.json / failure.json, named by results
            raise PluginError(str(err)) from None
        self.files = files
        self.graph = links.build_graph(notes, runs, failures, generated=[src for _, src, _ in pages.SECTIONS])
        self._report(self.graph.problems)
        for _, src, make in pages.SECTIONS:
            files.append(File.generated(config, src, content=make(self.graph)))
        for asset in [*ASSETS.iterdir(), PLOTLY_JS]:
            files.append(File.generated(config, f"{ASSET_DIR}/{asset.name}", abs_src_path=str(asset)))
        files.append(File.generated(config, f"{ASSET_DIR}/{GRAPH_DATA}",
                                    content=graph_json(self.graph, lambda src: files.get_file_from_path(src).url)))
        return files

    def _parse_notes(self, files: Files) -> list[Note]:
        notes, errors = [], []
        generated = {src for _, src, _ in pages.SECTIONS}
        for file in files.documentation_pages():
            path = os.path.relpath(file.abs_src_path, self.root)
            if file.src_uri in generated:
                errors.append(f"{path}: this page is generated by the wiki; give the note another name")
                continue
            try:
                notes.append(parse_note(file.src_uri, file.content_string, path))
            except NoteError as err:
                errors.append(str(err))
        if errors:
            raise PluginError("\n".join(errors))
        return notes

    @staticmethod
    def _report(problems: list[links.Problem]) -> None:
        fatal = [str(p) for p in problems if p.fatal]
        for problem in problems:
            if not problem.fatal:
                log.warning(str(problem))
        if fatal:
            raise PluginError("\n".join(fatal))

    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        note = self.graph.notes.get(page.file.src_uri)
        if note is None:  # a generated page: already final
            return markdown
        history = []
        if note.kind == "experiment":
            try:
                history = results.load_history(pages.experiment_name(note), self.root)
            except ValueError as err:
                raise PluginError(str(err)) from None
        markdown = pages.decorate(note, markdown, self.graph, history)
        return links.render(markdown, note.src, self.graph, lambda path: get_relative_url(path, page.file.url))

    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        if page.file.src_uri not in self.graph.notes:
            return html
        _append_to_toc(page.toc, AnchorLink("Linked from", pages.BACKLINKS_ID, 2))
        return html + BACKLINKS_MARK

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        note = self.graph.notes.get(page.file.src_uri)
        if note is None:
            return output
        section = pages.backlinks(note, self.graph, lambda src: get_relative_url(
            self.files.get_file_from_path(src).url, page.file.url))
        return output.replace(BACKLINKS_MARK, section + local_graph(note.src), 1)


def _append_to_toc(toc: TableOfContents, item: AnchorLink) -> None:
    """Add ``item`` to the page's table of contents, under the page title if there is one
    (Material shows the title's children)."""
    items = toc.items
    if items and items[0].level == 1:
        items = items[0].children
    items.append(item)
