"""Direct logit attribution of every head and neuron to the "+0"/"+1" logit difference.

At each answer digit the model has to decide the incoming carry: the correct digit
and its *rival*, the digit it would give with the other carry, differ by one. The
logit difference ``logit[correct] - logit[rival]`` isolates that decision.

TransformerLens does the decomposition:
``ActivationCache.get_full_resid_decomposition(expand_neurons=True, apply_ln=True,
project_output_onto=...)`` splits the final residual stream into every head's result,
every neuron's result, the embeddings and the summed output biases, centres each part
and divides it by the final LayerNorm's cached scale.

The lab adds what that lacks for these models:

* the rival digits (``rival_digits``);
* the unembedding *through* the final LayerNorm's weight and bias: the bridge's weights
  are not folded, and ``ActivationCache.logit_attrs`` dots with ``W_U`` alone, which is
  right only for folded weights (``unembed_through_ln``);
* the constant term (LayerNorm bias and unembedding bias) that belongs to no component;
* the check that the parts add up (``Attribution.residual``) and, since they add up
  only with the LayerNorm scale frozen, how far each part is from the effect of really
  removing it from the final residual stream with the scale recomputed
  (``direct_path_effects``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from transformer_lens.model_bridge import TransformerBridge

from lab import components
from lab.components import Head, Neuron
from lab.task import Batch


def rival_digits(batch: Batch) -> np.ndarray:
    """The digit each answer position would show with the other incoming carry.

    With carry 0 the answer is ``s mod 10`` and the rival ``(s+1) mod 10``; with carry 1
    the answer is ``(s+1) mod 10`` and the rival ``s mod 10``. ``[batch, answer_len]``.
    """
    return np.where(batch.carry_in == 0, (batch.answers + 1) % 10, (batch.answers - 1) % 10)


def unembed_through_ln(model: TransformerBridge) -> tuple[Tensor, Tensor]:
    """The unembedding seen from the final LayerNorm's normalized output.

    ``logits = normalized @ W + c`` with ``W = w_ln[:, None] * W_U`` ``[d_model, d_vocab]``
    and ``c = b_ln @ W_U + b_U`` ``[d_vocab]``: what folding the LayerNorm would give.
    """
    ln = model.ln_final
    return ln.w[:, None] * model.W_U, ln.b @ model.W_U + model.b_U


def _pick(values: Tensor, index: Tensor) -> Tensor:
    """``values[..., index]`` per example: values ``[..., batch, pos, vocab]``, index ``[batch, pos]``."""
    return values.gather(-1, index[..., None].expand(*values.shape[:-1], 1)).squeeze(-1)


def _diff(values: Tensor, correct: Tensor, rival: Tensor) -> Tensor:
    """``values[..., correct] - values[..., rival]`` for ``values [..., batch, pos, vocab]``."""
    return _pick(values, correct) - _pick(values, rival)


def _targets(batch: Batch, device) -> tuple[Tensor, Tensor]:
    """Correct and rival digits as tensors, each ``[batch, answer_len]``."""
    return (torch.as_tensor(batch.answers, device=device), torch.as_tensor(rival_digits(batch), device=device))


def logit_diff(logits: Tensor, batch: Batch) -> Tensor:
    """Correct minus rival logit at each answer digit: logits ``[batch, seq, vocab]``
    -> ``[batch, answer_len]``."""
    correct, rival = _targets(batch, logits.device)
    return _diff(logits[:, batch.task.predict_positions], correct, rival)


@dataclass
class Attribution:
    """Direct logit attributions over a batch, at the positions predicting the answer.

    parts       ``[component, batch, answer_pos]``: heads ``LxHy``, neurons ``LxNy``,
                ``embed``, ``pos_embed``, ``bias`` (summed attention/MLP output biases)
    labels      ``[component]``, the names above, in TransformerLens' order
    constant    ``[batch, answer_pos]``: final LayerNorm bias and unembedding bias
    logit_diff  ``[batch, answer_pos]``: correct minus rival logit of the real forward pass
    """

    parts: Tensor
    labels: list[str]
    constant: Tensor
    logit_diff: Tensor

    @property
    def residual(self) -> Tensor:
        """What the parts miss: ``logit_diff - parts.sum(0) - constant``, ``[batch, answer_pos]``."""
        return self.logit_diff - self.parts.sum(0) - self.constant

    def indices(self, cls: type) -> list[int]:
        """Indices of the components that are a ``cls`` (``components.Head`` or
        ``components.Neuron``), in order."""
        return [i for i, label in enumerate(self.labels) if components.is_a(label, cls)]

    def importance(self, mask: np.ndarray | None = None) -> Tensor:
        """Mean absolute attribution of each component at each answer position over the
        examples where ``mask`` ``[batch, answer_pos]`` holds, ``[component, answer_pos]``."""
        weight = torch.ones_like(self.logit_diff) if mask is None else torch.as_tensor(mask).float()
        return (self.parts.abs() * weight).sum(1) / weight.sum(0).clamp(min=1)


def attribute(model: TransformerBridge, batch: Batch, chunk_size: int = 256) -> Attribution:
    """Direct logit attribution of every component for every problem of ``batch`` (on the CPU)."""
    positions = batch.task.predict_positions
    tokens = torch.as_tensor(batch.tokens, device=model.cfg.device)
    correct, rival = _targets(batch, model.cfg.device)
    parts, diffs, labels = [], [], None
    with torch.no_grad():
        W, c = unembed_through_ln(model)
        for rows in torch.arange(len(batch)).split(chunk_size):
            logits, cache = model.run_with_cache(tokens[rows])
            stack, labels = cache.get_full_resid_decomposition(
                expand_neurons=True, apply_ln=True, pos_slice=positions, project_output_onto=W, return_labels=True
            )  # [component, chunk, pos, vocab]
            parts.append(_diff(stack, correct[rows], rival[rows]))
            diffs.append(_diff(logits[:, positions], correct[rows], rival[rows]))
        constant = c[correct] - c[rival]
    return Attribution(torch.cat(parts, 1).cpu(), labels, constant.cpu(), torch.cat(diffs).cpu())


def top_neurons(attr: Attribution, k: int) -> list[tuple[int, int, int]]:
    """The ``k`` neurons with the largest importance at any answer position, as
    ``(position, layer, neuron)`` at the position where each matters most, best first."""
    index = attr.indices(Neuron)
    best, position = attr.importance()[index].max(1)
    out = []
    for i in best.argsort(descending=True)[:k].tolist():
        neuron = components.parse_as(attr.labels[index[i]], Neuron)
        out.append((int(position[i]), neuron.layer, neuron.neuron))
    return out


def top_share(importance: Tensor, k: int) -> Tensor:
    """Share of the total held by the ``k`` largest entries, per column:
    importance ``[component, answer_pos]`` -> ``[answer_pos]``."""
    return importance.topk(k, dim=0).values.sum(0) / importance.sum(0)


def _component_outputs(cache, labels: list[str], positions: np.ndarray) -> Tensor:
    """What each labelled head or neuron writes to the residual stream at ``positions``,
    ``[component, batch, pos, d_model]``, via ``stack_head_results`` / ``get_neuron_results``."""
    heads, head_labels = cache.stack_head_results(pos_slice=positions, return_labels=True)
    out = []
    for label in labels:
        component = components.parse(label)
        if isinstance(component, Head):
            out.append(heads[head_labels.index(label)])
        elif isinstance(component, Neuron):
            out.append(
                cache.get_neuron_results(component.layer, neuron_slice=[component.neuron], pos_slice=positions)[
                    ..., 0, :
                ]
            )
        else:
            raise ValueError(f"{label!r} is neither a head nor a neuron")
    return torch.stack(out)


def direct_path_effects(model: TransformerBridge, batch: Batch, labels: list[str]) -> Tensor:
    """The logit difference lost when each labelled component (``LxHy`` / ``LxNy``) is
    removed from the final residual stream only, with the final LayerNorm recomputed,
    ``[component, batch, answer_pos]``.

    With the LayerNorm scale frozen this would equal the component's attribution exactly;
    the gap is how much the scale's dependence on the component matters.
    """
    positions = batch.task.predict_positions
    tokens = torch.as_tensor(batch.tokens, device=model.cfg.device)
    correct, rival = _targets(batch, model.cfg.device)
    with torch.no_grad():
        logits, cache = model.run_with_cache(tokens)
        resid = cache["ln_final.hook_in"][:, positions]  # [batch, pos, d_model]
        without = resid - _component_outputs(cache, labels, positions)  # [component, batch, pos, d_model]
        ablated = model.unembed(model.ln_final(without.flatten(0, 1))).unflatten(0, without.shape[:2])
        return (_diff(logits[:, positions], correct, rival) - _diff(ablated, correct, rival)).cpu()
