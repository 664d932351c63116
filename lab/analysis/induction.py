"""Induction and previous-token heads: a score per head, the loss on repeated tokens,
and the phase change where induction heads form in a checkpoint series.

TransformerLens' ``detect_head`` starts from strings and so needs a tokenizer, which
our models do not have; its parts work on tensors and the lab calls them directly:
``get_induction_head_detection_pattern`` / ``get_previous_token_head_detection_pattern``
give, for one token row, the ``[query_pos, key_pos]`` pattern of a perfect head, and
``compute_head_attention_similarity_score`` ("mul") scores one head's pattern against
it: the attention on the detection pattern's keys over all attention.

The lab adds: scoring a batch (the mean over rows, as ``detect_head`` does for a list
of prompts); ``targets_only``, which keeps only the queries that have a target so that
rows with nothing to find (the first copy of a repeated span) do not dilute the score
(1 is then a perfect head, whatever the share of such rows); scoring chosen queries
only (``restrict_queries``: the repeat, not tokens that recur by chance in random
filler, where the induction pattern also has targets); rows whose repeated span
has exactly ``k`` tokens (``repeat_rows``) and the positions predicting each copy;
the loss and accuracy per position; and scores over a checkpoint series, whose phase
change ``lab.dynamics.find_step`` locates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from transformer_lens.head_detector import (
    compute_head_attention_similarity_score,
    get_induction_head_detection_pattern,
    get_previous_token_head_detection_pattern,
)
from transformer_lens.model_bridge import TransformerBridge

from lab import train
from lab.analysis.attention import patterns
from lab.data import RepeatData
from lab.dynamics import checkpoint_models
from lab.models import TrainedModel

DETECTION_PATTERNS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "induction": get_induction_head_detection_pattern,
    "previous_token": get_previous_token_head_detection_pattern,
}


def detection_patterns(tokens: torch.Tensor | np.ndarray, detector: str) -> torch.Tensor:
    """The pattern a perfect ``detector`` head ("induction" or "previous_token") would
    have on each row, ``[batch, query_pos, key_pos]`` of 0/1 (TransformerLens'
    ``get_{detector}_head_detection_pattern`` per row)."""
    if detector not in DETECTION_PATTERNS:
        raise ValueError(f"unknown head detector {detector!r}; known: {sorted(DETECTION_PATTERNS)}")
    return torch.stack([DETECTION_PATTERNS[detector](row) for row in torch.as_tensor(tokens).cpu()])


def restrict_queries(detection: torch.Tensor, positions: np.ndarray | None) -> torch.Tensor:
    """``detection`` ``[batch, query_pos, key_pos]`` with the targets of every query not in
    ``positions`` removed, so that ``head_scores`` (``targets_only``) leaves them out;
    ``None`` keeps all."""
    if positions is None:
        return detection
    keep = torch.zeros(detection.shape[1], dtype=torch.bool)
    keep[torch.as_tensor(positions)] = True
    return detection * keep[None, :, None]


def head_scores(
    pattern: torch.Tensor,
    detection: torch.Tensor,
    targets_only: bool = True,
    exclude_bos: bool = False,
    exclude_current_token: bool = False,
) -> torch.Tensor:
    """Score of every head against a detection pattern, ``[layer, head]``.

    pattern: ``[batch, layer, head, query_pos, key_pos]`` (``attention.patterns``);
    detection: ``[batch, query_pos, key_pos]``. Each (row, head) is scored by
    ``compute_head_attention_similarity_score`` with the "mul" measure; the score is
    the mean over rows. With ``targets_only``, queries whose detection row is empty are
    zeroed first, so they leave the score's denominator.
    """
    pattern = pattern.detach().cpu().float()
    detection = detection.float()
    if targets_only:
        pattern = pattern * (detection.sum(-1) > 0)[:, None, None, :, None]
    batch, n_layers, n_heads = pattern.shape[:3]
    scores = torch.zeros(batch, n_layers, n_heads)
    for b in range(batch):
        for layer in range(n_layers):
            for head in range(n_heads):
                scores[b, layer, head] = compute_head_attention_similarity_score(
                    pattern[b, layer, head],
                    detection[b],
                    exclude_bos=exclude_bos,
                    exclude_current_token=exclude_current_token,
                    error_measure="mul",
                )
    return scores.mean(0)


def scores(
    model: TransformerBridge,
    tokens: torch.Tensor | np.ndarray,
    detectors: Sequence[str] = ("induction", "previous_token"),
    queries: Mapping[str, np.ndarray] | None = None,
) -> dict[str, torch.Tensor]:
    """``{detector: [layer, head]}`` scores (``targets_only``) of ``model`` on ``tokens``
    ``[batch, pos]``; ``queries`` maps a detector to the query positions it is scored at
    (default: all)."""
    pattern = patterns(model, tokens)
    queries = queries or {}
    return {
        detector: head_scores(pattern, restrict_queries(detection_patterns(tokens, detector), queries.get(detector)))
        for detector in detectors
    }


def repeat_rows(rng: np.random.Generator, size: int, seq_len: int, k: int, vocab: int) -> np.ndarray:
    """Rows ``[0, filler.., x_1..x_k, x_1..x_k]`` of ``seq_len`` tokens whose repeated span
    has exactly ``k`` tokens, ``[size, seq_len]``: ``RepeatData(span=k).sample`` with
    uniform filler (tokens 1..vocab-1) after the BOS token, so that the repeat ends the
    row as in ``RepeatData`` rows."""
    if not 1 <= k <= (seq_len - 1) // 2:
        raise ValueError(f"a span of {k} tokens shown twice does not fit after BOS in {seq_len} positions")
    repeats = RepeatData(span=k, vocab=vocab).sample(rng, size)  # [size, 2k + 1]
    filler = rng.integers(1, vocab, (size, seq_len - repeats.shape[1]))
    return np.concatenate([repeats[:, :1], filler, repeats[:, 1:]], axis=1)


def copy_positions(seq_len: int, k: int) -> dict[str, np.ndarray]:
    """Positions whose prediction is of a token of each copy in ``repeat_rows`` rows:
    ``first`` ``[k]`` predict x_1..x_k (random), ``repeat`` ``[k - 1]`` predict
    x_2'..x_k' (predictable by induction). The prediction of x_1', which no look-back
    can make since the repeat's start is random, is in neither."""
    first = seq_len - 2 * k  # position of x_1
    return {"first": np.arange(first - 1, first + k - 1), "repeat": np.arange(first + k, seq_len - 1)}


