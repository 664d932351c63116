"""Zero-, mean- and resample-ablation of heads, MLP layers and groups of neurons.

An ablation replaces a component's activation by a reference and reruns the model:

* zero       the activation is set to 0
* mean       to its mean over the batch, at the same position
* resample   to its value on another problem of the batch (one fixed permutation,
             shared by all components ablated together)

TransformerLens does the work: ``run_with_cache`` for the clean activations and
``run_with_hooks`` for the ablated run, at its hook points ``blocks.L.attn.hook_z``
(one head: zeroing ``z`` zeroes the head's result, ``b_O`` stays), ``blocks.L.hook_mlp_out``
(a whole MLP layer) and ``blocks.L.mlp.hook_post`` (neurons). The lab adds the
component sites, one ``Ablator`` that caches the clean run once and evaluates many
ablations on the same problems, and the loss and logit-difference effects per answer
digit, carry kind and cascade class.

A site is anything with ``sources`` (hook names whose clean values it needs) and
``make_hook(cache, kind, perm) -> (hook_name, hook_fn)``; ``interactions.PathSite`` is
another kind of site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from transformer_lens.model_bridge import TransformerBridge

from lab.analysis.attribution import logit_diff
from lab.task import CASE_NAMES, Batch

KINDS = ("zero", "mean", "resample")


def reference(values: Tensor, kind: str, perm: Tensor) -> Tensor:
    """What an ablation of ``kind`` puts in place of ``values`` ``[batch, pos, ...]``."""
    if kind == "zero":
        return torch.zeros_like(values)
    if kind == "mean":
        return values.mean(0, keepdim=True).expand_as(values)
    if kind == "resample":
        return values[perm]
    raise ValueError(f"ablation kind must be one of {KINDS}, got {kind!r}")


class AblationSite(Protocol):
    label: str

    @property
    def sources(self) -> tuple[str, ...]: ...

    def make_hook(self, cache, kind: str, perm: Tensor): ...


@dataclass(frozen=True)
class Site:
    """The activation at ``hook``, restricted to ``index`` over its dims after ``[batch, pos]``:
    a head is ``hook_z`` at ``(head,)``, neurons ``hook_post`` at ``(neuron_list,)``, an MLP
    layer ``hook_mlp_out`` at ``()``."""

    label: str
    hook: str
    index: tuple = ()

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.hook,)

    def make_hook(self, cache, kind: str, perm: Tensor):
        key = (slice(None), slice(None), *self.index)
        replacement = reference(cache[self.hook][key], kind, perm)

        def hook_fn(activation: Tensor, hook) -> Tensor:
            activation[key] = replacement
            return activation

        return self.hook, hook_fn


def head_site(layer: int, head: int) -> Site:
    return Site(f"L{layer}H{head}", f"blocks.{layer}.attn.hook_z", (head,))


def mlp_site(layer: int) -> Site:
    return Site(f"MLP{layer}", f"blocks.{layer}.hook_mlp_out")


def neuron_site(layer: int, neurons: Sequence[int], label: str | None = None) -> Site:
    neurons = list(neurons)
    return Site(label or f"L{layer}N{','.join(map(str, neurons))}", f"blocks.{layer}.mlp.hook_post", (neurons,))


def neuron_group_sites(neurons: Sequence[tuple[int, int]], label: str) -> list[Site]:
    """Sites ablating the ``(layer, neuron)`` pairs together, one site per layer."""
    layers = sorted({layer for layer, _ in neurons})
    return [neuron_site(layer, [n for l, n in neurons if l == layer], f"{label}@L{layer}") for layer in layers]


def model_sites(model: TransformerBridge) -> dict[str, list[Site]]:
    """Every head and every MLP layer of ``model``, each as a one-site ablation."""
    cfg = model.cfg
    sites = {f"L{l}H{h}": [head_site(l, h)] for l in range(cfg.n_layers) for h in range(cfg.n_heads)}
    if not cfg.attn_only:
        sites.update({f"MLP{l}": [mlp_site(l)] for l in range(cfg.n_layers)})
    return sites


def answer_losses(logits: Tensor, batch: Batch) -> Tensor:
    """Cross-entropy of each answer digit, ``[batch, answer_len]``."""
    positions = batch.task.predict_positions
    target = torch.as_tensor(batch.tokens[:, positions + 1], device=logits.device)
    return F.cross_entropy(logits[:, positions].transpose(1, 2), target, reduction="none")


@dataclass
class Effect:
    """What an ablation changed, per problem and answer digit, ``[batch, answer_len]`` each:
    ``loss`` (ablated minus clean cross-entropy) and ``logit_diff`` (ablated minus clean
    correct-minus-rival logit difference)."""

    loss: Tensor
    logit_diff: Tensor


class Ablator:
    """Ablations of one model on one batch, sharing a single clean run.

    ``kind`` is "zero", "mean" or "resample"; ``seed`` fixes the resampling permutation.
    ``source_hooks``: the hooks whose clean values sites may need (heads, MLP outputs,
    neurons by default).
    """

    SOURCE_SUFFIXES = ("attn.hook_z", "hook_mlp_out", "mlp.hook_post")

    def __init__(self, model: TransformerBridge, batch: Batch, kind: str, seed: int = 0):
        if kind not in KINDS:
            raise ValueError(f"ablation kind must be one of {KINDS}, got {kind!r}")
        self.model, self.batch, self.kind = model, batch, kind
        self.tokens = torch.as_tensor(batch.tokens, device=model.cfg.device)
        self.perm = torch.randperm(len(batch), generator=torch.Generator().manual_seed(seed)).to(self.tokens.device)
        with torch.no_grad():
            self.clean_logits, self.cache = model.run_with_cache(
                self.tokens, names_filter=lambda name: name.endswith(self.SOURCE_SUFFIXES))
        self.clean_loss = answer_losses(self.clean_logits, batch)
        self.clean_logit_diff = logit_diff(self.clean_logits, batch)

    def run(self, sites: Sequence[AblationSite], cache_hooks: Sequence[str] = ()) -> tuple[Tensor, dict]:
        """Logits ``[batch, seq, vocab]`` with ``sites`` ablated together, and the
        activations at ``cache_hooks`` in that run."""
        hooks = [site.make_hook(self.cache, self.kind, self.perm) for site in sites]
        with torch.no_grad(), self.model.hooks(fwd_hooks=hooks):
            logits, cache = self.model.run_with_cache(self.tokens, names_filter=list(cache_hooks))
        return logits, {name: cache[name] for name in cache_hooks}

    def effect(self, sites: Sequence[AblationSite]) -> Effect:
        """Change in loss and logit difference when ``sites`` are ablated together."""
        logits, _ = self.run(sites)
        return Effect(answer_losses(logits, self.batch) - self.clean_loss,
                      logit_diff(logits, self.batch) - self.clean_logit_diff)

    def interaction(self, a: Sequence[AblationSite], b: Sequence[AblationSite]) -> Tensor:
        """Joint minus summed separate effects on the logit difference, ``[batch, answer_len]``:
        zero when ``a`` and ``b`` act independently."""
        return (self.effect([*a, *b]).logit_diff - self.effect(a).logit_diff
                - self.effect(b).logit_diff)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of ``values [..., batch, answer_len]`` where ``mask [batch, answer_len]`` holds."""
    mask = np.broadcast_to(mask, values.shape[-2:])
    if not mask.any():
        return np.full(values.shape[:-2], np.nan)
    return values[..., mask].mean(-1)


def group_means(values: Tensor, batch: Batch) -> dict[str, np.ndarray]:
    """Means of per-digit ``values`` ``[..., batch, answer_len]`` by answer digit
    (``[..., answer_len]``), carry kind of the digit (``[..., 3]``: base, carry, cascade)
    and cascade class of the problem (``[..., n+1]``: S0..Sn). Empty groups are NaN."""
    values = values.detach().cpu().numpy()
    classes = batch.cascade_class[:, None]
    return {
        "digit": values.mean(-2),
        "carry kind": np.stack([_masked_mean(values, batch.cases == k) for k in range(len(CASE_NAMES))], -1),
        "cascade class": np.stack([_masked_mean(values, classes == c)
                                   for c in range(batch.task.n_digits + 1)], -1),
    }
