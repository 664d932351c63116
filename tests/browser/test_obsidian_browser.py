"""tests/fixtures/obsidian in headless Chromium: a list right under text is drawn as a
list, and a callout holding an embed holds the embed and the text after it. The browser
and its tabs are conftest.py's (no request may leave 127.0.0.1, no console error)."""

from pathlib import Path

import pytest
from wiki_fixture import make_vault_wiki, served

expect = pytest.importorskip("playwright.sync_api", reason="browser tests: python playwright is not installed").expect
pytestmark = pytest.mark.browser
OBSIDIAN = Path(__file__).resolve().parents[1] / "fixtures" / "obsidian"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> str:
    """The fixture wiki with tests/fixtures/obsidian, built and served; yields the vault's URL."""
    root = tmp_path_factory.mktemp("obsidian-wiki")
    make_vault_wiki(root, OBSIDIAN)
    with served(root, "mkdocs", strict=False) as url:  # the vault holds unreadable properties on purpose
        yield f"{url}obsidian/"


def test_a_list_right_under_text_is_drawn_as_a_list(page, site):
    page.goto(f"{site}Rendering/")
    items = page.locator("article p:has-text('Steps to take:') + ul > li")
    expect(items).to_have_count(2)
    expect(items.first).to_have_text("first step")
    # a list item, drawn with its marker, below the text rather than after it on its line
    assert items.first.evaluate("li => getComputedStyle(li).display") == "list-item"
    text_box = page.locator("article p:has-text('Steps to take:')").bounding_box()
    assert items.first.bounding_box()["y"] >= text_box["y"] + text_box["height"]


def test_a_callout_holds_its_embed_and_the_text_after_it(page, site):
    page.goto(f"{site}Rendering/")
    callout = page.locator("article .admonition.tip")
    expect(callout).to_be_visible()
    embed = callout.locator(".lab-embed")
    expect(embed).to_contain_text("A claim worth embedding.")
    after = callout.locator("p:has-text('more text, still in the callout')")
    expect(after).to_be_visible()
    box, text = callout.bounding_box(), after.bounding_box()
    assert box["y"] <= text["y"] and text["y"] + text["height"] <= box["y"] + box["height"]  # drawn inside the box
