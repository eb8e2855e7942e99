"""Jinja2 environment: autoescaping, text helpers (TeX kept readable, safe highlighting) and
context processors other areas register (e.g. the signed-in user for the header).

Each area's part of a shared page is a partial under ``templates/partials/`` (account menu,
subscribe form, vote buttons, discussion), included by ``base.html``, ``_card.html`` and
``paper.html``.

Templates get data, never the store: an area that marks papers for the viewer (upvoted,
"more like this") registers a *page data* function, which :meth:`Templates.render` calls once per
page with the ids of every paper the page shows, so a page of 30 cards costs one query per area,
not one per card.
"""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from paperboy.texmath import typeset
from paperboy.web.security import csrf_field, csrf_token

TEMPLATE_DIR = Path(__file__).parent / "templates"

ContextProcessor = Callable[[Request], dict[str, Any]]
#: (request, template name, context so far, ids of the papers on the page) -> more context
PageData = Callable[[Request, str, dict[str, Any], list[str]], dict[str, Any]]


def _highlight_plain(text: str, pattern: re.Pattern | None) -> Markup:
    """Escape ``text`` piece by piece and wrap matches in <mark> (never splits an entity)."""
    if pattern is None:
        return escape(text)
    out, pos = [], 0
    for m in pattern.finditer(text):
        if m.start() == m.end():
            continue
        out.append(escape(text[pos : m.start()]))
        out.append(Markup("<mark>%s</mark>") % text[m.start() : m.end()])
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def terms_pattern(terms: Iterable[str] | None) -> re.Pattern | None:
    words = sorted({t.strip().lower() for t in (terms or []) if t and len(t.strip()) > 1},
                   key=len, reverse=True)[:20]
    words = [w[:60] for w in words if w.strip('"*')]
    if not words:
        return None
    alts = "|".join(re.escape(w) for w in words)
    return re.compile(rf"\b(?:{alts})\w*", re.I)


def rich_text(text: str | None, terms: Iterable[str] | None = None) -> Markup:
    """Abstract/title text: escaped, TeX typeset as MathML (or kept as written when it does not
    parse), search terms highlighted outside the math."""
    if not text:
        return Markup("")
    pattern = terms_pattern(terms)
    return typeset(text, lambda part: _highlight_plain(part, pattern))


def highlight(text: str | None, terms: Iterable[str] | None = None) -> Markup:
    return rich_text(" ".join((text or "").split()), terms)


def excerpt(text: str | None, length: int = 280) -> str:
    text = " ".join((text or "").split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0]
    return cut + "\u2026"


def count_label(n: int | None) -> str:
    """A count as people read it on a button: 950, 1.2k, 12k, 1.3M."""
    n = int(n or 0)
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k") if n < 10_000 else f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")


def fmt_date(value: date | datetime | None, style: str = "long") -> str:
    if value is None:
        return ""
    if style == "iso":
        return value.strftime("%Y-%m-%d")
    if style == "month":
        return f"{value:%B %Y}"
    if style == "month-iso":
        return value.strftime("%Y-%m")
    return f"{value:%b} {value.day}, {value:%Y}"


def url_with(request: Request, **changes) -> str:
    """The current URL with some query parameters replaced (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + ("?" + query if query else "")


@lru_cache(maxsize=16384)
def author_url(name: str) -> str:
    from paperboy.storage.papers import name_key

    return "/authors/" + quote(name_key(name), safe="")


@lru_cache(maxsize=1024)
def org_url(name: str) -> str:
    return "/organizations/" + quote(name, safe="")


def _card_id(value: Any) -> str | None:
    paper = getattr(value, "paper", None)
    return getattr(paper, "id", None)


def paper_ids_on_page(context: dict[str, Any]) -> list[str]:
    """The papers a page shows: every card (a value with ``.paper.id``, e.g. a FeedItem) in the
    context, alone, in a list, or in a result object's ``.items``."""
    ids: list[str] = []
    for value in context.values():
        items = getattr(value, "items", None)
        if isinstance(items, (list, tuple)):
            value = items
        for card in value if isinstance(value, (list, tuple)) else (value,):
            pid = _card_id(card)
            if pid is not None:
                ids.append(pid)
    return list(dict.fromkeys(ids))


class Templates:
    """Renders pages; ``context_processors`` add values every template sees."""

    def __init__(self, directory: Path = TEMPLATE_DIR):
        self._jinja = Jinja2Templates(directory=str(directory))
        self.env = self._jinja.env
        self.env.trim_blocks = True
        self.env.lstrip_blocks = True
        # the templates ship with the package: no stat() of every included file on each use
        # (a feed page includes the card template 30 times)
        self.env.auto_reload = False
        self.context_processors: list[ContextProcessor] = []
        self.page_data: list[PageData] = []
        self.env.globals.update(
            csrf_token=csrf_token,
            csrf_field=csrf_field,
            url_with=url_with,
            author_url=author_url,
            org_url=org_url,
        )
        self.env.filters.update(
            rich_text=rich_text, highlight=highlight, excerpt=excerpt, fmt_date=fmt_date,
            count_label=count_label,
            urlquote=lambda s: quote(str(s), safe=""),
        )

    def render(self, request: Request, name: str, context: dict | None = None,
               status_code: int = 200, headers: dict | None = None):
        ctx: dict[str, Any] = {}
        for processor in self.context_processors:
            ctx.update(processor(request))
        ctx.update(context or {})
        if self.page_data:
            ids = paper_ids_on_page(ctx)
            for provide in self.page_data:
                ctx.update(provide(request, name, ctx, ids))
        return self._jinja.TemplateResponse(request, name, ctx, status_code=status_code,
                                            headers=headers)
