"""The problems an analysis runs on: held-out samples of a model's addition task, and
its answer digits by name.

    batch = problems.heldout(trained.task, seed, 1000, nine_share=0.4)
    d = problems.digit_index(trained.task, "A2", carry_in=True)   # 0 for 2-digit addition

Analyses score held-out problems only (``split="heldout"``: training never sampled
them), so the split is fixed here rather than spelled out in every experiment.
numpy only, like ``lab.task``: ``lab.checks`` can validate a digit before any kernel starts.
"""

from __future__ import annotations

import numpy as np

from lab import LabError
from lab.task import AdditionTask, Batch, sample


def heldout(task: AdditionTask, rng: np.random.Generator | int, size: int, nine_share: float = 0.0) -> Batch:
    """``size`` held-out problems of ``task``; ``rng`` is a generator (successive calls
    draw different problems) or a seed. ``nine_share > 0`` enriches carry cascades
    (``lab.task.sample``)."""
    return sample(task, np.random.default_rng(rng), size, nine_share, split="heldout")


def digit_index(task: AdditionTask, digit: str, carry_in: bool = False) -> int:
    """Index in emission order (the answer axis of batches and analyses) of the answer
    digit named ``digit`` (``A0`` = units). With ``carry_in``, the digit must be one
    that can receive a carry: any but A0. LabError naming the valid digits otherwise."""
    labels = task.answer_labels()
    valid = [label for label in labels if not (carry_in and label == "A0")]
    if digit not in valid:
        why = "A0, the units digit, never receives a carry; " if carry_in and digit == "A0" else ""
        raise LabError(
            f"digit={digit!r}: {why}answer digits of {task.n_digits}-digit addition"
            f"{' with an incoming carry' if carry_in else ''} are {', '.join(valid)}"
        )
    return labels.index(digit)
