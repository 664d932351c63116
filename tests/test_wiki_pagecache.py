"""Each page's HTML is kept between builds (lab.wiki.pagecache): a second build serves
unchanged pages from the cache and gives the same site; an edit, or a change to the
files links resolve against, converts again; a page whose conversion warned is never
kept, so that it warns on every build."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from wiki_fixture import make_wiki

from lab.wiki import pagecache

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
NOTE = "insights/carry-heads.md"
PAGE = "build/site/insights/carry-heads/index.html"


def build(root: Path, *args: str, core: str = "mkdocs") -> subprocess.CompletedProcess:
    # The working directory is on sys.path (-m): the warning extension below is found there.
    return subprocess.run(
        [sys.executable, "-m", core, "build", *args],
        cwd=root,
        env={**ENV, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def cache_file(root: Path, core: str = "mkdocs") -> Path:
    return root / pagecache.CACHE_DIR / pagecache.FILE.format(core=core)


def site(root: Path) -> dict[str, bytes]:
    built = root / "build" / "site"
    # sitemap.xml.gz holds the build's time; search_index.json is the search plugin's
    return {str(p.relative_to(built)): p.read_bytes() for p in built.rglob("*.html")}


def tamper(root: Path, src: str, old: str, new: str) -> None:
    """Change the kept HTML of page ``src``: what a build shows from the cache shows it."""
    data = json.loads(cache_file(root).read_text())
    entry = data["pages"][src]
    assert old in entry["content"]
    entry["content"] = entry["content"].replace(old, new)
    cache_file(root).write_text(json.dumps(data))


def test_a_second_build_gives_the_same_site_from_the_cache(tmp_path):
    make_wiki(tmp_path)
    assert build(tmp_path, "--strict").returncode == 0
    first = site(tmp_path)
    assert NOTE in json.loads(cache_file(tmp_path).read_text())["pages"]
    tamper(tmp_path, NOTE, "</p>", "</p><p>KEPT</p>")
    result = build(tmp_path, "--strict")
    assert result.returncode == 0, result.stderr
    second = site(tmp_path)
    assert "KEPT" in second.pop("insights/carry-heads/index.html").decode()  # served from the cache
    assert second == {page: html for page, html in first.items() if page != "insights/carry-heads/index.html"}


def test_an_edit_converts_the_page_again(tmp_path):
    make_wiki(tmp_path)
    assert build(tmp_path, "--strict").returncode == 0
    tamper(tmp_path, NOTE, "</p>", "</p><p>KEPT</p>")
    note = tmp_path / "site" / NOTE
    note.write_text(note.read_text() + "\n\nAn edit.\n")
    assert build(tmp_path, "--strict").returncode == 0
    page = (tmp_path / PAGE).read_text()
    assert "An edit." in page and "KEPT" not in page


def test_a_new_file_converts_every_page_again(tmp_path):
    # Links resolve against the files: a new one may turn a link's target into a page.
    make_wiki(tmp_path)
    assert build(tmp_path, "--strict").returncode == 0
    tamper(tmp_path, NOTE, "</p>", "</p><p>KEPT</p>")
    (tmp_path / "site/ideas/new-idea.md").write_text("---\ntitle: New\nstatus: open\npriority: low\n---\n\nNew.\n")
    assert build(tmp_path, "--strict").returncode == 0
    assert "KEPT" not in (tmp_path / PAGE).read_text()


WARNER = """
import logging
from markdown import Extension
from markdown.preprocessors import Preprocessor

class Warn(Preprocessor):
    def run(self, lines):
        if any("WARN-ME" in line for line in lines):
            logging.getLogger("mkdocs.warner").warning("this page asked for a warning")
        return lines

class WarnExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(Warn(md), "warner", 0)

def makeExtension(**kwargs):
    return WarnExtension(**kwargs)
"""


@pytest.mark.parametrize("core", ["mkdocs", "properdocs"])  # each logs its warnings its own way
def test_a_page_that_warned_is_not_kept_and_warns_on_every_build(tmp_path, core):
    config = make_wiki(tmp_path)
    (tmp_path / "warner.py").write_text(WARNER)
    config.write_text(config.read_text().replace("markdown_extensions:\n", "markdown_extensions:\n  - warner\n", 1))
    note = tmp_path / "site" / NOTE
    note.write_text(note.read_text() + "\n\nWARN-ME\n")
    for _ in range(2):
        result = build(tmp_path, core=core)
        assert result.returncode == 0, result.stderr
        assert "this page asked for a warning" in result.stderr
    kept = json.loads(cache_file(tmp_path, core).read_text())["pages"]
    assert NOTE not in kept and "ideas/ablate-mlp.md" in kept
    assert build(tmp_path, "--strict", core=core).returncode == 1  # and strictness still sees it
