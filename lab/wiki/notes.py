"""Notes: Markdown files with YAML front matter, one folder per kind of note.

    site/projects/   a line of research; other notes name it in ``project:``
    site/insights/   a claim: ``status`` hypothesis | supported | refuted, ``evidence``
    site/ideas/      ``status`` open | next | doing | done | dropped, ``priority``
                     high | normal | low, ``waits_on``, ``realized_by`` (an experiment)
    site/journal/    dated entries: ``date: YYYY-MM-DD``
    site/experiments/NAME/index.md   written by the runner, read like any note

Every other page (an Obsidian vault's notes, say) is a plain page.

Every note may have a ``title``, ``tags``, ``project``, ``links``, ``date``, and
Obsidian's standard and common properties (``aliases``, ``cssclasses``, ``publish``,
``related``, ``up``, …; a wikilink in any of them is a link). In the kind folders
any other property is left out with a note naming it (and the field it may be a typo
of), never an error: a vault's plugins and templates add their own. A plain page
keeps every property. Every bad value of every note is reported, with file and line.
New notes are scaffolded by ``lab.wiki.scaffold``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab import LabError, results, suggest, yamlmark

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
            "related",  # a wikilink (or list of them) here counts as a link, as in Obsidian
            "up",
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
    ignored: list[str] = field(default_factory=list)  # properties the lab does not read, left out (file:line: what)

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
        reference fields of the lab's notes (any value), and, as in Obsidian, any
        property written as a wikilink (``related: "[[note]]"``, ``up: "[[project]]"``)."""
        refs = []
        for name, value in self.meta.items():
            lab_field = self.kind != "page" and name in REFERENCE_FIELDS
            for v in value if isinstance(value, list) else [value] if value else []:
                if lab_field or isinstance(v, str) and v.strip().startswith("[[") and v.strip().endswith("]]"):
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
        found = yamlmark.error_line(err)
        line = found + 2 if found is not None else 1  # +1 for the opening ---, +1 for 1-based
        error = NoteError(f"{where}:{line}: malformed YAML front matter: {yamlmark.describe(err)}")
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
            # A property the lab does not read (a plugin's, a template's) is left out
            # with a note, never an error: an Obsidian vault is full of them.
            if note.kind not in OPEN_SCHEMAS:
                hint = suggest.did_you_mean(str(key), schema)
                note.ignored.append(
                    f"{note.where(line)}: property '{key}' is not read on {_article(note.kind)} note{hint}: ignored"
                )
            continue
        try:
            clean[key] = spec.check(value)
            checked.add(key)
        except ValueError as err:
            errors.append(f"{note.where(line)}: field '{key}' {err}")
    for key, spec in schema.items():
        if spec.required and key not in meta:  # named at the front matter's opening line
            errors.append(f"{note.where(1)}: field '{key}' is missing (required in {_article(note.kind)} note)")
    if errors and note.kind == "page":  # the bad fields are left out; the page builds
        note.problems = errors
        clean = {key: value for key, value in clean.items() if key not in schema or key in checked}
    elif errors:
        raise NoteError("\n".join(errors))
    if note.kind == "idea":
        clean.setdefault("priority", "normal")
    return clean


def _article(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


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
