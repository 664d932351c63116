"""Execute a script in a fresh kernel: the only module that imports papermill, jupytext
and nbclient.

The kernel is ipykernel under this very interpreter, in the repository root, with
the run's scratch output directory and no network in its environment. It runs in
its own session and exits when its parent goes away (ipykernel's parent poller);
SIGTERM is turned into KeyboardInterrupt so that the kernel is shut down on the way
out. A cell that raises (or a kernel that dies) becomes ``CellFailed``: the facts of
the failure, like papermill's own ``PapermillExecutionError``; what to keep and
record is the orchestrator's business (``lab.runner.run``).

What this relies on in papermill and IPython beyond their documented interfaces is
gathered at the end of the file, each piece tested on its own
(tests/test_runner_execute.py), so an upgrade breaks a test, not the failure report.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import render, results
from lab.runner import progress
from lab.runner.scripts import Script

KERNEL = "python3"  # ipykernel's own kernelspec
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # experiments never download

# Called before each code cell with (number, total, line in the script or None for
# the cell papermill injects with the command line's parameters).
OnCell = Callable[[int, int, "int | None"], None]


@dataclass
class Executed:
    notebook: Any  # the executed notebook (nbformat)
    cells: list[dict]  # [{"index": i, "duration_s": s}] for each code cell


class KernelStartFailed(Exception):
    """The kernel died or stopped answering before the first cell ran: nothing of the
    experiment ran, so trying again is safe (parallel starts can race for ports)."""


class CellFailed(Exception):
    """The experiment raised in a cell, or its kernel died: where and what."""

    def __init__(
        self, cell: int, line: int | None, source: str, exception: str, message: str, traceback: str, notebook: Path
    ):
        super().__init__(message)
        self.cell = cell  # index of the failing cell in the notebook
        self.line = line  # the script line that raised, if known
        self.source = source  # the text of that line
        self.exception = exception  # e.g. "ValueError"
        self.message = message
        self.traceback = traceback  # as the kernel printed it, without terminal colours
        self.notebook = notebook  # the executed notebook, up to the failing cell


def execute(
    script: Script, overrides: dict[str, Any], work: Path, out: Path, root: Path, env: dict[str, str], on_cell: OnCell
) -> Executed:
    """Execute ``script`` with ``overrides`` in a fresh kernel; the kernel writes what it
    records into ``out``, and the executed notebook is written in ``work``."""
    from jupyter_core.utils import run_sync

    with sigterm_as_interrupt():
        try:
            kernel = _start_kernel({**env, results.OUTPUT_DIR_ENV: str(out)}, root)
        except (RuntimeError, OSError) as err:
            raise KernelStartFailed(f"the kernel did not start: {err}") from err
        first_cell = []  # becomes [True] once a cell starts: failures after that are the script's

        def on_cell_started(number: int, total: int, line: int | None) -> None:
            first_cell[:] = [True]
            on_cell(number, total, line)

        try:
            # papermill and jupytext take a second to import: the kernel boots meanwhile
            import jupytext
            from nbclient.exceptions import DeadKernelError

            papermill = import_papermill()

            nb = jupytext.reads(script.text, fmt="py:percent")
            nb.metadata["kernelspec"] = {"name": KERNEL, "language": "python", "display_name": KERNEL}
            _mark_script_lines(nb, script.text)
            code_cells = sum(1 for c in nb.cells if c.cell_type == "code" and c.source.strip())
            total = code_cells + bool(overrides)  # papermill adds a cell for the overrides
            executed = work / results.NOTEBOOK
            try:
                nb = papermill.execute_notebook(
                    nb,
                    str(executed),
                    parameters=overrides,
                    kernel_name=KERNEL,
                    language="python",
                    km=kernel,
                    progress_bar=False,
                    # echoed to the terminal above the runner's progress bars, if any (there, printed
                    # lines are cut at the terminal's width; the notebook keeps them whole)
                    stdout_file=progress.above_bars(sys.stdout, clip=True),
                    stderr_file=progress.above_bars(sys.stderr),
                    on_cell_execute=_progress(on_cell_started, total),
                )
            except (papermill.PapermillExecutionError, DeadKernelError, RuntimeError, TimeoutError) as err:
                if not first_cell:  # nbclient: "Kernel died before replying to kernel_info"
                    raise KernelStartFailed(f"the kernel did not start: {err}") from None
                if not isinstance(err, (papermill.PapermillExecutionError, DeadKernelError)):
                    raise
                raise _cell_failed(err, executed) from None
            return Executed(nb, cell_durations(nb))
        finally:
            run_sync(kernel.shutdown_kernel)(now=True)  # done or interrupted: nothing to wait for


def _start_kernel(env: dict[str, str], root: Path) -> Any:
    """Start ipykernel under this very interpreter (the project's .venv), in the repository root.

    Searching no kernel directories leaves jupyter_client only ipykernel's own spec,
    bound to ``sys.executable``: a ``python3`` spec installed elsewhere cannot swap in
    another Python. Starting returns at once; the kernel boots in the background.

    The manager is the asyncio one that nbclient drives on this thread: the blocking
    one runs helper threads, and a signal landing on one of those would leave Ctrl-C
    waiting on the kernel's reply.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    only_ipykernel = KernelSpecManager(kernel_dirs=[])
    kernel = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=only_ipykernel)
    # the kernel listens on localhost only; its warning about unencrypted TCP would open every run
    quiet = ["--IPKernelApp.log_level=ERROR"]
    # before the first cell: record the lab code the run executes (lab.executed)
    record = ["--IPKernelApp.exec_lines=['import lab.executed; lab.executed.start()']"]
    run_sync(kernel.start_kernel)(extra_arguments=quiet + record, env={**os.environ, **env, **OFFLINE}, cwd=str(root))
    return kernel


