"""Obsidian notes render as Obsidian shows them: tests/fixtures/obsidian, a vault of the
cases real vaults hold (glued lists, math beside text, embeds in callouts, headings
that slug badly, odd file names, Markdown-syntax links, unreadable properties), built
end to end; and the plain functions behind each case."""

import re
from pathlib import Path

import pytest
from test_wiki_build import mkdocs
from wiki_fixture import make_vault_wiki

from lab.wiki import blocks, links, outline
from lab.wiki.math import MathExtension

OBSIDIAN = Path(__file__).parent / "fixtures" / "obsidian"


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """(the built site, the build's output) of the fixture wiki with the vault pointed at."""
    root = tmp_path_factory.mktemp("obsidian-wiki")
    make_vault_wiki(root, OBSIDIAN)
    result = mkdocs(root)
    assert result.returncode == 0, result.stderr
    return root / "build" / "site", result.stderr


def article(site: Path, page: str) -> str:
    html = (site / page / "index.html").read_text()
    return html.split('<article class="md-content__inner md-typeset">', 1)[1].split('<h2 id="linked-from">', 1)[0]


def math_free(html: str) -> str:
    return re.sub(r"<math.*?</math>", "<math/>", html, flags=re.S)


# --------------------------------------------------------------------------- one bad file


def test_unreadable_properties_warn_with_file_and_line_and_the_note_still_renders(build):
    site, output = build
    assert re.search(r"WARNING +-  lab: \S*obsidian/Templated.md:3: malformed YAML front matter", output)
    assert re.search(r"WARNING +-  lab: \S*obsidian/Bad fields.md:2: field 'aliases' must be non-empty text", output)
    page = article(site, "obsidian/Templated")
    assert '<p class="admonition-title">Properties that could not be read</p>' in page
    assert "YYYY-MM-DD" in page and "<hr" not in page  # the properties as text, not as a rule and a heading
    assert '<h1 id="daily-template">Daily template' in page
    assert "the rest of it reads" in article(site, "obsidian/Bad fields")


def test_bad_front_matter_stays_an_error_in_the_labs_own_notes(tmp_path):
    from wiki_fixture import make_wiki

    make_wiki(tmp_path)
    note = tmp_path / "site/ideas/probe-carries.md"
    note.write_text(note.read_text().replace("status: open", "status: open\ndate: {{date:YYYY-MM-DD}}"))
    result = mkdocs(tmp_path)
    assert result.returncode == 1 and "probe-carries.md:" in result.stderr and "malformed YAML" in result.stderr


# --------------------------------------------------------------------------- rendering


def test_lists_right_under_text_are_lists(build):
    page = article(build[0], "obsidian/Rendering")
    assert "<p>Steps to take:</p>\n<ul>\n<li>first step</li>\n<li>second step</li>\n</ul>" in page
    assert "<p>Numbered right under text:</p>\n<ol>\n<li>one</li>" in page
    assert "<ul>\n<li>in the callout</li>\n</ul>\n</div>" in page  # inside a callout too


def test_display_math_beside_text_and_inline_double_dollars(build):
    page = math_free(article(build[0], "obsidian/Rendering"))
    assert '<p>The identity</p>\n<div class="lab-math"><math/></div>\n<p>holds, and inline <math/> is' in page
    assert '<p>The sum is</p>\n<div class="lab-math"><math/></div>\n<p>and a list:</p>' in page
    assert "$" not in page


def test_an_embed_inside_a_callout_stays_inside_with_the_text_after_it(build):
    page = article(build[0], "obsidian/Rendering")
    tip = page.split('<div class="admonition tip">', 1)[1].split('<p><img class="lab-image"', 1)[0]
    assert '<p><a class="lab-embed-source" href="../Headings/#^claim">' in tip.split('<div class="lab-embed"', 1)[1]
    assert tip.strip().endswith(
        "<p>A claim worth embedding.</p>\n</div>\n<p>more text, still in the callout</p>\n</div>"
    )


def test_every_heading_id_is_the_anchor_links_use(build):
    site = build[0]
    ids = re.findall(r'<h[1-6] id="([^"]+)"', article(site, "obsidian/Headings"))
    assert ids == ["headings", "1-create-access-token", "iter", "hastag", "fgets-function", "emigre", "section"] + [
        "escaped-stars-and-a_b",
        "links-here",
    ]
    assert '<h2 id="escaped-stars-and-a_b">Escaped *stars* and a_b' in article(site, "obsidian/Headings")
    page = article(site, "obsidian/Rendering")
    hrefs = re.findall(r'href="\.\./Headings/#([^"]+)"', page)
    assert set(ids[1:]) <= set(hrefs)
    assert hrefs.count("escaped-stars-and-a_b") == 2  # written with its escapes, or as it shows


