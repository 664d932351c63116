"""Every scaffold builds strictly as soon as it is made and names its project: the new
notes of each kind and a new experiment, added to the fixture wiki at once."""

import sys
from pathlib import Path

import pytest
from runner_fixture import REPO
from test_makefile import make
from test_wiki_build import mkdocs
from wiki_fixture import make_wiki

from lab import LabError
from lab.runner import commands
from lab.wiki import notes, scaffold


@pytest.fixture
def wiki(tmp_path):
    make_wiki(tmp_path)  # one project: addition
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "_template.py").write_text((REPO / "experiments" / "_template.py").read_text())
    return tmp_path


def test_every_scaffold_builds_strictly_and_names_its_project(wiki, capsys):
    for kind, title in [
        ("idea", "Do heads attend to the carry column?"),
        ("insight", "Heads compute carries"),
        ("journal", "First look"),
        ("project", "Multiplication"),
    ]:
        assert scaffold.new_note_command(kind, title, root=wiki) == 0
    assert commands.new_experiment_command("carry-heads", wiki) == 0
    created = [line.split()[-1] for line in capsys.readouterr().out.splitlines() if line.startswith("created ")]
    assert len(created) == 4

    texts = {path.split("/")[-2]: (wiki / path).read_text() for path in created}
    for kind in ("ideas", "insights", "journal"):
        assert notes.parse_note(f"{kind}/x.md", texts[kind]).meta["project"] == "addition"
    assert "project" not in notes.parse_note("projects/x.md", texts["projects"]).meta

    result = mkdocs(wiki, "--strict")
    assert result.returncode == 0, result.stderr
    project = (wiki / "build/site/projects/addition/index.html").read_text()
    assert "Do heads attend to the carry column?" in project and "Heads compute carries" in project


def test_the_project_is_asked_for_when_there_are_several(wiki):
    (wiki / "site/projects/multiplication.md").write_text("---\ntitle: Multiplication\n---\nx\n")
    with pytest.raises(LabError, match=r"which project\? give PROJECT=NAME \(projects: addition, multiplication\)"):
        scaffold.new_note_command("idea", "x", root=wiki)
    with pytest.raises(LabError, match=r"no project 'multiplicaton' .*\(did you mean 'multiplication'\?\)"):
        scaffold.new_note_command("idea", "x", root=wiki, project="multiplicaton")
    assert scaffold.new_note_command("idea", "x", root=wiki, project="multiplication") == 0
    assert 'project: "multiplication"' in (wiki / "site/ideas/x.md").read_text()


def test_make_passes_the_project(wiki):
    """`make new-idea TITLE=… PROJECT=…` reaches the scaffold (the Makefile's own recipe)."""
    (wiki / "Makefile").write_text((REPO / "Makefile").read_text())
    (wiki / ".venv").symlink_to(Path(sys.prefix))
    (wiki / "site/projects/multiplication.md").write_text("---\ntitle: Multiplication\n---\nx\n")
    done = make(wiki, "new-idea", "TITLE=Carry heads", "PROJECT=multiplication")
    assert done.returncode == 0, done.stderr
    assert 'project: "multiplication"' in (wiki / "site/ideas/carry-heads.md").read_text()
