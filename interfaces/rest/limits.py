"""Limits on what a request may carry, checked before any route sees it.

The size limit: a body over ``KEHU_MAX_REQUEST_BYTES`` is refused with 413
``request.too_large`` before anything reads it as JSON or GraphQL.

A declared ``Content-Length`` over the limit is refused at once, unread. A body without one
(``Transfer-Encoding: chunked``) or one that lies about its length is counted while it
arrives and refused as soon as it passes the limit. A body within the limit is handed on to
the application as it came, so the routes see no difference.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.rest.problems import problem


class RequestSizeLimit:
    """ASGI middleware refusing request bodies larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, f"the body declares {declared} bytes")
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away: let the application see it
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, f"the body passed {self.max_bytes} bytes")
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(received, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        response = problem(
            413,
            "request.too_large",
            "Request body too large",
            f"{why}; at most {self.max_bytes} bytes are accepted (KEHU_MAX_REQUEST_BYTES)",
            {"limit": self.max_bytes},
        )
        # The rest of the body is not read: the connection closes after the answer.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered messages first, then the live channel (which
    reports the disconnect a streaming response listens for)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


NUL = "\x00"


class RejectNulCharacters:
    """ASGI middleware refusing a NUL character in the path or the query (``%00``) with 422
    ``validation.request``.

    PostgreSQL text cannot hold NUL: a filter holding one failed the read-model query with a
    500, and text stored with one stopped the read models for good. The JSON bodies refuse
    it themselves (``interfaces.rest.common.Body``), as does ``X-Reason``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _holds_nul(scope):
            response = problem(
                422,
                "validation.request",
                "Invalid request",
                "the path or the query holds a NUL character (%00)",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _holds_nul(scope: Scope) -> bool:
    if NUL in scope["path"]:
        return True
    query = scope.get("query_string", b"").decode("latin-1")
    return any(
        NUL in key or NUL in value for key, value in parse_qsl(query, keep_blank_values=True)
    )
