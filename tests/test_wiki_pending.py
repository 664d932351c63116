"""Pending citations (lab.wiki.citations): a value the lab is about to record and has
not yet is shown as "pending" and never fails the build, while a citation of what no
run will record (a typo) still does. First on graphs made by hand, with the runner's
judgement given; then end to end, a strict build around a real run of the demo
experiment, with that judgement made by ``lab.runner.staleness``."""

import shutil

import pytest
from runner_fixture import FIXTURES, REPO, make_root
from test_wiki_build import mkdocs

from lab.runner import aggregate, commands
from lab.wiki import freshness, links, rendering
from lab.wiki.notes import parse_note

RUN = {
    "run_id": "20261126T120000Z",
    "metrics": {"final_loss": {"value": 0.0512, "unit": "nats"}},
    "figures": [{"id": "loss-curve", "caption": "Loss per digit", "file": "figures/loss-curve.json"}],
}
SWEEP_PAGE = "experiments/loss-shelf/sweeps/seeds/index.md"
POINTS = [{"id": f"seed-{s}", "params": {"seed": s}, "status": "ok", "metrics": {"final_loss": 0.05}} for s in (0, 1)]
SWEEP = {
    "name": "loss-shelf",
    "sweep": "seeds",
    "grid": {"seed": [0, 1]},
    "points": POINTS,
    "aggregates": aggregate.aggregates(POINTS, ["seed"], {"final_loss": "nats"}),
    "figures": [],
}

STALE = freshness.Freshness("stale", "script changed", reruns=True)
PARTIAL = freshness.Freshness("partial", "1/2 points ok; missing or failed: seed-1", reruns=True)
FRESH = freshness.Freshness("fresh", "run 20261126T120000Z")
REWRITTEN = freshness.Freshness("stale", "write-up changed: the numbers stand")  # re-rendered, not re-run
ARCHIVED = freshness.Freshness("archived", "a record of commit feedc0d")


def graph(body: str, fresh: dict | None = None, declared: dict | None = None, swept: bool = False) -> links.Graph:
    """A graph of the loss-shelf experiment (run; ``swept``: and its sweep ``seeds``),
    the script carry-heads never run, and an idea whose text is ``body``."""
    pages = {
        "experiments/loss-shelf/index.md": "---\ntitle: The loss shelf\n---\nLoss stalls.\n",
        "ideas/probe.md": f"---\ntitle: Probe\nstatus: open\n---\n{body}\n",
    }
    if swept:
        pages[SWEEP_PAGE] = "---\ntitle: Seeds\nexperiment: loss-shelf\nsweep: seeds\n---\nOver seeds.\n"
    notes = [parse_note(src, text, f"site/{src}") for src, text in pages.items()]
    return links.build_graph(
        notes,
        {"loss-shelf": RUN},
        {},
        sweeps={SWEEP_PAGE: SWEEP} if swept else {},
        scripts=["loss-shelf", "carry-heads"],
        freshness=fresh or {},
        declared=declared if declared is not None else {"loss-shelf": ["seeds"], "carry-heads": ["seeds"]},
    )


def pending(body: str, **kwargs) -> tuple[str, str]:
    """(why, command) of the one citation in ``body``, which must be pending, not a problem."""
    made = graph(body, **kwargs)
    assert made.problems == []
    [cited] = made.pending
    assert (cited.where, cited.src, cited.written) == ("site/ideas/probe.md:5", "ideas/probe.md", body)
    return cited.why, cited.command


def problem(body: str, **kwargs) -> str:
    """The message of the one problem ``body`` makes, which must not be pending."""
    made = graph(body, **kwargs)
    assert made.pending == []
    [found] = made.problems
    return found.message


def html(body: str, **kwargs) -> str:
    return rendering.render(body, "ideas/probe.md", graph(body, **kwargs), lambda path: f"/{path}")


def test_a_sweep_the_header_declares_that_never_ran_is_pending_and_shows_no_number():
    why, command = pending("{{ metric loss-shelf@seeds.final_loss }}")
    assert why == "sweep loss-shelf@seeds is declared in experiments/loss-shelf.py but has not run yet"
    assert command == "make sweep NAME=loss-shelf SWEEP=seeds"
    assert html("{{ metric loss-shelf@seeds.final_loss }}") == (
        '<span class="lab-pending" title="loss-shelf@seeds.final_loss pending: sweep loss-shelf@seeds is declared '
        'in experiments/loss-shelf.py but has not run yet: make sweep NAME=loss-shelf SWEEP=seeds">pending</span>'
    )
    # an experiment never run, whose header declares the sweep, the same
    assert pending("{{ metric carry-heads@seeds.x }}")[1] == "make sweep NAME=carry-heads SWEEP=seeds"


