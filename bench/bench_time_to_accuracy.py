"""Time to accuracy: the default preset trained from scratch on this machine.

    .venv/bin/python bench/bench_time_to_accuracy.py [--preset add2] [k=v overrides]

Trains without the cache, evaluating every ``eval_every`` steps on 20,000 uniform
(and 20,000 enriched) held-out problems, and prints the training time to 99%, 99.9%
and 99.99% exact match (the history's seconds leave evaluations out; the wall time
with them is printed too); then the final exact match on 100,000 uniform held-out problems, and per cascade class on
100,000 enriched held-out ones. Targets: >= 99.99% overall, >= 99.9% in every class,
within 10 minutes on 2 cores, and held to the end (the minimum over the last quarter
of evaluations is printed too).

The thread count is pinned to ``lab.numerics.THREADS`` before anything is timed, so a
machine with more cores does not flatter the result; the environment is printed.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from lab import models, numerics, presets, train


def first_reaching(history: dict, threshold: float) -> tuple[int, float] | None:
    """(step, seconds) of the first evaluation with exact match >= threshold."""
    for step, seconds, exact in zip(history["step"], history["seconds"], history["exact"]):
        if exact >= threshold:
            return step, seconds
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="add2")
    parser.add_argument("overrides", nargs="*", help="k=v overrides of the preset")
    args = parser.parse_args()

    # Only the accuracy curve matters here: no checkpoint series (each checkpoint is
    # also an evaluation, dense early), and evaluations sparse enough not to dominate.
    overrides = {"eval_size": 20_000, "eval_every": 200, "n_checkpoints": 2, **presets.parse_settings(args.overrides)}
    preset = models.resolve(args.preset, overrides)
    environment = numerics.pin()
    print(
        f"{args.preset}: {preset.model}\n{preset.training}\n{environment} "
        f"(pinned to {numerics.THREADS} threads; the machine has {os.cpu_count()} CPUs)"
    )
    model = models.build_model(preset.model, preset.training.data)
    start = time.perf_counter()
    run = train.train(model, preset.training, log=print)
    wall = time.perf_counter() - start
    h = run.history

    print(
        f"\ntrained {preset.training.steps} steps in {run.seconds:.0f}s of training "
        f"({wall:.0f}s wall, the evaluations on 20,000 problems included)"
    )
    for threshold in (0.99, 0.999, 0.9999):
        hit = first_reaching(h, threshold)
        if hit is None:
            print(f"time to {100 * threshold:g}%: not reached")
            continue
        print(f"time to {100 * threshold:g}%: {hit[1]:6.0f}s of training (step {hit[0]})")
    last_quarter = h["exact"][-max(1, len(h["exact"]) // 4) :]
    print(f"min exact over the last quarter of training: {100 * min(last_quarter):.3f}%")

    final = train.evaluator(preset.training.data, 100_000, next(model.parameters()).device)(model)
    errors = round((1 - final["exact"]) * 100_000)
    print(f"\nfinal exact match, 100,000 uniform held-out: {100 * final['exact']:.4f}% ({errors} errors)")
    rates = ", ".join(f"S{c}: {100 * (1 - a):.4f}%" for c, a in enumerate(final["class_exact"]) if not np.isnan(a))
    print(f"error rate per cascade class (100,000 enriched held-out): {rates}")


if __name__ == "__main__":
    main()
