"""A small wiki to test against: the notes in tests/fixtures/wiki/site, two experiment
results written through ``lab.results`` (one whose latest attempt failed), and the
repository's own mkdocs.yml; and the same with the Obsidian vault in
tests/fixtures/vault pointed at from mkdocs.yml."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab import atomic, results

REPO = Path(__file__).resolve().parents[1]
NOTES = Path(__file__).parent / "fixtures" / "wiki" / "site"

LOSS_FIGURE = {
    "data": [
        {"type": "scatter", "mode": "lines", "name": "digit 0", "x": [0, 100, 200, 300], "y": [2.3, 0.63, 0.62, 0.05]}
    ],
    "layout": {"title": {"text": "Training loss"}, "xaxis": {"title": {"text": "step"}}},
}


def _run(name: str, run_id: str, final_loss: float, figures: list[dict]) -> dict:
    values = {
        "name": name,
        "status": "ok",
        "run_id": run_id,
        "started": f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}T12:00:00Z",
        "duration_s": 12.5,
        "commit": "0123456789abcdef",
        "dirty": False,
        "inputs_commit": None,
        "params": {"n_digits": 2, "seed": 0},
        "seed": 0,
        "versions": {"python": "3.11", "torch": "2.13.0"},
        "environment": None,
        "cells": [{"index": 0, "duration_s": 1.0}],
        "metrics": {
            "final_loss": {"value": final_loss, "unit": "nats", "description": "loss at the end"},
            "shelf_steps": {"value": 180.0, "unit": None, "description": "length of the shelf"},
        },
        "figures": figures,
        "input_hash": "abc",
        "code": {},
        "timings": None,  # recorded before runs had timings
        "models": None,  # likewise before runs named their models
        "machine": None,  # and before they named their CPU
    }
    return results.make_record(results.RUN_FIELDS, values)


def write_experiment(
    root: Path, name: str, page: str, runs: list[dict], figures: dict[str, dict], failure: dict | None = None
) -> None:
    out = results.result_dir(name, root)
    atomic.write_text(out / results.PAGE, page)
    results.atomic_write_json(out / results.RUN, runs[-1])
    atomic.write_text(out / results.HISTORY, "".join(map(results.history_line, runs)))
    results.atomic_write_json(out / results.NOTEBOOK, {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    for figure_id, figure in figures.items():
        results.atomic_write_json(out / results.figure_file(figure_id), figure)
    if failure:
        results.atomic_write_json(out / results.FAILURE, failure)


def make_wiki(dest: Path) -> Path:
    """Build the fixture wiki's sources under ``dest``; returns its mkdocs.yml."""
    shutil.copytree(NOTES, dest / "site")
    figure = [
        {"id": "loss-curve", "caption": "Training loss per answer digit", "file": results.figure_file("loss-curve")}
    ]
    write_experiment(
        dest,
        "loss-shelf",
        "---\ntitle: The loss shelf\nproject: addition\nquestion: Why does loss plateau?\nexperiment: loss-shelf\n"
        "run_id: 20261126T120000Z\n---\n\nThe loss stalls, then drops.\n\n![[experiments/loss-shelf#loss-curve]]\n"
        "*Training loss per answer digit*\n",
        [_run("loss-shelf", "20261125T120000Z", 0.7, figure), _run("loss-shelf", "20261126T120000Z", 0.05, figure)],
        {"loss-curve": LOSS_FIGURE},
    )
    write_experiment(
        dest,
        "carry-probe",
        "---\ntitle: Probing for carries\nproject: addition\nexperiment: carry-probe\n---\n\nA probe per digit.\n",
        [_run("carry-probe", "20261124T120000Z", 0.3, [])],
        {},
        failure=results.make_record(
            results.FAILURE_FIELDS,
            {
                "run_id": "20261127T090000Z",
                "when": "2026-11-27T09:00:00Z",
                "cell": 3,
                "line": 12,
                "source": "check(n_digits)",
                "exception": "ValueError",
                "message": "n_digits must be > 0",
                "notebook": "build/failed/carry-probe.ipynb",
                "input_hash": "def",
                "code": {},
            },
        ),
    )
    config = dest / "mkdocs.yml"
    shutil.copy(REPO / "mkdocs.yml", config)
    return config


VAULT = Path(__file__).parent / "fixtures" / "vault"


def make_vault_wiki(dest: Path, vault: Path = VAULT) -> Path:
    """The fixture wiki with the fixture Obsidian vault read in place (the plugin's
    ``vault`` setting); returns its mkdocs.yml. The vault shows under ``vault/``."""
    config = make_wiki(dest)
    text = re.sub(
        r"^  - lab\b.*$", f"  - lab:\n      vault: {json.dumps(str(vault))}", config.read_text(), count=1, flags=re.M
    )
    config.write_text(text)
    return config


def add_sweep(root: Path, points: int = 3, name: str = "loss-shelf", sweep: str = "seeds") -> str:
    """A finished sweep of experiment ``name`` over ``points`` seeds, written as a sweep
    writes it (its page, sweep.json, and each point's page and run.json), without
    running anything; each point's page links to the experiment, as a copy of the
    experiment's page does. Returns the sweep page's path in the docs dir."""
    records = []
    for seed in range(points):
        run = _run(name, f"2026112{seed}T120000Z", 0.05 + seed / 100, []) | {"params": {"seed": seed}, "seed": seed}
        folder = results.point_dir(name, sweep, f"seed-{seed}", root)
        atomic.write_text(
            folder / results.PAGE,
            f"---\ntitle: The loss shelf\nexperiment: {name}\n---\n\nSeed {seed} of [[experiments/{name}]].\n",
        )
        results.atomic_write_json(folder / results.RUN, run)
        metrics = {metric: value["value"] for metric, value in run["metrics"].items()}
        point = {"id": f"seed-{seed}", "params": {"seed": seed}, "status": "ok", "run_id": run["run_id"]}
        records.append(
            results.make_record(results.SWEEP_POINT_FIELDS, point | {"input_hash": "abc", "metrics": metrics})
        )
    record = {
        "name": name,
        "sweep": sweep,
        "grid": {"seed": list(range(points))},
        "engine": "pool",
        "updated": "2026-11-27T12:00:00+00:00",
        "commit": None,
        "dirty": False,
        "inputs_commit": None,
        "points": records,
        "aggregates": [],
        "figures": [],
    }
    folder = results.sweep_dir(name, sweep, root)
    results.atomic_write_json(folder / results.SWEEP, results.make_record(results.SWEEP_FIELDS, record))
    atomic.write_text(
        folder / results.PAGE,
        f"---\ntitle: 'The loss shelf: sweep {sweep}'\nexperiment: {name}\nsweep: {sweep}\n---\n\n"
        f"[[experiments/{name}]] over the grid `seed=0..{points - 1}`.\n",
    )
    return f"experiments/{name}/sweeps/{sweep}/index.md"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def served(root: Path, core: str = "properdocs", strict: bool = True) -> Iterator[str]:
    """Build the wiki at ``root`` with ``core`` (``--strict`` unless told) and serve the
    built site on 127.0.0.1 while the block runs; its base URL."""
    build = [sys.executable, "-m", core, "build", "--quiet", *(["--strict"] if strict else [])]
    subprocess.run(build, cwd=root, check=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    handler = functools.partial(_QuietHandler, directory=str(root / "build" / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
