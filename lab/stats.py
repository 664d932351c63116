"""Mean and spread over seeds: what a number that depends on the seed is reported with.

    s = summarize([0.61, 0.58, 0.66, 0.60, 0.63])
    s.mean, s.std, s.ci_low, s.ci_high          # 95% interval for the mean (Student's t)
    format_summary(s, "seeds")                   # '0.616 ± 0.030 (5 seeds)'
    format_value(197056.0), format_value(0.0123456)   # '197,056', '0.01235'

numpy only (no scipy): the t quantiles come from a table, and a series expansion past it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Student's t, 0.975 quantile, by degrees of freedom 1..30 (standard tables).
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
_Z975 = 1.959964


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (df >= 1).

    Past the table, the Cornish-Fisher expansion around the normal quantile, which is
    within 1e-4 of the exact value for df > 30.
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Summary:
    """Values of one metric over ``n`` runs (seeds): mean, sample standard deviation,
    and the 95% confidence interval of the mean. With one run the spread is unknown:
    ``std`` and the interval are nan."""

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def summarize(values) -> Summary:
    """``Summary`` of a sequence of finite numbers."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"expected a non-empty sequence of numbers, got shape {x.shape}")
    mean = float(x.mean())
    if len(x) == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan)
    std = float(x.std(ddof=1))
    half = t975(len(x) - 1) * std / math.sqrt(len(x))
    return Summary(len(x), mean, std, mean - half, mean + half)


def format_value(value: float, digits: int = 4) -> str:
    """One number as pages show it: a whole number in full (``197,056``: counts of
    examples, steps or errors lose their point in ``1.971e+05``), any other to ``digits``
    significant figures."""
    if math.isfinite(value) and float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def format_summary(s: Summary, unit: str = "seeds", digits: int = 2) -> str:
    """``'0.616 ± 0.030 (5 seeds)'``: mean ± sample standard deviation (``digits``
    significant figures of it, the mean to the same decimals), and how many runs."""
    if s.n == 1:
        return f"{format_value(s.mean, digits)} (1 {unit.rstrip('s')})"
    return f"{_fixed(s.mean, s.std, digits)} ± {_fixed(s.std, s.std, digits)} ({s.n} {unit})"


def _fixed(value: float, scale: float, digits: int) -> str:
    """``value`` with as many decimals as ``digits`` significant figures of ``scale`` need
    (all seeds alike, ``scale`` 0: as ``format_value`` shows it)."""
    if not math.isfinite(scale) or scale == 0:
        return format_value(value, digits)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(scale))))
    return f"{value:,.{min(decimals, 12)}f}"