def test_a_sweep_no_header_declares_is_an_error_naming_those_there_are():
    assert problem("{{ metric loss-shelf@sedes.final_loss }}") == (
        "{{ metric loss-shelf@sedes.final_loss }}: experiment 'loss-shelf' has no sweep 'sedes' "
        "(did you mean 'seeds'?) (it has: none; its header declares: seeds)"
    )
    assert "has no sweep 'seeds'" in problem("{{ metric loss-shelf@seeds.final_loss }}", declared={})


@pytest.mark.parametrize("state", [STALE, PARTIAL], ids=["stale", "failed-points"])
def test_a_metric_or_figure_a_run_lacks_is_pending_while_its_next_run_may_record_it(state):
    why, command = pending("{{ metric loss-shelf.shelf_gain }}", fresh={"loss-shelf": state})
    assert why == (
        f"experiment 'loss-shelf' has no metric 'shelf_gain' yet; it is {state.status} ({state.detail}), "
        "so its next run may record it"
    )
    assert command == "make experiments NAME=loss-shelf"
    assert html("{{ metric loss-shelf.shelf_gain }}", fresh={"loss-shelf": state}).endswith(">pending</span>")
    _, command = pending("![[loss-shelf#new-curve]]", fresh={"loss-shelf": state})
    assert command == "make experiments NAME=loss-shelf"
    shown = html("![[loss-shelf#new-curve]]", fresh={"loss-shelf": state})
    assert '<div class="lab-pending lab-pending-figure"' in shown and "lab-plot" not in shown
    assert "Figure new-curve of loss-shelf: pending (<code>make experiments NAME=loss-shelf</code>)" in shown


@pytest.mark.parametrize(
    "state", [FRESH, REWRITTEN, ARCHIVED, None], ids=["fresh", "rewritten", "archived", "unjudged"]
)
def test_a_metric_a_run_will_not_record_stays_an_error_with_its_hint(state):
    """Fresh, re-rendered without running, or archived: no next run brings a new metric,
    so a citation of one it lacks is a typo, and says what was meant."""
    fresh = {"loss-shelf": state} if state else {}
    assert problem("{{ metric loss-shelf.final_los }}", fresh=fresh) == (
        "experiment 'loss-shelf' has no metric 'final_los' (did you mean 'final_loss'?) (it has: final_loss)"
    )
    assert "has no figure 'new-curve'" in problem("![[loss-shelf#new-curve]]", fresh=fresh)
    assert 'class="lab-broken"' in html("{{ metric loss-shelf.final_los }}", fresh=fresh)


def test_a_metric_a_sweep_lacks_is_pending_only_while_the_sweep_is_not_fresh():
    cited = "{{ metric loss-shelf@seeds.shelf_gain }}"
    why, command = pending(cited, swept=True, fresh={"loss-shelf@seeds": STALE})
    assert why.startswith("sweep loss-shelf@seeds has no metric 'shelf_gain' yet; it is stale (script changed)")
    assert command == "make sweep NAME=loss-shelf SWEEP=seeds"
    assert problem(cited, swept=True, fresh={"loss-shelf@seeds": FRESH}) == (
        f"{cited}: sweep loss-shelf@seeds has no metric 'shelf_gain' (it has: final_loss)"
    )
    assert "0.05" in html("{{ metric loss-shelf@seeds.final_loss }}", swept=True, fresh={"loss-shelf@seeds": STALE})


def test_an_experiment_never_run_is_pending_and_a_mistyped_one_an_error():
    assert pending("{{ metric carry-heads.x }}") == ("'carry-heads' is not run yet", "make experiment NAME=carry-heads")
    assert pending("![[carry-heads#curve]]")[1] == "make experiment NAME=carry-heads"
    assert pending("![[experiments/loss-shelf/sweeps/seeds#curve]]")[1] == "make sweep NAME=loss-shelf SWEEP=seeds"
    assert problem("{{ metric carry-head.x }}").endswith("does not name any page or file (did you mean 'carry-heads'?)")
    assert problem("{{ metric los-shelf@seeds.final_loss }}") == (
        "{{ metric los-shelf@seeds.final_loss }}: no experiment 'los-shelf' (did you mean 'loss-shelf'?)"
    )
    assert "does not name any page or file" in problem("![[carry-head#curve]]")


