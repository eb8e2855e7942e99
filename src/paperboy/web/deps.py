"""Typed dependencies: routes read like plain typed functions (``store: StoreDep``).

Everything comes from ``request.app.state`` (filled by :func:`paperboy.web.app.create_app`), so
tests build as many independent apps as they like.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from paperboy.settings import Settings
from paperboy.storage import Store
from paperboy.web.searching import SearchFacade
from paperboy.web.security import require_csrf
from paperboy.web.templating import Templates


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_search(request: Request) -> SearchFacade:
    return request.app.state.search


def get_templates(request: Request) -> Templates:
    return request.app.state.templates


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
#: search with graceful fallback (title matches + a notice) when the index is not ready
SearchDep = Annotated[SearchFacade, Depends(get_search)]
TemplatesDep = Annotated[Templates, Depends(get_templates)]
#: add ``_: CsrfDep`` (or ``dependencies=[Depends(require_csrf)]``) to every state-changing route
CsrfDep = Annotated[None, Depends(require_csrf)]
