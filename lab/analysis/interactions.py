"""How attention heads feed MLP neurons: from the weights and from the activations.

Weight-based. A composition score (Elhage et al., 2021) measures how much of what one
matrix writes another reads: ``||A B||_F / (||A||_F ||B||_F)``. For head h and neuron n
the writer is the head's OV circuit ``W_V W_O`` ``[d_model, d_model]`` and the reader
the neuron's input direction ``W_in[:, n]`` ``[d_model]``. TransformerLens'
``utilities.composition_scores`` computes it from ``FactoredMatrix`` forms; the lab
builds the factored matrices for the head x neuron case (each neuron a rank-1
``[d_model, 1]`` reader) and folds in the LayerNorms the bridge leaves unfolded: ln1's
weight into ``W_V``, ln2's weight and its centring into ``W_in`` (as
``process_weights(fold_ln=True)`` would).

Activation-based. ``PathSite`` removes one head's output from the input of one MLP
layer only (path patching): a hook on ``blocks.L.ln2.hook_in`` shifts the MLP's input
by (reference - clean head result) and leaves the residual stream itself untouched.
In the bridge ``blocks.L.hook_resid_mid`` is the same hook point as ``ln2.hook_in`` and
changing it changes only the MLP input; the tests check that. The joint effect of two
ablations minus the sum of their separate effects (``ablation.Ablator.interaction``)
is their interaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from transformer_lens.FactoredMatrix import FactoredMatrix
from transformer_lens.model_bridge import TransformerBridge
from transformer_lens.utilities.matrix import composition_scores

from lab.analysis import attribution
from lab.analysis.ablation import Ablator, neuron_site, reference
from lab.components import Head, Path


def _stack(model: TransformerBridge, get) -> Tensor:
    return torch.stack([get(block) for block in model.blocks])


def folded_ov(model: TransformerBridge) -> FactoredMatrix:
    """Every head's OV circuit with ln1's weight folded in, ``[layer, head, d_model, d_model]``."""
    W_V = _stack(model, lambda b: b.ln1.w[None, :, None] * b.attn.W_V)  # [layer, head, d_model, d_head]
    return FactoredMatrix(W_V, _stack(model, lambda b: b.attn.W_O))


def folded_w_in(model: TransformerBridge) -> Tensor:
    """Each neuron's effective input direction in the residual stream, ln2's weight and
    centring folded in, ``[layer, d_model, d_mlp]``."""
    W_in = _stack(model, lambda b: b.ln2.w[:, None] * b.mlp.W_in)
    return W_in - W_in.mean(1, keepdim=True)


def head_neuron_composition(model: TransformerBridge) -> Tensor:
    """Composition score of each head's output with each neuron's input,
    ``[head_layer, head, neuron_layer, neuron]``; zero where the neuron's MLP comes before
    the head (an MLP reads the heads of its own layer and earlier)."""
    with torch.no_grad():
        w_in = folded_w_in(model).transpose(1, 2)[..., None]  # [layer, d_mlp, d_model, 1]
        readers = FactoredMatrix(w_in, torch.ones(*w_in.shape[:2], 1, 1, device=w_in.device))
        scores = composition_scores(folded_ov(model), readers, broadcast_dims=True)
    layers = torch.arange(model.cfg.n_layers, device=scores.device)
    downstream = layers[:, None, None, None] <= layers[None, None, :, None]
    return torch.where(downstream, scores, torch.zeros_like(scores)).cpu()


@dataclass(frozen=True)
class PathSite:
    """Head ``(layer, head)``'s output removed from the input of MLP ``mlp_layer`` only:
    the MLP sees (reference - clean result) added; the residual stream is unchanged."""

    layer: int
    head: int
    mlp_layer: int

    @property
    def label(self) -> str:
        """``L{layer}H{head}>MLP{mlp_layer}`` (``components.Path``)."""
        return str(Path(Head(self.layer, self.head), self.mlp_layer))

    def make_hook(self, cache, method: str, perm: Tensor):
        z = cache[f"blocks.{self.layer}.attn.hook_z"][:, :, self.head]  # [batch, pos, d_head]
        result = z @ cache.model.blocks[self.layer].attn.W_O[self.head]  # [batch, pos, d_model]
        shift = reference(result, method, perm) - result
        return f"blocks.{self.mlp_layer}.ln2.hook_in", lambda resid, hook: resid + shift


def head_paths(model: TransformerBridge, layer: int, head: int) -> list[PathSite]:
    """The paths from head ``(layer, head)`` into every MLP at or after its layer."""
    return [PathSite(layer, head, mlp) for mlp in range(layer, model.cfg.n_layers)]


@dataclass
class PathEffects:
    """Effects of cutting each head's paths into the MLPs, averaged over problems.

    activation  ``[head_layer, head, layer, neuron, answer_pos]``: mean change of each
                neuron's activation at the positions predicting the answer
    logit_diff  ``[head_layer, head, answer_pos]``: mean change of the logit difference
    """

    activation: Tensor
    logit_diff: Tensor


def path_effects(ablator: Ablator) -> PathEffects:
    """Cut each head's paths into the MLPs in turn (by ``ablator``'s method); on the CPU."""
    model, positions = ablator.model, ablator.batch.task.predict_positions
    cfg = model.cfg
    posts = [f"blocks.{l}.mlp.hook_post" for l in range(cfg.n_layers)]
    clean = torch.stack([ablator.cache[name][:, positions] for name in posts])  # [layer, batch, pos, neuron]
    activation, logit_diff = [], []
    for layer in range(cfg.n_layers):
        for head in range(cfg.n_heads):
            sites = head_paths(model, layer, head)
            logits, cache = ablator.run(sites, cache_hooks=posts)
            acts = torch.stack([cache[name][:, positions] for name in posts])
            activation.append((acts - clean).mean(1).transpose(1, 2))  # [layer, neuron, pos]
            logit_diff.append((attribution.logit_diff(logits, ablator.batch) - ablator.clean_logit_diff).mean(0))
    shape = (cfg.n_layers, cfg.n_heads)
    return PathEffects(
        torch.stack(activation).unflatten(0, shape).cpu(), torch.stack(logit_diff).unflatten(0, shape).cpu()
    )


def interaction_map(ablator: Ablator, heads: list[tuple[int, int]], neurons: list[tuple[int, int]]) -> Tensor:
    """Interaction of each head's MLP paths with each neuron on the logit difference:
    joint minus summed separate effects, mean over problems, ``[head, neuron, answer_pos]``.

    Ablating a neuron removes what the head's paths did through it, so the interaction
    is about minus the head's effect carried by that neuron (plus what is non-linear)."""
    answer_len = ablator.batch.task.answer_len
    rows = []
    for layer, head in heads:
        paths = head_paths(ablator.model, layer, head)
        rows.append(
            torch.stack(
                [
                    ablator.interaction(paths, [neuron_site(n_layer, [neuron])]).mean(0)
                    if n_layer >= layer
                    else torch.zeros(answer_len, device=ablator.tokens.device)  # the MLP runs before the head
                    for n_layer, neuron in neurons
                ]
            )
        )
    return torch.stack(rows).cpu()
