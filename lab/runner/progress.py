"""Progress of the driver's long tasks: a sweep's points, ``make experiments`` and
``make reproduce``. Each says ``k/N`` and an ETA estimated from the durations the
results already record (a point's or an experiment's last ``duration_s``), corrected
by the durations measured as the task goes.

Terminal only: the lines go through the runner's ``say`` (stdout, so a captured run
keeps them), and in a terminal a tqdm bar, one line for the whole task, stays under
them on stderr. Nothing here reaches a page or a record.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from lab import results

Say = Callable[[str], None]


def recorded_duration(run_json: Path) -> float | None:
    """The ``duration_s`` of a recorded run, or None when there is none to read."""
    try:
        record = results.read_json(run_json)
    except (OSError, ValueError):
        return None
    value = record.get("duration_s") if isinstance(record, dict) else None
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def clock(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Meter:
    """``k/N`` and the ETA of ``N`` tasks run ``jobs`` at a time.

    ``estimates`` holds each task's recorded duration (None where nothing is recorded:
    such a task counts as the mean of the known ones, or of those finished so far)."""

    def __init__(self, label: str, estimates: dict[str, float | None], say: Say, jobs: int = 1):
        self.label, self.say, self.jobs = label, say, max(1, jobs)
        self.estimates = dict(estimates)
        self.finished: dict[str, float] = {}
        self.started = time.monotonic()
        self._lock = threading.Lock()  # points finish on the pool's threads
        # disable=None: a bar only when stderr is a terminal; a log or a capture gets the lines alone
        self.bar = tqdm(total=len(estimates), desc=label, unit="task", file=sys.stderr, disable=None, leave=False)

    def _typical(self) -> float | None:
        known = list(self.finished.values()) or [e for e in self.estimates.values() if e]
        return sum(known) / len(known) if known else None

    def eta(self) -> float | None:
        """Seconds left: the estimates of the tasks not finished, spread over ``jobs``,
        scaled by how the finished ones compared with their estimates."""
        typical = self._typical()
        left = [self.estimates[t] or typical for t in self.estimates if t not in self.finished]
        if not left:
            return 0.0
        if typical is None:
            return None
        # tasks finished against what was recorded for them: a slower machine, a busier one
        pairs = [(self.finished[t], self.estimates[t]) for t in self.finished if self.estimates.get(t)]
        pace = sum(a for a, _ in pairs) / sum(e for _, e in pairs) if pairs else 1.0
        return pace * sum(left) / min(self.jobs, len(left))

    def plan(self) -> str:
        """The opening estimate, from the recorded durations alone."""
        eta = self.eta()
        if eta is None:
            return "no recorded duration to estimate from"
        return f"about {clock(eta)} from recorded durations"

    def tick(self, task: str, seconds: float | None = None) -> str:
        """Count ``task`` as finished (in ``seconds``, when measured); `` (k/N, ETA …)``."""
        with self._lock:
            self.finished[task] = seconds if seconds is not None else (self.estimates.get(task) or 0.0)
            self.bar.update(1)
            eta = self.eta()
            k, n = len(self.finished), len(self.estimates)
            self.bar.set_postfix_str(f"ETA {clock(eta)}" if eta is not None else "", refresh=True)
        tail = f", ETA {clock(eta)}" if eta is not None and k < n else ""
        return f" ({k}/{n}, {clock(time.monotonic() - self.started)} so far{tail})"

    def write(self, line: str) -> None:
        """``say`` a line without breaking the bar under it."""
        if self.bar.disable:
            self.say(line)
        else:
            with tqdm.external_write_mode(file=sys.stderr):
                self.say(line)

    def close(self) -> None:
        self.bar.close()
