"""The app factory: ``create_app(settings)`` builds one independent Paperboy web application.

Nothing happens at import time. The app's state holds the settings, the store, the search facade,
the templates and the CSRF signer; routes get them through the typed dependencies in
:mod:`paperboy.web.deps`. Every router is registered here, in :data:`ROUTERS` (one line each).
"""

from __future__ import annotations

import importlib
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from paperboy.secret_key import load_secret_key
from paperboy.settings import Settings, load_settings
from paperboy.storage import Store, open_store
from paperboy.web.bodylimit import BodyLimitMiddleware
from paperboy.web.errors import install_error_handlers
from paperboy.web.links import request_base_url
from paperboy.web.searching import SearchFacade, build_searcher
from paperboy.web.security import CsrfSigner, SecurityMiddleware
from paperboy.web.templating import Templates

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

#: Router modules, each exposing ``router`` (an APIRouter). Order matters only for overlapping
#: paths. Other areas add their module here with one line.
ROUTERS: list[str] = [
    "paperboy.web.routes.community",  # before pages/api_v1: /papers/{id}/... sub-paths
    "paperboy.web.routes.accounts",
    "paperboy.web.routes.recommend",  # before pages: POST /papers/{id}/more|less
    "paperboy.web.routes.api_hf",
    "paperboy.web.routes.api_v1",
    "paperboy.web.routes.feeds",
    "paperboy.web.routes.docs",
    "paperboy.web.routes.pages",
    "paperboy.web.routes.mail",
]


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    searcher=None,
    *,
    scheduler: bool = False,
) -> FastAPI:
    """Build the app. ``store``/``searcher`` default to the configured ones; pass ``searcher=False``
    to run without search (the fallback). ``scheduler=True`` runs periodic jobs in the server."""
    settings = settings or load_settings()
    owns_store = store is None
    if store is None:
        store = open_store(settings)
    if searcher is None:
        searcher = build_searcher(store, settings)
    elif searcher is False:
        searcher = None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runner = None
        if scheduler:
            from paperboy.jobs.scheduler import Scheduler

            runner = Scheduler(app.state.settings, app.state.store, app.state.search.searcher)
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()
            if owns_store:
                store.close()

    app = FastAPI(
        title="Paperboy",
        summary="Daily research papers: feeds, search, and a Hugging Face-compatible API.",
        version=_version(),
        docs_url=None,  # /docs is our own page: Swagger UI would need a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.search = SearchFacade(store, searcher)
    app.state.templates = Templates()
    app.state.csrf = CsrfSigner(load_secret_key(settings.data_dir))
    app.state.templates.env.globals["public_base_url"] = request_base_url
    app.state.templates.context_processors.append(_sample_banner(store))

    app.add_middleware(SecurityMiddleware, secure_cookies=settings.base_url.startswith("https"))
    app.add_middleware(BodyLimitMiddleware, body_bytes=settings.max_body_bytes,
                       anonymous_bytes=settings.max_anonymous_body_bytes,
                       upload_bytes=settings.max_upload_bytes)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module_name in ROUTERS:
        module = importlib.import_module(module_name)
        app.include_router(module.router)
        if hasattr(module, "install"):  # per-app wiring (template context, limits)
            module.install(app)
    return app


def _sample_banner(store: Store):
    """Pages say when they show the sample shipped for a first run without network."""
    from paperboy.ingest.sample import sample_count

    return lambda request: {"sample_papers": sample_count(store)}


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory paperboy.web.app:app_from_env`` (settings from env)."""
    return create_app(load_settings(), scheduler=True)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("paperboy")
    except Exception:  # pragma: no cover - not installed
        return "0"
