"""Error responses: an HTML page for people, a JSON object for ``/api`` clients.

422 answers always carry a one-line message naming the parameter and what is wrong with it;
unexpected errors are logged and answered with a 500 page (tests make sure input never causes one).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class BadInput(HTTPException):
    """A parameter the user must fix (422) with a one-line message."""

    def __init__(self, message: str):
        super().__init__(status_code=422, detail=message)


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api") or path.endswith((".json",))


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body", "form")]
        where = ".".join(loc) or "request"
        msg = err.get("msg", "invalid value")
        raw = err.get("input")
        shown = ""
        if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            text = str(raw)
            shown = f" (got {text[:40]!r}{'...' if len(text) > 40 else ''})"
        parts.append(f"{where}: {msg}{shown}")
    return "; ".join(parts) or "invalid request"


_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           422: "Invalid input", 429: "Too many requests", 500: "Server error"}


def error_response(request: Request, status: int, message: str, headers=None):
    if wants_json(request):
        return JSONResponse({"error": message, "status": status}, status_code=status,
                            headers=headers)
    templates = getattr(request.app.state, "templates", None)
    if templates is None or request.url.path.endswith((".md", ".xml", ".rss", ".atom")):
        return PlainTextResponse(message, status_code=status, headers=headers)
    return templates.render(
        request,
        "error.html",
        {"status": status, "title": _TITLES.get(status, "Error"), "message": message},
        status_code=status,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "error")
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path[:200]}"
        return error_response(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return error_response(request, 422, _validation_message(exc))

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError):
        # e.g. an id of 30 digits reaching SQLite: the input is out of range, not our failure
        return error_response(request, 422, "a number in the request is out of range")

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError):
        # the database refused a value from the request (PostgreSQL: out of range, bad encoding)
        log.info("database refused input on %s: %s", request.url.path, exc.orig)
        return error_response(request, 422, "a value in the request is out of range or invalid")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "something went wrong on our side; it has been logged")
