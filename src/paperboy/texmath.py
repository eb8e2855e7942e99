"""TeX in titles, abstracts and comments typeset as MathML, on the server (no script, CSP intact).

latex2mathml does the conversion; its output is then rebuilt here from an allow-list of MathML
elements and attributes, every text and attribute value escaped, because the converter copies
``\\text{...}`` and ``\\href{...}`` verbatim into its markup. A span that does not parse (an
error, unbalanced braces, a command the converter does not know, an element outside the list)
stays exactly as written, escaped, in ``<span class="tex">``.
"""

from __future__ import annotations

import re
from html import unescape
from functools import lru_cache
from typing import Callable
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element
from markupsafe import Markup, escape

#: ``$$...$$``, ``$...$`` (one line), ``\\(...\\)``, ``\\[...\\]``.
TEX_RE = re.compile(r"(\$\$.+?\$\$|\$[^$\n]{1,300}?\$|\\\(.+?\\\)|\\\[.+?\\\])", re.S)
MAX_TEX_CHARS = 2000

MATH_ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose", "mmultiscripts", "mprescripts", "none",
    "mfenced", "merror", "semantics", "annotation",
})
MATH_ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "separator", "accent", "accentunder",
    "movablelimits", "largeop", "symmetric", "minsize", "maxsize", "lspace", "rspace", "form",
    "linethickness", "displaystyle", "scriptlevel", "columnalign", "columnspacing", "columnlines",
    "rowalign", "rowspacing", "rowlines", "frame", "framespacing", "notation", "width", "height",
    "depth", "voffset", "open", "close", "separators", "encoding", "rowspan", "columnspan",
})
_ENTITY = re.compile(r"&#x([0-9A-Fa-f]{1,6});")


class _Unparsed(Exception):
    """The converter's output cannot be shown as typeset math."""


def _text(value: str | None) -> str:
    """Converter text (it writes symbols as ``&#x...;`` strings) escaped for HTML."""
    if not value:
        return ""
    return str(escape(_ENTITY.sub(lambda m: chr(int(m.group(1), 16)), value)))


def _serialize(node: Element, out: list[str]) -> None:
    tag = node.tag.rsplit("}", 1)[-1]
    if tag not in MATH_ELEMENTS:
        raise _Unparsed(tag)
    if tag in ("mi", "mo", "mn") and (node.text or "").startswith("\\"):
        raise _Unparsed(node.text)  # an unknown command, passed through as a name
    attrs = "".join(f' {k}="{escape(v)}"' for k, v in sorted(node.attrib.items())
                    if k in MATH_ATTRIBUTES)
    out.append(f"<{tag}{attrs}>{_text(node.text)}")
    for child in node:
        _serialize(child, out)
        out.append(_text(child.tail))
    out.append(f"</{tag}>")


def _balanced(tex: str) -> bool:
    depth = 0
    for m in re.finditer(r"\\.|[{}]", tex):
        if m.group() == "{":
            depth += 1
        elif m.group() == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _body(span: str) -> tuple[str, str]:
    """(TeX inside the delimiters, display mode) of a matched span."""
    if span.startswith("$$") or span.startswith("\\["):
        return span[2:-2], "block"
    return span[1:-1] if span.startswith("$") else span[2:-2], "inline"


@lru_cache(maxsize=8192)
def tex_to_mathml(span: str) -> str | None:
    """MathML for one delimited TeX span (``$x^2$``), or None when it does not parse."""
    tex, display = _body(span)
    if not tex.strip() or len(tex) > MAX_TEX_CHARS or not _balanced(tex):
        return None
    try:
        root = convert_to_element(tex, display=display)
        out: list[str] = []
        _serialize(root, out)
    except Exception:  # the converter raises many kinds on malformed input
        return None
    return "".join(out)


def tex_span(span: str) -> Markup:
    """One delimited TeX span as MathML, or as written in ``<span class="tex">``."""
    mathml = tex_to_mathml(span)
    if mathml is None:
        return Markup('<span class="tex">%s</span>') % span
    return Markup('<span class="math" title="%s">%s</span>') % (span, Markup(mathml))


def typeset(text: str, plain: Callable[[str], Markup] = escape) -> Markup:
    """``text`` with its TeX spans typeset and every other piece passed through ``plain``
    (which must escape: the default does)."""
    pieces = []
    for i, part in enumerate(TEX_RE.split(text)):
        pieces.append(tex_span(part) if i % 2 and not _is_prose(part) else plain(part))
    return Markup("").join(pieces)


def _is_prose(span: str) -> bool:
    """``$5 and $`` (prices): TeX's inline math never starts or ends with a space inside."""
    if span.startswith("$$") or not span.startswith("$"):
        return False
    body = span[1:-1]
    return body[:1].isspace() or body[-1:].isspace()


_ESCAPED_TEX_SPAN = re.compile(r'<span class="tex">([^<]*)</span>')


def typeset_html(html: str) -> str:
    """Sanitized HTML whose ``<span class="tex">`` spans hold escaped TeX: the spans typeset.

    For comments, where the Markdown renderer keeps TeX as such spans and the sanitizer runs
    before this (so the MathML, already built from an allow-list, is not filtered again)."""
    return _ESCAPED_TEX_SPAN.sub(lambda m: str(tex_span(unescape(m.group(1)))), html)
