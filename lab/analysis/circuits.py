"""The exercises of "A Mathematical Framework for Transformer Circuits" (Elhage et al.,
2021): OV and QK circuits, the eigenvalue copying score, and composition between layers.

TransformerLens does the linear algebra: ``model.OV`` and ``model.QK`` are
``FactoredMatrix``es ``[layer, head, d_model, d_model]`` (``W_V W_O`` and ``W_Q W_K^T``)
that multiply by embeddings without forming the products and give ``eigenvalues``;
``model.all_composition_scores(mode)`` computes Q-, K- and V-composition between every
pair of heads (``utils.composition_scores``); ``enable_compatibility_mode`` folds
LayerNorm into the weights, as HookedTransformer did on load.

The lab adds: a folded copy of a model, leaving the original untouched; the full
circuits through the embedding, positional embedding and unembedding; the copying score
from the eigenvalues; the composition score of random matrices of the same shapes, the
baseline the paper compares against; and a table of the strongest head pairs.

Caveats the framework itself states: circuits are read without LayerNorm's division by
the residual norm and without biases, and composition scores see only the direct path
between heads (in models with MLPs, not the path through them).
"""

from __future__ import annotations

import copy

import torch
from transformer_lens import FactoredMatrix
from transformer_lens.model_bridge import TransformerBridge
from transformer_lens.utilities import composition_scores as tl_composition_scores

from lab.components import head_labels

MODES = ("Q", "K", "V")


def folded(model: TransformerBridge) -> TransformerBridge:
    """A copy of ``model`` with LayerNorm weights folded into the weights that read the
    residual stream and the writing weights centred (TransformerLens'
    ``enable_compatibility_mode``); it computes the same function. Its weights do not
    require gradients, so circuits come out as plain tensors."""
    processed = copy.deepcopy(model)
    processed.enable_compatibility_mode(disable_warnings=True)
    return processed.requires_grad_(False)


def full_ov_circuit(model: TransformerBridge) -> FactoredMatrix:
    """``W_E W_V W_O W_U`` of every head, ``[layer, head, d_vocab (attended token),
    d_vocab (logit)]``: what each head adds to the logits when it attends to a token.
    Exact for the direct path of layer-0 heads; for later layers, the part that reads
    the token embedding."""
    return model.W_E @ model.OV @ model.W_U


def full_qk_circuit(model: TransformerBridge) -> FactoredMatrix:
    """``W_E W_Q W_K^T W_E^T`` of every head, ``[layer, head, d_vocab (query token),
    d_vocab (key token)]``: the attention score between two tokens from their embeddings."""
    return model.W_E @ model.QK @ model.W_E.T


def positional_qk_circuit(model: TransformerBridge) -> FactoredMatrix:
    """``W_pos W_Q W_K^T W_pos^T`` of every head, ``[layer, head, n_ctx (query pos),
    n_ctx (key pos)]``: the part of the attention score that depends only on positions."""
    return model.W_pos @ model.QK @ model.W_pos.T


def copying_score(circuit: FactoredMatrix) -> torch.Tensor:
    """The eigenvalue copying score ``Re(sum λ) / sum |λ|`` of each square circuit,
    ``[*leading]``: 1 when every eigenvalue is positive (the circuit raises what it reads,
    it copies), -1 when every one is negative. ``FactoredMatrix.eigenvalues`` gives the
    non-zero eigenvalues from the small factor product."""
    eigenvalues = circuit.eigenvalues
    return (eigenvalues.sum(-1) / eigenvalues.abs().sum(-1)).real


def composition_scores(model: TransformerBridge, mode: str) -> torch.Tensor:
    """``mode``-composition ("Q", "K" or "V") of every earlier head into every later one,
    ``[layer (writer), head, layer (reader), head]``, 0 where the reader is not later
    (``model.all_composition_scores``)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return model.all_composition_scores(mode).scores.detach()


def composition_baseline(d_model: int, d_head: int, samples: int = 100, seed: int = 0) -> float:
    """Mean composition score of random Gaussian matrices of rank ``d_head`` in
    ``d_model`` dimensions (``utils.composition_scores`` on independent pairs): what a
    score has to beat to mean anything."""
    gen = torch.Generator().manual_seed(seed)

    def random_circuit() -> FactoredMatrix:
        return FactoredMatrix(
            torch.randn(samples, d_model, d_head, generator=gen), torch.randn(samples, d_head, d_model, generator=gen)
        )

    return float(tl_composition_scores(random_circuit(), random_circuit(), broadcast_dims=False).mean())


def top_compositions(scores: dict[str, torch.Tensor], k: int = 5) -> list[dict]:
    """The ``k`` strongest (writer, reader) pairs of each mode, strongest first, as rows
    ``{mode, writer, reader, score}``; scores: ``{mode: [layer, head, layer, head]}``."""
    rows = []
    for mode, score in scores.items():
        n_layers, n_heads = score.shape[:2]
        labels = head_labels(n_layers, n_heads)
        flat = score.reshape(n_layers * n_heads, n_layers * n_heads)
        values, indices = flat.flatten().topk(k)
        rows += [
            {"mode": mode, "writer": labels[i // len(labels)], "reader": labels[i % len(labels)], "score": float(v)}
            for v, i in zip(values, indices.tolist())
        ]
    return rows
