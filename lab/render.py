"""An executed notebook as the experiment's page: Markdown with YAML front matter.

The page reads as the write-up: markdown cells as they are, each code cell folded
away (a pymdownx.details block), then what the cell showed: printed text (cleaned
of terminal escapes and shortened, so training progress cannot flood the page),
Markdown tables from ``lab.record.table``, and each figure as the wiki's figure
embed (``lab.wiki.syntax.figure_embed``). The figure data stays in
``figures/ID.json``, out of the page, so search never indexes it. HTML outputs are
dropped: the wiki draws figures itself, and raw HTML from a kernel would be
untrusted markup in the site.
"""

from __future__ import annotations

import copy
import re
import textwrap
from typing import Any

import yaml

from lab.results import FIGURE_MIMETYPE
from lab.wiki.syntax import figure_embed

MAX_OUTPUT_LINES = 40  # longer text outputs keep their first and last lines

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def page(nb: Any, header: dict, name: str, run_id: str) -> str:
    """The Markdown page of experiment ``name`` from its executed notebook ``nb``.

    ``header`` is the script's YAML header (title, project, question, links, ...);
    it becomes the front matter, together with the experiment name and run id.
    """
    front = {key: value for key, value in header.items() if key != "jupyter"}
    front.setdefault("title", name)
    front.update(experiment=name, run_id=run_id)
    blocks = ["---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---"]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            blocks.append(cell.source)
        elif cell.cell_type == "code" and cell.source.strip():
            blocks.append(_folded_code(cell))
            blocks.extend(_output(output, name) for output in _joined_streams(cell.get("outputs", [])))
    return "\n\n".join(block.strip("\n") for block in blocks if block.strip()) + "\n"


def _folded_code(cell: Any) -> str:
    tags = cell.metadata.get("tags", [])
    label = {"parameters": "Parameters", "injected-parameters": "Parameters of this run"}
    label = next((label[tag] for tag in tags if tag in label), "Code")
    source = cell.source.strip("\n")
    fence = _fence(source)
    code = f"{fence}python\n{source}\n{fence}"
    return f'??? abstract "{label}"\n\n' + textwrap.indent(code, "    ")


def _joined_streams(outputs: list[Any]) -> list[Any]:
    """The cell's outputs with each run of printed text on one stream made one output.

    The kernel sends a long loop's prints as many stream outputs (training's progress
    line every few steps); joined, they are shortened as one text instead of each
    making its own block on the page."""
    joined: list[Any] = []
    for output in outputs:
        last = joined[-1] if joined else None
        if last is not None and output.output_type == last.output_type == "stream" and output.name == last.name:
            joined[-1] = copy.copy(last)
            joined[-1].text = last.text + output.text
        else:
            joined.append(output)
    return joined


def _output(output: Any, name: str) -> str:
    """One notebook output as Markdown ("" for outputs the page leaves out)."""
    if output.output_type == "stream":
        return _text_block(output.text)
    data = output.get("data", {})
    if FIGURE_MIMETYPE in data:
        marker = data[FIGURE_MIMETYPE]
        caption = marker.get("caption")
        embed = figure_embed(name, marker["id"])
        return f"{embed}\n\n*{caption}*" if caption else embed
    if "text/markdown" in data:
        return data["text/markdown"]
    if "text/plain" in data and "text/html" not in data:
        return _text_block(data["text/plain"])
    return ""


def clean_text(text: str) -> str:
    """Terminal output as it looked when done: no ANSI colours, no overwritten lines.

    Progress bars (tqdm) redraw a line with carriage returns; only the last drawing
    of each line is kept.
    """
    lines = []
    for line in _ANSI.sub("", text).replace("\r\n", "\n").split("\n"):
        drawings = [part for part in line.split("\r") if part]
        lines.append(drawings[-1] if drawings else "")
    return "\n".join(lines)


