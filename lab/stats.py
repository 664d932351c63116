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
    ``std`` and the interval are nan. ``of``: how many runs there were, where the
    metric is missing at some of them (None: counted at every one)."""

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    of: int | None = None

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def summarize(values) -> Summary:
    """``Summary`` of a sequence of finite numbers."""
    # Imported here: the wiki formats numbers with this module on every build, and
    # summarizes only when it has sweeps to aggregate (numpy costs ~0.08 s to import).
    import numpy as np

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
    significant figures of it, the mean to the same decimals), and how many runs:
    ``'(3 of 5 seeds)'`` where the metric is missing at the other runs."""
    if s.of is not None and s.of != s.n:
        count = f"{s.n} of {s.of} {unit}"
    else:
        count = f"1 {unit.rstrip('s')}" if s.n == 1 else f"{s.n} {unit}"
    if s.n == 1:
        return f"{format_value(s.mean, digits)} ({count})"
    return f"{_fixed(s.mean, s.std, digits)} ± {_fixed(s.std, s.std, digits)} ({count})"


def _fixed(value: float, scale: float, digits: int) -> str:
    """``value`` with as many decimals as ``digits`` significant figures of ``scale`` need
    (all seeds alike, ``scale`` 0: as ``format_value`` shows it)."""
    if not math.isfinite(scale) or scale == 0:
        return format_value(value, digits)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(scale))))
    return f"{value:,.{min(decimals, 12)}f}"


# --------------------------------------------------------------------------- intervals in range

# Units of metrics that cannot be negative: counts, durations, losses (cross-entropy).
NON_NEGATIVE_UNITS = frozenset({"errors", "examples", "steps", "checkpoints", "points", "s", "nats", "nats per digit"})
# Unitless metrics named as a share of something: within [0, 1].
_RATE_NAME = ("rate", "accuracy", "fraction", "share", "proportion")


def metric_range(name: str, unit: str | None) -> tuple[float, float]:
    """The range a metric's values cannot leave, from what it is: [0, 1] for a rate or a
    finding that holds in a seed or not (unit ``seeds``, 1 or 0), [0, inf) for a count,
    a duration or a loss, else unbounded. Judged by unit, and for a unitless metric by
    its name (``seed_rate``, ``digit_accuracy``)."""
    if unit == "seeds" or not unit and name.lower().endswith(_RATE_NAME):
        return 0.0, 1.0
    if unit in NON_NEGATIVE_UNITS:
        return 0.0, math.inf
    return -math.inf, math.inf


def within(s: Summary, low: float = -math.inf, high: float = math.inf) -> tuple[Summary, bool]:
    """``s`` with its 95% interval clipped to [``low``, ``high``], and whether it was.

    Student's t interval is symmetric about the mean, so for a count that is 0 at most
    seeds and large at one (24 ± 69 errors) it reaches below zero, which no seed can.
    The true mean lies in the range, so the interval's part outside it holds no mean:
    clipping loses no coverage. A page showing a clipped interval says so.
    """
    if not (math.isfinite(s.ci_low) and math.isfinite(s.ci_high)):
        return s, False
    lo, hi = max(s.ci_low, low), min(s.ci_high, high)
    return Summary(s.n, s.mean, s.std, lo, hi), (lo, hi) != (s.ci_low, s.ci_high)


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a rate ``successes / trials`` (one run's rate,
    e.g. wrong answers out of a million problems): inside [0, 1], and not empty at 0
    successes, unlike the normal approximation."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes} of {trials}")
    p, z2 = successes / trials, _Z975**2
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = _Z975 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials**2)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def summarize_in_range(values, name: str, unit: str | None) -> Summary:
    """``summarize(values)`` of metric ``name``, with a 95% interval that stays in the
    range the metric cannot leave (``metric_range``). For a rate whose every value is
    0 or 1 (each seed held six nines or did not), the mean is k successes of n seeds
    and the interval is Wilson's for k of n: not a point at 0 of 5 or 5 of 5 seeds.
    Otherwise it is Student's t, clipped to the range (``within``). Values outside the
    range say the unit names a difference (a lag in steps, one skill learned minus
    another): then there is no range to keep, and nothing is clipped."""
    s = summarize(values)
    low, high = metric_range(name, unit)
    if any(not low <= v <= high for v in values):
        low, high = -math.inf, math.inf
    if s.n > 1 and (low, high) == (0.0, 1.0) and all(v in (0, 1) for v in values):
        return Summary(s.n, s.mean, s.std, *wilson(int(sum(values)), s.n))
    return within(s, low, high)[0]


def interval_note(s: Summary, name: str, unit: str | None) -> str:
    """How the interval of ``s`` (from ``summarize_in_range``) was made, read back from
    its numbers, for a page to say: ``"Wilson, 2 of 5"``, ``"clipped at 0"``, or ``""``
    for Student's t as it is. sweep.json keeps the numbers only."""
    if s.n < 2 or not (math.isfinite(s.ci_low) and math.isfinite(s.ci_high)):
        return ""
    low, high = metric_range(name, unit)
    k = s.mean * s.n
    if (low, high) == (0.0, 1.0) and math.isclose(k, round(k), abs_tol=1e-9) and 0 <= round(k) <= s.n:
        if all(math.isclose(a, b, abs_tol=1e-12) for a, b in zip(wilson(round(k), s.n), (s.ci_low, s.ci_high))):
            return f"Wilson, {round(k)} of {s.n}"
    half = t975(s.n - 1) * s.std / math.sqrt(s.n)
    ends = [
        format_value(end)
        for end, bound, t_end in ((s.ci_low, low, s.mean - half), (s.ci_high, high, s.mean + half))
        if end == bound and not math.isclose(end, t_end, rel_tol=1e-9, abs_tol=1e-12)
    ]
    return f"clipped at {' and '.join(ends)}" if ends else ""
