"""How long the wiki takes to build: the lab plugin vs a plain nav-of-every-page build.

Generates a synthetic wiki of N notes (projects, insights, ideas, journal entries,
each with a few wikilinks to others) in a temporary directory, then builds it with
two configurations, each build a fresh `mkdocs build` process into an empty folder
(the lab's `--repeat` times, keeping the median, since this machine's speed drifts):

- lab:   the repository's mkdocs.yml (the lab plugin: sections in the sidebar)
- plain: mkdocs-material with the same notes and a nav listing every page (the
         wikilinks stay text), which is what the lab's sidebar design avoids.

    .venv/bin/python bench/bench_wiki_build.py [--notes 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"]
KINDS = ("projects", "insights", "ideas", "journal")

PARAGRAPH = (
    "The residual stream carries the sum digit by digit; attention heads in layer one move the "
    "operands into place and the MLP computes the carry. We measured loss per answer digit and saw "
    "a shelf before the carry circuit formed. "
)


def front_matter(kind: str, i: int, rng: random.Random) -> dict:
    meta = {"title": f"{kind.capitalize()} note {i}"}
    if kind == "insights":
        meta["status"] = rng.choice(["hypothesis", "supported", "refuted"])
    if kind == "ideas":
        meta |= {"status": rng.choice(["open", "next", "doing", "done", "dropped"]),
                 "priority": rng.choice(["high", "normal", "low"])}
    if kind == "journal":
        meta["date"] = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
    if kind != "projects":
        meta["project"] = "projects-0"
    return meta


def generate(docs: Path, count: int, seed: int = 0) -> list[str]:
    """Write ``count`` notes under ``docs``; returns their paths inside it."""
    rng = random.Random(seed)
    names = [f"{KINDS[i % 4]}-{i}" if i else "projects-0" for i in range(count)]
    srcs = []
    for i, name in enumerate(names):
        kind = name.split("-")[0]
        links = " ".join(f"See [[{rng.choice(names)}]]." for _ in range(3))
        body = f"## Notes\n\n{PARAGRAPH * 3}{links}\n\n## More\n\n{PARAGRAPH}\n"
        path = docs / kind / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{yaml.safe_dump(front_matter(kind, i, rng))}---\n\n{body}", encoding="utf-8")
        srcs.append(f"{kind}/{name}.md")
    return srcs


def build(config: Path, site_dir: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one build into an empty ``site_dir``: CPU time tells more
    when others share the cores."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    cpu_before, start = _children_cpu(), time.perf_counter()
    subprocess.run([*MKDOCS, "--config-file", str(config), "--site-dir", str(site_dir)],
                   check=True, env=env, cwd=config.parent)
    return time.perf_counter() - start, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="lab builds (the median is kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-wiki-") as tmp:
        tmp = Path(tmp)
        srcs = generate(tmp / "site", args.notes)
        lab = yaml.safe_load((REPO / "mkdocs.yml").read_text())
        plain = {**lab, "plugins": ["search"], "nav": srcs}
        (tmp / "lab.yml").write_text(yaml.safe_dump(lab))
        (tmp / "plain.yml").write_text(yaml.safe_dump(plain))
        labs = sorted(build(tmp / "lab.yml", tmp / f"build/lab-{i}") for i in range(args.repeat))
        lab_s, lab_cpu = labs[len(labs) // 2]
        plain_s, plain_cpu = build(tmp / "plain.yml", tmp / "build/plain")  # slow: once
    print(f"{args.notes} notes, wall (CPU) seconds: lab plugin {lab_s:.1f} ({lab_cpu:.1f}) "
          f"[median of {', '.join(f'{s:.1f}' for s, _ in labs)}], "
          f"plain nav-of-every-page {plain_s:.1f} ({plain_cpu:.1f}); "
          f"plain/lab {plain_s / lab_s:.1f}x wall, {plain_cpu / lab_cpu:.1f}x CPU; target: lab <= 10 s")


if __name__ == "__main__":
    main()
