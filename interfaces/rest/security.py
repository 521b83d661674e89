"""Security headers on every response, and secrets kept out of the logs.

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

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.settings import Settings

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


# --- secrets out of the logs ---------------------------------------------------------------

_PATTERNS = (
    # Authorization: Bearer <anything>
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+"), r"\1***"),
    # kehu API keys (kehu_<key id>_<secret>): the key id may be shown, the secret never.
    (re.compile(r"\b(kehu_[0-9a-f]+_)[A-Za-z0-9_\-]+"), r"\1***"),
    # a password inside a URL or DSN: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+@"), r"\1***@"),
    # libpq key-value DSNs: password=...
    (re.compile(r"(?i)\b(password\s*=\s*)[^\s'\",;]+"), r"\1***"),
)

_literals: set[str] = set()
_literals_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """``text`` with bearer tokens, API key secrets, URL passwords and configured secrets
    replaced by ``***``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for secret in sorted(_literals, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _clean(value: object) -> object:
    """A log argument, redacted: numbers stay numbers; anything whose text holds a secret
    becomes its redacted text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


def configured_secrets(settings: Settings) -> Iterable[str]:
    """The secret values in ``settings``: the audit key and the database passwords."""
    if settings.audit_key is not None:
        yield settings.audit_key.get_secret_value()
    for url in (settings.database_url, settings.read_database_url):
        password = urlsplit(url.get_secret_value()).password if url is not None else None
        if password:
            yield password
            yield unquote(password)


def install_log_redaction(settings: Settings) -> None:
    """Redact every log record kehu's process creates, whichever logger or handler it goes
    to (uvicorn's, the library's, a test's): message, arguments and traceback text alike.

    Done once per process by wrapping the log record factory; later calls only add the
    secrets of the settings given."""
    global _installed
    with _literals_lock:
        _literals.update(s for s in configured_secrets(settings) if len(s) >= 4)
        if _installed:
            return
        _installed = True
    make_record = logging.getLogRecordFactory()

    def redacting_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        # The arguments keep their shape: uvicorn's access formatter unpacks them.
        record.msg = _clean(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(value) for value in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _clean(value) for key, value in record.args.items()}
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacting_record)
