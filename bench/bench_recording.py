"""What recording the executed lab code (lab.executed) costs a run.

A run's kernel compiles the lab with one added call at the top of each function
(``__lab_executed__("lab/FILE:QUALNAME")``, a set's ``add``). This bench trains the
same model from scratch in fresh processes, plain and recorded, in interleaved rounds,
and prints the median wall times and their ratio. On a loaded machine the ratio is
noisy, so it also counts the added calls and prices them: calls x the cost of one
``set.add`` (timed here), against the plain run's time. That bound does not depend on
what else the machine is doing.

    .venv/bin/python bench/bench_recording.py [--preset add2-fast] [--steps 300] [--rounds 3]

Target: at most 2% of a run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import timeit

# One training from scratch, in a fresh process; prints {"seconds": s, "calls": n}.
# Recording starts before the lab is imported, as the runner's kernel does it.
WORKLOAD = """
import json, sys, tempfile, time
mode, preset, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
calls = 0
if mode != "plain":
    from lab import executed
    if mode == "count":
        class Counting(set):
            def add(self, item):
                global calls
                calls += 1
                super().add(item)
        executed._seen = Counting()
    executed.start(tempfile.mkdtemp())
from lab import models, presets, train
p = presets.resolve(preset, {"steps": steps})
model = models.build_model(p.model, p.training.data)
start = time.perf_counter()
train.train(model, p.training, log=None)
print(json.dumps({"seconds": time.perf_counter() - start, "calls": calls}))
"""


def once(mode: str, preset: str, steps: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", WORKLOAD, mode, preset, str(steps)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="add2-fast")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    times: dict[str, list[float]] = {"plain": [], "recorded": []}
    for _ in range(args.rounds):  # interleaved: drift in the machine's load hits both alike
        for mode in times:
            times[mode].append(once(mode, args.preset, args.steps)["seconds"])
    calls = once("count", args.preset, args.steps)["calls"]
    seen: set[str] = set()
    per_call = min(timeit.repeat(lambda: seen.add("lab/train.py:train_step"), number=100_000, repeat=5)) / 1e5

    plain, recorded = (statistics.median(times[m]) for m in ("plain", "recorded"))
    priced = calls * per_call / plain
    print(f"{args.preset}, {args.steps} steps, {args.rounds} interleaved rounds (median wall seconds):")
    print(f"  plain    {plain:8.2f} s   {[round(t, 2) for t in times['plain']]}")
    print(f"  recorded {recorded:8.2f} s   {[round(t, 2) for t in times['recorded']]}")
    print(f"  recorded / plain: {recorded / plain:.3f}")
    print(
        f"  added calls: {calls:,} x {per_call * 1e9:.0f} ns = {calls * per_call:.4f} s, {100 * priced:.3f}% of the run"
    )


if __name__ == "__main__":
    main()
