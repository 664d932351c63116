"""Notes: Markdown files with YAML front matter, one folder per kind of note.

    site/projects/   a line of research; other notes name it in ``project:``
    site/insights/   a claim: ``status`` hypothesis | supported | refuted, ``evidence``
    site/ideas/      ``status`` open | next | doing | done | dropped, ``priority``
                     high | normal | low, ``waits_on``, ``realized_by`` (an experiment)
    site/journal/    dated entries: ``date: YYYY-MM-DD``
    site/experiments/NAME/index.md   written by the runner, read like any note

Every other page (an Obsidian vault's notes, say) is a plain page.

Every note may have a ``title``, ``tags``, ``project``, ``links``, ``date``, and
Obsidian's standard properties (``aliases``, ``cssclasses``, ``publish``, …). In
the kind folders any other field is a typo and fails the build; a plain page may
hold any property. Every bad value of every note is reported, with file and line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab import LabError, results

INSIGHT_STATUSES = ("hypothesis", "supported", "refuted")
IDEA_STATUSES = ("open", "next", "doing", "done", "dropped")
PRIORITIES = ("high", "normal", "low")

# Folder under the docs dir -> kind of note. Pages elsewhere are plain pages.
FOLDERS = {
    "projects": "project",
    "insights": "insight",
    "ideas": "idea",
    "journal": "journal",
    results.RESULTS_DIR.name: "experiment",
}
SCAFFOLDED = ("project", "insight", "idea", "journal")
DOCS_DIR = results.RESULTS_DIR.parent  # "site"


class NoteError(LabError):
    """A note that cannot be read: bad YAML or a bad front-matter field."""


# --------------------------------------------------------------------------- field checks
# Each check returns the normalized value or raises ValueError saying what is wrong.


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be non-empty text, got {value!r}")
    return value.strip()


def _text_list(value: Any) -> list[str]:
    """A list of text; a single string is a list of one (``tags: draft``), nothing is none."""
    values = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(values, list):
        raise ValueError(f"must be a list of text, got {value!r}")
    return [_text(v) for v in values]


def _one_of(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"is {value!r}; use one of: {', '.join(allowed)}")
        return value

    return check


def _date(value: Any) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"is {value!r}; use a date YYYY-MM-DD") from None


@dataclass(frozen=True)
class Field:
    check: Callable[[Any], Any]
    required: bool = False


def _any(value: Any) -> Any:
    return value


# Obsidian's standard properties (and Obsidian Publish's): accepted on every note.
OBSIDIAN = {
    "aliases": Field(_text_list),  # more names the note answers to in links
    "cssclasses": Field(_text_list),
    **{
        name: Field(_any)
        for name in (
            "cssclass",
            "publish",
            "permalink",
            "description",
            "image",
            "cover",
            "banner",
            "draft",
            "author",
            "authors",
            "created",
            "updated",
            "modified",
        )
    },
}
COMMON = {
    **OBSIDIAN,
    "title": Field(_text, required=True),
    "tags": Field(_text_list),
    "project": Field(_text),
    "links": Field(_text_list),
    "date": Field(_date),
}
SCHEMAS: dict[str, dict[str, Field]] = {
    # A plain page: the fields the wiki reads are checked; any other property is kept.
    "page": {"title": Field(_text), **{name: COMMON[name] for name in ("aliases", "cssclasses", "tags")}},
    "project": COMMON,
    "insight": {
        **COMMON,
        "status": Field(_one_of(*INSIGHT_STATUSES), required=True),
        "evidence": Field(_text_list),
    },
    "idea": {
        **COMMON,
        "status": Field(_one_of(*IDEA_STATUSES), required=True),
        "priority": Field(_one_of(*PRIORITIES)),
        "waits_on": Field(_text_list),
        "realized_by": Field(_text),
    },
    "journal": {**COMMON, "date": Field(_date, required=True)},
    # Written by the runner, which may add fields: those are kept, not rejected.
    "experiment": {**COMMON, "question": Field(_text), "experiment": Field(_text), "run_id": Field(_text)},
    # A sweep's page and its points' pages (experiments/NAME/sweeps/...), written by the runner.
    "sweep": {
        **COMMON,
        "question": Field(_text),
        "experiment": Field(_text),
        "run_id": Field(_text),
        "sweep": Field(_text),
    },
}
OPEN_SCHEMAS = ("experiment", "sweep", "page")

# Front-matter fields whose values name other pages (they count as links).
REFERENCE_FIELDS = ("project", "links", "evidence", "waits_on", "realized_by")


# --------------------------------------------------------------------------- notes


@dataclass
class Note:
    src: str  # path inside the docs dir, "/"-separated: "ideas/probe-carries.md"
    kind: str  # project, insight, idea, journal, experiment or page
    meta: dict[str, Any]
    body: str
    path: str = ""  # the file as shown in messages: "site/ideas/probe-carries.md"
    body_line: int = 1  # line of the file where ``body`` starts
    field_lines: dict[str, int] = field(default_factory=dict)
    # A plain page's front-matter problems (file:line: what), which warn instead of
    # failing the build, and its front matter as written when it is not YAML at all.
    problems: list[str] = field(default_factory=list)
    unread: str = ""

    @property
    def title(self) -> str:
        return self.meta.get("title") or Path(self.src).stem

    @property
    def aliases(self) -> list[str]:
        return self.meta.get("aliases", [])

    def where(self, line: int | None = None) -> str:
        return f"{self.path or self.src}:{line}" if line else (self.path or self.src)

    def references(self) -> list[tuple[str, str]]:
        """(field, value) for every front-matter value that names another page: the
        reference fields of the lab's notes; on a plain page, as in Obsidian, any
        property written as a wikilink (``related: "[[note]]"``)."""
        refs = []
        for name in REFERENCE_FIELDS if self.kind != "page" else self.meta:
            value = self.meta.get(name)
            for v in value if isinstance(value, list) else [value] if value else []:
                if (
                    self.kind != "page"
                    or isinstance(v, str)
                    and v.strip().startswith("[[")
                    and v.strip().endswith("]]")
                ):
                    refs.append((name, v))
        return refs


def kind_of(src: str) -> str:
    parts = src.split("/")
    if len(parts) > 3 and parts[0] == results.RESULTS_DIR.name and parts[2] == results.SWEEPS:
        return "sweep"  # experiments/NAME/sweeps/SWEEP/index.md and its points' pages
    return FOLDERS.get(parts[0] if len(parts) > 1 else "", "page")


def experiment_name(src: str) -> str:
    """NAME, for the page the runner writes at experiments/NAME/index.md."""
    return src.split("/")[-2]


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml: parsing is a good part of a build
    """Safe YAML in which dates stay text, so that ``_date`` checks them and names the field."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(text: str) -> tuple[str, str, int]:
    """(YAML, body, line where the body starts); ("", text, 1) without front matter."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return "", text, 1
    return match.group(1) or "", text[match.end() :], match.group(0).count("\n") + 1


def _field_lines(yaml_text: str) -> dict[str, int]:
    """Line (in the file) of each top-level key, so errors can point at it."""
    lines = {}
    for i, line in enumerate(yaml_text.splitlines()):
        key = re.match(r"([A-Za-z_][\w-]*)\s*:", line)
        if key:
            lines.setdefault(key.group(1), i + 2)  # +1 for the opening ---, +1 for 1-based
    return lines


def parse_note(src: str, text: str, path: str = "") -> Note:
    """Parse and validate one note; raises NoteError naming the file, line and field
    of every problem (one per line).

    A plain page (an Obsidian vault's note) never raises: Obsidian shows a note whose
    properties it cannot read, so one template with ``date: {{date}}`` must not stop
    the build. Its problems are kept in ``Note.problems`` (for a warning), a bad field
    is left out, and front matter that is not YAML is kept as text in ``Note.unread``.
    """
    where = path or src
    yaml_text, body, body_line = split_front_matter(text)
    note = Note(src, kind_of(src), {}, body, path, body_line, _field_lines(yaml_text))
    try:
        meta = yaml.load(yaml_text, _YamlLoader) if yaml_text.strip() else {}
        if meta is None:  # only comments
            meta = {}
        if not isinstance(meta, dict):
            raise NoteError(f"{where}:2: front matter must be 'key: value' lines, got {type(meta).__name__}")
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 2}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        error = NoteError(f"{where}{line}: malformed YAML front matter: {problem}")
        if note.kind != "page":
            raise error from None
        note.problems, note.unread = [str(error)], yaml_text
        return note
    except NoteError as error:
        if note.kind != "page":
            raise
        note.problems, note.unread = [str(error)], yaml_text
        return note
    note.meta = _validate(note, meta)
    return note


def _validate(note: Note, meta: dict) -> dict:
    schema = SCHEMAS[note.kind]
    clean = dict(meta) if note.kind in OPEN_SCHEMAS else {}
    errors, checked = [], set()
    for key, value in meta.items():
        line = note.field_lines.get(str(key))
        spec = schema.get(key)
        if spec is None:
            if note.kind not in OPEN_SCHEMAS:
                known = ", ".join(schema)
                errors.append(
                    f"{note.where(line)}: field '{key}' is not a field of a {note.kind} note (known: {known})"
                )
            continue
        try:
            clean[key] = spec.check(value)
            checked.add(key)
        except ValueError as err:
            errors.append(f"{note.where(line)}: field '{key}' {err}")
    for key, spec in schema.items():
        if spec.required and key not in meta:
            errors.append(f"{note.where()}: field '{key}' is missing (required in a {note.kind} note)")
    if errors and note.kind == "page":  # the bad fields are left out; the page builds
        note.problems = errors
        clean = {key: value for key, value in clean.items() if key not in schema or key in checked}
    elif errors:
        raise NoteError("\n".join(errors))
    if note.kind == "idea":
        clean.setdefault("priority", "normal")
    return clean


# --------------------------------------------------------------------------- scaffolding


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:80].rstrip("-")


_TEMPLATES = {
    "project": ({}, "What this project asks, and why it matters.\n"),
    "insight": (
        {"status": "hypothesis", "evidence": []},
        "The claim, in one sentence. Then the evidence: [[experiments/NAME]].\n",
    ),
    "idea": ({"status": "open", "priority": "normal"}, "What to try, and what it would tell us.\n"),
    "journal": ({}, "What happened today.\n"),
}


def scaffold(kind: str, title: str, today: dt.date | None = None) -> tuple[str, str]:
    """(path inside the docs dir, text) of a new note of ``kind`` titled ``title``."""
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
    lines += [f"{k}: {json.dumps(v)}" for k, v in extra.items()]
    lines.append(f"date: {today}")
    return f"{folder}/{name}.md", "---\n" + "\n".join(lines) + "\n---\n\n" + body


def new_note_command(kind: str, title: str, root: Path | str = ".") -> int:
    """``make new-idea TITLE=…`` and friends: write the scaffold, never overwrite."""
    src, text = scaffold(kind, title)
    path = Path(root) / DOCS_DIR / src
    if path.exists():
        raise LabError(f"{path} already exists: edit it, or choose another title")
    parse_note(src, text, str(path))  # the scaffold must itself be a valid note
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"created {path}")
    return 0


def unread_properties(note: Note) -> str:
    """A plain page's front-matter problems as a warning box at the top of the page,
    with the front matter as written when it could not be read at all, as Obsidian
    shows the properties of such a note as text."""
    if not note.problems:
        return ""
    lines = ['!!! warning "Properties that could not be read"', ""]
    lines += [f"    {problem.replace('`', chr(39))}" + "  " for problem in note.problems]
    if note.unread:
        lines += ["", "    ```yaml", *(f"    {line}" for line in note.unread.rstrip("\n").split("\n")), "    ```"]
    return "\n".join(lines)
