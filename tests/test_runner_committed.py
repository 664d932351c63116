"""Runs made from uncommitted changes (lab.runner.committed): at which commit, if any,
their inputs are found, judged by that commit's own lab in a worktree."""

import shutil

import pytest
from runner_fixture import REPO, git, make_root

from lab import results
from lab.runner import archive, commands, committed
from lab.wiki import freshness


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository with its own copy of the lab and demo, all committed."""
    root = make_root(tmp_path)
    shutil.copytree(REPO / "lab", root / "lab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".gitignore", root / ".gitignore")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the lab and demo")
    monkeypatch.setenv("ALLOW_DIRTY", "1")
    return root


def _dirty_run(root, edit) -> dict:
    """demo run with ``edit`` (path, old, new) made and left uncommitted; its record."""
    path, old, new = edit
    text = (root / path).read_text()
    assert old in text
    (root / path).write_text(text.replace(old, new))
    assert commands.run_command("demo", [], root) == 0
    run = results.load_run("demo", root)
    assert run["dirty"] is True and run["inputs_commit"] is None
    return run


def _head(root) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def test_edits_outside_the_inputs_leave_the_commit_its_inputs(repo, capsys):
    made_at = _head(repo)
    _dirty_run(repo, ("experiments/demo.py", "# A tiny experiment", "# A small experiment"))  # the write-up only
    assert committed.check_inputs_command("demo", None, repo) == 0
    assert results.load_run("demo", repo)["inputs_commit"] == made_at
    assert "its inputs are commit" in capsys.readouterr().out
    assert not (repo / archive.WORKTREES / made_at[:12]).exists()  # the worktree is gone
    assert committed.dirty_runs("demo", None, repo) == {}  # checked once


def test_code_committed_after_the_run_is_found_at_the_later_commit(repo):
    made_at = _head(repo)
    _dirty_run(repo, ("experiments/demo.py", "sum(widths) * scale", "sum(widths) * scale * 2"))
    git(repo, "commit", "-qam", "demo doubles its metric")  # the code the run ran, committed after it
    later = _head(repo)
    assert committed.check_inputs_command("demo", None, repo) == 0
    run = results.load_run("demo", repo)
    assert (run["commit"], run["inputs_commit"]) == (made_at, later)


def test_lab_code_never_committed_is_found_nowhere(repo, capsys):
    edit = (
        "lab/record.py",
        "    results.add_metric(",
        "    _ = 0  # an edit to code the run executes\n    results.add_metric(",
    )
    _dirty_run(repo, edit)
    git(repo, "checkout", "--", edit[0])  # the edit is gone for good
    assert committed.check_inputs_command("demo", None, repo) == 1
    assert results.load_run("demo", repo)["inputs_commit"] is None
    assert "no commit of 1 tried has its inputs" in capsys.readouterr().out


def test_pages_say_where_the_uncommitted_edits_were():
    checked = {"dirty": True, "commit": "a" * 40, "inputs_commit": "b" * 40}
    fresh = freshness.Freshness("fresh", "")
    assert freshness.badge(fresh, checked) == "fresh"
    assert freshness.badge(fresh, {**checked, "inputs_commit": None}) == "fresh · uncommitted"
    banner = freshness.banner(fresh, checked, "make experiments")
    assert "its inputs are commit bbbbbbb's" in banner and "Commit bbbbbbb remakes it" in banner
    assert "a later one" in banner and "none of them" in freshness.banner(
        fresh, {**checked, "inputs_commit": "a" * 40}, "x"
    )
    assert "cannot remake it" in freshness.banner(fresh, {**checked, "inputs_commit": None}, "x")


def test_a_swept_record_its_points_and_its_archive_mark_are_checked(repo):
    made_at = _head(repo)
    script = repo / "experiments" / "demo.py"
    script.write_text(script.read_text().replace("# A tiny experiment", "# A small experiment"))  # write-up only
    assert commands.sweep_command("demo", ["seed=0,1"], sweep_id="seeds", root=repo) == 0
    archive.archive("demo", "seeds", "a record", repo)
    assert archive.load(results.sweep_dir("demo", "seeds", repo))["dirty"] is True
    assert committed.check_inputs_command("demo", "seeds", repo) == 0
    points = results.sweep_dir("demo", "seeds", repo) / results.POINTS
    assert [results.read_run(p)["inputs_commit"] for p in sorted(points.iterdir())] == [made_at, made_at]
    assert results.load_sweep("demo", "seeds", repo)["inputs_commit"] == made_at
    mark = archive.load(results.sweep_dir("demo", "seeds", repo))
    assert "its inputs checked to be a commit's" in archive.describe(mark)
