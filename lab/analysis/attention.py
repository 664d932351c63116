"""Attention patterns: every head's pattern per example, averaged over a dataset, read
as attention to digit pairs, and drawn one heatmap per head.

TransformerLens does the work: ``run_with_cache`` with a ``names_filter`` keeps only
``blocks.L.attn.hook_pattern`` (``[batch, head, query_pos, key_pos]``), and
``ActivationCache.stack_activation("pattern")`` stacks the layers. The lab adds the
batching over a dataset, the addition reading of the average pattern (how much the
position predicting each answer digit attends to each column's digit pair: the
"staircase" of published analyses of addition models), position and token labels,
and plotly views with one heatmap per head (also used for circuits).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from transformer_lens.model_bridge import TransformerBridge

from lab import components, figures
from lab.components import Head
from lab.task import TOKEN_NAMES, AdditionTask


def _is_pattern(name: str) -> bool:
    return name.endswith("attn.hook_pattern")


def patterns(model: TransformerBridge, tokens: torch.Tensor | np.ndarray, chunk_size: int = 256) -> torch.Tensor:
    """Attention patterns of every head, ``[batch, layer, head, query_pos, key_pos]``,
    ``chunk_size`` rows per forward pass."""
    tokens = torch.as_tensor(tokens)
    chunks = []
    with torch.no_grad():
        for chunk in tokens.split(chunk_size):
            _, cache = model.run_with_cache(chunk, names_filter=_is_pattern)
            chunks.append(cache.stack_activation("pattern").transpose(0, 1))  # layer <-> batch
    return torch.cat(chunks)


# --------------------------------------------------------------------------- addition


def sequence_labels(task: AdditionTask) -> list[str]:
    """Name of every position of the sequence: ``a4 … a0 + b4 … b0 = A5 … A0`` (digit
    index = column, 0 = units; answer digits in emission order)."""
    operand = [str(c) for c in range(task.n_digits - 1, -1, -1)]
    return ["a" + c for c in operand] + ["+"] + ["b" + c for c in operand] + ["="] + task.answer_labels()


def column_positions(task: AdditionTask) -> np.ndarray:
    """Positions of the digit pair ``(a_c, b_c)`` of each column c, ``[n_digits, 2]``."""
    n = task.n_digits
    columns = np.arange(n)
    return np.stack([n - 1 - columns, 2 * n - columns], axis=1)


def column_attention(pattern: torch.Tensor, task: AdditionTask) -> torch.Tensor:
    """Attention from the position predicting each answer digit to each column's digit
    pair (the sum over ``a_c`` and ``b_c``).

    pattern: ``[..., query_pos, key_pos]``. Returns ``[..., answer_len, n_digits]``: rows
    are answer digits in emission order, columns are digit columns 0 (units) … n-1.
    The staircase is the diagonal where an answer digit reads its own column.
    """
    rows = pattern[..., task.predict_positions, :]  # [..., answer, key]
    return rows[..., column_positions(task)].sum(-1)  # [..., answer, column]


def staircase_by_digit(pattern: torch.Tensor, task: AdditionTask) -> dict[str, torch.Tensor]:
    """Attention along the staircase per answer digit, each ``[..., digits]``.

    ``own``: attention from the position predicting answer digit ``A_c`` to the pair
    ``(a_c, b_c)``, for the answer digits that have one (all but the top digit), in
    emission order; ``right``: the same for the pair of the column to the right,
    ``(a_c-1, b_c-1)``, where a carry comes from (all but the units digit).
    """
    by_column = column_attention(pattern, task)  # [..., answer, column]
    answer_columns = task.answer_columns
    own = [(i, c) for i, c in enumerate(answer_columns) if c < task.n_digits]
    right = [(i, c - 1) for i, c in enumerate(answer_columns) if c >= 1]
    return {
        name: torch.stack([by_column[..., i, c] for i, c in pairs], -1)
        for name, pairs in (("own", own), ("right", right))
    }


def staircase_shares(pattern: torch.Tensor, task: AdditionTask) -> dict[str, torch.Tensor]:
    """How much each head attends along the staircase, each ``[...]`` (pattern's
    leading dims): ``staircase_by_digit`` averaged over the answer digits."""
    return {name: share.mean(-1) for name, share in staircase_by_digit(pattern, task).items()}


def staircase_coverage(pattern: torch.Tensor, task: AdditionTask) -> dict[str, torch.Tensor]:
    """For each answer digit, the most any head attends along the staircase, each
    ``[digits]``: pattern ``[layer, head, query_pos, key_pos]``, ``own`` and ``right`` as
    in ``staircase_by_digit``. A digit read by *some* head counts, whichever head it is,
    so the reading does not depend on head indices (which differ between seeds)."""
    return {name: share.flatten(0, -2).max(0).values for name, share in staircase_by_digit(pattern, task).items()}


def token_labels(task: AdditionTask, tokens: np.ndarray) -> list[list[str]]:
    """``position=token`` for every position of each row, ``[batch][seq]``, for hover text."""
    names = sequence_labels(task)
    return [[f"{name}={TOKEN_NAMES[t]}" for name, t in zip(names, row)] for row in np.asarray(tokens)]


# --------------------------------------------------------------------------- figures


def _head_traces(
    z: np.ndarray,
    x: list[str],
    y: list[str],
    hover: str,
    text: list[list[str]] | None,
    diverging: bool,
    zmax: float,
    visible: bool,
) -> list[tuple[int, int, go.Heatmap]]:
    """One heatmap per head of ``z`` ``[layer, head, rows, cols]`` with its grid cell."""
    n_layers, n_heads = z.shape[:2]
    traces = []
    for layer in range(n_layers):
        for head in range(n_heads):
            trace = go.Heatmap(
                z=z[layer, head].round(3),
                x=x,
                y=y,
                text=text,  # 3 decimals keep figure files small
                hovertemplate=hover + f"<br>%{{z:.3f}}<extra>{Head(layer, head)}</extra>",
                colorscale=figures.DIVERGING if diverging else figures.SEQUENTIAL,
                zmin=-zmax if diverging else 0,
                zmax=zmax,
                zmid=0 if diverging else None,
                showscale=layer == head == 0,
                visible=visible,
                hoverongaps=False,
            )
            traces.append((layer + 1, head + 1, trace))
    return traces


def _grid(n_layers: int, n_heads: int, title: str | None) -> go.Figure:
    fig = make_subplots(
        rows=n_layers,
        cols=n_heads,
        subplot_titles=components.head_labels(n_layers, n_heads),
        horizontal_spacing=0.03,
        vertical_spacing=0.12 / n_layers,
    )
    fig.update_yaxes(autorange="reversed")
    return figures.style(fig, title, height=max(figures.HEIGHT, 250 * n_layers))


def head_grid(
    z: torch.Tensor | np.ndarray,
    x: list[str],
    y: list[str],
    title: str | None = None,
    diverging: bool = False,
    zmax: float | None = None,
    axis_names: tuple[str, str] = ("query", "key"),
) -> go.Figure:
    """One heatmap per head of ``z`` ``[layer, head, rows, cols]`` on one colour scale,
    in a layer × head grid (attention patterns; circuits with ``diverging=True``).
    ``axis_names`` name the rows and the columns in the hover text."""
    z = np.asarray(z, dtype=float)
    fig = _grid(*z.shape[:2], title)
    bound = zmax if zmax is not None else float(np.nanmax(np.abs(z)))
    hover = f"{axis_names[0]} %{{y}}<br>{axis_names[1]} %{{x}}"
    for row, col, trace in _head_traces(z, x, y, hover, None, diverging, bound, True):
        fig.add_trace(trace, row=row, col=col)
    return fig


def example_patterns_figure(
    per_example: torch.Tensor,
    labels: list[list[str]],
    names: list[str],
    example_titles: list[str],
    title: str | None = None,
) -> go.Figure:
    """Every head's pattern on each of a few examples, with a slider over the examples.

    per_example: ``[example, layer, head, query_pos, key_pos]``; labels: ``[seq]`` axis
    names; names: ``[example][seq]`` hover names of each position's token (e.g.
    ``a3=7``); example_titles: one slider label per example.
    """
    z = per_example.detach().cpu().numpy()
    n_examples, n_layers, n_heads = z.shape[:3]
    fig = _grid(n_layers, n_heads, title)
    for example in range(n_examples):
        text = [[f"query {q}<br>key {k}" for k in names[example]] for q in names[example]]
        for row, col, trace in _head_traces(z[example], labels, labels, "%{text}", text, False, 1.0, example == 0):
            fig.add_trace(trace, row=row, col=col)
    per = n_layers * n_heads
    steps = [
        dict(
            method="update",
            label=example_titles[e],
            args=[{"visible": [e * per <= i < (e + 1) * per for i in range(n_examples * per)]}],
        )
        for e in range(n_examples)
    ]
    fig.update_layout(sliders=[dict(active=0, steps=steps, currentvalue=dict(prefix="example: "), pad=dict(t=40))])
    return fig
