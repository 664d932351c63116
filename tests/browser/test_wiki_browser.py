"""The built wiki in headless Chromium (Debian's chromium, driven by playwright).

Every request is routed: anything not for 127.0.0.1 is recorded and refused, and
each test ends by checking there was none, and no console error.
"""

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("browser tests: python playwright is not installed", allow_module_level=True)
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"browser tests: {CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

from wiki_fixture import make_wiki  # noqa: E402

pytestmark = pytest.mark.browser
# Generous waits (not timing checks): parsing plotly.js is slow on 2 shared cores.
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> str:
    """The fixture wiki, built and served on 127.0.0.1; yields its URL."""
    root = tmp_path_factory.mktemp("wiki")
    make_wiki(root)
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"], cwd=root, check=True,
                   env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    handler = functools.partial(QuietHandler, directory=str(root / "build" / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 1280, "height": 900})
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


def paper_colour(page) -> str:
    return page.evaluate("document.querySelector('.lab-plot')._fullLayout.paper_bgcolor")


def test_follow_wikilinks_and_see_backlinks(page, site):
    page.goto(site)
    page.get_by_role("link", name="Probe the residual stream for carries").first.click()
    expect(page).to_have_url(f"{site}ideas/probe-carries/")
    page.locator("article").get_by_role("link", name="the evidence").click()
    expect(page).to_have_url(f"{site}insights/carry-heads/#evidence")
    backlinks = page.locator("#linked-from + ul")
    expect(backlinks).to_contain_text("Probe the residual stream for carries")
    expect(backlinks).to_contain_text("A linear probe per digit would show where the carry lives")


def test_figure_is_drawn_and_follows_light_dark(page, site):
    page.goto(f"{site}insights/carry-heads/")
    expect(page.locator(".lab-plot svg.main-svg").first).to_be_visible()
    assert paper_colour(page) == "#ffffff"
    page.locator("[title='Switch to dark mode']").click()
    page.wait_for_function("document.querySelector('.lab-plot')._fullLayout.paper_bgcolor === '#1e2129'")
    page.locator("[title='Switch to light mode']").click()
    page.wait_for_function("document.querySelector('.lab-plot')._fullLayout.paper_bgcolor === '#ffffff'")


def test_figure_survives_instant_navigation(page, site):
    page.goto(site)
    page.locator("article").get_by_role("link", name="loss-shelf").click()
    expect(page).to_have_url(f"{site}experiments/loss-shelf/")
    expect(page.locator(".lab-plot svg.main-svg").first).to_be_visible()
    expect(page.locator(".admonition.failure")).to_have_count(0)


def test_search_finds_a_note(page, site):
    page.goto(site)
    page.locator(".md-search__input").click()
    page.keyboard.type("probe residual")  # material searches on key presses, not on fill()
    expect(page.locator(".md-search-result__item").first).to_contain_text("Probe the residual stream")


def test_a_failed_experiment_shows_its_failure_banner_above_the_last_good_results(page, site):
    page.goto(f"{site}experiments/carry-probe/")
    banner = page.locator("article .admonition.failure")
    expect(banner).to_be_visible()
    expect(banner.locator(".admonition-title")).to_have_text("The latest attempt failed")
    expect(banner).to_contain_text("line 12 of the script: check(n_digits)")
    expect(banner).to_contain_text("ValueError: n_digits must be > 0")
    expect(page.locator("article")).to_contain_text("A probe per digit.")  # the last good page, below
    above = page.evaluate("""() => {
        const banner = document.querySelector('article .admonition.failure');
        const text = [...document.querySelectorAll('article p')].find(p => p.textContent.includes('A probe per digit'));
        return !!(banner.compareDocumentPosition(text) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    assert above
