"""make costs (lab.runner.costs): seconds per phase per experiment and sweep, read from
records with known durations written by hand (no kernel runs), what a full refresh of
everything not archived takes, and no torch imported on the way."""

import subprocess
import sys

import pytest
from runner_fixture import REPO, make_root

from lab import cli, results
from lab.runner import archive, costs, refresh


def timed(kernel, training, evaluation, analysis, page, other):
    parts = dict(zip(results.TIMING_FIELDS, (kernel, training, evaluation, analysis, page, other)))
    return {**parts, "total_s": sum(parts.values())}


def run_record(name, duration, timings=None, params=None):
    return {
        "name": name,
        "run_id": "20261206T000000Z",
        "commit": "c0ffee" * 6 + "c0ff",
        "duration_s": duration,
        "params": params or {},
        "metrics": {},
        "input_hash": "script=0 params=0 prose=0",
        "timings": timings,
    }


def write_sweep(root, name, sweep, points):
    """A sweep of ``name`` whose points (id -> run record) are on disk."""
    folder = results.sweep_dir(name, sweep, root)
    for pid, run in points.items():
        results.atomic_write_json(folder / results.POINTS / pid / results.RUN, run)
    entries = [
        {"id": pid, "params": run["params"], "status": "ok", "run_id": run["run_id"], "metrics": {}}
        for pid, run in points.items()
    ]
    record = {"name": name, "sweep": sweep, "grid": {}, "updated": "2026-12-06T00:00:00+00:00"}
    results.atomic_write_json(
        folder / results.SWEEP, {**record, "points": entries, "aggregates": [], "figures": [], "commit": "c0ffee" * 7}
    )


@pytest.fixture
def root(tmp_path):
    """demo: a timed run (100 s in all); old: a run from before timings (50 s);
    demo@seeds: two timed points (20 s, 10 s), one not (30 s); demo@kept: archived."""
    root = make_root(tmp_path)
    (root / "experiments" / "old.py").write_text((root / "experiments" / "demo.py").read_text())
    results.atomic_write_json(
        results.result_dir("demo", root) / results.RUN, run_record("demo", 90.0, timed(5, 60, 20, 4, 1, 10))
    )
    results.atomic_write_json(results.result_dir("old", root) / results.RUN, run_record("old", 50.0))
    write_sweep(
        root,
        "demo",
        "seeds",
        {
            "seed-0": run_record("demo", 19.0, timed(2, 10, 5, 1, 1, 1), {"seed": 0}),
            "seed-1": run_record("demo", 30.0, None, {"seed": 1}),
            "seed-2": run_record("demo", 9.0, timed(1, 5, 2, 1, 1, 0), {"seed": 2}),
        },
    )
    write_sweep(root, "demo", "kept", {"seed-0": run_record("demo", 1000.0, timed(1, 1, 1, 1, 1, 995), {"seed": 0})})
    archive.archive("demo", "kept", "a record", root)
    return root


def test_each_result_sums_its_phases_and_totals(root):
    found, archived = costs.rows(root)
    assert archived == ["demo@kept"]
    by_label = {row.label: row for row in found}
    assert list(by_label) == ["demo", "demo@seeds", "old"]
    demo, seeds, old = by_label["demo"], by_label["demo@seeds"], by_label["old"]
    assert demo.phases == {
        "kernel_start_s": 5,
        "training_s": 60,
        "evaluation_s": 20,
        "analysis_s": 4,
        "page_s": 1,
        "other_s": 10,
    }
    assert (demo.runs, demo.timed, demo.total, demo.refresh) == (1, 1, 100, 90.0)
    assert (old.runs, old.timed, old.phases, old.total, old.refresh) == (1, 0, {}, 50.0, 50.0)
    # the sweep: phases of its timed points; its total and estimate count every point
    assert (seeds.runs, seeds.timed, seeds.phases["training_s"], seeds.total) == (3, 2, 15, 20 + 30.0 + 10)
    assert seeds.refresh == refresh.sweep_seconds("demo", "seeds", root, every=True)[0] == 19.0 + 30.0 + 9.0


def test_costs_prints_the_table_and_a_full_refresh_from_recorded_durations(root, monkeypatch, capsys):
    monkeypatch.chdir(root)
    assert cli.main(["costs"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if "experiment / sweep" in line)
    assert header.split() == [
        "experiment",
        "/",
        "sweep",
        "runs",
        "kernel",
        "training",
        "evaluation",
        "analysis",
        "page",
        "other",
        "total",
        "refresh",
    ]
    row = lambda label: next(line.split() for line in lines if line.split()[:1] == [label])
    assert row("demo") == ["demo", "1", "5.0", "60", "20", "4.0", "1.0", "10", "100", "90"]
    assert row("old") == ["old", "1", *["—"] * 6, "50", "50"]
    assert row("demo@seeds") == ["demo@seeds", "2/3", "3.0", "15", "7.0", "2.0", "2.0", "1.0", "60", "58"]
    assert row("all") == ["all", "not", "archived", "5", "8.0", "75", "27", "6.0", "3.0", "11", "210", "198"]
    assert "demo@kept" not in out.split("archived, left out")[0]  # archived: no row, not in the sums
    assert "archived, left out: demo@kept" in out
    assert "only the total is known (demo@seeds, old)" in out
    assert "a full refresh of everything not archived (3 experiments and sweeps, 5 runs): about 3 min 18 s" in out
    assert refresh.unnamed_note(5) in out  # these records name no models: each counted as it ran
    # make refresh's plan: both experiments are stale (hand-written records), the sweep is ad hoc
    assert "due now (make refresh): 2, about 2 min 20 s\n" in out


def test_costs_with_no_results_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(make_root(tmp_path))
    assert cli.main(["costs"]) == 0
    assert "never timed" in capsys.readouterr().out  # demo and the rest never ran


def test_costs_and_listing_import_no_torch(root):
    code = (
        "import sys; from lab import cli; cli.main(['costs']); cli.main(['list']); "
        "print([m for m in ('torch', 'transformer_lens', 'papermill') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("\n[]\n")


def test_the_readme_and_the_makefile_offer_make_costs():
    assert "`make costs`" in (REPO / "README.md").read_text()
    assert "\ncosts: $(STAMP)\n\texec $(LAB) costs\n" in (REPO / "Makefile").read_text()


def _declare(root, name, sweeps):
    script = root / "experiments" / f"{name}.py"
    script.write_text(script.read_text().replace("# project: fixtures\n", f"# project: fixtures\n# sweeps: {sweeps}\n"))


def test_a_declared_sweep_that_never_ran_is_planned_and_costed_from_what_the_experiment_recorded(root):
    _declare(root, "demo", "{seeds: {seed: [0, 1, 2]}, rates: {seed: [0, 1, 2, 3]}}")
    _declare(root, "old", "{seeds: {seed: [0, 1]}}")
    items = {item.label: item for item in refresh.plan(root)}
    # demo@rates: 4 points at the median point of demo's other sweeps (19, 30, 9 and the archived 1000 s)
    assert (items["demo@rates"].why, items["demo@rates"].points) == ("never run: declared in the header", 4)
    assert items["demo@rates"].seconds == 4 * 24.5
    # old@seeds: no sweep of old ever ran, so each point costs what old's own run did
    assert (items["old@seeds"].points, items["old@seeds"].seconds) == (2, 2 * 50.0)
    found, _ = costs.rows(root)
    never = {row.label: row for row in found if row.runs == 0}
    assert set(never) == {"demo@rates", "old@seeds"} and never["old@seeds"].refresh == 100.0
