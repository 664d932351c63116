"""Real runs through papermill, on fixture experiments in temporary repository roots.

A kernel start costs seconds, so runs are shared: one good run of the demo fixture
(module-scoped); every other test copies its root and runs at most once more.
"""

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from runner_fixture import REPO, make_root

from lab import LabError, cli, results
from lab.runner import commands, execute, provenance, scripts, staleness

pytestmark = pytest.mark.slow


def lab_command(root: Path, *args: str, **kwargs) -> subprocess.Popen:
    """``python -m lab ARGS`` in ``root``. Ctrl-C reaches it even where the tests run as a
    background job, which a shell without job control starts with SIGINT ignored (and
    Python then installs no KeyboardInterrupt handler)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "lab", *args],
        cwd=root,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **kwargs,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_root(good_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(good_root, root, ignore=shutil.ignore_patterns("build"))
    return root


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """The demo experiment run once with its defaults, via the CLI: (root, stdout)."""
    root = make_root(tmp_path_factory.mktemp("good"))
    proc = lab_command(root, "run", "demo")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return root, out


@pytest.fixture
def good_root(good_run, tmp_path):
    return copy_root(good_run[0], tmp_path)


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


# --------------------------------------------------------------------------- interruption


def start_paused_run(root: Path) -> tuple[subprocess.Popen, int]:
    """A run sleeping in its last cell: the process and its kernel's pid."""
    proc = lab_command(root, "run", "demo", "pause_s=60")
    watchdog = threading.Timer(120, proc.kill)  # a hung start fails the test instead of hanging it
    watchdog.start()
    try:
        for line in proc.stdout:
            if line.startswith("kernel ") and line.endswith(" pausing\n"):
                return proc, int(line.split()[1])
    finally:
        watchdog.cancel()
    proc.wait()
    raise AssertionError(f"the run ended before pausing: {proc.stderr.read()}")


