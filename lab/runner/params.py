"""A run's parameters: ``k=v`` items parsed against the script's defaults, then checked.

Everything here happens before the lock is taken or a kernel starts, so bad input
costs a fraction of a second and one clear message.
"""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

from lab import LabError, suggest
from lab.runner.scripts import Script

# A parameter assignment starts where whitespace is followed by ``name=``.
_ASSIGNMENT_START = re.compile(r"\s+(?=[A-Za-z_]\w*=)")


def split_params(text: str) -> list[str]:
    """Split ``make``'s ``PARAMS`` string into ``k=v`` items, quotes kept as typed.

    ``"overrides={'n_digits': 3} title=a b"`` -> ``["overrides={'n_digits': 3}",
    "title=a b"]``: a value runs until the next ``name=``, so dicts, lists and
    strings keep their spaces and quotes (a shell would strip the quotes).
    """
    text = text.strip()
    return _ASSIGNMENT_START.split(text) if text else []


def parse_params(items: list[str], script: Script) -> dict[str, Any]:
    """``k=v`` items (from ``split_params`` or the shell) as values of their defaults' types.

    A string value may be bare (``title=a b``) or quoted (``title='a b'``).
    """
    overrides: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep and name.isidentifier():  # `PARAMS="n_eval"`: a name without its value
            raise _no_value(name, script)
        if not sep or not name.isidentifier():
            raise LabError(
                f"{item!r} is not a parameter: write name=value (quote values with spaces: PARAMS=\"title='a b'\")"
            )
        if name not in script.params:
            valid = "; ".join(map(str, script.params.values())) or "none"
            hint = suggest.did_you_mean(name, script.params)
            raise LabError(f"{script.name} has no parameter {name!r}{hint}; its parameters: {valid}")
        if name in overrides:
            raise LabError(f"parameter {name} is given twice")
        param = script.params[name]
        try:
            overrides[name] = parse_value(text, param.default)
        except ValueError:
            # `PARAMS="seed=1 n_eval"` reaches here as seed='1 n_eval': a value runs to the
            # next `name=`, so a name typed without `=` joins the value before it.
            stray = text.split()[1:]
            if stray and stray[0].isidentifier():
                raise _no_value(stray[0], script) from None
            raise LabError(
                f"{name}={text!r} is not a {_kind(param.default)} like the default "
                f"{param.default!r} ({script.path}:{param.line})"
            ) from None
    return overrides


def _no_value(name: str, script: Script) -> LabError:
    """The message for a parameter named without ``=value``."""
    hint = "" if name in script.params else f", and {script.name} has no parameter {name!r}"
    hint += suggest.did_you_mean(name, script.params) if name not in script.params else ""
    return LabError(f"parameter {name!r} has no value: write {name}=VALUE (no spaces around '='){hint}")


def parse_value(text: str, default: Any) -> Any:
    """``text`` as a value of ``default``'s type; ValueError if it is not one.

    Values are Python literals (``1e-3``, ``[1, 2]``, ``'a b'``); for string
    parameters the bare text is the value, and bools also take true/false.
    """
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = text
    if isinstance(default, str):
        return value if isinstance(value, str) else text
    return _convert(value, default)


def _convert(value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, bool):
            return value
    elif isinstance(default, (int, float)):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if number and (isinstance(default, float) or isinstance(value, int)):
            return type(default)(value)
    elif isinstance(default, list):
        if isinstance(value, (list, tuple)):
            return [_convert(v, default[0]) for v in value] if default else list(value)
    elif default is None or isinstance(value, type(default)):
        return value
    raise ValueError(f"{value!r} is not a {_kind(default)}")


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "bool (true/false)"
    names = {int: "whole number", float: "number", list: "list"}
    return names.get(type(default), type(default).__name__)


def check_params(script: Script, params: dict[str, Any]) -> None:
    """Call each of the header's ``checks`` (functions of ``lab.checks``) on the run's values.

    A check raises LabError saying what is wrong; the message gains the script and
    the call with its values, so the user sees which parameter to change.
    """
    if not script.checks:
        return
    from lab import checks  # torch-free, but only scripts that name checks need it

    available = {name: f for name, f in vars(checks).items() if inspect.isfunction(f) and not name.startswith("_")}
    for check in script.checks:
        function = available.get(check.function)
        if function is None:
            raise LabError(
                f"{script.path}:{check.line}: no check {check.function!r} in lab.checks; "
                f"there are: {', '.join(sorted(available)) or 'none'}"
            )
        values = [params[arg] for arg in check.args]
        try:
            function(*values)
        except LabError as err:
            call = ", ".join(f"{arg}={value!r}" for arg, value in zip(check.args, values))
            raise LabError(f"{script.path}: {check.function}({call}): {err}") from None
