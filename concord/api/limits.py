"""The request-size limit: a body over it is refused with 413 before it is read any further.

A pure ASGI middleware, so it sees the body as it arrives: a declared Content-Length over the
limit is refused before the app runs (a route that never reads its body would otherwise run and
write); a body without one (chunked) is counted chunk by chunk and refused the moment it passes
the limit, so an endless body costs at most the limit in memory.
"""

from __future__ import annotations

import os

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from concord.errors import InvalidInput

MAX_BODY_ENV = "CONCORD_MAX_BODY_BYTES"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(HTTPException):
    """The request body passed the limit; the app's HTTP error handler answers it with 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


def max_body_bytes(explicit: int | None = None) -> int:
    """The limit: ``explicit``, else CONCORD_MAX_BODY_BYTES, else 1 MiB."""
    if explicit is not None:
        return _checked(explicit, "max_body_bytes")
    raw = os.environ.get(MAX_BODY_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_BODY_BYTES
    try:
        return _checked(int(raw), MAX_BODY_ENV)
    except ValueError:
        raise InvalidInput(f"{MAX_BODY_ENV} must be a whole number of bytes, not {raw!r}") from None


def _checked(limit: int, what: str) -> int:
    if limit < 1:
        raise InvalidInput(f"{what} must be at least 1 byte, not {limit}")
    return limit


class BodySizeLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes with a 413 problem."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            # Raised outside the routes' handler (FastAPI answers it there); answer it here.
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        from concord.api.problems import too_large

        response = too_large(Request(scope), self.limit)
        await response(scope, receive, send)