def process_gone(pid: int, within_s: float = 15.0) -> bool:
    """Whether ``pid`` exits (or is a zombie awaiting its reaper) within ``within_s``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def lock_is_free(root: Path) -> bool:
    with open(root / "build" / "locks" / "demo.lock") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 130), (signal.SIGKILL, -9)])
def test_killing_a_run_leaves_last_good_results_and_no_kernel(good_root, sig, code):
    before = snapshot(results.result_dir("demo", good_root))
    proc, kernel = start_paused_run(good_root)

    proc.send_signal(sig)
    assert proc.wait(timeout=30) == code

    assert process_gone(kernel), f"kernel {kernel} outlived its run"
    assert snapshot(results.result_dir("demo", good_root)) == before
    assert lock_is_free(good_root)


def test_a_second_run_is_refused_while_one_runs(good_root):
    before = snapshot(results.result_dir("demo", good_root))
    first, kernel = start_paused_run(good_root)
    try:
        second = lab_command(good_root, "run", "demo")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert f"error: demo is already running (pid {first.pid}, lock build/locks/demo.lock)" in err
        with pytest.raises(LabError, match="already running"):
            commands.run_command("demo", [], good_root)
    finally:
        first.terminate()
        first.wait(timeout=30)
    assert process_gone(kernel)
    assert snapshot(results.result_dir("demo", good_root)) == before


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


# --------------------------------------------------------------------------- reproduction


def site_files(root: Path) -> dict[str, bytes]:
    return snapshot(root / "site")


def reproduced_notebook_text(root: Path) -> str:
    nb = nbformat.read(root / "build" / "reproduce" / "demo" / "notebook.ipynb", as_version=4)
    return "".join(o.get("text", "") for cell in nb.cells for o in cell.get("outputs", []))


def test_reproduce_reports_identical_and_writes_only_the_verdict(good_root, capsys):
    before = site_files(good_root)
    committed = results.load_run("demo", good_root)

    assert commands.reproduce_command([], root=good_root) == 0  # all with committed results: demo

    after = site_files(good_root)
    verdict = json.loads(after.pop("experiments/demo/reproduction.json"))
    assert after == before
    assert tuple(verdict) == results.REPRODUCTION_FIELDS
    assert (verdict["identical"], verdict["within"], verdict["drifted"]) == (1, 0, 0)
    assert verdict["run_id"] == committed["run_id"] and verdict["environment"] == committed["environment"]
    assert verdict["tolerance"] == {"relative": 0.0, "why": "same environment: bit-identical"}
    assert verdict["cached"] is False and verdict["failure"] is None
    out = capsys.readouterr().out
    assert f"[demo] reproduction of run {committed['run_id']} (" in out
    assert "1 identical, 0 within tolerance, 0 drifted" in out
    assert "    total_width  identical  0.006      0.006  +0.000e+00" in out
    # a fresh model cache reached the kernel; the reproduced run is kept for a look
    assert f"model cache {good_root.resolve() / 'build' / 'reproduce' / 'cache'}\n" in reproduced_notebook_text(
        good_root
    )
    assert results.read_json(good_root / "build" / "reproduce" / "demo" / "run.json")["metrics"] == committed["metrics"]


def test_reproduce_lists_timings_apart_from_drifts(good_root, monkeypatch):
    run_json = results.result_dir("demo", good_root) / "run.json"
    run = json.loads(run_json.read_text())
    run["metrics"]["seconds_to_fit"] = {"value": 99.0, "unit": "s", "description": "wall clock"}
    run_json.write_text(results.dumps(run))
    monkeypatch.chdir(good_root)
    assert cli.main(["reproduce", "demo", "--cached"]) == 0  # a timing that went missing is no drift
    verdict = results.read_json(results.result_dir("demo", good_root) / results.REPRODUCTION)
    assert verdict["drifts"] == [] and verdict["drifted"] == 0
    assert verdict["timings"] == [{"metric": "seconds_to_fit", "committed": 99.0, "new": None}]


def test_a_new_run_keeps_the_reproduction_verdict_of_the_run_it_checked(good_root):
    assert commands.reproduce_command(["demo"], cached=True, root=good_root) == 0
    checked = results.load_reproduction("demo", good_root)
    assert commands.run_command("demo", [], good_root) == 0
    assert results.load_reproduction("demo", good_root) == checked  # carried over, naming its run
    assert checked["run_id"] != results.load_run("demo", good_root)["run_id"]


def test_publishing_never_leaves_the_results_missing(good_root, monkeypatch):
    """A reader or a crash at any step of publishing finds results: the swap is one step."""
    target = results.result_dir("demo", good_root)
    seen = []
    real_rmtree, real_rename = shutil.rmtree, os.rename

    def rmtree(path, *args, **kwargs):
        real_rmtree(path, *args, **kwargs)
        seen.append((target / results.RUN).exists())

    def rename(a, b):
        real_rename(a, b)
        seen.append((target / results.RUN).exists())

    monkeypatch.setattr(shutil, "rmtree", rmtree)
    monkeypatch.setattr(os, "rename", rename)
    assert commands.run_command("demo", [], good_root) == 0
    assert seen and all(seen)


def test_reproduce_names_a_drifted_metric_and_exits_non_zero(good_root, monkeypatch, capsys):
    run_json = results.result_dir("demo", good_root) / "run.json"
    run = json.loads(run_json.read_text())
    run["metrics"]["total_width"]["value"] = 0.007
    run_json.write_text(results.dumps(run))
    before = site_files(good_root)

    monkeypatch.chdir(good_root)
    assert cli.main(["reproduce", "demo", "--cached"]) == 1

    after = site_files(good_root)
    verdict = json.loads(after.pop("experiments/demo/reproduction.json"))
    assert after == before
    assert verdict["drifted"] == 1 and verdict["cached"] is True
    assert verdict["drifts"] == [
        {"metric": "total_width", "committed": 0.007, "new": 0.006, "difference": pytest.approx(-0.001)}
    ]
    out, err = capsys.readouterr()
    assert "    total_width  drifted  0.007      0.006  -1.000e-03" in out
    assert err.endswith("not reproduced: demo\n")
    assert "model cache None\n" in reproduced_notebook_text(good_root)  # --cached: the lab's cache


# --------------------------------------------------------------------------- history across runs


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


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
    assert err.endswith("failed: broken\n")
    assert results.load_failure("broken", root)["exception"] == "ValueError"
    assert results.load_run("broken", root) is None
    assert results.load_run("demo", root)["status"] == "ok"

    assert commands.run_stale_command(root) == 0  # demo fresh; broken failed with unchanged inputs
    assert capsys.readouterr().out.startswith("skip broken: failed")


# --------------------------------------------------------------------------- kill during publication

# Runs demo with the directory swap paused at one point; the test kills it there.
PAUSED_SWAP = """
import os, sys, time
from lab import atomic, cli

