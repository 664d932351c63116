"""Ablations: nothing ablated changes nothing; a zero-ablated head matches a head
zeroed by hand; mean and resample ablation of identical problems change nothing."""

import copy

import numpy as np
import pytest
import torch

from lab import task
from lab.analysis import ablation
from lab.data import AdditionData
from lab.models import ModelConfig, build_model

DATA = AdditionData(2)
CONFIG = ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=64)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(CONFIG, DATA, device="cpu").eval()


@pytest.fixture(scope="module")
def batch():
    return task.sample(DATA.task, np.random.default_rng(0), 64, nine_share=0.4)


@pytest.mark.parametrize("reverse", [False, True])
def test_answer_losses_are_the_cross_entropy_of_each_answer_digit(reverse):
    """On random logits, each answer digit's loss by hand: -log softmax at the position
    that predicts it, read at the digit itself (``batch.answers``, not the tokens)."""
    b = task.from_values(task.AdditionTask(2, reverse=reverse), [15, 50, 99], [27, 49, 1])
    logits = torch.randn(len(b), b.tokens.shape[1], DATA.d_vocab, generator=torch.Generator().manual_seed(0))
    losses = ablation.answer_losses(logits, b)
    assert losses.shape == (3, 3)
    expected = torch.zeros(3, 3)
    for row in range(3):
        for digit, position in enumerate(b.task.predict_positions):
            scores = logits[row, position].double()
            expected[row, digit] = (scores.exp().sum().log() - scores[b.answers[row, digit]]).item()
    torch.testing.assert_close(losses, expected)
    # logits at the other positions play no part
    others = np.setdiff1d(np.arange(b.tokens.shape[1]), b.task.predict_positions)
    noisy = logits.clone()
    noisy[:, others] = torch.randn(3, len(others), DATA.d_vocab)
    torch.testing.assert_close(ablation.answer_losses(noisy, b), losses)


@pytest.mark.parametrize("method", ablation.METHODS)
def test_ablating_nothing_changes_nothing(model, batch, method):
    effect = ablation.Ablator(model, batch, method).effect([])
    assert effect.loss.abs().max() == 0 and effect.logit_diff.abs().max() == 0


def _zero_head_by_hand(model, layer: int, head: int):
    """A copy of ``model`` whose head writes nothing: its columns of the output projection zeroed."""
    zeroed = copy.deepcopy(model)
    d_head = CONFIG.d_head
    W_O = zeroed.original_model.layers[layer].attn.o.weight  # [d_model, n_heads * d_head]
    with torch.no_grad():
        W_O[:, head * d_head : (head + 1) * d_head] = 0
    return zeroed


@pytest.mark.parametrize("layer,head", [(0, 1), (1, 0)])
def test_zero_ablated_head_matches_a_head_zeroed_by_hand(model, batch, layer, head):
    tokens = torch.as_tensor(batch.tokens)
    with torch.no_grad():
        expected = ablation.answer_losses(
            _zero_head_by_hand(model, layer, head)(tokens), batch
        ) - ablation.answer_losses(model(tokens), batch)
    effect = ablation.Ablator(model, batch, "zero").effect([ablation.head_site(layer, head)])
    assert expected.abs().max() > 1e-3  # the head matters at all
    torch.testing.assert_close(effect.loss, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("method", ["mean", "resample"])
def test_mean_and_resample_of_identical_problems_change_nothing(model, method):
    same = task.from_values(DATA.task, [38] * 8, [57] * 8)
    everything = [site for sites in ablation.model_sites(model).values() for site in sites]
    effect = ablation.Ablator(model, same, method).effect(everything)
    assert effect.loss.abs().max() < 1e-5


def test_zero_ablating_everything_changes_something(model, batch):
    everything = [site for sites in ablation.model_sites(model).values() for site in sites]
    assert ablation.Ablator(model, batch, "zero").effect(everything).loss.abs().mean() > 1e-2


def test_neuron_groups_split_by_layer():
    sites = ablation.neuron_group_sites([(1, 4), (0, 2), (1, 7)], "fam")
    assert [(s.hook, s.index) for s in sites] == [
        ("blocks.0.mlp.hook_post", ([2],)),
        ("blocks.1.mlp.hook_post", ([4, 7],)),
    ]


def test_group_means_by_digit_case_and_class():
    b = task.from_values(DATA.task, [15, 50], [27, 49])  # cases: [base, carry, base], [base]*3
    values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    means = ablation.group_means(values, b)
    np.testing.assert_allclose(means["digit"], [2.5, 3.5, 4.5])
    np.testing.assert_allclose(means["carry case"][:2], [(1 + 3 + 4 + 5 + 6) / 5, 2.0])
    assert np.isnan(means["carry case"][2])
    np.testing.assert_allclose(means["cascade class"][:2], [5.0, 2.0])
