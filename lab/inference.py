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
- the first operand's positions computed once per operand (``shared``): causal
  attention lets them see nothing after them, so problems that begin alike share
  them, and only their keys and values are gathered back for each problem. A million
  uniform 5-digit problems have 100,000 first operands: their counting chunks (a
  set's problems are kept grouped by first operand, ``lab.accuracy.held_out``) took
  0.87x the time per CPU thread. Where problems share less (2.3 per operand in the
  enriched set) gathering costs more than it saves, and each problem is computed
  whole;
- small chunks scored side by side, one per CPU thread, each chunk's ops
  single-threaded. At d_model 64 every op is small, and torch's two threads meet at
  the end of each one: at add2-fast's shape, quiet, sharing the ops took 9.5 s per
  100,000 problems, side by side 6.3 at 8,192 problems a chunk and 3.6 at 512 (which
  stay in cache). With the first block looked up, 3.5 s per 100,000 random problems
  (none shared) at 61% of ``torch.mm``'s rate at the model's shapes, counting only the
  multiply-adds it still does (``bench/bench_counting.py``). A matrix product is the
  same sum whichever thread count computes it, so the logits are bit for bit those of
  the 2-thread forward (checked on a trained model; ``tests/test_inference.py`` checks
  the answers).

The function is the bridge's; the rounding is not (a logit moves by about 1e-6). An
arg-max could only change where the two best logits tie to that precision, which is
why the counts are checked against the bridge's rather than assumed:
``tests/test_inference.py`` on a model that still errs, and
``bench/bench_counting.py --compare`` on a trained one.

    forward = AnswerForward(bridge)
    logits = forward(tokens, positions)     # [batch, len(positions), d_vocab]
    right = answers_right(bridge, tokens, positions, shared=6)   # [batch] bool
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
# Problems per distinct prefix below which sharing the prefix's positions does not pay: at
# add2-fast's shape, per CPU thread, a million uniform problems (10 a prefix) took 0.87x
# the time of computing every position, 200,000 enriched ones (2.3 a prefix) 1.09x.
MIN_SHARING = 4


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

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor, shared: int = 0) -> torch.Tensor:
        """tokens ``[batch, pos]``, positions ``[query]`` -> logits ``[batch, query, d_vocab]``.

        ``shared``: the leading positions (none of them read) computed once per distinct
        prefix of the batch rather than once per problem. Attention is causal, so their
        stream depends on their own tokens alone: problems that begin alike share it.
        Only the keys and values there reach the later positions, gathered back per
        problem.
        """
        if shared > int(positions.min()):
            raise ValueError(f"positions {positions.tolist()} read inside the {shared} shared ones")
        seq = int(positions.max()) + 1  # the tokens after the last position read are never seen
        rows = tokens[:, :seq] + torch.arange(seq, device=tokens.device) * self._d_vocab  # [batch, pos]: table rows
        heads, head_of = self._distinct_prefixes(rows[:, :shared])  # [prefix, shared], [batch]
        rows = rows[:, shared:]  # [batch, pos - shared]: each problem's own positions
        x, x_head = self._stream[rows], self._stream[heads]  # [batch, pos - shared, d_model], [prefix, shared, d_model]
        allowed = ~self._blocks[0]["attn"].causal_mask[shared:seq, :seq]  # [pos - shared, key]
        reads = positions - shared
        last = len(self._blocks) - 1
        for layer, (parts, (weight, bias)) in enumerate(zip(self._blocks, self._qkv)):
            attn = parts["attn"]
            qkv = self._first_qkv[rows] if layer == 0 else F.linear(parts["ln1"](x), weight, bias)
            q, k, v = self._split_heads(qkv, attn)  # each [batch, head, pos - shared, d_head]
            if shared:  # the prefixes' keys and values go before each problem's own
                qkv_head = self._first_qkv[heads] if layer == 0 else F.linear(parts["ln1"](x_head), weight, bias)
                q_head, k_head, v_head = self._split_heads(qkv_head, attn)  # each [prefix, head, shared, d_head]
                k, v = torch.cat([k_head[head_of], k], 2), torch.cat([v_head[head_of], v], 2)
                if layer < last:
                    z = F.scaled_dot_product_attention(q_head, k_head, v_head, is_causal=True, scale=1 / attn.scale)
                    x_head = self._rest_of_block(parts, x_head, z)
            mask = allowed if shared else None
            if layer == last:  # queries only where answers are read; keys and values everywhere
                q, x, mask = q[:, :, reads], x[:, reads], allowed[reads]
            z = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None, scale=1 / attn.scale)
            x = self._rest_of_block(parts, x, z)
        ln_final, unembed = self._final
        return unembed(ln_final(x))

    def _distinct_prefixes(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Table rows ``[batch, shared]`` -> the distinct ones ``[prefix, shared]``, and
        which of them each problem has ``[batch]``."""
        batch, shared = rows.shape
        if shared == 0:  # one empty prefix, which every problem has
            return rows[:1], torch.zeros(batch, dtype=torch.long, device=rows.device)
        if self._d_vocab**shared >= 2**63:
            raise ValueError(f"{shared} shared positions of {self._d_vocab} tokens overflow a prefix's int64 code")
        digits = self._d_vocab ** torch.arange(shared - 1, -1, -1, device=rows.device)  # a prefix as one number
        codes, head_of = torch.unique((rows % self._d_vocab * digits).sum(1), return_inverse=True)
        any_problem = torch.empty(len(codes), dtype=torch.long, device=rows.device)
        any_problem[head_of] = torch.arange(batch, device=rows.device)  # each prefix's problems all have its rows
        return rows[any_problem], head_of

    @staticmethod
    def _split_heads(qkv: torch.Tensor, attn: torch.nn.Module) -> tuple[torch.Tensor, ...]:
        """``[batch, pos, 3 * d_model]`` -> q, k, v, each ``[batch, head, pos, d_head]``."""
        qkv = qkv.view(*qkv.shape[:2], 3, attn.n_heads, attn.d_head)
        return tuple(t.transpose(1, 2) for t in qkv.unbind(2))

    def _rest_of_block(self, parts: dict, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The block after attention: ``x`` ``[batch, pos, d_model]`` plus the output
        projection of ``z`` ``[batch, head, pos, d_head]``, then the MLP's residual."""
        x = x + parts["o"](z.transpose(1, 2).reshape(*x.shape[:2], -1))
        if "mlp" in parts:
            x = x + self._mlp(parts, parts["ln2"](x))
        return x


def answers_right(
    model: TransformerBridge,
    tokens: np.ndarray | torch.Tensor,
    positions: np.ndarray,
    chunk: int | None = None,
    shared: int = 0,
) -> np.ndarray:
    """Whether the arg-max at every one of ``positions`` is the next token: each problem
    answered right by greedy decoding. tokens ``[batch, pos]`` (any integer type) ->
    ``[batch]`` bool, in the order given.

    ``shared``: the leading positions to compute once per distinct prefix of a chunk
    (``AnswerForward.forward``), where the problems have at least ``MIN_SHARING`` per
    prefix: a million uniform add2 problems begin with 100,000 first operands. The
    problems are then scored in the order of their prefixes, so that a chunk holds few.
    """
    device = next(model.parameters()).device
    where = torch.as_tensor(positions, device=device)
    forward = AnswerForward(model)
    on_cpu = device.type == "cpu"
    threads = torch.get_num_threads() if on_cpu else 1
    chunk = chunk or (CHUNK if on_cpu else GPU_CHUNK)
    tokens = tokens.cpu().numpy() if isinstance(tokens, torch.Tensor) else np.asarray(tokens)
    order = np.lexsort(tokens[:, :shared].T[::-1]) if shared else np.arange(len(tokens))  # first position first
    prefixes = 1 + np.count_nonzero(np.diff(tokens[order, :shared], axis=0).any(1)) if shared else 1
    if prefixes * MIN_SHARING > len(tokens):  # gathering each problem's prefix would cost more than it saves
        shared, order = 0, np.arange(len(tokens))

    def score(start: int) -> torch.Tensor:
        if on_cpu:
            torch.set_num_threads(1)  # this pool thread's ops; the others run beside it
        part = torch.as_tensor(tokens[order[start : start + chunk]].astype(np.int64), device=device)
        with torch.inference_mode():
            logits = forward(part, where, shared)  # [b, query, d_vocab]
            return (logits.argmax(-1) == part[:, where + 1]).all(1)

    try:
        with ThreadPoolExecutor(threads) as pool:
            right_in_order = list(pool.map(score, range(0, len(tokens), chunk)))
    finally:
        if on_cpu:
            torch.set_num_threads(threads)  # pool threads set their own; the caller's stays as it was
    right = np.zeros(len(tokens), dtype=bool)
    if right_in_order:
        right[order] = torch.cat(right_in_order).cpu().numpy()
    return right