def loss_and_accuracy(model: TransformerBridge, tokens: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss and accuracy of the prediction made at each position, each ``[pos - 1]``
    (position p predicts token p+1), via ``train.position_scores``."""
    tokens = torch.as_tensor(tokens)
    loss, correct = train.position_scores(model, tokens, np.arange(tokens.shape[1] - 1))
    return loss.mean(0), correct.float().mean(0)


def over_checkpoints(
    trained: TrainedModel, tokens: torch.Tensor | np.ndarray, queries: Mapping[str, np.ndarray] | None = None
) -> dict[str, torch.Tensor]:
    """Scores (at ``queries``, as in ``scores``), loss and accuracy per position at every
    checkpoint: ``induction`` and ``previous_token`` ``[checkpoint, layer, head]``,
    ``loss`` and ``accuracy`` ``[checkpoint, pos - 1]``, in the order of ``trained.steps``."""
    series: dict[str, list[torch.Tensor]] = {"induction": [], "previous_token": [], "loss": [], "accuracy": []}
    for _, model in checkpoint_models(trained):
        for detector, value in scores(model, tokens, queries=queries).items():
            series[detector].append(value)
        loss, accuracy = loss_and_accuracy(model, tokens)
        series["loss"].append(loss)
        series["accuracy"].append(accuracy)
    return {key: torch.stack(values) for key, values in series.items()}
