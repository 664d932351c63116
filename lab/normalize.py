"""Source as the interpreter sees it, for ``lab.fingerprint``: parsed, without
docstrings, and without the statements that time or report a task (``lab.phases``).

    tree = normalize.normalized(path.read_text())   # ast.Module
    ast.unparse(tree)                                # comments and formatting gone too

A ``with phases.timed(...)`` around statements is replaced by its body: timing code
changes no number, so wrapping a function's training or scoring in a phase stales no
result and retrains no model. A statement ``phases.progress(...)`` or
``phases.model_used(...)`` goes too, as long as its arguments call nothing: a call
there could change a number unseen.

Part of the recorder (``lab.executed.RECORDER``): never instrumented, never recorded.
"""

from __future__ import annotations

import ast

_DEF = (ast.FunctionDef, ast.AsyncFunctionDef)


def normalized(source: str) -> ast.Module:
    """``source`` parsed without docstrings and phase wrappers (``_WithoutPhases``)."""
    return _with_bodies(_WithoutPhases().visit(_without_docstrings(ast.parse(source))))


def is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _without_docstrings(tree: ast.Module) -> ast.Module:
    """Each module's, class's and function's docstring taken out (an empty body gets ``pass``)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, *_DEF)) and body and is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]
    return tree


class _WithoutPhases(ast.NodeTransformer):
    """Each ``with phases.timed(...)`` (or ``lab.phases.timed``) replaced by its body; in
    a ``with`` of several context managers only the phase goes. Each statement
    ``phases.progress(...)`` or ``phases.model_used(...)`` whose arguments call nothing
    goes too."""

    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        return None if _is_note(node.value) else node

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


# What a progress or model_used statement's arguments may hold: names, constants, attributes and the
# operators between them, nothing that calls or assigns (``step``, ``cfg.steps``,
# ``log is not None``).
_PLAIN = (ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.Compare, ast.BoolOp, ast.BinOp, ast.UnaryOp)


# The statements that report to the runner and change nothing the run computes.
_NOTES = ("phases.progress", "lab.phases.progress", "phases.model_used", "lab.phases.model_used")


def _is_note(value: ast.expr) -> bool:
    if not isinstance(value, ast.Call) or ast.unparse(value.func) not in _NOTES:
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
