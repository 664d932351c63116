"""Putting a run's results in place: assembled beside the old ones, swapped in one step.

A good run's result directory (page, figures, executed notebook, ``run.json`` and the
history carried over with one more line) is assembled in a staging directory next to
the target and exchanged with it atomically (``atomic.replace_dir``), so a reader or
a crash sees the old results or the new ones, never a mix. A failed run only adds
``failure.json`` to the last good results and keeps its notebook in ``build/failed/``.
When only the write-up changed, ``rerender`` puts the new prose in the published
notebook and page, and nothing runs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from lab import atomic, render, results
from lab.runner.scripts import Script

BUILD = Path("build")


def figures(nb: Any, out: Path) -> list[dict]:
    """The run's figures (files in the scratch dir), with the captions given in the notebook."""
    captions = {
        output.data[results.FIGURE_MIMETYPE]["id"]: output.data[results.FIGURE_MIMETYPE].get("caption", "")
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if results.FIGURE_MIMETYPE in output.get("data", {})
    }
    return [
        {"id": path.stem, "caption": captions.get(path.stem, ""), "file": results.figure_file(path.stem)}
        for path in results.figure_files(out)
    ]


def assemble(script: Script, run_id: str, nb: Any, out: Path, target: Path, root: Path) -> Path:
    """The staging directory beside ``target`` (``site/experiments/NAME``, or a scratch
    place) with the run's figures, executed notebook and page: what writing the page
    costs (``run.json``'s ``timings.page_s``). ``swap_in`` completes it."""
    import nbformat

    atomic.recover_dir(target)  # a swap interrupted on a system without renameat2
    staging = fresh_dir(target.with_name(f".{target.name}.new"))
    if (out / results.FIGURES).is_dir():
        shutil.copytree(out / results.FIGURES, staging / results.FIGURES)
    # papermill records absolute scratch paths; the committed notebook names the real ones
    nb.metadata.papermill.update(
        input_path=str(script.path), output_path=str(target.relative_to(root) / results.NOTEBOOK)
    )
    nbformat.write(nb, staging / results.NOTEBOOK)
    (staging / results.PAGE).write_text(render.page(nb, script.header, script.name, run_id), encoding="utf-8")
    return staging


def swap_in(run: dict, staging: Path, target: Path) -> None:
    """Add ``run.json`` and the history with one more line to ``staging`` (``assemble``),
    carry over what a run does not replace, and swap it in for ``target`` in one step."""
    (staging / results.RUN).write_text(results.dumps(run), encoding="utf-8")
    history = target / results.HISTORY
    previous = history.read_bytes() if history.exists() else b""
    (staging / results.HISTORY).write_bytes(previous + results.history_line(run).encode())
    carry_over(target, staging)
    atomic.replace_dir(staging, target)


def carry_over(target: Path, staging: Path) -> None:
    """What a new run does not replace: the experiment's sweeps (each point has its own
    inputs and staleness) and the latest reproduction verdict (it names the run it
    checked, so the page can tell an older run's verdict from this run's)."""
    if (target / results.SWEEPS).is_dir():
        shutil.copytree(target / results.SWEEPS, staging / results.SWEEPS)
    if (target / results.REPRODUCTION).exists():
        shutil.copy2(target / results.REPRODUCTION, staging / results.REPRODUCTION)


def rerender(script: Script, prose: list[str], input_hash: str, target: Path) -> bool:
    """Put ``prose`` (the script's markdown cells, in order) in place of the published
    notebook's markdown cells and render the page again; the numbers, figures and history
    stay as they are, and ``run.json`` takes ``input_hash``. Swapped in like a run.

    False, changing nothing, when the notebook's markdown cells do not pair off one to
    one with ``prose`` (cells were added or removed: that takes a run)."""
    import nbformat

    nb = nbformat.read(target / results.NOTEBOOK, as_version=nbformat.NO_CONVERT)
    cells = [cell for cell in nb.cells if cell.cell_type == "markdown"]
    if len(cells) != len(prose):
        return False
    for cell, source in zip(cells, prose):
        cell.source = source
    run = {**results.read_run(target), "input_hash": input_hash}
    atomic.recover_dir(target)
    staging = fresh_dir(target.with_name(f".{target.name}.new"))
    shutil.copytree(target, staging, dirs_exist_ok=True)
    nbformat.write(nb, staging / results.NOTEBOOK)
    (staging / results.PAGE).write_text(render.page(nb, script.header, script.name, run["run_id"]), encoding="utf-8")
    (staging / results.RUN).write_text(results.dumps(run), encoding="utf-8")
    atomic.replace_dir(staging, target)
    return True


def keep_failed_notebook(notebook: Path, name: str, root: Path) -> Path:
    """Move a failed run's notebook to ``build/failed/NAME.ipynb``; that path, from ``root``."""
    kept = BUILD / "failed" / f"{name}.ipynb"
    (root / kept).parent.mkdir(parents=True, exist_ok=True)
    os.replace(notebook, root / kept)
    return kept


def publish_failure(failure: dict, target: Path) -> None:
    """Add ``failure.json`` to the last good results in ``target``; nothing else there changes."""
    results.atomic_write_json(target / results.FAILURE, failure)


def fresh_dir(path: Path) -> Path:
    """An empty directory at ``path``, clearing what an interrupted run left there."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
