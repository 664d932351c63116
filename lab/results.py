"""The results format, defined once.

An experiment's results live in ``site/experiments/NAME/`` and are committed:

    site/experiments/NAME/
        index.md          the rendered page (write-up, folded code, outputs, figures)
        run.json          the run record (see ``RUN_FIELDS``)
        notebook.ipynb    the executed notebook
        figures/ID.json   one plotly figure per file, ``ID`` chosen by the experiment
        history.jsonl     one line per good run, oldest first (carried from run to run)
        failure.json      only while the latest attempt failed after the last good run
        reproduction.json the verdict of the latest ``make reproduce`` of this run (see
                          ``REPRODUCTION_FIELDS``); a new run drops it with the old numbers
        sweeps/SWEEP/     one sweep: the experiment run over a grid of parameters
            sweep.json    the grid, each point's state and the aggregates (``SWEEP_FIELDS``)
            index.md      the sweep page (points x metrics, aggregates, figures)
            figures/      the aggregate figures (metric against parameter, overlays)
            points/POINT/ one point's results, in the format above (run.json, page, ...)

While an experiment runs, the kernel writes what it records (``lab.record``) into a
scratch *output directory* (``LAB_OUTPUT_DIR``): ``metrics.json`` and ``figures/``,
and after each cell what ran and for how long (``executed.json``, ``phases.json``)
and which trained models it used (``models.json``).
The runner then assembles the result directory and swaps it in atomically. The
records' fields are listed in ``lab.fields`` and offered here (``results.RUN_FIELDS``).

Everything that reads or writes these files goes through this module: the
experiments (via ``lab.record``), the runner and the wiki. It imports neither
torch nor TransformerLens. Writes are atomic: ``lab.atomic`` holds the file
operations, this module the names, fields and JSON style.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lab import atomic

# The record fields (lab.fields), offered here as part of the format: results.RUN_FIELDS
from lab.fields import (  # noqa: F401
    AGGREGATE_FIELDS,
    ARCHIVE_FIELDS,
    FAILURE_FIELDS,
    REPRODUCTION_FIELDS,
    RUN_FIELDS,
    SWEEP_FIELDS,
    SWEEP_POINT_FIELDS,
    TIMING_FIELDS,
)
from lab.shapes import FAILURE_SHAPE, MalformedRecord, check_run, check_shape, check_sweep

EXPERIMENTS_DIR = Path("experiments")
RESULTS_DIR = Path("site") / "experiments"

PAGE = "index.md"
RUN = "run.json"
NOTEBOOK = "notebook.ipynb"
FIGURES = "figures"
HISTORY = "history.jsonl"
FAILURE = "failure.json"
REPRODUCTION = "reproduction.json"
ARCHIVED = "archived.json"  # beside an experiment's or a sweep's results: kept as a record
SWEEPS = "sweeps"
SWEEP = "sweep.json"
POINTS = "points"
METRICS = "metrics.json"  # in the scratch output directory only
ENVIRONMENT = "environment.json"  # likewise: what the kernel's numerics ran under
EXECUTED = "executed.json"  # likewise: the lab code the kernel executed (``lab.executed``)
PHASES = "phases.json"  # likewise: the kernel's seconds per phase (``lab.phases``)
MODELS = "models.json"  # likewise: the trained models the kernel used (``lab.phases.model_used``)
PROGRESS = "progress.json"  # likewise, for the runner's terminal only: the task under way (``lab.phases.progress``)

OUTPUT_DIR_ENV = "LAB_OUTPUT_DIR"

# A notebook output with this mimetype marks where a figure sits in the page: the
# experiment displays it (``lab.record.figure``), the page shows the figure drawn
# from its JSON file instead (``lab.render``), and the runner reads its caption.
FIGURE_MIMETYPE = "application/vnd.lab.figure+json"

SEED_PARAM = "seed"  # the parameter aggregates are taken over

# Sweep ids appear in directory names, URLs and citations (NAME@SWEEP.metric): no dots.
SWEEP_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

# Metric names and figure ids appear in file names, URLs and wiki citations.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def check_id(kind: str, value: str) -> str:
    """Return ``value`` if it is a valid metric name / figure id, else raise ValueError."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise ValueError(f"{kind} {value!r} is not a valid id: use lower-case letters, digits, '_', '-', '.'")
    return value


# --------------------------------------------------------------------------- paths


def result_dir(name: str, root: Path | str = ".") -> Path:
    """``site/experiments/NAME`` under the repository ``root``."""
    return Path(root) / RESULTS_DIR / name


def figure_file(figure_id: str) -> str:
    """Path of a figure inside a result directory, relative to it."""
    return f"{FIGURES}/{check_id('figure id', figure_id)}.json"


