"""What a new user types first: the README's and the Makefile's examples work."""

import re
import subprocess
from pathlib import Path

import pytest

from lab import cli, results

ROOT = Path(__file__).resolve().parents[1]


def test_readme_citations_name_recorded_metrics():
    cited = re.findall(r"\{\{ metric ([\w-]+)\.([\w.-]+) \}\}", (ROOT / "README.md").read_text())
    assert cited, "the README shows how to cite a metric"
    for name, metric in cited:
        run = results.load_run(name, ROOT)
        assert run is not None and metric in run["metrics"], f"README cites {name}.{metric}"


def test_new_note_without_kind_makes_a_journal_entry():
    dry = subprocess.run(
        ["make", "-n", "new-note", "TITLE=First steps"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert re.search(r"-m lab new-note journal \"First steps\"", dry.stdout), dry.stdout


@pytest.mark.parametrize(
    "items, message",
    [
        (["steps"], "setting 'steps' is not of the form name=value"),
        (["steps=abc"], "setting steps='abc' must be a whole number"),
        (["stepz=10"], "unknown setting(s) stepz"),
    ],
)
def test_train_settings_are_checked_before_training(items, message, capsys):
    assert cli.main(["train", "tiny", *items]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
