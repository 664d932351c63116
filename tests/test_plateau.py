"""lab.plateau: the loss curve's own shelf on planted curves, located between
checkpoints in steps, whatever the checkpoint spacing."""

import math

import numpy as np
import pytest

from lab import plateau


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def two_drops(step, first=60, second=600, width=0.12, drop2=0.69, drift=0.0):
    """A loss that falls 1.6 nats around ``first`` and ``drop2`` around ``second`` (in
    ln(1 + step), each a logistic of ``width``), plus a slow ``drift`` per unit of
    ln(1 + step) after the first drop."""
    u = np.log1p(np.asarray(step, dtype=float))
    u1, u2 = np.log1p(first), np.log1p(second)
    after = np.maximum(u - u1, 0)
    return 2.3 - 1.6 * sigmoid((u - u1) / width) - drop2 * sigmoid((u - u2) / width) - drift * after


def planted(loss_of, slow=0.2, resume=0.4, fade=0.5):
    """The plateau of ``loss_of`` found by brute force on its exact derivative (a grid of
    a million points in ln(1 + step)): start, end, how; independent of the module."""
    u = np.linspace(0, np.log1p(5000), 1_000_001)
    loss = loss_of(np.expm1(u))
    rate = -np.gradient(loss, u)
    peak = np.maximum.accumulate(rate)
    i = int(np.flatnonzero((peak >= 0.5) & (rate < slow * peak))[0])
    level, top = loss[i], peak[i]
    rest = slice(i, None)
    up = np.flatnonzero(rate[rest] >= resume * top)
    down = np.flatnonzero(loss[rest] <= fade * level)
    ends = [(up[0], "resumes")] if len(up) else []
    ends += [(down[0], "fades")] if len(down) else []
    if not ends:
        return np.expm1(u[i]), math.nan, "open"
    k, how = min(ends)
    return np.expm1(u[i]), np.expm1(u[i + k]), how


def test_a_stall_and_a_resumption_are_located_between_checkpoints():
    loss_of = lambda s: two_drops(s, drop2=0.69, width=0.1)  # noqa: E731
    start, end, how = planted(loss_of)
    assert how == "resumes" and 70 < start < 100 and 400 < end < 600
    steps = np.arange(0, 2001, 4)  # checkpoints 4 steps apart: the points fall between them
    (found, *later) = plateau.find_plateaus(steps, loss_of(steps), window=0.02)
    assert found.how == "resumes"
    assert found.start == pytest.approx(start, rel=0.03) and found.end == pytest.approx(end, rel=0.02)
    assert found.start % 4 != 0 and found.length == pytest.approx(end - start, rel=0.03)
    assert found.level == pytest.approx(loss_of(start), abs=0.01) and found.peak > 3
    assert later and later[0].start > end  # the second descent stalls too, at the bottom


def test_a_stall_that_fades_ends_where_the_loss_has_halved():
    # After the first drop the loss keeps drifting down at 0.25 nats per unit of
    # ln(1 + step), a twentieth of its peak rate: no resumption, but it halves.
    loss_of = lambda s: two_drops(s, drop2=0.0, drift=0.25)  # noqa: E731
    start, end, how = planted(loss_of)
    assert how == "fades" and end > 2 * start
    steps = np.arange(0, 5001, 4)
    found = plateau.find_plateaus(steps, loss_of(steps), window=0.02)[0]
    assert found.how == "fades" and found.end == pytest.approx(end, rel=0.03)
    assert found.start == pytest.approx(start, rel=0.03)
    assert loss_of(found.end) == pytest.approx(0.5 * found.level, abs=0.01)


def test_a_stall_that_never_ends_is_open():
    steps = np.arange(0, 2001, 10)
    found = plateau.find_plateaus(steps, two_drops(steps, drop2=0.0))
    assert [p.how for p in found] == ["open"] and math.isnan(found[0].end) and math.isnan(found[0].length)


def test_uneven_checkpoints_give_the_same_plateau_in_steps():
    # The same curve sampled every 5 steps, and at 60 uneven steps (dense where the
    # loss falls, sparse on the plateau): the plateau is the same number of steps long,
    # while the two series hold very different numbers of checkpoints on it.
    loss_of = lambda s: two_drops(s, drop2=0.69, width=0.1)  # noqa: E731
    even = np.arange(0, 2001, 5)
    uneven = np.concatenate([np.arange(0, 150, 3), np.arange(150, 430, 40), np.arange(430, 800, 7), [1000, 1500, 2000]])
    a = plateau.find_plateaus(even, loss_of(even))[0]
    b = plateau.find_plateaus(uneven, loss_of(uneven))[0]
    assert a.how == b.how == "resumes"
    assert b.start == pytest.approx(a.start, rel=0.05) and b.end == pytest.approx(a.end, rel=0.05)
    assert b.length == pytest.approx(a.length, rel=0.06)
    on = lambda s: ((s >= a.start) & (s <= a.end)).sum()  # noqa: E731
    assert on(even) > 1.5 * on(uneven)


def test_rates_are_per_log_step_on_uneven_spacing():
    # L = 3 - 0.5 ln(1 + step) falls at exactly 0.5 per unit of ln(1 + step) everywhere.
    steps = np.array([0, 1, 3, 10, 11, 50, 400, 401, 2000])
    assert plateau.descent_rate(steps, 3 - 0.5 * np.log1p(steps)) == pytest.approx(np.full(9, 0.5))
    with pytest.raises(ValueError, match="increasing steps"):
        plateau.descent_rate([0, 10, 10], [1.0, 0.5, 0.4])


def test_the_first_plateau_below_a_level_skips_the_plateau_before_the_column_sum():
    steps = np.arange(0, 3001, 10)
    loss = two_drops(steps, first=40, drop2=0.0) - 0.0  # one stall at about 0.7
    early = plateau.Plateau(10, 30, "resumes", 2.3, 1.0)
    found = plateau.find_plateaus(steps, loss)
    assert plateau.first_plateau_below([early, *found], 1.5) == found[0]
    assert plateau.first_plateau_below([early], 1.5) is None
