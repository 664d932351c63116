"""Scoring at the machine's limit: a lean forward with logits only where answers are read.

Counting exact-match errors on a million problems is the lab's largest evaluation
(``lab.accuracy``). Through the TransformerBridge it computes every position's logits
and pays the bridge's hook machinery on every call: about 12% of what ``torch.mm``
reaches on 2 cores. This forward runs the bridge's weights as plain torch calls
(``lab.forward.TrainingForward``'s parts) under inference mode, with

- one q/k/v projection and torch's fused ``scaled_dot_product_attention``, where the
  bridge computes scores, mask, softmax and mixing one op at a time (most of its
  time at d_head 8 went to copies and elementwise passes, not to products);
- the last block's queries, MLP, final LayerNorm and unembedding only at the positions
  whose predictions are read. Every earlier block still runs at every position (the
  last block's keys and values need them all); for add2's 18 tokens and 6 answer
  digits the last block shrinks to a third. Positions after the last one read are
  dropped: causal attention never lets an earlier position see them;
- the first block's residual stream and q/k/v looked up, not computed. Before any
  attention a position's stream is its token's embedding plus its position's, so its
  LayerNorm and q/k/v projection depend on the (position, token) pair alone: a table
  of ``n_ctx x d_vocab`` rows, built with the forward, replaces a sixth of add2-fast's
  multiply-adds per problem (on a trained add2-fast model, the logits are bit for bit
  those of computing it);
- small chunks scored side by side, one per CPU thread, each chunk's ops
  single-threaded. At d_model 64 every op is small, and torch's two threads meet at
  the end of each one: at add2-fast's shape, quiet, sharing the ops took 9.5 s per
  100,000 problems, side by side 6.3 at 8,192 problems a chunk and 3.6 at 512 (which
  stay in cache); 77% of ``torch.mm``'s rate at the model's shapes
  (``bench/bench_counting.py``). A matrix product is the same sum whichever thread
  count computes it, so the logits are bit for bit those of the 2-thread forward
  (checked on a trained model; ``tests/test_inference.py`` checks the answers).

The function is the bridge's; the rounding is not (a logit moves by about 1e-6). An
arg-max could only change where the two best logits tie to that precision, which is
why the counts are checked against the bridge's rather than assumed:
``tests/test_inference.py`` on a model that still errs, and
``bench/bench_counting.py --compare`` on a trained one.

    forward = AnswerForward(bridge)
    logits = forward(tokens, positions)     # [batch, len(positions), d_vocab]
    right = answers_right(bridge, tokens, positions)   # [batch] bool
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F
from transformer_lens.model_bridge import TransformerBridge

from lab.forward import TrainingForward

# Problems a forward on the CPU, each pool thread scoring its own. With each op on one
# thread, small was fast: at add2-fast's shape, quiet, 3.6 s per 100,000 problems at
# 256 to 512, 4.2 at 1,024, 6.3 at 8,192 (a chunk's activations stay in the core's
# cache). When both threads shared every op, bigger was faster, which is why it was 8,192.
CHUNK = 512
GPU_CHUNK = 8192  # a GPU wants few, large launches


class AnswerForward(TrainingForward):
    """``bridge``'s logits at chosen positions only, for scoring (no gradients).

    Built from the weights as they are now: a model whose weights are loaded anew (a
    checkpoint series) needs a new ``AnswerForward``.
    """

    def __init__(self, bridge: TransformerBridge):
        super().__init__(bridge, fused_attention=True)
        # one q/k/v projection per block, concatenated once rather than per forward
        self._qkv = [
            (
                torch.cat([parts["q"].weight, parts["k"].weight, parts["v"].weight]),
                torch.cat([parts["q"].bias, parts["k"].bias, parts["v"].bias]),
            )
            for parts in self._blocks
        ]
        self._stream, self._first_qkv, self._d_vocab = self._first_block_tables(bridge)

    def _first_block_tables(self, bridge: TransformerBridge) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Every (position, token) pair's embedded stream ``[n_ctx * d_vocab, d_model]``
        and first-block q/k/v ``[n_ctx * d_vocab, 3 * d_model]``, row ``position *
        d_vocab + token``; and d_vocab."""
        tok_embed, pos_embed = self._embed
        d_vocab, n_ctx = bridge.cfg.d_vocab, bridge.cfg.n_ctx
        device = next(bridge.parameters()).device
        with torch.no_grad():
            tokens = torch.arange(d_vocab, device=device).expand(n_ctx, -1)  # [n_ctx, d_vocab]
            where = torch.arange(n_ctx, device=device).unsqueeze(1).expand(-1, d_vocab)
            stream = tok_embed(tokens) + pos_embed(where)  # the sum the forward would make
            weight, bias = self._qkv[0]
            qkv = F.linear(self._blocks[0]["ln1"](stream), weight, bias)
        return stream.reshape(n_ctx * d_vocab, -1), qkv.reshape(n_ctx * d_vocab, -1), d_vocab

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """tokens ``[batch, pos]``, positions ``[query]`` -> logits ``[batch, query, d_vocab]``."""
        seq = int(positions.max()) + 1  # the tokens after the last position read are never seen
        tokens = tokens[:, :seq]
        batch = tokens.shape[0]
        rows = tokens + torch.arange(seq, device=tokens.device) * self._d_vocab  # [batch, pos]: table rows
        x = self._stream[rows]  # [batch, pos, d_model]
        last = len(self._blocks) - 1
        for layer, (parts, (weight, bias)) in enumerate(zip(self._blocks, self._qkv)):
            attn = parts["attn"]
            qkv = self._first_qkv[rows] if layer == 0 else F.linear(parts["ln1"](x), weight, bias)
            qkv = qkv.view(batch, seq, 3, attn.n_heads, attn.d_head)
            q, k, v = (t.transpose(1, 2) for t in qkv.unbind(2))  # each [batch, head, pos, d_head]
            if layer < last:
                z = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1 / attn.scale)
            else:  # queries only where answers are read; keys and values everywhere
                allowed = ~attn.causal_mask[:seq, :seq][positions]  # [query, key]
                z = F.scaled_dot_product_attention(q[:, :, positions], k, v, attn_mask=allowed, scale=1 / attn.scale)
                x = x[:, positions]  # [batch, query, d_model] from here on
            x = x + parts["o"](z.transpose(1, 2).reshape(batch, x.shape[1], -1))
            if "mlp" in parts:
                x = x + self._mlp(parts, parts["ln2"](x))
        ln_final, unembed = self._final
        return unembed(ln_final(x))


