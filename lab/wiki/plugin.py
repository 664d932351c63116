"""The MkDocs plugin ``lab``: thin glue between MkDocs and the wiki's pure functions.

- on_config: the sidebar is the generated sections (so the build stays linear in
  pages), and the figure script and style are added to every page.
- on_files: the files of a vault kept elsewhere join the docs dir's (``vault``);
  every note is parsed once into the graph (``links.build_graph``); bad front
  matter fails the build, broken and ambiguous references are warnings (fatal in
  ``--strict``); the generated pages, one per folder outside the kind folders
  (``folders``), and plotly.js are added as files.
- on_page_markdown: a note gets its additions (``pages.decorate``), its references
  rendered (``links.render``) and its callouts turned into admonitions (``callouts``).
- on_page_content / on_post_page: a note's backlinks (``pages.backlinks``) go into
  the built page, after Markdown and after search has indexed the page.
"""

from __future__ import annotations

import logging
import os
from importlib.util import find_spec
from pathlib import Path

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink, TableOfContents
from mkdocs.utils import get_relative_url

from lab import LabError, results
from lab.wiki import callouts, folders, links, pages, vault
from lab.wiki.notes import Note, NoteError, experiment_name, parse_note

log = get_plugin_logger(__name__)

ASSETS = Path(__file__).parent / "assets"
# The one copy of plotly.js, from the plotly package (found without importing it).
PLOTLY_JS = Path(find_spec("plotly").origin).parent / "package_data" / "plotly.min.js"
ASSET_DIR = "assets/lab"  # in the built site; lab.js loads plotly.min.js next to itself
BACKLINKS_MARK = "<!-- lab: linked from -->"  # where on_post_page puts a note's backlinks


class LabConfig(base.Config):
    vault = c.Optional(c.Dir(exists=True))  # an Obsidian vault kept elsewhere (lab.wiki.vault)


class LabPlugin(BasePlugin[LabConfig]):
    graph: links.Graph
    files: Files
    root: Path  # the repository the docs dir belongs to: results live under it
    own_nav: bool  # whether the sidebar is ours to fill (mkdocs.yml has no nav)

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.own_nav = not config.nav
        if self.own_nav:
            config.nav = [{title: src} for title, src, _ in pages.SECTIONS]
            # Leaving the notes out of the sidebar is the point, not an oversight to list.
            config.validation.nav.omitted_files = logging.DEBUG
        config.extra_css.append(f"{ASSET_DIR}/lab.css")
        config.extra_javascript.append(f"{ASSET_DIR}/lab.js")
        self.root = Path(config.docs_dir).parent
        return config

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        self._add_vault(files, config)
        notes = self._parse_notes(files)
        # A section per folder outside the kind folders; one with an index.md of its own keeps it.
        sections = [(f, folders.index_src(f)) for f in folders.folders(n.src for n in notes)]
        to_write = [(f, src) for f, src in sections if not files.get_file_from_path(src)]
        names = results.result_names(self.root)
        try:
            runs = {n: run for n in names if (run := results.load_run(n, self.root))}
            failures = {n: fail for n in names if (fail := results.load_failure(n, self.root))}
        except ValueError as err:  # malformed run.json / failure.json, named by results
            raise PluginError(str(err)) from None
        self.files = files
        attachments = [f.src_uri for f in files if not f.is_documentation_page()]
        generated = [src for _, src, _ in pages.SECTIONS] + [src for _, src in to_write]
        self.graph = links.build_graph(notes, runs, failures, generated, attachments)
        self._report(self.graph.problems)
        for _, src, make in pages.SECTIONS:
            files.append(File.generated(config, src, content=make(self.graph)))
        for folder, src in to_write:
            files.append(File.generated(config, src, content=folders.folder_index(self.graph, folder)))
        if self.own_nav:
            config.nav += [{folder: src} for folder, src in sections]
        for asset in [*ASSETS.iterdir(), PLOTLY_JS]:
            files.append(File.generated(config, f"{ASSET_DIR}/{asset.name}", abs_src_path=str(asset)))
        return files

    def _add_vault(self, files: Files, config: MkDocsConfig) -> None:
        """The files of the vault kept elsewhere, read in place (no copy)."""
        if not self.config.vault:
            return
        try:
            for src, path in vault.files(Path(self.config.vault), Path(config.docs_dir)):
                files.append(File.generated(config, src, abs_src_path=str(path)))
        except LabError as err:
            raise PluginError(str(err)) from None

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
        for problem in problems:
            log.warning(str(problem))

    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        note = self.graph.notes.get(page.file.src_uri)
        if note is None:  # a generated page: already final
            return markdown
        history = []
        if note.kind == "experiment":
            try:
                history = results.load_history(experiment_name(note.src), self.root)
            except ValueError as err:
                raise PluginError(str(err)) from None
        markdown = pages.decorate(note, markdown, self.graph, history)
        markdown = links.render(markdown, note.src, self.graph, lambda src: self._url(src, page))
        return callouts.convert(markdown)

    def _url(self, src: str, page: Page) -> str:
        """The URL of file ``src`` of the docs dir, relative to ``page``."""
        file = self.files.get_file_from_path(src)
        return get_relative_url(file.url if file else src, page.file.url)

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
        return output.replace(BACKLINKS_MARK, section, 1)


    def on_serve(self, server, config: MkDocsConfig, builder):  # noqa: ANN001, ANN201
        if self.config.vault:
            server.watch(self.config.vault)  # edits in the vault rebuild, as edits in site/ do
        return server


def _append_to_toc(toc: TableOfContents, item: AnchorLink) -> None:
    """Add ``item`` to the page's table of contents, under the page title if there is one
    (Material shows the title's children)."""
    items = toc.items
    if items and items[0].level == 1:
        items = items[0].children
    items.append(item)
