"""Security headers on every response.

Every answer may hold personal data, so none is cached (``Cache-Control: no-store``), framed
(``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``), sniffed into another type
(``X-Content-Type-Options: nosniff``) or given away in a ``Referer``. JSON answers get a
Content-Security-Policy that allows nothing at all; the HTML pages — Swagger UI at
``/docs`` and GraphiQL at ``/graphql`` (and ReDoc at ``/redoc``) — get one that allows
exactly what they load: their scripts and styles from the CDNs FastAPI and Strawberry point
at, their inline boot script, and requests back to kehu. ``Strict-Transport-Security`` is
sent over https when ``KEHU_HSTS_MAX_AGE`` is set (behind a TLS-terminating proxy, uvicorn
takes the scheme from the ``X-Forwarded-Proto`` of a trusted address, ``FORWARDED_ALLOW_IPS``).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

# Swagger UI: swagger-ui-dist from jsdelivr, FastAPI's favicon, an inline boot script.
# GraphiQL: React and GraphiQL from unpkg, an inline boot script and style, a data: icon.
# ReDoc: jsdelivr, Google Fonts, a blob: web worker.
PAGE_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com"
        " https://fonts.googleapis.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net",
        "font-src 'self' data: https://fonts.gstatic.com https://unpkg.com"
        " https://cdn.jsdelivr.net",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)

PAGES = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/graphql"})


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, hsts_max_age: int = 0) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains" if hsts_max_age else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = scope["path"].rstrip("/") in PAGES
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                csp = PAGE_CSP if page and html else STRICT_CSP
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Content-Security-Policy", csp)
                headers.setdefault("Cache-Control", "no-store")
                if self.hsts and https:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)
