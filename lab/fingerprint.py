"""Fingerprints of the lab's code, from its normalized source: the one owner of what
counts as "the same code".

A result depends on the lab code it ran and on the code that made its model's
weights. Both are named here as *units* of a lab file, each with a short hash of its
source as the interpreter sees it (parsed and printed back, without docstrings,
comments or formatting), so that editing prose in the code changes nothing and a
changed unit can be named (``lab/train.py:train``):

    lab/train.py:train            a function, with the functions, lambdas and
                                  comprehensions nested in it
    lab/models.py:TrainedModel.at_step   a method
    lab/presets.py:TrainConfig    a class statement: bases, decorators and the body
                                  without its methods (fields, defaults, constants)
    lab/train.py:<module>         a module's own statements: constants and other
                                  top-level code, without imports, ``__all__`` and
                                  the functions and classes (units of their own)
    lab/task.py                   a whole file: every unit above in it

A module's own statements are also recorded in parts, so that adding a constant to a
module does not stale every run that imports it. Each literal constant of the module
(``CHUNK = 8192``, ``SCORING_CODE = ("lab/carry.py:...",)``: one name bound once to a
value ``ast.literal_eval`` reads) is a part of its own, the rest of the statements one
more part:

    lab/inference.py:<module>:CHUNK   one literal constant
    lab/inference.py:<module>:*       the module's other own statements

When a ``<module>`` unit changed, a record that holds its parts is judged by them
(``changes``): the rest changed, or a constant whose name the run's code uses (its
recorded units and its script, ``used``) changed, appeared or went. A constant no
code names cannot change a number, unless code reads it by a computed name
(``getattr(module, name)``), which the lab's code does not do. Records made before
parts were recorded, and the model cache key, keep the whole ``<module>`` unit.

A table of entries that runs read one by one (``PRESETS = Table(__name__, "PRESETS",
{...})``, ``lab.executed.Table``) is in parts too, one per entry, so that editing the
``add2-fast`` preset does not stale the runs that used only ``add2``:

    lab/presets.py:<module>:PRESETS[add2]   one entry: its key and value

An entry part is recorded only when the run read that entry (the table notes it), and
counts only then; the rest part keeps the table with its entries taken out.

Sources are compared as ``lab.normalize`` prints them back: without docstrings,
comments, formatting, phase timers and progress statements.

The kernel records which units a run executed (``lab.executed``), the model cache
keys weights by the units that make them (``lab.models.WEIGHT_CODE``), and the
runner compares both with the code as it is now (``lab.runner.staleness``). Reading
files is all this needs: it imports neither torch nor the modules it fingerprints.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from lab import normalize

LAB_DIR = Path(__file__).resolve().parent
PREFIX = "lab/"  # a unit's file is named from the repository root: lab/train.py
MODULE = "<module>"
PART = MODULE + ":"  # <module>:NAME, one literal constant of a module's own statements
REST = PART + "*"  # the module's other own statements

# Units that run in every kernel and change no number: the results format's module
# statements (file names, record fields, shapes). Every run imports them, so counting
# them would stale every result whenever a field is added to run.json. Their functions
# (writing a metric, say) still count. Left out of records and of comparisons alike.
NUMBERLESS = frozenset(f"{PREFIX}{file}:{MODULE}" for file in ("results.py", "fields.py", "shapes.py", "atomic.py"))
# Files all of whose units change no number: how a file reaches the disk (atomically)
# says nothing about what is in it.
NUMBERLESS_FILES = (f"{PREFIX}atomic.py",)


def numberless(ref: str) -> bool:
    """Whether the unit ``ref`` changes no number (``NUMBERLESS``, ``NUMBERLESS_FILES``)."""
    file, _, qualname = ref.partition(":")
    module = f"{file}:{MODULE}" if qualname.startswith(PART) else ref
    return module in NUMBERLESS or file in NUMBERLESS_FILES


_DEF = (ast.FunctionDef, ast.AsyncFunctionDef)


def units(source: str) -> dict[str, str]:
    """Every unit of a module's ``source``, by qualified name, as normalized source.

    Qualified names are Python's ``__qualname__`` for functions, methods and classes
    (``TrainConfig``, ``TrainedModel.at_step``), and ``<module>`` for the rest.
    """
    tree = normalize.normalized(source)
    found = {MODULE: _unparse(_own_statements(tree))}
    found.update(_units_in(tree.body, ""))
    return found


def module_parts(source: str) -> dict[str, str]:
    """The ``<module>`` unit of ``source`` in parts, as normalized source: each literal
    constant bound once (``<module>:NAME``), each entry of a table
    (``<module>:NAME[key]``) and the other statements (``<module>:*``)."""
    own = _own_statements(normalize.normalized(source))
    names = [_constant_name(node) for node in own]
    once = {name for name in names if name and names.count(name) == 1}
    parts = {PART + name: _unparse([node]) for node, name in zip(own, names) if name in once}
    rest = []
    for node, name in zip(own, names):
        if name in once:
            continue
        table = _table(node)
        if table is not None:
            name, entries = table
            for key, value in zip(entries.keys, entries.values):
                parts[PART + entry(name, key.value)] = f"{key.value!r}: {ast.unparse(value)}"
            entries.keys, entries.values = [], []  # the rest keeps the table's name and type, not its entries
        rest.append(node)
    parts[REST] = _unparse(rest)
    return parts


def entry(table: str, key: str) -> str:
    """``PRESETS[add2]``: the part name of one entry of a table (``lab.executed.Table``)."""
    return f"{table}[{key}]"


def is_entry(qualname: str) -> bool:
    """Whether ``qualname`` (``<module>:PRESETS[add2]``) names one entry of a table."""
    return qualname.startswith(PART) and qualname.endswith("]")


def outermost_defs(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, node) of each function that is a unit: module-level functions
    and the methods of classes, however deeply the classes nest. Functions defined
    inside functions belong to the unit that defines them."""
    yield from _defs_in(tree.body, "")


