"""What each results record must hold to be read: the shapes ``lab.results`` checks on
every load, so that a wrong-shaped file (``{}`` for a sweep, ``[]`` for a run, a
truncated record) is one line naming the file, never a traceback deep in a reader.

Part of the results format (``lab.results``, which alone imports this module). Only
the fields readers index into are checked; a field a record lacks reads as null where
``results`` says so, and fields unknown here are left alone, so that adding a field
to a record breaks no older file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab import LabError


class MalformedRecord(LabError, ValueError):
    """A results file that is not valid JSON, or not the record its name promises: one
    line naming the file and what is wrong. A LabError (one line, exit code 2, for the
    commands) and a ValueError (for the wiki, which reports bad files as build problems)."""


# Each field: the JSON types it may hold, and whether the record must have it.
Shape = dict[str, tuple[tuple[type, ...], bool]]
_NUMBER, _TEXT, _OBJECT, _LIST, _NULL = (int, float), (str,), (dict,), (list,), (type(None),)

RUN_SHAPE: Shape = {
    "name": (_TEXT, True),
    "run_id": (_TEXT, True),
    "params": (_OBJECT, True),
    "metrics": (_OBJECT, True),
    "figures": (_LIST, False),
    "cells": (_LIST, False),
}
FAILURE_SHAPE: Shape = {
    "cell": (_NUMBER + _NULL, False),
    "line": (_NUMBER + _NULL, False),
    "exception": (_TEXT, True),
    "message": (_TEXT, True),
}
SWEEP_SHAPE: Shape = {
    "name": (_TEXT, True),
    "sweep": (_TEXT, True),
    "grid": (_OBJECT, True),
    "updated": (_TEXT, True),
    "points": (_LIST, True),
    "aggregates": (_LIST, True),
    "figures": (_LIST, True),
}
SWEEP_POINT_SHAPE: Shape = {
    "id": (_TEXT, True),
    "params": (_OBJECT, True),
    "status": (_TEXT, True),
    "run_id": (_TEXT + _NULL, True),
    "metrics": (_OBJECT, True),
}
AGGREGATE_SHAPE: Shape = {
    "group": (_OBJECT, True),
    "metric": (_TEXT, True),
    "n": (_NUMBER, True),
    "mean": (_NUMBER, True),
}
POINT_STATUSES = ("ok", "failed", "missing")


def check_shape(record: Any, shape: Shape, where: str, kind: str, fields: tuple[str, ...] = ()) -> dict:
    """``record`` if it is an object whose fields have the JSON types ``shape`` gives,
    else MalformedRecord naming ``where`` (the file, and the entry within it). Each of
    ``fields`` it lacks reads as null (a field added since an older record was written)."""
    if not isinstance(record, dict):
        raise MalformedRecord(f"{where}: not {kind}: a JSON {_json_type(record)}, not an object")
    missing = [key for key, (_, required) in shape.items() if required and key not in record]
    if missing:
        raise MalformedRecord(f"{where}: not {kind}: {', '.join(missing)} missing")
    for key, (types, _) in shape.items():
        value = record.get(key)
        # JSON's true and false are not numbers, though Python's bool is an int
        if key in record and (not isinstance(value, types) or isinstance(value, bool)):
            raise MalformedRecord(f"{where}: {key} is a JSON {_json_type(value)}, not {_json_names(types)}")
    return {**{key: record.get(key) for key in fields}, **record}


def check_run(run: Any, path: Path, fields: tuple[str, ...] = ()) -> dict:
    """A run record (run.json): its shape, and a number as each metric's value; each of
    ``fields`` it lacks reads as null."""
    run = check_shape(run, RUN_SHAPE, str(path), "a run record", fields)
    for name, metric in run["metrics"].items():
        value = metric.get("value") if isinstance(metric, dict) else None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise MalformedRecord(f'{path}: metric {name!r} is not {{"value": number, ...}}')
    return run


def check_sweep(record: Any, path: Path) -> dict:
    """A sweep record (sweep.json): its shape, its grid's lists, each point and aggregate."""
    check_shape(record, SWEEP_SHAPE, str(path), "a sweep record")
    if not all(isinstance(values, list) for values in record["grid"].values()):
        raise MalformedRecord(f"{path}: grid does not map each parameter to a list of values")
    for n, point in enumerate(record["points"]):
        check_shape(point, SWEEP_POINT_SHAPE, f"{path}: points[{n}]", "a sweep point")
        if point["status"] not in POINT_STATUSES:
            raise MalformedRecord(f"{path}: points[{n}]: status {point['status']!r} is not one of {POINT_STATUSES}")
    for n, aggregate in enumerate(record["aggregates"]):
        check_shape(aggregate, AGGREGATE_SHAPE, f"{path}: aggregates[{n}]", "an aggregate")
    return record


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _json_names(types: tuple[type, ...]) -> str:
    names = {dict: "object", list: "array", str: "string", int: "number", float: "number", type(None): "null"}
    return " or ".join(dict.fromkeys(names[t] for t in types))
