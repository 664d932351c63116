"""Overhead of `make experiment` over plain `python`, measured side by side.

The same script (the demo fixture: imports the lab's record API and plotly, records
a metric, a figure and a table) runs in a temporary git repository that looks like
the lab's to a user: the Makefile, pyproject.toml and constraints.txt at its root,
`.venv` linked to the interpreter running this bench, everything committed. It runs
alternately as `python experiments/demo.py`, as `python -m lab run demo` and as
`make experiment NAME=demo` (what a user types: make's check that `.venv` is
installed, the runner's git calls for the commit and dirty flag, kernel start,
papermill, publishing), so all three see the same machine load. Prints median wall
times and the overhead of `make experiment`; target: at most 2 s more. The load
average is printed too: on a shared 2-core machine, other jobs stretch the runner's
extra work.
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
VENV = Path(sys.prefix)
REPEATS = 3


def make_repository(root: Path) -> None:
    """A committed git repository with the lab's Makefile and the demo experiment, whose
    `.venv` is this interpreter's, already installed (older build inputs than its stamp)."""
    stamp = VENV / ".installed"
    if not stamp.exists():
        sys.exit(f"{stamp} is missing: run this through `make bench`, which installs .venv first")
    (root / "experiments").mkdir()
    shutil.copy(FIXTURE, root / "experiments" / "demo.py")
    for name in ("Makefile", "pyproject.toml", "constraints.txt", ".gitignore"):
        shutil.copy(REPO / name, root / name)
    before = stamp.stat().st_mtime - 60
    for name in ("pyproject.toml", "constraints.txt"):
        os.utime(root / name, (before, before))
    (root / ".venv").symlink_to(VENV)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "init", "--quiet"], cwd=root, check=True)
    (root / ".git" / "info" / "exclude").write_text(".venv\n")  # the link is not a directory for .gitignore
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "bench"], cwd=root, check=True)


def timed(command: list[str], cwd: Path) -> float:
    # As from a user's shell: no make variables inherited from `make bench`.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def report(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"{label:<24} {median:5.2f} s   (runs: {', '.join(f'{t:.2f}' for t in times)})")
    return median


def main() -> None:
    commands = {
        "plain python": [sys.executable, "experiments/demo.py"],
        "python -m lab run": [sys.executable, "-m", "lab", "run", "demo"],
        "make experiment": ["make", "--no-print-directory", "experiment", "NAME=demo"],
    }
    times: dict[str, list[float]] = {label: [] for label in commands}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_repository(root)
        for _ in range(REPEATS):
            for label, command in commands.items():
                times[label].append(timed(command, root))
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout
        recorded = (root / "site" / "experiments" / "demo" / "run.json").read_text()
        assert commit.strip() in recorded, "the runs did not record the repository's commit"
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    medians = {label: report(label, t) for label, t in times.items()}
    overhead = medians["make experiment"] - medians["plain python"]
    print(f"{'overhead of make':<24} {overhead:+5.2f} s   (target: at most +2 s)")


if __name__ == "__main__":
    main()
