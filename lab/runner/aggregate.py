"""A sweep's aggregates: each metric over seeds, within each group of the other parameters.

The points of a sweep over ``lr`` and ``seed`` fall into one group per ``lr``; in
each group every metric gets the mean, standard deviation and 95% interval of its
values over the seeds (``lab.stats``), an interval that stays in the metric's range
(``stats.summarize_in_range``). Only good points count, and a metric a point does not
record is missing there: its aggregate counts the points that have it (``n``), never a
stand-in value, and a citation says how many good points the group has besides
("0.92 ± 0.02 (3 of 5 seeds)").
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from lab import results, stats, suggest


def group_of(params: dict[str, Any], swept: list[str]) -> dict[str, Any]:
    """The point's values of the swept parameters other than the seed: its group."""
    return {name: params[name] for name in swept if name != results.SEED_PARAM}


def aggregates(points: list[dict], swept: list[str], units: dict[str, str | None]) -> list[dict]:
    """``AGGREGATE_FIELDS`` records, groups in the order their first point comes, metrics
    in the order they were recorded. ``points`` are sweep.json's entries."""
    groups: list[dict[str, Any]] = []
    for point in points:
        group = group_of(point["params"], swept)
        if group not in groups:
            groups.append(group)
    found = []
    for group in groups:
        members = [p for p in points if p["status"] == "ok" and group_of(p["params"], swept) == group]
        metrics = list(dict.fromkeys(name for p in members for name in p["metrics"]))
        for metric in metrics:
            # The interval stays in the range the metric cannot leave (a count's >= 0, a rate's [0, 1]).
            values = [p["metrics"][metric] for p in members if metric in p["metrics"]]
            s = stats.summarize_in_range(values, metric, units.get(metric))
            found.append(
                results.make_record(
                    results.AGGREGATE_FIELDS,
                    {
                        "group": group,
                        "metric": metric,
                        "unit": units.get(metric),
                        "n": s.n,
                        "mean": s.mean,
                        "std": _finite(s.std),
                        "ci_low": _finite(s.ci_low),
                        "ci_high": _finite(s.ci_high),
                    },
                )
            )
    return found


def summary(aggregate: dict) -> stats.Summary:
    """An aggregate record back as a ``stats.Summary`` (nan where JSON holds null)."""
    return stats.Summary(
        aggregate["n"],
        aggregate["mean"],
        _or_nan(aggregate["std"]),
        _or_nan(aggregate["ci_low"]),
        _or_nan(aggregate["ci_high"]),
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no nan


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


# --------------------------------------------------------------------------- citations in notes
#
# A note cites a sweep's aggregate as ``{{ metric NAME@SWEEP.metric }}``: the mean and
# spread over seeds, "0.55 ± 0.03 (5 seeds)", linked to the sweep page; a finding that
# holds in a seed or not (a 0/1 metric in unit ``seeds``) as a count, "4 of 5 seeds".

# The unit of a metric that is 1 where a finding holds in that seed's run, else 0.
SEED_COUNT_UNIT = "seeds"


def split_citation(target: str) -> tuple[str, str] | None:
    """``"loss-shelf@seeds"`` -> ``("loss-shelf", "seeds")``; None for a plain experiment."""
    name, at, sweep = target.partition("@")
    return (name, sweep) if at else None


def citation(record: dict, metric: str) -> str:
    """The text a citation of ``metric`` in the sweep ``record`` (sweep.json) shows, or
    ValueError saying why it cannot: an unknown metric, or several groups to choose from."""
    label = f"sweep {record['name']}@{record['sweep']}"
    rows = [a for a in record["aggregates"] if a["metric"] == metric]
    if not rows:
        known = list(dict.fromkeys(a["metric"] for a in record["aggregates"]))
        hint = suggest.did_you_mean(metric, known)
        raise ValueError(f"{label} has no metric {metric!r}{hint} (it has: {suggest.listing(known)})")
    if len(rows) > 1:
        groups = "; ".join(", ".join(f"{k}={v}" for k, v in row["group"].items()) for row in rows)
        raise ValueError(
            f"{label} has {len(rows)} groups for {metric!r} ({groups}): a citation names a sweep over seeds alone"
        )
    row = rows[0]
    of = group_size(record, row["group"])
    if (count := seed_count(row, of)) is not None:
        return count
    s = dataclasses.replace(summary(row), of=of)
    return stats.format_summary(s, "seeds") + (f" {row['unit']}" if row["unit"] else "")


def group_size(record: dict, group: dict[str, Any]) -> int:
    """How many good points of the sweep ``record`` fall in ``group``: the seeds an
    aggregate of that group had, whether or not each recorded the metric."""
    swept = list(record.get("grid", {}))
    return sum(1 for p in record.get("points", []) if p["status"] == "ok" and group_of(p["params"], swept) == group)


def seed_count(row: dict, of: int | None = None) -> str | None:
    """``"4 of 5 seeds"``: in how many seeds a finding holds, for an aggregate ``row`` of
    a metric in unit ``SEED_COUNT_UNIT`` (1 where it holds, else 0); None for any other
    metric, or one whose mean over its ``n`` seeds is no whole count of them. Where the
    finding has no value at some of the ``of`` seeds of its group, they are not counted
    either way, and the text says so: ``"3 of 3 seeds (n = 3 of 5)"``."""
    if row["unit"] != SEED_COUNT_UNIT:
        return None
    k = row["mean"] * row["n"]
    if not math.isclose(k, round(k), abs_tol=1e-9) or not 0 <= round(k) <= row["n"]:
        return None
    missing = f" (n = {row['n']} of {of})" if of and of != row["n"] else ""
    return f"{round(k)} of {row['n']} seeds{missing}"
