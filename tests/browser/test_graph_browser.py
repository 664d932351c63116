"""The graph of the notes and the tags in headless Chromium, on the fixture wiki.

The fixtures (conftest.py) fail a test on any request that leaves 127.0.0.1 and on any
console error.
"""

from urllib.parse import urlparse

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="browser tests: python playwright is not installed").expect
pytestmark = pytest.mark.browser

NOTES = 7  # in the fixture wiki: 5 notes and 2 experiments
IDEAS = ["ideas/ablate-mlp.md", "ideas/probe-carries.md"]


def node(page, src: str, where: str = ".lab-graph--all"):
    return page.locator(f'{where} .lab-node[data-id="{src}"]')


def fill(locator) -> str:
    return locator.evaluate("element => getComputedStyle(element).fill")


def open_graph(page, site) -> None:
    page.goto(site)
    page.locator(".md-nav--primary").get_by_role("link", name="Graph").click()  # instant navigation
    expect(page).to_have_url(f"{site}graph/")
    expect(page.locator(".lab-graph--all .lab-node")).to_have_count(NOTES)


def test_graph_page_loads_only_from_127_0_0_1(page, site):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{site}graph/")
    expect(page.locator(".lab-graph--all .lab-node")).to_have_count(NOTES)
    assert any(url.endswith("/assets/lab/graph.json") for url in requests)
    assert {urlparse(url).hostname for url in requests} == {"127.0.0.1"}


def test_a_click_on_a_graph_node_opens_its_note(page, site):
    open_graph(page, site)
    expect(page.locator(".lab-graph--all .lab-edge")).to_have_count(11)
    node(page, "insights/carry-heads.md").locator("circle").click()
    expect(page).to_have_url(f"{site}insights/carry-heads/")
    expect(page.locator("h1")).to_have_text("Two heads compute the carry")


def test_filters_hide_nodes_and_their_edges(page, site):
    open_graph(page, site)
    page.locator('select[data-filter="kind"]').select_option("idea")
    for src in IDEAS:
        expect(node(page, src)).to_be_visible()
    for src in ("projects/addition.md", "insights/carry-heads.md", "experiments/loss-shelf/index.md"):
        expect(node(page, src)).to_be_hidden()
    expect(page.locator(".lab-graph--all .lab-edge:visible")).to_have_count(0)  # the two ideas do not link
    page.locator('select[data-filter="kind"]').select_option("*")
    page.locator('select[data-filter="project"]').select_option("")  # (no project)
    expect(page.locator(".lab-graph--all .lab-node:visible")).to_have_count(1)
    expect(node(page, "journal/2026-11-26-first-run.md")).to_be_visible()
    page.locator('select[data-filter="project"]').select_option("*")
    expect(page.locator(".lab-graph--all .lab-node:visible")).to_have_count(NOTES)
    expect(page.locator(".lab-graph--all .lab-edge:visible")).to_have_count(11)


def test_dark_mode_and_colour_by_status_recolour_the_graph(page, site):
    open_graph(page, site)
    idea = node(page, "ideas/ablate-mlp.md").locator("circle")  # an idea, done
    assert fill(idea) == "rgb(239, 108, 0)"  # --lab-idea, light
    page.locator("[title='Switch to dark mode']").click()
    expect(idea).to_have_css("fill", "rgb(255, 183, 77)")  # --lab-idea, dark
    page.locator("select[data-colour-by]").select_option("status")
    expect(idea).to_have_css("fill", "rgb(129, 199, 132)")  # --lab-good, dark: done
    expect(page.locator(".lab-graph__legend")).to_contain_text("failed")
    page.locator("[title='Switch to light mode']").click()
    expect(idea).to_have_css("fill", "rgb(46, 125, 50)")  # --lab-good, light


def test_zoom_shows_more_of_less(page, site):
    open_graph(page, site)
    picture = page.locator(".lab-graph--all svg")
    width = float(picture.get_attribute("viewBox").split()[2])
    picture.hover()
    page.mouse.wheel(0, -300)
    page.wait_for_function(
        f"parseFloat(document.querySelector('.lab-graph--all svg').getAttribute('viewBox').split(' ')[2]) < {width}"
    )


def test_each_note_shows_its_neighbours_and_they_open(page, site):
    page.goto(f"{site}insights/carry-heads/")
    local = page.locator(".lab-graph--local")
    # Linked from the project and an idea, links to the project and an experiment.
    expect(local.locator(".lab-node")).to_have_count(4)
    expect(local.locator(".lab-node--self")).to_have_attribute("data-id", "insights/carry-heads.md")
    expect(node(page, "ideas/probe-carries.md", ".lab-graph--local").locator("text")).to_be_visible()
    node(page, "experiments/loss-shelf/index.md", ".lab-graph--local").locator("circle").click()
    expect(page).to_have_url(f"{site}experiments/loss-shelf/")
    expect(page.locator(".lab-graph--local .lab-node--self")).to_have_attribute(
        "data-id", "experiments/loss-shelf/index.md"
    )


def test_a_tag_on_a_note_opens_its_notes_on_the_tags_page(page, site):
    page.goto(f"{site}projects/addition/")
    page.locator(".lab-meta").get_by_role("link", name="arithmetic").click()
    expect(page).to_have_url(f"{site}tags/#tag-arithmetic")
    expect(page.locator("#tag-arithmetic + ul")).to_contain_text("Learning addition")
