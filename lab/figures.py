"""plotly helpers with one house style.

Figures are plain ``plotly.graph_objects.Figure``s; these helpers only fix the look
(template, fonts, margins, colour scales) so every page reads the same, and the
wiki can restyle them for its light/dark scheme (it swaps the template client-side).
``with_menu`` and ``heatmap_menu`` make one chart per choice with a dropdown between
them, for figures a reader explores by position, carry case or ablation method.
``reference``, ``diagonal`` and ``bars`` draw the marks experiments add to them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

TEMPLATE = "plotly_white"
DIVERGING = "RdBu_r"  # signed quantities (logit differences, log-odds), centred on 0
SEQUENTIAL = "Viridis"  # magnitudes (activations, attention)
WIDTH, HEIGHT = 760, 420
REFERENCE = dict(line_dash="dot", line_color="grey")  # lines that mark a level, a step or equality


def style(fig: go.Figure, title: str | None = None, height: int = HEIGHT) -> go.Figure:
    """Apply the house style in place and return ``fig``."""
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        height=height,
        autosize=True,
        margin=dict(l=60, r=20, t=60 if title else 20, b=50),
        font=dict(size=13),
        legend=dict(orientation="v"),
    )
    return fig


def lines(
    x: Sequence,
    ys: dict[str, Sequence],
    title: str | None = None,
    xlabel: str = "step",
    ylabel: str = "",
    log_x: bool = False,
    log_y: bool = False,
) -> go.Figure:
    """One line per entry of ``ys`` (name -> values) over shared ``x``."""
    fig = go.Figure(
        [go.Scatter(x=list(x), y=list(np.asarray(y, dtype=float)), name=name, mode="lines") for name, y in ys.items()]
    )
    fig.update_xaxes(title=xlabel, type="log" if log_x else None)
    fig.update_yaxes(title=ylabel, type="log" if log_y else None)
    return style(fig, title)


def heatmap(
    z: np.ndarray,
    x: Sequence | None = None,
    y: Sequence | None = None,
    title: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    diverging: bool = True,
    zmax: float | None = None,
    text_format: str | None = None,
) -> go.Figure:
    """A heatmap of ``z`` ``[len(y), len(x)]``. Diverging scales are centred on zero and
    reach ``±zmax`` (default: the largest |z|); sequential scales end at ``zmax`` when it
    is given, else span the data."""
    z = np.asarray(z, dtype=float)
    if diverging:
        bound = zmax if zmax is not None else float(np.nanmax(np.abs(z))) if z.size else 1.0
        zmin, zmax = -bound, bound
    else:
        zmin = None
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(x) if x is not None else None,
            y=list(y) if y is not None else None,
            colorscale=DIVERGING if diverging else SEQUENTIAL,
            zmid=0 if diverging else None,
            zmin=zmin,
            zmax=zmax,
            texttemplate=text_format,
            hoverongaps=False,
        )
    )
    fig.update_xaxes(title=xlabel)
    fig.update_yaxes(title=ylabel, autorange="reversed")
    return style(fig, title)


def digit_grid(
    maps: dict[str, np.ndarray],
    title: str | None = None,
    diverging: bool = True,
    cols: int = 4,
    zmax: float | None = None,
) -> go.Figure:
    """Several 10x10 maps over (d1, d2) digit pairs side by side, on one colour scale."""
    from plotly.subplots import make_subplots

    names = list(maps)
    rows = -(-len(names) // cols)
    fig = make_subplots(
        rows=rows, cols=min(cols, len(names)), subplot_titles=names, horizontal_spacing=0.04, vertical_spacing=0.08
    )
    bound = zmax if zmax is not None else max(float(np.nanmax(np.abs(m))) for m in maps.values())
    for i, name in enumerate(names):
        fig.add_trace(
            go.Heatmap(
                z=np.asarray(maps[name], dtype=float),
                x=list(range(10)),
                y=list(range(10)),
                colorscale=DIVERGING if diverging else SEQUENTIAL,
                zmid=0 if diverging else None,
                zmin=-bound if diverging else 0,
                zmax=bound,
                showscale=(i == 0),
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_yaxes(autorange="reversed")
    return style(fig, title, height=max(HEIGHT, 260 * rows))


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


def heatmap_menu(
    zs: dict[str, np.ndarray],
    x: Sequence,
    y: Sequence,
    title: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    hover: str = "%{y} / %{x}: %{z:.3f}",
    diverging: bool = True,
) -> go.Figure:
    """Heatmaps ``[len(y), len(x)]``, one per entry of ``zs``, on one shared colour scale,
    chosen by a dropdown over ``zs``'s keys."""
    bound = max(float(np.nanmax(np.abs(z))) for z in zs.values()) or 1.0
    fig = heatmap(next(iter(zs.values())), x, y, title, xlabel, ylabel, diverging, zmax=bound)
    template = fig.data[0]
    fig.data = []
    for z in zs.values():
        fig.add_trace(
            go.Heatmap(
                z=np.asarray(z, dtype=float),
                x=list(x),
                y=list(y),
                colorscale=template.colorscale,
                zmid=template.zmid,
                zmin=template.zmin,
                zmax=template.zmax,
                hovertemplate=hover + "<extra></extra>",
                hoverongaps=False,
            )
        )
    return with_menu(fig, list(zs))


def reference(fig: go.Figure, x: float | None = None, y: float | None = None, text: str | None = None) -> go.Figure:
    """Mark the step ``x`` (a vertical line) or the level ``y`` (a horizontal line) in the
    house style, with an optional label. Modifies and returns ``fig``."""
    if (x is None) == (y is None):
        raise ValueError("a reference line needs exactly one of x (a step) and y (a level)")
    label = {"annotation_text": text} if text else {}  # no text: no (empty) annotation either
    if x is not None:
        fig.add_vline(x=x, **REFERENCE, **label)
    else:
        fig.add_hline(y=y, **REFERENCE, **label)
    return fig


def diagonal(fig: go.Figure, bound: float, name: str = "equal") -> go.Figure:
    """The line y = x from ``-bound`` to ``bound``, as a legend entry ``name``, for
    scatter plots of one quantity against another. Modifies and returns ``fig``."""
    fig.add_trace(
        go.Scatter(
            x=[-bound, bound],
            y=[-bound, bound],
            mode="lines",
            name=name,
            line=dict(dash=REFERENCE["line_dash"], color=REFERENCE["line_color"]),
        )
    )
    return fig


def bars(
    x: Sequence,
    ys: dict[str, Sequence],
    title: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    stacked: bool = False,
    totals: Sequence | None = None,
    totals_name: str = "total",
    yrange: tuple[float, float] | None = None,
) -> go.Figure:
    """One bar series per entry of ``ys`` (name -> values) over ``x``, side by side or
    ``stacked``; ``totals`` draws a short horizontal mark per bar (a measured total to
    compare a stack with)."""
    fig = go.Figure([go.Bar(name=name, x=list(x), y=list(np.asarray(y, dtype=float))) for name, y in ys.items()])
    if totals is not None:
        fig.add_trace(
            go.Scatter(
                name=totals_name,
                x=list(x),
                y=list(totals),
                mode="markers",
                marker=dict(symbol="line-ew-open", size=40, line=dict(width=3)),
            )
        )
    fig.update_layout(barmode="stack" if stacked else "group")
    fig.update_xaxes(title=xlabel)
    fig.update_yaxes(title=ylabel, range=list(yrange) if yrange else None)
    return style(fig, title)