def test_the_note_counts_its_pending_values_and_says_what_records_them():
    made = graph("{{ metric loss-shelf@seeds.a }} {{ metric loss-shelf@seeds.b }} {{ metric carry-heads.c }}")
    banner = freshness.pending_banner(made.pending_on("ideas/probe.md"))
    assert banner.startswith('!!! info "3 values pending"')
    assert "To record them: `make experiment NAME=carry-heads`, `make sweep NAME=loss-shelf SWEEP=seeds`." in banner
    assert freshness.pending_banner(made.pending_on("experiments/loss-shelf/index.md")) == ""


# --------------------------------------------------------------------------- end to end

NOTE = """---
title: What the demo shows
status: supported
project: fixtures
---

The widths add up to {{ metric demo.total_width }}.
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """A root where demo ran once and grid (whose header declares sweeps) never did,
    with the lab's mkdocs.yml and a note citing demo."""
    root = make_root(tmp_path_factory.mktemp("pending"))
    shutil.copy(FIXTURES / "grid.py", root / "experiments" / "grid.py")
    assert commands.run_command("demo", [], root) == 0
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for folder, name, text in (
        ("insights", "demo-note", NOTE),
        ("projects", "fixtures", "---\ntitle: Fixtures\n---\n\nThe runner's test experiments.\n"),
        ("ideas", "runner", "---\ntitle: A runner\nstatus: done\nproject: fixtures\n---\n\nRun scripts.\n"),
    ):
        (root / "site" / folder).mkdir(parents=True, exist_ok=True)
        (root / "site" / folder / f"{name}.md").write_text(text)
    return root


@pytest.fixture
def root(ran, tmp_path):
    copy = tmp_path / "root"
    shutil.copytree(ran, copy)
    return copy


def cite(root, text: str) -> None:
    note = root / "site" / "insights" / "demo-note.md"
    note.write_text(note.read_text() + f"\nAnd {text}.\n")


def edit_script(root, old: str, new: str) -> None:
    script = root / "experiments" / "demo.py"
    assert old in script.read_text()
    script.write_text(script.read_text().replace(old, new))


def test_a_declared_sweep_never_run_builds_strictly_with_a_pending_mark(root):
    cite(root, "{{ metric grid@seeds.slope }}")
    done = mkdocs(root, "--strict")
    assert done.returncode == 0, done.stderr
    page = (root / "build" / "site" / "insights" / "demo-note" / "index.html").read_text()
    assert '<span class="lab-pending" title="grid@seeds.slope pending: sweep grid@seeds is declared' in page
    assert "make sweep NAME=grid SWEEP=seeds" in page and "1 value pending" in page
    assert "1 citation(s) of values not recorded yet (pending):" in done.stderr
    assert (
        "site/insights/demo-note.md:9: {{ metric grid@seeds.slope }} (make sweep NAME=grid SWEEP=seeds)" in done.stderr
    )


def test_a_metric_a_stale_run_lacks_builds_strictly_as_pending(root):
    edit_script(root, 'print("done")', 'print("finished")')  # code: the next run runs it again
    cite(root, "{{ metric demo.total_height }}")
    done = mkdocs(root, "--strict")
    assert done.returncode == 0, done.stderr
    page = (root / "build" / "site" / "insights" / "demo-note" / "index.html").read_text()
    assert (
        '<span class="lab-pending" title="demo.total_height pending: experiment &#x27;demo&#x27; has no metric' in page
    )
    assert "make experiments NAME=demo" in page
    assert 'class="lab-stale"' in page  # the number it does record is marked stale, as before


@pytest.mark.parametrize("edit", [None, ("A tiny experiment", "A small experiment")], ids=["fresh", "write-up"])
def test_a_metric_a_run_will_not_record_fails_the_strict_build_with_did_you_mean(root, edit):
    """Fresh, or stale by its write-up alone (re-rendered, never re-run): a typo."""
    if edit:
        edit_script(root, *edit)
    cite(root, "{{ metric demo.total_widht }}")
    done = mkdocs(root, "--strict")
    assert done.returncode == 1
    assert "experiment 'demo' has no metric 'total_widht' (did you mean 'total_width'?)" in done.stderr
    assert "pending" not in done.stderr


