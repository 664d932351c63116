"""Interactive views the analysis experiments share: one chart per choice, with a
dropdown to switch between them. The look comes from ``lab.figures``."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lab import figures


def with_menu(fig: go.Figure, choices: Sequence[str], traces_per_choice: int = 1) -> go.Figure:
    """Show one group of ``traces_per_choice`` consecutive traces at a time, picked by a
    dropdown over ``choices`` (in trace order). Modifies and returns ``fig``."""
    n = len(choices) * traces_per_choice
    buttons = []
    for i, choice in enumerate(choices):
        visible = [i * traces_per_choice <= t < (i + 1) * traces_per_choice for t in range(n)]
        buttons.append(dict(label=choice, method="update", args=[{"visible": visible}]))
    for t, trace in enumerate(fig.data):
        trace.visible = t < traces_per_choice
    fig.update_layout(updatemenus=[dict(buttons=buttons, x=1.0, xanchor="right", y=1.12, yanchor="bottom")])
    return fig


def heatmap_menu(zs: dict[str, np.ndarray], x: Sequence, y: Sequence, title: str | None = None,
                 xlabel: str = "", ylabel: str = "", hover: str = "%{y} / %{x}: %{z:.3f}",
                 diverging: bool = True) -> go.Figure:
    """Heatmaps ``[len(y), len(x)]``, one per entry of ``zs``, on one shared colour scale,
    chosen by a dropdown over ``zs``'s keys."""
    bound = max(float(np.nanmax(np.abs(z))) for z in zs.values()) or 1.0
    fig = figures.heatmap(next(iter(zs.values())), x, y, title, xlabel, ylabel, diverging, zmax=bound)
    template = fig.data[0]
    fig.data = []
    for z in zs.values():
        fig.add_trace(go.Heatmap(z=np.asarray(z, dtype=float), x=list(x), y=list(y),
                                 colorscale=template.colorscale, zmid=template.zmid, zmin=template.zmin,
                                 zmax=template.zmax, hovertemplate=hover + "<extra></extra>", hoverongaps=False))
    return with_menu(fig, list(zs))
