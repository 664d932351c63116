"""The MkDocs plugin ``lab``: the glue between the core and the wiki's plain functions.

What the glue is: this file, and only this file. The core (ProperDocs by default, or
MkDocs 1.6.1: both run this plugin unchanged) calls the hooks below; each hands the
files or the page to functions of ``lab.wiki`` that take notes and return Markdown,
HTML or JSON and know nothing of the core:

    hook              what happens                                         plain functions
    on_config         the sidebar is the generated sections (so the build  pages.SECTIONS
                      stays linear in pages); the lab's scripts and styles
                      join every page
    on_files          a vault kept elsewhere joins the docs dir's files;   vault, notes.parse_note,
                      every note is parsed once into the graph; the        links.build_graph,
                      generated pages (indexes, folders, graph, tags),     pages.SECTIONS, folders,
                      graph.json and the assets are added as files;        graph.graph_json,
                      in a --dirty build, pages whose inputs changed are   incremental
                      marked to be built again
    on_pre_page       the page's conversion to HTML is taken from the      pagecache, convert
                      cache when nothing it reads changed, and kept for
                      the next build if not; a conversion is the core's,
                      with one Markdown instance for the whole build
    on_page_markdown  a note gets heading ids, its Markdown links resolved,  outline, rendering.markdown_links,
                      its additions, its references rendered, blank lines  pages.decorate, rendering.render,
                      where Obsidian starts a block, and its callouts      blocks.separate, callouts
                      turned into admonitions; a generated page is         htmllinks
                      written again, its links collected as a note's
    on_page_content   the page's links go into its HTML; "Linked from"     htmllinks
                      joins the page's table of contents
    on_post_page      backlinks and the local graph go into the built       pages.backlinks, graph.local_graph
                      page, after Markdown and after search indexed it
    on_post_build     stale and pending citations warned once; the cache   freshness, pagecache
                      written
    on_serve          make serve watches the vault too, through file       watch
                      events (inotify) rather than the core's 0.5 s poll

Bad front matter of the lab's notes fails the build (PluginError); a vault note's is a
warning. Broken and ambiguous references are warnings, fatal in ``--strict``, but in a
vault those Obsidian leaves as they are, which go to the vault report (``report``) and
are counted, unless ``vault_strict: true``. What the core provides, and any core that replaces
this glue must too: the list of source files, Markdown to HTML with the configured
extensions, URLs per page, the theme (Material: sidebar, search, palette switch), and
writing the site. Moving to a core that runs no third-party plugins means rewriting
these hooks as that core's extension points, or as a script that calls the same
functions: nothing under ``lab.wiki`` but this file changes.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
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
from mkdocs.utils import get_relative_url, meta

from lab import LabError, results
from lab.runner import scripts
from lab.wiki import (
    blocks,
    callouts,
    convert,
    folders,
    freshness,
    htmllinks,
    incremental,
    links,
    pagecache,
    pages,
    rendering,
    report,
    vault,
    watch,
)
from lab.wiki.graph import DATA_FILE as GRAPH_DATA
from lab.wiki.graph import SCRIPTS as GRAPH_SCRIPTS
from lab.wiki.graph import graph_json, local_graph
from lab.wiki.notes import Note, NoteError, experiment_name, parse_note

log = get_plugin_logger(__name__)

ASSETS = Path(__file__).parent / "assets"
# The one copy of plotly.js, from the plotly package (found without importing it).
PLOTLY_JS = Path(find_spec("plotly").origin).parent / "package_data" / "plotly.min.js"
ASSET_DIR = "assets/lab"  # in the built site; lab.js loads plotly.min.js next to itself
BACKLINKS_MARK = "<!-- lab: linked from -->"  # where on_post_page puts a note's backlinks


def _assets() -> list[Path]:
    """The files under assets/, vendored libraries and their licences included, but not
    the notes on where those came from (README.md): a .md would become a page."""
    return sorted(p for p in ASSETS.rglob("*") if p.is_file() and p.suffix != ".md")


class LabConfig(base.Config):
    vault = c.Optional(c.Dir(exists=True))  # an Obsidian vault kept elsewhere (lab.wiki.vault)
    vault_strict = c.Type(bool, default=False)  # the vault report's problems warn (lab.wiki.report)


class LabPlugin(BasePlugin[LabConfig]):
    graph: links.Graph
    files: Files
    root: Path  # the repository the docs dir belongs to: results live under it
    own_nav: bool  # whether the sidebar is ours to fill (mkdocs.yml has no nav)
    converted: pagecache.PageCache  # each page's HTML, kept between builds
    converter: convert.Converter | None  # this build's Markdown to HTML (made for the first page)
    links: dict[str, htmllinks.Links]  # a page's links written as HTML after its conversion
    urls: dict[str, str]  # each file's URL by its path, once the files are final
    generated: dict[str, Callable[[], str]]  # the pages the wiki writes: src -> their text

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.own_nav = not config.nav
        if self.own_nav:
            config.nav = [{title: src} for title, src, _ in pages.SECTIONS]
            # Leaving the notes out of the sidebar is the point, not an oversight to list.
            config.validation.nav.omitted_files = logging.DEBUG
        config.extra_css.append(f"{ASSET_DIR}/lab.css")
        config.extra_javascript.append(f"{ASSET_DIR}/lab.js")
        config.extra_css.append(f"{ASSET_DIR}/graph.css")
        config.extra_javascript += [f"{ASSET_DIR}/{script}" for script in GRAPH_SCRIPTS]
        self.root = Path(config.docs_dir).parent
        return config

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        self._add_vault(files, config)
        names = results.result_names(self.root)
        for name in names:  # a sweep or a failure before the first good run: a page to link to
            src = f"{results.RESULTS_DIR.name}/{name}/{results.PAGE}"
            if not files.get_file_from_path(src):
                files.append(File.generated(config, src, content=pages.unrun_experiment(name)))
        notes = self._parse_notes(files)
        # A section per folder outside the kind folders; one with an index.md of its own keeps it.
        sections = [(f, folders.index_src(f)) for f in folders.folders(n.src for n in notes)]
        to_write = [(f, src) for f, src in sections if not files.get_file_from_path(src)]
        try:
            runs = {n: run for n in names if (run := results.load_run(n, self.root))}
            failures = {n: fail for n in names if (fail := results.load_failure(n, self.root))}
            reproductions = {n: verdict for n in names if (verdict := results.load_reproduction(n, self.root))}
        except ValueError as err:  # malformed run.json / failure.json / reproduction.json, named by results
            raise PluginError(str(err)) from None
        self.files = files
        attachments = [f.src_uri for f in files if not f.is_documentation_page()]
        generated = {src: title for title, src, _ in pages.SECTIONS} | {src: f for f, src in to_write}
        if sections:  # a vault: its report (lab.wiki.report), linked from Home
            generated[report.REPORT_PAGE] = report.TITLE
        # every experiment script, run or not: a citation of one never run says how to run it
        experiments = scripts.experiment_names(self.root)
        # judged before the notes are read: a value a stale run lacks is pending, not broken
        judged = freshness.gather(self.root, names, {n: results.sweep_names(n, self.root) for n in names})
        declared = freshness.declared_sweeps(self.root, experiments)
        sweeps = self._sweeps(names)
        self.graph = links.build_graph(
            notes, runs, failures, generated, attachments, sweeps, experiments, judged, declared
        )
        self.graph.reproductions = reproductions
        self._report(self.graph)
        self._forget_stale(files, config)
        self.generated = {src: functools.partial(make, self.graph) for _, src, make in pages.SECTIONS}
        self.generated |= {src: functools.partial(folders.folder_index, self.graph, f) for f, src in to_write}
        if sections:
            self.generated[report.REPORT_PAGE] = functools.partial(report.report_page, self.graph)
        for src, make in self.generated.items():
            files.append(File.generated(config, src, content=make()))
        if self.own_nav:
            config.nav += [{folder: src} for folder, src in sections]
        for asset in _assets():
            files.append(
                File.generated(config, f"{ASSET_DIR}/{asset.relative_to(ASSETS).as_posix()}", abs_src_path=str(asset))
            )
        files.append(File.generated(config, f"{ASSET_DIR}/{PLOTLY_JS.name}", abs_src_path=str(PLOTLY_JS)))
        files.append(
            File.generated(
                config,
                f"{ASSET_DIR}/{GRAPH_DATA}",
                content=graph_json(self.graph, lambda src: files.get_file_from_path(src).url),
            )
        )
        # Looked up for every link of every page: a dict, not get_file_from_path's path parsing.
        self.urls = {file.src_uri: file.url for file in files}
        settings = (config.markdown_extensions, config.mdx_configs, dict(config.validation), config.use_directory_urls)
        self.converted = pagecache.PageCache(
            Path(config.config_file_path).parent / pagecache.CACHE_DIR,
            pagecache.context([(f.src_uri, f.url) for f in files], settings),
            core=type(config).__module__.split(".")[0],  # properdocs or mkdocs
        )
        self.converter = None
        self.links = {}
        return files

    def _forget_stale(self, files: Files, config: MkDocsConfig) -> None:
        """For a ``--dirty`` build (``make serve``): remove the built file of each page
        whose inputs changed, so that the core builds it again (``incremental``)."""
        shared = (str(config.nav), str(config.markdown_extensions), str(config.theme.get("palette")))
        changed = incremental.stale(config.site_dir, self.graph, shared)
        for file in files.documentation_pages():
            if file.src_uri in self.graph.notes and (changed is None or file.src_uri in changed):
                if os.path.isfile(file.abs_dest_path):
                    os.remove(file.abs_dest_path)

    def _sweeps(self, names: list[str]) -> dict[str, dict]:
        """Page src -> record, for every sweep page (sweep.json) and sweep point page
        (run.json). A sweep still running has its finished points' pages and no sweep.json yet."""
        found = {}
        try:
            for name in names:
                base = results.result_dir(name, self.root) / results.SWEEPS
                for folder in sorted(base.iterdir() if base.is_dir() else []):
                    if folder.name.startswith(".") or not folder.is_dir():
                        continue  # a sweep page being swapped in
                    src = folder.relative_to(self.root / results.RESULTS_DIR.parent).as_posix()
                    if record := results.load_sweep(name, folder.name, self.root):
                        found[f"{src}/{results.PAGE}"] = record
                    for point in sorted((folder / results.POINTS).glob(f"*/{results.RUN}")):
                        found[f"{src}/{results.POINTS}/{point.parent.name}/{results.PAGE}"] = results.read_run(
                            point.parent
                        )
        except ValueError as err:  # a malformed sweep.json / run.json, named by results
            raise PluginError(str(err)) from None
        return found

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
            path = os.path.relpath(file.abs_src_path, self.root) if file.abs_src_path else file.src_uri
            if file.src_uri in generated:
                errors.append(f"{path}: this page is generated by the wiki; give the note another name")
                continue
            try:
                notes.append(parse_note(file.src_uri, file.content_string, path))
            except NoteError as err:
                errors.append(str(err))
        if errors:
            raise PluginError("\n".join(errors))
        for note in notes:  # a vault note's unreadable properties: shown on its page, and warned
            for problem in note.problems:
                log.warning(problem)
            for ignored in note.ignored:  # a property the lab does not read: said, never a strict failure
                log.info(ignored)
        return notes

    def _report(self, graph: links.Graph) -> None:
        """Each problem as a warning, but those of the vault report, which are counted
        (and warn too with ``vault_strict``)."""
        reported = set() if self.config.vault_strict else set(report.vault_problems(graph))
        for problem in graph.problems:
            if problem not in reported:
                log.warning(str(problem))
        if reported:
            log.info(f"vault report ({report.REPORT_PAGE}): {report.summary(graph)}")

    def on_pre_page(self, page: Page, config: MkDocsConfig, files: Files) -> Page:
        # The core calls page.render(config, files) once the page's Markdown is final.
        page.render = functools.partial(self._render, page, page.render)
        return page

    def _render(self, page: Page, render, config: MkDocsConfig, files: Files) -> None:  # noqa: ANN001
        """The core's conversion of ``page`` to HTML, or what it gave last time."""
        src = page.file.src_uri
        key = self.converted.key(src, page.file.url, page.markdown)
        if entry := self.converted.get(src, key):
            page.content = entry["content"]
            page.toc = TableOfContents(_anchor_links(entry["toc"]))
            if page.toc.items:  # as the core's get_toc marks it
                page.toc.items[0].active = True
            page._title_from_render = entry["title"]
            page.present_anchor_ids = set(entry["anchors"])
            page.links_to_anchors = {files.get_file_from_path(f): anchors for f, anchors in entry["links"].items()}
            return
        if self.converter is None:
            self.converter = convert.Converter(type(page), config.markdown_extensions, config.mdx_configs or {})
        with pagecache.warnings_counted() as warned:
            if self.converter.usable:
                self.converter.render(page, config, files)
            else:  # a core this module was not checked against: its own conversion
                render(config, files)
        if not warned.count:  # a page that warned converts again, and warns again
            links = {f.src_uri: anchors for f, anchors in (page.links_to_anchors or {}).items()}
            entry = {"content": page.content, "toc": pagecache.toc_tokens(page.toc.items), "links": links}
            anchors = sorted(page.present_anchor_ids or ())
            self.converted.put(src, key, entry | {"title": page._title_from_render, "anchors": anchors})

    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        url = lambda src: self._url(src, page)  # noqa: E731
        if page.file.src_uri in self.generated:
            # Written again, its links now HTML put in after the conversion (htmllinks):
            # an index lists every note, and the core would parse each link and check it.
            # The front matter is the core's, read from the first writing.
            with htmllinks.collecting(url) as self.links[page.file.src_uri]:
                return meta.get_data(self.generated[page.file.src_uri]())[0]
        note = self.graph.notes.get(page.file.src_uri)
        if note is None:  # a page with no note: already final
            return markdown
        history = []
        if note.kind == "experiment":
            try:
                history = results.load_history(experiment_name(note.src), self.root)
            except ValueError as err:
                raise PluginError(str(err)) from None
        if links.sweep_of(note.src):
            # A sweep point is found through its sweep's page, as in backlinks and the graph:
            # in search it would be the experiment's text once per point, and indexing it
            # cost most of a warm build of the lab's own wiki.
            page.meta["search"] = {"exclude": True}
        with htmllinks.collecting(url) as self.links[note.src]:  # the links: HTML after the conversion
            # The note's text as parsed (front matter the core could not read is not in it),
            # its headings carrying the ids links point at, its Markdown links resolved.
            body = rendering.markdown_links(self.graph.outline(note.src).with_ids(), note.src, self.graph, url)
            markdown = rendering.render(pages.decorate(note, body, self.graph, history), note.src, self.graph, url)
        return callouts.convert(blocks.separate(markdown))

    def _url(self, src: str, page: Page) -> str:
        """The URL of file ``src`` of the docs dir, relative to ``page``."""
        if (url := self.urls.get(src)) is None:  # not a file's own path (``a/./b.md``), or no file
            file = self.files.get_file_from_path(src)
            url = file.url if file else src
        return get_relative_url(url, page.file.url)

    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        links = self.links.pop(page.file.src_uri, None)
        html = links.fill(html) if links else html
        if page.file.src_uri not in self.graph.notes:
            return html
        _append_to_toc(page.toc, AnchorLink("Linked from", pages.BACKLINKS_ID, 2))
        return html + BACKLINKS_MARK

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        note = self.graph.notes.get(page.file.src_uri)
        if note is None:
            return output
        section = pages.backlinks(note, self.graph, lambda src: self._url(src, page))
        return output.replace(BACKLINKS_MARK, section + local_graph(note.src), 1)

    def on_post_build(self, config: MkDocsConfig) -> None:
        freshness.warn_stale_citations(self.graph.stale_citations)
        freshness.warn_pending(self.graph.pending)
        self.converted.save({file.src_uri for file in self.files.documentation_pages()})

    def on_serve(self, server, config: MkDocsConfig, builder):  # noqa: ANN001, ANN201
        if self.config.vault:
            server.watch(self.config.vault)  # edits in the vault rebuild, as edits in site/ do
        return watch.instant(server)  # file events, not a poll every 0.5 s


def _anchor_links(tokens: list[dict]) -> list[AnchorLink]:
    """A table of contents kept by ``pagecache.toc_tokens``, as the core's AnchorLinks."""
    items = []
    for token in tokens:
        items.append(AnchorLink(token["title"], token["id"], token["level"]))
        items[-1].children = _anchor_links(token["children"])
    return items


def _append_to_toc(toc: TableOfContents, item: AnchorLink) -> None:
    """Add ``item`` to the page's table of contents, under the page title if there is one
    (Material shows the title's children)."""
    items = toc.items
    if items and items[0].level == 1:
        items = items[0].children
    items.append(item)