def sweep_dir(name: str, sweep: str, root: Path | str = ".") -> Path:
    """``site/experiments/NAME/sweeps/SWEEP`` under the repository ``root``."""
    return result_dir(name, root) / SWEEPS / sweep


def point_dir(name: str, sweep: str, point: str, root: Path | str = ".") -> Path:
    """``site/experiments/NAME/sweeps/SWEEP/points/POINT``: one point's results."""
    return sweep_dir(name, sweep, root) / POINTS / point


def sweep_names(name: str, root: Path | str = ".") -> list[str]:
    """The sweeps of experiment ``name`` that have a ``sweep.json``, sorted."""
    base = result_dir(name, root) / SWEEPS
    return sorted(p.parent.name for p in base.glob(f"*/{SWEEP}")) if base.is_dir() else []


def result_names(root: Path | str = ".") -> list[str]:
    """Names of experiments that have a result directory (good or failed), sorted."""
    base = Path(root) / RESULTS_DIR
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


# --------------------------------------------------------------------------- reading


def read_json(path: Path) -> Any:
    """Parse a JSON file, naming the file in the error if it is malformed."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise MalformedRecord(f"{path}:{err.lineno}: malformed JSON: {err.msg}") from None


def load_run(name: str, root: Path | str = ".") -> dict | None:
    """The last good run record of ``name``, or None if it never ran successfully.

    Fields added to ``RUN_FIELDS`` since an older run.json was written read as null.
    """
    return read_run(result_dir(name, root))


def load_failure(name: str, root: Path | str = ".") -> dict | None:
    """The failure record of the latest attempt, if it failed after the last good run."""
    return read_failure(result_dir(name, root))


def read_run(folder: Path | str) -> dict | None:
    """The run record in a result directory (an experiment's, or a sweep point's), or None."""
    path = Path(folder) / RUN
    if not path.exists():
        return None
    return check_run(read_json(path), path, RUN_FIELDS)


def read_failure(folder: Path | str) -> dict | None:
    """The failure record in a result directory, if its latest attempt failed."""
    path = Path(folder) / FAILURE
    if not path.exists():
        return None
    return check_shape(read_json(path), FAILURE_SHAPE, str(path), "a failure record", FAILURE_FIELDS)


def load_reproduction(name: str, root: Path | str = ".") -> dict | None:
    """The verdict of the latest reproduction of ``name``'s committed run, if any."""
    path = result_dir(name, root) / REPRODUCTION
    return check_shape(read_json(path), {}, str(path), "a reproduction verdict") if path.exists() else None


def load_sweep(name: str, sweep: str, root: Path | str = ".") -> dict | None:
    """The record of sweep ``sweep`` of ``name`` (``SWEEP_FIELDS``), or None if it never ran."""
    path = sweep_dir(name, sweep, root) / SWEEP
    return check_sweep(read_json(path), path) if path.exists() else None


def load_history(name: str, root: Path | str = ".") -> list[dict]:
    """Every good run of ``name``, oldest first (the run.json fields that matter over time)."""
    path = result_dir(name, root) / HISTORY
    if not path.exists():
        return []
    runs = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            runs.append(check_shape(json.loads(line), {}, f"{path}:{lineno}", "a history line"))
        except json.JSONDecodeError as err:
            raise MalformedRecord(f"{path}:{lineno}: malformed history line: {err.msg}") from None
    return runs


def history_entry(run: dict) -> dict:
    """The line ``run`` contributes to history.jsonl: what a metric history needs."""
    keys = ("run_id", "started", "commit", "dirty", "params", "seed", "duration_s", "input_hash")
    entry = {k: run.get(k) for k in keys}
    entry["metrics"] = {k: m["value"] for k, m in run.get("metrics", {}).items()}
    return entry


def history_line(run: dict) -> str:
    """The line of history.jsonl for ``run`` (one JSON object per line)."""
    return json.dumps(history_entry(run), ensure_ascii=False, default=_json_default) + "\n"


# --------------------------------------------------------------------------- writing


def make_record(fields: tuple[str, ...], values: dict) -> dict:
    """``values`` in the order of ``fields`` (``RUN_FIELDS``, ``FAILURE_FIELDS``).

    A missing or unknown key is a bug in the writer, so it raises rather than
    writing a record the wiki cannot read.
    """
    missing, unknown = set(fields) - set(values), set(values) - set(fields)
    if missing or unknown:
        raise KeyError(f"record fields: missing {sorted(missing)}, unknown {sorted(unknown)}")
    return {key: values[key] for key in fields}


