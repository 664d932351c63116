"""The repository's own experiments and wiki, as they are committed: every experiment
reads with a valid parameters cell, and the wiki builds strictly with every link and
citation resolving (a broken one is a warning, which fails a strict build). No kernel runs."""

import ast
import os
import subprocess
import sys

import jupytext
import pytest
from runner_fixture import REPO

from lab.runner import params, scripts, staleness
from lab.wiki import links

EXPERIMENTS = scripts.experiment_names(REPO)


def test_there_are_experiments():
    assert len(EXPERIMENTS) >= 5, EXPERIMENTS


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_reads_with_a_valid_parameters_cell(name):
    script = scripts.read_script(name, REPO)  # header and parameters cell, or a LabError naming the line
    ast.parse(script.text, str(script.path))  # the whole script is Python
    assert {"title", "project", "question"} <= set(script.header), script.header
    assert script.params, f"{script.path}: no cell tagged parameters"
    # papermill sees the same cell: jupytext finds exactly one cell tagged parameters, holding these names
    notebook = jupytext.reads(script.text, fmt="py:percent")
    [cell] = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assigned = [node.targets[0].id for node in ast.parse(cell.source).body]
    assert assigned == list(script.params)
    # each default, typed back as PARAMS, is accepted and gives the default again
    typed = [f"{p.name}={p.default!r}" for p in script.params.values()]
    assert params.parse_params(typed, script) == script.defaults()
    params.check_params(script, script.defaults())  # the defaults pass the header's checks
    assert staleness.input_hash(script, script.defaults())  # the lab modules it imports are found


def test_wiki_builds_strictly(tmp_path):
    """``mkdocs build --strict`` of the repository's own mkdocs.yml and site/, into a
    temporary directory: warnings (broken links or citations included) fail it. Not with
    ``-q``: MkDocs 1.6 then drops warnings before strict mode counts them, and exits 0."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(REPO / "mkdocs.yml"),
            "-d",
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    cited = [
        ref for path in (REPO / "site").rglob("*.md") for ref in links.scan(path.read_text()) if ref.form == "metric"
    ]
    assert len(cited) > 10, "the notes cite few metrics: the check would be nearly empty"
    built = [p.read_text() for p in (tmp_path / "html").rglob("index.html")]
    assert len(built) > 10
    assert not [page for page in built if 'class="lab-broken"' in page]
