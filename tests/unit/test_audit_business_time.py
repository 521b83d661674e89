"""The audit trail's business-time rule (projections.audit.business_time), without a
database: which of an event's fields says when the fact happened."""

from __future__ import annotations

import importlib
import pkgutil
import typing
from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

import domain
from application.store import INTERNAL
from domain.base import KehuAggregate
from projections.audit import BOOKKEEPING, DAY_FIELDS, MOMENT_FIELDS, business_time

SH = ZoneInfo("Asia/Shanghai")

#: Fields that name a deadline or a validity, never when the fact happened.
DEADLINES = frozenset(
    {
        "due_at",
        "due_on",
        "due_date",
        "review_due_on",
        "next_review_due",
        "review_on",
        "rectification_due_on",
        "hand_over_due_on",
        "expires_on",
        "valid_until",
        "notify_by",
    }
)


def test_an_instant_field_is_the_business_time_in_utc() -> None:
    event = SimpleNamespace(received_at=datetime(2025, 10, 9, 14, 0, tzinfo=SH))
    assert business_time(event) == datetime(2025, 10, 9, 6, 0, tzinfo=UTC)


def test_at_is_preferred_to_the_other_instant_fields() -> None:
    event = SimpleNamespace(
        detected_at=datetime(2025, 10, 9, 14, 0, tzinfo=SH),
        at=datetime(2025, 10, 8, 9, 0, tzinfo=SH),
    )
    assert business_time(event) == datetime(2025, 10, 8, 1, 0, tzinfo=UTC)


def test_a_day_field_is_that_days_midnight_in_shanghai() -> None:
    event = SimpleNamespace(paid_on=date(2025, 10, 9))
    assert business_time(event) == datetime(2025, 10, 8, 16, 0, tzinfo=UTC)


def test_an_instant_field_wins_over_a_day_field() -> None:
    event = SimpleNamespace(
        occurred_on=date(2025, 1, 1), at=datetime(2025, 10, 9, 8, 0, tzinfo=UTC)
    )
    assert business_time(event) == datetime(2025, 10, 9, 8, 0, tzinfo=UTC)


def test_deadlines_and_the_recorded_timestamp_are_not_business_times() -> None:
    event = SimpleNamespace(
        due_on=date(2025, 10, 9),
        due_at=datetime(2025, 10, 9, 12, 0, tzinfo=SH),
        timestamp=datetime(2025, 10, 9, 12, 0, tzinfo=UTC),
    )
    assert business_time(event) is None


def test_the_bookkeeping_aggregates_are_the_stores_internal_ones() -> None:
    assert BOOKKEEPING == INTERNAL


def _event_classes() -> list[type]:
    found: list[type] = []
    for module_info in pkgutil.iter_modules(domain.__path__):
        if module_info.ispkg:
            continue
        module = importlib.import_module(f"domain.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, KehuAggregate)
                and value.__module__ == module.__name__
            ):
                found.extend(
                    member
                    for member in vars(value).values()
                    if isinstance(member, type) and issubclass(member, Aggregate.Event)
                )
    return found


def _is_time(hint: object) -> bool:
    if hint in (datetime, date):
        return True
    return any(arg in (datetime, date) for arg in typing.get_args(hint))


def test_every_domain_event_that_says_when_it_happened_has_a_business_time() -> None:
    """A new event with a time of its own must use (or add) a field name of the rule."""
    named = set(MOMENT_FIELDS) | set(DAY_FIELDS)
    missing = []
    classes = _event_classes()
    assert len(classes) > 50
    for event_class in classes:
        hints = typing.get_type_hints(event_class)
        times = {
            name
            for name, hint in hints.items()
            if name != "timestamp" and name not in DEADLINES and _is_time(hint)
        }
        if times and not times & named:
            missing.append(f"{event_class.__qualname__}: {sorted(times)}")
    assert not missing, missing
