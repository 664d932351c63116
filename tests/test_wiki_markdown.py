"""What the wiki adds to Markdown: Obsidian callouts as admonitions, math as MathML."""

import logging

import markdown

from lab.wiki import callouts
from lab.wiki.math import mathml


def test_callout_becomes_admonition_with_title_and_body():
    text = "Before.\n> [!tip] Use *this*\n> Body [[x]].\n> More.\nAfter.\n"
    assert callouts.convert(text) == 'Before.\n\n!!! tip "Use *this*"\n    Body [[x]].\n    More.\n\nAfter.\n'


def test_callout_folding_nesting_and_unknown_types():
    text = "> [!faq]- Closed\n> a\n>\n> > [!custom]\n> > inner\n\n> [!warning]+\n> b\n"
    assert callouts.convert(text) == (
        '??? faq "Closed"\n    a\n\n    !!! note "Custom"\n        inner\n\n\n\n???+ warning\n    b\n\n'
    )


def test_callout_in_code_or_indented_is_kept_or_indented():
    assert callouts.convert("```\n> [!note]\n```\n") == "```\n> [!note]\n```\n"
    assert callouts.convert("- item\n\n    > [!note] T\n    > x\n") == '- item\n\n    !!! note "T"\n        x\n\n'


def test_plain_blockquote_is_left_alone():
    assert callouts.convert("> just a quote\n> [!not a callout]\n") == "> just a quote\n> [!not a callout]\n"


def render(text: str) -> str:
    return markdown.markdown(text, extensions=["lab.wiki.math", "admonition"])


def test_math_becomes_mathml_inline_and_block():
    html = render("Loss $-\\ln p_0$ and\n\n$$\n\\frac{d}{10}\n$$\n")
    assert (
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><mo>&#x02212;</mo><mi>ln</mi>' in html
    )
    assert (
        '<div class="lab-math"><math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow><mfrac>' in html
    )


def test_dollars_that_are_not_math_stay_text():
    assert render("It costs $5 and $6, or \\$7.") == "<p>It costs $5 and $6, or $7.</p>"


def test_unreadable_tex_is_marked_and_warned(caplog):
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.lab.math"):
        html = mathml("x_", display=False)
    assert html.startswith('<code class="lab-broken" title="MissingSuperScriptOrSubscriptError">x_</code>')
    assert caplog.messages == ["math: cannot read $x_$: MissingSuperScriptOrSubscriptError"]
