"""Where a run's seconds went: the ``timings`` of its run record (``results.TIMING_FIELDS``).

The runner measures what happens outside the kernel: from the run's start to its
first cell (the kernel's start) and the writing of the page (``publish.assemble``).
Inside, papermill times each cell, and the kernel's phases (``lab.phases``, written
to ``phases.json`` after each cell) say how much of that was training and how much
evaluation; the rest of the cells' time is analysis. What none of these covers
(between cells, the kernel's shutdown, the lock, git's state) is ``other_s``, so the
fields add up to ``total_s``.
"""

from __future__ import annotations

from lab import phases, results

PLACES = 3  # milliseconds, like the cells' durations


def timings(
    kernel_start_s: float, cells: list[dict], seconds: dict[str, float] | None, page_s: float, total_s: float
) -> dict:
    """The ``timings`` record: ``seconds`` is what the kernel wrote (``results.read_phases``),
    None when it wrote nothing (then no cell ran inside a phase)."""
    seconds = seconds or {}
    cells_s = sum(cell["duration_s"] for cell in cells)
    # the kernel's own clock and papermill's can disagree by a little: a phase never
    # counts for more than the cells it ran in
    training = min(seconds.get(phases.TRAINING, 0.0), cells_s)
    evaluation = min(seconds.get(phases.EVALUATION, 0.0), cells_s - training)
    parts = {
        "kernel_start_s": round(kernel_start_s, PLACES),
        "training_s": round(training, PLACES),
        "evaluation_s": round(evaluation, PLACES),
        "analysis_s": round(cells_s - training - evaluation, PLACES),
        "page_s": round(page_s, PLACES),
    }
    other = max(0.0, round(total_s - sum(parts.values()), PLACES))
    # summed from the rounded parts, so that the record adds up to the millisecond
    total = round(sum(parts.values()) + other, PLACES)
    return results.make_record(results.TIMING_FIELDS, {**parts, "other_s": other, "total_s": total})
