"""Overhead of `make experiment` over plain `python`, measured side by side.

The same script (the demo fixture: imports the lab's record API and plotly, records
a metric, a figure and a table) runs in a temporary repository root, alternately as
`python experiments/demo.py` and as `python -m lab run demo` (what `make experiment`
calls), so both see the same machine load. Prints median wall times and the
difference; target: at most 2 s more. The load average is printed too: on a shared
2-core machine, other jobs stretch the runner's extra work (kernel start, papermill).
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "experiments" / "demo.py"
REPEATS = 3


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def report(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"{label:<18} {median:5.2f} s   (runs: {', '.join(f'{t:.2f}' for t in times)})")
    return median


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "experiments").mkdir()
        shutil.copy(FIXTURE, root / "experiments" / "demo.py")
        plain, runner = [], []
        for _ in range(REPEATS):
            plain.append(timed([sys.executable, "experiments/demo.py"], root))
            runner.append(timed([sys.executable, "-m", "lab", "run", "demo"], root))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    overhead = report("python -m lab run", runner) - report("plain python", plain)
    print(f"{'overhead':<18} {overhead:+5.2f} s   (target: at most +2 s)")


if __name__ == "__main__":
    main()
