"""Progress of the driver's long tasks: a sweep's points, ``make experiments`` and
``make reproduce``. Each says ``k/N`` and an ETA estimated from the durations the
results already record (a point's or an experiment's last ``duration_s``), corrected
by the durations measured as the task goes (``Meter``). And inside one run, the
kernel's trainings: step ``s/N`` with an ETA from the seconds its steps took so far
(``Watch``, polling what ``lab.phases.progress`` leaves in the run's output folder).

Terminal only: the lines go through the runner's ``say`` (stdout, so a captured run
keeps them), and in a terminal a tqdm bar, one line per task, stays under them on
stderr. Nothing here reaches a page or a record: the kernel's own output, which the
notebook keeps, never carries progress.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from tqdm import tqdm
from tqdm.contrib import DummyTqdmFile

from lab import results

Say = Callable[[str], None]
UNEVEN = 3.0  # a recorded duration this many times off its sweep's median does not set the pace


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


def typical_point(name: str, root: Path) -> float | None:
    """What a point of ``name`` takes when its own sweep has no record of one: the median
    of the recorded points of the experiment's sweeps (archived ones too: their
    durations are this machine's), else the experiment's own last run, else None."""
    known = []
    for sweep in results.sweep_names(name, root):
        folder = results.sweep_dir(name, sweep, root)
        try:
            points = (results.load_sweep(name, sweep, root) or {"points": []})["points"]
        except ValueError:  # a malformed record: status names it; an estimate goes without
            continue
        known += [d for p in points if (d := recorded_duration(folder / results.POINTS / p["id"] / results.RUN))]
    return statistics.median(known) if known else recorded_duration(results.result_dir(name, root) / results.RUN)


class Meter:
    """``k/N`` and the ETA of ``N`` tasks run ``jobs`` at a time.

    ``estimates`` holds each task's recorded duration (None where nothing is recorded:
    such a task counts as the mean of the known ones, or of those finished so far).
    ``alike``: the tasks should take about as long as each other (a sweep's points), so
    a record far off their median is taken as a fluke of its run and does not set the
    pace; tasks of every size (a refresh: 10 s to an hour) leave it False."""

    def __init__(self, label: str, estimates: dict[str, float | None], say: Say, jobs: int = 1, alike: bool = False):
        self.label, self.say, self.jobs, self.alike = label, say, max(1, jobs), alike
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
        even = self._even()
        pairs = [(self.finished[t], self.estimates[t]) for t in self.finished if self.estimates.get(t) in even]
        pace = sum(a for a, _ in pairs) / sum(e for _, e in pairs) if pairs else 1.0
        return pace * sum(left) / min(self.jobs, len(left))

    def _even(self) -> set[float]:
        """The recorded durations that may set the pace: of tasks ``alike``, those within
        ``UNEVEN`` times their median (a point once recorded with its model already
        cached, 51 s where its neighbours took 314 s, would otherwise triple the ETA of
        all the rest); otherwise all of them."""
        known = [e for e in self.estimates.values() if e]
        if not known or not self.alike:
            return set(known)
        middle = statistics.median(known)
        return {e for e in known if middle / UNEVEN <= e <= middle * UNEVEN}

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


# --------------------------------------------------------------------------- a run's trainings

POLL_S = 0.5  # how often the runner reads the kernel's progress (the kernel writes it about once a second)
STEP_BAR = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps{postfix}"


def task_eta(state: dict[str, Any]) -> float | None:
    """Seconds left to a task at ``step`` of ``total`` after ``seconds``: its steps so
    far, evaluations included, give the pace; None before the first step."""
    step, total, seconds = state["step"], state["total"], state["seconds"]
    return seconds / step * (total - step) if step > 0 and total > step else None


def task_line(place: str, state: dict[str, Any]) -> str:
    """``[place] training add2: 300/600 steps, 31 s so far, ETA 31 s`` (``… in 62 s`` once done)."""
    head = f"[{place}] {state['what']}: {min(state['step'], state['total'])}/{state['total']} steps"
    if state["step"] >= state["total"]:
        return f"{head} in {clock(state['seconds'])}"
    eta = task_eta(state)
    return f"{head}, {clock(state['seconds'])} so far" + (f", ETA {clock(eta)}" if eta is not None else "")


class Watch:
    """A run's kernel tasks (its trainings) as the runner's terminal shows them, from
    the state that ``read`` returns (``results.read_progress`` of the run's output folder).

    In a terminal, one tqdm bar per task with its ETA on stderr, and a line when it
    ends; elsewhere (a log, a capture, a sweep's point) a line when a task is first
    seen, at each tenth of its steps and at its end. ``with watch:`` polls on a thread
    while the kernel runs; ``poll()`` reads at once (before a cell's line, say)."""

    def __init__(self, place: str, say: Say, read: Callable[[], dict | None], bars: bool | None = None):
        self.place, self.say, self.read = place, say, read
        self.bars = sys.stderr.isatty() if bars is None else bars
        self.task: int | None = None  # the number of the task shown
        self.done = False  # whether it has ended
        self.tenth = -1  # the last tenth of its steps said (no bar)
        self.bar: Any = None
        self._lock = threading.Lock()  # polled from its thread and from the cells' hook
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> None:
        """Show what the kernel last reported, if anything is new."""
        state = self.read()
        if not _valid(state):
            return
        with self._lock:
            if state["task"] != self.task:
                self._close_bar()
                self.task, self.done, self.tenth = state["task"], False, -1
                if self.bars:
                    desc = f"[{self.place}] {state['what']}"
                    self.bar = tqdm(total=state["total"], desc=desc, file=sys.stderr, leave=False, bar_format=STEP_BAR)
            if self.done:
                return
            ended = state["step"] >= state["total"]
            if self.bar is not None:
                self.bar.update(min(state["step"], state["total"]) - self.bar.n)
                eta = task_eta(state)
                self.bar.set_postfix_str(f"{clock(state['seconds'])} so far, ETA {clock(eta)}" if eta else "")
            else:
                tenth = 10 * state["step"] // max(1, state["total"])
                if tenth > self.tenth and not ended:
                    self.tenth = tenth
                    self.say(task_line(self.place, state))
            if ended:
                self.done = True
                self._close_bar()
                self.say(task_line(self.place, state))

    def __enter__(self) -> Watch:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lab-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if kind is None:
            self._safely_poll()  # a task that ended after the last poll still gets its line
        with self._lock:
            self._close_bar()

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self._safely_poll()

    def _safely_poll(self) -> None:
        try:
            self.poll()
        except (OSError, ValueError):  # a closed terminal, a pipe gone: progress is a courtesy
            pass

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _valid(state: dict | None) -> bool:
    """A state as ``lab.phases`` reports it: anything else (an older kernel's) is not shown."""
    kinds = {"task": int, "what": str, "step": int, "total": int, "seconds": (int, float)}
    return isinstance(state, dict) and all(isinstance(state.get(k), t) for k, t in kinds.items())


def above_bars(stream: TextIO, clip: bool = False) -> TextIO:
    """``stream`` for the kernel's output echoed to the terminal: where bars show
    (stderr is a terminal), each line goes above them (tqdm's ``DummyTqdmFile``)
    instead of through the bar being drawn, and with ``clip`` it is cut at the
    terminal's width (``Clipped``)."""
    if not sys.stderr.isatty():
        return stream
    above: TextIO = DummyTqdmFile(stream)  # type: ignore[assignment]
    return Clipped(above, shutil.get_terminal_size().columns) if clip else above


class Clipped:
    """A terminal stream whose lines end at ``width`` columns, the last one an ellipsis.

    The kernel's own lines can be long (``training add2: ModelConfig(...)
    TrainConfig(...)`` is about 500 characters) and wrap over many rows under the bars;
    the notebook and the run's log keep them whole. Only the terminal's echo is cut."""

    def __init__(self, stream: TextIO, width: int):
        self.stream, self.width = stream, max(width, 8)
        self.column = 0  # characters already on the current row

    def write(self, text: str) -> int:
        out = []
        for piece in text.splitlines(keepends=True):
            line, end = piece.rstrip("\r\n"), piece[len(piece.rstrip("\r\n")) :]
            room = self.width - self.column
            if len(line) <= room:
                out.append(line)
                self.column += len(line)
            elif room > 0:
                out.append(line[: room - 1] + "\N{HORIZONTAL ELLIPSIS}")
                self.column = self.width
            if end:
                out.append(end)
                self.column = 0
        self.stream.write("".join(out))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()
