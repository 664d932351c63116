"""Aggregates over seeds per group, against numpy on known values; the sweep page's tables."""

import math

import numpy as np
import pytest

from lab import results
from lab.runner import aggregate, sweep_page


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


def test_a_citation_of_an_unknown_metric_or_of_several_groups_says_why():
    seeds = [{**p, "params": {"seed": p["params"]["seed"]}} for p in POINTS[:5]]
    with pytest.raises(ValueError, match=r"sweep loss-shelf@seeds has no metric 'nope' \(it has: loss, acc\)"):
        aggregate.citation(record(seeds, ["seed"]), "nope")
    with pytest.raises(ValueError, match=r"has 2 groups for 'loss' \(lr=0.1; lr=0.3\)"):
        aggregate.citation(record(POINTS, ["lr", "seed"]), "loss")
