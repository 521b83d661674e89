"""Input guards every aggregate module shares, raising that module's own error.

Each aggregate refuses bad input with its own ``Invalid…Field`` error, so its ``code`` says
which context refused it. The rules themselves are the same everywhere and live here once; a
module binds them to its error::

    _check = Guards(InvalidContractField)
    text = _check.text
    whole = _check.whole

and its command methods call ``text(...)``, ``whole(...)`` as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final, TypeVar

from domain.base import DomainError, aware, clean_text
from domain.base import choose as base_choose
from domain.values import Money

E = TypeVar("E", bound=StrEnum)

_KEY_RE: Final = re.compile(r"[A-Za-z0-9._:/-]{1,64}")


@dataclass(frozen=True)
class Guards:
    """The shared input guards, refusing with ``error`` (a module's ``Invalid…Field``)."""

    error: type[DomainError]

    def choose(self, enum: type[E], value: str, field: str) -> E:
        """An enumerated value, or an error that lists the allowed ones."""
        return base_choose(enum, value, field, self.error)

    def text(self, field: str, value: object, *, max_length: int) -> str:
        """Required free text, white space folded, at most ``max_length`` characters."""
        return clean_text(field, value, max_length=max_length, error=self.error)

    def optional_text(self, field: str, value: object, *, max_length: int) -> str | None:
        """Optional free text: ``None`` when absent or only white space."""
        cleaned = clean_text(field, value, max_length=max_length, error=self.error, required=False)
        return cleaned or None

    def key(self, field: str, value: object) -> str:
        """An identifier chosen by the caller (staff id, order number, …): 1–64 letters,
        digits and ``. _ : / -``, surrounding white space dropped."""
        if not isinstance(value, str) or not _KEY_RE.fullmatch(value.strip()):
            raise self.error(
                f"{field} must be 1–64 letters, digits or . _ : / -, not {value!r}", field=field
            )
        return value.strip()

    def reference(self, field: str, value: object) -> str:
        """An id or reference given by the caller (order, invoice or plan id): 1–64
        printable characters without spaces."""
        cleaned = self.text(field, value, max_length=64)
        if " " in cleaned:
            raise self.error(f"{field} must not contain spaces", field=field)
        return cleaned

    def whole(self, field: str, value: object, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high`` inclusive (a bool or a float is refused)."""
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(
                f"{field} must be a whole number from {low} to {high}, not {value!r}", field=field
            )
        return value

    def calendar_day(self, field: str, value: object) -> date:
        """A calendar day: a :class:`date`, and not a :class:`datetime`."""
        if not isinstance(value, date) or isinstance(value, datetime):
            raise self.error(f"{field} must be a calendar date, not {value!r}", field=field)
        return value

    def instant(self, field: str, value: object) -> datetime:
        """A business time: an aware :class:`datetime` (a naive one is refused by
        :func:`domain.base.aware`, as ``validation.invalid_value``)."""
        if not isinstance(value, datetime):
            raise self.error(f"{field} must be a date and time, not {value!r}", field=field)
        return aware(field, value)

    def money(self, field: str, value: object, *, positive: bool = False) -> Money:
        """Money, never negative; strictly positive when ``positive``."""
        if not isinstance(value, Money):
            raise self.error(
                f"{field} must be money with a currency (Money), not {value!r}", field=field
            )
        if value.is_negative() or (positive and value.is_zero()):
            bound = "more than zero" if positive else "zero or more"
            raise self.error(f"{field} must be {bound}, not {value}", field=field)
        return value
