"""Which lab code a run executed: recorded in the kernel, read back by the runner.

The runner starts every kernel with ``lab.executed.start()`` (IPython's
``exec_lines``, before the script's first cell). From then on each lab module is
compiled from its source with one added statement at the top of every function
that is a unit (``lab.fingerprint``: module-level functions and methods), which
adds the unit's name to a set. After each cell the set, with the fingerprint of
each unit, is written to ``executed.json`` in the run's output directory:

    {"lab/train.py:train": "3f1c0b9e2a7d", "lab/task.py:<module>": "...", ...}

and, beside it, the seconds spent so far in each phase (``lab.phases``: training,
evaluation) to ``phases.json``, which the runner reads back the same way. While a
cell runs, the progress of the task under way (``lab.phases.progress``) goes to
``progress.json``, which the runner polls for its terminal.

What counts as executed:

- a function or method that was called (nested functions, lambdas and
  comprehensions count with the function that defines them);
- the module-level statements and class statements of every lab module imported
  (they ran at import), the module's statements also in parts, each literal constant
  apart (``lab.fingerprint.module_parts``);
- the code that made the weights of a model the run used, trained or loaded from
  the cache (``note``, called by ``lab.models.load_or_train`` with ``WEIGHT_CODE``).

Why an added statement rather than a profile hook (``sys.setprofile``): the hook is
called on every Python and C call in the process, torch's included, and cost about
4% of a training run (4.4 million events in 18 s of ``add2-fast``); the statement
runs once per call of a lab function, a few times per training step.

Outside a runner's kernel (a plain ``python experiments/NAME.py``) nothing is
instrumented and ``note`` only adds to a set that no one writes.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from lab import fingerprint, normalize, phases

HOOK = "__lab_executed__"  # the name the added statement calls, set in each module's namespace
# The recorder itself, which changes no number: never instrumented, left out of every
# record. The phase timer (``lab.phases``) is part of it: timing code stales nothing.
RECORDER = ("executed.py", "fingerprint.py", "normalize.py", "phases.py")

_seen: set[str] = set()  # refs of the units executed so far (or noted)


def note(refs: Iterable[str]) -> None:
    """Count ``refs`` (``lab/train.py:train``, or ``lab/task.py`` for a whole file) as
    executed by this run: the code behind weights the run used, which ran when the
    model was trained, perhaps in another process."""
    _seen.update(refs)


class Table(dict):
    """A module's table of entries that runs read one by one (``PRESETS``): reading an
    entry notes it as executed (``lab/presets.py:<module>:PRESETS[add2]``), so editing
    one entry stales only the runs that read it (``lab.fingerprint.module_parts``, which
    finds the table by this class's name, with the name given and a dict display as its
    arguments, written as below).

        PRESETS: dict[str, Preset] = Table(__name__, "PRESETS", {"add2": ..., ...})

    Listing or testing the keys reads no entry; ``items`` and ``values`` read them all.
    A copy of the whole table (``dict(table)``, ``{**table}``) bypasses the notes, so
    code that needs every entry reads them through ``items``.
    """

    def __init__(self, module: str, name: str, entries: dict[str, Any]):
        super().__init__(entries)
        file = module.removeprefix("lab.").replace(".", "/") + ".py"
        self._refs = {key: fingerprint.ref(file, fingerprint.PART + fingerprint.entry(name, key)) for key in entries}

    def __getitem__(self, key: str) -> Any:
        if key in self._refs:
            note([self._refs[key]])
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def items(self) -> Any:
        note(self._refs.values())
        return super().items()

    def values(self) -> Any:
        note(self._refs.values())
        return super().values()


def start(out: Path | None = None) -> None:
    """Record from now on: instrument lab modules imported from here, and write the
    record into ``out`` (by default the run's output directory) after every cell."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    from lab import results  # imported only now, so that it is instrumented too

    out = Path(out) if out else results.output_dir()
    shell = _ipython()
    if shell is not None:
        shell.events.register("post_run_cell", lambda *_: write(out))
    # a task's progress goes to a file the runner polls for its terminal, not to the notebook
    phases.report_to(lambda state: _as_recorder(results.write_progress, out, state))


def record() -> dict[str, str]:
    """{ref: fingerprint} of every unit executed so far, sorted by ref."""
    refs = set(_seen)
    for name, module in list(sys.modules.items()):
        if name != "lab" and not name.startswith("lab."):
            continue  # thousands of torch's and numpy's: resolving each one's path cost 0.3 s a cell
        file = _lab_file(module)
        if file and file not in RECORDER:  # imported: its module-level and class statements ran
            path = fingerprint.LAB_DIR / file
            kinds = fingerprint.fingerprints(path)
            refs.update(fingerprint.ref(file, name) for name in kinds if not _is_function(module, name))
            # its constants, apart; a table's entries only where the run read them (``Table``)
            refs.update(
                fingerprint.ref(file, part) for part in fingerprint.parts(path) if not fingerprint.is_entry(part)
            )
    now = fingerprint.current(ref for ref in refs if not fingerprint.numberless(ref))
    return {name: value for name, value in sorted(now.items()) if value is not None}


def write(out: Path) -> None:
    """Write ``record()`` to ``out/executed.json``, the phases' seconds so far to
    ``out/phases.json`` and the models used to ``out/models.json`` (after each cell:
    a cell that raises still leaves the record of what ran). The lab functions that
    write them are the recorder's calls, not the run's: what they add to the record is
    taken back."""
    from lab import results

    before = set(_seen)
    results.write_executed(out, record())
    results.write_phases(out, phases.totals())
    results.write_models(out, phases.models())
    _seen.intersection_update(before)


def _as_recorder(write: Callable[..., None], *args: Any) -> None:
    """``write(*args)`` as the recorder's call, not the run's: what it adds to the record
    is taken back. Progress is a courtesy: a failed write never stops the task."""
    before = set(_seen)
    try:
        write(*args)
    except OSError:
        pass
    finally:
        _seen.intersection_update(before)


def instrument(source: str, file: str) -> ast.Module:
    """``source`` (the file ``file``, relative to the lab package) parsed, with a call
    ``__lab_executed__("lab/FILE:QUALNAME")`` first in each function that is a unit
    (after its docstring). Line numbers stay those of the file."""
    tree = ast.parse(source)
    for qualname, node in fingerprint.outermost_defs(tree):
        call = ast.Expr(ast.Call(ast.Name(HOOK, ast.Load()), [ast.Constant(fingerprint.ref(file, qualname))], []))
        first = 1 if normalize.is_docstring(node.body[0]) else 0  # the docstring stays __doc__
        node.body.insert(first, ast.copy_location(call, node.body[0]))
    return ast.fix_missing_locations(tree)


# --------------------------------------------------------------------------- import machinery


class _Finder(importlib.abc.MetaPathFinder):
    """Finds lab's modules as usual, and hands them to ``_Loader``."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("lab."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        origin = Path(spec.origin) if spec and spec.origin else None
        if (
            origin
            and origin.suffix == ".py"
            and origin.is_relative_to(fingerprint.LAB_DIR)
            and origin.relative_to(fingerprint.LAB_DIR).as_posix() not in RECORDER
        ):
            spec.loader = _Loader(fullname, str(origin))
        return spec


class _Loader(importlib.machinery.SourceFileLoader):
    """Compiles from the source every time: a cached ``.pyc`` holds the plain code."""

    def get_code(self, fullname: str) -> Any:
        file = Path(self.path).relative_to(fingerprint.LAB_DIR).as_posix()
        tree = instrument(self.get_data(self.path).decode("utf-8"), file)
        return compile(tree, self.path, "exec", dont_inherit=True)

    def exec_module(self, module: ModuleType) -> None:
        module.__dict__[HOOK] = _seen.add
        super().exec_module(module)


def _lab_file(module: ModuleType) -> str | None:
    """The file of a lab module, relative to the lab package, or None."""
    origin = getattr(module, "__file__", None)
    if not origin or not origin.endswith(".py"):
        return None
    path = Path(origin).resolve()
    return path.relative_to(fingerprint.LAB_DIR).as_posix() if path.is_relative_to(fingerprint.LAB_DIR) else None


def _is_function(module: ModuleType, qualname: str) -> bool:
    """Whether ``qualname`` in ``module`` is a function or method (recorded when called),
    rather than a class or the module's own statements (which ran at import)."""
    if qualname == fingerprint.MODULE:
        return False
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return True  # not reachable by name: a method of a class made in a function, say
    return not isinstance(obj, type)


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
