"""Noise away: a sweep's points are one row in backlinks and one node in the graph."""

import math

import pytest

from lab import stats
from lab.wiki import graph as notes_graph
from lab.wiki import links, pages
from lab.wiki.notes import parse_note

SWEEP = "experiments/loss-shelf/sweeps/seeds"


def note(src: str, title: str, body: str, extra: str = "") -> object:
    return parse_note(src, f"---\ntitle: {title}\n{extra}---\n\n{body}\n")


def swept_graph(points: int = 3) -> links.Graph:
    notes = [
        note("experiments/loss-shelf/index.md", "The loss shelf", "The shelf."),
        note("ideas/probe.md", "Probe", "After [[loss-shelf]].", "status: open\n"),
        note(f"{SWEEP}/index.md", "The loss shelf", "Over seeds: [[loss-shelf]].", "sweep: seeds\n"),
    ]
    notes += [
        note(f"{SWEEP}/points/seed={i}/index.md", "The loss shelf", f"Point {i} of [[loss-shelf]].", "sweep: seeds\n")
        for i in range(points)
    ]
    return links.build_graph(notes, {}, {})


def test_a_sweeps_points_are_one_backlink_under_their_sweep():
    graph = swept_graph()
    section = pages.backlinks(graph.notes["experiments/loss-shelf/index.md"], graph, lambda src: src)
    rows = section.split("<li>")[1:]
    assert len(rows) == 3  # the idea, the sweep page, its three points as one
    assert f'<a href="{SWEEP}/index.md">loss-shelf@seeds, 3 points</a> — “Point 0 of loss-shelf.”' in section
    assert section.count("Point ") == 1


def test_a_sweep_page_itself_lists_its_points_one_by_one():
    graph = swept_graph(2)
    for i in range(2):
        graph.backlinks[f"{SWEEP}/index.md"].append(links.Backlink(f"{SWEEP}/points/seed={i}/index.md", f"p{i}"))
    section = pages.backlinks(graph.notes[f"{SWEEP}/index.md"], graph, lambda src: src)
    assert section.count("<li>") == 2 and "points</a>" not in section


def test_a_sweeps_points_are_one_node_in_the_graph():
    graph = swept_graph()
    nodes = {n["id"]: n for n in notes_graph.nodes(graph, lambda src: src)}
    assert sorted(nodes) == ["experiments/loss-shelf/index.md", f"{SWEEP}/index.md", "ideas/probe.md"]
    assert nodes[f"{SWEEP}/index.md"]["title"] == "The loss shelf (3 points)"
    assert notes_graph.edges(graph) == [
        (f"{SWEEP}/index.md", "experiments/loss-shelf/index.md"),
        ("ideas/probe.md", "experiments/loss-shelf/index.md"),
    ]


# --------------------------------------------------------------------------- intervals that stay in range


def test_an_interval_over_seeds_of_a_count_stops_at_zero_and_says_so():
    s = stats.summarize([0, 0, 0, 0, 120])  # 24 ± 53.7: Student's t reaches far below zero
    assert s.ci_low < 0
    clipped, was = stats.within(s, *stats.metric_range("uniform_errors", "errors"))
    assert was and clipped.ci_low == 0.0 and clipped.ci_high == s.ci_high and clipped.mean == s.mean
    inside, was = stats.within(stats.summarize([10, 11, 12]), 0.0)
    assert not was and inside == stats.summarize([10, 11, 12])


def test_metric_ranges_come_from_unit_or_a_rates_name():
    assert stats.metric_range("uniform_errors", "errors") == (0.0, math.inf)
    assert stats.metric_range("final_loss", "nats") == (0.0, math.inf)
    assert stats.metric_range("digit_accuracy", None) == (0.0, 1.0)
    assert stats.metric_range("logit_diff", "logits") == (-math.inf, math.inf)


def test_wilson_interval_of_a_rate_stays_in_0_1_and_is_not_empty_at_zero():
    low, high = stats.wilson(24, 100)
    assert (round(low, 4), round(high, 4)) == (0.1669, 0.3323)  # the textbook value
    low, high = stats.wilson(0, 1_000_000)
    assert low == 0.0 and high == pytest.approx(3.8415e-6, rel=1e-3)
    with pytest.raises(ValueError):
        stats.wilson(5, 3)
