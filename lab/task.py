"""The n-digit addition task: encoding, carry labels, cascade classes and samplers.

A problem is ``a+b=`` followed by the n+1 answer digits, zero-padded, most
significant first (or least significant first with ``reverse=True``)::

    n=3:   1 2 7 + 4 0 5 = 0 5 3 2        tokens 0-9 are digits, 10 is '+', 11 is '='

Digits are stored per *column*, least significant first: ``a_digits[:, 0]`` is the
units digit. Every answer digit has an incoming carry ("+0" or "+1") and a carry case:

* BASE      incoming carry 0: the digit is the column sum mod 10
* CARRY     incoming carry 1, made by the column to the right (its digits sum to >= 10)
* CASCADE   incoming carry 1 that the column to the right passed on (its digits sum to 9)

Each problem has a cascade class, as in published analyses of addition models
(Quirke & Barez, 2023): S0 no carry at all, S1 carries but none cascades, Sk the
longest carry chain: a column that makes a carry, then k-1 sum-9 columns passing
it on.

numpy only: the research code converts batches to tensors where it needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

PLUS, EQUALS = 10, 11
D_VOCAB = 12
TOKEN_NAMES = [str(d) for d in range(10)] + ["+", "="]

BASE, CARRY, CASCADE = 0, 1, 2
CASE_NAMES = ("base", "carry", "cascade")  # the carry cases, indexed by BASE, CARRY, CASCADE


@dataclass(frozen=True)
class AdditionTask:
    """The token layout of n-digit addition.

    Positions, for ``seq_len = 3n + 3``: ``a`` at 0..n-1, '+' at n, ``b`` at n+1..2n,
    '=' at 2n+1, answer at 2n+2..3n+2. The logits at position p predict token p+1.
    """

    n_digits: int
    reverse: bool = False

    def __post_init__(self):
        if self.n_digits < 1:
            raise ValueError(f"n_digits must be >= 1, got {self.n_digits}")

    @property
    def seq_len(self) -> int:
        return 3 * self.n_digits + 3

    @property
    def answer_len(self) -> int:
        return self.n_digits + 1

    @property
    def answer_positions(self) -> np.ndarray:
        """Token positions of the answer digits, ``[answer_len]``."""
        return np.arange(2 * self.n_digits + 2, self.seq_len)

    @property
    def predict_positions(self) -> np.ndarray:
        """Positions whose logits predict the answer digits, ``[answer_len]``."""
        return self.answer_positions - 1

    @property
    def answer_columns(self) -> np.ndarray:
        """Column (0 = units) of each answer digit in emission order, ``[answer_len]``."""
        cols = np.arange(self.answer_len)
        return cols if self.reverse else cols[::-1].copy()

    def answer_labels(self) -> list[str]:
        """Readable names of the answer digits in emission order: A5 … A0 (A0 = units)."""
        return [f"A{c}" for c in self.answer_columns]

    def batch(self, a_digits: np.ndarray, b_digits: np.ndarray) -> Batch:
        return Batch(self, np.asarray(a_digits, dtype=np.int64), np.asarray(b_digits, dtype=np.int64))


@dataclass(frozen=True, eq=False)
class Batch:
    """A batch of problems with their labels.

    ``a_digits``, ``b_digits``: ``[batch, n]`` columns, least significant first.
    Per-answer-digit arrays are ``[batch, answer_len]`` in emission order.
    """

    task: AdditionTask
    a_digits: np.ndarray
    b_digits: np.ndarray

    def __len__(self) -> int:
        return len(self.a_digits)

    @cached_property
    def column_sums(self) -> np.ndarray:
        """Digit sum of each column, without carry, ``[batch, n]``."""
        return self.a_digits + self.b_digits

    @cached_property
    def column_carry_in(self) -> np.ndarray:
        """Incoming carry of each answer column 0..n, ``[batch, n+1]``."""
        batch, n = self.a_digits.shape
        carry = np.zeros((batch, n + 1), dtype=np.int64)
        for col in range(n):
            carry[:, col + 1] = (self.column_sums[:, col] + carry[:, col]) >= 10
        return carry

    @cached_property
    def column_answer(self) -> np.ndarray:
        """The sum's digit in each column 0..n, ``[batch, n+1]``."""
        sums = np.pad(self.column_sums, ((0, 0), (0, 1)))
        return (sums + self.column_carry_in) % 10

    @cached_property
    def column_case(self) -> np.ndarray:
        """Carry case (BASE / CARRY / CASCADE) of each answer column 0..n, ``[batch, n+1]``."""
        case = np.full(self.column_carry_in.shape, BASE, dtype=np.int64)
        passed_on = np.pad(self.column_sums == 9, ((0, 0), (1, 0)))  # column to the right sums to 9
        case[self.column_carry_in == 1] = CARRY
        case[(self.column_carry_in == 1) & passed_on] = CASCADE
        return case

    @cached_property
    def cascade_class(self) -> np.ndarray:
        """Longest carry chain (0 = S0, 1 = S1, ...), ``[batch]``.

        A chain starts at a column whose digits sum to >= 10 and grows by one for
        each following column that sums to 9 and so passes the carry on.
        """
        run = np.zeros(len(self), dtype=np.int64)
        longest = np.zeros(len(self), dtype=np.int64)
        for col in range(self.column_sums.shape[1]):
            s = self.column_sums[:, col]
            run = np.where(s >= 10, 1, np.where((s == 9) & (run > 0), run + 1, 0))
            longest = np.maximum(longest, run)
        return longest

    def _emission(self, per_column: np.ndarray) -> np.ndarray:
        return per_column[:, self.task.answer_columns]

    @property
    def answers(self) -> np.ndarray:
        """Answer digits in emission order, ``[batch, answer_len]``."""
        return self._emission(self.column_answer)

    @property
    def carry_in(self) -> np.ndarray:
        """Incoming carry of each answer digit in emission order, ``[batch, answer_len]``."""
        return self._emission(self.column_carry_in)

    @property
    def cases(self) -> np.ndarray:
        """Carry case (BASE / CARRY / CASCADE) of each answer digit in emission order,
        ``[batch, answer_len]``."""
        return self._emission(self.column_case)

    def right_digits(self) -> tuple[np.ndarray, np.ndarray]:
        """Digits (d1, d2) of the column to the right of each answer digit, or -1 for
        the units column (it has none), each ``[batch, answer_len]``."""
        pad = ((0, 0), (1, 0))
        a = np.pad(self.a_digits, pad, constant_values=-1)[:, : self.task.answer_len]
        b = np.pad(self.b_digits, pad, constant_values=-1)[:, : self.task.answer_len]
        return self._emission(a), self._emission(b)

    @cached_property
    def tokens(self) -> np.ndarray:
        """The full token rows ``a+b=answer``, ``[batch, seq_len]``."""
        n = self.task.n_digits
        rows = np.empty((len(self), self.task.seq_len), dtype=np.int64)
        rows[:, :n] = self.a_digits[:, ::-1]
        rows[:, n] = PLUS
        rows[:, n + 1 : 2 * n + 1] = self.b_digits[:, ::-1]
        rows[:, 2 * n + 1] = EQUALS
        rows[:, 2 * n + 2 :] = self.answers
        return rows

    def values(self) -> tuple[list[int], list[int]]:
        """``a`` and ``b`` as Python ints (object arithmetic, so any n works)."""
        powers = np.array([10**i for i in range(self.task.n_digits)], dtype=object)
        return (self.a_digits.astype(object) @ powers).tolist(), (self.b_digits.astype(object) @ powers).tolist()


