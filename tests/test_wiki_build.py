"""The wiki built end to end by `mkdocs build`, as `make wiki` does, on the fixture wiki."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab.wiki.pages import SECTIONS
from wiki_fixture import make_wiki

# `mkdocs build …`, then a check that building imported neither torch nor TransformerLens.
MKDOCS = """
import runpy, sys
try:
    runpy.run_module("mkdocs", run_name="__main__")
finally:
    heavy = sorted({"torch", "transformer_lens"} & set(sys.modules))
    if heavy:
        print(f"building the wiki imported {heavy}", file=sys.stderr)
        sys.exit(99)
"""
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def mkdocs(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", MKDOCS, "build", *args], cwd=root, env=ENV,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wiki")
    make_wiki(root)
    result = mkdocs(root, "--strict")
    assert result.returncode == 0, result.stderr
    return root / "build" / "site"


def test_strict_build_makes_every_page(built):
    for page in ("index.html", "ideas/index.html", "insights/index.html", "projects/index.html",
                 "journal/index.html", "experiments/index.html", "experiments/loss-shelf/index.html",
                 "insights/carry-heads/index.html"):
        assert (built / page).exists(), page
    assert (built / "experiments/loss-shelf/figures/loss-curve.json").exists()


def test_one_local_plotly_and_no_cdn(built):
    assert [p.name for p in built.rglob("plotly*.js")] == ["plotly.min.js"]
    for page in built.rglob("*.html"):
        html = page.read_text()
        assert 'src="http' not in html and 'href="https://fonts' not in html, page


def test_search_finds_notes_but_not_figure_data(built):
    index = json.loads((built / "search/search_index.json").read_text())
    locations = {doc["location"] for doc in index["docs"]}
    assert {"insights/carry-heads/", "experiments/loss-shelf/"} <= locations
    text = json.dumps(index)
    assert "scatter" not in text and "digit 0" not in text


def test_backlinks_are_on_the_page_and_in_its_toc_but_not_in_search(built):
    html = (built / "experiments/loss-shelf/index.html").read_text()
    section = html.split('<h2 id="linked-from">Linked from</h2>', 1)[1].split("</ul>", 1)[0]
    assert '<a href="../../insights/carry-heads/">Two heads compute the carry</a>' in section
    assert 'href="#linked-from"' in html.split('class="md-nav md-nav--secondary"', 1)[1]
    index = json.loads((built / "search/search_index.json").read_text())
    shelf = [doc for doc in index["docs"] if doc["location"].startswith("experiments/loss-shelf/")]
    assert shelf and not any("Linked from" in doc["title"] + doc["text"] for doc in shelf)


def test_sidebar_holds_sections_not_pages(built):
    html = (built / "insights/carry-heads/index.html").read_text()
    nav = html.split('class="md-nav md-nav--primary"', 1)[1].split("</nav>", 1)[0]
    assert nav.count('class="md-nav__link') == len(SECTIONS)  # not one per page


def test_broken_link_fails_strict_build_with_file_and_line_and_is_marked_otherwise(tmp_path):
    make_wiki(tmp_path)
    note = tmp_path / "site/ideas/probe-carries.md"
    note.write_text(note.read_text() + "\nAlso [[no-such-note]].\n")
    strict = mkdocs(tmp_path, "--strict")
    assert strict.returncode == 1
    assert "site/ideas/probe-carries.md:13: [[no-such-note]] does not name any page" in strict.stderr
    assert mkdocs(tmp_path).returncode == 0
    html = (tmp_path / "build/site/ideas/probe-carries/index.html").read_text()
    assert 'class="lab-broken"' in html


def test_bad_front_matter_fails_any_build_naming_file_and_field(tmp_path):
    make_wiki(tmp_path)
    note = tmp_path / "site/ideas/ablate-mlp.md"
    note.write_text(note.read_text().replace("priority: low", "priority: urgent"))
    result = mkdocs(tmp_path)
    assert result.returncode == 1
    assert "site/ideas/ablate-mlp.md:4: field 'priority' is 'urgent'; use one of: high, normal, low" in result.stderr


def test_new_note_command(tmp_path):
    lab = [sys.executable, "-m", "lab", "new-note", "insight", "Heads compute carries"]
    run = lambda: subprocess.run(lab, cwd=tmp_path, env={**ENV, "PYTHONPATH": str(Path(__file__).parents[1])},  # noqa: E731
                                 capture_output=True, text=True)
    first, second = run(), run()
    assert first.returncode == 0 and "site/insights/heads-compute-carries.md" in first.stdout
    assert second.returncode == 2 and "already exists" in second.stderr
