"""Sweeps: 4 points on the pool with --jobs 2 against the same 4 points run one after
another, and the Ray engine (a local instance) against the pool at the same concurrency.

Each point is the grid fixture (tests/fixtures/experiments/grid.py) fitting a line for
STEPS gradient steps: seconds of CPU work, so that running two at a time on two cores
has something to gain. Target: the pool at most 0.6x the serial time.

    .venv/bin/python bench/bench_sweep.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "experiments" / "grid.py"
STEPS = 40_000
SEEDS = (0, 1, 2, 3)


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


def main() -> None:
    grid = [f"seed={','.join(map(str, SEEDS))}", f"steps={STEPS}"]
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        base = Path(tmp)
        serial_root = fresh_root(base, "serial")
        serial = sum(lab(serial_root, "run", "grid", f"seed={seed}", f"steps={STEPS}") for seed in SEEDS)
        pool2 = lab(fresh_root(base, "pool2"), "sweep", "grid", *grid, "--jobs", "2")
        pool1 = lab(fresh_root(base, "pool1"), "sweep", "grid", *grid, "--jobs", "1")
        ray = lab(fresh_root(base, "ray"), "sweep", "grid", *grid, "--engine", "ray")
    print(f"4 points of the grid fixture ({STEPS} steps each), {os.cpu_count()} cores")
    print(f"  one after another (4 x make experiment): {serial:6.1f} s")
    print(f"  sweep, pool, --jobs 2:                   {pool2:6.1f} s   {pool2 / serial:.2f}x serial (target <= 0.60x)")
    print(f"  sweep, pool, --jobs 1:                   {pool1:6.1f} s   {pool1 / serial:.2f}x serial")
    print("  sweep, ray (local instance, 2 CPUs a task, so one at a time on 2 cores):")
    print(
        f"                                           {ray:6.1f} s   {ray / pool1:.2f}x the pool at --jobs 1, "
        f"{ray - pool1:+.1f} s"
    )


if __name__ == "__main__":
    main()
