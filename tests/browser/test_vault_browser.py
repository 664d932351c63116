"""The fixture Obsidian vault, read in place by the wiki, in headless Chromium: an
embedded image is drawn, transcluded text shows, callouts render, math is drawn as
MathML. The browser and its tabs are conftest.py's: a test fails on any request that
leaves 127.0.0.1 and on any console error."""

import pytest
from wiki_fixture import make_vault_wiki, served

expect = pytest.importorskip("playwright.sync_api", reason="browser tests: python playwright is not installed").expect
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> str:
    """The fixture wiki with the fixture vault, built and served on 127.0.0.1; yields the vault's URL."""
    root = tmp_path_factory.mktemp("vault-wiki")
    make_vault_wiki(root)
    with served(root, "mkdocs") as url:
        yield f"{url}vault/"


def test_embedded_image_is_drawn_at_its_size(page, site):
    page.goto(f"{site}Welcome/")
    image = page.locator("img.lab-image[width='120']")
    expect(image).to_be_visible()
    assert image.evaluate("img => [img.complete, img.naturalWidth, img.getBoundingClientRect().width]") == [
        True,
        60,
        120,
    ]


def test_transcluded_text_is_shown_with_a_link_to_its_note(page, site):
    page.goto(f"{site}Welcome/")
    embed = page.locator(".lab-embed").first
    expect(embed).to_contain_text("Ablating the late MLP brings the shelf back.")
    embed.locator("a.lab-embed-source").click()
    expect(page).to_have_url(f"{site}Research/Carry%20Notes/#evidence")


def test_block_link_lands_on_its_block(page, site):
    page.goto(f"{site}Welcome/")
    page.locator("article").get_by_role("link", name="the claim").click()
    expect(page).to_have_url(f"{site}Research/Carry%20Notes/#^key-claim")
    expect(page.locator("[id='^key-claim']")).to_be_attached()


def test_callouts_render_as_admonitions_and_fold(page, site):
    page.goto(f"{site}Welcome/")
    expect(page.locator(".admonition.note .admonition-title")).to_have_text("Read this first")
    folded = page.locator("details.tip")
    expect(folded.locator("summary")).to_have_text("A folded tip")
    expect(folded.get_by_text("Hidden until opened.")).to_be_hidden()
    folded.locator("summary").click()
    expect(folded.get_by_text("Hidden until opened.")).to_be_visible()


def test_math_is_drawn_as_mathml(page, site):
    page.goto(f"{site}Welcome/")
    block = page.locator(".lab-math math")
    expect(block).to_be_visible()
    # Drawn by the browser's MathML layout: the fraction is taller than a line of text.
    box = block.locator("mfrac").bounding_box()
    line = page.locator("article p").first.evaluate("p => parseFloat(getComputedStyle(p).lineHeight)")
    assert box["height"] > line
    assert page.locator("math[display='inline']").count() == 3
