"""The training forward against the bridge it stands in for: bit for bit in explicit
mode (logits, gradients, weights after training steps), close in fused mode."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lab import train
from lab.data import AdditionData
from lab.forward import TrainingForward
from lab.models import ModelConfig, build_model, resolve
from lab.presets import TrainConfig

DATA = AdditionData(3, nine_share=0.3)
CONFIGS = {
    "mlp": ModelConfig(n_layers=2, d_model=32, n_heads=4, d_mlp=64),
    "gelu, one layer": ModelConfig(n_layers=1, d_model=32, n_heads=2, d_mlp=48, act_fn="gelu"),
    "attn-only, no LayerNorm": ModelConfig(
        n_layers=2, d_model=32, n_heads=2, d_mlp=0, attn_only=True, normalization_type=None
    ),
}


def randomized(cfg: ModelConfig):
    """A model whose every parameter is random (LayerNorm gains and biases included,
    which start at 1 and 0), so no term of the forward is trivially zero or one."""
    model = build_model(cfg, DATA, "cpu").train()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=generator) + (p == 1).float())
    return model


def tokens(n: int = 96) -> torch.Tensor:
    return torch.as_tensor(DATA.sample(np.random.default_rng(0), n))


def loss_and_grads(model: torch.nn.Module, parameters: list[torch.Tensor], batch: torch.Tensor):
    for p in parameters:
        p.grad = None
    positions = torch.as_tensor(DATA.loss_positions)
    logits = model(batch)
    F.cross_entropy(logits[:, positions].flatten(0, 1), batch[:, positions + 1].flatten()).backward()
    return logits.detach(), [p.grad.clone() for p in parameters]


def bridge_and_lean(name: str, fused_attention: bool):
    """(logits, gradients) of the bridge and of its training forward, from one randomized
    model of ``CONFIGS[name]`` on the same batch."""
    bridge = randomized(CONFIGS[name])
    parameters = list(bridge.parameters())
    batch = tokens()
    lean = TrainingForward(bridge, fused_attention)
    return loss_and_grads(bridge, parameters, batch), loss_and_grads(lean, parameters, batch)


@pytest.mark.parametrize("name", CONFIGS)
def test_explicit_forward_is_the_bridge_bit_for_bit(name):
    (bridge_logits, bridge_grads), (lean_logits, lean_grads) = bridge_and_lean(name, fused_attention=False)
    assert torch.equal(lean_logits, bridge_logits)
    assert all(torch.equal(a, b) for a, b in zip(lean_grads, bridge_grads))


@pytest.mark.parametrize("name", CONFIGS)
def test_fused_forward_computes_the_same_function(name):
    (bridge_logits, bridge_grads), (fused_logits, fused_grads) = bridge_and_lean(name, fused_attention=True)
    assert bridge_logits.abs().max() > 1  # logits of some size, so the tolerance means something
    torch.testing.assert_close(fused_logits, bridge_logits, rtol=1e-5, atol=1e-5)
    for a, b in zip(fused_grads, bridge_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_training_steps_through_it_train_the_bridge_as_the_bridge_would():
    """Five optimizer steps through each path, from the same weights on the same
    batches: the same weights to the bit, and the same losses."""
    cfg = CONFIGS["mlp"]
    paths = {"bridge": build_model(cfg, DATA, "cpu").train(), "lean": build_model(cfg, DATA, "cpu").train()}
    steppers = {"bridge": paths["bridge"], "lean": TrainingForward(paths["lean"])}
    assert [p.data_ptr() for p in steppers["lean"].parameters()] == [p.data_ptr() for p in paths["lean"].parameters()]
    training = TrainConfig(data=DATA, lr=3e-3)
    optimizers = {name: train.make_optimizer(model.parameters(), training) for name, model in paths.items()}
    positions = torch.as_tensor(DATA.loss_positions)
    losses = {name: [] for name in paths}
    for seed in range(5):
        batch = torch.as_tensor(DATA.sample(np.random.default_rng(seed), 64))
        for name in paths:
            losses[name].append(float(train.train_step(steppers[name], optimizers[name], batch, positions)))
    assert losses["bridge"] == losses["lean"] and losses["lean"][-1] < losses["lean"][0]
    after = {name: model.original_model.state_dict() for name, model in paths.items()}
    assert all(torch.equal(after["bridge"][key], after["lean"][key]) for key in after["bridge"])


def test_fused_training_is_reproducible():
    """Same seed and settings, fused attention: bit-identical weights and history."""
    preset = resolve("tiny", {"steps": 60, "eval_every": 30, "fused_attention": True})
    runs = []
    for _ in range(2):
        model = build_model(preset.model, preset.training.data, "cpu")
        result = train.train(model, preset.training, log=None)
        runs.append((model.original_model.state_dict(), result.history["loss"]))
    (weights_a, loss_a), (weights_b, loss_b) = runs
    assert loss_a == loss_b and loss_a[-1] < loss_a[0]
    assert all(torch.equal(weights_a[key], weights_b[key]) for key in weights_a)


def test_refuses_a_bridge_with_hooks():
    bridge = build_model(CONFIGS["mlp"], DATA, "cpu")
    bridge.blocks[0].attn.hook_pattern.add_hook(lambda pattern, hook: pattern * 0)
    with pytest.raises(ValueError, match="hook"):
        TrainingForward(bridge)
