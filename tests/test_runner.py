"""The runner's commands without a kernel: the cli, list, status, scaffolding.

The runs through papermill are in test_runner_runs.py; the modules of the runner
each have their own test file (test_runner_scripts.py, ..._params.py, ...).
"""

import os
import subprocess
import sys

import pytest
from runner_fixture import make_root, write_experiment

from lab import LabError, cli, results
from lab.runner import commands, scripts


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path)


@pytest.fixture
def demo(root):
    return scripts.read_script("demo", root)


def test_list_and_status_import_neither_torch_nor_papermill(root):
    code = (
        "import sys; from lab.runner import commands; commands.list_command(); commands.status_command(); "
        "print([m for m in ('torch', 'transformer_lens', 'papermill', 'jupytext') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("never run  demo\n[]\n")


def test_cli_reports_bad_input_in_one_line_with_exit_code_2(root, monkeypatch, capsys):
    monkeypatch.chdir(root)
    assert cli.main(["run", "demo", "sead=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no parameter 'sead'" in err


# --------------------------------------------------------------------------- scaffolding


def test_new_experiment_fills_in_the_template(root):
    assert commands.new_experiment_command("carry-probe", root) == 0
    script = scripts.read_script("carry-probe", root)
    assert script.header["title"] == "Carry probe"
    assert "EXPERIMENT_" not in script.text
    assert "seed" in script.params


@pytest.mark.parametrize(
    "name, message",
    [
        ("demo", "experiments/demo.py already exists"),
        ("Bad Name", "lower-case letters"),
        ("../x", "lower-case letters"),
    ],
)
def test_new_experiment_refuses_bad_or_taken_names(root, name, message):
    with pytest.raises(LabError, match=message):
        commands.new_experiment_command(name, root)


def test_results_records_must_have_exactly_their_fields():
    with pytest.raises(KeyError, match=r"missing \['when'\]"):
        results.make_record(("run_id", "when"), {"run_id": "r"})


def test_list_shows_the_others_and_names_a_broken_script(root, capsys):
    write_experiment(root, "broken", '# %% tags=["parameters"]\nx = 1 +\n')
    assert commands.list_command(root) == 2
    out, err = capsys.readouterr()
    assert out.startswith("demo: Demo (Does the runner turn a script into a page?)\n    seed = 0")
    assert "broken" not in out
    assert err == "error: experiments/broken.py:2: parameters cell: invalid syntax\n"


def test_a_run_warns_in_the_terminal_when_the_script_states_no_result(root, monkeypatch, capsys):
    from lab.runner import run

    monkeypatch.setattr(run, "run", lambda *args, **kwargs: {"duration_s": 1.0})
    text = (root / "experiments" / "demo.py").read_text()
    write_experiment(root, "quiet", text.replace("# ## Results\n", "# ## Numbers\n"))
    assert commands.run_command("quiet", [], root) == 0
    out, err = capsys.readouterr()
    assert err == (
        "warning: experiments/quiet.py has no '## Result' section: state the finding in sentences, citing its metrics\n"
    )
    assert "warning" not in out

    assert commands.run_command("demo", [], root) == 0
    assert capsys.readouterr().err == ""


def test_reproduce_refuses_names_without_committed_results_before_running(root):
    with pytest.raises(
        LabError,
        match=r"demo has no committed results to reproduce "
        r"\(site/experiments/demo/run.json is missing\)",
    ):
        commands.reproduce_command(["demo"], root=root)
    with pytest.raises(LabError, match="no experiment 'nope'"):
        commands.reproduce_command(["nope"], root=root)
    assert not (root / "build").exists()


def test_progress_lines_from_several_threads_stay_whole():
    """A sweep's points report from threads at once: each line must arrive whole. With
    ``print``, which writes the text and the newline apart, two "started" lines merged
    into one, and a sweep test reading the output waited for a line that never came."""
    code = (
        "import threading\n"
        "from lab.runner.commands import say\n"
        "def report(k):\n"
        "    for i in range(5000):\n"
        "        say(f'[point-{k}] started (pid {i})')\n"
        "threads = [threading.Thread(target=report, args=(k,)) for k in range(2)]\n"
        "for t in threads: t.start()\n"
        "for t in threads: t.join()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ).stdout
    lines = out.splitlines()
    assert len(lines) == 10_000
    assert [line for line in lines if line.count("started") != 1] == []
