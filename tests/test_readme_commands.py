"""Every command the README gives works as written (issue 34): each ``make …`` it names
is run here exactly as the README writes it when it takes under a minute on 2 cores,
or named with the test that covers it, or with why it is not run (minutes of training,
a server, the whole suite). A command added to the README fails the first test until
it is sorted into one of these.

The commands that only read records (``make status``, ``make costs``, ``make refresh
PLAN=1``) run in the repository itself; those that write (the scaffolds, a run of the
new experiment, ``make clean``) run in a scratch root holding the real
Makefile and template, a one-project wiki and this interpreter's ``.venv``."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from runner_fixture import REPO
from test_makefile import ENV, MAKE
from wiki_fixture import make_wiki

from lab import results

pytestmark = pytest.mark.slow

README = (REPO / "README.md").read_text()


def readme_commands() -> set[str]:
    """``make …`` as the README writes it: inline code, and lines of its shell blocks."""
    found = {m[1] for m in re.finditer(r"`(make [^`]+)`", README)}
    block = False
    for line in README.splitlines():
        if line.startswith("```"):
            block = not block
        elif block and line.startswith("make "):
            found.add(re.split(r"\s{2,}#", line)[0].strip())
    return found


# Read records only: run in the repository itself, as written.
READING = {"make status", "make costs", "make refresh PLAN=1", "make experiment"}
# Write: run in the scratch root, in this order (the experiment needs its scaffold).
WRITING = [
    'make new-idea TITLE="Do heads attend to the carry column?"',
    "make new-insight TITLE=…",
    "make new-note TITLE=…",
    "make new-experiment NAME=carry-heads",
    'make experiment NAME=carry-heads PARAMS="n_points=500 seed=1"',
    "make clean",
]
COVERED = {
    'make sweep NAME=carry-heads GRID="seed=0,1,2 n_points=100,500"': "6 kernels: test_makefile's sweep with a grid",
    "make sweep": "test_makefile.py (usage, a grid, SIGTERM)",
    "make sweep NAME=… SWEEP=…": "a form, not a command: the one a pending citation names (test_wiki_pending.py)",
    "make notebook": "test_notebook.py (the first call installs JupyterLab)",
    "make notebook NAME=carry-heads": "test_notebook.py: opens a server",
    "make experiments": "test_runner_runs.py::test_run_stale_runs_what_is_due_and_exits_non_zero_on_a_failure",
    'make archive NAME=training-recipe SWEEP=recipes WHY="..."': "test_runner_archive.py (changes results)",
    "make check-inputs NAME=... [SWEEP=...]": "test_runner_committed.py (writes into records, at commits)",
    "make serve": "test_makefile.py::test_serve_rebuilds_only_what_an_edit_touches (a server)",
    "make serve CORE=mkdocs": "test_wiki_core.py (a server)",
    "make wiki CORE=mkdocs": "test_wiki_core.py",
    # the repository's own strict build fails on any stale citation (a refresh under way,
    # an uncommitted result), and this fixture wiki's are stale by design
    "make wiki": "test_wiki_swap.py (make wiki, and a failed build keeps the last good one); test_scaffolds.py",
}
LONG = {
    "make experiment NAME=loss-shelf": "about 3 minutes",
    "make experiments NAME=loss-shelf": "about 3 minutes",
    "make sweep NAME=loss-shelf SWEEP=seeds": "5 trainings",
    "make refresh": "everything stale: 1 h 18 min with the models cached (measured), hours without",
    "make reproduce": "every experiment from scratch: hours",
    "make reproduce [NAME=loss-shelf]": "minutes (test_runner_reproduce_runs.py runs a fixture)",
    "make train PRESET=add2-fast": "minutes of training",
    "make test": "the suite itself",
    "make test-browser": "chromium",
    "make bench": "minutes of benchmarks",
}


def test_every_readme_command_is_run_here_or_named_with_its_test_or_why_not():
    sorted_out = READING | set(WRITING) | set(COVERED) | set(LONG)
    assert readme_commands() == sorted_out


def make(root: Path, command: str) -> subprocess.CompletedProcess:
    """``command`` split as a user's shell would (quotes and all), run by make in ``root``."""
    argv = [*MAKE, *shlex.split(command)[1:]]
    return subprocess.run(argv, cwd=root, env=ENV, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", sorted(READING))
def test_a_command_that_reads_records_works_in_the_repository(command):
    done = make(REPO, command)
    if command == "make experiment":  # without NAME: the usage and the experiments, exit 2
        assert done.returncode == 2 and done.stdout.startswith("usage: make experiment NAME=<name>")
        assert "\nloss-shelf: " in done.stdout
        return
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and "Traceback" not in done.stderr


# A clone's author: the scratch root is a git repository, so that publishing checks for
# uncommitted code as it does in a clone.
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
# The README's commit of the new script, run between scaffolding it and running it.
COMMIT = re.search(r"`(git add experiments/carry-heads\.py && git commit[^`]*)`", README)[1]


def shell(root: Path, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, cwd=root, env={**ENV, **GIT_ENV}, capture_output=True, text=True)


@pytest.fixture
def scratch(tmp_path) -> Path:
    make_wiki(tmp_path)  # one project
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "_template.py").write_text((REPO / "experiments" / "_template.py").read_text())
    (tmp_path / "Makefile").write_text((REPO / "Makefile").read_text())
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))  # this interpreter's, as test_makefile's root
    (tmp_path / ".gitignore").write_text(".venv\nbuild/\n.cache/\n")
    assert shell(tmp_path, "git init -q && git add -A && git commit -qm clone").returncode == 0
    return tmp_path


def test_the_commands_that_write_work_as_written_in_a_scratch_root(scratch):
    for command in [*WRITING[:3], 'make new-note KIND=project TITLE="Carries"', *WRITING[3:]]:
        # the README's placeholder … filled in, one title per kind of note
        command = command.replace("TITLE=…", f'TITLE="First {command.split()[1]}"')
        if command.startswith("make experiment "):  # as the README says: commit the script first
            committed = shell(scratch, COMMIT)
            assert committed.returncode == 0, committed.stderr
        done = make(scratch, command)
        assert done.returncode == 0, f"{command}: {done.stderr}"
    for note in (
        "ideas/do-heads-attend-to-the-carry-column",
        "insights/first-new-insight",
        "journal/*first-new-note",
        "projects/carries",
    ):
        assert list(scratch.glob(f"site/{note}*")), note
    assert results.load_run("carry-heads", scratch)["params"] == {"seed": 1, "n_points": 500}
    assert not (scratch / "build").exists()  # make clean, last
    # the new experiment also runs as a plain script, as the README says
    plain = subprocess.run(
        [".venv/bin/python", "experiments/carry-heads.py"], cwd=scratch, capture_output=True, text=True, timeout=120
    )
    assert plain.returncode == 0, plain.stderr
