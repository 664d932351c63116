"""Reproduction without a kernel: which tolerance applies, how metrics compare, and the
verdict as the wiki shows it. Real reproductions are in test_runner_runs.py."""

from pathlib import Path

import pytest

from lab import render
from lab.runner import reproduce

CPU = {"threads": 2, "torch": "2.13.0", "cuda": None, "cpu_capability": "AVX2", "device": "cpu"}


def metrics(**values):
    return {name: {"value": value, "unit": None, "description": None} for name, value in values.items()}


def test_the_same_environment_requires_bit_identity():
    assert reproduce.tolerance(CPU, dict(CPU)) == reproduce.Tolerance(0.0, "same environment: bit-identical")
    assert reproduce.tolerance(None, None).relative == 0.0  # no torch: nothing to vary


@pytest.mark.parametrize(
    "change, relative, why",
    [
        ({"cpu_capability": "AVX512"}, 1e-6, "cpu_capability AVX2 -> AVX512"),
        ({"threads": 1}, 1e-6, "threads 2 -> 1"),
        ({"device": "cuda", "cuda": "12.8"}, 1e-3, "device cpu -> cuda"),
    ],
)
def test_another_environment_gets_its_stated_tolerance(change, relative, why):
    assert reproduce.tolerance(CPU, {**CPU, **change}) == reproduce.Tolerance(relative, why)
    assert relative == reproduce.TOLERANCES["device" if "device" in change else "cpu"]


def test_the_same_environment_on_another_cpu_is_not_promised_bit_identity():
    """d_model-64 models trained differently on a Sapphire Rapids machine, every
    recorded setting the same: another CPU gets the CPU tolerance, with its reason."""
    here, there = {"cpu": "Xeon", "cpuid": "6/167/1"}, {"cpu": "Xeon", "cpuid": "6/106/6"}
    other = reproduce.tolerance(CPU, dict(CPU), (there, here))
    assert other == reproduce.Tolerance(1e-6, "same environment on another CPU: cpuid 6/106/6 -> 6/167/1")
    assert reproduce.tolerance(CPU, dict(CPU), (here, dict(here))).relative == 0.0
    assert reproduce.tolerance(CPU, dict(CPU), (None, here)).relative == 0.0  # recorded before runs named their CPU


def test_a_run_names_its_cpu():
    from lab.runner import provenance

    machine = provenance.machine()
    assert set(machine) == {"cpu", "cpuid"}
    if Path("/proc/cpuinfo").exists():
        assert machine["cpuid"] and machine["cpuid"].count("/") == 2


def test_an_unrecorded_environment_is_not_assumed_the_same():
    assert reproduce.tolerance(None, CPU) == reproduce.Tolerance(1e-6, "the committed run recorded no environment")


def test_every_metric_is_compared_and_new_or_missing_ones_drift():
    committed = metrics(same=0.25, close=1.0, far=1.0, gone=3.0)
    new = metrics(same=0.25, close=1.0 + 1e-8, far=1.001, added=4.0)
    found = {
        c.metric: (c.verdict, c.committed, c.new, c.difference)
        for c in reproduce.compare(committed, new, relative=1e-6)
    }
    assert found["same"] == ("identical", 0.25, 0.25, 0.0)
    assert found["close"][0] == "within" and found["close"][3] == pytest.approx(1e-8)
    assert found["far"][0] == "drifted"
    assert found["gone"] == ("drifted", 3.0, None, None)
    assert found["added"] == ("drifted", None, 4.0, None)
    assert [c.metric for c in reproduce.compare(committed, new, 1e-6)] == ["same", "close", "far", "gone", "added"]


def test_bit_identity_refuses_the_smallest_difference():
    [c] = reproduce.compare(metrics(x=0.1 + 0.2), metrics(x=0.3), relative=0.0)
    assert c.verdict == "drifted"


def test_a_time_in_seconds_is_shown_never_compared():
    committed = {**metrics(loss=0.25), "seconds_to_six_nines": {"value": 96.2, "unit": "s", "description": None}}
    new = {**metrics(loss=0.25), "seconds_to_six_nines": {"value": 101.7, "unit": "s", "description": None}}
    found = {c.metric: c for c in reproduce.compare(committed, new, relative=0.0)}
    assert found["loss"].verdict == "identical"
    assert found["seconds_to_six_nines"].verdict == "timing"
    assert (found["seconds_to_six_nines"].committed, found["seconds_to_six_nines"].new) == (96.2, 101.7)
    # a new or missing timing is no drift either
    [gone] = reproduce.compare({"t": committed["seconds_to_six_nines"]}, {}, relative=0.0)
    assert gone.verdict == "timing"
    # the unit alone decides: a metric in steps still has to be identical
    [steps] = reproduce.compare(metrics(steps=400), metrics(steps=450), relative=0.0)
    assert steps.verdict == "drifted"


