"""Link scanning and vault builds: what an Obsidian vault costs the wiki.

1. ``links.scan`` on one page holding 1,000 and then 8,000 links (with text and a
   heading every few lines): linear scanning takes about 8x as long for 8x the
   links; counting lines from the top for every link, as it once did, took ~64x.
2. A generated 630-note vault (folders, headings, callouts, ~1,650 wikilinks and
   500 image embeds, as in the largest real vault tried) read in place through the
   ``vault`` setting, built with the lab's mkdocs.yml; against the same notes with
   every link and embed turned to plain text. Each build is a fresh ``mkdocs build
   --strict`` into an empty folder; the median of ``--repeat`` builds is kept.

    .venv/bin/python bench/bench_link_scan.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from bench_wiki_build import PARAGRAPH, build  # noqa: E402  (the same build timing)

from lab.wiki import links, pagecache  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PNG = bytes.fromhex(  # a 1x1 PNG
    "89504e470d0a1a0a0000000d49484452000000010000000108020000009077"
    "53de0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


def page_with_links(count: int) -> str:
    lines = []
    for i in range(count):
        if i % 50 == 0:
            lines.append(f"\n## Section {i // 50}\n")
        lines.append(f"Line {i} of prose links [[note-{i % 97}]] and goes on a little. {'`code` ' * (i % 2)}")
    return "\n".join(lines) + "\n"


def scan_seconds(text: str, repeat: int = 5) -> float:
    """The best of ``repeat`` scans (the least disturbed by others on the machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        links.scan(text)
        best = min(best, time.perf_counter() - start)
    return best


def generate_vault(root: Path, notes: int = 630, images: int = 500, links_total: int = 1650, seed: int = 0) -> None:
    """A vault like a real one: notes in nested folders with links, headings, a callout,
    and ``images`` embeds of 60 attachments."""
    rng = random.Random(seed)
    names = [f"Note {i}" for i in range(notes)]
    folders = ["", "Research", "Research/Carry", "Daily", "Reading/Papers", "Projects"]
    (root / "attachments").mkdir(parents=True)
    for i in range(60):
        (root / "attachments" / f"figure-{i}.png").write_bytes(PNG)
    per_note_links = [links_total // notes + (i < links_total % notes) for i in range(notes)]
    per_note_images = [images // notes + (i < images % notes) for i in range(notes)]
    for i, name in enumerate(names):
        body = [f"# {name}", "", PARAGRAPH, "", "## Details", "", PARAGRAPH]
        body += [f"See [[{rng.choice(names)}]] for more." for _ in range(per_note_links[i])]
        body += [
            f"![[figure-{rng.randrange(60)}.png|{rng.choice([200, 300, 400])}]]" for _ in range(per_note_images[i])
        ]
        body += ["", "> [!note] Why", "> Because the carry comes late.", ""]
        path = root / rng.choice(folders) / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"---\n{yaml.safe_dump({'tags': ['research'], 'aliases': [f'N{i}']})}---\n" + "\n".join(body) + "\n"
        )


def unlink(root: Path) -> None:
    """The same notes with every wikilink and embed as plain text (attachments stay)."""
    for path in root.rglob("*.md"):
        path.write_text(re.sub(r"!?\[\[([^\]|#]*)[^\]]*\]\]", r"\1", path.read_text()))


def build_median(tmp: Path, vault: Path, name: str, repeat: int) -> tuple[float, float]:
    wiki = tmp / name
    (wiki / "site").mkdir(parents=True)
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    config["plugins"] = ["search", {"lab": {"vault": str(vault)}}]
    (wiki / "mkdocs.yml").write_text(yaml.safe_dump(config))
    # bench_wiki_build.build gives the (wall, CPU) seconds of one ProperDocs build; each
    # converts every page (no HTML kept from the build before: lab.wiki.pagecache)
    times = []
    for i in range(repeat):
        shutil.rmtree(wiki / pagecache.CACHE_DIR, ignore_errors=True)
        times.append(build("properdocs", wiki / "mkdocs.yml", wiki / f"build-{i}", {}))
    times.sort()
    return times[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="builds of each vault (the median is kept)")
    args = parser.parse_args()

    small, large = scan_seconds(page_with_links(1000)), scan_seconds(page_with_links(8000))
    print(
        f"links.scan on one page: 1,000 links {small * 1e3:.1f} ms, 8,000 links {large * 1e3:.1f} ms; "
        f"8,000/1,000 = {large / small:.1f}x for 8x the links (linear: ~8x; quadratic: ~64x)"
    )

    with tempfile.TemporaryDirectory(prefix="bench-vault-") as tmp:
        tmp = Path(tmp)
        generate_vault(tmp / "linked" / "vault")
        generate_vault(tmp / "plain" / "vault")
        unlink(tmp / "plain" / "vault")
        linked_s, linked_cpu = build_median(tmp, tmp / "linked" / "vault", "wiki-linked", args.repeat)
        plain_s, plain_cpu = build_median(tmp, tmp / "plain" / "vault", "wiki-plain", args.repeat)
    print(
        f"630-note vault, wall (CPU) seconds: with ~1,650 links and 500 image embeds {linked_s:.1f} ({linked_cpu:.1f}), "
        f"same notes without links {plain_s:.1f} ({plain_cpu:.1f}); "
        f"linked/plain {linked_s / plain_s:.2f}x wall, {linked_cpu / plain_cpu:.2f}x CPU"
    )


if __name__ == "__main__":
    main()