def _json_default(value: Any) -> Any:
    """Let numpy scalars and arrays (and paths) through json.dumps without importing numpy."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """The one JSON style of result files: sorted keys off, 1-space indent, newline."""
    return json.dumps(value, indent=1, ensure_ascii=False, default=_json_default) + "\n"


def atomic_write_json(path: Path | str, value: Any) -> None:
    """Write ``value`` in the results' JSON style (``dumps``), atomically."""
    atomic.write_text(path, dumps(value))


# --------------------------------------------------------------------------- scratch output


def output_dir(default_name: str = "scratch") -> Path:
    """Where ``lab.record`` writes while an experiment runs.

    The runner sets ``LAB_OUTPUT_DIR`` (a fresh directory per run); a plain ``python
    experiments/NAME.py`` writes to ``build/scratch/NAME``, emptied on first use in
    the process so that a rerun starts clean, and never touches committed results.
    """
    if os.environ.get(OUTPUT_DIR_ENV):
        path = Path(os.environ[OUTPUT_DIR_ENV])
    else:
        path = Path("build") / "scratch" / default_name
        if path.resolve() not in _cleared_scratch:
            shutil.rmtree(path, ignore_errors=True)
            _cleared_scratch.add(path.resolve())
    path.mkdir(parents=True, exist_ok=True)
    return path


_cleared_scratch: set[Path] = set()  # scratch directories this process has emptied


def read_metrics(out: Path) -> dict[str, dict]:
    """Metrics recorded so far in a scratch output directory."""
    path = Path(out) / METRICS
    return read_json(path) if path.exists() else {}


def add_metric(out: Path, name: str, value: float, unit: str | None, description: str | None) -> None:
    """Record one metric in the scratch output directory (re-recording replaces it)."""
    check_id("metric name", name)
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"metric {name!r} is {value}: metrics must be finite numbers")
    metrics = read_metrics(out)
    metrics[name] = {"value": value, "unit": unit, "description": description}
    atomic_write_json(Path(out) / METRICS, metrics)


def write_environment(out: Path, environment: dict) -> None:
    """Record, in the scratch output directory, the settings that can change numbers
    (threads, torch build, CPU capability, device: see ``lab.numerics``)."""
    atomic_write_json(Path(out) / ENVIRONMENT, environment)


def read_environment(out: Path) -> dict | None:
    """What ``write_environment`` recorded in a scratch output directory, if anything."""
    path = Path(out) / ENVIRONMENT
    return read_json(path) if path.exists() else None


def write_executed(out: Path, code: dict[str, str]) -> None:
    """Record, in the scratch output directory, the lab code the kernel executed."""
    atomic_write_json(Path(out) / EXECUTED, code)


def read_executed(out: Path) -> dict[str, str] | None:
    """What ``write_executed`` recorded in a scratch output directory, if anything."""
    path = Path(out) / EXECUTED
    return read_json(path) if path.exists() else None


def write_phases(out: Path, seconds: dict[str, float]) -> None:
    """Record, in the scratch output directory, the kernel's seconds per phase so far
    ({"training": s, "evaluation": s}, ``lab.phases.totals``)."""
    atomic_write_json(Path(out) / PHASES, {name: round(value, 3) for name, value in seconds.items()})


def read_phases(out: Path) -> dict[str, float] | None:
    """What ``write_phases`` recorded in a scratch output directory, if anything."""
    path = Path(out) / PHASES
    return read_json(path) if path.exists() else None


def write_models(out: Path, models: dict[str, float]) -> None:
    """Record, in the scratch output directory, the trained models the kernel used so
    far ({cache file: training seconds}, ``lab.phases.models``)."""
    atomic_write_json(Path(out) / MODELS, models)


def read_models(out: Path) -> dict[str, float] | None:
    """What ``write_models`` recorded in a scratch output directory, if anything."""
    path = Path(out) / MODELS
    return read_json(path) if path.exists() else None


def write_progress(out: Path, state: dict) -> None:
    """Record, in the scratch output directory, how far the kernel's task under way has
    got ({"task": k, "what": "training add2", "step": s, "total": n, "seconds": t}); the
    runner polls it for its terminal, and nothing publishes it."""
    atomic_write_json(Path(out) / PROGRESS, state)


def read_progress(out: Path) -> dict | None:
    """What ``write_progress`` recorded last, or None (nothing yet, or unreadable: the
    runner polls while the kernel writes, and a missed poll only delays the bar)."""
    try:
        state = read_json(Path(out) / PROGRESS)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def figure_files(out: Path) -> Iterator[Path]:
    """Figure JSON files in a scratch or result directory, sorted by id."""
    return iter(sorted((Path(out) / FIGURES).glob("*.json")))
