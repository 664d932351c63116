"""Messages that suggest: a mistyped experiment, parameter, sweep, preset or metric gets
the closest names ("did you mean"), a parameter typed without '=' is named as such, and
a citation of an experiment never run says how to run it."""

import dataclasses

import pytest
from runner_fixture import make_root

from lab import LabError, cli, suggest
from lab.runner import aggregate, grid, params, scripts
from lab.wiki import links
from lab.wiki.notes import parse_note


def test_close_names_best_first_and_none_for_noise():
    assert suggest.close("digit-ac", ["digit-acc", "loss-shelf", "digits"]) == ["digit-acc", "digits"]
    assert suggest.did_you_mean("zzz", ["loss-shelf"]) == ""
    assert suggest.did_you_mean("Loss-Shelf", ["loss-shelf"]) == " (did you mean 'loss-shelf'?)"


def test_a_long_listing_is_cut_with_a_count():
    assert suggest.listing([f"m{i}" for i in range(15)], limit=3) == "m0, m1, m2, … (12 more)"
    assert suggest.listing([]) == "none"


@pytest.fixture
def demo(tmp_path):
    root = make_root(tmp_path)
    return root, scripts.read_script("demo", root)


def test_a_mistyped_experiment_gets_the_closest_name(demo):
    root, _ = demo
    with pytest.raises(LabError, match=r"no experiment 'dmeo' in experiments/ \(did you mean 'demo'\?\); there are"):
        scripts.find_script("dmeo", root)


def test_a_mistyped_parameter_gets_the_closest_name(demo):
    _, script = demo
    with pytest.raises(
        LabError, match=r"demo has no parameter 'sclae' \(did you mean 'scale' or 'label'\?\); its parameters"
    ):
        params.parse_params(["sclae=1"], script)


@pytest.mark.parametrize(
    "text, message",
    [
        # the value runs to the next `name=`, so the bare name joined seed's value
        ("seed=1 scale", "parameter 'scale' has no value: write scale=VALUE"),
        ("scale", "parameter 'scale' has no value: write scale=VALUE"),
        ("seed=1 sclae", "and demo has no parameter 'sclae' (did you mean 'scale'"),
    ],
)
def test_a_parameter_without_equals_is_named(demo, text, message):
    _, script = demo
    with pytest.raises(LabError) as err:
        params.parse_params(params.split_params(text), script)
    assert message in str(err.value)
    assert "is not a whole number" not in str(err.value)


def test_a_bad_value_is_still_a_type_error(demo):
    _, script = demo
    with pytest.raises(LabError, match=r"seed='1 2' is not a whole number"):
        params.parse_params(params.split_params("seed=1 2"), script)


def test_a_mistyped_sweep_gets_the_closest_declared_one(demo):
    _, script = demo
    script = dataclasses.replace(script, header={**script.header, "sweeps": {"seeds": {"seed": [0, 1]}}})
    with pytest.raises(LabError, match=r"declares no sweep 'seedz' \(did you mean 'seeds'\?\); it declares: seeds"):
        grid.named_grid(script, "seedz")


def test_a_mistyped_preset_gets_the_closest_one_before_torch():
    with pytest.raises(LabError, match=r"unknown preset 'add3' \(did you mean 'add2' or 'add1'\?\)"):
        cli.train_command("add3", [])


def test_train_help_lists_the_presets_and_help_has_no_backquotes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    assert "add2-fast" in out and "test-sized" in out
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "``" not in capsys.readouterr().out


def test_a_mistyped_sweep_metric_gets_the_closest_name():
    record = {"name": "x", "sweep": "seeds", "aggregates": [{"metric": "plus0_loss", "group": {}}]}
    with pytest.raises(ValueError, match=r"has no metric 'plus0_los' \(did you mean 'plus0_loss'\?\)"):
        aggregate.citation(record, "plus0_los")


RUN = {
    "run_id": "r1",
    "metrics": {f"m{i}": {"value": i, "unit": None} for i in range(20)} | {"plus0_loss": {"value": 1.0, "unit": None}},
    "figures": [],
}


def graph(body: str, scripts_there=()) -> links.Graph:
    notes = [
        parse_note(
            "experiments/loss-shelf/index.md", "---\ntitle: Shelf\n---\nx\n", "site/experiments/loss-shelf/index.md"
        ),
        parse_note("ideas/probe.md", f"---\ntitle: Probe\nstatus: open\n---\n{body}\n", "site/ideas/probe.md"),
    ]
    return links.build_graph(notes, {"loss-shelf": RUN}, {}, scripts=scripts_there)


def problems(body: str, scripts_there=()) -> list[str]:
    return [p.message for p in graph(body, scripts_there).problems]


def test_a_mistyped_metric_citation_suggests_and_lists_briefly():
    [message] = problems("{{ metric loss-shelf.plus0_los }}")
    assert message.startswith("experiment 'loss-shelf' has no metric 'plus0_los' (did you mean 'plus0_loss'?)")
    assert "(9 more)" in message  # 21 metrics: 12 shown, not all


def test_a_citation_of_an_experiment_never_run_is_pending_and_says_how_to_run_it():
    found = graph("{{ metric carry-heads.x }}", scripts_there=["carry-heads", "loss-shelf"])
    assert found.problems == []  # pending, not an error (lab.wiki.citations)
    [pending] = found.pending
    assert str(pending) == "site/ideas/probe.md:5: {{ metric carry-heads.x }} (make experiment NAME=carry-heads)"
    assert pending.why == "'carry-heads' is not run yet"


def test_a_citation_of_a_mistyped_experiment_suggests_one():
    [message] = problems("{{ metric los-shelf.x }}", scripts_there=["loss-shelf"])
    assert message.endswith("does not name any page or file (did you mean 'loss-shelf'?)")
