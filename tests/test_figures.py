"""lab.figures: colour bounds of heatmaps, reference lines and bars in the house style."""

import numpy as np
import pytest

from lab import figures


def test_a_sequential_heatmap_honours_zmax_and_otherwise_spans_the_data():
    z = np.array([[0.1, 0.4], [0.2, 0.3]])
    bounded = figures.heatmap(z, diverging=False, zmax=1.0).data[0]
    assert bounded.zmax == 1.0 and bounded.colorscale[0][1] != figures.heatmap(z).data[0].colorscale[0][1]
    free = figures.heatmap(z, diverging=False).data[0]
    assert free.zmin is None and free.zmax is None


def test_a_diverging_heatmap_is_centred_on_zero():
    trace = figures.heatmap(np.array([[-0.5, 2.0]])).data[0]
    assert (trace.zmin, trace.zmid, trace.zmax) == (-2.0, 0, 2.0)
    assert figures.heatmap(np.array([[-0.5, 2.0]]), zmax=3.0).data[0].zmax == 3.0


def test_reference_lines_mark_a_step_or_a_level():
    fig = figures.reference(figures.lines([0, 1], {"a": [1, 2]}), x=0.5, text="change")
    figures.reference(fig, y=1.5)
    vline, hline = fig.layout.shapes
    assert (vline.x0, vline.x1, vline.line.dash) == (0.5, 0.5, "dot")
    assert (hline.y0, hline.y1, hline.line.color) == (1.5, 1.5, "grey")
    assert [a.text for a in fig.layout.annotations] == ["change"]
    with pytest.raises(ValueError, match="exactly one of x"):
        figures.reference(fig, x=1, y=1)


def test_bars_stack_series_and_mark_totals():
    fig = figures.bars(
        ["p", "q"], {"a": [1, 2], "b": [3, 4]}, stacked=True, totals=[4, 6], totals_name="sum", yrange=(0, 10)
    )
    assert [t.name for t in fig.data] == ["a", "b", "sum"] and fig.layout.barmode == "stack"
    assert list(fig.data[2].y) == [4, 6] and list(fig.layout.yaxis.range) == [0, 10]
    assert figures.bars(["p"], {"a": [1]}).layout.barmode == "group"


def test_diagonal_is_the_identity_line():
    fig = figures.diagonal(figures.style(figures.go.Figure()), 2.0)
    assert list(fig.data[0].x) == list(fig.data[0].y) == [-2.0, 2.0]
