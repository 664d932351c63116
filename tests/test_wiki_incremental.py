"""A --dirty build (``make serve``) rebuilds the edited note and the pages its edit
touches (backlinks, embeds, titles), and leaves the others as they were built."""

import subprocess
import sys
from pathlib import Path

from wiki_fixture import make_wiki

# Two builds in one process, as `make serve` (`serve --dirty`) makes them: a full one, then,
# after the edit, a dirty one. Prints the built pages' modification times after each.
BUILDS = """
import json, os, pathlib, sys, time
from mkdocs.commands.build import build
from mkdocs.config import load_config

site = pathlib.Path("build/site")
def times():
    return {str(p.relative_to(site)): p.stat().st_mtime_ns for p in site.rglob("index.html")}
build(load_config("mkdocs.yml"), dirty=False)
first = times()
time.sleep(0.05)
edit = pathlib.Path(sys.argv[1])
edit.write_text(edit.read_text() + "\\n\\nNow also see [[carry-heads]] and ![[ablate-mlp]].\\n")
build(load_config("mkdocs.yml"), dirty=True)
print(json.dumps([first, times()]))
"""


def test_a_dirty_build_rebuilds_the_edited_note_and_the_pages_it_touches_only(tmp_path):
    import json

    make_wiki(tmp_path)
    edited = tmp_path / "site/journal/2026-11-26-first-run.md"
    result = subprocess.run(
        [sys.executable, "-c", BUILDS, str(edited)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    first, second = json.loads(result.stdout.strip().splitlines()[-1])
    rebuilt = {page for page in second if second[page] != first.get(page)}
    assert {"journal/2026-11-26-first-run/index.html", "insights/carry-heads/index.html"} <= rebuilt  # a new backlink
    assert "ideas/ablate-mlp/index.html" in rebuilt  # embedded now: a new backlink too
    assert "journal/index.html" in rebuilt  # a generated page: always
    untouched = {"experiments/carry-probe/index.html", "ideas/probe-carries/index.html"}
    assert untouched & rebuilt == set() and untouched <= set(second)
    page = Path(tmp_path / "build/site/insights/carry-heads/index.html").read_text()
    assert "Now also see" in page.split('id="linked-from"', 1)[1]
