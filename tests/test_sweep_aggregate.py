"""Aggregates over seeds per group, against numpy on known values; the sweep page's tables."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lab import results
from lab.runner import aggregate, sweep_page
from lab.runner.scripts import Script


def point(lr, seed, loss, status="ok"):
    return {
        "id": f"lr-{lr}_seed-{seed}",
        "params": {"lr": lr, "seed": seed},
        "status": status,
        "run_id": "r" if status == "ok" else None,
        "input_hash": "h",
        "metrics": {"loss": loss, "acc": 1 - loss} if status == "ok" else {},
    }


POINTS = [
    point(0.1, 0, 0.61),
    point(0.1, 1, 0.58),
    point(0.1, 2, 0.66),
    point(0.1, 3, 0.60),
    point(0.1, 4, 0.63),
    point(0.3, 0, 0.40),
    point(0.3, 1, 0.44),
    point(0.3, 2, 9.99, status="failed"),
]


def test_each_metric_is_summarized_over_seeds_within_each_group_like_numpy():
    found = aggregate.aggregates(POINTS, ["lr", "seed"], {"loss": "nats"})
    assert [(a["group"], a["metric"], a["n"]) for a in found] == [
        ({"lr": 0.1}, "loss", 5),
        ({"lr": 0.1}, "acc", 5),
        ({"lr": 0.3}, "loss", 2),
        ({"lr": 0.3}, "acc", 2),
    ]
    for a in found:
        assert tuple(a) == results.AGGREGATE_FIELDS
    loss = np.array([0.61, 0.58, 0.66, 0.60, 0.63])
    first = found[0]
    half = 2.776 * loss.std(ddof=1) / math.sqrt(5)  # t(0.975, 4)
    assert first["mean"] == pytest.approx(loss.mean()) and first["std"] == pytest.approx(loss.std(ddof=1))
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((loss.mean() - half, loss.mean() + half))
    assert first["unit"] == "nats" and found[1]["unit"] is None
    assert found[2]["mean"] == pytest.approx(0.42)  # the failed point's 9.99 is not counted


def test_one_seed_has_no_spread_and_json_holds_null_not_nan():
    found = aggregate.aggregates([point(0.1, 0, 0.5)], ["lr", "seed"], {})
    assert (found[0]["n"], found[0]["std"], found[0]["ci_low"], found[0]["ci_high"]) == (1, None, None, None)
    assert math.isnan(aggregate.summary(found[0]).std)


def test_a_sweep_over_seeds_alone_has_one_group():
    seeds = [{**p, "params": {"seed": p["params"]["seed"]}} for p in POINTS[:5]]
    found = aggregate.aggregates(seeds, ["seed"], {})
    assert [a["group"] for a in found] == [{}, {}]


def test_page_tables_show_mean_std_interval_and_every_point():
    record = {
        "grid": {"lr": [0.1, 0.3], "seed": [0, 1, 2, 3, 4]},
        "points": POINTS,
        "aggregates": aggregate.aggregates(POINTS, ["lr", "seed"], {"loss": "nats"}),
    }
    table = sweep_page.aggregates_table(record)
    assert "| lr | metric | mean ± std | 95% interval | n |" in table
    assert "| 0.1 | loss | 0.616 ± 0.030 (5 seeds) nats | [0.5781, 0.6539] | 5 |" in table
    points = sweep_page.points_table(record)
    assert "| [lr-0.1_seed-0](points/lr-0.1_seed-0/index.md) | 0.1 | 0 | ok | 0.61 | 0.39 |" in points
    assert "| lr-0.3_seed-2 | 0.3 | 2 | failed |  |  |" in points


def record(points, swept, units=None):
    return {
        "name": "loss-shelf",
        "sweep": "seeds",
        "points": points,
        "aggregates": aggregate.aggregates(points, swept, units or {}),
    }


def test_citations_name_an_experiment_and_a_sweep():
    assert aggregate.split_citation("loss-shelf@seeds") == ("loss-shelf", "seeds")
    assert aggregate.split_citation("loss-shelf") is None


def test_a_citation_shows_mean_spread_and_seeds():
    seeds = [{**p, "params": {"seed": p["params"]["seed"]}} for p in POINTS[:5]]
    assert aggregate.citation(record(seeds, ["seed"], {"loss": "nats"}), "loss") == "0.616 ± 0.030 (5 seeds) nats"
    assert aggregate.citation(record(seeds[:1], ["seed"]), "acc") == "0.39 (1 seed)"


def test_a_metric_missing_at_some_seeds_is_counted_as_missing_and_cited_as_n_of_them():
    # half_info_step where the information never reaches 0.5 is not recorded at that
    # seed: the mean is over the seeds that have it, and the citation says 3 of 5.
    seeds = seeds_of("half_info_step", [400.0, 520.0, 460.0, 0.0, 0.0])
    for p in seeds[3:]:
        p["metrics"] = {"other": 1.0}
    rec = record(seeds, ["seed"], {"half_info_step": "steps"})
    (row,) = [a for a in rec["aggregates"] if a["metric"] == "half_info_step"]
    assert (row["n"], row["mean"]) == (3, pytest.approx(460.0))
    assert aggregate.citation(rec, "half_info_step") == "460 ± 60 (3 of 5 seeds) steps"
    assert aggregate.citation(rec, "other") == "1 ± 0 (2 of 5 seeds)"
    # the sweep page's table says the same: the mean over 3 of the 5 seeds
    table = sweep_page.aggregates_table(rec)
    assert "| half_info_step | 460 ± 60 (3 of 5 seeds) steps |" in table
    assert table.rstrip().endswith("| 2 of 5 |")
    seeds[0]["status"] = "failed"  # a failed point is no seed of the group at all
    assert aggregate.citation(record(seeds, ["seed"], {}), "half_info_step") == "490 ± 42 (2 of 4 seeds)"
    one = seeds_of("x", [0.25, 0.5])
    one[1]["metrics"] = {}
    assert aggregate.citation(record(one, ["seed"]), "x") == "0.25 (1 of 2 seeds)"

    # a finding counted in seeds: a seed without a value holds it neither way
    held = seeds_of("excludes_1", [1.0, 0.0, 1.0, 0.0, 0.0])
    for p in held[3:]:
        p["metrics"] = {}
    rec = record(held, ["seed"], {"excludes_1": "seeds"})
    assert aggregate.citation(rec, "excludes_1") == "2 of 3 seeds (n = 3 of 5)"
    assert "| excludes_1 | 2 of 3 seeds (n = 3 of 5) |" in sweep_page.aggregates_table(rec)
    assert aggregate.citation(record(held[:3], ["seed"], {"excludes_1": "seeds"}), "excludes_1") == "2 of 3 seeds"


def test_a_citation_of_an_unknown_metric_or_of_several_groups_says_why():
    seeds = [{**p, "params": {"seed": p["params"]["seed"]}} for p in POINTS[:5]]
    with pytest.raises(ValueError, match=r"sweep loss-shelf@seeds has no metric 'nope' \(it has: loss, acc\)"):
        aggregate.citation(record(seeds, ["seed"]), "nope")
    with pytest.raises(ValueError, match=r"has 2 groups for 'loss' \(lr=0.1; lr=0.3\)"):
        aggregate.citation(record(POINTS, ["lr", "seed"]), "loss")


# --------------------------------------------------------------------------- intervals in range, shared parameters


def seeds_of(metric: str, values: list[float]) -> list[dict]:
    return [
        {
            "id": f"seed-{i}",
            "params": {"seed": i},
            "status": "ok",
            "run_id": "r",
            "input_hash": "h",
            "metrics": {metric: v},
        }
        for i, v in enumerate(values)
    ]


def test_an_interval_of_a_count_stops_at_zero_and_the_page_says_so():
    # 24 ± 54 errors: Student's t reaches to -42.6, which no seed can.
    points = seeds_of("uniform_errors", [0, 0, 0, 0, 120])
    record = {"grid": {"seed": [0, 1, 2, 3, 4]}, "points": points}
    record["aggregates"] = aggregate.aggregates(points, ["seed"], {"uniform_errors": "errors"})
    (row,) = record["aggregates"]
    assert row["ci_low"] == 0.0 and row["ci_high"] == pytest.approx(24 + 2.776 * row["std"] / math.sqrt(5))
    table = sweep_page.aggregates_table(record)
    assert "| uniform_errors | 24 ± 54 (5 seeds) errors | [0, 90.62] (clipped at 0) | 5 |" in table
    # bars from the mean to each end: not symmetric once clipped
    (figure,) = sweep_page.metric_figures(
        {**record, "grid": {"lr": [0.1, 0.3], "seed": [0]}, "aggregates": [{**row, "group": {"lr": 0.1}}]}
    ).values()
    bars = json.loads(figure[0])["data"][0]["error_y"]
    assert bars["arrayminus"] == [24.0] and bars["array"] == [pytest.approx(row["ci_high"] - 24)]


def test_a_rate_that_each_seed_meets_or_not_gets_wilsons_interval():
    points = seeds_of("held_rate", [1, 0, 1, 0, 0])  # 2 of 5 seeds: t says [-0.28, 1.08]
    record = {"grid": {"seed": [0, 1, 2, 3, 4]}, "points": points}
    record["aggregates"] = aggregate.aggregates(points, ["seed"], {})
    (row,) = record["aggregates"]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.1176, 0.7693), abs=1e-4)
    assert "| held_rate | 0.40 ± 0.55 (5 seeds) | [0.1176, 0.7693] (Wilson, 2 of 5) | 5 |" in (
        sweep_page.aggregates_table(record)
    )
    # a loss well inside its range: Student's t as it is, and nothing said
    assert sweep_page.aggregates_table(
        {
            "grid": {"seed": [0, 1, 2]},
            "aggregates": aggregate.aggregates(seeds_of("loss", [0.5, 0.6, 0.7]), ["seed"], {"loss": "nats"}),
        }
    ).endswith("| loss | 0.60 ± 0.10 (3 seeds) nats | [0.3516, 0.8484] | 3 |")


def test_what_every_point_shares_is_said_once_above_the_tables():
    overrides = {"n_digits": 3, "steps": 2000}
    points = [{**p, "params": {**p["params"], "overrides": overrides}} for p in seeds_of("loss", [0.5, 0.6, 0.7])]
    record = {
        "name": "loss-shelf",
        "sweep": "seeds",
        "grid": {"seed": [0, 1, 2], "overrides": [overrides]},
        "engine": "pool",
        "updated": "2026-11-27T12:00:00+00:00",
        "commit": None,
        "dirty": False,
        "points": points,
        "aggregates": aggregate.aggregates(points, ["seed", "overrides"], {"loss": "nats"}),
    }
    script = Script("loss-shelf", Path("experiments/loss-shelf.py"), "", {"title": "The loss shelf"}, {}, [])
    page = sweep_page.page(record, script, {})
    shown = json.dumps(overrides)
    opening, tables = page.split("## Aggregates")
    assert opening.endswith(f"\n\nEvery point has `overrides={shown}`.\n\n")  # once, above the tables
    assert shown not in tables and "overrides" not in tables  # not a column repeating it on every row
    assert "| metric | mean ± std | 95% interval | n |" in tables and "| point | seed | status | loss |" in tables


def test_a_finding_that_holds_in_a_seed_or_not_is_cited_as_a_count_of_seeds():
    points = seeds_of("staircase_complete", [1, 1, 0, 1, 1])
    record = {"name": "attention-patterns", "sweep": "seeds", "grid": {"seed": [0, 1, 2, 3, 4]}, "points": points}
    record["aggregates"] = aggregate.aggregates(points, ["seed"], {"staircase_complete": "seeds"})
    assert aggregate.citation(record, "staircase_complete") == "4 of 5 seeds"
    # its interval is Wilson's for 4 of 5, and the page says so
    table = sweep_page.aggregates_table(record)
    assert "| staircase_complete | 4 of 5 seeds |" in table
    assert "(Wilson, 4 of 5) | 5 |" in table
    # none and all of them
    for values, text in (([0, 0, 0], "0 of 3 seeds"), ([1, 1, 1, 1, 1], "5 of 5 seeds")):
        points = seeds_of("held", values)
        rows = aggregate.aggregates(points, ["seed"], {"held": "seeds"})
        assert aggregate.citation({**record, "points": points, "aggregates": rows}, "held") == text
    # a metric in another unit, or one in seeds whose values are no 0/1 count, keeps mean ± spread
    three = {**record, "points": seeds_of("held", [1, 0.5, 0])}
    rows = aggregate.aggregates(three["points"], ["seed"], {"held": "seeds"})
    assert aggregate.citation({**three, "aggregates": rows}, "held") == "0.50 ± 0.50 (3 seeds) seeds"
    rows = aggregate.aggregates(seeds_of("held", [1, 1, 0]), ["seed"], {"held": None})
    assert aggregate.citation({**three, "aggregates": rows}, "held") == "0.67 ± 0.58 (3 seeds)"
