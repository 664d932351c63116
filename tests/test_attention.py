"""Attention patterns against TransformerLens' cache, the staircase reading against a
hand-built pattern, and the per-example figure's slider."""

import numpy as np
import pytest
import torch

from lab import task as addition
from lab.analysis import attention
from lab.data import AdditionData
from lab.models import ModelConfig, build_model

DATA = AdditionData(3)
TASK = DATA.task


@pytest.fixture(scope="module")
def model():
    cfg = ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=64)
    return build_model(cfg, DATA, device="cpu").eval()


@pytest.fixture(scope="module")
def tokens() -> torch.Tensor:
    return torch.as_tensor(DATA.sample(np.random.default_rng(0), 10))


def test_patterns_are_the_cached_hook_patterns(model, tokens):
    pattern = attention.patterns(model, tokens, chunk_size=4)  # several chunks
    assert pattern.shape == (10, 2, 2, TASK.seq_len, TASK.seq_len)
    _, cache = model.run_with_cache(tokens)
    for layer in range(2):
        torch.testing.assert_close(pattern[:, layer], cache[f"blocks.{layer}.attn.hook_pattern"])


def test_sequence_labels_name_the_digits_by_column():
    labels = attention.sequence_labels(addition.AdditionTask(2))
    assert labels == ["a1", "a0", "+", "b1", "b0", "=", "A2", "A1", "A0"]
    tokens = addition.from_values(addition.AdditionTask(2), [47], [5]).tokens
    assert attention.token_labels(addition.AdditionTask(2), tokens)[0][:2] == ["a1=4", "a0=7"]


def test_a_staircase_pattern_reads_as_one():
    """Each position predicting answer digit A_c splits its attention evenly over a_c and
    b_c (the top digit A_3, which has no column, attends to '='): the staircase."""
    n = TASK.n_digits
    pattern = torch.zeros(TASK.seq_len, TASK.seq_len)
    pattern[:, 0] = 1.0
    for query, column in zip(TASK.predict_positions, TASK.answer_columns):
        pattern[query] = 0.0
        if column == n:
            pattern[query, 2 * n + 1] = 1.0
        else:
            pattern[query, n - 1 - column] = pattern[query, 2 * n - column] = 0.5
    by_column = attention.column_attention(pattern, TASK)
    expected = torch.zeros(TASK.answer_len, n)
    for row, column in enumerate(TASK.answer_columns):
        if column < n:
            expected[row, column] = 1.0
    torch.testing.assert_close(by_column, expected)
    shares = attention.staircase_shares(pattern[None], TASK)
    torch.testing.assert_close(shares["own"], torch.ones(1))
    torch.testing.assert_close(shares["right"], torch.zeros(1))


def test_example_figure_slider_shows_one_example_at_a_time(model, tokens):
    pattern = attention.patterns(model, tokens[:3])
    names = attention.token_labels(TASK, tokens[:3].numpy())
    fig = attention.example_patterns_figure(
        pattern, attention.sequence_labels(TASK), names, ["first", "second", "third"]
    )
    assert len(fig.data) == 3 * 2 * 2
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["first", "second", "third"]
    visible = np.array([s.args[0]["visible"] for s in steps])
    assert (visible.sum(1) == 4).all() and (visible.sum(0) == 1).all()
    assert "a2=" in fig.data[0].text[0][0]


def test_staircase_coverage_takes_the_best_head_per_digit_whichever_it_is():
    """Two heads of two layers share the staircase: head (0, 1) reads the own column of
    every answer digit but the last one it has, head (1, 0) that one's own column and the
    column to the right of every digit; the coverage per digit is the best head's share."""
    n = TASK.n_digits
    pattern = torch.zeros(2, 2, TASK.seq_len, TASK.seq_len)
    pattern[..., n] = 1.0  # everything else attends to '+'
    own_digits = [(q, c) for q, c in zip(TASK.predict_positions, TASK.answer_columns) if c < n]
    for k, (query, column) in enumerate(own_digits):
        reader = (0, 1) if k < len(own_digits) - 1 else (1, 0)
        pattern[reader][query] = 0.0
        pattern[reader][query, n - 1 - column] = 0.3
        pattern[reader][query, 2 * n - column] = 0.3
        pattern[reader][query, n] = 0.4
    for query, column in zip(TASK.predict_positions, TASK.answer_columns):
        if column >= 1:
            pattern[1, 1, query] = 0.0
            pattern[1, 1, query, n - column] = pattern[1, 1, query, 2 * n - column + 1] = 0.5
    by_digit = attention.staircase_by_digit(pattern, TASK)
    assert by_digit["own"].shape == (2, 2, n) and by_digit["right"].shape == (2, 2, n)
    coverage = attention.staircase_coverage(pattern, TASK)
    torch.testing.assert_close(coverage["own"], torch.full((n,), 0.6))
    torch.testing.assert_close(coverage["right"], torch.ones(n))
    # the mean over digits hides which head reads which digit
    torch.testing.assert_close(attention.staircase_shares(pattern, TASK)["own"][0, 1], torch.tensor(0.6 * (n - 1) / n))