point = sys.argv[1]
exchange, rename = atomic._exchange, os.rename

def pause():
    print("swap paused", flush=True)
    time.sleep(60)

def paused_exchange(new, target):
    if point == "before exchange":
        pause()
    done = exchange(new, target)
    if point == "after exchange":
        pause()
    return done

def paused_rename(src, dst):  # where renameat2 is missing: target moved aside, new not yet in
    rename(src, dst)
    if point == "between renames" and str(dst).endswith(".old"):
        pause()

atomic._exchange = (lambda new, target: False) if point == "between renames" else paused_exchange
os.rename = paused_rename
sys.exit(cli.main(["run", "demo", "seed=7"]))
"""


def consistent_results(folder: Path) -> str:
    """The run id that page, run record and history agree on; fails on a mix."""
    run = json.loads((folder / "run.json").read_text())
    page_front = yaml.safe_load((folder / "index.md").read_text().split("---\n")[1])
    history = [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()]
    nb = nbformat.read(folder / "notebook.ipynb", as_version=4)
    assert page_front["run_id"] == run["run_id"] == history[-1]["run_id"]
    assert f"label {run['params']['label']!r}" in "".join(  # the notebook is this run's too
        o.get("text", "") for cell in nb.cells for o in cell.get("outputs", [])
    )
    assert nb.metadata.papermill.parameters == {k: v for k, v in run["params"].items() if k == "seed" and v == 7}
    assert sorted(p.name for p in (folder / "figures").iterdir()) == ["widths.json"]
    return run["run_id"]


@pytest.mark.parametrize("point", ["before exchange", "after exchange", "between renames"])
def test_killing_a_run_inside_the_swap_leaves_old_or_new_results_never_a_mix(good_root, point):
    folder = results.result_dir("demo", good_root)
    before = snapshot(folder)
    old_id = results.load_run("demo", good_root)["run_id"]
    time.sleep(1.1)  # run ids are per second
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_SWAP, point],
        cwd=good_root,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        assert any(line == "swap paused\n" for line in proc.stdout), proc.stderr.read()
        proc.kill()
        proc.wait()
    finally:
        watchdog.cancel()

    if point == "between renames":  # no renameat2: the old results wait aside for the next run
        assert not folder.exists()
        assert snapshot(folder.with_name(".demo.old")) == before
    elif point == "after exchange":
        assert consistent_results(folder) != old_id
        assert results.load_run("demo", good_root)["params"]["seed"] == 7
    else:
        assert snapshot(folder) == before
    assert commands.run_command("demo", [], good_root) == 0  # the next run recovers and cleans up
    assert consistent_results(folder) != old_id
    assert (folder / "history.jsonl").read_bytes().startswith(before["history.jsonl"])  # nothing lost
    assert sorted(p.name for p in folder.parent.iterdir()) == ["demo"]


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
