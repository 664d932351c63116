"""Head -> neuron interactions: composition scores against a dense computation, path
patching that touches only the MLP input, and zero interaction where effects are disjoint."""

import copy

import numpy as np
import pytest
import torch

from lab import task
from lab.analysis import ablation, interactions
from lab.data import AdditionData
from lab.models import ModelConfig, build_model

DATA = AdditionData(2)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = build_model(ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=64), DATA, device="cpu").eval()
    with torch.no_grad():  # non-trivial LayerNorm weights, so folding them matters
        for block in m.blocks:
            block.ln1.w.add_(0.5 * torch.randn_like(block.ln1.w))
            block.ln2.w.add_(0.5 * torch.randn_like(block.ln2.w))
    return m


@pytest.fixture(scope="module")
def batch():
    return task.sample(DATA.task, np.random.default_rng(0), 64, nine_share=0.4)


def test_composition_scores_match_a_dense_computation(model):
    scores = interactions.head_neuron_composition(model)
    assert scores.shape == (2, 2, 2, 64)
    assert scores[1, :, 0].abs().max() == 0  # MLP0 runs before layer-1 heads
    for hl, h, nl, n in [(0, 1, 0, 5), (0, 0, 1, 17), (1, 1, 1, 63)]:
        attn, mlp = model.blocks[hl].attn, model.blocks[nl]
        ov = (model.blocks[hl].ln1.w[:, None] * attn.W_V[h]) @ attn.W_O[h]  # [d_model, d_model]
        w = mlp.ln2.w * mlp.mlp.W_in[:, n]
        w = w - w.mean()  # LayerNorm centres what the MLP reads
        expected = (ov @ w).norm() / (ov.norm() * w.norm())
        torch.testing.assert_close(scores[hl, h, nl, n], expected.detach(), atol=1e-5, rtol=1e-4)


def test_path_patch_changes_only_the_mlp_input(batch):
    """In a one-layer model, cutting a head's path into the MLP gives the MLP the same
    input as zeroing the head by hand, while the residual stream keeps the head."""
    torch.manual_seed(2)
    m = build_model(ModelConfig(n_layers=1, d_model=32, n_heads=2, d_mlp=64), DATA, device="cpu").eval()
    zeroed = copy.deepcopy(m)
    with torch.no_grad():
        zeroed.original_model.layers[0].attn.o.weight[:, 16:] = 0  # head 1 of 2, d_head 16
    tokens = torch.as_tensor(batch.tokens)
    hooks = ["blocks.0.hook_mlp_out", "blocks.0.hook_resid_post"]
    ablator = ablation.Ablator(m, batch, "zero")
    _, patched = ablator.run([interactions.PathSite(0, 1, 0)], cache_hooks=hooks)
    _, clean = m.run_with_cache(tokens)
    _, by_hand = zeroed.run_with_cache(tokens)
    torch.testing.assert_close(patched["blocks.0.hook_mlp_out"], by_hand["blocks.0.hook_mlp_out"])
    assert not torch.allclose(patched["blocks.0.hook_mlp_out"], clean["blocks.0.hook_mlp_out"])
    clean_mid = clean["blocks.0.hook_resid_pre"] + clean["blocks.0.hook_attn_out"]
    torch.testing.assert_close(patched["blocks.0.hook_resid_post"] - patched["blocks.0.hook_mlp_out"], clean_mid)


def test_disjoint_components_do_not_interact(batch):
    """One attention-only layer without LayerNorm: logits are linear in the heads' outputs
    and no head reads another, so the joint effect is the sum of the separate effects."""
    torch.manual_seed(3)
    m = build_model(
        ModelConfig(n_layers=1, d_model=32, n_heads=2, d_mlp=0, attn_only=True, normalization_type=None),
        DATA,
        device="cpu",
    ).eval()
    ablator = ablation.Ablator(m, batch, "zero")
    a, b = [ablation.head_site(0, 0)], [ablation.head_site(0, 1)]
    assert ablator.effect(a).logit_diff.abs().mean() > 1e-3
    assert ablator.interaction(a, b).abs().max() < 1e-5


