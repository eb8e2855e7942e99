"""Request bodies are capped before they are read, so no request can make the server buffer
an unbounded body (a 300 MB anonymous POST used to be read whole before the 401).

A declared ``Content-Length`` over the limit is answered 413 at once, without reading a byte; a
body without one (chunked) is counted as it arrives and cut off at the limit with the same 413.
Requests with neither a session cookie nor a bearer token get the small anonymous limit (sign-in,
sign-up and subscription forms are a few hundred bytes); signed-in requests the JSON/form limit;
signed-in multipart uploads the upload limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from paperboy.web.auth import SESSION_COOKIE
from paperboy.web.errors import error_response


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large: the limit here is {_size(limit)}; "
                              "send less (or sign in, for uploads)")


class BodyLimitMiddleware:
    def __init__(self, app, *, body_bytes: int, anonymous_bytes: int, upload_bytes: int):
        self.app = app
        self.body_bytes, self.anonymous_bytes, self.upload_bytes = (
            body_bytes, anonymous_bytes, upload_bytes)

    def limit_for(self, headers: dict[bytes, bytes]) -> int:
        cookies = headers.get(b"cookie", b"")
        signed_in = b"authorization" in headers or SESSION_COOKIE.encode() + b"=" in cookies
        if not signed_in:
            return self.anonymous_bytes
        if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            return self.upload_bytes
        return self.body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.limit_for(headers)
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False  # the server rejects a malformed length itself
            if too_big:
                await _answer_413(scope, receive, send, limit)
                return
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted_receive, send)


async def _answer_413(scope, receive, send, limit: int) -> None:
    """413 before the app runs (no body read), as the app's other errors look."""
    response = error_response(Request(scope), 413, BodyTooLarge(limit).detail,
                              headers={"Connection": "close"})
    await response(scope, receive, send)


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 \
        else f"{n // 1024} KB" if n % 1024 == 0 else f"{n} bytes"
