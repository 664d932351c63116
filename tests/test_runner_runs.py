"""Real runs through papermill, on fixture experiments in temporary repository roots.

A kernel start costs seconds, so runs are shared: one good run of the demo fixture
(module-scoped); every other test copies its root and runs at most once more.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from runner_fixture import REPO, git, make_root, snapshot

from lab import LabError, results
from lab.runner import commands, execute, provenance, scripts, staleness

pytestmark = pytest.mark.slow


def script_line(root: Path, text: str) -> int:
    lines = (root / "experiments" / "demo.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


# --------------------------------------------------------------------------- a good run


def test_run_writes_record_notebook_figures_and_history(good_run):
    root, _ = good_run
    folder = results.result_dir("demo", root)
    assert sorted(snapshot(folder)) == [
        "figures/widths.json",
        "history.jsonl",
        "index.md",
        "notebook.ipynb",
        "run.json",
    ]

    run = results.load_run("demo", root)
    assert tuple(run) == results.RUN_FIELDS
    script = scripts.read_script("demo", root)
    assert run["name"] == "demo" and run["status"] == "ok"
    assert run["params"] == script.defaults() and run["seed"] == 0
    assert run["commit"] is None and run["dirty"] is None  # the temporary root is not a git repo
    assert run["input_hash"] == staleness.input_hash(script, script.defaults())
    assert run["run_id"].endswith("Z") and run["started"].endswith("+00:00")
    assert set(run["versions"]) == {"python", *provenance.VERSIONED_PACKAGES}
    assert run["versions"]["plotly"] and run["versions"]["papermill"]
    assert run["environment"] == {  # what the demo records in place of lab.numerics.pin()
        "threads": 2,
        "torch": None,
        "cuda": None,
        "cpu_capability": "DEFAULT",
        "device": "cpu",
    }
    assert run["metrics"] == {"total_width": {"value": 0.006, "unit": "mm", "description": "sum of widths"}}
    assert run["figures"] == [{"id": "widths", "caption": "The widths", "file": "figures/widths.json"}]

    nb = nbformat.read(folder / "notebook.ipynb", as_version=4)
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    assert [c["index"] for c in run["cells"]] == code
    assert all(c["duration_s"] >= 0 for c in run["cells"])
    assert nb.metadata.papermill.input_path == "experiments/demo.py"

    figure = json.loads((folder / "figures" / "widths.json").read_text())
    assert figure["data"][0]["type"] == "bar"

    assert results.load_history("demo", root) == [results.history_entry(run)]


def test_papermill_records_when_each_cell_started_and_how_long_it_took(good_run):
    """The metadata ``execute.cell_durations`` and ``last_started_cell`` rely on."""
    root, _ = good_run
    nb = nbformat.read(results.result_dir("demo", root) / "notebook.ipynb", as_version=4)
    assert all(cell.metadata.papermill.start_time for cell in nb.cells)
    durations = execute.cell_durations(nb)
    assert len(durations) == sum(cell.cell_type == "code" for cell in nb.cells)
    assert all(isinstance(c["duration_s"], float) and c["duration_s"] >= 0 for c in durations)


def test_kernel_is_this_interpreter_in_the_repository_root(good_run):
    root, _ = good_run
    nb = nbformat.read(results.result_dir("demo", root) / "notebook.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for cell in nb.cells for o in cell.get("outputs", []))
    assert f"executable {sys.executable}\n" in printed  # the .venv python running the tests
    assert f"cwd {root.resolve()}\n" in printed


def test_terminal_shows_progress_and_everything_printed(good_run):
    _, out = good_run
    assert "[demo] cell 1/4  experiments/demo.py:14" in out
    assert "[demo] cell 4/4" in out
    assert "line 59\n" in out and "line 30\n" in out  # the terminal is not shortened


def test_page_has_front_matter_write_up_embeds_and_short_outputs(good_run):
    root, _ = good_run
    run = results.load_run("demo", root)
    page = (results.result_dir("demo", root) / "index.md").read_text()
    _, front, body = page.split("---\n", 2)
    assert yaml.safe_load(front) == {
        "title": "Demo",
        "project": "fixtures",
        "question": "Does the runner turn a script into a page?",
        "links": ["ideas/runner"],
        "experiment": "demo",
        "run_id": run["run_id"],
    }
    assert "A tiny experiment for the runner's tests" in body
    assert '??? abstract "Code"\n\n    ```python\n    import os\n' in body
    assert "![[experiments/demo#widths]]\n\n*The widths*\n" in body
    assert "**Totals**\n\n| name | value |\n|---|---|\n| total | 6 |" in body
    assert "step 99\n" in body and "step 98" not in body  # carriage-return redraws collapsed
    assert "… 22 more lines …" in body and "line 30\n" not in body
    assert '"type":"bar"' not in body.replace(" ", "")  # figure data stays out of the page


# --------------------------------------------------------------------------- staleness


def test_fresh_until_script_or_parameters_change(good_root, capsys):
    assert staleness.experiment_state("demo", good_root).status == "fresh"
    assert commands.run_stale_command(good_root) == 0  # nothing to run: no kernel starts
    assert capsys.readouterr().out.startswith("skip demo: fresh (run ")

    script = good_root / "experiments" / "demo.py"
    original = script.read_text()
    script.write_text(original.replace('print("done")', 'print("finished")'))
    state = staleness.experiment_state("demo", good_root)
    assert (state.status, state.detail, state.due, state.rerender) == ("stale", "script changed", True, False)

    script.write_text(original.replace("seed = 0", "seed = 1"))  # the run keeps its own seed=0
    assert staleness.experiment_state("demo", good_root).detail == "script changed with seed=0"

    script.write_text(original)
    assert staleness.experiment_state("demo", good_root).status == "fresh"


def test_a_new_write_up_is_rendered_without_running(good_root, capsys):
    """The Result written after the numbers were seen: the numbers stand, the page takes
    the new prose, and no kernel starts (same run, same history)."""
    before = results.load_run("demo", good_root)
    folder = results.result_dir("demo", good_root)
    history = (folder / results.HISTORY).read_text()
    script = good_root / "experiments" / "demo.py"
    script.write_text(script.read_text().replace("# A tiny experiment", "# A small experiment"))
    state = staleness.experiment_state("demo", good_root)
    assert (state.status, state.due, state.rerender) == ("stale", True, True)
    assert state.detail.startswith("write-up changed: the numbers stand")

    assert commands.run_stale_command(good_root) == 0
    assert "re-rendered demo" in capsys.readouterr().out
    after = results.load_run("demo", good_root)
    assert after["run_id"] == before["run_id"] and after["metrics"] == before["metrics"]
    assert (folder / results.HISTORY).read_text() == history
    page = (folder / results.PAGE).read_text()
    assert "A small experiment" in page and "A tiny experiment" not in page
    assert "A small experiment" in (folder / results.NOTEBOOK).read_text()
    assert staleness.experiment_state("demo", good_root).status == "fresh"


def test_a_write_up_with_new_cells_takes_a_run(good_root, capsys):
    before = results.load_run("demo", good_root)
    script = good_root / "experiments" / "demo.py"
    script.write_text(script.read_text() + "\n# %% [markdown]\n# ## Caveats\n#\n# A new cell.\n")
    assert staleness.experiment_state("demo", good_root).rerender
    assert commands.run_stale_command(good_root) == 0
    assert "re-rendered demo" not in capsys.readouterr().out
    assert results.load_run("demo", good_root)["run_id"] != before["run_id"]
    assert "A new cell." in (results.result_dir("demo", good_root) / results.PAGE).read_text()


def test_a_run_with_parameters_stays_fresh_and_is_rerun_with_them(good_root, capsys):
    """A user's parameterized run is judged by its own parameters and never replaced by
    a run with the defaults."""
    assert commands.run_command("demo", ["seed=1", "label=mine"], good_root) == 0
    state = staleness.experiment_state("demo", good_root)
    assert state.status == "fresh" and state.detail.endswith(" with seed=1 label='mine'")

    script = good_root / "experiments" / "demo.py"
    script.write_text(script.read_text().replace('print("done")', 'print("finished")'))
    state = staleness.experiment_state("demo", good_root)
    assert (state.status, state.detail) == ("stale", "script changed with seed=1 label='mine'")
    assert commands.run_stale_command(good_root) == 0
    run = results.load_run("demo", good_root)
    assert (run["params"]["seed"], run["params"]["label"]) == (1, "mine")
    assert staleness.experiment_state("demo", good_root).status == "fresh"


# --------------------------------------------------------------------------- failure


def test_failure_keeps_last_good_results_and_records_where(good_root, capsys):
    folder = results.result_dir("demo", good_root)
    before = snapshot(folder)

    assert commands.run_command("demo", ["fail=true", "label=a b"], good_root) == 1

    after = snapshot(folder)
    assert after.pop("failure.json")
    assert after == before
    failure = results.load_failure("demo", good_root)
    assert tuple(failure) == results.FAILURE_FIELDS
    line = script_line(good_root, "raise ValueError")
    assert failure["line"] == line
    assert failure["source"] == 'raise ValueError(f"asked to fail with label {label!r}")'
    assert (failure["exception"], failure["message"]) == ("ValueError", "asked to fail with label 'a b'")
    assert failure["notebook"] == "build/failed/demo.ipynb"
    kept = nbformat.read(good_root / failure["notebook"], as_version=4)
    assert kept.cells[failure["cell"]].outputs[-1].ename == "ValueError"

    err = capsys.readouterr().err
    assert f"error: demo failed at experiments/demo.py:{line}\n" in err
    assert "ValueError: asked to fail with label 'a b'" in err
    # the summary and the last frame, not IPython's whole traceback (that stays in the notebook)
    assert "Traceback (most recent call last)" not in err and "last 1 frame of the traceback" in err
    assert "Traceback (most recent call last)" in str(kept.cells[failure["cell"]].outputs[-1].traceback)

    state = staleness.experiment_state("demo", good_root)
    assert state.status == "failed" and f"demo.py:{line}: ValueError" in state.detail
    assert state.due  # it failed with fail=true; the defaults are a different input


# --------------------------------------------------------------------------- the template


def test_new_experiment_runs_as_written(tmp_path):
    root = make_root(tmp_path)
    assert commands.new_experiment_command("probe", root) == 0

    assert commands.run_command("probe", [], root) == 0
    run = results.load_run("probe", root)
    assert set(run["metrics"]) == {"slope"} and 1.5 < run["metrics"]["slope"]["value"] < 2.5
    assert [f["id"] for f in run["figures"]] == ["scatter"]
    assert run["environment"] is None  # the template records none (no lab.numerics)

    plain = subprocess.run(
        [sys.executable, "experiments/probe.py"], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert plain.returncode == 0, plain.stderr
    assert "slope" in results.read_metrics(root / "build" / "scratch" / "probe")


# --------------------------------------------------------------------------- history across runs


def test_history_grows_by_good_runs_and_a_failure_lasts_until_the_next_good_one(good_root):
    folder = results.result_dir("demo", good_root)
    first = (folder / "history.jsonl").read_bytes()

    assert commands.run_command("demo", ["seed=1"], good_root) == 0
    second = results.load_run("demo", good_root)
    history = (folder / "history.jsonl").read_bytes()
    assert history.startswith(first)  # earlier runs kept byte for byte
    assert [h["run_id"] for h in results.load_history("demo", good_root)][-1] == second["run_id"]
    assert [h["seed"] for h in results.load_history("demo", good_root)] == [0, 1]

    assert commands.run_command("demo", ["fail=true"], good_root) == 1
    assert (folder / "failure.json").exists()
    assert (folder / "history.jsonl").read_bytes() == history  # a failure is not a run of the history

    assert commands.run_command("demo", [], good_root) == 0
    assert not (folder / "failure.json").exists()
    assert [h["seed"] for h in results.load_history("demo", good_root)] == [0, 1, 0]
    assert staleness.experiment_state("demo", good_root).status == "fresh"


# --------------------------------------------------------------------------- git provenance


def test_a_run_records_the_commit_refuses_uncommitted_code_and_ignores_results_awaiting_a_commit(
    good_root, monkeypatch
):
    shutil.copy(REPO / ".gitignore", good_root / ".gitignore")  # build/ is scratch, as in the lab
    git(good_root, "init", "-q")
    git(good_root, "add", "-A")
    git(good_root, "commit", "-qm", "experiments and their results")
    head = git(good_root, "rev-parse", "HEAD").strip()

    (good_root / "site" / "draft.md").write_text("# A note not yet committed\n")
    assert commands.run_command("demo", [], good_root) == 0
    run = results.load_run("demo", good_root)
    assert (run["commit"], run["dirty"]) == (head, False)
    changed = [line[3:] for line in git(good_root, "status", "--porcelain").splitlines()]
    assert changed and all(path.startswith("site/") for path in changed)  # notes and results only

    (good_root / "experiments" / "demo.py").write_text(
        (good_root / "experiments" / "demo.py").read_text() + "\n# edited\n"
    )
    before = results.load_run("demo", good_root)
    with pytest.raises(LabError, match=r"uncommitted changes \(experiments/demo.py\).*ALLOW_DIRTY=1"):
        commands.run_command("demo", [], good_root)  # refused before any kernel starts
    assert results.load_run("demo", good_root) == before
    with pytest.raises(LabError, match="ALLOW_DIRTY=1"):
        commands.run_stale_command(good_root)
    monkeypatch.setenv("ALLOW_DIRTY", "1")
    assert commands.run_command("demo", [], good_root) == 0
    assert results.load_run("demo", good_root)["dirty"] is True


# --------------------------------------------------------------------------- run-stale


def test_run_stale_runs_what_is_due_and_exits_non_zero_on_a_failure(tmp_path, capsys):
    root = make_root(tmp_path)
    demo = (root / "experiments" / "demo.py").read_text()
    (root / "experiments" / "broken.py").write_text(demo.replace("fail = False", "fail = True"))

    assert commands.run_stale_command(root) == 1

    out, err = capsys.readouterr()
    assert "run broken: never run\n" in out and "run demo: never run\n" in out
    # the plan first, then k/N as each one ends (nothing recorded yet: no ETA until one lands)
    assert out.startswith("2 to run: broken, demo (no recorded duration to estimate from)\n")
    assert "[broken] failed (1/2, " in out and "[demo] finished (2/2, " in out
    assert err.endswith("failed: broken\n")
    assert results.load_failure("broken", root)["exception"] == "ValueError"
    assert results.load_run("broken", root) is None
    assert results.load_run("demo", root)["status"] == "ok"

    assert commands.run_stale_command(root) == 0  # demo fresh; broken failed with unchanged inputs
    assert capsys.readouterr().out.startswith("skip broken: failed")


# --------------------------------------------------------------------------- the failure on the wiki


def test_the_built_page_opens_with_the_failure_banner_over_the_last_good_results(good_root):
    label = "<b>bold</b> & co"  # markup in the message must arrive as text
    assert commands.run_command("demo", ["fail=true", f"label={label}"], good_root) == 1
    failure = results.load_failure("demo", good_root)
    shutil.copy(REPO / "mkdocs.yml", good_root / "mkdocs.yml")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build"],
        cwd=good_root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr

    page = (good_root / "build" / "site" / "experiments" / "demo" / "index.html").read_text()
    banner = page[page.index('<div class="admonition failure">') :]
    banner = banner[: banner.index("</div>")]
    assert page.index('<div class="admonition failure">') < page.index('<h1 id="demo">')  # on top
    assert '<p class="admonition-title">The latest attempt failed</p>' in banner
    assert f"Run {failure['run_id']} at " in banner
    assert f"line {failure['line']} of the script: <code>raise ValueError(" in banner
    assert "ValueError: asked to fail with label" in banner
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in banner and "<b>bold</b>" not in banner
    assert "total_width" in page  # the last good results are still the page