def test_dependent_components_do_interact(model, batch):
    """A head whose only way to the logits here is through a neuron: ablating the neuron
    removes part of the head's effect, so joint != sum."""
    ablator = ablation.Ablator(model, batch, "zero")
    paths = interactions.head_paths(model, 0, 0)
    assert [p.label for p in paths] == ["L0H0>MLP0", "L0H0>MLP1"]
    assert ablator.interaction(paths, [ablation.neuron_site(0, [3])]).abs().max() > 1e-4


def test_interaction_map_and_path_effects_shapes(model, batch):
    ablator = ablation.Ablator(model, batch, "mean")
    grid = interactions.interaction_map(ablator, [(0, 0), (1, 1)], [(0, 3), (1, 5)])
    assert grid.shape == (2, 2, 3)
    assert grid[1, 0].abs().max() == 0  # L1 head cannot reach an L0 neuron
    effects = interactions.path_effects(ablator)
    assert effects.activation.shape == (2, 2, 2, 64, 3) and effects.logit_diff.shape == (2, 2, 3)
    assert effects.activation[1, :, 0].abs().max() == 0  # nor change its activation


@pytest.fixture(scope="module")
def mean_effects(model, batch):
    ablator = ablation.Ablator(model, batch, "mean")
    return ablator, interactions.path_effects(ablator)


def test_path_effects_on_the_logits_are_the_ablators_effects_of_each_heads_paths(model, mean_effects):
    ablator, effects = mean_effects
    for layer in range(2):
        for head in range(2):
            expected = ablator.effect(interactions.head_paths(model, layer, head)).logit_diff.mean(0)
            assert expected.abs().max() > 1e-4  # every head's paths matter somewhat
            torch.testing.assert_close(effects.logit_diff[layer, head], expected)


def mlp_by_hand(block, resid_mid: torch.Tensor, eps: float) -> torch.Tensor:
    """A block's neuron activations from its MLP input, written out: ln2, then ReLU(x W_in + b_in)."""
    centred = resid_mid - resid_mid.mean(-1, keepdim=True)
    normalized = centred / (centred.pow(2).mean(-1, keepdim=True) + eps).sqrt() * block.ln2.w + block.ln2.b
    return torch.relu(normalized @ block.mlp.W_in + block.mlp.b_in)


@pytest.mark.parametrize("layer,head", [(0, 0), (1, 1)])
def test_path_effect_on_a_neuron_is_a_hand_patched_mlp_input(model, batch, mean_effects, layer, head):
    """Mean-ablating head ``(layer, head)``'s path into its own layer's MLP, by hand: the
    MLP's input is the clean one with the head's result replaced by its mean over the
    batch; the neurons' change, averaged over problems at the answer positions, is
    ``path_effects``' activation change."""
    _, effects = mean_effects
    positions = batch.task.predict_positions
    block = model.blocks[layer]
    with torch.no_grad():
        _, cache = model.run_with_cache(torch.as_tensor(batch.tokens))
        resid_mid = cache[f"blocks.{layer}.hook_resid_mid"]
        result = cache[f"blocks.{layer}.attn.hook_z"][:, :, head] @ block.attn.W_O[head]  # [batch, pos, d_model]
        clean = mlp_by_hand(block, resid_mid, model.cfg.eps)
        patched = mlp_by_hand(block, resid_mid - result + result.mean(0, keepdim=True), model.cfg.eps)
    torch.testing.assert_close(clean, cache[f"blocks.{layer}.mlp.hook_post"])  # the hand MLP is the model's
    expected = (patched - clean)[:, positions].mean(0).T  # [neuron, answer_pos]
    assert expected.abs().max() > 1e-3
    torch.testing.assert_close(effects.activation[layer, head, layer], expected, atol=1e-5, rtol=1e-4)