def verdict(**changes):
    base = {
        "run_id": "20261127T000000Z",
        "when": "2026-11-27T05:10:00+00:00",
        "commit": "0123456789abcdef",
        "dirty": False,
        "environment": CPU,
        "cached": False,
        "tolerance": {"relative": 0.0, "why": "same environment: bit-identical"},
        "duration_s": 312.4,
        "identical": 12,
        "within": 0,
        "drifted": 0,
        "drifts": [],
        "timings": [],
        "failure": None,
    }
    return {**base, **changes}


def test_the_page_block_says_when_where_and_how_many():
    block = render.reproduction_block(verdict())
    assert block.startswith('!!! success "Reproduced: all 12 metrics bit-identical"\n\n')
    assert (
        "    Re-run 2026-11-27 05:10 UTC at commit `0123456`, models retrained, in torch 2.13.0 on cpu, "
        "2 threads, CPU capability AVX2, 312 s."
    ) in block


def test_the_page_block_lists_drift():
    drift = {"metric": "shelf_step", "committed": 111.0, "new": 156.0, "difference": 45.0}
    block = render.reproduction_block(verdict(identical=11, drifted=1, drifts=[drift], dirty=True))
    assert block.startswith('!!! warning "Not reproduced: 1 of 12 metrics drifted"')
    assert "with uncommitted changes" in block
    assert "    | shelf_step | 111.0 | 156.0 | +4.500e+01 |" in block


def test_the_page_block_shows_timings_apart():
    timing = {"metric": "seconds_to_six_nines", "committed": 96.2, "new": 101.7}
    block = render.reproduction_block(verdict(identical=11, timings=[timing]))
    assert block.startswith('!!! success "Reproduced: all 11 metrics bit-identical"')
    assert "    Wall-clock times (seconds), shown, not compared:" in block
    assert "    | seconds_to_six_nines | 96.2 | 101.7 |" in block
    older = verdict()
    del older["timings"]  # written before timings were set apart
    assert render.reproduction_block(older) == render.reproduction_block(verdict())


@pytest.mark.parametrize(
    "changes, cell",
    [
        ({}, "✓ 12/12 identical · 2026-11-27"),
        (
            {"identical": 10, "within": 2, "tolerance": {"relative": 1e-6, "why": "x"}},
            "≈ 12/12 within 1e-06 · 2026-11-27",
        ),
        ({"identical": 10, "drifted": 2}, "✗ 2/12 drifted · 2026-11-27"),
        ({"failure": "ValueError: boom", "identical": 0, "drifted": 12}, "✗ failed to run · 2026-11-27"),
    ],
)
def test_the_table_cell_summarises_the_verdict(changes, cell):
    assert render.reproduction_cell(verdict(**changes)) == cell


def test_an_experiment_never_reproduced_says_so():
    assert render.reproduction_cell(None) == "not checked"


def test_the_tolerance_is_relative_not_absolute():
    metric = lambda v, unit=None: {"x": {"value": v, "unit": unit}}
    # 1000 -> 1000.5 is 5e-4 relative: within 1e-3; an absolute 1e-3 would call it drifted
    assert [c.verdict for c in reproduce.compare(metric(1000.0), metric(1000.5), 1e-3)] == ["within"]
    # 1e-9 -> 2e-9 doubles: drifted; an absolute 1e-3 would call it within
    assert [c.verdict for c in reproduce.compare(metric(1e-9), metric(2e-9), 1e-3)] == ["drifted"]


def test_a_new_timing_metric_is_a_timing_not_a_drift():
    new = {"x": {"value": 1.0, "unit": None}, "seconds_to_fit": {"value": 3.5, "unit": "s"}}
    comparisons = reproduce.compare({"x": {"value": 1.0, "unit": None}}, new, 0.0)
    assert [(c.metric, c.verdict) for c in comparisons] == [("x", "identical"), ("seconds_to_fit", "timing")]


def test_the_device_tolerance_follows_the_device_whatever_cuda_says():
    cpu = {"threads": 2, "torch": "2.13.0", "cuda": None, "cpu_capability": "AVX2", "device": "cpu"}
    other = {**cpu, "device": "mps"}  # another device, no CUDA on either side
    assert reproduce.tolerance(cpu, other).relative == reproduce.TOLERANCES["device"]
    assert reproduce.tolerance(cpu, {**cpu, "cuda": "12.4"}).relative == reproduce.TOLERANCES["cpu"]
