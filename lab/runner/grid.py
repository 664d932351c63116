"""A sweep's grid: which values each swept parameter takes, and the points it makes.

    GRID="seed=0,1,2 lr=1e-3,3e-3"            on the command line (``parse_grid``)
    sweeps: {seeds: {seed: [0, 1, 2, 3, 4]}}   in the script's YAML header (``named_grid``)

The grid is the Cartesian product of the values. Values split on commas outside
brackets and quotes, so ``overrides={'a': 1, 'b': 2},{'a': 3}`` is two dicts; each is
parsed like a ``make experiment`` parameter, against the default's type, and every
point is checked with the header's ``checks`` before anything starts (``validate``).
Points get readable ids from their values (``point_id``); an ad-hoc sweep is named
after its parameters (``grid_id``), so that adding values to a grid keeps its sweep.
A grid of more than ``MAX_POINTS`` points runs only when confirmed (``check_size``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from typing import Any

from lab import LabError, results, suggest
from lab.runner import params
from lab.runner.scripts import Script

Grid = dict[str, list[Any]]

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")  # a value that can stand in an id as it is
MAX_ID = 60  # longer derived ids are shortened with a hash
# Every point is a full run (seconds to minutes): a grid past this many points is
# more likely a typo (seed=0,...,9999) than a plan, and runs only when confirmed.
MAX_POINTS = 1000


def split_values(text: str) -> list[str]:
    """``"1,[2, 3],'a,b'"`` -> ``["1", "[2, 3]", "'a,b'"]``: commas at bracket depth 0
    and outside quotes separate values."""
    values, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            values.append(text[start:i])
            start = i + 1
    values.append(text[start:])
    return [value.strip() for value in values]


def parse_grid(items: list[str], script: Script) -> Grid:
    """``k=v1,v2`` items as ``{k: [v1, v2]}``, each value parsed against k's default
    (with ``make experiment``'s messages for unknown names and ill-typed values)."""
    grid: Grid = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        values = split_values(text)
        if not sep:
            params.parse_params([item], script)  # raises make experiment's "write name=value"
        if name in grid:
            raise LabError(f"parameter {name} is given twice")
        if "" in values:
            raise LabError(f"{item!r}: an empty value (write {name}=v1,v2,...)")
        # each value parsed as `make experiment` would parse name=value, with its messages
        grid[name] = [params.parse_params([f"{name}={value}"], script)[name] for value in values]
    if not grid:
        raise LabError(
            f"no grid: give parameters with their values (seed=0,1,2) or --sweep NAME "
            f"(declared in {script.path}: {', '.join(declared(script)) or 'none'})"
        )
    return grid


def declared(script: Script) -> list[str]:
    """The sweeps named in the script's header (``sweeps:``)."""
    sweeps = script.header.get("sweeps") or {}
    return list(sweeps) if isinstance(sweeps, dict) else []


def named_grid(script: Script, sweep: str) -> Grid:
    """The grid of the sweep ``sweep`` declared in the script's header, its values
    checked against the defaults' types like the command line's."""
    sweeps = script.header.get("sweeps")
    usage = "write sweeps: {NAME: {parameter: [value, ...]}}"
    if sweeps is not None and not isinstance(sweeps, dict):
        raise LabError(f"{script.path}: the header's sweeps is not a mapping: {usage}")
    if sweep not in (sweeps or {}):
        raise LabError(
            f"{script.path} declares no sweep {sweep!r}{suggest.did_you_mean(sweep, declared(script))}; "
            f"it declares: {', '.join(declared(script)) or 'none'} ({usage})"
        )
    check_sweep_id(sweep)
    entry = sweeps[sweep]
    if not isinstance(entry, dict) or not all(isinstance(v, list) and v for v in entry.values()):
        raise LabError(f"{script.path}: sweep {sweep!r} must map parameters to lists of values: {usage}")
    items = [f"{name}=" + ",".join(map(_as_typed, values)) for name, values in entry.items()]
    try:
        return parse_grid(items, script)
    except LabError as err:
        raise LabError(f"{script.path}: sweep {sweep!r}: {err}") from None


def _as_typed(value: Any) -> str:
    """A value YAML gave, as the command line would take it: a string bare when it
    reads as one value, anything else as its Python literal."""
    return value if isinstance(value, str) and split_values(value) == [value] else repr(value)


def size(grid: Grid) -> int:
    """How many points the grid makes, without making them."""
    return math.prod(len(values) for values in grid.values())


def check_size(grid: Grid, confirmed: bool) -> int:
    """The grid's number of points, or LabError if it passes ``MAX_POINTS`` unconfirmed."""
    n = size(grid)
    if n > MAX_POINTS and not confirmed:
        counts = " x ".join(f"{len(values):,} values of {name}" for name, values in grid.items())
        raise LabError(
            f"the grid makes {n:,} points ({counts}), more than the {MAX_POINTS:,} a sweep runs "
            "unconfirmed: add CONFIRM=1 (--yes) to run them all"
        )
    return n


def points(grid: Grid) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first parameter varying slowest."""
    names = list(grid)
    return [dict(zip(names, combination)) for combination in itertools.product(*grid.values())]


def validate(script: Script, grid: Grid) -> list[dict[str, Any]]:
    """The grid's points, each checked with the header's ``checks`` (``make experiment``'s
    messages, exit code 2) before any of them starts."""
    chosen = points(grid)
    defaults = script.defaults()
    for point in chosen:
        params.check_params(script, {**defaults, **point})
    return chosen


def varying(grid: Grid) -> list[str]:
    """The parameters that take more than one value (all of them if none does), sorted:
    what tells the points apart."""
    names = sorted(name for name, values in grid.items() if len(values) > 1)
    return names or sorted(grid)


def _slug(value: Any) -> str:
    """A value as it reads in an id: itself when plain, else a short hash of it."""
    text = str(value)
    if isinstance(value, (bool, int, float, str)) and _PLAIN.match(text):
        return text
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:8]


def point_id(point: dict[str, Any], names: list[str]) -> str:
    """``lr-0.003_seed-1``: the point's values of ``names`` (``varying``), readable."""
    return "_".join(f"{name}-{_slug(point[name])}" for name in names)


def point_ids(grid: Grid) -> list[str]:
    """Each point's id over the parameters that tell the points apart, in ``points`` order."""
    names = varying(grid)
    return [point_id(point, names) for point in points(grid)]


def grid_id(grid: Grid) -> str:
    """A sweep id for an ad-hoc grid, from its parameter names alone (sorted): ``seed``,
    ``lr-seed``. Not from their values, so that adding a value keeps the sweep and runs
    only the new points; a grid with other values under the same names replaces the
    sweep's grid (each point's history keeps its old runs): name it (``--name``) to keep
    both. A short hash past ``MAX_ID`` characters. No dots: citations read ``NAME@SWEEP.metric``.
    """
    readable = "-".join(sorted(grid)).lower().strip("_-")
    if len(readable) <= MAX_ID and results.SWEEP_ID_PATTERN.match(readable):
        return readable
    digest = hashlib.sha256(json.dumps(sorted(grid)).encode()).hexdigest()[:8]
    shortened = re.sub(r"[^a-z0-9_-]", "", readable)[: MAX_ID - 9].strip("_-")
    return f"{shortened}-{digest}" if shortened else f"grid-{digest}"


def check_sweep_id(sweep: str) -> str:
    """``sweep`` if it is a valid sweep id, else LabError saying what one is."""
    if not results.SWEEP_ID_PATTERN.match(sweep):
        raise LabError(
            f"{sweep!r} is not a sweep id: use lower-case letters, digits, '-' and '_' "
            "(no dots: citations read NAME@SWEEP.metric)"
        )
    return sweep
