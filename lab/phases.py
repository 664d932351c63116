"""Where a run's seconds go inside its kernel: ``with phases.timed("training"):``.

The lab wraps the code that trains a model (``lab.models.load_or_train``, only when it
trains: a model loaded from the cache costs no training) and the code that scores
models on problems (``"evaluation"``) in ``timed``. Each phase adds up its wall-clock
seconds over the kernel's life; after every cell the kernel writes the totals into the
run's output directory beside ``executed.json`` (``lab.executed.write``), and the
runner puts them in ``run.json``'s ``timings`` (``lab.runner.timings``), where the
rest of the cells' time counts as analysis.

Phases nest: time counts once, in the innermost phase open. Scoring done inside
training (a checkpoint's evaluation, say) is evaluation, and the training phase is
paused meanwhile, so the phases of one kernel never add up to more than its time.

The kernel also notes each trained model it uses (``model_used``: its cache file and
the seconds its training took), so that a refresh can tell what it will have to train
again on a machine whose cache lacks it.

Timing changes no number: this module is part of the recorder (``lab.executed``'s
``RECORDER``), never in a run's record of the code it executed, and a ``with
phases.timed(...)`` around code is left out of that code's fingerprint
(``lab.fingerprint``), so wrapping a function in a phase stales no result and
retrains no model. One kernel runs one thread of lab code; the phases are not
meant to be opened from several threads at once.

Progress, terminal only: ``phases.progress(step, total)`` says how far the task under
way (a training) has got. A statement ``phases.progress(...)`` is left out of
fingerprints like a phase, so a loop can report its steps without staling anything.
In a runner's kernel the state goes to the sink that ``lab.executed.start`` sets
(``report_to``: a small file beside ``phases.json``, at most about once a second),
which the runner polls and shows as a bar with an ETA in its terminal: the kernel's
own output, which the notebook and the page keep, never sees it. Elsewhere (plain
``python``, ``make train``) a tqdm bar goes to stderr when stderr is a terminal and
the caller shows its progress (``shown``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

TRAINING = "training"
EVALUATION = "evaluation"
NAMES = (TRAINING, EVALUATION)  # the phases the run record has a field for

_totals: dict[str, float] = {}  # seconds per phase, closed intervals only
_open: list[str] = []  # the phases open now, innermost last
_since = 0.0  # when the innermost open phase last started counting (perf_counter)
_what: list[str | None] = []  # what each open phase is doing, for progress ("training add2")
_models: dict[str, float] = {}  # model cache file -> seconds its training took (``model_used``)


@contextmanager
def timed(name: str, what: str | None = None) -> Iterator[None]:
    """Count the seconds inside the block as phase ``name`` (``"training"``,
    ``"evaluation"``), and not as any phase around it. ``what`` names the task for
    progress (``"training add2"``); a task still showing progress ends with the block."""
    global _since
    if name not in NAMES:
        raise ValueError(f"phase {name!r}: use one of {', '.join(NAMES)}")
    now = time.perf_counter()
    if _open:  # the phase around this one stops counting until this one closes
        _totals[_open[-1]] = _totals.get(_open[-1], 0.0) + now - _since
    _open.append(name)
    _what.append(what)
    _since = now
    try:
        yield
    finally:
        now = time.perf_counter()
        _totals[name] = _totals.get(name, 0.0) + now - _since
        _open.pop()
        _what.pop()
        _since = now  # the phase around it, if any, counts again from here
        if _task is not None and _task.depth > len(_open):  # a training that raised, say
            _end_task()


def totals() -> dict[str, float]:
    """Seconds spent so far in each phase (every name in ``NAMES``, 0.0 if never entered),
    the phase open now included up to this moment."""
    found = {name: _totals.get(name, 0.0) for name in NAMES}
    if _open:
        found[_open[-1]] += time.perf_counter() - _since
    return found


def model_used(file: str, training_s: float) -> None:
    """The kernel used the trained model cached as ``file`` (a name in the model cache),
    loaded or trained, whose training took ``training_s``: what a refresh pays again
    where the cache lacks it (``lab.runner.refresh``). Like ``progress``, a statement
    ``phases.model_used(...)`` whose arguments call nothing is left out of fingerprints."""
    _models[file] = round(training_s, 3)


def models() -> dict[str, float]:
    """The models used so far: ``{cache file: training seconds}``."""
    return dict(_models)


def reset() -> None:
    """Forget every total, task and model used (for tests; a kernel counts from its start)."""
    global _since, _tasks, _report
    if _task is not None:
        _end_task()
    _totals.clear()
    _models.clear()
    _open.clear()
    _what.clear()
    _since = 0.0
    _tasks = 0
    _report = None


# --------------------------------------------------------------------------- progress

REPORT_EVERY_S = 1.0  # the sink hears of a task at most this often (and of its first and last step)

Report = Callable[[dict[str, Any]], None]
_report: Report | None = None  # where progress goes in a runner's kernel (``report_to``)
_tasks = 0  # tasks begun in this process: the sink tells one training from the next by it


class _Task:
    """The task under way: how far it has got, and its terminal bar outside a runner."""

    def __init__(self, number: int, what: str, total: int):
        self.number, self.what, self.total = number, what, total
        self.step = 0
        self.started = time.monotonic()
        self.reported = float("-inf")  # when the sink last heard of it
        self.depth = len(_open)  # it ends, at the latest, with the phase open around it
        self.bar: Any = None  # a tqdm bar on stderr, outside a runner only
        self.stdout: Any = None  # sys.stdout as it was before the bar, to put back

    def state(self) -> dict[str, Any]:
        seconds = round(time.monotonic() - self.started, 3)
        return {"task": self.number, "what": self.what, "step": self.step, "total": self.total, "seconds": seconds}


_task: _Task | None = None


def report_to(sink: Report | None) -> None:
    """Send progress to ``sink`` (a state: ``{"task", "what", "step", "total",
    "seconds"}``) instead of a terminal bar; None puts the terminal back."""
    global _report
    _report = sink


def progress(step: int, total: int, shown: bool = True) -> None:
    """The task under way is at ``step`` of ``total`` (a training's step, before it is
    taken). Step 0, a step back or another total begins a new task; ``step >= total``
    ends it. ``shown``: whether a terminal bar may show it outside a runner (a caller
    asked for silence passes False); a runner's sink hears of every task."""
    global _task, _tasks
    if _task is None or step == 0 or step < _task.step or total != _task.total:
        if _task is not None:
            _end_task()
        _tasks += 1
        _task = _Task(_tasks, _label(), total)
        if _report is None and shown and sys.stderr.isatty():
            _open_bar(_task)
    _task.step = step
    now = time.monotonic()
    if _report is not None and (step >= total or now - _task.reported >= REPORT_EVERY_S):
        _task.reported = now
        _report(_task.state())
    if _task.bar is not None:
        _task.bar.update(step - _task.bar.n)
    if step >= total:
        _end_task()


def _label() -> str:
    """What the innermost phase open says it is doing, else its name, else ``working``."""
    return next((what for what in reversed(_what) if what), _open[-1] if _open else "working")


def _open_bar(task: _Task) -> None:
    """A tqdm bar on stderr for ``task``; meanwhile what the task prints to stdout goes
    above the bar (tqdm's ``DummyTqdmFile``), not through it."""
    from tqdm import tqdm
    from tqdm.contrib import DummyTqdmFile

    task.bar = tqdm(total=task.total, desc=task.what, unit="step", file=sys.stderr, leave=False, dynamic_ncols=True)
    task.stdout = sys.stdout
    sys.stdout = DummyTqdmFile(sys.stdout)


def _end_task() -> None:
    global _task
    task, _task = _task, None
    if task is not None and task.bar is not None:
        sys.stdout.flush()
        sys.stdout = task.stdout
        task.bar.close()
