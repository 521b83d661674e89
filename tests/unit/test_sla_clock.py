"""SLA clocks derived from status facts, under the default policy."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.base import InvalidValueError
from domain.calendar import default_calendar
from domain.sla import ClockEvent, default_policy, evaluate

SH = ZoneInfo("Asia/Shanghai")
CAL = default_calendar()
POLICY = default_policy()


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


def clock(
    *facts: tuple[str, datetime],
    received: datetime | None = None,
    as_of: datetime,
    priority: str = "high",
    tier: str | None = None,
):  # type: ignore[no-untyped-def]
    return evaluate(
        CAL,
        POLICY,
        received or at(2025, 9, 30, 17, 0),
        priority,
        [ClockEvent(kind, moment) for kind, moment in facts],
        as_of,
        tier=tier,
    )


def test_a_high_complaint_received_before_national_day_is_due_after_it() -> None:
    """Received Tue 2025-09-30 17:00. Response, 4 business hours: 17:00–18:00 that day (1),
    10-01..10-08 are holidays, then 10-09 09:00–12:00 (3) → 10-09 12:00. Resolution, 3 days
    of 8 hours = 24: 1 + 10-09 (8) + 10-10 (8) + Sat 10-11, a worked day, 09:00–12:00 and
    13:00–17:00 (7) → 10-11 17:00."""
    status = clock(as_of=at(2025, 9, 30, 17, 30))
    assert status.response_due_at == at(2025, 10, 9, 12, 0)
    assert status.resolution_due_at == at(2025, 10, 11, 17, 0)
    assert status.response_hours == Decimal("0.5")
    assert not status.breached
    assert status.remaining == Decimal("3.5")


@pytest.mark.parametrize(
    ("priority", "response_due", "resolution_due"),
    [
        # Received Mon 2025-11-24 09:00.
        ("critical", at(2025, 11, 24, 11, 0), at(2025, 11, 24, 18, 0)),
        ("medium", at(2025, 11, 24, 18, 0), at(2025, 11, 28, 18, 0)),
        ("low", at(2025, 11, 25, 18, 0), at(2025, 12, 5, 18, 0)),
    ],
)
def test_targets_per_priority(
    priority: str, response_due: datetime, resolution_due: datetime
) -> None:
    status = clock(received=at(2025, 11, 24, 9, 0), as_of=at(2025, 11, 24, 9, 0), priority=priority)
    assert status.response_due_at == response_due
    assert status.resolution_due_at == resolution_due


def test_a_vip_tier_halves_the_targets() -> None:
    status = clock(received=at(2025, 11, 24, 9, 0), as_of=at(2025, 11, 24, 9, 0), tier="gold")
    assert status.response_due_at == at(2025, 11, 24, 11, 0)
    assert status.resolution_due_at == at(2025, 11, 25, 14, 0)


def test_waiting_on_the_customer_pushes_both_deadlines_back() -> None:
    """Paused 10-09 10:00 → 10-10 10:00: 8 business hours stopped."""
    status = clock(
        ("paused", at(2025, 10, 9, 10, 0)),
        ("resumed", at(2025, 10, 10, 10, 0)),
        as_of=at(2025, 10, 10, 11, 0),
    )
    assert status.response_due_at == at(2025, 10, 10, 12, 0)
    assert status.resolution_due_at == at(2025, 10, 13, 17, 0)
    assert status.response_hours == Decimal(3)  # 1 + 1 before the pause, 1 after
    assert not status.paused


def test_an_ongoing_pause_stops_the_clock() -> None:
    status = clock(("paused", at(2025, 10, 9, 10, 0)), as_of=at(2025, 10, 20, 9, 0))
    assert status.paused
    assert status.response_hours == Decimal(2)
    assert not status.response_breached


def test_a_late_response_is_a_breach_with_its_lateness() -> None:
    status = clock(("responded", at(2025, 10, 9, 15, 30)), as_of=at(2025, 10, 9, 16, 0))
    assert status.response_breached
    assert status.response_late_by == Decimal("2.5")  # due 12:00, 13:00–15:30 late
    assert not status.resolution_breached


def test_an_unanswered_item_breaches_as_time_passes() -> None:
    before = clock(as_of=at(2025, 10, 9, 11, 59))
    after = clock(as_of=at(2025, 10, 9, 14, 0))
    assert not before.response_breached
    assert after.response_breached
    assert after.response_late_by == Decimal(1)


def test_resolving_counts_as_the_first_response() -> None:
    status = clock(("resolved", at(2025, 10, 9, 11, 0)), as_of=at(2025, 10, 20, 9, 0))
    assert status.responded_at == at(2025, 10, 9, 11, 0)
    assert status.resolved_at == at(2025, 10, 9, 11, 0)
    assert status.resolution_hours == Decimal(3)
    assert not status.breached
    assert status.remaining is None


def test_reopening_resumes_the_resolution_clock_where_it_stopped() -> None:
    status = clock(
        ("responded", at(2025, 10, 9, 9, 30)),
        ("resolved", at(2025, 10, 9, 11, 0)),  # 3 hours used
        ("reopened", at(2025, 10, 13, 9, 0)),  # the resolved days do not count
        as_of=at(2025, 10, 13, 10, 0),
    )
    assert status.resolved_at is None
    assert status.resolution_hours == Decimal(4)
    # 21 hours left from 10-13 09:00: 10-13 (8), 10-14 (8), 10-15 09:00–12:00 and 13:00–15:00
    assert status.resolution_due_at == at(2025, 10, 15, 15, 0)


def test_the_clock_as_of_a_past_moment_ignores_later_facts() -> None:
    facts = (("responded", at(2025, 10, 9, 15, 0)),)
    then = clock(*facts, as_of=at(2025, 10, 9, 10, 0))
    assert then.responded_at is None
    assert not then.response_breached


def test_an_unknown_priority_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        clock(as_of=at(2025, 10, 9, 10, 0), priority="urgent")


def test_an_unknown_clock_fact_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        ClockEvent("escalated", at(2025, 10, 9, 10, 0))


def test_a_pause_after_the_response_does_not_move_the_response_deadline() -> None:
    status = clock(
        ("responded", at(2025, 10, 9, 9, 30)),
        ("paused", at(2025, 10, 9, 10, 0)),
        ("resumed", at(2025, 10, 10, 10, 0)),
        as_of=at(2025, 10, 10, 11, 0),
    )
    assert status.response_due_at == at(2025, 10, 9, 12, 0)
    assert status.resolution_due_at == at(2025, 10, 13, 17, 0)


def test_a_policy_from_configuration_sets_the_targets() -> None:
    from domain.sla import policy_from_dict

    policy = policy_from_dict(
        {
            "name": "ours",
            "version": "2026.1",
            "response_hours": {"high": "1", "low": "8"},
            "resolution_days": {"high": "1", "low": "2"},
            "tier_overrides": {
                "gold": {"high": {"response_hours": "0.5", "resolution_hours": "4"}}
            },
        }
    )
    assert policy.targets("high").resolution_hours == Decimal(8)
    assert policy.targets("high", "gold").response_hours == Decimal("0.5")
    status = evaluate(CAL, policy, at(2025, 11, 24, 9, 0), "high", [], at(2025, 11, 24, 9, 0))
    assert status.response_due_at == at(2025, 11, 24, 10, 0)
    with pytest.raises(InvalidValueError):
        policy_from_dict(
            {"name": "bad", "version": "1", "response_hours": {"high": "1"}, "resolution_days": {}}
        )
    with pytest.raises(InvalidValueError):
        policy_from_dict(
            {
                "name": "bad",
                "version": "1",
                "response_hours": {"high": "x"},
                "resolution_days": {"high": "1"},
            }
        )
