"""A sweep's points in the local graph, in headless Chromium: the fixture wiki with a
3-point sweep of loss-shelf, each point's page linking to the experiment. The
experiment's local graph shows the sweep as one node ("3 points"), in the sweeps'
brown, and no point; the node opens the sweep page, whose own local graph is centred
on it. The browser and its tabs are conftest.py's: a test fails on any request that
leaves 127.0.0.1 and on any console error."""

import pytest
from wiki_fixture import add_sweep, make_wiki, served

expect = pytest.importorskip("playwright.sync_api", reason="browser tests: python playwright is not installed").expect
pytestmark = pytest.mark.browser

SWEEP = "experiments/loss-shelf/sweeps/seeds/index.md"
BROWN = "rgb(109, 76, 65)"  # --lab-sweep, light (graph.css)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> str:
    """The fixture wiki with a 3-point sweep, built and served on 127.0.0.1; yields its URL."""
    root = tmp_path_factory.mktemp("swept-wiki")
    make_wiki(root)
    assert add_sweep(root, points=3) == SWEEP
    with served(root) as url:
        yield url


def test_a_sweeps_points_are_one_node_in_the_experiments_local_graph(page, site):
    page.goto(f"{site}experiments/loss-shelf/")
    local = page.locator(".lab-graph--local")
    expect(local.locator(".lab-node--self")).to_have_attribute("data-id", "experiments/loss-shelf/index.md")
    sweep = local.locator(f'.lab-node[data-id="{SWEEP}"]')
    expect(sweep).to_have_count(1)
    expect(local.locator('.lab-node[data-id*="/points/"]')).to_have_count(0)
    expect(local.locator('.lab-node[data-id^="experiments/loss-shelf/sweeps/"]')).to_have_count(1)
    expect(sweep.locator("title")).to_have_text("The loss shelf: sweep seeds (3 points) (sweep)")
    expect(sweep.locator("circle")).to_have_css("fill", BROWN)
    sweep.locator("circle").click()
    expect(page).to_have_url(f"{site}experiments/loss-shelf/sweeps/seeds/")
    expect(page.locator(".lab-graph--local .lab-node--self")).to_have_attribute("data-id", SWEEP)
    back = page.locator('.lab-graph--local .lab-node[data-id="experiments/loss-shelf/index.md"]')
    expect(back).to_have_count(1)  # its points' links to the experiment: one edge, from the sweep
