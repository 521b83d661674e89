"""Secrets kept out of every log line: API keys, bearer tokens, passwords in URLs and DSNs,
the audit key and the database passwords from the configuration.

Installed by the HTTP app and by every ``kehu`` command, it redacts each log record as it is
made, whichever logger it comes from and whichever handler takes it (uvicorn's access log,
the libraries', a test's)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit

from application.settings import Settings

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
