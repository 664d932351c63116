"""lab.odds: each form fitted to synthetic log-odds of known form recovers it."""

import numpy as np
import pytest

from lab import odds

D1, D2 = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")


def with_phi(d: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(d / (10 - d))


KNOWN = {
    "one digit d1": (0.2 + 0.7 * with_phi(D1), [0.2, 0.7]),
    "one digit d2": (-0.4 + 1.3 * with_phi(D2), [-0.4, 1.3]),
    "product": (0.1 + 0.5 * (with_phi(D1) + with_phi(D2)), [0.1, 0.5]),
    "sum": (-4.5 + 0.45 * (D1 + D2), [-4.5, 0.45]),
}


@pytest.mark.parametrize("form", list(KNOWN))
def test_each_two_number_form_is_recovered_and_fits_best(form):
    truth, coef = KNOWN[form]
    noisy = truth + np.random.default_rng(0).normal(0, 0.01, (10, 10))
    fits = odds.fit_forms(noisy, np.ones((10, 10)))
    assert fits[form].coef == pytest.approx(coef, abs=0.02)
    assert fits[form].r2 > 0.999 and fits[form].rmse < 0.012
    assert fits[form].map_std == pytest.approx(truth[1:, 1:].std(), rel=0.01)
    assert fits["additive"].r2 >= fits[form].r2  # it contains every other form
    others = [f for f in KNOWN if f != form]
    assert max(fits[f].r2 for f in others) < fits[form].r2 - 0.005


def test_the_additive_form_recovers_any_f_and_g_up_to_the_reference_level():
    rng = np.random.default_rng(1)
    f, g = rng.normal(0, 1, 10), rng.normal(0, 1, 10)
    truth = 0.3 + f[:, None] + g[None, :]
    fit = odds.fit_form("additive", truth, np.ones((10, 10)))
    assert fit.r2 == pytest.approx(1.0) and fit.rmse < 1e-10
    assert fit.coef[0] == pytest.approx(0.3 + f[1] + g[1])
    assert fit.coef[1:9] == pytest.approx(f[2:] - f[1])
    assert fit.coef[9:] == pytest.approx(g[2:] - g[1])
    assert np.isnan(fit.slope)
    interaction = truth + 0.5 * (D1 - 5) * (D2 - 5)  # not additive: part stays unexplained
    assert odds.fit_form("additive", interaction, np.ones((10, 10))).r2 < 0.95


def test_weights_and_empty_cells():
    truth, _ = KNOWN["sum"]
    spoiled = truth.copy()
    spoiled[3, 4] = 50.0  # one wild cell
    weights = np.ones((10, 10))
    assert odds.fit_form("sum", spoiled, weights).r2 < 0.9
    weights[3, 4] = 0.0  # no problems in it: ignored
    assert odds.fit_form("sum", spoiled, weights).coef == pytest.approx([-4.5, 0.45])
    spoiled[3, 4] = np.nan  # an empty cell, as cell_mean leaves it
    fit = odds.fit_form("sum", spoiled, np.ones((10, 10)))
    assert fit.coef == pytest.approx([-4.5, 0.45]) and np.isnan(fit.fitted[0]).all()
    with pytest.raises(ValueError, match="unknown form"):
        odds.fit_form("quadratic", truth, weights)


def test_r2_is_the_weighted_share_like_ordinary_least_squares_on_repeated_cells():
    # Integer weights are repeated cells: the weighted fit and its R² must equal an
    # ordinary least-squares fit on the cells repeated that many times.
    rng = np.random.default_rng(3)
    truth = -4.5 + 0.45 * (D1 + D2) + rng.normal(0, 0.8, (10, 10))
    weights = rng.integers(1, 30, (10, 10)).astype(float)
    weights[1:4, 1:4] = 200  # far from uniform: the weighted mean is not the plain one
    fit = odds.fit_form("sum", truth, weights)
    cells = [(a, b) for a in odds.FITTED for b in odds.FITTED for _ in range(int(weights[a, b]))]
    y = np.array([truth[a, b] for a, b in cells])
    x = np.array([[1.0, a + b] for a, b in cells])
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    r2 = 1 - np.sum((y - x @ coef) ** 2) / np.sum((y - y.mean()) ** 2)
    assert fit.coef == pytest.approx(coef) and fit.r2 == pytest.approx(r2, rel=1e-9)
    assert fit.map_std == pytest.approx(y.std())


# --------------------------------------------------------------------------- product or sum


def test_the_within_sum_ratio_is_one_under_the_product_and_zero_under_any_function_of_the_sum():
    rng = np.random.default_rng(4)
    weights = rng.integers(5, 40, (10, 10)).astype(float)  # uneven: the conditional means are weighted
    product = 0.3 + 0.8 * (with_phi(D1) + with_phi(D2))
    fit = odds.within_sum(product, weights)
    assert fit.ratio == pytest.approx(1.0, abs=1e-12) and fit.between == pytest.approx(0.8)
    step = np.where(D1 + D2 >= 10, 6.0, -6.0)  # the exact rule: not additive, not linear
    curve = np.tanh(D1 + D2 - 9.5) * 3 + 0.1 * (D1 + D2) ** 2
    for h in (-4.5 + 0.45 * (D1 + D2), step, curve):
        fit = odds.within_sum(h, weights)
        assert fit.within == pytest.approx(0.0, abs=1e-12) and fit.ratio == pytest.approx(0.0, abs=1e-12)
        assert abs(fit.between) > 0.1
    # The product's own numbers within a sum: (1, 8) against (4, 5) at -0.405 b.
    assert (with_phi(1) + with_phi(8)) - (with_phi(4) + with_phi(5)) == pytest.approx(-0.405, abs=5e-4)
    # Half of each: the ratio says how much of the within-sum pattern is there.
    mix = 0.5 * product + 0.5 * (1.6 * np.log(np.arange(10)[:, None] + np.arange(10)[None, :] + 1))
    assert 0 < odds.within_sum(mix, weights).ratio < 1


def test_the_free_sum_form_fits_any_function_of_the_sum_and_not_the_products_within_sum_pattern():
    weights = np.ones((10, 10))
    step = np.where(D1 + D2 >= 10, 6.0, -6.0) + 0.01 * (D1 + D2) ** 2
    fits = odds.fit_forms(step, weights)
    assert fits["free sum"].r2 == pytest.approx(1.0) and fits["free sum"].rmse < 1e-9
    assert fits["additive"].r2 < 0.95 and np.isnan(fits["free sum"].slope)
    assert len(fits["free sum"].coef) == len(fits["additive"].coef) == 17  # as many numbers
    product = odds.fit_forms(0.8 * (with_phi(D1) + with_phi(D2)), weights)
    assert product["additive"].r2 == pytest.approx(1.0) and 0.97 < product["free sum"].r2 < 1 - 1e-4


def test_the_bootstrap_interval_of_the_ratio_covers_the_truth_on_noisy_problems():
    rng = np.random.default_rng(5)
    n = 4000
    d1, d2 = rng.integers(1, 10, n), rng.integers(1, 10, n)
    noise = rng.normal(0, 0.5, n)
    for truth, values in ((1.0, 0.7 * (with_phi(d1) + with_phi(d2)) + noise), (0.0, 0.3 * (d1 + d2) + noise)):
        ratios = odds.within_sum_bootstrap(values, d1, d2, n_boot=300, seed=1)
        low, high = np.percentile(ratios, [2.5, 97.5])
        assert low < truth < high and high - low < 0.4
        # the point estimate on all problems agrees with the map-level fit
        weights = np.zeros((10, 10))
        np.add.at(weights, (d1, d2), 1)
        sums = np.zeros((10, 10))
        np.add.at(sums, (d1, d2), values)
        with np.errstate(invalid="ignore"):
            ratio = odds.within_sum(sums / weights, weights).ratio
        assert np.median(ratios) == pytest.approx(ratio, abs=0.05)
