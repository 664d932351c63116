"""The README is exactly true: every metric citation it shows, with the value it quotes,
and the numbers it quotes from the results, checked against the committed results
(site/experiments/*/run.json, sweeps/*/sweep.json). A re-run that moves a number makes
this fail until the README says the new one."""

import json
import re

import pytest
from runner_fixture import REPO

from lab import presets, results
from lab.runner import aggregate
from lab.wiki import rendering

README = (REPO / "README.md").read_text()
PROSE = " ".join(README.split())  # the README's lines joined: a quoted number may wrap
CITATION = re.compile(r"\{\{ metric (?P<target>[\w-]+(?:@[\w-]+)?)\.(?P<metric>\w+) \}\}`?(?P<after>[^\n]*)")


def sweep(name: str, sweep_id: str) -> dict:
    return json.loads((results.sweep_dir(name, sweep_id, REPO) / results.SWEEP).read_text())


def points(name: str, sweep_id: str) -> list[dict]:
    return [p for p in sweep(name, sweep_id)["points"] if p["status"] == "ok"]


def rendered(target: str, metric: str) -> str:
    """What the wiki shows for the citation, from the committed results."""
    if "@" in target:
        return aggregate.citation(sweep(*target.split("@")), metric)
    run = results.load_run(target, REPO)
    return rendering.format_metric(run["metrics"][metric])


CITED = [(m["target"], m["metric"], m["after"]) for m in CITATION.finditer(README)]


def test_the_readme_cites_at_least_one_run_and_one_sweep():
    assert {"@" in target for target, _, _ in CITED} == {True, False}


@pytest.mark.parametrize("target, metric, after", CITED)
def test_every_citation_names_a_recorded_metric_and_quotes_its_value(target, metric, after):
    value = rendered(target, metric)  # KeyError / ValueError: the README cites what is not there
    quoted = re.search(r'\("([^"]+)"\)', after)
    if quoted:
        assert quoted[1] == value, f"the README quotes {quoted[1]!r} for {target}.{metric}; the wiki shows {value!r}"


def whole(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_fast_recipe_numbers_are_the_fused_attention_sweeps():
    found = points("training-recipe", "fused-attention")
    assert len(found) == 6 and all(p["metrics"]["held_six_nines"] == 1.0 for p in found)
    low, high, within = re.search(
        r"from ([\d,]+) to ([\d,]+) examples and within ([\d.]+) s of training", PROSE
    ).groups()
    examples = [p["metrics"]["examples_to_six_nines"] for p in found]
    assert (whole(low), whole(high)) == (min(examples), max(examples))
    assert float(within) == round(max(p["metrics"]["seconds_to_six_nines"] for p in found), 1)
    steps, total, fastest, slowest = re.search(
        r"for ([\d,]+) steps \(([\d,]+) examples, ([\d.]+) to ([\d.]+) s of training on 2 cores\)", PROSE
    ).groups()
    assert whole(steps) == presets.PRESETS["add2-fast"].training.steps
    assert {p["metrics"]["training_examples"] for p in found} == {whole(total)}
    seconds = [p["metrics"]["training_seconds"] for p in found]
    assert (float(fastest), float(slowest)) == (round(min(seconds), 1), round(max(seconds), 1))


def test_the_other_recipes_numbers_are_their_sweeps():
    held = lambda sweep_id: [p for p in points("training-recipe", sweep_id) if p["metrics"]["held_six_nines"] == 1.0]
    assert len(held("weight-decay-0")) == len(points("training-recipe", "weight-decay-0")) == 6
    # "held at 3 seeds of 6 and left the others 1 to 4 wrong per million (the archived sweep named add2-fast"
    n, of, low, high = re.search(
        r"held at (\d) seeds of (\d) and left the others (\d) to (\d) wrong per million", PROSE
    ).groups()
    missed = [
        p["metrics"]["uniform_errors"] for p in points("training-recipe", "add2-fast") if p not in held("add2-fast")
    ]
    assert (int(n), int(of)) == (len(held("add2-fast")), len(points("training-recipe", "add2-fast")))
    assert (int(low), int(high)) == (min(missed), max(missed))
    # "8 heads on sum-9 columns alone held at 6 seeds of 10 but left seed 3 at 221 wrong per million"
    n, of, seed, wrong = re.search(
        r"alone held at (\d+) seeds of (\d+) but left seed (\d+) at (\d+) wrong", PROSE
    ).groups()
    heads = points("training-recipe", "heads-8")
    assert (int(n), int(of)) == (len(held("heads-8")), len(heads))
    [worst] = [p for p in heads if p["params"]["seed"] == int(seed)]
    assert worst["metrics"]["uniform_errors"] == int(wrong)


def test_the_archived_add2_fast_sweep_is_named_as_not_the_preset():
    """The sweep named add2-fast ran the preset as it was then, with weight decay 0.1."""
    assert presets.PRESETS["add2-fast"].training.weight_decay == 0.0
    assert "archived sweep named `add2-fast`, run before the preset dropped weight decay" in PROSE


def test_the_loss_shelf_is_not_claimed_to_be_about_add2():
    script = (REPO / "experiments" / "loss-shelf.py").read_text()
    assert re.search(r'^preset = "add1"', script, re.M)
    assert "the loss shelf is studied on `add1` at 3 digits" in PROSE
    assert "findings (the loss shelf" not in PROSE


# --------------------------------------------------------------------------- numbers as pages show them


def test_step_counts_show_as_whole_numbers():
    assert rendering.format_metric({"value": 4.847445, "unit": "steps"}) == "5 steps"
    assert rendering.format_metric({"value": 2883.83, "unit": "steps"}) == "2,884 steps"
    assert rendering.format_metric({"value": 4.847445, "unit": "nats"}) == "4.847 nats"  # other units keep decimals


def test_headline_metrics_are_the_ones_the_header_names_else_the_first():
    from lab.wiki import pages

    run = {"metrics": {n: {"value": v, "unit": None} for n, v in [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.5)]}}
    assert pages._headline(run, ["d", "nope", "b"]) == "d = 4.5, b = 2"  # a name not recorded is left out
    assert pages._headline(run) == "a = 1, b = 2, c = 3"
    assert pages._headline(run, "d") == "a = 1, b = 2, c = 3"  # not a list: the first ones
