"""Reading an experiment script without running it: its header, checks and parameters.

An experiment is ``experiments/NAME.py``, a jupytext percent script: a YAML header in
comments (title, project, question, links, checks), markdown cells for the write-up and
one cell tagged ``parameters`` whose plain assignments are its parameters. Everything
here reads text (yaml, ast); nothing runs.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lab import LabError, results, suggest, yamlmark

TEMPLATE = "_template.py"
NEW_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # names of new experiments: also a URL path
# The write-up's conclusion: a markdown heading "## Result" (or "## Results") in the script.
RESULT_HEADING = re.compile(r"^#\s*##\s+Results?\b", re.MULTILINE)
CELL_MARKER = re.compile(r"^# %%", re.MULTILINE)  # what starts each cell in jupytext's percent format


@dataclass
class Param:
    name: str
    default: Any
    comment: str  # the comment after the assignment, if any
    line: int  # in the script

    def __str__(self) -> str:
        return f"{self.name} = {self.default!r}" + (f"  # {self.comment}" if self.comment else "")


@dataclass
class Check:
    """One entry of the header's ``checks:``: a function of ``lab.checks`` called on parameters."""

    function: str
    args: list[str]  # parameter names, in call order
    text: str  # as written in the header
    line: int  # in the script


@dataclass
class Script:
    name: str
    path: Path  # relative to the repository root, for messages
    text: str
    header: dict
    params: dict[str, Param]
    checks: list[Check]

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params.values()}

    @property
    def code(self) -> str:
        """The code cells, as written (blank lines around them left out): what the
        numbers depend on."""
        return "\n".join(chunk.strip() for chunk in _chunks(self.text) if not _is_prose(chunk))

    @property
    def prose(self) -> str:
        """The YAML header and the markdown cells: the write-up around the numbers."""
        return "\n".join(chunk.strip() for chunk in _chunks(self.text) if _is_prose(chunk))

    def has_result_section(self) -> bool:
        """Whether the write-up states its finding under a ``## Result`` heading."""
        return RESULT_HEADING.search(self.text) is not None


def _chunks(text: str) -> list[str]:
    """The text before the first cell (the header), then each cell from its marker on."""
    starts = [0, *(m.start() for m in CELL_MARKER.finditer(text)), len(text)]
    return [text[a:b] for a, b in zip(starts, starts[1:]) if b > a]


def _is_prose(chunk: str) -> bool:
    return chunk.startswith(("# %% [markdown]", "# ---"))


def experiment_names(root: Path) -> list[str]:
    """The experiments there are: ``experiments/*.py`` not starting with '_' or '.'."""
    folder = Path(root) / results.EXPERIMENTS_DIR
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith(("_", ".")))


def find_script(name: str, root: Path) -> Path:
    """``experiments/NAME.py``, or a LabError listing the experiments there are."""
    if not name or "/" in name or "\\" in name or ".." in name or name.startswith(("_", ".")):
        raise LabError(f"{name!r} is not an experiment name: no '/', '..', or leading '_' or '.'")
    names = experiment_names(root)
    if name not in names:
        there = ", ".join(names) if names else "none yet (make new-experiment NAME=...)"
        raise LabError(
            f"no experiment {name!r} in {results.EXPERIMENTS_DIR}/{suggest.did_you_mean(name, names)}; there are: {there}"
        )
    return results.EXPERIMENTS_DIR / f"{name}.py"


def read_script(name: str, root: Path) -> Script:
    """The script of experiment ``name``, read once per version of its file: ``status``
    and every wiki build judge each experiment and sweep by it, and parsing its YAML
    header is most of that work. Callers must not change what they get."""
    path = find_script(name, root)
    file = Path(root) / path
    stat = file.stat()
    key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        text = file.read_text(encoding="utf-8")
        lines = text.splitlines()
        header, checks_node = _read_header(lines, path)
        params = _read_params(lines, path)
        _READ[key] = Script(name, path, text, header, params, _read_checks(checks_node, params, path))
    return _READ[key]


_READ: dict[tuple[str, int, int], Script] = {}


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where installed: the same YAML, faster


