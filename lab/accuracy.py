"""Exact-match error counts on large held-out sets: is a model at six nines?

Six nines, as the lab measures it: 0 wrong answers on at least 1,000,000 uniform
held-out problems, and an error rate of at most 1e-4 in every cascade class S0..Sn on
an enriched held-out set (where long carry chains are common enough to count).

    counts = count_errors(model, AdditionData(5), n_uniform=1_000_000)
    counts.uniform_errors, counts.class_errors, counts.six_nines()

    reached = six_nines_from(trained)        # over a models.TrainedModel's checkpoints
    reached.step                             # first step from which it holds to the end

An answer is right when the arg-max at every answer position, given the true digits
before it, is the true digit: the same as greedy decoding getting the whole answer
right. The problems are drawn with their own seed, apart from the ones training
evaluates on, in chunks, so memory stays flat however many are scored.

When a training run reaches six nines is read from its saved checkpoints afterwards,
never during training (it would slow the training it times): ``six_nines_from``
walks back from the last checkpoint, screening each on a small set before the full
count, and stops at the first that fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lab import task as addition
from lab.data import AdditionData
from lab.dynamics import checkpoint_models
from lab.models import TrainedModel
from lab.train import EVAL_NINE_SHARE, position_scores

SEED = 987_654  # not train.EVAL_SEED: these problems are not the ones training watched
MAX_CLASS_RATE = 1e-4
SCREEN_N = 20_000  # uniform and enriched problems of the cheap screen before a full count


@dataclass(frozen=True)
class ErrorCounts:
    """Wrong answers among ``uniform_n`` uniform problems, and per cascade class
    (``[n_digits + 1]``: S0..Sn) among the enriched ones."""

    uniform_n: int
    uniform_errors: int
    class_n: tuple[int, ...]
    class_errors: tuple[int, ...]

    @property
    def class_rates(self) -> tuple[float, ...]:
        return tuple(e / n if n else float("nan") for e, n in zip(self.class_errors, self.class_n))

    @property
    def worst_class_rate(self) -> float:
        """The highest error rate of a cascade class that occurred."""
        return max(e / n for e, n in zip(self.class_errors, self.class_n) if n)

    def six_nines(self, min_uniform: int = 1_000_000, max_class_rate: float = MAX_CLASS_RATE) -> bool:
        """0 errors on at least ``min_uniform`` uniform problems, and every cascade class
        (that occurred) at most ``max_class_rate`` wrong."""
        classes_ok = all(e <= max_class_rate * n for e, n in zip(self.class_errors, self.class_n))
        return self.uniform_n >= min_uniform and self.uniform_errors == 0 and classes_ok


def wrong_answers(model: torch.nn.Module, batch: addition.Batch, chunk_size: int = 4096) -> np.ndarray:
    """Whether each problem's answer is wrong anywhere, ``[batch]`` bool."""
    tokens = torch.as_tensor(batch.tokens, device=next(model.parameters()).device)
    _, correct = position_scores(model, tokens, batch.task.predict_positions, chunk_size)
    return ~correct.all(1).numpy()


def count_errors(
    model: torch.nn.Module,
    data: AdditionData,
    n_uniform: int = 1_000_000,
    n_enriched: int = 200_000,
    seed: int = SEED,
    chunk: int = 100_000,
) -> ErrorCounts:
    """Score ``model`` on ``n_uniform`` uniform and ``n_enriched`` enriched held-out
    problems of ``data``'s task (drawn ``chunk`` at a time)."""
    rng = np.random.default_rng(seed)
    n_classes = data.n_digits + 1
    uniform_errors = 0
    class_n, class_errors = np.zeros(n_classes, dtype=np.int64), np.zeros(n_classes, dtype=np.int64)
    for share, total in ((0.0, n_uniform), (EVAL_NINE_SHARE, n_enriched)):
        for start in range(0, total, chunk):
            batch = addition.sample(data.task, rng, min(chunk, total - start), share, split="heldout")
            wrong = wrong_answers(model, batch)
            if share == 0.0:
                uniform_errors += int(wrong.sum())
            else:
                class_n += np.bincount(batch.cascade_class, minlength=n_classes)
                class_errors += np.bincount(batch.cascade_class, weights=wrong, minlength=n_classes).astype(np.int64)
    return ErrorCounts(n_uniform, uniform_errors, tuple(class_n.tolist()), tuple(class_errors.tolist()))


# --------------------------------------------------------------------------- over a checkpoint series


@dataclass(frozen=True)
class CheckpointCount:
    """One checkpoint's counts: the screen's, and the full count's unless the screen
    already failed (``full`` None; the last checkpoint always has one)."""

    step: int
    screen: ErrorCounts
    full: ErrorCounts | None
    passed: bool  # clean on the screen and on the full count


@dataclass(frozen=True)
class SixNinesRun:
    """Where six nines starts and holds to the end of training.

    ``step``: the earliest step of the run of passing checkpoints that reaches the
    last one, None if the last checkpoint fails. ``checks``: the checkpoints counted,
    ascending by step: that run and the failing checkpoint just before it (earlier
    ones are never counted).
    """

    step: int | None
    checks: tuple[CheckpointCount, ...]
    n_uniform: int
    n_enriched: int

    @property
    def final(self) -> ErrorCounts:
        """The last checkpoint's full count."""
        return self.checks[-1].full


def six_nines_from(
    trained: TrainedModel,
    n_uniform: int = 1_000_000,
    n_enriched: int = 200_000,
    n_screen: int = SCREEN_N,
    seed: int = SEED,
) -> SixNinesRun:
    """The first checkpoint step of ``trained`` from which six nines holds to the end.

    Walks back from the last checkpoint. Each is screened with ``count_errors`` on
    ``n_screen`` uniform and ``n_screen`` enriched problems; a wrong uniform answer or
    a class over ``MAX_CLASS_RATE`` fails it without the full count on ``n_uniform``
    and ``n_enriched``; the last checkpoint is counted in full whatever its screen
    says, so that ``final`` always covers them. A full count of add2 costs about as
    much compute as half its training. The walk stops at the first failing
    checkpoint, so a late relapse ends the run there and only the passing run at the
    end is counted in full.

    A checkpoint passes when both counts satisfy ``ErrorCounts.six_nines`` with
    ``min_uniform`` their own size: with ``n_uniform`` below 1,000,000 that is the
    same rule on fewer problems (tests, smoke runs), not six nines.
    """
    data = trained.data
    n_screen = min(n_screen, n_uniform)  # a screen larger than the full count saves nothing
    checks: list[CheckpointCount] = []
    last = trained.steps[-1]
    for step, model in checkpoint_models(trained, trained.steps[::-1]):
        screen = count_errors(model, data, n_screen, n_screen, seed + 1)  # problems apart from the full count's
        # the last checkpoint is counted in full whatever its screen says: the final counts
        full = count_errors(model, data, n_uniform, n_enriched, seed) if _clean(screen) or step == last else None
        passed = _clean(screen) and full is not None and _clean(full)
        checks.append(CheckpointCount(step, screen, full, passed))
        if not passed:
            break
    passing = [check.step for check in checks if check.passed]
    return SixNinesRun(min(passing, default=None), tuple(reversed(checks)), n_uniform, n_enriched)


def _clean(counts: ErrorCounts) -> bool:
    """No uniform error and no class over the rate, whatever the number of problems."""
    return counts.six_nines(min_uniform=counts.uniform_n)