def from_values(task: AdditionTask, a: list[int], b: list[int]) -> Batch:
    """A batch from Python integers, each below ``10**n``."""
    n = task.n_digits

    def digits(values):
        if any(not 0 <= v < 10**n for v in values):
            raise ValueError(f"operands must be in [0, 10**{n})")
        return np.array([[(v // 10**i) % 10 for i in range(n)] for v in values], dtype=np.int64)

    return task.batch(digits(a), digits(b))


# --------------------------------------------------------------------------- sampling

# Held-out problems are those whose hash is 0 mod HOLDOUT_MODULUS; training never
# samples them. Disjoint by construction, for any n, with no set to keep in memory.
HOLDOUT_MODULUS = 10


def problem_hash(a_digits: np.ndarray, b_digits: np.ndarray) -> np.ndarray:
    """A well-mixed 64-bit hash of each problem, ``[batch]`` uint64."""
    h = np.full(len(a_digits), 0x9E3779B97F4A7C15, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for d in np.concatenate([a_digits, b_digits], axis=1).T.astype(np.uint64):
            h = (h ^ (d + np.uint64(1))) * np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(31)
    return h


def is_held_out(a_digits: np.ndarray, b_digits: np.ndarray) -> np.ndarray:
    """Whether each problem belongs to the held-out split, ``[batch]`` bool."""
    return problem_hash(a_digits, b_digits) % np.uint64(HOLDOUT_MODULUS) == 0


def _digits(rng: np.random.Generator, task: AdditionTask, size: int, nine_share: float, contrast_share: float):
    a = rng.integers(0, 10, (size, task.n_digits))
    b = rng.integers(0, 10, (size, task.n_digits))
    if nine_share > 0 or contrast_share > 0:
        u = rng.random((size, task.n_digits))
        # each column's forced sum: 9, or 8 or 10 (half the contrast share each), or none (-1)
        forced_sum = np.select(
            [u < nine_share, u < nine_share + contrast_share / 2, u < nine_share + contrast_share], [9, 8, 10], -1
        )
        forced_b = forced_sum - a
        # a sum of 8 cannot have a = 9, nor one of 10 a = 0: those columns stay uniform
        b = np.where((forced_sum >= 0) & (forced_b >= 0) & (forced_b <= 9), forced_b, b)
    return a, b


def sample(
    task: AdditionTask,
    rng: np.random.Generator,
    size: int,
    nine_share: float = 0.0,
    split: str = "train",
    contrast_share: float = 0.0,
) -> Batch:
    """Sample ``size`` problems from the ``split`` ("train" or "heldout").

    Both shares 0 is uniform over all problems. Otherwise each column is, with
    probability ``nine_share``, forced to sum to 9 ("enriched"), so cascades are common
    enough to learn and to measure; and with probability ``contrast_share`` forced to
    sum to 8 or to 10 (half each; where its ``a`` digit rules the sum out, 9 for 8 and
    0 for 10, the column stays uniform): the totals just either side of the carry
    threshold.
    """
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be 'train' or 'heldout', got {split!r}")
    want_held_out = split == "heldout"
    parts_a, parts_b, have = [], [], 0
    while have < size:
        draw = max(2 * (size - have), 64) * (HOLDOUT_MODULUS if want_held_out else 1)
        a, b = _digits(rng, task, draw, nine_share, contrast_share)
        keep = is_held_out(a, b) == want_held_out
        parts_a.append(a[keep])
        parts_b.append(b[keep])
        have += int(keep.sum())
    return task.batch(np.concatenate(parts_a)[:size], np.concatenate(parts_b)[:size])


def enumerate_all(task: AdditionTask, split: str | None = None) -> Batch:
    """Every n-digit problem (n <= 3), optionally only one split's."""
    n = task.n_digits
    if n > 3:
        raise ValueError(f"enumerating all {10 ** (2 * n)} problems of n={n} is too many")
    values = np.arange(10**n)
    a, b = np.meshgrid(values, values, indexing="ij")
    cols = 10 ** np.arange(n)
    a_d = (a.reshape(-1, 1) // cols) % 10
    b_d = (b.reshape(-1, 1) // cols) % 10
    if split is not None:
        keep = is_held_out(a_d, b_d) == (split == "heldout")
        a_d, b_d = a_d[keep], b_d[keep]
    return task.batch(a_d, b_d)