def shorten(text: str, max_lines: int = MAX_OUTPUT_LINES) -> str:
    """At most ``max_lines`` lines: the first and last halves, and how many were cut."""
    lines = text.split("\n")
    if len(lines) <= max_lines:
        return text
    head, tail = lines[: max_lines // 2], lines[-(max_lines // 2) :]
    cut = len(lines) - len(head) - len(tail)
    return "\n".join([*head, f"… {cut} more lines …", *tail])


def _text_block(text: str) -> str:
    text = shorten(clean_text(text).strip("\n"))
    if not text.strip():
        return ""
    fence = _fence(text)
    return f"{fence}text\n{text}\n{fence}"


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


# --------------------------------------------------------------------------- reproduction verdicts


def reproduction_block(verdict: dict) -> str:
    """A reproduction verdict (``reproduction.json``) as an admonition for the experiment page:
    when, at which commit, in which environment, how many metrics identical, and any drift."""
    total = verdict["identical"] + verdict["within"] + verdict["drifted"]
    tolerance = verdict["tolerance"]
    if verdict["failure"]:
        kind, title = "failure", "Reproduction failed"
    elif verdict["drifted"]:
        kind, title = "warning", f"Not reproduced: {verdict['drifted']} of {total} metrics drifted"
    elif verdict["within"]:
        kind, title = (
            "success",
            (
                f"Reproduced: {verdict['identical']} of {total} metrics identical, "
                f"{verdict['within']} within {tolerance['relative']:g}"
            ),
        )
    else:
        kind, title = "success", f"Reproduced: all {total} metrics bit-identical"
    commit = f"commit `{verdict['commit'][:7]}`" if verdict["commit"] else "no git commit"
    models = "models loaded from the cache" if verdict["cached"] else "models retrained"
    body = [
        f"Re-run {verdict['when'][:16].replace('T', ' ')} UTC at {commit}"
        + (" with uncommitted changes" if verdict["dirty"] else "")
        + f", {models}, in {_environment_text(verdict['environment'])}, "
        f"{verdict['duration_s']:.0f} s. Tolerance {tolerance['relative']:g} relative "
        f"(`{tolerance['why']}`)."
    ]
    if verdict["failure"]:
        body.append(f"The run failed: `{verdict['failure']}`")
    if verdict["drifts"]:
        rows = [
            f"| {d['metric']} | {_value(d['committed'])} | {_value(d['new'])} | "
            f"{'' if d['difference'] is None else format(d['difference'], '+.3e')} |"
            for d in verdict["drifts"]
        ]
        body.append("\n".join(["| metric | committed | new | difference |", "|---|---|---|---|", *rows]))
    # verdicts written before timings were set apart have none
    if timings := verdict.get("timings"):
        rows = [f"| {t['metric']} | {_value(t['committed'])} | {_value(t['new'])} |" for t in timings]
        body.append(
            "Wall-clock times (seconds), shown, not compared:\n\n"
            + "\n".join(["| metric | committed | new |", "|---|---|---|", *rows])
        )
    return f'!!! {kind} "{title}"\n\n' + textwrap.indent("\n\n".join(body), "    ") + "\n"


def reproduction_cell(verdict: dict | None) -> str:
    """A reproduction verdict in one table cell: ``✓ 12/12 identical · 2026-11-27``."""
    if verdict is None:
        return "not checked"
    total = verdict["identical"] + verdict["within"] + verdict["drifted"]
    if verdict["failure"]:
        summary = "✗ failed to run"
    elif verdict["drifted"]:
        summary = f"✗ {verdict['drifted']}/{total} drifted"
    elif verdict["within"]:
        summary = f"≈ {total}/{total} within {verdict['tolerance']['relative']:g}"
    else:
        summary = f"✓ {total}/{total} identical"
    return f"{summary} · {verdict['when'][:10]}"


def _environment_text(environment: dict | None) -> str:
    if not environment:
        return "an unrecorded environment"
    return (
        f"torch {environment.get('torch')} on {environment.get('device')}, "
        f"{environment.get('threads')} threads, CPU capability {environment.get('cpu_capability')}"
    )


def _value(value: float | None) -> str:
    return "missing" if value is None else repr(value)
