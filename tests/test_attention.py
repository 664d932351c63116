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
