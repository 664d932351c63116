"""Direct logit attribution: the parts add up, and match TransformerLens' own logit_attrs."""

import numpy as np
import pytest
import torch

from lab import task
from lab.analysis import attribution
from lab.data import AdditionData
from lab.models import ModelConfig, build_model

DATA = AdditionData(2)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = build_model(ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=64), DATA, device="cpu").eval()
    with torch.no_grad():  # give the final LayerNorm a non-trivial weight and bias, as training does
        m.ln_final.w.add_(0.5 * torch.randn_like(m.ln_final.w))
        m.ln_final.b.add_(0.5 * torch.randn_like(m.ln_final.b))
    return m


@pytest.fixture(scope="module")
def batch():
    return task.sample(DATA.task, np.random.default_rng(0), 64, nine_share=0.4)


def test_rival_is_the_answer_with_the_other_carry():
    b = task.from_values(task.AdditionTask(2), [15, 50], [27, 49])  # 042: carry into tens; 099: none
    assert b.answers.tolist() == [[0, 4, 2], [0, 9, 9]]
    assert attribution.rival_digits(b).tolist() == [[1, 3, 3], [1, 0, 0]]


def test_parts_add_up_to_the_logit_difference(model, batch):
    attr = attribution.attribute(model, batch, chunk_size=20)
    n_cfg = model.cfg
    assert attr.parts.shape == (n_cfg.n_layers * (n_cfg.n_heads + n_cfg.d_mlp) + 3, len(batch), 3)
    assert attr.logit_diff.abs().mean() > 0.1  # a real quantity, not zero = zero
    assert attr.residual.abs().max() <= 1e-4


def test_logit_diff_is_read_from_the_logits(model, batch):
    logits = model(torch.as_tensor(batch.tokens))
    positions = batch.task.predict_positions
    rival = attribution.rival_digits(batch)
    expected = (
        np.take_along_axis(logits[:, positions].detach().numpy(), batch.answers[..., None], -1)[..., 0]
        - np.take_along_axis(logits[:, positions].detach().numpy(), rival[..., None], -1)[..., 0]
    )
    np.testing.assert_allclose(attribution.logit_diff(logits, batch).detach().numpy(), expected, atol=1e-5)


def test_matches_transformer_lens_logit_attrs(batch):
    """With a plain final LayerNorm (weight 1, bias 0) TransformerLens' logit_attrs is
    right, and the lab's attribution must agree with it component by component."""
    torch.manual_seed(1)
    m = build_model(ModelConfig(n_layers=2, d_model=32, n_heads=2, d_mlp=64), DATA, device="cpu").eval()
    with torch.no_grad():
        m.ln_final.w.fill_(1.0)
        m.ln_final.b.zero_()
    positions = batch.task.predict_positions
    _, cache = m.run_with_cache(torch.as_tensor(batch.tokens))
    stack = cache.get_full_resid_decomposition(expand_neurons=True, pos_slice=positions)
    expected = cache.logit_attrs(
        stack,
        tokens=torch.as_tensor(batch.answers),
        incorrect_tokens=torch.as_tensor(attribution.rival_digits(batch)),
        pos_slice=positions,
    )
    ours = attribution.attribute(m, batch).parts
    torch.testing.assert_close(ours, expected.detach(), atol=1e-5, rtol=1e-4)


LABELS = ["L1H0", "L1N5"]


@pytest.fixture(scope="module")
def by_hand(model, batch):
    """The final residual stream at the answer positions ``[batch, pos, d_model]``, and the
    outputs of L1H0 and L1N5 there, rebuilt from the cache and the weights (head:
    z @ W_O; neuron: its activation times its W_out row), ``[component, batch, pos, d_model]``."""
    positions = batch.task.predict_positions
    with torch.no_grad():
        logits, cache = model.run_with_cache(torch.as_tensor(batch.tokens))
        resid = cache["ln_final.hook_in"][:, positions]
        head = cache["blocks.1.attn.hook_z"][:, positions, 0] @ model.blocks[1].attn.W_O[0]
        neuron = cache["blocks.1.mlp.hook_post"][:, positions, 5, None] * model.blocks[1].mlp.W_out[5]
    torch.testing.assert_close(logit_diff_by_hand(model, batch, resid), attribution.logit_diff(logits, batch))
    return resid, torch.stack([head, neuron])


def logit_diff_by_hand(model, batch, resid: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
    """Correct minus rival logit of a final residual stream ``[..., batch, pos, d_model]``
    through the final LayerNorm and the unembedding, written out; ``scale`` freezes the
    LayerNorm's scale instead of recomputing it from ``resid``."""
    centred = resid - resid.mean(-1, keepdim=True)
    if scale is None:
        scale = (centred.pow(2).mean(-1, keepdim=True) + model.cfg.eps).sqrt()
    logits = (centred / scale * model.ln_final.w + model.ln_final.b) @ model.W_U + model.b_U
    correct = torch.as_tensor(batch.answers)[..., None].expand(*logits.shape[:-1], 1)
    rival = torch.as_tensor(attribution.rival_digits(batch))[..., None].expand(*logits.shape[:-1], 1)
    return (logits.gather(-1, correct) - logits.gather(-1, rival))[..., 0].detach()


def test_direct_path_effect_is_the_loss_of_a_component_removed_by_hand(model, batch, by_hand):
    resid, outputs = by_hand
    expected = logit_diff_by_hand(model, batch, resid) - logit_diff_by_hand(model, batch, resid - outputs)
    effects = attribution.direct_path_effects(model, batch, LABELS)
    assert expected.abs().mean() > 0.01  # both components matter
    torch.testing.assert_close(effects, expected, atol=1e-5, rtol=1e-4)


def test_attribution_is_the_direct_path_effect_with_the_layernorm_scale_frozen(model, batch, by_hand):
    """Removing a component from the final residual stream with the LayerNorm scale frozen
    at the clean run's changes the logit difference by exactly its attribution; with the
    scale recomputed (``direct_path_effects``) only about, and the gap is real."""
    resid, outputs = by_hand
    centred = resid - resid.mean(-1, keepdim=True)
    scale = (centred.pow(2).mean(-1, keepdim=True) + model.cfg.eps).sqrt()
    frozen = logit_diff_by_hand(model, batch, resid, scale) - logit_diff_by_hand(model, batch, resid - outputs, scale)
    attr = attribution.attribute(model, batch)
    parts = attr.parts[[attr.labels.index(label) for label in LABELS]]
    torch.testing.assert_close(parts, frozen, atol=1e-5, rtol=1e-4)
    effects = attribution.direct_path_effects(model, batch, LABELS)
    assert (effects - parts).abs().max() > 1e-3 * parts.abs().max()  # the scale does move with the component
