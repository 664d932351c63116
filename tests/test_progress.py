"""Progress of the driver's long tasks: k/N and an ETA from the recorded durations,
corrected by the pace of the tasks finished so far. No clock is asserted: the
estimates are computed from given durations."""

import json

from lab.runner import progress


def test_the_plan_comes_from_recorded_durations_and_fills_the_unknown_with_their_mean():
    meter = progress.Meter("x", {"a": 10.0, "b": 20.0, "c": None}, print)
    assert meter.eta() == 45.0  # c counts as the mean of a and b
    assert meter.plan() == "about 45 s from recorded durations"
    meter.close()


def test_the_eta_follows_the_pace_of_the_finished_tasks():
    meter = progress.Meter("x", {"a": 10.0, "b": 10.0, "c": None}, print)
    line = meter.tick("a", 20.0)  # twice as slow as recorded: the rest is expected so too
    # b: 10 s recorded; c: nothing recorded, so the mean of the finished (20 s); both at pace 2
    assert meter.eta() == 2.0 * (10.0 + 20.0)
    assert line.startswith(" (1/3, ") and line.endswith(", ETA 1 min 00 s)")
    assert meter.tick("b", 20.0).startswith(" (2/3, ")
    assert "ETA" not in meter.tick("c", 20.0)  # nothing is left
    meter.close()


def test_jobs_share_the_work_left():
    meter = progress.Meter("x", {p: 60.0 for p in "abcd"}, print, jobs=2)
    assert meter.eta() == 120.0
    meter.close()


def test_without_any_duration_there_is_no_estimate():
    meter = progress.Meter("x", {"a": None}, print)
    assert meter.eta() is None and meter.plan() == "no recorded duration to estimate from"
    meter.close()


def test_a_recorded_duration_is_read_from_run_json_and_a_missing_one_is_none(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"duration_s": 232.21}))
    assert progress.recorded_duration(tmp_path / "run.json") == 232.21
    assert progress.recorded_duration(tmp_path / "nope.json") is None


def test_clock():
    assert [progress.clock(s) for s in (42, 185, 3720)] == ["42 s", "3 min 05 s", "1 h 02 min"]