def _read_header(lines: list[str], path: Path) -> tuple[dict, yaml.Node | None]:
    """The YAML header between the ``# ---`` lines at the top (jupytext's header), and
    the YAML node of its ``checks`` entry (which knows its line), if any."""
    if not lines or lines[0].rstrip() != "# ---":
        return {}, None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "# ---"), None)
    if end is None:
        raise LabError(f"{path}:1: the header opened by '# ---' is never closed")
    body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines[1:end])
    try:
        node = yaml.compose(body, Loader=_LOADER)
        header = yaml.load(body, Loader=_LOADER) or {}
    except yaml.YAMLError as err:
        found = yamlmark.error_line(err)
        line = found + 2 if found is not None else 1  # the header's YAML starts on line 2
        raise LabError(f"{path}:{line}: the YAML header does not parse: {yamlmark.describe(err)}") from None
    if not isinstance(header, dict):
        raise LabError(f"{path}:2: the header must be YAML keys (title: ..., project: ...)")
    entries = node.value if isinstance(node, yaml.MappingNode) else []
    return header, next((value for key, value in entries if key.value == "checks"), None)


def _read_checks(node: yaml.Node | None, params: dict[str, Param], path: Path) -> list[Check]:
    """The header's ``checks:``, each a call like ``carry_digit(digit, preset, overrides)``.

    Parsed with ast: a bare function name called on bare parameter names, nothing else,
    so a check can neither run code nor hide which parameters it reads.
    """
    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise LabError(
            f'{path}:{node.start_mark.line + 2}: checks must be a list of calls (checks: ["model(preset, overrides)"])'
        )
    checks = []
    for item in node.value:
        line = item.start_mark.line + 2  # the header's YAML starts on line 2
        text = item.value if isinstance(item, yaml.ScalarNode) else ""
        checks.append(_parse_check(text, line, params, path))
    return checks


def _parse_check(text: str, line: int, params: dict[str, Param], path: Path) -> Check:
    usage = "write function(parameter, ...) with parameter names of the script"
    try:
        call = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise LabError(f"{path}:{line}: check {text!r} is not a call: {usage}") from None
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and not call.keywords
        and all(isinstance(arg, ast.Name) for arg in call.args)
    ):
        raise LabError(f"{path}:{line}: check {text!r}: {usage}")
    args = [arg.id for arg in call.args]
    unknown = [arg for arg in args if arg not in params]
    if unknown:
        valid = ", ".join(params) or "none"
        raise LabError(
            f"{path}:{line}: check {text!r} names {', '.join(unknown)}, "
            f"not a parameter of the script (its parameters: {valid})"
        )
    return Check(call.func.id, args, text.strip(), line)


def _is_parameters_marker(line: str) -> bool:
    """Whether a ``# %%`` line tags its cell ``parameters`` (as jupytext reads it)."""
    tags = re.search(r"\btags=(\[[^\]]*\])", line)
    try:
        return tags is not None and "parameters" in ast.literal_eval(tags[1])
    except (ValueError, SyntaxError):
        return False


def _read_params(lines: list[str], path: Path) -> dict[str, Param]:
    """The assignments of the cell tagged ``parameters``, read with ast (nothing runs)."""
    markers = [i for i, line in enumerate(lines) if line.startswith("# %%")]
    tagged = [i for i in markers if _is_parameters_marker(lines[i])]
    if len(tagged) > 1:
        raise LabError(f"{path}:{tagged[1] + 1}: a second cell tagged parameters (one is allowed)")
    if not tagged:
        return {}
    start = tagged[0] + 1  # 0-based index of the cell's first line
    end = next((i for i in markers if i > tagged[0]), len(lines))
    try:
        tree = ast.parse("\n".join(lines[start:end]))
    except SyntaxError as err:
        raise LabError(f"{path}:{start + (err.lineno or 1)}: parameters cell: {err.msg}") from None
    params = {}
    for node in tree.body:
        line = start + node.lineno  # 1-based line in the script
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise LabError(f"{path}:{line}: the parameters cell may hold only `name = value` lines")
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise LabError(
                f"{path}:{line}: parameter {name} must be a literal (number, string, bool, list, ...)"
            ) from None
        after = lines[start + node.end_lineno - 1][node.end_col_offset :].strip()
        params[name] = Param(name, default, after.lstrip("#").strip(), line)
    return params


def new_script(name: str, root: Path) -> Path:
    """Write ``experiments/NAME.py`` from ``experiments/_template.py``; its path."""
    if not NEW_NAME.match(name):
        raise LabError(f"{name!r}: experiment names use lower-case letters, digits, '-' and '_'")
    folder = Path(root) / results.EXPERIMENTS_DIR
    path = folder / f"{name}.py"
    if path.exists():
        raise LabError(f"{results.EXPERIMENTS_DIR / path.name} already exists")
    template = (folder / TEMPLATE).read_text(encoding="utf-8")
    title = name.replace("-", " ").replace("_", " ").capitalize()
    path.write_text(template.replace("EXPERIMENT_NAME", name).replace("EXPERIMENT_TITLE", title), encoding="utf-8")
    return results.EXPERIMENTS_DIR / path.name
