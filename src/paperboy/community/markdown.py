"""Comment Markdown: a safe subset (paragraphs, links, code, emphasis, lists, quotes).

Rendering has two independent layers, so a bug in one does not open a hole:

1. markdown-it (CommonMark) with raw HTML disabled and images/tables/headings turned off; TeX
   between ``$...$`` or ``$$...$$`` is kept verbatim as text (no emphasis inside ``$x_1 y_1$``).
2. nh3 (the Rust ``ammonia`` sanitizer) on the result: only the tags below survive, links keep
   only http(s)/mailto URLs and get ``rel="nofollow noopener noreferrer ugc"``.
3. The TeX spans are typeset to MathML last (paperboy.texmath builds it from its own allow-list).
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from paperboy.texmath import typeset_html

MAX_COMMENT_CHARS = 10_000

ALLOWED_TAGS = {"p", "br", "a", "code", "pre", "em", "strong", "blockquote", "ul", "ol", "li",
                "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_CLASSES = {"span": {"tex"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _tex_inline(state, silent: bool) -> bool:
    """``$...$`` / ``$$...$$``: a text token, so Markdown never rewrites TeX."""
    src, start = state.src, state.pos
    if src[start] != "$":
        return False
    fence = "$$" if src.startswith("$$", start) else "$"
    body_start = start + len(fence)
    end = body_start
    while True:
        end = src.find(fence, end)
        if end < 0:
            return False
        if src[end - 1] != "\\":
            break
        end += 1
    body = src[body_start:end]
    if not body.strip() or (fence == "$" and (body[0].isspace() or body[-1].isspace())):
        return False
    if not silent:
        token = state.push("tex_inline", "span", 0)
        token.content = src[start : end + len(fence)]
    state.pos = end + len(fence)
    return True


def _render_tex(self, tokens, idx, options, env) -> str:
    return f'<span class="tex">{escapeHtml(tokens[idx].content)}</span>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "heading", "lheading", "hr", "html_block", "html_inline"])
    md.inline.ruler.before("escape", "tex_inline", _tex_inline)
    md.add_render_rule("tex_inline", _render_tex)
    return md


def render_comment(text: str) -> str:
    """Markdown source → sanitized HTML (safe to insert unescaped), TeX then typeset."""
    html = _parser().render(text[:MAX_COMMENT_CHARS])
    return typeset_html(nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer ugc",
        strip_comments=True,
    ))


def safe_url(value: str | None) -> str:
    """An imported or user-given URL fit for an href: http(s)/mailto only, else ''.

    Sources hand over whatever a feed says (``javascript:alert(1)`` is a valid string); pages
    link only what this returns, so such a value shows no link at all.
    """
    if not value:
        return ""
    url = "".join(ch for ch in str(value).strip() if ch.isprintable() and not ch.isspace())
    scheme, sep, _ = url.partition(":")
    if not sep or "/" in scheme or scheme.lower() not in URL_SCHEMES:
        return ""
    return url
