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
digit, carry case and cascade class.

A site is anything with a ``label`` (``lab.components``) and ``make_hook(cache,
method, perm) -> (hook_name, hook_fn)``, which reads the clean values it needs from
the Ablator's cache; ``interactions.PathSite`` is another site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from transformer_lens.model_bridge import TransformerBridge

from lab.analysis.attribution import logit_diff
from lab.components import Group, Head, Mlp, Neuron
from lab.task import CASE_NAMES, Batch

METHODS = ("zero", "mean", "resample")


def check_method(method: str) -> None:
    """ValueError unless ``method`` is one of ``METHODS``."""
    if method not in METHODS:
        raise ValueError(f"ablation method must be one of {', '.join(METHODS)}; got {method!r}")


def reference(values: Tensor, method: str, perm: Tensor) -> Tensor:
    """What an ablation by ``method`` puts in place of ``values`` ``[batch, pos, ...]``."""
    check_method(method)
    if method == "zero":
        return torch.zeros_like(values)
    if method == "mean":
        return values.mean(0, keepdim=True).expand_as(values)
    return values[perm]


class AblationSite(Protocol):
    label: str

    def make_hook(self, cache, method: str, perm: Tensor): ...


@dataclass(frozen=True)
class Site:
    """The activation at ``hook``, restricted to ``index`` over its dims after ``[batch, pos]``:
    a head is ``hook_z`` at ``(head,)``, neurons ``hook_post`` at ``(neuron_list,)``, an MLP
    layer ``hook_mlp_out`` at ``()``."""

    label: str
    hook: str
    index: tuple = ()

    def make_hook(self, cache, method: str, perm: Tensor):
        key = (slice(None), slice(None), *self.index)
        replacement = reference(cache[self.hook][key], method, perm)

        def hook_fn(activation: Tensor, hook) -> Tensor:
            activation[key] = replacement
            return activation

        return self.hook, hook_fn


def head_site(layer: int, head: int) -> Site:
    """Head ``L{layer}H{head}``: its ``hook_z``, so its result goes and ``b_O`` stays."""
    return Site(str(Head(layer, head)), f"blocks.{layer}.attn.hook_z", (head,))


def mlp_site(layer: int) -> Site:
    """The whole MLP of ``layer`` (``MLP{layer}``), at its output."""
    return Site(str(Mlp(layer)), f"blocks.{layer}.hook_mlp_out")


def neuron_site(layer: int, neurons: Sequence[int], group: str | None = None) -> Site:
    """Neurons of ``layer`` ablated together: labelled ``L{layer}N{n}`` for one neuron,
    ``{group}@L{layer}`` for several (which need a ``group`` name)."""
    neurons = list(neurons)
    if group is not None:
        label = str(Group(group, layer))
    elif len(neurons) == 1:
        label = str(Neuron(layer, neurons[0]))
    else:
        raise ValueError(f"{len(neurons)} neurons of layer {layer} ablated together need a group name")
    return Site(label, f"blocks.{layer}.mlp.hook_post", (neurons,))


def neuron_group_sites(neurons: Sequence[tuple[int, int]], group: str) -> list[Site]:
    """Sites ablating the ``(layer, neuron)`` pairs together, one site per layer,
    labelled ``{group}@L{layer}``."""
    layers = sorted({layer for layer, _ in neurons})
    return [neuron_site(layer, [n for l, n in neurons if l == layer], group) for layer in layers]


def model_sites(model: TransformerBridge) -> dict[str, list[Site]]:
    """Every head and every MLP layer of ``model``, each as a one-site ablation, by label."""
    cfg = model.cfg
    sites = {site.label: [site] for site in (head_site(l, h) for l in range(cfg.n_layers) for h in range(cfg.n_heads))}
    if not cfg.attn_only:
        sites.update({site.label: [site] for site in map(mlp_site, range(cfg.n_layers))})
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

    ``method`` is "zero", "mean" or "resample"; ``seed`` fixes the resampling
    permutation. The clean run caches the hooks ending in ``SOURCE_SUFFIXES`` (every
    head's ``z``, MLP output and neuron activation), which is what sites read.
    """

    SOURCE_SUFFIXES = ("attn.hook_z", "hook_mlp_out", "mlp.hook_post")

    def __init__(self, model: TransformerBridge, batch: Batch, method: str, seed: int = 0):
        check_method(method)
        self.model, self.batch, self.method = model, batch, method
        self.tokens = torch.as_tensor(batch.tokens, device=model.cfg.device)
        self.perm = torch.randperm(len(batch), generator=torch.Generator().manual_seed(seed)).to(self.tokens.device)
        with torch.no_grad():
            self.clean_logits, self.cache = model.run_with_cache(
                self.tokens, names_filter=lambda name: name.endswith(self.SOURCE_SUFFIXES)
            )
        self.clean_loss = answer_losses(self.clean_logits, batch)
        self.clean_logit_diff = logit_diff(self.clean_logits, batch)

    def run(self, sites: Sequence[AblationSite], cache_hooks: Sequence[str] = ()) -> tuple[Tensor, dict]:
        """Logits ``[batch, seq, vocab]`` with ``sites`` ablated together, and the
        activations at ``cache_hooks`` in that run."""
        hooks = [site.make_hook(self.cache, self.method, self.perm) for site in sites]
        with torch.no_grad(), self.model.hooks(fwd_hooks=hooks):
            logits, cache = self.model.run_with_cache(self.tokens, names_filter=list(cache_hooks))
        return logits, {name: cache[name] for name in cache_hooks}

    def effect(self, sites: Sequence[AblationSite]) -> Effect:
        """Change in loss and logit difference when ``sites`` are ablated together."""
        logits, _ = self.run(sites)
        return Effect(
            answer_losses(logits, self.batch) - self.clean_loss, logit_diff(logits, self.batch) - self.clean_logit_diff
        )

    def interaction(self, a: Sequence[AblationSite], b: Sequence[AblationSite]) -> Tensor:
        """Joint minus summed separate effects on the logit difference, ``[batch, answer_len]``:
        zero when ``a`` and ``b`` act independently."""
        return self.effect([*a, *b]).logit_diff - self.effect(a).logit_diff - self.effect(b).logit_diff


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of ``values [..., batch, answer_len]`` where ``mask [batch, answer_len]`` holds."""
    mask = np.broadcast_to(mask, values.shape[-2:])
    if not mask.any():
        return np.full(values.shape[:-2], np.nan)
    return values[..., mask].mean(-1)


def group_means(values: Tensor, batch: Batch) -> dict[str, np.ndarray]:
    """Means of per-digit ``values`` ``[..., batch, answer_len]`` by answer digit
    (``[..., answer_len]``), carry case of the digit (``[..., 3]``: base, carry, cascade)
    and cascade class of the problem (``[..., n+1]``: S0..Sn). Empty groups are NaN."""
    values = values.detach().cpu().numpy()
    classes = batch.cascade_class[:, None]
    return {
        "digit": values.mean(-2),
        "carry case": np.stack([_masked_mean(values, batch.cases == k) for k in range(len(CASE_NAMES))], -1),
        "cascade class": np.stack([_masked_mean(values, classes == c) for c in range(batch.task.n_digits + 1)], -1),
    }
