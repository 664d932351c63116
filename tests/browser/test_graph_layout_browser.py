"""The graph page laid out by d3-force in headless Chromium, at a size where layout and
labels matter: the fixture wiki plus two projects of 100 insights each, every insight
belonging to its project and linking the next insight of its project. The names
alternate between the projects, so that nodes in data order (as d3-force first places
them, on a spiral) are mixed: only a layout that follows the links separates them.

The browser and its tabs are conftest.py's: a test fails on any request that leaves
127.0.0.1 and on any console error.
"""

import itertools
import math
import re

import pytest
from wiki_fixture import make_wiki, served

expect = pytest.importorskip("playwright.sync_api", reason="browser tests: python playwright is not installed").expect
pytestmark = pytest.mark.browser

PER_PROJECT = 100
PROJECTS = ("alpha", "beta")
NODES = 7 + len(PROJECTS) * (1 + PER_PROJECT)  # the fixture wiki's, the projects, their insights


def insight(i: int) -> str:
    """The i-th insight's name: even ones are alpha's, odd ones beta's."""
    return f"n-{i:03d}-{PROJECTS[i % 2]}"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("big-wiki")
    make_wiki(root)
    docs = root / "site"
    for project in PROJECTS:
        (docs / "projects" / f"{project}.md").write_text(f"---\ntitle: Project {project}\n---\n\nA project.\n")
    count = len(PROJECTS) * PER_PROJECT
    for i in range(count):
        after = f"See [[{insight(i + 2)}]].\n" if i + 2 < count else ""
        (docs / "insights" / f"{insight(i)}.md").write_text(
            f"---\ntitle: Insight {i}\nstatus: supported\nproject: {PROJECTS[i % 2]}\n---\n\n{after}"
        )
    with served(root) as url:
        yield url


def positions(page) -> dict[str, tuple[float, float, float]]:
    """Each drawn node's centre and radius, in the picture's pixels at the first zoom."""
    return page.locator(".lab-graph--all .lab-node circle").evaluate_all(
        """circles => Object.fromEntries(circles.map((c) => [c.parentNode.dataset.id,
        [c.cx.baseVal.value, c.cy.baseVal.value, c.r.baseVal.value]]))"""
    )


def mean_distance(at: dict, pairs) -> float:
    distances = [math.dist(at[a][:2], at[b][:2]) for a, b in pairs]
    return sum(distances) / len(distances)


def test_the_layout_groups_linked_notes_and_keeps_every_node_apart(page, site):
    page.goto(f"{site}graph/")
    expect(page.locator(".lab-graph--all .lab-node")).to_have_count(NODES)
    at = positions(page)
    members = {
        p: [f"insights/{insight(i)}.md" for i in range(PER_PROJECT * 2) if i % 2 == k] for k, p in enumerate(PROJECTS)
    }
    within = mean_distance(
        at, [*itertools.combinations(members["alpha"], 2), *itertools.combinations(members["beta"], 2)]
    )
    between = mean_distance(at, itertools.product(members["alpha"], members["beta"]))
    assert within < 0.7 * between, (within, between)  # each project's notes together
    for project in PROJECTS:  # and its project among them
        assert mean_distance(at, [(f"projects/{project}.md", m) for m in members[project]]) < 0.7 * between
    for a, b in itertools.combinations(at, 2):  # and no two circles overlap
        assert math.dist(at[a][:2], at[b][:2]) >= at[a][2] + at[b][2], (a, b)


def test_hubs_are_labelled_and_the_rest_once_zoomed(page, site):
    page.goto(f"{site}graph/")
    expect(page.locator(".lab-graph--all .lab-node")).to_have_count(NODES)
    leaf = page.locator('.lab-graph--all .lab-node[data-id="insights/n-050-alpha.md"] text')
    for project in PROJECTS:
        hub = page.locator(f'.lab-graph--all .lab-node[data-id="projects/{project}.md"]')
        expect(hub).to_have_class(re.compile(r"\blab-node--hub\b"))
        expect(hub.locator("text")).to_be_visible()
        expect(hub.locator("text")).to_have_text(f"Project {project}")
    expect(page.locator(".lab-graph--all .lab-node--hub")).to_have_count(len(PROJECTS))
    expect(leaf).to_be_hidden()
    page.locator(".lab-graph--all svg").hover()
    page.mouse.wheel(0, -300)
    expect(leaf).to_be_visible()
