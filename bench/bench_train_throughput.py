"""Training-step throughput: the lab's TransformerBridge against a plain-PyTorch
transformer of the same shape, side by side in one process.

    .venv/bin/python bench/bench_train_throughput.py [--steps 30] [--rounds 3]

Prints steps/s of each and their ratio (lab / plain; target >= 0.9). Also times
TransformerLens' native module without the bridge around it, which tells whether a
gap comes from the bridge's hooks or from the native architecture itself. All are
timed in alternating rounds so that load from other processes hits them alike.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from lab import models
from lab.data import AdditionData


class PlainBlock(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_mlp: int, n_ctx: int):
        super().__init__()
        self.n_heads = n_heads
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))
        self.register_buffer("mask", torch.triu(torch.ones(n_ctx, n_ctx, dtype=torch.bool), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.n_heads, d // self.n_heads).unbind(2)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))                  # [b, head, t, d_head]
        scores = (q @ k.transpose(-1, -2)) / (d // self.n_heads) ** 0.5
        scores = scores.masked_fill(self.mask[:t, :t], float("-inf"))
        z = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(z)
        return x + self.mlp(self.ln2(x))


class PlainTransformer(nn.Module):
    """The same architecture as the lab's native model, written as plainly as possible."""

    def __init__(self, cfg: models.ModelConfig, n_ctx: int, d_vocab: int):
        super().__init__()
        self.embed, self.pos = nn.Embedding(d_vocab, cfg.d_model), nn.Embedding(n_ctx, cfg.d_model)
        self.blocks = nn.ModuleList(PlainBlock(cfg.d_model, cfg.n_heads, cfg.d_mlp, n_ctx)
                                    for _ in range(cfg.n_layers))
        self.ln_final, self.unembed = nn.LayerNorm(cfg.d_model), nn.Linear(cfg.d_model, d_vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) + self.pos(torch.arange(tokens.shape[1], device=tokens.device))
        for block in self.blocks:
            x = block(x)
        return self.unembed(self.ln_final(x))


def steps_per_second(model: nn.Module, batches: list[torch.Tensor], positions: torch.Tensor) -> float:
    """Time full training steps (forward, answer-only loss, backward, AdamW)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for tokens in batches:
        logits = model(tokens)[:, positions]
        loss = F.cross_entropy(logits.flatten(0, 1), tokens[:, positions + 1].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return len(batches) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="add2")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    preset = models.PRESETS[args.preset]
    data: AdditionData = preset.training.data
    batch_size = preset.training.batch_size
    rng = np.random.default_rng(0)
    batches = [torch.as_tensor(data.sample(rng, batch_size)) for _ in range(args.steps)]
    positions = torch.as_tensor(data.loss_positions)
    lab_model = models.build_model(preset.model, data, "cpu").train()
    plain = PlainTransformer(preset.model, data.seq_len, data.d_vocab).train()
    n_lab = sum(p.numel() for p in lab_model.parameters())
    n_plain = sum(p.numel() for p in plain.parameters())
    print(f"preset {args.preset}: {n_lab} parameters (plain: {n_plain}), batch {batch_size}, "
          f"{torch.get_num_threads()} threads")

    contenders = {"lab (TransformerBridge)": lab_model, "TransformerLens native module": lab_model.original_model,
                  "plain PyTorch": plain}
    for model in contenders.values():
        steps_per_second(model, batches[:3], positions)  # warm-up
    rates = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, model in contenders.items():
            rates[name].append(steps_per_second(model, batches, positions))
    rate = {name: float(np.median(r)) for name, r in rates.items()}
    for name, r in rate.items():
        print(f"{name:32s} {r:7.2f} steps/s")
    lab, native, plain_rate = rate.values()
    print(f"ratio lab/plain: {lab / plain_rate:.3f}  (target >= 0.9);  lab/native: {lab / native:.3f}")


if __name__ == "__main__":
    main()
