"""lab.information: mutual information against closed forms, its bias, and the exact tie
between the split's information, its calibration cost and its cross-entropy gain."""

import numpy as np
import pytest

from lab import carry, information


def h(*p: float) -> float:
    p = np.array(p)
    return float(-(p * np.log(p)).sum())


def channel(carry_rate: float, error: float, n: int = 20000, q_right: float = 0.8, q_wrong: float = 0.3):
    """Carries at ``carry_rate`` seen through a binary channel: a share ``error`` of each
    class gets the other class's split. The split P(+0) is ``q_right`` on positions that
    "look" carry-free, ``q_wrong`` on the rest; exact proportions, no sampling."""
    ones = round(carry_rate * n)
    labels = (np.arange(n) < ones).astype(int)
    looks_carried = labels.copy()
    looks_carried[: round(error * ones)] = 0  # these carries look carry-free
    looks_carried[ones : ones + round(error * (n - ones))] = 1  # and these the reverse
    q0 = np.where(looks_carried == 1, q_wrong, q_right)
    zeros = np.zeros((n, 1), int)
    lp = carry.CarryLogProbs(np.log(q0)[:, None], np.log(1 - q0)[:, None], labels[:, None], zeros, zeros)
    return lp, labels, looks_carried


def test_mutual_information_of_a_binary_symmetric_channel_is_its_closed_form():
    # Uniform carries through a channel that flips 10%: I = ln 2 - H(0.1), exactly.
    lp, labels, seen = channel(0.5, 0.1)
    mi = information.mutual_information(labels, seen)
    assert mi.plugin == pytest.approx(np.log(2) - h(0.1, 0.9), abs=1e-12)
    assert mi.bias == pytest.approx(1 / (2 * 20000))  # (2 - 1)(2 - 1) / 2n
    info = information.split_information(lp, 0)
    assert info.mi_plugin == pytest.approx(np.log(2) - h(0.1, 0.9), abs=1e-12)
    assert info.entropy == pytest.approx(np.log(2)) and info.mi_share == pytest.approx(info.mi / np.log(2))


def test_mutual_information_at_an_uneven_rate_and_its_extremes():
    # 30% carries, 20% of each class flipped: I = H(C) + H(S) - H(C, S) from the 2x2 table.
    lp, labels, seen = channel(0.3, 0.2)
    joint = np.array([[0.7 * 0.8, 0.7 * 0.2], [0.3 * 0.2, 0.3 * 0.8]])
    closed = h(0.7, 0.3) + h(*joint.sum(0)) - h(*joint.ravel())
    assert information.split_information(lp, 0).mi_plugin == pytest.approx(closed, abs=1e-12)
    # A split that sees every carry tells all of H(C); one independent of it, nothing.
    lp, labels, _ = channel(0.3, 0.0)
    assert information.split_information(lp, 0).mi_plugin == pytest.approx(h(0.7, 0.3), abs=1e-12)
    lp, labels, _ = channel(0.5, 0.5)
    assert information.split_information(lp, 0).mi_plugin == pytest.approx(0.0, abs=1e-12)


def test_information_ignores_the_splits_values_while_the_gain_pays_for_them():
    # The same sorting of the carries with splits that lean to "+0" on both sides
    # (0.9 and 0.65 instead of 0.8 and 0.3): the information is unchanged, the
    # calibration cost grows by what the gain loses, to the last digit.
    fair, _, _ = channel(0.45, 0.2)
    lean, _, _ = channel(0.45, 0.2, q_right=0.9, q_wrong=0.65)
    a, b = information.split_information(fair, 0), information.split_information(lean, 0)
    assert a.mi_plugin == pytest.approx(b.mi_plugin, abs=1e-12) and a.mi_plugin > 0.1
    for info, lp in ((a, fair), (b, lean)):
        assert info.ce_gain == pytest.approx(carry.carry_ce_gain(lp, 0), abs=1e-12)
        assert info.entropy - info.cross_entropy == pytest.approx(info.mi_plugin - info.calibration, abs=1e-12)
    assert abs(b.ce_gain) < 0.05 < a.ce_gain  # "about no gain", yet the split tells 28% of H(C)
    assert b.calibration > a.calibration > 0


def test_the_plugin_bias_is_about_k_minus_1_over_2n_and_the_correction_removes_it():
    # An independent split in 10 bins: the plug-in averages (10 - 1) / (2n) over samples;
    # the corrected estimate averages about 0.
    rng = np.random.default_rng(0)
    n, plugins, corrected = 1000, [], []
    for _ in range(300):
        mi = information.mutual_information(rng.integers(0, 2, n), information.quantile_bins(rng.random(n)))
        plugins.append(mi.plugin)
        corrected.append(mi.corrected)
    assert np.mean(plugins) == pytest.approx(9 / (2 * n), rel=0.15)
    assert abs(np.mean(corrected)) < 0.1 * 9 / (2 * n)


def test_quantile_bins_keep_ties_together_and_the_units_digit_has_none():
    assert information.quantile_bins(np.full(50, 0.6)).max() == 0
    values = np.repeat([0.1, 0.2, 0.3, 0.4], 25)
    bins = information.quantile_bins(values, 10)
    assert [len(set(bins[values == v])) for v in (0.1, 0.2, 0.3, 0.4)] == [1, 1, 1, 1]
    assert len(set(bins)) == 4
    lp, _, _ = channel(0.0, 0.0, n=100)
    assert information.split_information(lp, 0) is None