def markdown_sources(script: Script) -> list[str]:
    """The script's markdown cells as a notebook holds them (jupytext's reading), in order."""
    import jupytext

    return [cell.source for cell in jupytext.reads(script.text, fmt="py:percent").cells if cell.cell_type == "markdown"]


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


def _progress(on_cell: OnCell, total: int) -> Callable[..., None]:
    """The hook nbclient calls before each code cell, passing on the cell's number and line."""
    counter = itertools.count(1)

    def on_cell_execute(cell: Any, cell_index: int, **_: Any) -> None:
        on_cell(next(counter), total, cell.metadata.get("lab", {}).get("line"))

    return on_cell_execute


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so what runs inside (a kernel, a sweep's points) is shut
    down on the way out."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cell_failed(err: Exception, executed: Path) -> CellFailed:
    """What the executed notebook and the error say about the failure."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    index = last_started_cell(nb)
    cell = nb.cells[index]
    exception, message, traceback = error_report(err)
    lines = cell.source.splitlines()
    at = failing_line(traceback)
    at = at if at is not None and at <= len(lines) else None  # 1-based, in the cell
    start = cell.metadata.get("lab", {}).get("line")  # where the cell starts in the script
    return CellFailed(
        cell=index,
        line=start + at - 1 if start and at else None,
        source=lines[at - 1].strip() if at else "",
        exception=exception,
        message=message,
        traceback=traceback,
        notebook=executed,
    )


# --------------------------------------------------------------------------- papermill and IPython internals
#
# Each function below reads something papermill or IPython does not promise to keep.


def import_papermill() -> Any:
    """papermill, without its probe for pyarrow (hdfs:// paths, unused here): 0.5 s saved.

    papermill's I/O module imports pyarrow if it can; a ``None`` in ``sys.modules``
    makes that import fail at once, and papermill carries on without HDFS.
    """
    probe = "pyarrow" not in sys.modules
    if probe:
        sys.modules["pyarrow"] = None  # type: ignore[assignment]  # makes `import pyarrow` fail
    try:
        import papermill
    finally:
        if probe:
            del sys.modules["pyarrow"]
    return papermill


# IPython names a cell's frame "Cell In[7], line 3"; the first such frame is the failing cell.
_CELL_FRAME = re.compile(r"Cell In\[\d+\], line (\d+)")


def failing_line(traceback: str) -> int | None:
    """The line, within its cell, where the traceback of a failed cell says it raised."""
    frame = _CELL_FRAME.search(traceback)
    return int(frame[1]) if frame else None


def last_started_cell(nb: Any) -> int:
    """The index of the last cell papermill started (``metadata.papermill.start_time``):
    the one that failed."""
    started = [i for i, c in enumerate(nb.cells) if c.metadata.get("papermill", {}).get("start_time")]
    return started[-1] if started else 0


def cell_durations(nb: Any) -> list[dict]:
    """``[{"index": i, "duration_s": s}]`` per code cell, from ``metadata.papermill.duration``."""
    return [
        {"index": i, "duration_s": cell.metadata.papermill.duration}
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
    ]


def error_report(err: Exception) -> tuple[str, str, str]:
    """(exception name, message, cleaned traceback) of papermill's execution error, or of
    nbclient's DeadKernelError, which has no ``ename``, ``evalue`` or ``traceback``."""
    traceback = render.clean_text("\n".join(getattr(err, "traceback", [str(err)])))
    return getattr(err, "ename", type(err).__name__), getattr(err, "evalue", str(err)), traceback
