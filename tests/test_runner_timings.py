"""Where a run's seconds went: the runner records kernel start, training, evaluation,
analysis, page writing and the rest in run.json's ``timings`` (lab.runner.timings),
the numbers adding up; asserted by structure and sums, never by speed."""

import math

import pytest
from runner_fixture import make_root, write_experiment

from lab import results
from lab.runner import provenance, run, scripts, timings

PARTS = ("kernel_start_s", "training_s", "evaluation_s", "analysis_s", "page_s", "other_s")

PHASED = """# ---
# title: Phased
# project: fixtures
# ---

# %% tags=["parameters"]
seed = 0

# %%
import time

from lab import phases, record

with phases.timed("training"):
    time.sleep(0.2)
    with phases.timed("evaluation"):  # scoring inside training: evaluation, not training
        time.sleep(0.1)

# %%
with phases.timed("evaluation"):
    time.sleep(0.1)
record.metric("answer", 42)
phases.model_used("add2-0123.pt", 12.5)  # as lab.models.load_or_train notes each model it hands out
"""


def adds_up(record: dict) -> bool:
    return math.isclose(sum(record[k] for k in PARTS), record["total_s"], abs_tol=1e-6)


def test_the_parts_add_up_to_the_total_and_phases_come_out_of_the_cells():
    cells = [{"index": 0, "duration_s": 1.0}, {"index": 2, "duration_s": 9.0}]
    record = timings.timings(2.5, cells, {"training": 6.0, "evaluation": 1.5}, 0.25, 14.0)
    assert tuple(record) == results.TIMING_FIELDS
    assert record == {
        "kernel_start_s": 2.5,
        "training_s": 6.0,
        "evaluation_s": 1.5,
        "analysis_s": 2.5,  # the cells' 10 s less training and evaluation
        "page_s": 0.25,
        "other_s": 1.25,
        "total_s": 14.0,
    }
    assert adds_up(record)


def test_a_kernel_that_recorded_no_phase_spent_its_cells_on_analysis():
    record = timings.timings(1.0, [{"index": 1, "duration_s": 3.0}], None, 0.5, 4.0)
    assert (record["training_s"], record["evaluation_s"], record["analysis_s"]) == (0.0, 0.0, 3.0)
    assert record["other_s"] == 0.0 and adds_up(record)


def test_phases_never_count_for_more_than_the_cells():
    """Two clocks (the kernel's, papermill's) can disagree a little: no negative analysis."""
    record = timings.timings(1.0, [{"index": 1, "duration_s": 3.0}], {"training": 3.2, "evaluation": 0.4}, 0.5, 5.0)
    assert (record["training_s"], record["evaluation_s"], record["analysis_s"]) == (3.0, 0.0, 0.0)
    assert adds_up(record)


@pytest.mark.slow
def test_a_run_without_phases_records_its_timings(good_run):
    root, _ = good_run
    run_record = results.load_run("demo", root)
    record = run_record["timings"]
    assert tuple(record) == results.TIMING_FIELDS
    assert record["training_s"] == record["evaluation_s"] == 0.0  # the demo trains and scores nothing
    assert record["analysis_s"] == round(sum(c["duration_s"] for c in run_record["cells"]), 3)
    assert record["kernel_start_s"] > 0 and record["page_s"] > 0
    assert all(record[k] >= 0 for k in PARTS) and adds_up(record)
    # duration_s stops when the kernel is done; the total goes on to the page
    assert record["total_s"] >= run_record["duration_s"]
    assert run_record["duration_s"] >= record["kernel_start_s"] + record["analysis_s"] - 0.002  # rounding
    assert results.read_run(results.result_dir("demo", root))["timings"] == record  # as written


@pytest.mark.slow
def test_a_run_records_the_kernel_s_training_and_evaluation(tmp_path):
    root = make_root(tmp_path)
    write_experiment(root, "phased", PHASED)
    record = run.run(scripts.read_script("phased", root), {}, root, lambda line: None)["timings"]
    assert record == results.load_run("phased", root)["timings"]
    # lower bounds only (the sleeps inside each phase); the nesting's arithmetic is
    # tests/test_phases.py's, on a clock that moves when told
    assert record["training_s"] >= 0.2 and record["evaluation_s"] >= 0.2
    cells = sum(c["duration_s"] for c in results.load_run("phased", root)["cells"])
    assert math.isclose(record["training_s"] + record["evaluation_s"] + record["analysis_s"], cells, abs_tol=2e-3)
    assert adds_up(record)


def test_a_run_records_the_models_its_kernel_used(tmp_path, good_run):
    root = make_root(tmp_path)
    write_experiment(root, "phased", PHASED)
    run.run(scripts.read_script("phased", root), {}, root, lambda line: None)
    assert results.load_run("phased", root)["models"] == {"add2-0123.pt": 12.5}
    assert results.load_run("phased", root)["machine"] == provenance.machine()  # and the CPU it ran on
    assert results.load_run("demo", good_run[0])["models"] == {}  # a run that used no trained model
