"""``make wiki``: the strict build, into a temporary folder that replaces ``build/site``
only when the build succeeds, so one typo in a note never wipes the last good build
a browser (or a static server) is showing.

    python -m lab.wiki.build [--core properdocs|mkdocs] [--site-dir build/site]

The core runs in this process (``runpy``, as its own ``__main__``), not as a child:
the Makefile ``exec``s this module, so a SIGTERM or Ctrl-C to ``make`` reaches the
build itself and nothing is left running. A build stopped that way leaves only the
temporary folder, which the next build clears.
"""

from __future__ import annotations

import argparse
import runpy
import shutil
import sys
from pathlib import Path

from lab import atomic

CORES = ("properdocs", "mkdocs")


def build(core: str, site_dir: Path, config: str = "mkdocs.yml") -> int:
    """Build strictly into ``.SITE.building`` next to ``site_dir``; swap it in on success.
    The core's exit code."""
    if core not in CORES:
        print(f"error: CORE={core!r}: use one of {', '.join(CORES)}", file=sys.stderr)
        return 2
    building = site_dir.with_name(f".{site_dir.name}.building")
    shutil.rmtree(building, ignore_errors=True)  # what a stopped build left
    argv = sys.argv
    sys.argv = [core, "build", "--strict", "--clean", "--config-file", config, "--site-dir", str(building)]
    try:
        runpy.run_module(core, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as done:  # click ends every command with sys.exit
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = argv
    if code != 0 or not (building / "index.html").exists():
        shutil.rmtree(building, ignore_errors=True)
        kept = f"the last good build in {site_dir}/ is kept" if site_dir.exists() else f"{site_dir}/ was not written"
        print(f"error: the wiki did not build (above): {kept}", file=sys.stderr)
        return code or 1
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    atomic.replace_dir(building, site_dir)  # one rename: the old site or the new, never neither
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.wiki.build", description=__doc__.splitlines()[0])
    parser.add_argument("--core", default="properdocs", help="properdocs (default) or mkdocs")
    parser.add_argument("--site-dir", default="build/site", type=Path, help="where the good build lands")
    parser.add_argument("--config-file", default="mkdocs.yml")
    args = parser.parse_args(argv)
    return build(args.core, args.site_dir, args.config_file)


if __name__ == "__main__":
    sys.exit(main())
