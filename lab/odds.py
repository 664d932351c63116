"""Which form does the model's carry bet follow? Least-squares fits to a log-odds map.

The model's log-odds ln P(+1) - ln P(+0) at an answer digit, averaged over the
problems with the same digits (d1, d2) in the column to the right, is a map
``[10, 10]`` (``carry.cell_mean``). Four forms, with phi(d) = ln(d / (10 - d)) the
log of the one-digit odds d : (10 - d):

* one digit   a + b * phi(d1)                 (or phi(d2)): one digit's odds, scaled
* product     a + b * (phi(d1) + phi(d2))     the product of the one-digit odds, scaled
* sum         a + b * (d1 + d2)               linear in the column sum: how the exact
                                              rule d1 + d2 >= 10 looks to an additive form
* additive    a + f(d1) + g(d2)               any additive form (17 numbers): the ceiling
                                              of the others, which it contains
* free sum    h(d1 + d2)                      any function of the column sum (17 numbers,
                                              one per sum 2..18): the additive form's rival
                                              with as many numbers, and the ceiling of "sum"

    fits = fit_forms(log_odds_map, counts)      # {"product": FormFit, ...}
    fits["product"].r2, fits["product"].slope
    within_sum(log_odds_map, counts).ratio      # 1 under the product, 0 under any h(d1 + d2)

Fits are weighted by how many problems each cell averages, on the 81 pairs with both
digits 1-9, where phi is finite (one digit 0 makes a carry impossible, phi = -inf,
which no finite bet follows). The scale b is free because a model that follows a form
with too little confidence (b < 1) still follows it; the offset a absorbs the base rate.

R² cannot tell the product from the sum: over the 81 cells phi(d1) + phi(d2) and
d1 + d2 correlate at 0.9945, so their R² differ by at most about 0.011 on any map.
They differ *within* a column sum, where the sum predicts nothing and the product
predicts phi(d1) + phi(d2) - E[phi(d1) + phi(d2) | d1 + d2] (e.g. (1, 8) against
(4, 5) at -0.405 b). ``within_sum`` fits a free function of the sum plus that term;
the term's coefficient over the scale b of the between-sum part is 1 under the
product form and 0 under any function of the sum, whatever its shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FITTED = np.arange(1, 10)  # the digits whose cells are fitted (phi is finite)
FORMS = ("one digit d1", "one digit d2", "product", "sum", "additive", "free sum")


@dataclass(frozen=True)
class FormFit:
    """A form fitted to a log-odds map.

    coef: the fitted numbers (``[a, b]``; for ``additive``, a then f(2..9) then g(2..9),
    f(1) = g(1) = 0; for ``free sum``, h(2) then h(3..18) - h(2)); fitted: the form's map ``[10, 10]``, NaN outside the fitted cells;
    rmse: weighted root-mean-square residual (nats); r2: share of the map's weighted
    variance over the fitted cells that the form explains; map_std: the map's own
    weighted standard deviation there (nats), how much there is to explain.
    """

    name: str
    coef: np.ndarray
    fitted: np.ndarray
    rmse: float
    r2: float
    map_std: float

    @property
    def slope(self) -> float:
        """b, the scale of a two-number form (NaN for ``additive`` and ``free sum``)."""
        return float(self.coef[1]) if len(self.coef) == 2 else float("nan")


def phi(d: np.ndarray) -> np.ndarray:
    """ln(d / (10 - d)): the log-odds of a carry knowing one digit d (1-9)."""
    d = np.asarray(d, dtype=float)
    return np.log(d / (10 - d))


def design(form: str) -> np.ndarray:
    """The form's features on the fitted cells, ``[81, n_coef]`` (cells in row-major
    order of (d1, d2) over ``FITTED``)."""
    d1, d2 = (a.ravel().astype(float) for a in np.meshgrid(FITTED, FITTED, indexing="ij"))
    ones = np.ones_like(d1)
    if form == "one digit d1":
        return np.stack([ones, phi(d1)], 1)
    if form == "one digit d2":
        return np.stack([ones, phi(d2)], 1)
    if form == "product":
        return np.stack([ones, phi(d1) + phi(d2)], 1)
    if form == "sum":
        return np.stack([ones, d1 + d2], 1)
    if form == "additive":
        levels = FITTED[1:]  # digit 1 is the reference level of f and of g
        return np.column_stack([ones, d1[:, None] == levels, d2[:, None] == levels]).astype(float)
    if form == "free sum":
        sums = np.arange(2 * FITTED[0] + 1, 2 * FITTED[-1] + 1)  # the lowest sum, 2, is the reference
        return np.column_stack([ones, (d1 + d2)[:, None] == sums]).astype(float)
    raise ValueError(f"unknown form {form!r}; forms: {', '.join(FORMS)}")


def fit_form(form: str, log_odds: np.ndarray, weights: np.ndarray) -> FormFit:
    """Weighted least-squares fit of ``form`` to ``log_odds`` ``[10, 10]`` (NaN cells
    get no weight), ``weights`` ``[10, 10]`` (e.g. problems per cell)."""
    y = np.asarray(log_odds, dtype=float)[np.ix_(FITTED, FITTED)].ravel()
    w = np.asarray(weights, dtype=float)[np.ix_(FITTED, FITTED)].ravel()
    w = np.where(np.isnan(y), 0.0, w)
    y = np.nan_to_num(y)
    x = design(form)
    root = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(x * root, y * root[:, 0], rcond=None)[0]
    prediction = x @ coef
    mean = np.sum(w * y) / w.sum()
    residual, total = np.sum(w * (y - prediction) ** 2), np.sum(w * (y - mean) ** 2)
    fitted = np.full((10, 10), np.nan)
    fitted[np.ix_(FITTED, FITTED)] = prediction.reshape(len(FITTED), len(FITTED))
    return FormFit(
        name=form,
        coef=coef,
        fitted=fitted,
        rmse=float(np.sqrt(residual / w.sum())),
        r2=float(1 - residual / total),
        map_std=float(np.sqrt(total / w.sum())),
    )


def fit_forms(log_odds: np.ndarray, weights: np.ndarray) -> dict[str, FormFit]:
    """Every form in ``FORMS`` fitted to the same map and weights."""
    return {form: fit_form(form, log_odds, weights) for form in FORMS}


# --------------------------------------------------------------------------- product or sum


@dataclass(frozen=True)
class WithinSum:
    """A log-odds map fitted as h(d1 + d2) + c * within, with within = phi(d1) + phi(d2)
    minus its weighted mean among the fitted cells of the same sum.

    within: the term's coefficient c (nats per unit of phi within a sum); between: b,
    the weighted slope of the fitted h(s) on E[phi(d1) + phi(d2) | s] (the product's
    scale, as the sums see it); ratio = within / between: 1 under the product form
    a + b (phi(d1) + phi(d2)), 0 under any function of the sum; NaN where b = 0.
    """

    within: float
    between: float

    @property
    def ratio(self) -> float:
        return self.within / self.between if self.between != 0 else float("nan")


def _within_sum_parts(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """c and b of ``WithinSum`` for maps ``y`` and weights ``w`` ``[..., 81]`` on the
    fitted cells (row-major over ``FITTED``), each ``[...]``."""
    d1, d2 = (a.ravel() for a in np.meshgrid(FITTED, FITTED, indexing="ij"))
    x, s = phi(d1) + phi(d2), d1 + d2
    onehot = (s[:, None] == np.unique(s)[None, :]).astype(float)  # [81, n_sums]
    per_sum = w @ onehot  # [..., n_sums]
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.nan_to_num(((w * x) @ onehot) / per_sum) @ onehot.T  # E[x | s] at each cell
        g = np.nan_to_num(((w * y) @ onehot) / per_sum) @ onehot.T  # the fitted h(s) at each cell
        z = x - m
        total = w.sum(-1, keepdims=True)
        m_c = m - (w * m).sum(-1, keepdims=True) / total
        within = (w * z * y).sum(-1) / (w * z * z).sum(-1)
        between = (w * m_c * g).sum(-1) / (w * m_c * m_c).sum(-1)
    return within, between


def within_sum(log_odds: np.ndarray, weights: np.ndarray) -> WithinSum:
    """``WithinSum`` of a log-odds map ``[10, 10]`` with weights ``[10, 10]`` (problems
    per cell; NaN cells get none), fitted by weighted least squares on the 81 cells."""
    y = np.asarray(log_odds, dtype=float)[np.ix_(FITTED, FITTED)].ravel()
    w = np.asarray(weights, dtype=float)[np.ix_(FITTED, FITTED)].ravel()
    w = np.where(np.isnan(y), 0.0, w)
    within, between = _within_sum_parts(np.nan_to_num(y), w)
    return WithinSum(float(within), float(between))


def within_sum_bootstrap(
    values: np.ndarray, d1: np.ndarray, d2: np.ndarray, n_boot: int = 200, seed: int = 0
) -> np.ndarray:
    """The ``WithinSum`` ratio of the cell-mean map of ``values`` ``[n]`` (a log-odds per
    problem, with its digits ``d1``, ``d2`` ``[n]``) on ``n_boot`` resamples of the
    problems with replacement, ``[n_boot]``: its percentiles are a bootstrap interval."""
    values, cells = np.asarray(values, dtype=float), np.asarray(d1) * 10 + np.asarray(d2)
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, len(values), (n_boot, len(values)))
    index = (np.arange(n_boot)[:, None] * 100 + cells[draw]).ravel()
    count = np.bincount(index, minlength=100 * n_boot).reshape(n_boot, 10, 10)
    total = np.bincount(index, weights=values[draw].ravel(), minlength=100 * n_boot).reshape(n_boot, 10, 10)
    fitted = np.ix_(np.arange(n_boot), FITTED, FITTED)
    w = count[fitted].reshape(n_boot, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(w > 0, total[fitted].reshape(n_boot, -1) / w, 0.0)
        within, between = _within_sum_parts(y, w.astype(float))
        return within / between
