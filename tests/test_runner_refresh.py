"""make refresh (lab.runner.refresh): the plan, its estimate from recorded durations,
archived results left alone, and a run that resumes where it stopped."""

import pytest

from lab import results
from lab.runner import archive, commands, refresh


def _edit(root, old, new):
    script = root / "experiments" / "demo.py"
    script.write_text(script.read_text().replace(old, new))


def test_a_fresh_root_plans_nothing(good_root, capsys):
    assert refresh.plan(good_root) == []
    assert commands.refresh_command(good_root) == 0
    assert capsys.readouterr().out == "nothing to refresh: every result is fresh or archived\n"


def test_the_plan_names_what_is_stale_with_its_recorded_duration(good_root, capsys):
    _edit(good_root, 'print("done")', 'print("finished")')
    (good_root / "experiments" / "other.py").write_text((good_root / "experiments" / "demo.py").read_text())
    items = refresh.plan(good_root)
    recorded = results.load_run("demo", good_root)["duration_s"]
    assert [(i.label, i.seconds) for i in items] == [("demo", recorded), ("other", None)]
    assert items[0].why == "stale: script changed" and items[1].why.startswith("never run")
    assert commands.refresh_command(good_root, dry_run=True) == 0
    out = capsys.readouterr().out
    assert "2 to refresh, about" in out and "(and 1 never timed)" in out
    assert results.load_run("other", good_root) is None  # a plan runs nothing


def test_archived_results_are_never_planned(good_root, monkeypatch):
    _edit(good_root, 'print("done")', 'print("finished")')
    run = results.load_run("demo", good_root)
    results.atomic_write_json(results.result_dir("demo", good_root) / results.RUN, {**run, "commit": "c0ffee" * 6})
    archive.archive("demo", None, "kept", good_root)
    assert refresh.plan(good_root) == []


@pytest.mark.slow
def test_a_refresh_runs_what_is_due_and_a_second_one_finds_nothing(good_root, capsys):
    root = good_root
    _edit(root, "sum(widths) * scale", "sum(widths) * scale * 2")
    assert commands.refresh_command(root) == 0
    out = capsys.readouterr().out
    assert "1 to refresh" in out and "[refresh] demo done (1/1" in out
    assert results.load_run("demo", root)["metrics"]["total_width"]["value"] == pytest.approx(0.012)
    assert refresh.plan(root) == []


def test_model_cache_is_where_the_lab_caches_models(monkeypatch, tmp_path):
    from lab import models  # torch: the runner's own answer must not need it

    monkeypatch.delenv(models.CACHE_ENV, raising=False)
    assert refresh.model_cache() == models.cache_dir()
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    assert refresh.model_cache() == models.cache_dir() == tmp_path / "models"


def test_the_estimate_trains_again_the_models_the_cache_lacks_once(good_root, monkeypatch, tmp_path):
    """A run that trained its model (5 s of 20) and loaded another: with the first cached
    now and the second not, running it again loads the first and trains the second. A
    second experiment using the second model loads it then."""
    monkeypatch.setenv("LAB_CACHE", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "add2-aaaa.pt").write_bytes(b"cached")
    _edit(good_root, 'print("done")', 'print("finished")')
    (good_root / "experiments" / "other.py").write_text((good_root / "experiments" / "demo.py").read_text())
    run = results.load_run("demo", good_root)
    made = {**run, "duration_s": 20.0, "timings": {**(run["timings"] or {}), "training_s": 5.0}}
    made["models"] = {"add2-aaaa.pt": 5.0, "add2-bbbb.pt": 7.0}
    results.atomic_write_json(results.result_dir("demo", good_root) / results.RUN, made)
    shared = {**made, "name": "other", "timings": {**made["timings"], "training_s": 0.0}}
    shared["models"] = {"add2-bbbb.pt": 7.0}
    results.result_dir("other", good_root).mkdir(parents=True, exist_ok=True)
    results.atomic_write_json(results.result_dir("other", good_root) / results.RUN, shared)

    to_train: set[str] = set()
    assert refresh.experiment_seconds(made, to_train) == 20.0 - 5.0 + 7.0
    assert refresh.experiment_seconds(shared, to_train) == 20.0  # add2-bbbb is trained by then
    assert refresh.experiment_seconds({**made, "models": None}) == 20.0  # recorded before runs named models
    assert [(item.label, item.seconds) for item in refresh.plan(good_root)] == [("demo", 22.0), ("other", 20.0)]


def test_the_plan_says_how_many_of_its_runs_name_no_models(good_root):
    """A run recorded before runs named their models is counted as it ran, so its
    estimate may lack a training: the plan says how many such runs it holds."""
    _edit(good_root, 'print("done")', 'print("finished")')
    path = results.result_dir("demo", good_root) / results.RUN
    run = results.load_run("demo", good_root)
    results.atomic_write_json(path, {**run, "models": None})
    [item] = refresh.plan(good_root)
    assert item.unnamed == 1 and refresh.unnamed_note(1) in refresh.describe([item])
    results.atomic_write_json(path, {**run, "models": {"add2-aaaa.pt": 5.0}})
    [item] = refresh.plan(good_root)
    assert item.unnamed == 0 and not any("named their models" in line for line in refresh.describe([item]))
