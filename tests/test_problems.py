"""lab.analysis.problems: held-out samples, and answer digits by name with clear errors."""

import numpy as np
import pytest

from lab import LabError
from lab.analysis import problems
from lab.task import AdditionTask, is_held_out, sample

TASK = AdditionTask(2)


def test_heldout_is_the_heldout_split_drawn_from_a_seed_or_a_generator():
    batch = problems.heldout(TASK, 3, 50, nine_share=0.4)
    assert is_held_out(batch.a_digits, batch.b_digits).all()
    expected = sample(TASK, np.random.default_rng(3), 50, 0.4, split="heldout")
    np.testing.assert_array_equal(batch.tokens, expected.tokens)
    rng = np.random.default_rng(3)
    first, second = problems.heldout(TASK, rng, 50, 0.4), problems.heldout(TASK, rng, 50, 0.4)
    np.testing.assert_array_equal(first.tokens, expected.tokens)
    assert not np.array_equal(first.tokens, second.tokens)  # one generator: successive draws differ


def test_digit_index_is_the_emission_order():
    assert [problems.digit_index(TASK, d) for d in ("A2", "A1", "A0")] == [0, 1, 2]
    assert problems.digit_index(AdditionTask(2, reverse=True), "A0") == 0
    assert problems.digit_index(TASK, "A1", carry_in=True) == 1


@pytest.mark.parametrize(
    "digit, carry_in, message",
    [
        ("A3", False, "digit='A3': answer digits of 2-digit addition are A2, A1, A0"),
        ("a1", False, "digit='a1': answer digits of 2-digit addition are A2, A1, A0"),
        (
            "A0",
            True,
            "digit='A0': A0, the units digit, never receives a carry; answer digits of 2-digit "
            "addition with an incoming carry are A2, A1",
        ),
    ],
)
def test_a_bad_digit_names_the_valid_ones(digit, carry_in, message):
    with pytest.raises(LabError) as err:
        problems.digit_index(TASK, digit, carry_in=carry_in)
    assert str(err.value) == message
