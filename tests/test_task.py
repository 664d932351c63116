"""The addition task against brute force over every 2- and 3-digit problem."""

import hashlib

import numpy as np
import pytest

from lab import task
from lab.task import BASE, CARRY, CASCADE, AdditionTask


def brute_force(a: np.ndarray, b: np.ndarray, n: int):
    """Carry-in, kind and answer digit per column 0..n, and the cascade class, from
    integer arithmetic on the operands, independent of lab.task's digit bookkeeping:
    column c receives a carry iff (a mod 10^c) + (b mod 10^c) >= 10^c."""
    cols = range(n + 1)
    carry_in = np.stack([(a % 10**c + b % 10**c) >= 10**c for c in cols], 1).astype(int)
    digit_sum = np.stack([(a // 10**c) % 10 + (b // 10**c) % 10 for c in cols], 1)
    right_sum_is_9 = np.pad(digit_sum[:, :-1] == 9, ((0, 0), (1, 0)))
    kinds = np.where(carry_in == 0, BASE, np.where(right_sum_is_9, CASCADE, CARRY))
    digits = np.stack([(a + b) // 10**c % 10 for c in cols], 1)
    # longest chain: carries out of consecutive columns, each but the first summing to 9
    chain = np.zeros(len(a), dtype=int)
    longest = chain.copy()
    for c in range(n):
        makes = digit_sum[:, c] >= 10
        passes = (digit_sum[:, c] == 9) & (carry_in[:, c] == 1)
        chain = np.where(makes, 1, np.where(passes, chain + 1, 0))
        longest = np.maximum(longest, chain)
    return carry_in, kinds, digits, longest


@pytest.mark.parametrize("n", [2, 3])
def test_labels_match_brute_force_on_every_problem(n):
    t = AdditionTask(n)
    batch = task.enumerate_all(t)
    a_values, b_values = (np.array(v, dtype=np.int64) for v in batch.values())
    assert len(set(zip(a_values.tolist(), b_values.tolist()))) == 10 ** (2 * n)
    carry_in, kinds, digits, classes = brute_force(a_values, b_values, n)
    np.testing.assert_array_equal(batch.column_carry_in, carry_in)
    np.testing.assert_array_equal(batch.column_case, kinds)
    np.testing.assert_array_equal(batch.column_answer, digits)
    np.testing.assert_array_equal(batch.cascade_class, classes)
    # emission order: most significant first
    np.testing.assert_array_equal(batch.answers, digits[:, ::-1])
    np.testing.assert_array_equal(batch.answers @ 10 ** np.arange(n, -1, -1), a_values + b_values)


def test_known_examples():
    t = AdditionTask(3)
    b = task.from_values(t, [555, 999, 123], [545, 1, 456])
    assert b.cascade_class.tolist() == [2, 3, 0]
    assert b.cases[0].tolist() == [CARRY, CASCADE, CARRY, BASE]  # 1100: A3 A2 A1 A0


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_encoding_reads_back_by_hand(n, reverse):
    t = AdditionTask(n, reverse=reverse)
    batch = task.sample(t, np.random.default_rng(n), 200)
    tokens = batch.tokens
    assert tokens.shape == (200, t.seq_len)
    assert (tokens[:, n] == task.PLUS).all() and (tokens[:, 2 * n + 1] == task.EQUALS).all()

    def number(row):
        return int("".join(map(str, row)))

    a, b = batch.values()
    assert [number(row) for row in tokens[:, :n]] == a  # operands: most significant first
    assert [number(row) for row in tokens[:, n + 1 : 2 * n + 1]] == b
    answer = tokens[:, t.answer_positions]
    if reverse:
        answer = answer[:, ::-1]
    assert [number(row) for row in answer] == [x + y for x, y in zip(a, b)]


def test_uniform_sampler_class_frequencies_match_enumeration():
    t = AdditionTask(3)
    exact = np.bincount(task.enumerate_all(t, split="train").cascade_class, minlength=4) / 1.0
    exact /= exact.sum()
    sampled = np.bincount(task.sample(t, np.random.default_rng(0), 200_000).cascade_class, minlength=4)
    sampled = sampled / sampled.sum()
    # 200k samples: binomial standard error below 0.0012 for every class
    np.testing.assert_allclose(sampled, exact, atol=0.005)
    assert exact[0] == pytest.approx(0.55**3, abs=0.01)  # P(no carry) ≈ 0.55 per column


def test_enriched_sampler_forces_the_chosen_share_of_nines():
    t = AdditionTask(5)
    rng = np.random.default_rng(1)
    uniform = task.sample(t, rng, 50_000)
    enriched = task.sample(t, rng, 50_000, nine_share=0.5)
    # a column sums to 9 if forced (0.5) or by chance (0.5 * 0.1)
    assert (uniform.column_sums == 9).mean() == pytest.approx(0.1, abs=0.005)
    assert (enriched.column_sums == 9).mean() == pytest.approx(0.55, abs=0.005)
    assert (enriched.cascade_class >= 3).mean() > 5 * (uniform.cascade_class >= 3).mean()


def test_contrast_sampler_forces_the_sums_either_side_of_nine():
    sums = task.sample(AdditionTask(5), np.random.default_rng(2), 50_000, contrast_share=0.4).column_sums
    # Forced to 8 with prob. 0.2 unless a = 9, to 10 with 0.2 unless a = 0; b is uniform
    # in the other columns: the 60% not forced (a sum of 8, 9, 10 comes 9, 10, 9 times in
    # 100) and the 4% forced where a rules the sum out (a = 0 or 9: each sum with b's 1 in 10)
    eight_or_ten = 0.2 * 0.9 + 0.6 * 0.09 + 0.2 * 0.1 * 0.1
    assert (sums == 8).mean() == pytest.approx(eight_or_ten, abs=0.004)
    assert (sums == 10).mean() == pytest.approx(eight_or_ten, abs=0.004)
    assert (sums == 9).mean() == pytest.approx(0.6 * 0.1 + 2 * 0.2 * 0.1 * 0.1, abs=0.004)


@pytest.mark.parametrize(
    ("nine_share", "split", "digest"),
    [(0.3, "train", "b57ddc1446fddd93"), (0.4, "heldout", "7d42cf7a78428df3"), (0.0, "train", "e19be01668da13d7")],
)
def test_the_nine_share_draws_are_pinned(nine_share, split, digest):
    # Published results were trained and scored on these draws (the digests were taken
    # before contrast_share existed): a new option must leave them as they are.
    batch = task.sample(AdditionTask(5), np.random.default_rng(7), 1000, nine_share, split=split)
    assert hashlib.sha256(batch.tokens.astype(np.int64).tobytes()).hexdigest()[:16] == digest


def test_held_out_split_is_disjoint_and_about_a_tenth():
    t = AdditionTask(2)
    train = task.enumerate_all(t, split="train")
    held = task.enumerate_all(t, split="heldout")
    assert len(train) + len(held) == 10_000
    assert 0.08 < len(held) / 10_000 < 0.12
    assert not set(zip(*train.values())) & set(zip(*held.values()))
    rng = np.random.default_rng(2)
    assert not task.is_held_out(*_digits(task.sample(t, rng, 5000, split="train"))).any()
    assert task.is_held_out(*_digits(task.sample(t, rng, 500, split="heldout"))).all()


def _digits(batch):
    return batch.a_digits, batch.b_digits


def test_right_digits_are_the_column_to_the_right():
    t = AdditionTask(3)
    b = task.from_values(t, [127], [405])
    d1, d2 = b.right_digits()
    # emission order A3 A2 A1 A0: right columns are 2, 1, 0, none
    assert d1[0].tolist() == [1, 2, 7, -1] and d2[0].tolist() == [4, 0, 5, -1]
