"""Mean and spread over seeds, against numpy and published t quantiles."""

import math

import numpy as np
import pytest

from lab import stats


@pytest.mark.parametrize(
    "df, quantile", [(1, 12.706), (4, 2.776), (9, 2.262), (30, 2.042), (40, 2.0211), (60, 2.0003), (120, 1.9799)]
)
def test_t_quantiles_match_published_tables(df, quantile):
    assert stats.t975(df) == pytest.approx(quantile, abs=2e-4)


def test_summary_matches_numpy_on_known_values():
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    s = stats.summarize(values)
    assert s.n == 8 and s.mean == 5.0
    assert s.std == pytest.approx(np.std(values, ddof=1))  # 2.138
    half = 2.365 * np.std(values, ddof=1) / math.sqrt(8)  # t(0.975, 7) = 2.365
    assert (s.ci_low, s.ci_high) == pytest.approx((5.0 - half, 5.0 + half))
    assert s.half_width == pytest.approx(half)


def test_one_run_has_no_spread_and_empty_input_is_refused():
    s = stats.summarize([0.3])
    assert s.mean == 0.3 and math.isnan(s.std) and math.isnan(s.ci_low)
    assert stats.format_summary(s) == "0.3 (1 seed)"
    with pytest.raises(ValueError, match="non-empty"):
        stats.summarize([])


def test_format_rounds_the_mean_to_the_spread():
    assert stats.format_summary(stats.summarize([0.61, 0.58, 0.66, 0.60, 0.63])) == "0.616 ± 0.030 (5 seeds)"
    assert stats.format_summary(stats.summarize([120.0, 180.0, 150.0])) == "150 ± 30 (3 seeds)"
    assert stats.format_summary(stats.summarize([197056.0, 209536.0, 184576.0])) == "197,056 ± 12,480 (3 seeds)"


def test_whole_numbers_show_in_full_and_others_to_significant_figures():
    assert stats.format_value(197056.0) == "197,056"  # not 1.971e+05: a count of examples
    assert stats.format_value(0.0) == "0" and stats.format_value(-3.0) == "-3"
    assert stats.format_value(85.3788) == "85.38" and stats.format_value(0.000248108) == "0.0002481"
    assert stats.format_value(float("nan")) == "nan"
    assert stats.format_summary(stats.summarize([197056.0])) == "197,056 (1 seed)"
    assert stats.format_summary(stats.summarize([1.0, 1.0, 1.0])) == "1 ± 0 (3 seeds)"  # all seeds alike


def test_intervals_in_range_say_how_they_were_made_only_when_not_students_t():
    # every seed 0 errors: the t interval is [0, 0] as it is, not clipped
    zero = stats.summarize_in_range([0, 0, 0], "uniform_errors", "errors")
    assert (zero.ci_low, zero.ci_high) == (0.0, 0.0) and stats.interval_note(zero, "uniform_errors", "errors") == ""
    # 5 of 5 seeds: Wilson's interval, not the point [1, 1] a std of 0 gives
    held = stats.summarize_in_range([1, 1, 1, 1, 1], "held_rate", None)
    assert held.ci_high == 1.0 and 0.56 < held.ci_low < 0.57
    assert stats.interval_note(held, "held_rate", None) == "Wilson, 5 of 5"
    # a rate spread over the whole range: clipped at both ends
    wide = stats.summarize_in_range([0.01, 0.02, 0.9], "digit_accuracy", None)
    assert (wide.ci_low, wide.ci_high) == (0.0, 1.0)
    assert stats.interval_note(wide, "digit_accuracy", None) == "clipped at 0 and 1"
    # a metric with no range, and one seed: nothing to clip or say
    free = stats.summarize_in_range([-3.0, 1.0, 8.0], "logit_diff", "logits")
    assert free == stats.summarize([-3.0, 1.0, 8.0]) and stats.interval_note(free, "logit_diff", "logits") == ""
    assert stats.interval_note(stats.summarize_in_range([1], "held_rate", None), "held_rate", None) == ""
    # a lag in steps (one skill learned minus another) can be negative: values out of the
    # unit's range mean it has none here, so its interval is not clipped to [0, inf)
    lags = [-2.8, -117.1, -145.6, -76.1, -88.9]
    lag = stats.summarize_in_range(lags, "lag_a3_carry", "steps")
    assert lag == stats.summarize(lags) and lag.ci_low < lag.ci_high < 0
    assert stats.interval_note(lag, "lag_a3_carry", "steps") == ""
