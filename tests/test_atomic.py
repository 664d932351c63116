"""Atomic folder swaps: a reader, or a crash, sees the old results or the new."""

import pytest

from lab import atomic


def test_replace_dir_swaps_in_the_new_results_and_removes_the_old(tmp_path):
    target, new = tmp_path / "exp", tmp_path / ".exp.new"
    target.mkdir()
    (target / "run.json").write_text("old")
    new.mkdir()
    (new / "run.json").write_text("new")
    atomic.replace_dir(new, target)
    assert (target / "run.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]


def test_recover_dir_restores_results_moved_aside_by_an_interrupted_swap(tmp_path):
    target = tmp_path / "exp"
    aside = tmp_path / ".exp.old"
    aside.mkdir()
    (aside / "run.json").write_text("last good")
    atomic.recover_dir(target)
    assert (target / "run.json").read_text() == "last good" and not aside.exists()
    atomic.recover_dir(target)  # nothing to do the second time
    assert (target / "run.json").read_text() == "last good"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    atomic.write_text(path, "last good")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_text(path, "half")
    assert path.read_text() == "last good"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]
