"""Sweeps in the wiki: a real 2-point sweep in the fixture wiki, built strictly; its page,
its points' pages and their figures; citations of its aggregates from a note."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from runner_fixture import FIXTURES
from test_wiki_build import mkdocs
from wiki_fixture import make_wiki

from lab import results
from lab.runner import aggregate

pytestmark = pytest.mark.slow

SWEEP = "seed"  # an ad-hoc sweep over seed=0,1: named after its parameter
NOTE = "site/journal/2026-11-26-first-run.md"


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    """The fixture wiki with the grid fixture swept over two seeds, and a note citing it."""
    root = tmp_path_factory.mktemp("wiki")
    make_wiki(root)
    (root / "experiments").mkdir()
    script = (FIXTURES / "grid.py").read_text().replace("# project: fixtures", "# project: addition")
    (root / "experiments" / "grid.py").write_text(script)
    for command in (["run", "grid"], ["sweep", "grid", "seed=0,1", "--jobs", "2"]):
        done = subprocess.run(
            [sys.executable, "-m", "lab", *command], cwd=root, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
    return root


def cite(root: Path, text: str) -> None:
    note = root / NOTE
    note.write_text(note.read_text() + f"\nOver seeds the fit ends at {text}.\n")


def test_a_sweep_builds_strictly_with_its_page_points_and_citations(swept, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(swept, root)
    cite(root, "{{ metric grid@seed.final_loss }}")
    result = mkdocs(root, "--strict")
    assert result.returncode == 0, result.stderr
    site = root / "build" / "site"

    record = results.load_sweep("grid", SWEEP, root)
    note = (site / "journal" / "2026-11-26-first-run" / "index.html").read_text()
    shown = aggregate.citation(record, "final_loss")
    assert shown.endswith(" (2 seeds) mse") and f"{shown}</a>" in note
    assert "grid@seed.final_loss, mean ± std over seeds" in note  # the hover says what the number is
    assert 'href="../../experiments/grid/sweeps/seed/"' in note

    page = (site / "experiments" / "grid" / "sweeps" / SWEEP / "index.html").read_text()
    assert [f["id"] for f in record["figures"]] == ["overlay-loss-curve"]  # seeds alone: no metric-vs-parameter plot
    assert 'data-figure="figures/overlay-loss-curve.json"' in page
    assert 'href="points/seed-0/"' in page
    experiment = (site / "experiments" / "grid" / "index.html").read_text()
    assert 'href="sweeps/seed/">seed</a>: <code>seed=0,1</code>, 2/2 points ok' in experiment
    point = (site / "experiments" / "grid" / "sweeps" / SWEEP / "points" / "seed-0" / "index.html").read_text()
    assert 'data-figure="figures/loss-curve.json"' in point  # the point's own figure, not the experiment's


def test_a_sweep_still_running_builds_strictly_with_its_finished_points(swept, tmp_path):
    """Points are published as they finish; sweep.json and the sweep page come at the end."""
    root = tmp_path / "repo"
    shutil.copytree(swept, root)
    folder = results.sweep_dir("grid", SWEEP, root)
    for name in (results.SWEEP, results.PAGE):
        (folder / name).unlink()
    shutil.rmtree(folder / "figures", ignore_errors=True)
    result = mkdocs(root, "--strict")
    assert result.returncode == 0, result.stderr
    point = root / "build" / "site" / "experiments" / "grid" / "sweeps" / SWEEP / "points" / "seed-0" / "index.html"
    assert 'data-figure="figures/loss-curve.json"' in point.read_text()


def test_a_sweep_before_the_first_good_run_builds_strictly_with_a_page_for_its_experiment(swept, tmp_path):
    """The sweep page links to its experiment, whose page only a good main run writes."""
    root = tmp_path / "repo"
    shutil.copytree(swept, root)
    for path in results.result_dir("grid", root).iterdir():
        if path.name != results.SWEEPS:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    result = mkdocs(root, "--strict")
    assert result.returncode == 0, result.stderr
    experiment = (root / "build" / "site" / "experiments" / "grid" / "index.html").read_text()
    assert "No run of this experiment has succeeded yet" in experiment
    assert "<code>make experiment NAME=grid</code>" in experiment
    assert 'href="sweeps/seed/">seed</a>: <code>seed=0,1</code>, 2/2 points ok' in experiment
    sweep = (root / "build" / "site" / "experiments" / "grid" / "sweeps" / SWEEP / "index.html").read_text()
    assert 'href="../../">grid</a>' in sweep


@pytest.mark.parametrize(
    "citation, message",
    [
        (
            "{{ metric grid@seed.nope }}",
            "sweep grid@seed has no metric 'nope' (did you mean 'slope'?) (it has: final_loss, slope)",
        ),
        ("{{ metric grid@nope.final_loss }}", "experiment 'grid' has no sweep 'nope'"),
    ],
)
def test_a_bad_sweep_citation_fails_the_strict_build_naming_file_and_line(swept, tmp_path, citation, message):
    root = tmp_path / "repo"
    shutil.copytree(swept, root)
    cite(root, citation)
    line = len((root / NOTE).read_text().splitlines())
    result = mkdocs(root, "--strict")
    assert result.returncode == 1
    assert f"{NOTE}:{line}: {citation}: {message}" in result.stderr
