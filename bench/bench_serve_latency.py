"""Save-to-served-page latency of `make serve`: from writing a note to the dev server
serving the page with the edit, with and without `--dirty` (the incremental rebuild
of lab.wiki.incremental), side by side in one run.

Two wikis, each copied into a temporary directory so nothing of the repository is
edited: the lab's own (site/ and mkdocs.yml), and a synthetic one of N notes
(bench_wiki_build's generator). For each, a `CORE serve` process is started, and each
round appends a line with a fresh marker to one note and polls the note's URL until
the marker is served; the median over rounds is kept. Printed: the seconds per wiki
and mode, and full/dirty (how many times faster the incremental rebuild is).

    .venv/bin/python bench/bench_serve_latency.py [--notes 1000] [--rounds 3] [--core properdocs]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench_wiki_build import generate

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return ""


def latency(root: Path, note: str, core: str, dirty: bool, rounds: int) -> list[float]:
    """Seconds from saving ``note`` (a path under root/site) to its page serving the edit."""
    port = free_port()
    args = [sys.executable, "-m", core, "serve", "--dev-addr", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        args + (["--dirty"] if dirty else []), cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/" + note.removesuffix(".md").removesuffix("index") + "/"
    path = root / "site" / note
    try:
        deadline = time.monotonic() + 600
        while "</html>" not in fetch(url):  # the first, full build
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"{core} serve did not come up for {root}")
            time.sleep(0.2)
        times = []
        for i in range(rounds):
            time.sleep(1.0)  # let the watcher settle after the previous build
            marker = f"edit-{dirty}-{i}-{time.monotonic_ns()}"
            path.write_text(path.read_text() + f"\n\n{marker}\n")
            saved = time.monotonic()
            while marker not in fetch(url):
                if time.monotonic() - saved > 300:
                    raise RuntimeError(f"the edit never showed at {url}")
                time.sleep(0.05)
            times.append(time.monotonic() - saved)
        return times
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--core", default="properdocs", choices=("properdocs", "mkdocs"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp) / "lab"
        shutil.copytree(REPO / "site", lab / "site")
        shutil.copy(REPO / "mkdocs.yml", lab / "mkdocs.yml")
        synthetic = Path(tmp) / "synthetic"
        srcs = generate(synthetic / "site", args.notes)
        shutil.copy(REPO / "mkdocs.yml", synthetic / "mkdocs.yml")
        wikis = {"lab's wiki": (lab, _a_note(lab)), f"{args.notes} notes": (synthetic, srcs[len(srcs) // 2])}
        print(f"save-to-served-page, {args.core} serve, median of {args.rounds} edits:")
        for name, (root, note) in wikis.items():
            full = statistics.median(latency(root, note, args.core, False, args.rounds))
            dirty = statistics.median(latency(root, note, args.core, True, args.rounds))
            print(f"  {name:>12}: full rebuild {full:5.2f} s, --dirty {dirty:5.2f} s, full/dirty {full / dirty:4.1f}x")


def _a_note(root: Path) -> str:
    """A hand-written note of the lab's wiki: the first project note."""
    return sorted(p.relative_to(root / "site").as_posix() for p in (root / "site/projects").glob("*.md"))[0]


if __name__ == "__main__":
    main()