@pytest.mark.parametrize(
    "citation, message",
    [
        (
            "{{ metric grid@sedes.slope }}",
            ": experiment 'grid' has no sweep 'sedes' (did you mean 'seeds'?) (it has: none; its header declares: ",
        ),
        ("{{ metric dmeo.total_width }}", " does not name any page or file (did you mean 'demo'?)"),
    ],
    ids=["undeclared-sweep", "mistyped-experiment"],
)
def test_an_undeclared_sweep_or_a_mistyped_experiment_fails_the_strict_build(root, citation, message):
    cite(root, citation)
    done = mkdocs(root, "--strict")
    assert done.returncode == 1
    assert f"site/insights/demo-note.md:9: {citation}{message}" in done.stderr


def test_a_stale_result_s_own_page_citing_a_metric_since_renamed_is_pending_until_its_rerun():
    """A stale sweep point's page was written with an older write-up; its re-run rewrites
    it. The same citation on a note, or on the page of a fresh result, is an error."""
    point = "experiments/loss-shelf/sweeps/settings/points/lr-1/index.md"
    cited = "{{ metric loss-shelf@seeds.shelf_gain }}"

    def made(settings: freshness.Freshness) -> links.Graph:
        pages = {
            "experiments/loss-shelf/index.md": "---\ntitle: The loss shelf\n---\nLoss stalls.\n",
            SWEEP_PAGE: "---\ntitle: Seeds\nexperiment: loss-shelf\nsweep: seeds\n---\nOver seeds.\n",
            point: f"---\ntitle: lr-1\nexperiment: loss-shelf\nsweep: settings\n---\n{cited}\n",
        }
        notes = [parse_note(src, text, f"site/{src}") for src, text in pages.items()]
        return links.build_graph(
            notes,
            {"loss-shelf": RUN},
            {},
            sweeps={SWEEP_PAGE: SWEEP},
            scripts=["loss-shelf"],
            freshness={"loss-shelf@seeds": FRESH, "loss-shelf@settings": settings},
            declared={"loss-shelf": ["seeds", "settings"]},
        )

    stale = made(STALE)
    assert stale.problems == []
    [found] = stale.pending
    assert found.src == point and found.command == "make sweep NAME=loss-shelf SWEEP=settings"
    assert "cited on the page of loss-shelf@settings, stale, whose re-run rewrites it" in found.why
    fresh = made(FRESH)
    assert fresh.pending == [] and [p.message for p in fresh.problems] == [
        f"{cited}: sweep loss-shelf@seeds has no metric 'shelf_gain' (it has: final_loss)"
    ]


def test_an_archived_result_s_page_citing_a_value_no_longer_recorded_says_so_and_builds():
    """An archived sweep point's page is a record of its commit: its write-up may cite a
    metric the experiment's current run no longer records (training-recipe's run stopped
    holding six nines, so it has no examples_to_six_nines). That is no error there, and
    the page says "no longer recorded" where the number was; on a fresh result's page
    the same citation is an error."""
    point = "experiments/loss-shelf/sweeps/settings/points/lr-1/index.md"
    cited = "{{ metric loss-shelf.steps_to_six_nines }}"

    def made(settings: freshness.Freshness) -> links.Graph:
        pages = {
            "experiments/loss-shelf/index.md": "---\ntitle: The loss shelf\n---\nLoss stalls.\n",
            point: f"---\ntitle: lr-1\nexperiment: loss-shelf\nsweep: settings\n---\n{cited}\n",
        }
        notes = [parse_note(src, text, f"site/{src}") for src, text in pages.items()]
        return links.build_graph(
            notes,
            {"loss-shelf": RUN},
            {},
            scripts=["loss-shelf"],
            freshness={"loss-shelf": FRESH, "loss-shelf@settings": settings},
            declared={"loss-shelf": ["settings"]},
        )

    archived = made(ARCHIVED)
    assert archived.problems == [] and archived.pending == []
    html = rendering.render(cited, point, archived, lambda path: f"/{path}")
    assert ">no longer recorded<" in html and "loss-shelf@settings, archived: a record of its commit" in html
    assert "pending" not in html.replace("lab-pending", "")
    fresh = made(FRESH)
    assert [p.message for p in fresh.problems] == [
        "experiment 'loss-shelf' has no metric 'steps_to_six_nines' (it has: final_loss)"
    ]
