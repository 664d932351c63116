"""A sweep's page and its aggregate figures, from its record (sweep.json) and its points.

The page (``sweeps/SWEEP/index.md``) holds: the parameters every point shares, once;
the aggregates (mean ± std and 95% interval over seeds per group, saying where the
interval was clipped to the metric's range or is Wilson's), points x metrics, each
metric against each swept parameter other than the seed (error bars: the 95%
interval), and each figure id the points drew overlaid across points (one colour per
trace of the original, one line per point). Figures are embedded as the wiki embeds an experiment's:
``![[experiments/NAME/sweeps/SWEEP#ID]]``, drawn from ``figures/ID.json``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import yaml

from lab import atomic, results, stats
from lab.runner import aggregate, publish
from lab.runner import grid as grids
from lab.runner.scripts import Script

OVERLAID_TRACES = ("scatter", "scattergl")  # lines and markers overlay; heatmaps and bars do not


def write(record: dict, script: Script, folder: Path) -> list[dict]:
    """Write the figures and the page of the sweep ``record`` into ``folder``, each in
    one step; the figures as run.json lists them (id, caption, file)."""
    staging = folder / f".{results.FIGURES}.new"
    figures = {**metric_figures(record), **overlay_figures(record, folder)}
    publish.fresh_dir(staging)
    for figure_id, (figure_json, _) in figures.items():
        (staging / f"{results.check_id('figure id', figure_id)}.json").write_text(figure_json, encoding="utf-8")
    atomic.replace_dir(staging, folder / results.FIGURES)
    captions = {figure_id: caption for figure_id, (_, caption) in figures.items()}
    atomic.write_text(folder / results.PAGE, page(record, script, captions))
    return [{"id": k, "caption": c, "file": results.figure_file(k)} for k, c in captions.items()]


# --------------------------------------------------------------------------- the page


def page(record: dict, script: Script, captions: dict[str, str]) -> str:
    name, sweep = record["name"], record["sweep"]
    title = script.header.get("title", name)
    front = {"title": f"{title}: sweep {sweep}", "experiment": name, "sweep": sweep}
    counts = {s: sum(p["status"] == s for p in record["points"]) for s in ("ok", "failed", "missing")}
    grid = " ".join(f"{k}={','.join(map(_text, v))}" for k, v in record["grid"].items())
    commit = f"commit `{record['commit'][:10]}`" if record["commit"] else "no git commit"
    declared = sweep in (script.header.get("sweeps") or {})
    if declared:
        rerun = f"make sweep NAME={name} SWEEP={sweep}"
    elif sweep == grids.grid_id(record["grid"]):
        rerun = f'make sweep NAME={name} GRID="{grid}"'
    else:  # an ad-hoc grid named on the command line
        rerun = f'make sweep NAME={name} GRID="{grid}" SWEEP={sweep}'
    blocks = [
        "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---",
        f"# {title}: sweep `{sweep}`",
        f"[[experiments/{name}]] over the grid `{grid}`: {len(record['points'])} points, "
        f"{counts['ok']} ok, {counts['failed']} failed, {counts['missing']} missing. "
        f"Updated {record['updated'][:16].replace('T', ' ')} UTC at {commit}"
        + (" with uncommitted changes" if record["dirty"] else "")
        + ("; its inputs checked to be a commit's" if record["dirty"] and record.get("inputs_commit") else "")
        + f" ({record['engine']} engine). Re-run the missing, failed and stale points: `{rerun}`.",
        _shared_line(record),
        "## Aggregates",
        aggregates_table(record),
        "## Points",
        points_table(record),
    ]
    if captions:
        blocks.append("## Figures")
        for figure_id, caption in captions.items():
            blocks.append(f"![[experiments/{name}/sweeps/{sweep}#{figure_id}]]\n\n*{caption}*")
    return "\n\n".join(b for b in blocks if b) + "\n"


def shared(record: dict) -> dict[str, Any]:
    """The parameters every point has the same value of (one value in the grid): said
    once above the tables, not in a column repeating it on every row."""
    return {k: v[0] for k, v in record["grid"].items() if len(v) == 1}


def _shared_line(record: dict) -> str:
    same = shared(record)
    return "Every point has " + ", ".join(f"`{k}={_text(v)}`" for k, v in same.items()) + "." if same else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else repr(value)


def aggregates_table(record: dict) -> str:
    rows = record["aggregates"]
    if not rows:
        return "*No good points yet.*"
    keys = [k for k in rows[0]["group"] if k not in shared(record)]
    lines = [
        "| " + " | ".join([*keys, "metric", "mean ± std", "95% interval", "n"]) + " |",
        "|" + "---|" * (len(keys) + 4),
    ]
    for row in rows:
        # the seeds of the group, whether or not each recorded the metric: "3 of 5"
        s = dataclasses.replace(aggregate.summary(row), of=aggregate.group_size(record, row["group"]) or None)
        interval = (
            f"[{stats.format_value(s.ci_low)}, {stats.format_value(s.ci_high)}]" if row["ci_low"] is not None else ""
        )
        if note := stats.interval_note(s, row["metric"], row["unit"]):  # not Student's t as it is: say so
            interval += f" ({note})"
        unit = f" {row['unit']}" if row["unit"] else ""
        lines.append(
            "| "
            + " | ".join(
                [
                    *(_text(row["group"][k]) for k in keys),
                    row["metric"],
                    aggregate.seed_count(row, s.of) or stats.format_summary(s, "seeds") + unit,
                    interval,
                    str(s.n) if s.of in (None, s.n) else f"{s.n} of {s.of}",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def points_table(record: dict) -> str:
    swept = [k for k in record["grid"] if k not in shared(record)]
    metrics = list(dict.fromkeys(m for p in record["points"] for m in p["metrics"]))
    lines = [
        "| " + " | ".join(["point", *swept, "status", *metrics]) + " |",
        "|" + "---|" * (len(swept) + len(metrics) + 2),
    ]
    for p in record["points"]:
        link = f"[{p['id']}]({results.POINTS}/{p['id']}/{results.PAGE})" if p["run_id"] else p["id"]
        cells = [
            link,
            *(_text(p["params"][k]) for k in swept),
            p["status"],
            *(stats.format_value(p["metrics"][m]) if m in p["metrics"] else "" for m in metrics),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- figures


def metric_figures(record: dict) -> dict[str, tuple[str, str]]:
    """``METRIC-vs-PARAM``: each metric's mean against each swept parameter (other than
    the seed) that takes several values, 95% intervals as error bars. Figure JSON and
    caption by figure id."""
    import plotly.graph_objects as go

    from lab import figures

    found = {}
    swept = [k for k, v in record["grid"].items() if k != results.SEED_PARAM and len(v) > 1]
    metrics = list(dict.fromkeys(a["metric"] for a in record["aggregates"]))
    for param in swept:
        others = [k for k in record["grid"] if k not in (param, results.SEED_PARAM)]
        for metric in metrics:
            fig = go.Figure()
            lines: dict[str, list[dict]] = {}
            for row in record["aggregates"]:
                if row["metric"] == metric:
                    label = ", ".join(f"{k}={_text(row['group'][k])}" for k in others) or metric
                    lines.setdefault(label, []).append(row)
            for label, rows in lines.items():
                fig.add_trace(
                    go.Scatter(
                        x=[
                            _text(r["group"][param])
                            if not isinstance(r["group"][param], (int, float))
                            else r["group"][param]
                            for r in rows
                        ],
                        y=[r["mean"] for r in rows],
                        name=label,
                        mode="lines+markers",
                        # Apart at a bound: an interval clipped there, or Wilson's, is not symmetric.
                        error_y=dict(
                            type="data",
                            array=[_above(r) for r in rows],
                            arrayminus=[_below(r) for r in rows],
                            visible=True,
                        ),
                    )
                )
            fig.update_xaxes(title=param)
            fig.update_yaxes(title=metric)
            figures.style(fig)
            figure_id = f"{metric}-vs-{param}".lower()
            found[figure_id] = (fig.to_json(), f"{metric} against {param}: mean over seeds, bars the 95% interval")
    return found


def _above(row: dict) -> float:
    return 0.0 if row["ci_high"] is None else row["ci_high"] - row["mean"]


def _below(row: dict) -> float:
    return 0.0 if row["ci_low"] is None else row["mean"] - row["ci_low"]


def overlay_figures(record: dict, folder: Path) -> dict[str, tuple[str, str]]:
    """``overlay-ID``: each line figure the good points drew, their lines overlaid; a
    trace keeps one colour across points (e.g. one per answer digit, five lines each).
    Figure JSON and caption by figure id.

    Built as plain dicts from the points' figure JSON, which plotly already checked
    when the points drew them: validating it again costs more than the rest of the
    sweep's page (0.7 s for 4 small figures).
    """
    import plotly.colors

    by_id: dict[str, list[tuple[str, dict]]] = {}
    for p in record["points"]:
        if p["status"] != "ok":
            continue
        for path in results.figure_files(folder / results.POINTS / p["id"]):
            by_id.setdefault(path.stem, []).append((p["id"], json.loads(path.read_text(encoding="utf-8"))))
    found = {}
    for figure_id, drawn in by_id.items():
        if not all(t.get("type", "scatter") in OVERLAID_TRACES for _, fig in drawn for t in fig.get("data", [])):
            continue
        layout = drawn[0][1].get("layout", {})
        colours = layout.get("template", {}).get("layout", {}).get("colorway") or plotly.colors.qualitative.Plotly
        traces = []
        for n, (point, fig) in enumerate(drawn):
            for i, trace in enumerate(fig.get("data", [])):
                name = trace.get("name") or f"trace {i}"
                colour = colours[i % len(colours)]
                traces.append(
                    {
                        **trace,
                        "name": name,
                        "legendgroup": name,
                        "showlegend": n == 0,
                        "line": {**trace.get("line", {}), "color": colour},
                        "marker": {**trace.get("marker", {}), "color": colour},
                        "opacity": 0.6,
                        "hovertemplate": f"{point}<br>%{{x}}, %{{y}}<extra>{name}</extra>",
                    }
                )
        # the first point's layout (its style included), titled, with room for the title
        title = {**layout.get("title", {}), "text": f"{figure_id}: {len(drawn)} points overlaid"}
        margin = {**layout.get("margin", {}), "t": 60}
        overlay = {"data": traces, "layout": {**layout, "title": title, "margin": margin}}
        found[f"overlay-{figure_id}"] = (json.dumps(overlay), f"{figure_id} of every point, overlaid")
    return found
