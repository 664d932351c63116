"""Training-step throughput: the lab's real training step against the same step on a
plain-PyTorch transformer of the same shape, side by side in one process.

    .venv/bin/python bench/bench_train_throughput.py [--preset add2] [--steps 60] [--device cuda] [k=v overrides]

Prints the median step time of each and their ratio (lab / plain throughput; target
>= 0.95). All run ``lab.train.train_step`` (forward, answer-only loss, zero_grad,
backward, gradient clipping, optimizer step) with ``lab.train.make_optimizer`` on the
same batches, at the thread count the lab pins (``lab.numerics``). The plain model is
the strongest honest baseline: one q/k/v projection, fused LayerNorm and
``F.scaled_dot_product_attention``.

The lab trains through ``lab.forward.TrainingForward``, with the preset's
``fused_attention`` (``fused_attention=false`` measures the explicit attention, bit for
bit the bridge's). A third contender is the TransformerBridge's own forward, hook
points and all: what the lab trained through before, and what analyses run through.

Steps alternate between the contenders, one by one, in turn order reversed every
step, so that load from other processes hits all alike; medians ignore the odd step
that a burst of load slows.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from lab import models, numerics, presets
from lab.data import AdditionData
from lab.forward import TrainingForward
from lab.train import make_optimizer, train_step

# TransformerLens' activation functions by the preset's name for them.
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "gelu_new": lambda: nn.GELU(approximate="tanh"), "silu": nn.SiLU}


def norm(cfg: models.ModelConfig) -> nn.Module:
    """The preset's normalization: LayerNorm ("LN"), LayerNorm without weights ("LNPre"), or none."""
    if cfg.normalization_type is None:
        return nn.Identity()
    if cfg.normalization_type in ("LN", "LNPre"):
        return nn.LayerNorm(cfg.d_model, elementwise_affine=cfg.normalization_type == "LN")
    raise ValueError(f"normalization_type {cfg.normalization_type!r} has no plain counterpart here")


class PlainBlock(nn.Module):
    def __init__(self, cfg: models.ModelConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.ln1 = norm(cfg)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.mlp = None  # attention-only presets (attn2) have no MLP, and no norm before it
        if not cfg.attn_only:
            self.ln2 = norm(cfg)
            act = ACTIVATIONS[cfg.act_fn]()
            self.mlp = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_mlp), act, nn.Linear(cfg.d_mlp, cfg.d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.n_heads, d // self.n_heads).unbind(2)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))  # [b, head, t, d_head]
        z = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(z)
        return x if self.mlp is None else x + self.mlp(self.ln2(x))


class PlainTransformer(nn.Module):
    """The same architecture as the lab's native model, written as plainly as possible:
    the preset's activation, normalization and attention-only setting included."""

    def __init__(self, cfg: models.ModelConfig, n_ctx: int, d_vocab: int):
        super().__init__()
        self.embed, self.pos = nn.Embedding(d_vocab, cfg.d_model), nn.Embedding(n_ctx, cfg.d_model)
        self.blocks = nn.ModuleList(PlainBlock(cfg) for _ in range(cfg.n_layers))
        # the native model's unembedding has no bias among its parameters: neither has this one
        self.ln_final, self.unembed = norm(cfg), nn.Linear(cfg.d_model, d_vocab, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) + self.pos(torch.arange(tokens.shape[1], device=tokens.device))
        for block in self.blocks:
            x = block(x)
        return self.unembed(self.ln_final(x))


def step_seconds(
    model: nn.Module, optimizer: torch.optim.Optimizer, tokens: torch.Tensor, positions: torch.Tensor
) -> float:
    """Time one call of the lab's training step, to the end of its last kernel (a GPU
    runs them after the call returns)."""
    start = time.perf_counter()
    train_step(model, optimizer, tokens, positions)
    if tokens.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="add2")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda where there is a GPU")
    parser.add_argument("overrides", nargs="*", help="k=v overrides of the preset")
    args = parser.parse_args()

    numerics.pin()  # the lab pins the thread count for training; the baseline runs at the same count
    preset = models.resolve(args.preset, presets.parse_settings(args.overrides))
    data: AdditionData = preset.training.data
    rng = np.random.default_rng(0)
    batches = [
        torch.as_tensor(data.sample(rng, preset.training.batch_size), device=args.device) for _ in range(args.steps)
    ]
    positions = torch.as_tensor(data.loss_positions, device=args.device)
    lab_model = TrainingForward(
        models.build_model(preset.model, data, args.device).train(), preset.training.fused_attention
    )
    bridge = models.build_model(preset.model, data, args.device).train()
    plain = PlainTransformer(preset.model, data.seq_len, data.d_vocab).to(args.device).train()
    attention = "fused" if preset.training.fused_attention else "explicit"
    contenders = {f"lab ({attention} attention)": lab_model, "TransformerBridge": bridge, "plain PyTorch": plain}
    optimizers = {name: make_optimizer(model.parameters(), preset.training) for name, model in contenders.items()}
    sizes = {name: sum(p.numel() for p in model.parameters()) for name, model in contenders.items()}
    tensors = {name: len(list(model.parameters())) for name, model in contenders.items()}
    print(
        f"preset {args.preset}: parameters {sizes} in {tensors} tensors, batch {preset.training.batch_size}, "
        f"{args.steps} steps each\n{numerics.environment(args.device)}"
    )

    times: dict[str, list[float]] = {name: [] for name in contenders}
    for i, tokens in enumerate([*batches[:3], *batches]):  # the first three warm up
        order = list(contenders) if i % 2 else list(reversed(contenders))
        for name in order:
            seconds = step_seconds(contenders[name], optimizers[name], tokens, positions)
            if i >= 3:
                times[name].append(seconds)
    median = {name: float(np.median(t)) for name, t in times.items()}
    for name, t in median.items():
        print(f"{name:26s} {1000 * t:7.1f} ms/step  {1 / t:6.2f} steps/s  (median)")
    lab, bridge_time, plain_time = median.values()
    print(f"ratio lab/plain: {plain_time / lab:.3f}  (target >= 0.95)")
    print(f"  the bridge's own forward: bridge/plain {plain_time / bridge_time:.3f}")


if __name__ == "__main__":
    main()
