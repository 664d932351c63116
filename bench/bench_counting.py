"""Exact-match counting against the machine's matrix-product rate, in one process.

    .venv/bin/python bench/bench_counting.py [--preset add2-fast] [--problems 16384] [--rounds 5]
    .venv/bin/python bench/bench_counting.py --compare 1200000    # counts of a trained model, both ways

Scores the same held-out problems through the TransformerBridge (every position's
logits, hook points and all, as ``lab.accuracy`` did before) and through
``lab.inference.answers_right`` (the lean answer-only forward), in interleaved rounds,
and prints each one's median seconds per 100,000 problems and achieved FLOP/s. The
FLOPs are the lean forward's own multiply-adds (its last block at the answer
positions only, its first block's q/k/v looked up), so the bridge's rate is in the
same currency: useful work per second.

The reference is ``torch.mm`` measured in the same process, in the same rounds:
at the model's own matrix shapes (8,192 problems' tokens as rows, the MLP's in and out
projections, on both threads), and on 2048-squares (the machine's best case). Target (issue 31): the
lean forward at >= 50% of the model-shape rate. Problems are sampled before timing.

``--compare N`` trains (or loads) the preset and counts N uniform problems both ways:
the counts must be equal, problem by problem.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from lab import inference, models, numerics, task
from lab.presets import ModelConfig
from lab.train import position_scores


def lean_flops(cfg: ModelConfig, seq: int, n_query: int) -> int:
    """Multiply-add FLOPs (2 per product term) of one problem through the lean forward:
    every block at the ``seq`` positions up to the last one read, but the last block,
    whose queries, output projection, MLP and unembedding run at the ``n_query`` answer
    positions only; the first block's q/k/v are looked up in a table, not computed."""
    d, d_mlp = cfg.d_model, 0 if cfg.attn_only else cfg.d_mlp

    def block(rows: int, first: bool) -> int:  # o and the MLP at ``rows``; q there and k, v everywhere unless looked up
        products = rows * d * d + (0 if first else rows * d * d + 2 * seq * d * d)
        return 2 * (products + 2 * rows * d * d_mlp + 2 * rows * seq * d)

    layers = [seq] * (cfg.n_layers - 1) + [n_query]
    return sum(block(rows, first=layer == 0) for layer, rows in enumerate(layers))


def bridge_right(model: torch.nn.Module, tokens: np.ndarray, positions: np.ndarray) -> np.ndarray:
    _, correct = position_scores(model, torch.as_tensor(tokens), positions, chunk_size=4096)
    return correct.all(1).numpy()


def mm_rate(rows: int, inner: int, cols: int, repeats: int = 20) -> float:
    """FLOP/s of ``F.linear`` [rows, inner] x [inner, cols]."""
    a, w = torch.randn(rows, inner), torch.randn(cols, inner)
    F.linear(a, w)
    start = time.perf_counter()
    for _ in range(repeats):
        F.linear(a, w)
    return 2 * rows * inner * cols * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="add2-fast")
    parser.add_argument("--problems", type=int, default=16_384)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare", type=int, default=0, help="count N problems of the trained preset both ways")
    args = parser.parse_args()
    numerics.pin()
    print(numerics.environment())
    preset = models.resolve(args.preset, {})
    data = preset.training.data
    positions = data.task.predict_positions
    if args.compare:
        model = models.load_or_train(args.preset).model
        batch = task.sample(data.task, np.random.default_rng(1), args.compare, 0.0, split="heldout")
        fast = inference.answers_right(model, batch.tokens, positions)
        slow = np.concatenate([bridge_right(model, part, positions) for part in np.array_split(batch.tokens, 50)])
        print(
            f"{args.compare:,} problems: wrong {int((~fast).sum())} (lean) vs {int((~slow).sum())} (bridge); "
            f"problems scored differently: {int((fast != slow).sum())}"
        )
        return
    torch.manual_seed(0)
    model = models.build_model(preset.model, data)
    tokens = task.sample(data.task, np.random.default_rng(0), args.problems, 0.0, split="heldout").tokens
    chunk_rows = 8192 * data.task.seq_len  # the model's shapes at many rows: torch.mm's best case for them
    contenders = {
        "bridge": lambda: bridge_right(model, tokens, positions),
        "lean": lambda: inference.answers_right(model, tokens, positions),
    }
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    rates: dict[str, list[float]] = {"mm model shape": [], "mm 2048-square": []}
    for round_ in range(args.rounds):
        order = list(contenders) if round_ % 2 == 0 else list(contenders)[::-1]
        for name in order:
            start = time.perf_counter()
            contenders[name]()
            seconds[name].append(time.perf_counter() - start)
        in_out = [mm_rate(chunk_rows, preset.model.d_model, preset.model.d_mlp or preset.model.d_model)]
        in_out.append(mm_rate(chunk_rows, preset.model.d_mlp or preset.model.d_model, preset.model.d_model))
        rates["mm model shape"].append(float(np.mean(in_out)))
        rates["mm 2048-square"].append(mm_rate(2048, 2048, 2048, repeats=5))
    flops = lean_flops(preset.model, int(max(positions)) + 1, len(positions)) * args.problems
    reference = float(np.median(rates["mm model shape"]))
    for name, values in seconds.items():
        median = float(np.median(values))
        achieved = flops / median
        print(
            f"{name:>6}: {median / args.problems * 1e5:6.2f} s per 100,000 problems, "
            f"{achieved / 1e9:5.1f} GFLOP/s = {achieved / reference:.0%} of torch.mm at the model's shape"
        )
    for name, values in rates.items():
        print(f"{name}: {np.median(values) / 1e9:.1f} GFLOP/s")
    lean, bridge = (float(np.median(seconds[k])) for k in ("lean", "bridge"))
    print(f"lean / bridge speed: {bridge / lean:.2f}x; target: lean >= 50% of the model-shape mm rate")


if __name__ == "__main__":
    main()