def test_a_block_id_glued_to_an_embed_marks_it(build):
    page = article(build[0], "obsidian/Rendering")
    assert '<img class="lab-image" src="../attachments/chart.png" alt="chart.png"><a id="^fig"></a>' in page
    assert '<a href="./#^fig">Rendering › ^fig</a>' in page


def test_odd_characters_in_file_names_give_working_links(build):
    site = build[0]
    page = article(site, "obsidian/Rendering")
    assert '<a href="../What%3F%20100%25%20%3E%20less/">What? 100% &gt; less</a>' in page
    assert '<a href="../C%23%20notes/">the C# one</a>' in page
    assert (site / "obsidian/What? 100% > less/index.html").exists() and (
        site / "obsidian/C# notes/index.html"
    ).exists()


def test_markdown_syntax_links_and_images_follow_obsidians_rules(build):
    site, output = build
    page = article(site, "obsidian/Rendering")
    assert '<img class="lab-image" src="../attachments/Pasted%20image.png" alt="Pasted image.png">' in page
    assert '<a href="../Deep/Er/Other%20note/#far-heading">the other note</a>' in page  # by name, anywhere
    assert '<a href="../Headings/#links-here">relative</a>' in page
    assert '<a href="https://example.org">a web page</a>' in page
    assert '<span class="lab-broken" title="&#91;no such&#93;(Nowhere.md) does not name any page or file">' in page
    assert '<a href="../../experiments/loss-shelf/#metrics">The loss shelf › Metrics</a>' in page  # its real path
    assert '<a href="../Deep/Er/">index</a>' in page
    # and they are links: the other note lists its backlink
    assert (
        '<a href="../../../Rendering/">Rendering</a> — “Markdown syntax, by Obsidian&#x27;s rules: , the other note'
        in (site / "obsidian/Deep/Er/Other note/index.html").read_text()
    )


def test_the_vault_report_lists_what_obsidian_leaves_and_counts_it(build):
    site, output = build
    assert "vault report (vault-report.md): 1 link to no note, 2 notes with properties that could not be read" in output
    report = article(site, "vault-report")
    assert "<td>[no such](Nowhere.md) does not name any page or file</td>" in report
    assert '<td><a href="../obsidian/Templated/">Templated</a></td>\n<td>3</td>' in report
    assert "Vault report</a>: 1 link to no note" in (site / "index.html").read_text()


# --------------------------------------------------------------------------- the plain functions


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Steps:\n- a\n- b", "Steps:\n\n- a\n- b"),
        ("> Steps:\n> - a", "> Steps:\n>\n> - a"),
        ("- a\nlazy\n- b", "- a\nlazy\n- b"),  # a list's own continuation: no break
        ("Year\n2024. was long", "Year\n2024. was long"),  # only a list starting at 1 interrupts text
        ("```\ntext\n- code\n```", "```\ntext\n- code\n```"),
        ("a\n$$\nx\n$$\nb", "a\n\n$$\nx\n$$\n\nb"),
        ("a\n$$x$$\nb", "a\n\n$$x$$\n\nb"),
        ("a\n\n$$\nx\n$$\n\nb", "a\n\n$$\nx\n$$\n\nb"),
    ],
)
def test_separate_adds_the_blank_lines_obsidian_does_not_need(text, expected):
    assert blocks.separate(text) == expected


def test_inline_double_dollars_are_one_display_formula():
    import markdown

    html = markdown.markdown("a $$x^2$$ b, `$$code$$`", extensions=[MathExtension()])
    assert html.count('display="block"') == 1 and "$" not in html.replace("<code>$$code$$</code>", "")


def test_heading_ids_are_written_into_the_text_and_kept_where_given():
    text = "# T\n## 1. Step\n## `code` only\n## Own { #mine }\n## Step ##\n## 1. Step\n"
    assert outline.Outline(text).with_ids() == (
        "# T { #t }\n## 1. Step { #1-step }\n## `code` only { #code-only }\n## Own { #mine }\n"
        "## Step { #step } ##\n## 1. Step { #1-step_1 }\n"
    )


def test_a_file_name_wins_over_an_alias_in_the_fallback_path_too():
    # Two pages named "carry" in the linking note's vault (so not the one-page fast path)
    # and a third whose alias is "carry": the file names win, as in Obsidian.
    resolver = links.Resolver(
        ["v/a/carry.md", "v/b/carry.md", "v/other.md"], {"v/other.md": ["carry"], "v/a/carry.md": []}
    )
    assert resolver.candidates("carry", "v/x.md") == ["v/a/carry.md", "v/b/carry.md"]
    assert resolver.candidates("other", "v/x.md") == ["v/other.md"]
    only_alias = links.Resolver(["v/other.md", "lab.md"], {"v/other.md": ["lab"]})
    assert only_alias.candidates("lab", "v/x.md") == ["v/other.md"]  # the vault's own names come first
