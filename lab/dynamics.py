"""Training dynamics: learning curves per answer digit and per carry case over the
checkpoint series, and automatic detection of when a curve changes.

    curves = case_curves(trained, batch)          # loss/acc [n_ckpt, answer_len, 3]
    step = find_step(curves.steps, curves.loss[:, 2, BASE])
    step.at                                       # where the loss dropped

A phase change shows as a step in a curve: a plateau, a fast drop, another plateau.
``find_step`` fits the best two-level step function (least squares), which is robust
to noise and needs no threshold; ``crossing`` gives the first step at which a curve
passes a level (e.g. accuracy 0.9), for "when is X learned".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

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
    """Score every checkpoint of ``trained`` on ``batch``, per answer digit and carry case."""
    tokens = torch.as_tensor(batch.tokens)
    positions = batch.task.predict_positions
    cases = batch.cases
    losses, accs = [], []
    for _, model in checkpoint_models(trained):
        loss, correct = position_scores(model, tokens.to(next(model.parameters()).device), positions)
        losses.append(_per_case(loss.numpy(), cases))
        accs.append(_per_case(correct.float().numpy(), cases))
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
