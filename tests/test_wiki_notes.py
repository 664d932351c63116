"""Front matter: kinds, validation (each error names file, line and field), scaffolding."""

import datetime as dt

import pytest

from lab import LabError
from lab.wiki import notes, scaffold
from lab.wiki.notes import NoteError, parse_note


def note(src: str, front: str, body: str = "Text.\n") -> notes.Note:
    return parse_note(src, f"---\n{front}---\n{body}", f"site/{src}")


def test_parses_each_kind_and_normalizes():
    idea = note("ideas/x.md", "title: X\nstatus: open\nwaits_on: y\n")
    assert (idea.kind, idea.meta["priority"], idea.meta["waits_on"]) == ("idea", "normal", ["y"])
    journal = note("journal/d.md", "title: D\ndate: 2026-11-26\n")
    assert journal.meta["date"] == "2026-11-26" and journal.body_line == 5
    assert note("about.md", "tags: [a]\n").kind == "page"


@pytest.mark.parametrize(
    "src, front, field, line",
    [
        ("ideas/x.md", "title: X\nstatus: maybe\n", "status", 3),
        ("ideas/x.md", "title: X\nstatus: open\npriority: urgent\n", "priority", 4),
        ("insights/x.md", "title: X\nstatus: proven\n", "status", 3),
        ("journal/x.md", "title: X\ndate: 26/11/2026\n", "date", 3),
        ("journal/x.md", "title: X\ndate: 2026-02-30\n", "date", 3),
        ("projects/x.md", "title: X\ntags: {a: 1}\n", "tags", 3),
    ],
)
def test_bad_field_names_file_line_and_field(src, front, field, line):
    with pytest.raises(NoteError, match=rf"^site/{src}:{line}: field '{field}'"):
        note(src, front)


@pytest.mark.parametrize(
    "src, front, field",
    [
        ("ideas/x.md", "status: open\n", "title"),
        ("insights/x.md", "title: X\n", "status"),
        ("journal/x.md", "title: X\n", "date"),
    ],
)
def test_missing_required_field(src, front, field):
    with pytest.raises(NoteError, match=rf"^site/{src}:1: field '{field}' is missing"):
        note(src, front)


@pytest.mark.parametrize(
    "front, line",
    [
        # PyYAML gives up on the line after each of these slips; the slip's own line is named
        ("title: X\nstatus: [open\npriority: high\n", 3),  # a list never closed
        ("title: X\nstatus open\npriority: high\n", 3),  # a key without its colon
        ('title: "X\nstatus: open\n', 2),  # a quote never closed
        ("title: X\nstatus: open: now\n", 3),  # where PyYAML is right already
    ],
)
def test_malformed_yaml_names_file_and_the_line_of_the_slip(front, line):
    with pytest.raises(NoteError, match=rf"^site/ideas/x.md:{line}: malformed YAML"):
        note("ideas/x.md", front)


def test_experiment_pages_keep_runner_fields():
    page = note("experiments/e/index.md", "title: E\nrun_id: '1'\nnew_runner_field: 3\n")
    assert page.kind == "experiment" and page.meta["new_runner_field"] == 3


@pytest.mark.parametrize("kind", scaffold.SCAFFOLDED)
def test_scaffold_is_a_valid_note(kind):
    src, text = scaffold.scaffold(kind, 'Carry: "heads" & MLPs', today=dt.date(2026, 11, 26))
    parsed = parse_note(src, text)
    assert parsed.kind == kind and parsed.title == 'Carry: "heads" & MLPs'
    assert src.endswith("carry-heads-mlps.md")


def test_new_note_command_refuses_to_overwrite(tmp_path, capsys):
    assert scaffold.new_note_command("idea", "Probe carries", root=tmp_path) == 0
    assert (tmp_path / "site/ideas/probe-carries.md").exists()
    with pytest.raises(LabError, match="already exists") as err:
        scaffold.new_note_command("idea", "Probe carries!", root=tmp_path)
    assert err.value.code == 2
    with pytest.raises(LabError, match="unknown kind of note 'note'"):
        scaffold.new_note_command("note", "x", root=tmp_path)


def test_obsidian_properties_are_accepted_on_every_note():
    front = (
        "title: X\nstatus: open\naliases: [Probe, Carry probe]\ntags:\ncssclasses: wide\npublish: true\n"
        "permalink: x\ndescription: A note.\ndraft: false\n"
    )
    idea = note("ideas/x.md", front)
    assert idea.aliases == ["Probe", "Carry probe"] and idea.meta["tags"] == [] and idea.meta["cssclasses"] == ["wide"]
    assert note("projects/p.md", "title: P\naliases: Lab\n").aliases == ["Lab"]  # one name is a list of one


def test_plain_pages_accept_any_property_and_lab_notes_ignore_unknown_ones_with_a_note():
    page = note("vault/Daily/day.md", "mood: fine\ntags:\nrating: 4\n")
    assert page.kind == "page" and page.meta["mood"] == "fine" and page.title == "day"
    idea = note("ideas/x.md", "title: X\nstatus: open\npriorty: high\n")
    assert "priorty" not in idea.meta and idea.meta["priority"] == "normal"
    assert idea.ignored == [
        "site/ideas/x.md:4: property 'priorty' is not read on an idea note (did you mean 'priority'?): ignored"
    ]


@pytest.mark.parametrize("kind", ["ideas", "insights", "projects", "journal"])
def test_lab_notes_accept_obsidians_common_properties(kind):
    front = (
        "title: X\nstatus: open\ndate: 2026-11-26\nrelated: ['[[a]]', '[[b]]']\nup: '[[p]]'\n"
        "aliases: [Y]\ncssclasses: [wide]\npublish: true\n"
    )
    if kind == "insights":
        front = front.replace("status: open", "status: hypothesis")
    elif kind != "ideas":
        front = front.replace("status: open\n", "")
    page = note(f"{kind}/x.md", front)
    assert page.ignored == []
    assert page.references() == [("related", "[[a]]"), ("related", "[[b]]"), ("up", "[[p]]")]


def test_every_problem_of_a_note_is_reported_at_once():
    with pytest.raises(NoteError) as err:
        note("ideas/x.md", "status: maybe\npriority: urgent\nstaus: open\n")
    assert str(err.value).splitlines() == [
        "site/ideas/x.md:2: field 'status' is 'maybe'; use one of: open, next, doing, done, dropped",
        "site/ideas/x.md:3: field 'priority' is 'urgent'; use one of: high, normal, low",
        "site/ideas/x.md:1: field 'title' is missing (required in an idea note)",
    ]


def test_front_matter_of_only_comments_is_empty():
    page = parse_note("vault/x.md", "---\n# all properties removed\n---\nText.\n")
    assert page.meta == {} and page.body == "Text.\n"


def test_experiment_name_comes_from_the_page_path():
    assert notes.experiment_name("experiments/loss-shelf/index.md") == "loss-shelf"
