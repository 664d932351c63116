"""`make wiki` builds into a temporary folder and swaps it in only when the build
succeeds: a failed strict build keeps the last good build/site."""

import sys
from pathlib import Path

from runner_fixture import REPO
from test_makefile import make
from wiki_fixture import make_wiki


def test_a_failed_build_keeps_the_last_good_one(tmp_path):
    make_wiki(tmp_path)
    (tmp_path / "Makefile").write_text((REPO / "Makefile").read_text())
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    site = tmp_path / "build" / "site"

    first = make(tmp_path, "wiki")
    assert first.returncode == 0, first.stderr
    good = (site / "ideas" / "probe-carries" / "index.html").read_text()

    note = tmp_path / "site" / "ideas" / "probe-carries.md"
    note.write_text(note.read_text() + "\nSee [[no-such-note-at-all]].\n")
    failed = make(tmp_path, "wiki")
    assert failed.returncode != 0
    assert "[[no-such-note-at-all]] does not name any page or file" in failed.stderr
    assert "the wiki did not build (above): the last good build in build/site/ is kept" in failed.stderr
    assert (site / "ideas" / "probe-carries" / "index.html").read_text() == good
    assert [p.name for p in (tmp_path / "build").iterdir()] == ["site"]  # no temporary folder left

    note.write_text(note.read_text().replace("[[no-such-note-at-all]]", "[[carry-heads]]"))
    fixed = make(tmp_path, "wiki")
    assert fixed.returncode == 0, fixed.stderr
    assert "carry-heads" in (site / "ideas" / "probe-carries" / "index.html").read_text().split("article")[1]
