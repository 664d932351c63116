"""Archived results (lab.runner.archive): a record of their commit, never stale, never
re-run, and reproduced at that commit in a temporary git worktree."""

import shutil

import pytest
from runner_fixture import REPO, git, make_root

from lab import LabError, results
from lab.runner import archive, commands, staleness


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A repository with its own copy of the lab, where demo ran at the first commit,
    its results were committed, and then the script changed what it computes."""
    root = make_root(tmp_path_factory.mktemp("archive"))
    shutil.copytree(REPO / "lab", root / "lab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".gitignore", root / ".gitignore")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the lab and demo")
    made_at = git(root, "rev-parse", "HEAD").strip()
    assert commands.run_command("demo", [], root) == 0
    git(root, "add", "site")
    git(root, "commit", "-qm", "demo's results")
    script = root / "experiments" / "demo.py"
    script.write_text(script.read_text().replace("sum(widths) * scale", "sum(widths) * scale * 2"))
    git(root, "commit", "-qam", "demo doubles its metric")
    return root, made_at


def test_an_archived_result_is_neither_stale_nor_re_run(repo, capsys):
    root, made_at = repo
    assert staleness.experiment_state("demo", root).status == "stale"  # the script changed since
    mark = archive.archive("demo", None, "the first version, kept as a record", root)
    try:
        assert mark["commit"] == made_at and mark["dirty"] is False
        state = staleness.experiment_state("demo", root)
        assert (state.status, state.due) == ("archived", False)
        assert state.detail.startswith(f"a record of commit {made_at[:7]} (archived ")
        assert commands.run_stale_command(root) == 0
        assert capsys.readouterr().out.startswith("skip demo: archived")
    finally:
        archive.unarchive("demo", None, root)
    assert staleness.experiment_state("demo", root).status == "stale"


def test_an_archived_result_is_reproduced_at_its_commit_in_a_worktree(repo):
    root, made_at = repo
    archive.archive("demo", None, "the first version, kept as a record", root)
    try:
        # at the present commit the metric doubles; at the record's commit it is identical
        assert commands.reproduce_command(["demo"], cached=True, root=root) == 0
        verdict = results.load_reproduction("demo", root)
        assert verdict["commit"] == made_at
        assert (verdict["identical"], verdict["drifted"], verdict["failure"]) == (1, 0, None)
        assert verdict["run_id"] == results.load_run("demo", root)["run_id"]
        assert not (root / archive.WORKTREES / made_at[:12]).exists()  # the worktree is gone
        assert made_at not in git(root, "worktree", "list")
    finally:
        archive.unarchive("demo", None, root)


def test_archiving_needs_results_a_commit_and_a_reason(repo, tmp_path):
    root, _ = repo
    with pytest.raises(LabError, match="say why demo is archived"):
        archive.archive("demo", None, " ", root)
    with pytest.raises(LabError, match="demo@seeds has no results to archive"):
        archive.archive("demo", "seeds", "why", root)
    elsewhere = make_root(tmp_path)  # not a git repository
    assert commands.run_command("demo", [], elsewhere) == 0
    with pytest.raises(LabError, match="not made in a git repository"):
        archive.archive("demo", None, "why", elsewhere)
