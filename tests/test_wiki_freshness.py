"""Freshness on the pages (lab.wiki.freshness): the badge, the banner, the reproduction
verdict tied to its run, uncommitted provenance, and the mark on a stale citation,
built end to end around a real run of the demo experiment."""

import shutil

import pytest
from runner_fixture import REPO, make_root
from test_wiki_build import mkdocs

from lab import results
from lab.runner import archive, commands
from lab.wiki import freshness

NOTE = """---
title: What the demo shows
status: supported
project: fixtures
---

The widths add up to {{ metric demo.total_width }}.
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """A root where demo ran once, with the lab's mkdocs.yml and a note citing it."""
    root = make_root(tmp_path_factory.mktemp("fresh"))
    assert commands.run_command("demo", [], root) == 0
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for folder, name, text in (
        ("insights", "demo-note", NOTE),
        ("projects", "fixtures", "---\ntitle: Fixtures\n---\n\nThe runner's test experiments.\n"),
        ("ideas", "runner", "---\ntitle: A runner\nstatus: done\nproject: fixtures\n---\n\nRun scripts.\n"),
    ):
        (root / "site" / folder).mkdir(parents=True, exist_ok=True)
        (root / "site" / folder / f"{name}.md").write_text(text)
    return root


@pytest.fixture
def root(ran, tmp_path):
    copy = tmp_path / "root"
    shutil.copytree(ran, copy)
    return copy


def build(root):
    done = mkdocs(root, "--strict")
    assert done.returncode == 0, done.stderr
    site = root / "build" / "site"
    return done, {
        page: (site / page / "index.html").read_text()
        for page in ("experiments", "experiments/demo", "insights/demo-note")
    }


def test_a_fresh_result_is_shown_fresh_with_no_banner_and_no_mark(root):
    done, html = build(root)
    assert "<td>fresh</td>" in html["experiments"]
    assert "Stale" not in html["experiments/demo"] and "uncommitted" not in html["experiments/demo"]
    assert "lab-stale" not in html["insights/demo-note"]
    assert "not fresh" not in done.stderr


def test_a_stale_result_says_what_changed_and_its_citation_is_marked_with_a_warning_not_an_error(root):
    script = root / "experiments" / "demo.py"
    script.write_text(script.read_text().replace('print("done")', 'print("finished")'))
    done, html = build(root)  # strict, and still built
    assert "<td><strong>stale</strong></td>" in html["experiments"]
    assert "Stale: the code has changed since these numbers" in html["experiments/demo"]
    assert "Script changed." in html["experiments/demo"]
    assert 'class="lab-stale"' in html["insights/demo-note"]
    assert "1 citation(s) of results that are not fresh" in done.stderr
    assert "insights/demo-note.md: demo.total_width = 0.006 mm (stale)" in done.stderr


def test_an_archived_result_shows_its_commit_and_its_citation_is_marked(root, monkeypatch):
    run = results.load_run("demo", root)
    results.atomic_write_json(results.result_dir("demo", root) / results.RUN, {**run, "commit": "feedc0de" * 5})
    archive.archive("demo", None, "a record of the first try", root)
    _, html = build(root)
    assert "<td>archived</td>" in html["experiments"]
    assert "A record of commit feedc0d" in html["experiments/demo"]
    assert 'class="lab-stale"' in html["insights/demo-note"]


def test_a_run_made_from_uncommitted_changes_says_so(root):
    run = results.load_run("demo", root)
    results.atomic_write_json(results.result_dir("demo", root) / results.RUN, {**run, "dirty": True})
    _, html = build(root)
    assert "fresh · uncommitted" in html["experiments"]
    assert "Made from uncommitted changes" in html["experiments/demo"]


def test_the_reproduction_verdict_is_shown_only_for_the_run_it_checked(root):
    run = results.load_run("demo", root)
    verdict = results.make_record(
        results.REPRODUCTION_FIELDS,
        {
            **dict.fromkeys(results.REPRODUCTION_FIELDS),
            "run_id": run["run_id"],
            "when": "2026-12-06T00:00:00+00:00",
            "commit": None,
            "dirty": False,
            "cached": True,
            "tolerance": {"relative": 0.0, "why": "same environment: bit-identical"},
            "duration_s": 1.0,
            "identical": 1,
            "within": 0,
            "drifted": 0,
            "drifts": [],
            "timings": [],
        },
    )
    path = results.result_dir("demo", root) / results.REPRODUCTION
    results.atomic_write_json(path, verdict)
    _, html = build(root)
    assert "Reproduced: all 1 metrics bit-identical" in html["experiments/demo"]
    assert "✓ 1/1 identical" in html["experiments"]

    results.atomic_write_json(path, {**verdict, "run_id": "20200101T000000Z"})
    _, html = build(root)
    assert "Reproduced: all 1" not in html["experiments/demo"]
    assert (
        f"an earlier run (20200101T000000Z) was reproduced, not this one ({run['run_id']})" in html["experiments/demo"]
    )
    assert "earlier run only" in html["experiments"] and "✓" not in html["experiments"]


def test_badges_and_marks_follow_the_state():
    stale = freshness.Freshness("stale", "lab/train.py:train changed")
    assert freshness.badge(stale) == "**stale**"
    assert freshness.badge(freshness.Freshness("fresh", ""), {"dirty": True}) == "fresh · uncommitted"
    assert freshness.mark(stale) == (freshness.MARK, "stale: lab/train.py:train changed")
    assert freshness.mark(freshness.Freshness("fresh", "run x")) == ("", "")
    assert freshness.banner(freshness.Freshness("fresh", ""), {"dirty": False}, "x") == ""
