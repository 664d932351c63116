"""Time to six nines: a preset trained from scratch on this machine.

    .venv/bin/python bench/bench_time_to_accuracy.py [--preset add2] [k=v overrides]
    .venv/bin/python bench/bench_time_to_accuracy.py --preset tiny --n-uniform 2000 --n-enriched 2000
    # the fast recipe that experiments/training-recipe found:
    .venv/bin/python bench/bench_time_to_accuracy.py --preset add2-fast seed=3

Trains without the cache, with as little as possible slowing training down: no
evaluation but at the checkpoints (``eval_every`` = steps), on 200 problems, and
checkpoints kept every 5% of training from the middle on (``n_checkpoints`` 40: half
log-spaced, half even); neither counts in the seconds of training.
Then the saved checkpoints are scored afterwards, walking back from the last
(``accuracy.six_nines_from``: 0 errors on 1,000,000 uniform held-out problems, at
most 1e-4 wrong in every cascade class on 200,000 enriched ones). Prints the examples
(step x batch size) and seconds of training (the history's, training steps only) to
six nines, whether it held to the end, the final counts per class, and the time the
evaluation took. Target (issue 12): six nines within 250K examples and 2 minutes on
2 cores, held to the end.

The thread count is pinned to ``lab.numerics.THREADS`` before anything is timed, so a
machine with more cores does not flatter the result; the environment is printed.
"""

from __future__ import annotations

import argparse
import os
import time

from lab import accuracy, models, numerics, presets, train


def quiet_settings(preset: str, overrides: dict) -> dict:
    """The bench's training settings under ``overrides``: evaluations only at the
    checkpoints, on few problems; checkpoints every 5% late on."""
    steps = models.resolve(preset, overrides).training.steps
    return {"eval_every": steps, "eval_size": 200, "n_checkpoints": 40, **overrides}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="add2")
    parser.add_argument("--n-uniform", type=int, default=1_000_000, help="uniform problems per full count")
    parser.add_argument("--n-enriched", type=int, default=200_000, help="enriched problems per full count")
    parser.add_argument("overrides", nargs="*", help="k=v overrides of the preset")
    args = parser.parse_args()

    preset = models.resolve(args.preset, quiet_settings(args.preset, presets.parse_settings(args.overrides)))
    environment = numerics.pin()
    print(
        f"{args.preset}: {preset.model}\n{preset.training}\n{environment} "
        f"(pinned to {numerics.THREADS} threads; the machine has {os.cpu_count()} CPUs)"
    )
    model = models.build_model(preset.model, preset.training.data)
    start = time.perf_counter()
    run = train.train(model, preset.training, log=print)
    wall = time.perf_counter() - start
    trained = models.TrainedModel(model, preset, run.history, run.checkpoints)
    batch = preset.training.batch_size
    print(
        f"\ntrained {preset.training.steps} steps x {batch} = {preset.training.steps * batch:,} examples "
        f"in {run.seconds:.1f}s of training ({wall:.1f}s wall, with the checkpoints and their evaluations)"
    )

    start = time.perf_counter()
    reached = accuracy.six_nines_from(trained, args.n_uniform, args.n_enriched)
    print(
        f"\nscored {len(reached.checks)} checkpoints in {time.perf_counter() - start:.1f}s, walking back from the last:"
    )
    for check in reached.checks:
        counts = [("screen", check.screen), ("full", check.full)]
        text = "; ".join(
            f"{name} {c.uniform_errors} of {c.uniform_n:,} wrong, worst class {c.worst_class_rate:.1e}"
            for name, c in counts
            if c is not None
        )
        print(f"  step {check.step:>6}: {text}; six nines from here to the end: {'yes' if check.passed else 'no'}")

    if reached.step is None:
        print(f"\nsix nines ({args.n_uniform:,} uniform): not held at the end of training")
    else:
        print(
            f"\nsix nines ({args.n_uniform:,} uniform) from step {reached.step}, held to the end: "
            f"{reached.step * batch:,} examples, {trained.seconds_at(reached.step):.1f}s of training"
        )
    final = reached.final
    print(f"final uniform errors: {final.uniform_errors} of {final.uniform_n:,}")
    classes = ", ".join(f"S{c}: {e} of {n:,}" for c, (e, n) in enumerate(zip(final.class_errors, final.class_n)) if n)
    print(f"final errors per cascade class ({sum(final.class_n):,} enriched): {classes}")


if __name__ == "__main__":
    main()
