"""The SLA engine: targets per priority and VIP tier, and clocks derived from status facts.

Business hours are 09:00–12:00 and 13:00–18:00 on mainland-China working days; every
expected moment is worked out by hand in the comments and written out literally."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import NaiveDatetime, YearNotCovered, default_calendar
from domain.sla import (
    ClockEvent,
    InvalidPolicy,
    SlaPolicy,
    SlaStatus,
    Targets,
    UnknownClockEvent,
    UnknownPriority,
    default_policy,
    evaluate,
    policy_from_dict,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = default_calendar()
POLICY = default_policy()


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def clock(
    *facts: tuple[str, datetime],
    received: datetime,
    as_of: datetime,
    priority: str = "high",
    tier: str | None = None,
    policy: SlaPolicy = POLICY,
) -> SlaStatus:
    return evaluate(
        CAL,
        policy,
        received,
        priority,
        [ClockEvent(kind, moment) for kind, moment in facts],
        as_of,
        tier=tier,
    )


# ---------------------------------------------------------------------- the policy


def test_the_default_policy_targets() -> None:
    assert POLICY.business_hours == ((time(9), time(12)), (time(13), time(18)))
    assert POLICY.hours_per_day == 8
    expected = {
        "critical": Targets(Decimal(2), Decimal(8)),
        "high": Targets(Decimal(4), Decimal(24)),
        "medium": Targets(Decimal(8), Decimal(40)),
        "low": Targets(Decimal(16), Decimal(80)),
    }
    assert {p: POLICY.targets(p) for p in POLICY.priorities} == expected


def test_a_vip_tier_gets_tighter_targets_and_an_unknown_tier_the_base_ones() -> None:
    assert POLICY.targets("high", "gold") == Targets(Decimal(2), Decimal(12))
    assert POLICY.targets("high", "bronze") == Targets(Decimal(4), Decimal(24))


def test_an_unknown_priority_is_refused() -> None:
    with pytest.raises(UnknownPriority) as refused:
        POLICY.targets("urgent")
    assert refused.value.code == "sla.unknown_priority"


def test_a_tier_with_looser_targets_is_refused() -> None:
    with pytest.raises(InvalidPolicy) as refused:
        SlaPolicy(
            name="loose",
            version="1",
            response_hours={"high": Decimal(4)},
            resolution_days={"high": Decimal(3)},
            tier_overrides={"gold": {"high": Targets(Decimal(8), Decimal(24))}},
        )
    assert refused.value.code == "sla.invalid_policy"


def test_a_policy_from_configuration() -> None:
    policy = policy_from_dict(
        {
            "name": "ours",
            "version": "2026.1",
            "response_hours": {"high": "1", "low": "8"},
            "resolution_days": {"high": "2", "low": "5"},
            "hours_per_day": "7.5",
            "business_hours": [["08:30", "12:00"], ["13:00", "17:00"]],
            "tier_overrides": {"gold": {"high": {"response_hours": "0.5", "resolution_days": "1"}}},
        }
    )
    assert policy.targets("high") == Targets(Decimal(1), Decimal(15))
    assert policy.targets("high", "gold") == Targets(Decimal("0.5"), Decimal("7.5"))
    assert policy.targets("low", "gold") == Targets(Decimal(8), Decimal("37.5"))
    # Received Mon 2025-11-24 16:30: 16:30–17:00, then Tue 08:30–09:00 (the policy's hours).
    status = clock(received=at(2025, 11, 24, 16, 30), as_of=at(2025, 11, 24, 16, 30), policy=policy)
    assert status.response_due_at == at(2025, 11, 25, 9, 0)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x", "version": "1", "response_hours": {"high": "1"}, "resolution_days": {}},
        {
            "name": "x",
            "version": "1",
            "response_hours": {"high": "x"},
            "resolution_days": {"high": "1"},
        },
        {
            "name": "x",
            "version": "1",
            "response_hours": {"high": "0"},
            "resolution_days": {"high": "1"},
        },
        {"name": "x", "response_hours": {"high": "1"}, "resolution_days": {"high": "1"}},
        {
            "name": "x",
            "version": "1",
            "response_hours": {"high": "1"},
            "resolution_days": {"high": "1"},
            "business_hours": [["18:00", "09:00"]],
        },
        {
            "name": "x",
            "version": "1",
            "response_hours": {"high": "1"},
            "resolution_days": {"high": "1"},
            "tier_overrides": {"gold": {"urgent": {"response_hours": "1"}}},
        },
    ],
)
def test_a_malformed_policy_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(InvalidPolicy) as refused:
        policy_from_dict(data)
    assert refused.value.code == "sla.invalid_policy"


# ------------------------------------------------------------------------ deadlines


def test_a_high_item_received_before_national_day_is_due_after_it() -> None:
    """Received Tue 2025-09-30 17:00 +08:00, priority high: 4 business hours to respond,
    3 business days of 8 hours (24 business hours) to resolve.

    Response: 17:00–18:00 on 09-30 is 1 hour; 10-01..10-08 are the National Day and
    Mid-Autumn holiday (国庆节、中秋节); 10-09 (Thu) 09:00–12:00 gives the other 3 → due
    2025-10-09 12:00 (the close of the morning window, not 13:00).

    Resolution: 1 hour on 09-30, 8 on Thu 10-09 and 8 on Fri 10-10 make 17; Saturday 10-11
    is an adjusted working day (调休上班): 09:00–12:00 (3) and 13:00–17:00 (4) make 24 → due
    2025-10-11 17:00."""
    status = clock(received=at(2025, 9, 30, 17, 0), as_of=at(2025, 9, 30, 17, 30))
    assert status.response_due_at == at(2025, 10, 9, 12, 0)
    assert status.resolution_due_at == at(2025, 10, 11, 17, 0)
    assert status.response_hours == Decimal("0.5")
    assert status.business_hours_elapsed == Decimal("0.5")
    assert status.remaining == Decimal("3.5")
    assert status.next_due_at == at(2025, 10, 9, 12, 0)
    assert not status.breached
    assert status.policy == "default 2025.1"
    assert status.calendar == "cn-2019-2026@2025-11-04"


@pytest.mark.parametrize(
    ("priority", "response_due", "resolution_due"),
    [
        # Received Mon 2025-11-24 09:00, an ordinary week.
        ("critical", at(2025, 11, 24, 11, 0), at(2025, 11, 24, 18, 0)),
        ("high", at(2025, 11, 24, 14, 0), at(2025, 11, 26, 18, 0)),
        ("medium", at(2025, 11, 24, 18, 0), at(2025, 11, 28, 18, 0)),
        ("low", at(2025, 11, 25, 18, 0), at(2025, 12, 5, 18, 0)),
    ],
)
def test_deadlines_per_priority(
    priority: str, response_due: datetime, resolution_due: datetime
) -> None:
    status = clock(received=at(2025, 11, 24, 9, 0), as_of=at(2025, 11, 24, 9, 0), priority=priority)
    assert status.response_due_at == response_due
    assert status.resolution_due_at == resolution_due


def test_a_gold_customer_is_due_in_half_the_time() -> None:
    # 2 hours → 11:00; 12 hours: Mon 8, Tue 09:00–12:00 and 13:00–14:00.
    status = clock(received=at(2025, 11, 24, 9, 0), as_of=at(2025, 11, 24, 9, 0), tier="gold")
    assert status.response_due_at == at(2025, 11, 24, 11, 0)
    assert status.resolution_due_at == at(2025, 11, 25, 14, 0)


def test_an_item_received_over_a_holiday_starts_at_the_next_opening() -> None:
    # Received Thu 2025-05-01 (劳动节) 10:00: the clock starts Tue 05-06 09:00.
    status = clock(received=at(2025, 5, 1, 10, 0), as_of=at(2025, 5, 3, 12, 0))
    assert status.response_due_at == at(2025, 5, 6, 14, 0)  # 09–12 (3) and 13–14 (1)
    assert status.response_hours == 0


def test_received_in_another_timezone_and_answered_in_shanghai() -> None:
    received = datetime(2025, 11, 24, 1, 0, tzinfo=UTC)  # Mon 09:00 in Shanghai
    status = clock(received=received, as_of=received, priority="critical")
    assert status.response_due_at == at(2025, 11, 24, 11, 0)
    assert status.response_due_at.tzinfo == SH


# -------------------------------------------------------------- waiting on the customer


def test_pausing_across_the_national_day_holiday_pushes_both_deadlines_back() -> None:
    """Received Mon 2025-09-29 16:00, high. Without a pause: response due 09-30 11:00.

    Paused 09-30 10:00 (3 business hours used: 16–18 and 09–10), resumed Thu 10-09 10:00.
    The pause spans 09-30 10:00–18:00 (7 business hours) and 10-09 09:00–10:00 (1); the
    holiday in between is not business time anyway. Response: 1 hour left from 10-09 10:00
    → 11:00. Resolution: 21 left: 10-09 10–12, 13–18 (7), Fri 10-10 (8), Sat 10-11 worked
    09–12, 13–16 (6) → 2025-10-11 16:00."""
    facts = (("paused", at(2025, 9, 30, 10, 0)), ("resumed", at(2025, 10, 9, 10, 0)))
    status = clock(*facts, received=at(2025, 9, 29, 16, 0), as_of=at(2025, 10, 9, 10, 30))
    assert status.response_due_at == at(2025, 10, 9, 11, 0)
    assert status.resolution_due_at == at(2025, 10, 11, 16, 0)
    assert status.response_hours == Decimal("3.5")
    assert status.remaining == Decimal("0.5")
    assert not status.paused


def test_an_ongoing_pause_stops_the_clock_and_deadlines_count_from_now() -> None:
    # Same item, seen on 10-05 (a holiday) while still paused: 3 hours used, 1 left,
    # counted as if the clock restarted now → Thu 10-09 09:00–10:00.
    status = clock(
        ("paused", at(2025, 9, 30, 10, 0)),
        received=at(2025, 9, 29, 16, 0),
        as_of=at(2025, 10, 5, 12, 0),
    )
    assert status.paused
    assert status.response_hours == 3
    assert status.response_due_at == at(2025, 10, 9, 10, 0)
    assert not status.response_breached


def test_a_pause_after_the_response_moves_only_the_resolution_deadline() -> None:
    # Received 09-30 17:00; responded 10-09 09:30; paused 10-09 10:00 → 10-10 10:00
    # (10–12, 13–18 and 09–10: 8 business hours). Resolution 10-11 17:00 + 8 hours:
    # 17–18 on Sat 10-11, then Mon 10-13 09–12, 13–17 → 10-13 17:00.
    status = clock(
        ("responded", at(2025, 10, 9, 9, 30)),
        ("paused", at(2025, 10, 9, 10, 0)),
        ("resumed", at(2025, 10, 10, 10, 0)),
        received=at(2025, 9, 30, 17, 0),
        as_of=at(2025, 10, 10, 11, 0),
    )
    assert status.response_due_at == at(2025, 10, 9, 12, 0)
    assert status.resolution_due_at == at(2025, 10, 13, 17, 0)
    assert status.resolution_hours == Decimal(3)  # 1 + 1 before the pause, 1 after


# -------------------------------------------------------------------- resolution


def test_reopening_resumes_the_resolution_clock_where_it_stopped() -> None:
    """Received Mon 2025-11-24 09:00, high (24 hours). Resolved Tue 11-25 11:00 after 10
    business hours (8 + 2); reopened Thu 11-27 09:00 — Tue 11:00 to Thu 09:00 does not
    count. 14 hours left: Thu 8, Fri 11-28 09–12, 13–16 → 11-28 16:00."""
    facts = [
        ("responded", at(2025, 11, 24, 9, 30)),
        ("resolved", at(2025, 11, 25, 11, 0)),
        ("reopened", at(2025, 11, 27, 9, 0)),
    ]
    received = at(2025, 11, 24, 9, 0)

    while_resolved = clock(*facts[:2], received=received, as_of=at(2025, 11, 26, 12, 0))
    assert while_resolved.resolved_at == at(2025, 11, 25, 11, 0)
    assert while_resolved.resolution_hours == 10
    assert while_resolved.resolution_due_at == at(2025, 11, 26, 18, 0)
    assert while_resolved.remaining is None
    assert while_resolved.next_due_at is None

    reopened = clock(*facts, received=received, as_of=at(2025, 11, 27, 10, 0))
    assert reopened.resolved_at is None
    assert reopened.resolution_hours == 11
    assert reopened.resolution_due_at == at(2025, 11, 28, 16, 0)
    assert reopened.remaining == 13

    # Resolved again Fri 11-28 17:00: 10 + 8 + 7 = 25 hours, one late.
    again = clock(
        *facts,
        ("resolved", at(2025, 11, 28, 17, 0)),
        received=received,
        as_of=at(2025, 12, 1, 9, 0),
    )
    assert again.resolved_at == at(2025, 11, 28, 17, 0)
    assert again.resolution_breached
    assert again.resolution_late_by == 1
    assert not again.response_breached


def test_resolving_counts_as_the_first_response_and_ends_a_pause() -> None:
    status = clock(
        ("paused", at(2025, 11, 24, 10, 0)),
        ("resolved", at(2025, 11, 25, 11, 0)),
        received=at(2025, 11, 24, 9, 0),
        as_of=at(2025, 12, 1, 9, 0),
    )
    assert status.responded_at == at(2025, 11, 25, 11, 0)
    assert status.resolved_at == at(2025, 11, 25, 11, 0)
    assert not status.paused
    assert status.resolution_hours == 1  # 09:00–10:00, then paused until resolved


# ----------------------------------------------------------------------- breaches


def test_a_late_response_is_a_breach_by_its_business_hours_of_lateness() -> None:
    # Due 10-09 12:00; answered 15:30 — the lunch hour does not count: 13:00–15:30.
    status = clock(
        ("responded", at(2025, 10, 9, 15, 30)),
        received=at(2025, 9, 30, 17, 0),
        as_of=at(2025, 10, 9, 16, 0),
    )
    assert status.response_breached
    assert status.response_late_by == Decimal("2.5")
    assert not status.resolution_breached
    assert status.resolution_late_by == 0


def test_an_unanswered_item_becomes_late_as_time_passes() -> None:
    received = at(2025, 9, 30, 17, 0)
    assert not clock(received=received, as_of=at(2025, 10, 9, 12, 0)).response_breached
    late = clock(received=received, as_of=at(2025, 10, 10, 10, 0))
    # 1 (09-30) + 8 (10-09) + 1 (10-10) = 10 hours used of 4.
    assert late.response_breached
    assert late.response_late_by == 6
    assert late.remaining == -6


def test_an_unresolved_item_past_its_deadline_reports_how_late() -> None:
    # Resolution due Sat 10-11 17:00; on Mon 10-13 10:00 it has used 1 + 8 + 8 + 8 + 1 = 26.
    status = clock(
        ("responded", at(2025, 10, 9, 11, 0)),
        received=at(2025, 9, 30, 17, 0),
        as_of=at(2025, 10, 13, 10, 0),
    )
    assert status.resolution_breached
    assert status.resolution_late_by == 2
    assert status.remaining == -2
    assert status.breached


# ------------------------------------------------------------------- as of any time


def test_the_clock_as_of_a_past_moment_ignores_later_facts() -> None:
    facts = (("responded", at(2025, 10, 9, 15, 0)),)
    then = clock(*facts, received=at(2025, 9, 30, 17, 0), as_of=at(2025, 10, 9, 10, 0))
    assert then.responded_at is None
    assert not then.response_breached
    assert then.response_hours == 2


def test_facts_are_taken_in_time_order_whatever_order_they_come_in() -> None:
    facts = (
        ("resumed", at(2025, 10, 10, 10, 0)),
        ("paused", at(2025, 10, 9, 10, 0)),
    )
    status = clock(*facts, received=at(2025, 9, 30, 17, 0), as_of=at(2025, 10, 10, 11, 0))
    assert status.response_due_at == at(2025, 10, 10, 12, 0)


def test_unknown_facts_and_naive_times_are_refused() -> None:
    with pytest.raises(UnknownClockEvent) as unknown:
        ClockEvent("escalated", at(2025, 10, 9, 10, 0))
    assert unknown.value.code == "sla.unknown_clock_event"
    with pytest.raises(NaiveDatetime):
        ClockEvent("paused", datetime(2025, 10, 9, 10, 0))
    with pytest.raises(NaiveDatetime):
        clock(received=datetime(2025, 10, 9, 10, 0), as_of=at(2025, 10, 9, 10, 0))
    with pytest.raises(UnknownPriority):
        clock(received=at(2025, 10, 9, 10, 0), as_of=at(2025, 10, 9, 10, 0), priority="urgent")


def test_a_deadline_in_a_year_without_a_notice_is_refused() -> None:
    # Low priority received Wed 2026-12-30: 10 business days reach into 2027.
    with pytest.raises(YearNotCovered):
        clock(received=at(2026, 12, 30, 9, 0), as_of=at(2026, 12, 30, 9, 0), priority="low")