def answers_right(
    model: TransformerBridge, tokens: np.ndarray | torch.Tensor, positions: np.ndarray, chunk: int | None = None
) -> np.ndarray:
    """Whether the arg-max at every one of ``positions`` is the next token: each problem
    answered right by greedy decoding. tokens ``[batch, pos]`` (any integer type) ->
    ``[batch]`` bool."""
    device = next(model.parameters()).device
    where = torch.as_tensor(positions, device=device)
    forward = AnswerForward(model)
    on_cpu = device.type == "cpu"
    threads = torch.get_num_threads() if on_cpu else 1
    chunk = chunk or (CHUNK if on_cpu else GPU_CHUNK)

    def score(start: int) -> torch.Tensor:
        if on_cpu:
            torch.set_num_threads(1)  # this pool thread's ops; the others run beside it
        part = tokens[start : start + chunk]
        if isinstance(part, np.ndarray):
            part = part.astype(np.int64)  # a copy: shared read-only problems stay untouched
        part = torch.as_tensor(part, device=device).long()
        with torch.inference_mode():
            logits = forward(part, where)  # [b, query, d_vocab]
            return (logits.argmax(-1) == part[:, where + 1]).all(1)

    try:
        with ThreadPoolExecutor(threads) as pool:
            right = list(pool.map(score, range(0, len(tokens), chunk)))
    finally:
        if on_cpu:
            torch.set_num_threads(threads)  # pool threads set their own; the caller's stays as it was
    return torch.cat(right).cpu().numpy() if right else np.zeros(0, dtype=bool)
