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

Timing changes no number: this module is part of the recorder (``lab.executed``'s
``RECORDER``), never in a run's record of the code it executed, and a ``with
phases.timed(...)`` around code is left out of that code's fingerprint
(``lab.fingerprint``), so wrapping a function in a phase stales no result and
retrains no model. One kernel runs one thread of lab code; the phases are not
meant to be opened from several threads at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

TRAINING = "training"
EVALUATION = "evaluation"
NAMES = (TRAINING, EVALUATION)  # the phases the run record has a field for

_totals: dict[str, float] = {}  # seconds per phase, closed intervals only
_open: list[str] = []  # the phases open now, innermost last
_since = 0.0  # when the innermost open phase last started counting (perf_counter)


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Count the seconds inside the block as phase ``name`` (``"training"``,
    ``"evaluation"``), and not as any phase around it."""
    global _since
    if name not in NAMES:
        raise ValueError(f"phase {name!r}: use one of {', '.join(NAMES)}")
    now = time.perf_counter()
    if _open:  # the phase around this one stops counting until this one closes
        _totals[_open[-1]] = _totals.get(_open[-1], 0.0) + now - _since
    _open.append(name)
    _since = now
    try:
        yield
    finally:
        now = time.perf_counter()
        _totals[name] = _totals.get(name, 0.0) + now - _since
        _open.pop()
        _since = now  # the phase around it, if any, counts again from here


def totals() -> dict[str, float]:
    """Seconds spent so far in each phase (every name in ``NAMES``, 0.0 if never entered),
    the phase open now included up to this moment."""
    found = {name: _totals.get(name, 0.0) for name in NAMES}
    if _open:
        found[_open[-1]] += time.perf_counter() - _since
    return found


def reset() -> None:
    """Forget every total (for tests; a kernel counts from its start)."""
    global _since
    _totals.clear()
    _open.clear()
    _since = 0.0
