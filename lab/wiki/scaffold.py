"""New notes: ``make new-idea|new-insight|new-note TITLE=…`` writes a note that builds.

A scaffold is a valid note of its kind (checked by ``lab.wiki.notes.parse_note``
before it is written), names its project so that it shows on the project's page,
and holds no live link to a page that does not exist yet, so the strict build passes
the moment it is made.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from lab import LabError, suggest
from lab.wiki.notes import DOCS_DIR, FOLDERS, SCAFFOLDED, parse_note


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:80].rstrip("-")


_TEMPLATES = {
    "project": ({}, "What this project asks, and why it matters.\n"),
    # No live link in a scaffold: a placeholder like [[experiments/NAME]] would fail the
    # strict build the moment the note is made. The syntax is shown as code instead.
    "insight": (
        {"status": "hypothesis", "evidence": []},
        "The claim, in one sentence. Then the evidence: link the experiments that show it\n"
        "(`[[experiments/NAME]]`, `{{ metric NAME.metric }}`) and list them under `evidence:`.\n",
    ),
    "idea": ({"status": "open", "priority": "normal"}, "What to try, and what it would tell us.\n"),
    "journal": ({}, "What happened today.\n"),
}


def scaffold(kind: str, title: str, today: dt.date | None = None, project: str = "") -> tuple[str, str]:
    """(path inside the docs dir, text) of a new note of ``kind`` titled ``title``, in
    ``project`` (a project's name, ``projects/NAME.md``) unless it is empty."""
    if kind not in SCAFFOLDED:
        raise LabError(f"unknown kind of note {kind!r}; use one of: {', '.join(SCAFFOLDED)}")
    slug = slugify(title)
    if not slug:
        raise LabError(f"title {title!r} has no letters or digits to name the file after")
    today = (today or dt.date.today()).isoformat()
    folder = next(f for f, k in FOLDERS.items() if k == kind)
    name = f"{today}-{slug}" if kind == "journal" else slug
    extra, body = _TEMPLATES[kind]
    lines = [f"title: {json.dumps(title, ensure_ascii=False)}"]  # a JSON string is valid YAML
    lines += [f"project: {json.dumps(project)}"] if project and kind != "project" else []
    lines += [f"{k}: {json.dumps(v)}" for k, v in extra.items()]
    lines.append(f"date: {today}")
    return f"{folder}/{name}.md", "---\n" + "\n".join(lines) + "\n---\n\n" + body


def new_note_command(kind: str, title: str, root: Path | str = ".", project: str = "") -> int:
    """``make new-idea TITLE=…`` and friends: write the scaffold, never overwrite.

    The note names its project (``project``, or the only one there is), so that it
    shows on the project's page from the start."""
    project = _project_for(kind, project, Path(root) / DOCS_DIR / "projects")
    src, text = scaffold(kind, title, project=project)
    path = Path(root) / DOCS_DIR / src
    if path.exists():
        raise LabError(f"{path} already exists: edit it, or choose another title")
    parse_note(src, text, str(path))  # the scaffold must itself be a valid note
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"created {path}")
    return 0


def _project_for(kind: str, project: str, folder: Path) -> str:
    """The project a new note names: the one asked for (which must exist), else the only
    one there is; "" for a project itself or when there is none to name."""
    there = sorted(p.stem for p in folder.glob("*.md")) if folder.is_dir() else []
    if kind == "project":
        return ""
    if project:
        if project not in there:
            hint = suggest.did_you_mean(project, there)
            raise LabError(f"no project {project!r} in {folder}{hint}; projects: {', '.join(there) or 'none'}")
        return project
    if len(there) > 1:
        raise LabError(f"which project? give PROJECT=NAME (projects: {', '.join(there)})")
    return there[0] if there else ""
