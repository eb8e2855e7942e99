"""TeX typeset to MathML: what parses becomes MathML built from an allow-list, what does not
stays as written, and nothing in TeX can smuggle markup or script."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from paperboy.texmath import MATH_ELEMENTS, tex_span, tex_to_mathml, typeset, typeset_html


def test_inline_and_display_math_become_mathml():
    html = str(typeset("A bound of $O(n^2)$ and $$\\sum_{i=1}^n x_i$$ with \\(x < y\\)."))
    assert html.startswith("A bound of <span class=\"math\" title=\"$O(n^2)$\">")
    assert "<msup><mi>n</mi><mn>2</mn></msup>" in html
    assert '<math display="block"><mrow><munderover><mo>∑</mo>' in html
    assert "<mi>x</mi><mo>&lt;</mo><mi>y</mi>" in html
    assert html.endswith("</span>.")


@pytest.mark.parametrize("span", ["$\\frac{a$", "$\\unknowncommand{x}$", "$}{$", "$ $"])
def test_what_does_not_parse_stays_as_written(span):
    assert tex_to_mathml(span) is None
    assert str(tex_span(span)) == f'<span class="tex">{Markup.escape(span)}</span>'


@pytest.mark.parametrize("tex", [
    "$\\text{<script>alert(1)</script>}$",
    "$\\href{javascript:alert(1)}{x}$",
    "$\\mathrm{\"><img src=x onerror=alert(1)>}$",
    "$x</math><script>alert(1)</script>$",
    "$\\text{&lt;b&gt;}\\style{color:red}{x}$",
    "$\\color{red\" onmouseover=\"alert(1)}{x}$",
])
def test_hostile_tex_never_yields_markup(tex):
    html = str(typeset(f"before {tex} after <b>bold</b>"))
    tags = set(re.findall(r"</?([a-zA-Z][\w-]*)", html))
    assert tags <= MATH_ELEMENTS | {"span"}, tags
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "href" not in html.replace("\\href", "") and "onmouseover=" not in html.split('title="')[0]
    for attrs in re.findall(r"<m\w*((?: [a-z]+=\"[^\"]*\")*)>", html):
        assert "on" not in re.findall(r" ([a-z]+)=", attrs) and "style" not in attrs


def test_plain_text_goes_through_the_given_escaper():
    html = typeset("a < b $x$ & c", plain=lambda s: Markup("<i>%s</i>") % s)
    assert str(html).startswith("<i>a &lt; b </i><span class=\"math\"")
    assert str(html).endswith("<i> &amp; c</i>")


def test_escaped_spans_in_sanitized_html_are_typeset():
    html = typeset_html('<p>see <span class="tex">$x &lt; y$</span> and <span class="tex">$\\bad{$</span></p>')
    assert "<mo>&lt;</mo>" in html and '<span class="tex">$\\bad{$</span>' in html


def test_dollar_amounts_stay_prose():
    html = str(typeset("It costs $5 and $10 per run, with $x$ samples."))
    assert html.startswith("It costs $5 and $10 per run, with <span class=\"math\"")
