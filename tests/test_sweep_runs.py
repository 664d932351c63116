"""Real sweeps through the pool engine, on the grid fixture in temporary repository roots.

Kernel starts cost seconds, so one 4-point sweep is shared (module-scoped); the
other tests copy its root and run what they need on top of it.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from runner_fixture import FIXTURES, make_root

from lab import results
from lab.runner import commands, scripts, staleness

pytestmark = pytest.mark.slow

GRID = ["seed=0,1", "lr=0.05,0.2"]
SWEEP = "lr-seed"  # an ad-hoc sweep is named after its parameters
POINTS = ["lr-0.05_seed-0", "lr-0.2_seed-0", "lr-0.05_seed-1", "lr-0.2_seed-1"]


def lab(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lab", *args], cwd=root, capture_output=True, text=True, timeout=timeout
    )


def point_runs(root: Path, sweep: str = SWEEP) -> dict[str, dict]:
    return {p: results.read_run(results.point_dir("grid", sweep, p, root)) for p in POINTS}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The grid fixture swept over 2 seeds x 2 learning rates, 2 at a time: (root, result)."""
    root = make_root(tmp_path_factory.mktemp("sweep"))
    shutil.copy(FIXTURES / "grid.py", root / "experiments" / "grid.py")
    done = lab(root, "sweep", "grid", *GRID, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return root, done


@pytest.fixture
def root(swept, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(swept[0], root, ignore=shutil.ignore_patterns("build"))
    return root


def test_a_new_run_of_the_experiment_keeps_its_sweeps(root):
    before = results.load_sweep("grid", SWEEP, root)
    done = lab(root, "run", "grid", "seed=3")
    assert done.returncode == 0, done.stderr
    assert results.load_run("grid", root)["params"]["seed"] == 3
    assert results.load_sweep("grid", SWEEP, root) == before
    assert all(point_runs(root).values())


def test_each_point_is_a_full_run_in_the_results_format(swept):
    root, done = swept
    script = scripts.read_script("grid", root)
    folder = results.sweep_dir("grid", SWEEP, root)
    assert sorted(p.name for p in (folder / "points").iterdir()) == sorted(POINTS)
    for point, run in point_runs(root).items():
        files = sorted(str(p.relative_to(folder / "points" / point)) for p in (folder / "points" / point).rglob("*"))
        assert files == [
            "figures",
            "figures/loss-curve.json",
            "history.jsonl",
            "index.md",
            "notebook.ipynb",
            "run.json",
        ]
        lr, seed = float(point.split("_")[0][3:]), int(point[-1])
        assert run["params"] == {**script.defaults(), "lr": lr, "seed": seed}
        assert run["input_hash"] == staleness.input_hash(script, run["params"])
        assert set(run["metrics"]) == {"final_loss", "slope"}
        assert len(results.load_history("grid", root)) == 0  # the experiment's own results: untouched
    # nothing recorded yet to estimate from; then k/N and an ETA as each point lands
    assert f"[grid@{SWEEP}] 4 points: 4 to run, 0 fresh (pool, 2 at a time; no recorded duration" in done.stdout
    landed = re.findall(r"\] done in [\d.]+ s \((\d)/4, [^)]* so far(, ETA [^)]+)?\)", done.stdout)
    assert [k for k, _ in landed] == ["1", "2", "3", "4"]
    assert all(eta for k, eta in landed if k != "4") and not landed[-1][1]  # the last point has nothing left
    assert f"[grid@{SWEEP}] 4/4 points ok (4 run, 0 fresh kept)" in done.stdout


def test_sweep_record_lists_points_and_aggregates_over_seeds_like_numpy(swept):
    root, _ = swept
    record = results.load_sweep("grid", SWEEP, root)
    assert tuple(record) == results.SWEEP_FIELDS
    assert record["grid"] == {"seed": [0, 1], "lr": [0.05, 0.2]} and record["engine"] == "pool"
    assert [p["id"] for p in record["points"]] == POINTS
    runs = point_runs(root)
    for entry in record["points"]:
        assert tuple(entry) == results.SWEEP_POINT_FIELDS and entry["status"] == "ok"
        assert entry["metrics"] == {k: m["value"] for k, m in runs[entry["id"]]["metrics"].items()}
    assert [(a["group"], a["metric"]) for a in record["aggregates"]] == [
        ({"lr": 0.05}, "final_loss"),
        ({"lr": 0.05}, "slope"),
        ({"lr": 0.2}, "final_loss"),
        ({"lr": 0.2}, "slope"),
    ]
    for a in record["aggregates"]:
        values = [runs[f"lr-{a['group']['lr']}_seed-{s}"]["metrics"][a["metric"]]["value"] for s in (0, 1)]
        half = 12.706 * np.std(values, ddof=1) / np.sqrt(2)  # t(0.975, 1)
        assert a["n"] == 2 and a["mean"] == pytest.approx(np.mean(values))
        assert a["std"] == pytest.approx(np.std(values, ddof=1))
        assert (a["ci_low"], a["ci_high"]) == pytest.approx((np.mean(values) - half, np.mean(values) + half))
    assert record["aggregates"][0]["unit"] == "mse"


def test_sweep_page_shows_tables_and_figures(swept):
    root, _ = swept
    folder = results.sweep_dir("grid", SWEEP, root)
    page = (folder / "index.md").read_text()
    assert "| lr | metric | mean ± std | 95% interval | n |" in page
    assert "| point | seed | lr | status | final_loss | slope |" in page
    assert "[lr-0.05_seed-0](points/lr-0.05_seed-0/index.md)" in page
    assert 'make sweep NAME=grid GRID="seed=0,1 lr=0.05,0.2"' in page
    figures = sorted(p.stem for p in (folder / "figures").glob("*.json"))
    assert figures == ["final_loss-vs-lr", "overlay-loss-curve", "slope-vs-lr"]
    for figure in figures:
        assert f"![[experiments/grid/sweeps/{SWEEP}#{figure}]]" in page
    against = json.loads((folder / "figures" / "final_loss-vs-lr.json").read_text())
    assert against["data"][0]["x"] == [0.05, 0.2] and against["data"][0]["error_y"]["visible"]
    overlay = json.loads((folder / "figures" / "overlay-loss-curve.json").read_text())
    assert len(overlay["data"]) == 4  # one loss line per point
    assert [t["showlegend"] for t in overlay["data"]] == [True, False, False, False]


def test_a_rerun_runs_only_missing_failed_and_stale_points(root):
    before = point_runs(root)
    done = lab(root, "sweep", "grid", *GRID)
    assert done.returncode == 0, done.stderr
    assert "4 points: 0 to run, 4 fresh" in done.stdout
    assert done.stdout.endswith(f"4/4 points ok (0 run, 4 fresh kept): site/experiments/grid/sweeps/{SWEEP}/\n")
    assert point_runs(root) == before

    # aggregates made otherwise than the lab makes them now (as after a fix to how an
    # interval is made): a sweep with nothing due writes them again, running nothing
    record_file = results.sweep_dir("grid", SWEEP, root) / results.SWEEP
    record = json.loads(record_file.read_text())
    right = record["aggregates"]
    results.atomic_write_json(record_file, {**record, "aggregates": [{**a, "ci_low": 0.0} for a in right]})
    done = lab(root, "sweep", "grid", *GRID)
    assert done.returncode == 0 and "4 points: 0 to run, 4 fresh" in done.stdout
    assert json.loads(record_file.read_text())["aggregates"] == right and point_runs(root) == before
    page = results.sweep_dir("grid", SWEEP, root) / results.PAGE  # likewise a page made otherwise
    shown = page.read_text()
    page.write_text(shown.replace("| metric |", "| the metric |"))
    assert lab(root, "sweep", "grid", *GRID).returncode == 0
    assert "| the metric |" not in page.read_text() and "| metric |" in page.read_text()

    shutil.rmtree(results.point_dir("grid", SWEEP, POINTS[0], root))  # missing
    failed = results.point_dir("grid", SWEEP, POINTS[1], root)
    failure = {"exception": "ValueError", "message": "m", "input_hash": before[POINTS[1]]["input_hash"]}
    results.atomic_write_json(failed / "failure.json", failure)
    done = lab(root, "sweep", "grid", *GRID, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "4 points: 2 to run, 2 fresh" in done.stdout
    after = point_runs(root)
    assert [after[p]["run_id"] == before[p]["run_id"] for p in POINTS] == [False, False, True, True]
    assert not (failed / "failure.json").exists()
    history = (failed / "history.jsonl").read_text().splitlines()
    assert len(history) == 2  # the good run before, and the new one


def test_a_failing_point_is_reported_and_loses_nothing(root):
    before = point_runs(root)
    script = root / "experiments" / "grid.py"
    script.write_text(
        script.read_text().replace(
            "if seed == fail_seed:", "if lr > 0.1:\n    raise ValueError(f'lr {lr} too high')\nif seed == fail_seed:"
        )
    )
    line = next(i for i, text in enumerate(script.read_text().splitlines(), 1) if "too high" in text)

    done = lab(root, "sweep", "grid", *GRID, "--jobs", "2")

    assert done.returncode == 1
    assert f"error: point lr-0.2_seed-0 failed at experiments/grid.py:{line}\n" in done.stderr
    assert "ValueError: lr 0.2 too high" in done.stderr
    record = results.load_sweep("grid", SWEEP, root)
    assert [p["status"] for p in record["points"]] == ["ok", "failed", "ok", "failed"]
    after = point_runs(root)
    for point in ("lr-0.2_seed-0", "lr-0.2_seed-1"):  # the last good results stay, failure.json beside them
        assert after[point] == before[point]
        failure = results.read_failure(results.point_dir("grid", SWEEP, point, root))
        assert (failure["line"], failure["exception"]) == (line, "ValueError")
    assert after["lr-0.05_seed-0"]["run_id"] != before["lr-0.05_seed-0"]["run_id"]
    assert [a["group"] for a in record["aggregates"]] == [{"lr": 0.05}, {"lr": 0.05}]  # only good points count
    state = staleness.sweep_state("grid", SWEEP, root)
    assert (state.status, state.detail) == ("partial", "2/4 points ok; missing or failed: lr-0.2_seed-0, lr-0.2_seed-1")


def test_status_lists_sweeps_fresh_then_stale(root, capsys):
    assert commands.status_command(root) == 0
    out = capsys.readouterr().out
    assert f"\n  fresh     @{SWEEP}" in out
    # the fixture declares two sweeps that this root never ran
    assert "\n  never run @seeds" in out and "make sweep NAME=grid SWEEP=rates" in out
    script = root / "experiments" / "grid.py"
    original = script.read_text()
    script.write_text(original.replace("# A tiny experiment", "# A small experiment"))
    assert staleness.sweep_state("grid", SWEEP, root).status == "fresh"  # a new write-up changes no number
    code = next(line for line in original.splitlines() if line and not line.startswith("#"))
    script.write_text(original.replace(code, code + "  # edited"))
    state = staleness.sweep_state("grid", SWEEP, root)
    assert (state.status, state.detail, state.due) == ("stale", "4/4 points stale: script changed", True)


def test_status_counts_a_point_declared_since_the_sweep_ran_as_missing(root):
    script = root / "experiments" / "grid.py"
    declared = f"#   {SWEEP}: {{seed: [0, 1, 2], lr: [0.05, 0.2]}}\n"
    script.write_text(script.read_text().replace("# sweeps:\n", "# sweeps:\n" + declared))
    state = staleness.sweep_state("grid", SWEEP, root)
    assert (state.status, state.due) == ("partial", True)
    assert state.detail == "4/6 points ok; missing or failed: lr-0.05_seed-2, lr-0.2_seed-2"


def test_a_grid_grown_by_a_value_keeps_its_sweep_and_runs_only_the_new_points(root):
    before = point_runs(root)
    done = lab(root, "sweep", "grid", "seed=0,1,2", "lr=0.05,0.2", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert f"[grid@{SWEEP}] the grid changed: seed=0,1 lr=0.05,0.2 -> seed=0,1,2 lr=0.05,0.2" in done.stdout
    assert f"[grid@{SWEEP}] 6 points: 2 to run, 4 fresh" in done.stdout
    assert sorted(p.name for p in (root / "site/experiments/grid/sweeps").iterdir()) == [SWEEP]
    record = results.load_sweep("grid", SWEEP, root)
    assert record["grid"] == {"seed": [0, 1, 2], "lr": [0.05, 0.2]}
    assert [p["id"] for p in record["points"]][4:] == ["lr-0.05_seed-2", "lr-0.2_seed-2"]
    assert point_runs(root) == before  # the four it had: untouched
    assert [p["status"] for p in record["points"]] == ["ok"] * 6


def test_a_malformed_point_record_stops_the_sweep_in_one_line_before_any_point_runs(root):
    path = results.point_dir("grid", SWEEP, POINTS[2], root) / "run.json"
    path.write_text(path.read_text()[:40])  # truncated, as by a full disk
    before = (results.sweep_dir("grid", SWEEP, root) / "sweep.json").read_text()

    done = lab(root, "sweep", "grid", *GRID)

    assert done.returncode == 2
    [line] = done.stderr.splitlines()  # one line, no traceback
    assert line.startswith(f"error: {path.resolve()}:") and ": malformed JSON: " in line
    assert "started" not in done.stdout and not (root / "build" / "points").exists()
    assert (results.sweep_dir("grid", SWEEP, root) / "sweep.json").read_text() == before


# --------------------------------------------------------------------------- kernel starts


def failing_starts(monkeypatch, failures: int) -> list[int]:
    """Make the next ``failures`` kernel starts fail, as a port taken by a parallel start would."""
    from lab.runner import execute

    real, calls = execute._start_kernel, []

    def start(env, root):
        calls.append(1)
        if len(calls) <= failures:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(env, root)

    monkeypatch.setattr(execute, "_start_kernel", start)
    return calls


def test_a_kernel_that_fails_to_start_is_tried_once_more(tmp_path, monkeypatch):
    from lab.runner import run

    root = make_root(tmp_path)
    calls = failing_starts(monkeypatch, 1)
    said = []
    record = run.run(scripts.read_script("demo", root), {}, root, said.append, slot="sweeps/s/seed-0")
    assert len(calls) == 2 and record["status"] == "ok"
    assert any(
        "[demo/sweeps/s/seed-0] the kernel did not start: Kernel died" in line and line.endswith("trying once more")
        for line in said
    )


def test_a_kernel_that_fails_to_start_twice_is_an_error(tmp_path, monkeypatch):
    from lab import LabError
    from lab.runner import run

    root = make_root(tmp_path)
    failing_starts(monkeypatch, 2)
    with pytest.raises(LabError, match=r"demo: the kernel did not start: .* \(twice\)") as err:
        run.run(scripts.read_script("demo", root), {}, root, lambda line: None)
    assert err.value.code == 1
    assert results.read_run(results.result_dir("demo", root)) is None


def test_a_new_sweep_is_estimated_from_the_points_of_the_experiments_other_sweeps(root):
    """Not from the experiment's own run, which may have loaded what its points train."""
    folder = results.sweep_dir("grid", SWEEP, root)
    for point in POINTS:  # recorded durations far from the experiment's own run's
        run = results.read_run(folder / results.POINTS / point)
        results.atomic_write_json(folder / results.POINTS / point / results.RUN, {**run, "duration_s": 600.0})
    done = lab(root, "sweep", "grid", "seed=7", "--name", "another")
    assert done.returncode == 0, done.stderr
    assert "1 points: 1 to run, 0 fresh (pool, 1 at a time; about 10 min 00 s from recorded durations)" in done.stdout
