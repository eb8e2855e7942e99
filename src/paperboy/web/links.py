"""The base of absolute links in answers (feeds, API ``url`` fields, the docs page).

``PAPERBOY_BASE_URL`` wins everywhere when set. Unset, links follow the request: the scheme the
server saw (behind a proxy, uvicorn takes ``X-Forwarded-Proto``/``X-Forwarded-For`` only from the
addresses in ``FORWARDED_ALLOW_IPS``, default 127.0.0.1) and the ``Host`` header, which is what a
browser used to reach us, so ``paperboy serve --port 8766`` links to port 8766. E-mails never use
the request (a forged Host header must not reach a mailed link): see
:attr:`paperboy.settings.Settings.link_base_url`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request


def request_base_url(request: Request) -> str:
    """Base URL for links in this answer, without a trailing slash."""
    configured = request.app.state.settings.base_url
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


BaseUrlDep = Annotated[str, Depends(request_base_url)]
