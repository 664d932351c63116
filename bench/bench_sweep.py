"""Sweeps: 4 points on the pool with --jobs 2 against the same 4 points run one after
another, and the Ray engine (a local instance) against the pool at the same concurrency.

Each point is the grid fixture (tests/fixtures/experiments/grid.py) fitting a line for
``--steps`` gradient steps. A point also costs its process and kernel starts and its
page (about 2.5 s of CPU, partly on a second core), which run in parallel too but
cannot be halved. So the fixture's work must dominate, as training does in the lab's
real points (minutes each): the default, 400,000 steps, is about 4 s of work a point.
The bench prints the cores the serial runs kept busy on average (CPU time over wall):
two at a time on 2 cores can at best reach that over 2. Target: the pool at most 0.6x
the serial time.

First, planning: a 10,000-point grid (``seed=0,...,9999``, confirmed) parsed, checked,
given its point ids and planned against an empty sweep, as ``make sweep`` does before
any point starts. Target: under a second.

    .venv/bin/python bench/bench_sweep.py [--steps 400000] [--rounds 3] [--plan-only]

The contenders run in interleaved rounds, each round in another order, and the medians
are compared. Ray binds the machine's address even when told 127.0.0.1: run the bench
inside ``unshare -n`` (then ``ip link set lo up``) with ``RAY_AUTH_MODE=token``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "experiments" / "grid.py"
SEEDS = (0, 1, 2, 3)


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def lab(root: Path, *args: str) -> float:
    """Seconds ``python -m lab ARGS`` takes in ``root``; it must succeed."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "lab", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"},
    )
    if done.returncode:
        raise SystemExit(f"python -m lab {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - t0


def fresh_root(base: Path, name: str) -> Path:
    root = base / name
    (root / "experiments").mkdir(parents=True)
    shutil.copy(FIXTURE, root / "experiments" / "grid.py")
    return root


class _Planned(Exception):
    """Raised by the stand-in engine: the sweep got as far as starting its points."""


def plan_seconds(base: Path, n: int) -> float:
    """Seconds ``sweep.sweep`` takes over an ``n``-point grid over seeds, from the command
    line's text until the engine would start the first point (every point due)."""
    from lab.runner import engines, scripts, sweep
    from lab.runner import grid as grids

    root = fresh_root(base, "plan")

    def engine(name, due, *_):
        assert len(due) == n
        raise _Planned

    real, engines.run_pool = engines.run_pool, engine
    t0 = time.perf_counter()
    try:
        script = scripts.read_script("grid", root)
        grid = grids.parse_grid([f"seed={','.join(map(str, range(n)))}"], script)
        sweep.sweep(script, grid, grids.grid_id(grid), root, lambda line: None, confirmed=True)
    except _Planned:
        pass
    finally:
        engines.run_pool = real
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400_000, help="gradient steps of each point's fit")
    parser.add_argument("--plan-only", action="store_true", help="only the planning of 10,000 points")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the contenders (medians kept)")
    args = parser.parse_args()
    steps = args.steps
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        planning = plan_seconds(Path(tmp), 10_000)
    print(f"planning a 10,000-point grid: {planning:.2f} s (target < 1 s)")
    if args.plan_only:
        return
    grid = [f"seed={','.join(map(str, SEEDS))}", f"steps={steps}"]
    contenders = {
        "serial": lambda root: sum(lab(root, "run", "grid", f"seed={seed}", f"steps={steps}") for seed in SEEDS),
        "pool2": lambda root: lab(root, "sweep", "grid", *grid, "--jobs", "2"),
        "pool1": lambda root: lab(root, "sweep", "grid", *grid, "--jobs", "1"),
        "ray": lambda root: lab(root, "sweep", "grid", *grid, "--engine", "ray"),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    busy: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        base = Path(tmp)
        # Interleaved rounds, each in another order, so that load from other processes (and
        # a machine warming up) hits every contender alike; medians ignore the odd round.
        for r in range(args.rounds):
            order = list(contenders)[r % len(contenders) :] + list(contenders)[: r % len(contenders)]
            for name in order:
                cpu = children_cpu()
                times[name].append(contenders[name](fresh_root(base, f"{name}-{r}")))
                if name == "serial":
                    busy.append((children_cpu() - cpu) / times[name][-1])
    serial, pool2, pool1, ray = (statistics.median(times[name]) for name in contenders)
    cores = statistics.median(busy)
    print(f"4 points of the grid fixture ({steps} steps each), {os.cpu_count()} cores, median of {args.rounds} rounds")
    print(f"  one after another (4 x make experiment): {serial:6.1f} s   {cores:.2f} cores busy on average")
    print(
        f"  sweep, pool, --jobs 2:                   {pool2:6.1f} s   {pool2 / serial:.2f}x serial "
        f"(target <= 0.60x; at best {max(0.5, cores / 2):.2f}x on 2 cores)"
    )
    print(f"  sweep, pool, --jobs 1:                   {pool1:6.1f} s   {pool1 / serial:.2f}x serial")
    print("  sweep, ray (local instance, 2 CPUs a task, so one at a time on 2 cores):")
    print(
        f"                                           {ray:6.1f} s   {ray / pool1:.2f}x the pool at --jobs 1, "
        f"{ray - pool1:+.1f} s"
    )


if __name__ == "__main__":
    main()
