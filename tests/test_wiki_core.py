"""The wiki under both cores: ProperDocs, the maintained fork of MkDocs 1.x that
`make wiki` and `make serve` run, and MkDocs 1.6.1 (`make wiki CORE=mkdocs`).

The lab's plugin and Material run unchanged on either: the same fixture wiki builds
strictly into the same site, a broken link fails the strict build, and `serve`
answers on 127.0.0.1.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from wiki_fixture import make_wiki

CORES = ("properdocs", "mkdocs")
# `CORE build|serve …` as the Makefile runs it, then a check that it imported neither
# torch nor TransformerLens.
RUN = """
import runpy, sys
core = sys.argv.pop(1)
try:
    runpy.run_module(core, run_name="__main__")
finally:
    heavy = sorted({"torch", "transformer_lens"} & set(sys.modules))
    if heavy:
        print(f"building the wiki imported {heavy}", file=sys.stderr)
        sys.exit(99)
"""
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def command(core: str, *args: str) -> list[str]:
    return [sys.executable, "-c", RUN, core, *args, "--config-file", "mkdocs.yml"]


def build(root: Path, core: str, site: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(core, "build", "--strict", "--site-dir", site),
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wiki")
    make_wiki(root)
    return root


@pytest.fixture(scope="module")
def sites(root) -> dict[str, Path]:
    for core in CORES:
        result = build(root, core, f"build/{core}")
        assert result.returncode == 0, f"{core}: {result.stderr}"
    return {core: root / "build" / core for core in CORES}


def generator(html: str) -> str:
    return html.split('<meta name="generator" content="', 1)[1].split('"', 1)[0]


def test_each_core_builds_the_same_site(sites):
    files = {core: sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file()) for core, site in sites.items()}
    assert files["properdocs"] == files["mkdocs"]
    assert Path("graph/index.html") in files["mkdocs"] and Path("assets/lab/graph.json") in files["mkdocs"]
    home = {core: (site / "index.html").read_text() for core, site in sites.items()}
    assert generator(home["properdocs"]).startswith("mkdocs-ProperDocs 1.6.7")  # really the other core
    assert generator(home["mkdocs"]).startswith("mkdocs-1.6.1")
    for path in files["mkdocs"]:
        ours, theirs = ((sites[core] / path).read_bytes() for core in CORES)
        if path.suffix == ".html":  # only the generator line may differ
            ours, theirs = (b.decode().replace(generator(b.decode()), "") for b in (ours, theirs))
        assert ours == theirs, path


@pytest.mark.parametrize("core", CORES)
def test_broken_link_fails_the_strict_build_under_each_core(tmp_path, core):
    make_wiki(tmp_path)
    (tmp_path / "site/ideas/broken.md").write_text("---\ntitle: Broken\nstatus: open\n---\n\nSee [[nowhere]].\n")
    result = build(tmp_path, core, "build/site")
    assert result.returncode != 0
    assert "site/ideas/broken.md:6: [[nowhere]] does not name any page" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


@pytest.mark.parametrize("core", CORES)
def test_serve_answers_on_localhost_under_each_core(root, core):
    address = f"127.0.0.1:{free_port()}"
    server = subprocess.Popen(
        command(core, "serve", "--dev-addr", address),
        cwd=root,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        home = None
        for _ in range(600):  # waits for the first build (generous on shared cores; not a timing check)
            if server.poll() is not None:
                pytest.fail(f"{core} serve exited: {server.stderr.read()}")
            try:
                home = fetch(f"http://{address}/")
                break
            except OSError:
                time.sleep(0.2)
        assert home and "Lab notebook" in home
        assert '"nodes":' in fetch(f"http://{address}/assets/lab/graph.json")
    finally:
        server.terminate()  # by its own process id
        server.wait(timeout=30)
