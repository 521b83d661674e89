"""Disclosure 个人信息查阅记录 — one unmasked read of personal data: who looked at whom,
through which query, at which fields, and when.

PIPL asks that access to personal information be controlled and auditable; kehu masks
personal data for roles that may not see it, and records every answer that showed it
unmasked as a disclosure. Who looked is the event's audit envelope (actor and role), like
every other event; the disclosure itself names:

- ``subjects`` — the data subjects whose personal data the answer showed: customer ids, or
  for a training's trainees the staff ids as given (sorted, each once);
- ``via`` — the query: ``GET /api/v1/customers/{customer_id}``, ``graphql customers``, …;
- ``fields`` — the personal fields shown (sorted, each once), e.g. ``Customer.phone``;
- ``at`` — when it was shown (the recorded time, UTC).

A disclosure is a one-event aggregate whose id the application gives (derived from the
request's command id), so the domain draws no random numbers. It never changes: a record
of a read is a fact.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.base import DomainError, KehuAggregate, aware, clean_text

#: The most subjects one disclosure names (a page of at most 1,000 events or rows).
MAX_SUBJECTS: Final = 5000
#: The most fields one disclosure names.
MAX_FIELDS: Final = 200


class InvalidDisclosure(DomainError):
    code = "disclosure.invalid_field"
    kind = "invalid"


def _names(what: str, values: Iterable[str], *, most: int) -> list[str]:
    """Sorted, each once, none empty; at least one and at most ``most``."""
    names = sorted(
        {clean_text(what, value, max_length=200, error=InvalidDisclosure) for value in values}
    )
    if not names:
        raise InvalidDisclosure(f"a disclosure names at least one of its {what}", field=what)
    if len(names) > most:
        raise InvalidDisclosure(
            f"a disclosure names at most {most} {what}, not {len(names)}", field=what
        )
    return names


class Disclosure(KehuAggregate):
    """个人信息查阅记录: one answer that showed personal data unmasked."""

    class Recorded(Aggregate.Created):
        """查阅已记录."""

        subjects: list[str]
        via: str
        fields: list[str]
        at: datetime

    @classmethod
    def record(
        cls,
        *,
        new_id: UUID,
        subjects: Iterable[str],
        via: str,
        fields: Iterable[str],
        at: datetime,
    ) -> Disclosure:
        """Record that an answer via ``via`` showed ``fields`` of ``subjects`` at ``at``."""
        if not isinstance(new_id, UUID):
            raise InvalidDisclosure("a disclosure needs an id", field="new_id")
        return cls(
            id=new_id,
            subjects=_names("subjects", subjects, most=MAX_SUBJECTS),
            via=clean_text("via", via, max_length=200, error=InvalidDisclosure),
            fields=_names("fields", fields, most=MAX_FIELDS),
            at=aware("at", at),
        )

    @event(Recorded)
    def __init__(
        self, id: UUID, subjects: list[str], via: str, fields: list[str], at: datetime
    ) -> None:
        self.subjects = list(subjects)
        self.via = via
        self.fields = list(fields)
        self.at = at
