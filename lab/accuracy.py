"""Exact-match error counts on large held-out sets: is a model at six nines?

Six nines, as the lab measures it: 0 wrong answers on at least 1,000,000 uniform
held-out problems, and an error rate of at most 1e-4 in every cascade class S0..Sn on
an enriched held-out set (where long carry chains are common enough to count).

    counts = count_errors(model, AdditionData(5), n_uniform=1_000_000)
    counts.uniform_errors, counts.class_errors, counts.six_nines()

An answer is right when the arg-max at every answer position, given the true digits
before it, is the true digit: the same as greedy decoding getting the whole answer
right. The problems are drawn with their own seed, apart from the ones training
evaluates on, in chunks, so memory stays flat however many are scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lab import task as addition
from lab.data import AdditionData
from lab.train import EVAL_NINE_SHARE, position_scores

SEED = 987_654  # not train.EVAL_SEED: these problems are not the ones training watched
MAX_CLASS_RATE = 1e-4


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
