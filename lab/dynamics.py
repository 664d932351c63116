"""Training dynamics: learning curves per answer digit and per carry case over the
checkpoint series, and automatic detection of when a curve changes.

    curves = case_curves(trained, batch)          # loss/acc [n_ckpt, answer_len, 3]
    step = find_step(curves.steps, curves.loss[:, 2, BASE])
    step.at                                       # where the loss dropped

A phase change shows as a step in a curve: a plateau, a fast drop, another plateau.
``find_step`` fits the best two-level step function (least squares), which is robust
to noise and needs no threshold; ``crossing`` gives the first step at which a curve
passes a level (e.g. accuracy 0.9), for "when is X learned"; ``find_shelf`` finds
the interval where an answer digit knows its column sum but not its carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from lab import scores
from lab.models import TrainedModel
from lab.task import CASE_NAMES, Batch
from lab.train import position_scores


def checkpoint_models(trained: TrainedModel, steps: list[int] | None = None) -> Iterator[tuple[int, torch.nn.Module]]:
    """``(step, model)`` for each checkpoint in ``steps`` (default: all), loading the
    weights into one model in turn rather than building one per checkpoint."""
    steps = trained.steps if steps is None else steps
    model = trained.at_step(steps[0])
    for step in steps:
        model.original_model.load_state_dict(trained.checkpoints[step])
        yield step, model


# The code that computes a checkpoint's per-position loss and correctness (``lab.scores``).
SCORING_CODE = ("lab/dynamics.py:case_curves", "lab/train.py:position_scores")


@dataclass(frozen=True)
class CaseCurves:
    """Mean loss and accuracy per checkpoint, answer digit and carry case (base,
    carry, cascade): ``loss``, ``acc`` ``[n_ckpt, answer_len, 3]``, NaN where a digit
    has no example of a case."""

    steps: np.ndarray
    loss: np.ndarray
    acc: np.ndarray
    labels: list[str]


def case_curves(trained: TrainedModel, batch: Batch) -> CaseCurves:
    """Score every checkpoint of ``trained`` on ``batch``, per answer digit and carry case
    (each checkpoint scored once and kept beside the model, ``lab.scores``)."""
    positions = batch.task.predict_positions

    def score(model: torch.nn.Module) -> dict[str, np.ndarray]:
        loss, correct = position_scores(
            model, torch.as_tensor(batch.tokens, device=next(model.parameters()).device), positions
        )
        return {"loss": loss.numpy(), "correct": correct.numpy()}

    per_step = scores.over_checkpoints(trained, "position-scores", SCORING_CODE, batch.tokens, score)
    losses = [_per_case(s["loss"], batch.cases) for s in per_step]
    accs = [_per_case(s["correct"].astype(np.float32), batch.cases) for s in per_step]
    return CaseCurves(np.array(trained.steps), np.array(losses), np.array(accs), batch.task.answer_labels())


def _per_case(values: np.ndarray, cases: np.ndarray) -> np.ndarray:
    """Mean of ``values`` ``[batch, answer_len]`` per digit and carry case, ``[answer_len, 3]``."""
    out = np.full((values.shape[1], len(CASE_NAMES)), np.nan)
    for k in range(len(CASE_NAMES)):
        mask = cases == k
        count = mask.sum(0)
        out[count > 0, k] = (values * mask).sum(0)[count > 0] / count[count > 0]
    return out


# --------------------------------------------------------------------------- change detection


@dataclass(frozen=True)
class Step:
    """A two-level step fitted to a curve: ``before`` up to ``at``, ``after`` from ``at`` on."""

    at: float
    before: float
    after: float

    @property
    def size(self) -> float:
        return self.after - self.before


def find_step(x: np.ndarray, y: np.ndarray) -> Step:
    """The best step function (least squares, two levels) through the curve ``y`` over
    ``x``: the change happens at ``x[i]``, the first point of the second level.

    Uses all split points at once via cumulative sums: O(n). NaNs are dropped.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if len(y) < 2:
        raise ValueError("a step needs a curve of at least two points")
    n = len(y)
    k = np.arange(1, n)  # size of the first segment
    head, head2 = np.cumsum(y)[:-1], np.cumsum(y**2)[:-1]
    tail, tail2 = y.sum() - head, (y**2).sum() - head2
    sse = head2 - head**2 / k + tail2 - tail**2 / (n - k)
    i = int(np.argmin(sse)) + 1
    return Step(float(x[i]), float(y[:i].mean()), float(y[i:].mean()))


