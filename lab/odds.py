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

    fits = fit_forms(log_odds_map, counts)      # {"product": FormFit, ...}
    fits["product"].r2, fits["product"].slope

Fits are weighted by how many problems each cell averages, on the 81 pairs with both
digits 1-9, where phi is finite (one digit 0 makes a carry impossible, phi = -inf,
which no finite bet follows). The scale b is free because a model that follows a form
with too little confidence (b < 1) still follows it; the offset a absorbs the base rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FITTED = np.arange(1, 10)  # the digits whose cells are fitted (phi is finite)
FORMS = ("one digit d1", "one digit d2", "product", "sum", "additive")


@dataclass(frozen=True)
class FormFit:
    """A form fitted to a log-odds map.

    coef: the fitted numbers (``[a, b]``; for ``additive``, a then f(2..9) then g(2..9),
    f(1) = g(1) = 0); fitted: the form's map ``[10, 10]``, NaN outside the fitted cells;
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
        """b, the scale of a two-number form (NaN for ``additive``)."""
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
