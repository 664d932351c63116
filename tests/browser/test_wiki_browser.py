"""The built wiki in headless Chromium (Debian's chromium, driven by playwright).

Every request is routed (conftest.py): anything not for 127.0.0.1 is recorded and
refused, and each test ends by checking there was none, and no console error.
"""

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="browser tests: python playwright is not installed").expect
pytestmark = pytest.mark.browser


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
