"""``python -m lab …``: the commands the Makefile calls.

Only ``train`` reaches the research wing (torch, TransformerLens), and only inside
the command, so ``list``, ``status`` and the wiki stay fast.
"""

from __future__ import annotations

import argparse
import sys

from lab import LabError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lab", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one experiment: run NAME [k=v ...]")
    run.add_argument("name")
    run.add_argument("params", nargs="*", help="parameter overrides, k=v")
    run.add_argument("--params", dest="params_text", default="",
                     help="overrides as one string, as make passes PARAMS: quotes are kept")

    sub.add_parser("run-stale", help="run every experiment that is stale or never ran")
    sub.add_parser("status", help="fresh / stale / failed / never run, per experiment")
    sub.add_parser("list", help="the experiments there are, with their parameters")

    new = sub.add_parser("new-experiment", help="scaffold experiments/NAME.py")
    new.add_argument("name")

    note = sub.add_parser("new-note", help="scaffold a note: new-note KIND TITLE")
    note.add_argument("kind", help="project, insight, idea or journal")
    note.add_argument("title")

    train = sub.add_parser("train", help="train (or load from cache) a model preset")
    train.add_argument("preset")
    train.add_argument("overrides", nargs="*", help="training/config overrides, k=v")
    train.add_argument("--retrain", action="store_true", help="ignore the cache")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            from lab import train  # torch: only for this command

            return train.main(args.preset, args.overrides, retrain=args.retrain)
        if args.command == "new-note":
            from lab.wiki import notes

            return notes.new_note_command(args.kind, args.title)

        from lab import runner

        if args.command == "run":
            return runner.run_command(args.name, args.params + runner.split_params(args.params_text))
        if args.command == "run-stale":
            return runner.run_stale_command()
        if args.command == "status":
            return runner.status_command()
        if args.command == "list":
            return runner.list_command()
        if args.command == "new-experiment":
            return runner.new_experiment_command(args.name)
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    raise AssertionError(f"unhandled command {args.command}")
