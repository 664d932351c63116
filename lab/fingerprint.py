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

A ``with phases.timed(...)`` around statements is left out too, its statements kept
in its place: timing code (``lab.phases``) changes no number, so wrapping a function's
training or scoring in a phase stales no result and retrains no model. So is a
statement ``phases.progress(...)`` (a task's progress, for the terminal), as long as
its arguments call nothing: a call there could change a number unseen.

The kernel records which units a run executed (``lab.executed``), the model cache
keys weights by the units that make them (``lab.models.WEIGHT_CODE``), and the
runner compares both with the code as it is now (``lab.runner.staleness``). Reading
files is all this needs: it imports neither torch nor the modules it fingerprints.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
PREFIX = "lab/"  # a unit's file is named from the repository root: lab/train.py
MODULE = "<module>"

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
    return ref in NUMBERLESS or ref.split(":")[0] in NUMBERLESS_FILES


_DEF = (ast.FunctionDef, ast.AsyncFunctionDef)


def units(source: str) -> dict[str, str]:
    """Every unit of a module's ``source``, by qualified name, as normalized source.

    Qualified names are Python's ``__qualname__`` for functions, methods and classes
    (``TrainConfig``, ``TrainedModel.at_step``), and ``<module>`` for the rest.
    """
    tree = _with_bodies(_WithoutPhases().visit(_without_docstrings(ast.parse(source))))
    found = {MODULE: _unparse([node for node in tree.body if not _is_own_unit(node) and not _is_all(node)])}
    found.update(_units_in(tree.body, ""))
    return found


def outermost_defs(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, node) of each function that is a unit: module-level functions
    and the methods of classes, however deeply the classes nest. Functions defined
    inside functions belong to the unit that defines them."""
    yield from _defs_in(tree.body, "")


def fingerprints(path: Path) -> dict[str, str]:
    """Each unit of the file at ``path``: its short hash (12 hex digits)."""
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _CACHE:
        _CACHE[key] = {name: digest(text) for name, text in units(path.read_text(encoding="utf-8")).items()}
    return _CACHE[key]


_CACHE: dict[tuple[Path, int, int], dict[str, str]] = {}


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
    for name in refs:
        file, _, qualname = name.partition(":")
        path = _path(file, lab_dir)
        found = fingerprints(path) if path.is_file() else {}
        if qualname:
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


def changes(recorded: dict[str, str], lab_dir: Path = LAB_DIR) -> list[str]:
    """What changed in the units ``recorded`` ({ref: fingerprint}) since:
    ``lab/train.py:train changed``, ``lab/task.py:sample removed``, in ``recorded``'s order
    (``NUMBERLESS`` units aside)."""
    counted = {name: value for name, value in recorded.items() if not numberless(name)}
    now = current(counted, lab_dir)
    return [
        f"{name} {'removed' if now[name] is None else 'changed'}"
        for name, value in counted.items()
        if now[name] != value
    ]


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


def _is_own_unit(node: ast.stmt) -> bool:
    """Functions and classes are units of their own; imports only name what code uses."""
    return isinstance(node, (*_DEF, ast.ClassDef, ast.Import, ast.ImportFrom))


def _is_all(node: ast.stmt) -> bool:
    """``__all__`` lists names for ``import *``: adding a function to it changes no number."""
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, *_DEF)) and body and is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]
    return tree


class _WithoutPhases(ast.NodeTransformer):
    """Each ``with phases.timed(...)`` (or ``lab.phases.timed``) replaced by its body; in
    a ``with`` of several context managers only the phase goes. Each statement
    ``phases.progress(...)`` whose arguments call nothing goes too."""

    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        return None if _is_progress(node.value) else node

    def visit_With(self, node: ast.With) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        kept = [item for item in node.items if not _is_phase(item)]
        if len(kept) == len(node.items):
            return node
        if kept:
            node.items = kept
            return node
        return node.body  # spliced into the statements around it


def _is_phase(item: ast.withitem) -> bool:
    call = item.context_expr
    if item.optional_vars is not None or not isinstance(call, ast.Call):
        return False
    return ast.unparse(call.func) in ("phases.timed", "lab.phases.timed")


# What a progress statement's arguments may hold: names, constants, attributes and the
# operators between them, nothing that calls or assigns (``step``, ``cfg.steps``,
# ``log is not None``).
_PLAIN = (ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.Compare, ast.BoolOp, ast.BinOp, ast.UnaryOp)


def _is_progress(value: ast.expr) -> bool:
    if not isinstance(value, ast.Call) or ast.unparse(value.func) not in ("phases.progress", "lab.phases.progress"):
        return False
    arguments = [*value.args, *(k.value for k in value.keywords)]
    inner = [node for arg in arguments for node in ast.walk(arg) if isinstance(node, ast.expr)]
    return all(isinstance(node, _PLAIN) for node in inner)


def _with_bodies(tree: ast.Module) -> ast.Module:
    """Every block with at least ``pass`` in it: a block that held only a progress
    statement is not left empty (a function, a loop, an ``if``)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module) and isinstance(getattr(node, "body", None), list) and not node.body:
            node.body = [ast.Pass()]
    return tree


def is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _unparse(nodes: list[ast.stmt]) -> str:
    return ast.unparse(ast.Module(body=nodes, type_ignores=[]))