def crossing(x: np.ndarray, y: np.ndarray, level: float) -> float:
    """First ``x`` at which ``y`` reaches ``level`` from its starting side, linearly
    interpolated between points; NaN if it never does."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    sign = 1.0 if y[0] < level else -1.0  # rising towards level, or falling
    past = np.flatnonzero(sign * (y - level) >= 0)
    if len(past) == 0:
        return float("nan")
    i = int(past[0])
    if i == 0:
        return float(x[0])
    frac = (level - y[i - 1]) / (y[i] - y[i - 1])
    return float(x[i - 1] + frac * (x[i] - x[i - 1]))


def transition(x: np.ndarray, y: np.ndarray) -> float:
    """Where the curve ``y`` over ``x`` passes halfway between the two levels of its best
    step (``find_step``), linearly interpolated between points: a phase change located
    between checkpoints rather than at one. NaNs are dropped; NaN if it never passes."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~np.isnan(y)
    step = find_step(x[keep], y[keep])
    return crossing(x[keep], y[keep], (step.before + step.after) / 2)


# --------------------------------------------------------------------------- the shelf


@dataclass(frozen=True)
class Shelf:
    """An answer digit's shelf: the checkpoints from step ``start`` to ``end`` (both
    included) where the two candidates "+0" and "+1" hold most of the probability while
    the split between them bets on the carry about as well as the base rate does (its
    cross-entropy gain near 0: a two-candidate regime, not a pause of the loss, which
    ``lab.plateau`` finds; and not "no information", which ``lab.information`` measures).

    ``depth`` is the digit's mean loss over those checkpoints (nats): the level the
    loss sits at, to compare with the carry's entropy (0.688 nats at a 45% carry rate).
    ``middle`` is the checkpoint nearest the interval's midpoint, where it is measured.
    """

    start: float
    end: float
    middle: float
    depth: float
    checkpoints: int

    @property
    def length(self) -> float:
        """Steps from the first shelf checkpoint to the last (0 for a single one)."""
        return self.end - self.start


def find_shelf(
    steps: np.ndarray,
    mass: np.ndarray,
    info: np.ndarray,
    loss: np.ndarray,
    min_mass: float = 0.8,
    max_info: float = 0.05,
) -> Shelf | None:
    """The longest run of consecutive checkpoints with ``mass >= min_mass`` and
    ``|info| <= max_info`` (the first, on a tie); None if no checkpoint qualifies.

    steps, mass, info, loss: ``[n_ckpt]``: the checkpoint steps, the mean P(+0) + P(+1),
    the split's cross-entropy gain over the base rate as a share of the carry's
    entropy (``carry.carry_ce_gain``: information minus calibration cost; negative
    when the split bets worse than the base rate) and the digit's mean loss.
    NaN never qualifies.
    """
    steps, mass, info, loss = (np.asarray(a, dtype=float) for a in (steps, mass, info, loss))
    on = (mass >= min_mass) & (np.abs(info) <= max_info)  # NaN compares False
    best: tuple[int, int] | None = None  # [first, last] indices of the longest run
    i = 0
    while i < len(on):
        if not on[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(on) and on[j + 1]:
            j += 1
        if best is None or steps[j] - steps[i] > steps[best[1]] - steps[best[0]]:
            best = (i, j)
        i = j + 1
    if best is None:
        return None
    first, last = best
    run = slice(first, last + 1)
    middle = first + int(np.argmin(np.abs(steps[run] - (steps[first] + steps[last]) / 2)))
    return Shelf(
        start=float(steps[first]),
        end=float(steps[last]),
        middle=float(steps[middle]),
        depth=float(loss[run].mean()),
        checkpoints=last - first + 1,
    )
