"""What an experiment calls to report results: metrics, figures and tables.

    from lab import record
    record.metric("shelf_loss_plus0", 0.630, unit="nats", description="loss on only-+0 data")
    record.figure(fig, "loss-per-digit", caption="Training loss per answer digit")
    record.table(rows, caption="Top neurons")

Inside a run (``make experiment``) these land in the runner's scratch directory and
become ``run.json`` metrics and ``figures/ID.json`` files; in a plain ``python
experiments/NAME.py`` they go to ``build/scratch/NAME`` (a notebook in Jupyter or VS
Code: ``build/scratch/`` and the notebook's name). Figure ids and metric names
are stable handles: notes embed ``![[experiments/NAME#ID]]`` and cite
``{{ metric NAME.metric_name }}`` (see ``lab.wiki``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab import atomic, results


def _experiment_name() -> str:
    """The name of the scratch directory outside the runner (which sets its own).

    A plain ``python experiments/NAME.py`` is NAME. In Jupyter or VS Code every kernel
    is ``ipykernel_launcher.py``, so the notebook's own name is used (each kernel's
    first call empties its directory: one notebook must not empty another's).
    """
    if _in_notebook():
        return _notebook_name()
    return Path(sys.argv[0]).stem if sys.argv and sys.argv[0].endswith(".py") else "scratch"


def _notebook_name() -> str:
    """The notebook's name as its kernel knows it: Jupyter sets ``JPY_SESSION_NAME`` to
    the notebook's path, VS Code puts ``__vsc_ipynb_file__`` in the user namespace;
    failing both, one name per kernel process."""
    from IPython import get_ipython

    path = os.environ.get("JPY_SESSION_NAME") or get_ipython().user_ns.get("__vsc_ipynb_file__")
    return Path(path).stem if path else f"kernel-{os.getpid()}"


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


# The functions below return None: a cell ending in one of them must not echo a
# return value onto the page.


def metric(name: str, value: float, unit: str | None = None, description: str | None = None) -> None:
    """Record one scalar result under ``name`` (re-recording a name replaces it)."""
    results.add_metric(results.output_dir(_experiment_name()), name, value, unit, description)
    print(f"metric {name} = {float(value):.6g}{' ' + unit if unit else ''}")


def figure(fig: Any, figure_id: str, caption: str | None = None) -> None:
    """Save a plotly figure as ``figures/ID.json`` and mark its place in the page.

    Ids must be unique within a run (a note citing one must know which figure it
    means), so under the runner a second figure with the same id is an error; in an
    interactive session, re-running a cell simply replaces the figure.
    """
    out = results.output_dir(_experiment_name())
    path = out / results.figure_file(figure_id)
    if path.exists() and os.environ.get(results.OUTPUT_DIR_ENV):
        raise ValueError(f"figure id {figure_id!r} was already used in this run")
    fig_json = fig.to_json() if hasattr(fig, "to_json") else results.dumps(fig)
    atomic.write_text(path, fig_json)
    marker = {"id": figure_id, "caption": caption or ""}
    if _in_notebook():
        from IPython.display import display

        display({results.FIGURE_MIMETYPE: marker, "text/plain": f"[figure {figure_id}]"}, raw=True)
    else:
        print(f"figure {figure_id} -> {path}")


def table(rows: Sequence[dict], caption: str | None = None, digits: int = 4) -> None:
    """Show ``rows`` (dicts with the same keys) as a Markdown table."""
    if not rows:
        return
    columns = list(rows[0])

    def cell(v: Any) -> str:
        return f"{v:.{digits}g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r[c]) for c in columns) + " |" for r in rows]
    text = (f"**{caption}**\n\n" if caption else "") + "\n".join(lines) + "\n"
    if _in_notebook():
        from IPython.display import Markdown, display

        display(Markdown(text))
    else:
        print(text)
