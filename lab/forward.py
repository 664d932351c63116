"""The training forward: the bridge's computation without its hook points.

A TransformerBridge routes every layer through hook points and bridge components
(about a hundred module calls a forward), whether or not a hook listens. On the lab's
small models that Python overhead is most of a training step's cost beyond the
kernels: at ``add2-fast``'s shape (d_model 64, batch 64) the bridge stepped at 0.83x
a plain-PyTorch transformer (``bench/bench_train_throughput.py``). Training attaches
no hooks, so it runs the same weights through this lean forward; analyses keep the
bridge and all of TransformerLens' tools.

Two attention computations:

- explicit (the default): TransformerLens' own ops in its order, so logits and
  gradients are bit for bit the bridge's (``tests/test_forward.py`` checks it).
  TransformerLens zeroes masked pattern entries a second time after the softmax, for
  padding rows that are masked whole; causal rows never are, and the softmax already
  gives exactly 0 there, so that op is left out and nothing changes.
- fused (``TrainConfig.fused_attention``): one q/k/v projection and torch's
  ``scaled_dot_product_attention``. The same function, rounded differently: a model
  trained this way differs from an explicit run from the first step on.

    forward = TrainingForward(bridge)          # parameters() are the bridge's
    logits = forward(tokens)                   # [batch, pos, d_vocab]
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformer_lens.config.transformer_bridge_config import SOFTCAP_DISABLED
from transformer_lens.model_bridge import TransformerBridge


def native(component: nn.Module) -> nn.Module:
    """The plain torch module under a bridge component (bridges can nest)."""
    while component._modules.get("_original_component") is not None:
        component = component._modules["_original_component"]
    return component


class TrainingForward(nn.Module):
    """``bridge``'s forward as plain torch calls on its native modules (shared, not
    copied: training through this trains ``bridge``).

    Its only submodule is ``bridge``, so ``parameters()`` yields the bridge's in the
    bridge's order (gradient clipping sums norms in that order).
    """

    def __init__(self, bridge: TransformerBridge, fused_attention: bool = False):
        super().__init__()
        if any(hook.has_hooks() for hook in bridge.hook_dict.values()):
            raise ValueError("the training forward skips hook points; remove the bridge's hooks first")
        self.bridge = bridge
        self.fused_attention = fused_attention
        model = bridge.original_model
        self._check_supported(model)
        # plain lists and a dict: not registered, so parameters() stays the bridge's
        self._embed = [native(model.tok_embed), native(model.pos)]
        self._blocks = [self._block_parts(native(layer)) for layer in model.layers]
        self._final = [native(model.ln_out), native(model.head)]

    @staticmethod
    def _check_supported(model: nn.Module) -> None:
        """What the lab's ``ModelConfig`` builds: learned positions, causal multi-head
        attention, no soft caps, no gated MLP. Anything else is refused, not mis-run."""
        attn = native(native(model.layers[0]).attn)
        if (
            model.pos is None
            or attn.rotary is not None
            or attn.kv_repeats != 1
            or not attn.causal
            or attn.attn_scores_soft_cap != SOFTCAP_DISABLED
            or model.output_logits_soft_cap != SOFTCAP_DISABLED
            or model.cfg.gated_mlp
        ):
            raise ValueError("the training forward covers the lab's architecture only")

    @staticmethod
    def _block_parts(block: nn.Module) -> dict:
        attn = native(block.attn)
        parts = {
            "ln1": native(block.ln1),
            "attn": attn,
            "q": native(attn.q),
            "k": native(attn.k),
            "v": native(attn.v),
            "o": native(attn.o),
        }
        if hasattr(block, "mlp"):  # not attn_only
            mlp = native(block.mlp)
            parts.update(ln2=native(block.ln2), fc_in=native(mlp.fc_in), fc_out=native(mlp.fc_out), mlp=mlp)
        return parts

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens ``[batch, pos]`` -> logits ``[batch, pos, d_vocab]``."""
        tok_embed, pos_embed = self._embed
        batch, seq = tokens.shape
        positions = torch.arange(seq, device=tokens.device).unsqueeze(0).expand(batch, -1)
        x = tok_embed(tokens) + pos_embed(positions)  # [batch, pos, d_model]
        for parts in self._blocks:
            x = x + self._attention(parts, parts["ln1"](x))
            if "mlp" in parts:
                x = x + self._mlp(parts, parts["ln2"](x))
        ln_final, unembed = self._final
        return unembed(ln_final(x))

    def _attention(self, parts: dict, x: torch.Tensor) -> torch.Tensor:
        """``[batch, pos, d_model]`` -> the attention layer's output, same shape."""
        attn = parts["attn"]
        batch, seq, _ = x.shape
        heads = (batch, seq, attn.n_heads, attn.d_head)
        if self.fused_attention:
            weight = torch.cat([parts["q"].weight, parts["k"].weight, parts["v"].weight])
            bias = torch.cat([parts["q"].bias, parts["k"].bias, parts["v"].bias])
            qkv = F.linear(x, weight, bias).view(batch, seq, 3, attn.n_heads, attn.d_head)
            q, k, v = (t.transpose(1, 2) for t in qkv.unbind(2))  # each [batch, head, pos, d_head]
            z = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1 / attn.scale)
        else:
            q, k, v = (parts[name](x).view(heads).transpose(1, 2) for name in "qkv")
            mask = attn.causal_mask[:seq, :seq]  # [query, key], True above the diagonal
            scores = torch.matmul(q, k.transpose(-2, -1)) / attn.scale
            pattern = F.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
            z = torch.matmul(pattern, v)  # [batch, head, pos, d_head]
        return parts["o"](z.transpose(1, 2).contiguous().view(batch, seq, -1))

    @staticmethod
    def _mlp(parts: dict, x: torch.Tensor) -> torch.Tensor:
        mlp = parts["mlp"]
        hidden = mlp.act(parts["fc_in"](x))
        if mlp.ln is not None:  # SoLU-LN's LayerNorm after the activation
            hidden = mlp.ln(hidden)
        return parts["fc_out"](hidden)
