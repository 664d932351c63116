"""``python -m lab …``: the commands the Makefile calls.

Only ``train`` reaches the research wing (torch, TransformerLens), and only inside
the command after its settings are checked, so ``list``, ``status`` and the wiki stay
fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab import LabError, numerics, suggest


def _parser() -> argparse.ArgumentParser:
    # The docstring's first line, without the reST backquotes it is written with
    p = argparse.ArgumentParser(prog="python -m lab", description=__doc__.splitlines()[0].replace("``", ""))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run one experiment: run NAME [k=v ...]")
    run.add_argument("name")
    run.add_argument("params", nargs="*", help="parameter overrides, k=v")
    run.add_argument(
        "--params",
        dest="params_text",
        default="",
        help="overrides as one string, as make passes PARAMS: quotes are kept",
    )

    stale = sub.add_parser("run-stale", help="run every experiment that is stale or never ran (or only NAME)")
    stale.add_argument("names", nargs="*", help="only these experiments (default: every one)")
    sub.add_parser("status", help="fresh / stale / failed / never run, per experiment and sweep")
    refresh = sub.add_parser("refresh", help="run everything stale, experiments then sweeps, with a plan and an ETA")
    refresh.add_argument("--plan", action="store_true", help="print the plan and its estimate, run nothing")
    sub.add_parser("list", help="the experiments there are, with their parameters")
    sub.add_parser("costs", help="seconds per phase of each experiment and sweep, and what a full refresh takes")

    reproduce = sub.add_parser(
        "reproduce",
        help="re-run with the committed parameters in a scratch place and compare every metric with run.json",
    )
    reproduce.add_argument("names", nargs="*", help="experiments (default: all with committed results)")
    reproduce.add_argument(
        "--cached", action="store_true", help="load trained models from the cache instead of retraining them"
    )
    reproduce.add_argument("--sweep", help="an archived sweep of the one experiment named: its points at their commit")
    reproduce.add_argument("--point", help="with --sweep: only this point")

    keep = sub.add_parser("archive", help="keep an experiment's (or a sweep's) results as a record of their commit")
    keep.add_argument("name")
    keep.add_argument("--sweep", help="the sweep to archive (default: the experiment's own results)")
    keep.add_argument("--why", default="", help="why it is kept as a record, in words (required)")
    keep.add_argument("--undo", action="store_true", help="take the archive mark away")

    inputs = sub.add_parser(
        "check-inputs", help="whether runs made from uncommitted changes were made from a commit's inputs all the same"
    )
    inputs.add_argument("name")
    inputs.add_argument("--sweep", help="check the sweep's points (default: the experiment's own run)")

    sweep = sub.add_parser(
        "sweep",
        help="run an experiment over a grid: sweep NAME k=v1,v2 ... "
        "or sweep NAME --sweep NAMED (declared in its header)",
    )
    sweep.add_argument("name")
    sweep.add_argument("grid", nargs="*", help="parameters with their values, k=v1,v2")
    sweep.add_argument(
        "--grid", dest="grid_text", default="", help="the grid as one string, as make passes GRID: quotes are kept"
    )
    sweep.add_argument("--sweep", dest="named", help="a sweep declared in the script's header (sweeps:)")
    sweep.add_argument(
        "--name", dest="sweep_id", help="the sweep's id (default: the declared name, or one derived from the grid)"
    )
    sweep.add_argument(
        "--jobs",
        type=int,
        default=numerics.default_jobs(),
        help=f"points run at a time by the pool engine (default: cores / {numerics.THREADS} threads a point)",
    )
    sweep.add_argument("--engine", default="pool", help="pool (local processes) or ray (RAY_ADDRESS)")
    sweep.add_argument(
        "--yes", action="store_true", help="run a grid past the points a sweep runs unconfirmed (make's CONFIRM=1)"
    )

    point = sub.add_parser("sweep-point")  # one point, run by the pool engine: not for users
    point.add_argument("name")
    point.add_argument("--slot", required=True)
    point.add_argument("--target", required=True)
    point.add_argument("--params-json", required=True)

    new = sub.add_parser("new-experiment", help="scaffold experiments/NAME.py")
    new.add_argument("name")

    note = sub.add_parser("new-note", help="scaffold a note: new-note KIND TITLE")
    note.add_argument("kind", help="project, insight, idea or journal")
    note.add_argument("title")
    note.add_argument("--project", default="", help="the project it belongs to (default: the only one there is)")

    book = sub.add_parser("notebook", help="open experiments/NAME.py in JupyterLab (make notebook NAME=...)")
    book.add_argument("name")
    book.add_argument("--port", type=int, default=8888)

    from lab import presets  # torch-free: the names and descriptions only

    train = sub.add_parser(
        "train",
        help="train (or load from cache) a model preset",
        description="Train (or load from the cache) a model preset and print its accuracy per answer digit "
        "and per cascade class.",
        epilog="presets:\n" + "\n".join(f"  {name:<10} {p.description}" for name, p in presets.PRESETS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("preset", help="one of: " + ", ".join(presets.PRESETS))
    train.add_argument("overrides", nargs="*", help="settings changed from the preset, k=v")
    train.add_argument("--retrain", action="store_true", help="ignore the cache")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            return train_command(args.preset, args.overrides, retrain=args.retrain)
        if args.command == "new-note":
            from lab.wiki import scaffold

            return scaffold.new_note_command(args.kind, args.title, project=args.project)

        if args.command == "notebook":
            return notebook_command(args.name, args.port)

        if args.command == "costs":
            from lab.runner import costs

            return costs.costs_command()

        if args.command == "check-inputs":
            from lab.runner import committed

            return committed.check_inputs_command(args.name, args.sweep)

        from lab.runner import commands, params

        if args.command == "run":
            return commands.run_command(args.name, args.params + params.split_params(args.params_text))
        if args.command == "run-stale":
            return commands.run_stale_command(names=args.names)
        if args.command == "status":
            return commands.status_command()
        if args.command == "refresh":
            return commands.refresh_command(dry_run=args.plan)
        if args.command == "list":
            return commands.list_command()
        if args.command == "reproduce":
            return commands.reproduce_command(args.names, cached=args.cached, sweep=args.sweep, point=args.point)
        if args.command == "archive":
            return commands.archive_command(args.name, args.sweep, args.why, undo=args.undo)
        if args.command == "sweep":
            return commands.sweep_command(
                args.name,
                args.grid + params.split_params(args.grid_text),
                args.named,
                args.sweep_id,
                args.jobs,
                args.engine,
                confirmed=args.yes,
            )
        if args.command == "sweep-point":
            return commands.sweep_point_command(args.name, args.slot, Path(args.target), args.params_json)
        if args.command == "new-experiment":
            return commands.new_experiment_command(args.name)
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    raise AssertionError(f"unhandled command {args.command}")


def notebook_command(name: str, port: int = 8888) -> int:
    """Open ``experiments/NAME.py`` in JupyterLab, as a notebook (jupytext), with this
    interpreter (the lab's .venv) as its kernel. Replaces this process with JupyterLab
    (``exec``), so that Ctrl-C and signals to ``make`` reach the server."""
    import os
    import shutil
    from importlib.util import find_spec

    from lab.runner import scripts

    path = scripts.find_script(name, Path("."))  # a mistyped name: one line, with the closest names
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent))
    if find_spec("jupyterlab") is None or jupyter is None:
        raise LabError("JupyterLab is not installed: make notebook NAME=... installs it (the notebook extra)")
    # The kernel is the server's own interpreter (ipykernel's python3 spec): this .venv.
    argv = [jupyter, "lab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", str(path)]
    if os.geteuid() == 0:  # a container or CI machine runs as root, which JupyterLab refuses unless told
        argv.insert(2, "--allow-root")
    print(f"opening {path} in JupyterLab (kernel: {sys.executable}); Ctrl-C stops it", flush=True)
    os.execv(jupyter, argv)
    return 0  # not reached: execv replaced this process


def train_command(preset: str, items: list[str], retrain: bool = False) -> int:
    """``python -m lab train PRESET [k=v ...]``: train or load, then print the accuracy table.

    The settings are checked (names and types) before torch is imported.
    """
    from lab import presets

    if preset not in presets.PRESETS:  # the suggestion here: presets.py runs in kernels and stays as it is
        hint = suggest.did_you_mean(preset, presets.PRESETS)
        raise LabError(f"unknown preset {preset!r}{hint}; presets: {', '.join(presets.PRESETS)}")
    overrides = presets.parse_settings(items)
    presets.resolve(preset, overrides)
    from lab import models  # torch: only for this command

    trained = models.load_or_train(preset, overrides, retrain=retrain)
    if trained.data.source == "addition":
        print(accuracy_table(trained.model, trained.data))
    else:
        print(f"final loss on repeated tokens: {trained.history['loss'][-1]:.4f}")
    print(f"cache: {trained.path}")
    return 0


def accuracy_table(model, data, size: int = 20_000) -> str:
    """Accuracy per answer digit (uniform held-out) and per cascade class (enriched
    held-out) of an addition model, as a plain-text table."""
    from lab import train

    scores = train.evaluator(data, size, next(model.parameters()).device)(model)
    lines = [
        f"held-out exact match: {100 * scores['exact']:.3f}%  ({size} uniform problems)",
        "",
        "digit  " + "  ".join(f"{label:>7}" for label in data.loss_labels()),
        "acc %  " + "  ".join(f"{100 * a:7.3f}" for a in scores["digit_acc"]),
        "",
        "class  " + "  ".join(f"{'S' + str(c):>7}" for c in range(len(scores["class_exact"]))),
        "exact% " + "  ".join(f"{100 * a:7.3f}" for a in scores["class_exact"]),
    ]
    return "\n".join(lines)
