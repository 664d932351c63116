"""What the browser tests share: the fixture wiki built and served on 127.0.0.1, Debian's
chromium driven by playwright, and a fresh tab per test.

Every request of a tab is routed: anything not for 127.0.0.1 is recorded and refused, and
each test ends by checking there was none, and no console error. Without chromium or
playwright, each browser test is skipped with the reason.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # share tests/wiki_fixture.py
from wiki_fixture import make_wiki, served  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# Generous waits (not timing checks): parsing plotly.js is slow on 2 shared cores.
TIMEOUT_MS = 30_000
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
try:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
except ImportError:
    sync_playwright = None


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> str:
    """The fixture wiki, built by the default core and served on 127.0.0.1; yields its URL."""
    root = tmp_path_factory.mktemp("wiki")
    make_wiki(root)
    with served(root) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if sync_playwright is None:
        pytest.skip("browser tests: python playwright is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser tests: {CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser):
    """A fresh tab; after the test, no request left 127.0.0.1 and the console had no error."""
    outside, errors = [], []

    def route(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    tab = browser.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.route("**/*", route)
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda err: errors.append(str(err)))
    yield tab
    tab.close()
    assert outside == [], "requests left 127.0.0.1"
    assert errors == [], "console errors"
