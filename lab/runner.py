"""Run experiments headless and keep their results: ``make experiment NAME=... PARAMS=...``.

An experiment is ``experiments/NAME.py``, a jupytext percent script: a YAML header
in comments (title, project, question, links), markdown cells for the write-up and
one cell tagged ``parameters`` whose plain assignments are its parameters. A run

1. checks NAME and the parameter overrides against that cell (before any kernel),
2. takes the experiment's lock (``build/locks/NAME.lock``),
3. executes the script with papermill in a fresh kernel of this interpreter, with
   the repository root as working directory, printing progress as it goes,
4. assembles page, figures, notebook, ``run.json`` and history in a staging
   directory and swaps it in for ``site/experiments/NAME`` in one step.

A failed run keeps its notebook in ``build/failed/`` and adds only ``failure.json``
to the last good results. An interrupted or killed run changes nothing there: the
kernel runs in its own session and exits when its parent goes away (ipykernel's
parent poller), and the lock is an flock, which the OS drops with its holder.

Staleness: a run's ``input_hash`` covers the script, the parameters and the lab
modules the script imports; ``status`` and ``run-stale`` compare it with the
inputs as they are now. Nothing here imports torch, papermill or jupytext at
module level, so ``list`` and ``status`` stay fast.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import importlib.metadata
import itertools
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import yaml

from lab import LabError, render, results

KERNEL = "python3"  # ipykernel's own kernelspec
LAB_DIR = Path(__file__).resolve().parent  # the lab package the kernel imports
BUILD = Path("build")
TEMPLATE = "_template.py"
VERSIONED_PACKAGES = ("lab", "torch", "transformer-lens", "numpy", "plotly", "papermill", "jupytext")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # experiments never download
NEW_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # names of new experiments: also a URL path


# --------------------------------------------------------------------------- reading scripts


@dataclass
class Param:
    name: str
    default: Any
    comment: str  # the comment after the assignment, if any
    line: int  # in the script

    def __str__(self) -> str:
        return f"{self.name} = {self.default!r}" + (f"  # {self.comment}" if self.comment else "")


@dataclass
class Script:
    name: str
    path: Path  # relative to the repository root, for messages
    text: str
    header: dict
    params: dict[str, Param]

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params.values()}


def experiment_names(root: Path) -> list[str]:
    """The experiments there are: ``experiments/*.py`` not starting with '_' or '.'."""
    folder = root / results.EXPERIMENTS_DIR
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith(("_", ".")))


def find_script(name: str, root: Path) -> Path:
    """``experiments/NAME.py``, or a LabError listing the experiments there are."""
    if not name or "/" in name or "\\" in name or ".." in name or name.startswith(("_", ".")):
        raise LabError(f"{name!r} is not an experiment name: no '/', '..', or leading '_' or '.'")
    names = experiment_names(root)
    if name not in names:
        there = ", ".join(names) if names else "none yet (make new-experiment NAME=...)"
        raise LabError(f"no experiment {name!r} in {results.EXPERIMENTS_DIR}/; there are: {there}")
    return results.EXPERIMENTS_DIR / f"{name}.py"


def read_script(name: str, root: Path) -> Script:
    path = find_script(name, root)
    text = (root / path).read_text(encoding="utf-8")
    lines = text.splitlines()
    return Script(name, path, text, _read_header(lines, path), _read_params(lines, path))


def _read_header(lines: list[str], path: Path) -> dict:
    """The YAML header between the ``# ---`` lines at the top (jupytext's header)."""
    if not lines or lines[0].rstrip() != "# ---":
        return {}
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "# ---"), None)
    if end is None:
        raise LabError(f"{path}:1: the header opened by '# ---' is never closed")
    body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines[1:end])
    try:
        header = yaml.safe_load(body) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark else 1  # the header's YAML starts on line 2
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise LabError(f"{path}:{line}: the YAML header does not parse: {problem}") from None
    if not isinstance(header, dict):
        raise LabError(f"{path}:2: the header must be YAML keys (title: ..., project: ...)")
    return header


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
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            raise LabError(f"{path}:{line}: the parameters cell may hold only `name = value` lines")
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise LabError(
                f"{path}:{line}: parameter {name} must be a literal (number, string, bool, list, ...)"
            ) from None
        after = lines[start + node.end_lineno - 1][node.end_col_offset:].strip()
        params[name] = Param(name, default, after.lstrip("#").strip(), line)
    return params


# --------------------------------------------------------------------------- parameters


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


def parse_overrides(items: list[str], script: Script) -> dict[str, Any]:
    """``k=v`` items (from ``split_params`` or the shell) as values of their defaults' types.

    A string value may be bare (``title=a b``) or quoted (``title='a b'``).
    """
    overrides: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise LabError(
                f"{item!r} is not a parameter: write name=value "
                "(quote values with spaces: PARAMS=\"title='a b'\")"
            )
        if name not in script.params:
            valid = "; ".join(map(str, script.params.values())) or "none"
            raise LabError(f"{script.name} has no parameter {name!r}; its parameters: {valid}")
        if name in overrides:
            raise LabError(f"parameter {name} is given twice")
        param = script.params[name]
        try:
            overrides[name] = parse_value(text, param.default)
        except ValueError:
            raise LabError(
                f"{name}={text!r} is not a {_kind(param.default)} like the default "
                f"{param.default!r} ({script.path}:{param.line})"
            ) from None
    return overrides


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


# --------------------------------------------------------------------------- staleness


def input_hash(script: Script, params: dict[str, Any], lab_dir: Path = LAB_DIR) -> str:
    """What a run's results depend on: ``script=... params=... lab=...``, one short hash each.

    Kept in parts so that ``status`` can say which input changed.
    """
    lab = hashlib.sha256()
    for path in sorted(lab_files(script.text, lab_dir)):
        lab.update(f"{path.relative_to(lab_dir)}\n".encode() + path.read_bytes())
    parts = {
        "script": hashlib.sha256(script.text.encode()).hexdigest(),
        "params": hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest(),
        "lab": lab.hexdigest(),
    }
    return " ".join(f"{key}={digest[:12]}" for key, digest in parts.items())


def lab_files(source: str, lab_dir: Path = LAB_DIR) -> set[Path]:
    """The files of the lab package that ``source`` imports, directly or through lab modules."""
    found: set[Path] = set()
    todo = [(source, "")]
    while todo:
        text, package = todo.pop()
        for module in _lab_imports(ast.parse(text), package):
            path = _module_file(module, lab_dir)
            if path and path not in found:
                found.add(path)
                package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                todo.append((path.read_text(encoding="utf-8"), package))
    return found


def _lab_imports(tree: ast.AST, package: str) -> set[str]:
    """Modules named by the imports in ``tree`` that belong to lab, with their parent packages.

    ``from lab import record`` names both ``lab`` and ``lab.record`` (one of them may
    be an attribute, not a module: ``_module_file`` sorts that out).
    """
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .results import y
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    modules = {name for name in names if name == "lab" or name.startswith("lab.")}
    parents = {".".join(m.split(".")[:i]) for m in modules for i in range(1, m.count(".") + 1)}
    return modules | parents


def _module_file(module: str, lab_dir: Path) -> Path | None:
    parts = module.split(".")[1:]
    candidates = [lab_dir.joinpath(*parts, "__init__.py")]
    if parts:
        candidates.append(lab_dir.joinpath(*parts[:-1], parts[-1] + ".py"))
    return next((path for path in candidates if path.is_file()), None)


@dataclass
class State:
    name: str
    status: str  # "fresh", "stale", "failed" or "never run"
    detail: str  # why, in words
    due: bool  # whether `make experiments` should run it


def experiment_state(name: str, root: Path, lab_dir: Path = LAB_DIR) -> State:
    """Where ``name`` stands: its last good run and any later failure, against its inputs now."""
    script = read_script(name, root)
    now = input_hash(script, script.defaults(), lab_dir)
    try:
        run, failure = results.load_run(name, root), results.load_failure(name, root)
    except ValueError as err:  # a malformed run.json or failure.json: name the file
        raise LabError(str(err)) from None
    if failure:
        where = f"{script.path}:{failure['line']}" if failure["line"] else f"cell {failure['cell']}"
        detail = f"{failure['when']} at {where}: {failure['exception']}: {failure['message']}"
        if failure["input_hash"] == now:
            return State(name, "failed", f"{detail}; inputs unchanged since", due=False)
        return State(name, "failed", f"{detail}; inputs changed since", due=True)
    if run is None:
        return State(name, "never run", "", due=True)
    if run["input_hash"] == now:
        return State(name, "fresh", f"run {run['run_id']}", due=False)
    return State(name, "stale", changed_inputs(run["input_hash"], now), due=True)


def changed_inputs(old: str, new: str) -> str:
    """``script changed, params changed`` and so on, from two ``input_hash`` values."""
    old_parts, new_parts = (dict(p.split("=", 1) for p in h.split()) for h in (old, new))
    changed = [f"{key if key != 'lab' else 'lab code'} changed"
               for key in new_parts if old_parts.get(key) != new_parts[key]]
    return ", ".join(changed)


# --------------------------------------------------------------------------- running


class CellFailed(Exception):
    """The experiment raised (or its kernel died); carries the failure record."""

    def __init__(self, failure: dict, traceback: str):
        super().__init__(failure["message"])
        self.failure = failure
        self.traceback = traceback


def run_command(name: str, items: list[str], root: Path = Path(".")) -> int:
    """Run ``name`` with parameter overrides ``items`` (``k=v``); 0 on success, 1 if it failed."""
    root = Path(root).resolve()
    script = read_script(name, root)
    overrides = parse_overrides(items, script)
    with experiment_lock(name, root):
        work = _fresh_dir(root / BUILD / "runs" / name)
        try:
            run = _run(script, overrides, work, root)
        except CellFailed as failed:
            _report_failure(script, failed, root)
            return 1
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"[{name}] done in {run['duration_s']:.1f} s: {results.result_dir(name)}/")
    return 0


@contextmanager
def experiment_lock(name: str, root: Path) -> Iterator[None]:
    """Hold ``build/locks/NAME.lock`` or refuse: one run of an experiment at a time.

    flock, not a pid file: the OS releases it when the holder dies, even by SIGKILL.
    """
    path = root / BUILD / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise LabError(
                f"{name} is already running (pid {holder}, lock {path.relative_to(root)}); "
                "wait for it to finish or stop it", code=1) from None
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


def _run(script: Script, overrides: dict, work: Path, root: Path) -> dict:
    params = {**script.defaults(), **overrides}
    started = datetime.now(timezone.utc)
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    commit, dirty = _git_state(root)
    fields = {
        "name": script.name,
        "status": "ok",
        "run_id": run_id,
        "started": started.isoformat(timespec="seconds"),
        "commit": commit,
        "dirty": dirty,
        "params": params,
        "seed": params.get("seed"),
        "versions": _versions(),
        "input_hash": input_hash(script, params),
    }
    out = work / "out"
    out.mkdir()
    given = " ".join(f"{k}={v!r}" for k, v in overrides.items())
    print(f"[{script.name}] run {run_id}: {script.path} {given}".rstrip(), flush=True)
    t0 = time.monotonic()
    nb = _execute(script, overrides, work, out, root, fields)
    fields["duration_s"] = round(time.monotonic() - t0, 3)
    fields["cells"] = [
        {"index": i, "duration_s": cell.metadata.papermill.duration}
        for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
    ]
    fields["metrics"] = results.read_metrics(out)
    fields["figures"] = _figures(nb, out)
    run = results.make_record(results.RUN_FIELDS, fields)
    _publish(script, run, nb, out, root)
    return run


def _execute(script: Script, overrides: dict, work: Path, out: Path, root: Path, fields: dict) -> Any:
    """Execute the script in a fresh kernel; the executed notebook, or CellFailed."""
    from jupyter_core.utils import run_sync

    with _sigterm_as_interrupt():
        kernel = _start_kernel(out, root)
        try:
            # papermill and jupytext take a second to import: the kernel boots meanwhile
            import jupytext
            from nbclient.exceptions import DeadKernelError

            papermill = _import_papermill()

            nb = jupytext.reads(script.text, fmt="py:percent")
            nb.metadata["kernelspec"] = {"name": KERNEL, "language": "python", "display_name": KERNEL}
            _mark_script_lines(nb, script.text)
            code_cells = sum(1 for c in nb.cells if c.cell_type == "code" and c.source.strip())
            total = code_cells + bool(overrides)  # papermill adds a cell for the overrides
            executed = work / results.NOTEBOOK
            try:
                return papermill.execute_notebook(
                    nb, str(executed), parameters=overrides, kernel_name=KERNEL, language="python",
                    km=kernel, progress_bar=False, stdout_file=sys.stdout, stderr_file=sys.stderr,
                    on_cell_execute=_progress(script, total),
                )
            except (papermill.PapermillExecutionError, DeadKernelError) as err:
                raise _cell_failed(err, script, executed, root, fields) from None
        finally:
            run_sync(kernel.shutdown_kernel)(now=True)  # done or interrupted: nothing to wait for


def _import_papermill() -> Any:
    """papermill, without its probe for pyarrow (hdfs:// paths, unused here): 0.5 s saved."""
    probe = "pyarrow" not in sys.modules
    if probe:
        sys.modules["pyarrow"] = None  # type: ignore[assignment]  # makes `import pyarrow` fail
    try:
        import papermill
    finally:
        if probe:
            del sys.modules["pyarrow"]
    return papermill


def _start_kernel(out: Path, root: Path) -> Any:
    """Start ipykernel under this very interpreter (the project's .venv), in the repository root.

    Searching no kernel directories leaves jupyter_client only ipykernel's own spec,
    bound to ``sys.executable``: a ``python3`` spec installed elsewhere cannot swap in
    another Python. The kernel gets the scratch directory and no network via its
    environment. Starting returns at once; the kernel boots in the background.

    The manager is the asyncio one that nbclient drives on this thread: the blocking
    one runs helper threads, and a signal landing on one of those would leave Ctrl-C
    waiting on the kernel's reply.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    only_ipykernel = KernelSpecManager(kernel_dirs=[])
    kernel = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=only_ipykernel)
    env = {**os.environ, results.OUTPUT_DIR_ENV: str(out), **OFFLINE}
    # the kernel listens on localhost only; its warning about unencrypted TCP would open every run
    quiet = ["--IPKernelApp.log_level=ERROR"]
    run_sync(kernel.start_kernel)(extra_arguments=quiet, env=env, cwd=str(root))
    return kernel


def _mark_script_lines(nb: Any, text: str) -> None:
    """Note in each code cell's metadata the script line it starts on (for progress, errors).

    Code cells appear verbatim in a percent script, in order, so a forward search finds them.
    """
    position = 0
    for cell in nb.cells:
        found = text.find(cell.source, position) if cell.cell_type == "code" else -1
        if found >= 0 and cell.source.strip():
            cell.metadata["lab"] = {"line": text.count("\n", 0, found) + 1}
            position = found + len(cell.source)


def _progress(script: Script, total: int):
    """The hook nbclient calls before each code cell: ``[NAME] cell i/n  file:line``."""
    counter = itertools.count(1)

    def on_cell_execute(cell: Any, cell_index: int, **_: Any) -> None:
        line = cell.metadata.get("lab", {}).get("line")
        where = f"{script.path}:{line}" if line else "parameters from the command line"
        print(f"[{script.name}] cell {next(counter)}/{total}  {where}", flush=True)

    return on_cell_execute


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so the kernel is shut down on the way out."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cell_failed(err: Exception, script: Script, executed: Path, root: Path,
                 fields: dict) -> CellFailed:
    """The failure record of a run that raised in a cell (or whose kernel died)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    started = [i for i, c in enumerate(nb.cells) if c.metadata.get("papermill", {}).get("start_time")]
    index = started[-1] if started else 0  # the last cell that started is the one that failed
    cell = nb.cells[index]
    traceback = render.clean_text("\n".join(getattr(err, "traceback", [str(err)])))
    # IPython names a cell's frame "Cell In[7], line 3"; the first such frame is the failing cell
    frame = re.search(r"Cell In\[\d+\], line (\d+)", traceback)
    lines = cell.source.splitlines()
    at = int(frame[1]) if frame and int(frame[1]) <= len(lines) else None  # 1-based, in the cell
    start = cell.metadata.get("lab", {}).get("line")  # where the cell starts in the script
    kept = BUILD / "failed" / f"{script.name}.ipynb"
    (root / kept).parent.mkdir(parents=True, exist_ok=True)
    os.replace(executed, root / kept)
    failure = results.make_record(results.FAILURE_FIELDS, {
        "run_id": fields["run_id"],
        "when": fields["started"],
        "cell": index,
        "line": start + at - 1 if start and at else None,
        "source": lines[at - 1].strip() if at else "",
        "exception": getattr(err, "ename", type(err).__name__),
        "message": getattr(err, "evalue", str(err)),
        "notebook": str(kept),
        "input_hash": fields["input_hash"],
    })
    return CellFailed(failure, traceback)


def _report_failure(script: Script, failed: CellFailed, root: Path) -> None:
    """Add failure.json to the last good results (nothing else there changes) and say what broke."""
    f = failed.failure
    results.atomic_write_json(results.result_dir(script.name, root) / results.FAILURE, f)
    where = f"{script.path}:{f['line']}" if f["line"] else f"cell {f['cell']}"
    print(failed.traceback, file=sys.stderr)
    print(
        f"error: {script.name} failed at {where}\n"
        + (f"    {f['source']}\n" if f["source"] else "")
        + f"{f['exception']}: {f['message']}\n"
        f"the failed notebook is kept in {f['notebook']}; "
        f"the last good results in {results.result_dir(script.name)}/ are untouched",
        file=sys.stderr,
    )


def _figures(nb: Any, out: Path) -> list[dict]:
    """The run's figures (files in the scratch dir), with the captions given in the notebook."""
    from lab.record import FIGURE_MIMETYPE

    captions = {
        output.data[FIGURE_MIMETYPE]["id"]: output.data[FIGURE_MIMETYPE].get("caption", "")
        for cell in nb.cells for output in cell.get("outputs", [])
        if FIGURE_MIMETYPE in output.get("data", {})
    }
    return [
        {"id": path.stem, "caption": captions.get(path.stem, ""),
         "file": results.figure_file(path.stem)}
        for path in results.figure_files(out)
    ]


def _publish(script: Script, run: dict, nb: Any, out: Path, root: Path) -> None:
    """Assemble the result directory beside the old one, then swap them in one step."""
    import nbformat

    target = results.result_dir(script.name, root)
    results.recover_dir(target)  # a swap interrupted on a system without renameat2
    staging = _fresh_dir(target.with_name(f".{script.name}.new"))
    if (out / results.FIGURES).is_dir():
        shutil.copytree(out / results.FIGURES, staging / results.FIGURES)
    # papermill records absolute scratch paths; the committed notebook names the real ones
    nb.metadata.papermill.update(input_path=str(script.path),
                                 output_path=str(results.result_dir(script.name) / results.NOTEBOOK))
    nbformat.write(nb, staging / results.NOTEBOOK)
    (staging / results.PAGE).write_text(render.page(nb, script.header, script.name, run["run_id"]),
                                        encoding="utf-8")
    (staging / results.RUN).write_text(results.dumps(run), encoding="utf-8")
    history = target / results.HISTORY
    previous = history.read_bytes() if history.exists() else b""
    (staging / results.HISTORY).write_bytes(previous + results.history_line(run).encode())
    results.replace_dir(staging, target)


def _fresh_dir(path: Path) -> Path:
    """An empty directory at ``path``, clearing what an interrupted run left there."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _git_state(root: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the repository, or (None, None) outside git.

    Dirty means uncommitted changes outside ``site/``: results and notes awaiting a
    commit do not make the code that produced a run any less reproducible.
    """
    try:
        commit = _git(root, "rev-parse", "HEAD")
        changes = _git(root, "status", "--porcelain", "--", ".", ":(exclude)site")
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit, bool(changes)


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _versions() -> dict[str, str | None]:
    """Versions of Python and the packages a run depends on, without importing them."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


# --------------------------------------------------------------------------- commands


def run_stale_command(root: Path = Path(".")) -> int:
    """Run every experiment that is stale, never ran, or failed and changed since; skip the rest."""
    failed = []
    for name in experiment_names(root):
        try:
            state = experiment_state(name, root)
            print(f"{'run' if state.due else 'skip'} {name}: {state.status}"
                  + (f" ({state.detail})" if state.detail else ""), flush=True)
            code = run_command(name, [], root) if state.due else 0
        except LabError as err:
            print(f"error: {err}", file=sys.stderr)
            code = err.code
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def status_command(root: Path = Path(".")) -> int:
    """One line per experiment: fresh, stale (why), failed (where) or never run."""
    for name in experiment_names(root):
        try:
            state = experiment_state(name, root)
        except LabError as err:  # one broken script should not hide the others
            state = State(name, "invalid", str(err), due=False)
        print(f"{state.status:<10} {name:<24} {state.detail}".rstrip())
    return 0


def list_command(root: Path = Path(".")) -> int:
    names = experiment_names(root)
    if not names:
        print("no experiments yet: make new-experiment NAME=...")
    for name in names:
        script = read_script(name, root)
        question = script.header.get("question")
        print(f"{name}: {script.header.get('title', name)}" + (f" ({question})" if question else ""))
        for param in script.params.values():
            print(f"    {param}")
    return 0


def new_experiment_command(name: str, root: Path = Path(".")) -> int:
    """Write ``experiments/NAME.py`` from ``experiments/_template.py``."""
    if not NEW_NAME.match(name):
        raise LabError(f"{name!r}: experiment names use lower-case letters, digits, '-' and '_'")
    folder = Path(root) / results.EXPERIMENTS_DIR
    path = folder / f"{name}.py"
    if path.exists():
        raise LabError(f"{results.EXPERIMENTS_DIR / path.name} already exists")
    template = (folder / TEMPLATE).read_text(encoding="utf-8")
    title = name.replace("-", " ").replace("_", " ").capitalize()
    path.write_text(template.replace("EXPERIMENT_NAME", name).replace("EXPERIMENT_TITLE", title),
                    encoding="utf-8")
    print(f"wrote {results.EXPERIMENTS_DIR / path.name}; run it with: make experiment NAME={name}")
    return 0
