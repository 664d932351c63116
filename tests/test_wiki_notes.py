"""Front matter: kinds, validation (each error names file, line and field), scaffolding."""

import datetime as dt

import pytest

from lab import LabError
from lab.wiki import notes
from lab.wiki.notes import NoteError, parse_note


def note(src: str, front: str, body: str = "Text.\n") -> notes.Note:
    return parse_note(src, f"---\n{front}---\n{body}", f"site/{src}")


def test_parses_each_kind_and_normalizes():
    idea = note("ideas/x.md", "title: X\nstatus: open\nwaits_on: y\n")
    assert (idea.kind, idea.meta["priority"], idea.meta["waits_on"]) == ("idea", "normal", ["y"])
    journal = note("journal/d.md", "title: D\ndate: 2026-11-26\n")
    assert journal.meta["date"] == "2026-11-26" and journal.body_line == 5
    assert note("about.md", "tags: [a]\n").kind == "page"


@pytest.mark.parametrize("src, front, field, line", [
    ("ideas/x.md", "title: X\nstatus: maybe\n", "status", 3),
    ("ideas/x.md", "title: X\nstatus: open\npriority: urgent\n", "priority", 4),
    ("insights/x.md", "title: X\nstatus: proven\n", "status", 3),
    ("journal/x.md", "title: X\ndate: 26/11/2026\n", "date", 3),
    ("journal/x.md", "title: X\ndate: 2026-02-30\n", "date", 3),
    ("projects/x.md", "title: X\nstaus: open\n", "staus", 3),
    ("projects/x.md", "title: X\ntags: {a: 1}\n", "tags", 3),
])
def test_bad_field_names_file_line_and_field(src, front, field, line):
    with pytest.raises(NoteError, match=rf"^site/{src}:{line}: field '{field}'"):
        note(src, front)


@pytest.mark.parametrize("src, front, field", [
    ("ideas/x.md", "status: open\n", "title"),
    ("insights/x.md", "title: X\n", "status"),
    ("journal/x.md", "title: X\n", "date"),
])
def test_missing_required_field(src, front, field):
    with pytest.raises(NoteError, match=rf"^site/{src}: field '{field}' is missing"):
        note(src, front)


def test_malformed_yaml_names_file_and_line():
    with pytest.raises(NoteError, match=r"^site/ideas/x.md:4: malformed YAML"):
        note("ideas/x.md", "title: X\nstatus: [open\npriority: high\n")


def test_experiment_pages_keep_runner_fields():
    page = note("experiments/e/index.md", "title: E\nrun_id: '1'\nnew_runner_field: 3\n")
    assert page.kind == "experiment" and page.meta["new_runner_field"] == 3


@pytest.mark.parametrize("kind", notes.SCAFFOLDED)
def test_scaffold_is_a_valid_note(kind):
    src, text = notes.scaffold(kind, 'Carry: "heads" & MLPs', today=dt.date(2026, 11, 26))
    parsed = parse_note(src, text)
    assert parsed.kind == kind and parsed.title == 'Carry: "heads" & MLPs'
    assert src.endswith("carry-heads-mlps.md")


def test_new_note_command_refuses_to_overwrite(tmp_path, capsys):
    assert notes.new_note_command("idea", "Probe carries", root=tmp_path) == 0
    assert (tmp_path / "site/ideas/probe-carries.md").exists()
    with pytest.raises(LabError, match="already exists") as err:
        notes.new_note_command("idea", "Probe carries!", root=tmp_path)
    assert err.value.code == 2
    with pytest.raises(LabError, match="unknown kind of note 'note'"):
        notes.new_note_command("note", "x", root=tmp_path)
