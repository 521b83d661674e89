"""No personal data in the logs: a safety net that masks mobile numbers, email addresses
and resident ID numbers in every log record.

kehu's own log calls name ids, positions and error codes, not people; but a message can
still carry what it was given — a refused value, a database error quoting a row, a
traceback, a request line with a query string. :class:`PersonalDataFilter` rewrites a
record's message (its arguments merged in), its traceback and its stack text with the
same masks the API uses (``13812345678`` → ``138****5678``, ``a@b.cn`` → ``a***@b.cn``,
``11010519491231002X`` → ``110105********002X``; :func:`application.privacy.mask_text`).

:func:`install` applies it to every record the process creates, whichever logger or
handler it goes to (uvicorn's own included), by wrapping the log-record factory; it is
idempotent and keeps any factory installed before it. Names and free text cannot be
recognised by a pattern: those stay out of log calls in the first place.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from application.privacy import mask_text

#: Email addresses, 18-character resident ID numbers (17 digits and a digit or X) and
#: mainland mobile numbers, each standing alone (not inside a longer run of digits).
PERSONAL = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])"
    r"|(?<!\d)1[3-9]\d{9}(?!\d)"
)


def redact(text: str) -> str:
    """``text`` with every phone number, email address and ID number masked."""
    return PERSONAL.sub(lambda found: mask_text(found.group(0)), text)


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a record (and lets every record through)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "kehu_redacted", False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: logging reports it itself
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.kehu_redacted = True
        return True


_installed: list[PersonalDataFilter] = []


def install() -> None:
    """Mask personal data in every log record this process creates (once)."""
    if _installed:
        return
    redacting = PersonalDataFilter()
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redacting.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed.append(redacting)