def fingerprints(path: Path) -> dict[str, str]:
    """Each unit of the file at ``path``: its short hash (12 hex digits)."""
    return _read(path)[0]


def parts(path: Path) -> dict[str, str]:
    """Each part of the ``<module>`` unit of the file at ``path`` (``module_parts``): its short hash."""
    return _read(path)[1]


def _read(path: Path) -> tuple[dict[str, str], dict[str, str], dict[str, frozenset[str]]]:
    """(units, parts, the names each unit and the rest use) of a file, once per version of it."""
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _CACHE:
        source = path.read_text(encoding="utf-8")
        texts, pieces = units(source), module_parts(source)
        used = {name: _identifiers(text) for name, text in texts.items() if name != MODULE}
        used[REST] = _identifiers(pieces[REST])
        _CACHE[key] = (
            {name: digest(text) for name, text in texts.items()},
            {name: digest(text) for name, text in pieces.items()},
            used,
        )
    return _CACHE[key]


_CACHE: dict[tuple[Path, int, int], tuple[dict[str, str], dict[str, str], dict[str, frozenset[str]]]] = {}


def _identifiers(text: str) -> frozenset[str]:
    """Every word that could name something in ``text``: more than its names (attributes,
    words in strings), which only makes more constants count as used."""
    return frozenset(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ref(file: str, qualname: str) -> str:
    """``lab/train.py:train`` for ``train`` in ``train.py`` (``file`` relative to the lab package)."""
    return f"{PREFIX}{file}:{qualname}"


def current(refs: Iterable[str], lab_dir: Path = LAB_DIR) -> dict[str, str | None]:
    """The fingerprint of each unit named in ``refs`` as the code is now, or None for a
    unit (or file) that no longer exists. A ref without ``:`` names a whole file and
    expands to each of its units."""
    now: dict[str, str | None] = {}
    files: dict[str, tuple[dict[str, str], dict[str, str]] | None] = {}  # read once per call, not once per ref
    for name in refs:
        file, _, qualname = name.partition(":")
        if file not in files:
            path = _path(file, lab_dir)
            files[file] = _read(path)[:2] if path.is_file() else None
        found, pieces = files[file] or ({}, {})
        if qualname.startswith(PART):
            now[name] = pieces.get(qualname)
        elif qualname:
            now[name] = found.get(qualname)
        elif not found:
            now[name] = None
        else:
            now.update({f"{file}:{unit}": value for unit, value in found.items()})
    return now


def expand(refs: Iterable[str], lab_dir: Path = LAB_DIR) -> list[str]:
    """``refs`` with each class named by its members too (``lab/train.py:AdditionEvaluator``
    and its methods); a whole file stays one ref, which ``current`` expands."""
    found: list[str] = []
    for name in refs:
        file, _, qualname = name.partition(":")
        found.append(name)
        if qualname and (path := _path(file, lab_dir)).is_file():
            found += [f"{file}:{unit}" for unit in fingerprints(path) if unit.startswith(qualname + ".")]
    return found


def changes(recorded: dict[str, str], lab_dir: Path = LAB_DIR, script: str | None = None) -> list[str]:
    """What changed in the units ``recorded`` ({ref: fingerprint}) since:
    ``lab/train.py:train changed``, ``lab/task.py:sample removed``, in ``recorded``'s order
    (``NUMBERLESS`` units aside). A changed ``<module>`` whose parts the record holds is
    judged by them (``_module_changes``): with the run's ``script`` text, only the
    constants its code uses count; without it, every constant does."""
    counted = {name: value for name, value in recorded.items() if not numberless(name)}
    now = current(counted, lab_dir)
    parted = {name.partition(":")[0] for name in counted if name.partition(":")[2].startswith(PART)}
    found = []
    for name, value in counted.items():
        file, _, qualname = name.partition(":")
        if file in parted and (qualname == MODULE or qualname.startswith(PART)):
            if qualname == MODULE and now[name] != value:
                found += _module_changes(file, counted, lab_dir, script)
            continue
        if now[name] != value:
            found.append(f"{name} {'removed' if now[name] is None else 'changed'}")
    return found


def _module_changes(file: str, recorded: dict[str, str], lab_dir: Path, script: str | None) -> list[str]:
    """Why the changed ``<module>`` of ``file`` matters, from the parts ``recorded`` holds:
    ``lab/m.py:<module> changed`` for the rest, ``lab/m.py:RATE changed`` (or added,
    removed) for a constant the run's code uses, ``lab/m.py:PRESETS[add2] changed`` (or
    removed) for an entry of a table the run read."""
    path = _path(file, lab_dir)
    if not path.is_file():
        return [f"{file}:{MODULE} removed"]
    then = {name.partition(":")[2]: value for name, value in recorded.items() if name.startswith(f"{file}:{PART}")}
    now = parts(path)
    found = [f"{file}:{MODULE} changed"] if then.get(REST) != now[REST] else []
    used = None if script is None else _used(recorded, lab_dir) | _identifiers(script)
    for part in sorted(then.keys() | now.keys()):
        name = part.removeprefix(PART)
        if part == REST or then.get(part) == now.get(part):
            continue
        if part not in then if is_entry(part) else used is not None and name not in used:
            continue  # an entry the run never read, a constant its code never names
        found.append(f"{file}:{name} {'added' if part not in then else 'removed' if part not in now else 'changed'}")
    return found


def _used(recorded: dict[str, str], lab_dir: Path) -> frozenset[str]:
    """The words of the code a record holds, as it is now (a unit that changed is a
    reason of its own): its functions, methods and classes, and each file's rest."""
    words: set[str] = set()
    files: dict[str, dict[str, frozenset[str]] | None] = {}  # read once per call, not once per unit
    for name in recorded:
        file, _, qualname = name.partition(":")
        if file not in files:
            path = _path(file, lab_dir)
            files[file] = _read(path)[2] if path.is_file() else None
        used = files[file]
        if used is None:
            continue
        words.update(used.get(REST if qualname == MODULE or qualname.startswith(PART) else qualname, ()))
    return frozenset(words)


def combined(recorded: dict[str, str]) -> str:
    """One hash of many units' fingerprints (for a cache key)."""
    return digest("\n".join(f"{name}={value}" for name, value in sorted(recorded.items())))


def _path(file: str, lab_dir: Path) -> Path:
    if not file.startswith(PREFIX):
        raise ValueError(f"{file!r} is not a lab file (expected {PREFIX}...)")
    return lab_dir / file.removeprefix(PREFIX)


# --------------------------------------------------------------------------- the syntax tree


def _units_in(body: list[ast.stmt], prefix: str) -> dict[str, str]:
    found = {}
    for node in body:
        if isinstance(node, _DEF):
            found[prefix + node.name] = ast.unparse(node)
        elif isinstance(node, ast.ClassDef):
            name = prefix + node.name
            shell = copy.copy(node)
            shell.body = [child for child in node.body if not _is_own_unit(child)] or [ast.Pass()]
            found[name] = ast.unparse(shell)
            found.update(_units_in(node.body, name + "."))
    return found


def _defs_in(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in body:
        if isinstance(node, _DEF):
            yield prefix + node.name, node
        elif isinstance(node, ast.ClassDef):
            yield from _defs_in(node.body, f"{prefix}{node.name}.")


def _own_statements(tree: ast.Module) -> list[ast.stmt]:
    """A module's own statements: not its functions, classes, imports or ``__all__``."""
    return [node for node in tree.body if not _is_own_unit(node) and not _is_all(node)]


def _constant_name(node: ast.stmt) -> str | None:
    """NAME for ``NAME = <literal>`` or ``NAME: T = <literal>``, else None."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    else:
        return None
    if not isinstance(target, ast.Name):
        return None
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return target.id


def _table(node: ast.stmt) -> tuple[str, ast.Dict] | None:
    """(NAME, the dict) for ``Table(__name__, "NAME", {"key": value, ...})`` bound at
    module level, a table whose entries runs read one by one (``lab.executed.Table``),
    else None. NAME is the one the table is given, which is the one it notes entries
    under. A table written any other way stays with the rest, where any edit to it
    counts for every run that imported the module."""
    call = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
    if not isinstance(call, ast.Call) or ast.unparse(call.func).rpartition(".")[2] != "Table" or len(call.args) != 3:
        return None
    name, table = call.args[1], call.args[2]
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str) and isinstance(table, ast.Dict)):
        return None
    if not all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in table.keys):
        return None
    return name.value, table


def _is_own_unit(node: ast.stmt) -> bool:
    """Functions and classes are units of their own; imports only name what code uses."""
    return isinstance(node, (*_DEF, ast.ClassDef, ast.Import, ast.ImportFrom))


def _is_all(node: ast.stmt) -> bool:
    """``__all__`` lists names for ``import *``: adding a function to it changes no number."""
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def _unparse(nodes: list[ast.stmt]) -> str:
    return ast.unparse(ast.Module(body=nodes, type_ignores=[]))
