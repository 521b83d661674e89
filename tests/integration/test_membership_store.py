"""VIP membership on both stores, through the services and the scheduler: a customer
qualifies by spend and applies before National Day; the notification deadline is the one a
person counts on the State Council calendar; a late notification shows as overdue; points
are earned by the tier's rule and expire; a quiet year downgrades the tier one step; repeated
complaints flag the customer at risk with a prevention task — each fact recorded once, by the
system actor. Refusals change nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application.context import Principal, Role
from application.errors import Forbidden
from domain.base import DomainError
from interfaces.bootstrap import System
from tests.support import Clock, as_, at

CLERK = Principal(id="user:info", role=Role.INFORMATION)
SALES = Principal(id="user:li", role=Role.RELATIONSHIP, name="李娜")
MANAGER = Principal(id="user:chen", role=Role.MANAGER, name="陈经理")
MARKETING = Principal(id="user:ma", role=Role.MARKETING)
COMPLAINTS = Principal(id="user:ts", role=Role.COMPLAINTS)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(2025, 9, 26, 10, 0))


def gold_customer(kehu: System) -> UUID:
    """Ten purchases of 25,000.00 in two categories in 2025: 250,000.00, gold's spend."""
    customer = kehu.customers.register(
        as_(CLERK),
        kind="enterprise",
        name="杭州云杉贸易有限公司",
        uscc="91330106MA2H3UWK08",
        email="finance@yunshan.example.cn",
        registered_on=date(2025, 1, 2),
    ).id
    for n in range(10):
        kehu.customers.record_purchase(
            as_(CLERK),
            customer,
            order_ref=f"SO-{n}",
            amount="25000.00",
            category="工业设备" if n % 2 else "维保服务",
            occurred_on=date(2025, 1 + n // 2, 10 + n),
        )
    return customer


def system_events(kehu: System, customer: UUID, kind: str) -> list[Any]:
    return [
        e
        for e in kehu.store.history(customer, limit=10_000)
        if e.type == f"Customer.{kind}" and e.envelope is not None
    ]


def test_gold_from_application_to_a_quiet_year_with_points_and_the_calendar(
    kehu: System, clock: Clock
) -> None:
    customer = gold_customer(kehu)
    # Applied on Friday 2025-09-26 10:00, before National Day: the 7th working day after
    # counts 09-28 (Sun, worked), 09-29, 09-30, 10-09, 10-10, 10-11 (Sat, worked), 10-13.
    applied = kehu.membership.apply_for_vip(
        as_(SALES), customer, requested_tier="gold", application_id="A1"
    )
    [application] = system_events(kehu, customer, "VipApplied")
    assert application.position == applied.position
    assert application.payload["notify_by"] == at(2025, 10, 13, 18, 0)
    assert application.payload["basis"]["spend_12m"].amount == Decimal("250000.00")

    kehu.membership.start_vip_review(
        as_(MANAGER), customer, application_id="A1", at=at(2025, 10, 9, 9, 0)
    )
    kehu.membership.grant_vip(
        as_(MANAGER),
        customer,
        application_id="A1",
        tier="gold",
        reasons=["近12个月消费额25万元，符合金卡标准"],
        at=at(2025, 10, 10, 9, 0),
    )
    kehu.catch_up()
    [pending] = kehu.membership_queries.vip_applications(overdue_on=at(2025, 10, 14, 9, 0))[0]
    assert pending.application_id == "A1"
    # Notified a day late: recorded as late, and the view shows it.
    kehu.membership.notify_vip_decision(
        as_(SALES), customer, application_id="A1", channel="sms", at=at(2025, 10, 14, 10, 0)
    )
    [notified] = system_events(kehu, customer, "VipDecisionNotified")
    assert notified.payload["late"] is True

    # A purchase as gold earns 1.5 points per yuan; the tier gives priority service.
    clock.now = at(2025, 10, 20, 10, 0)
    kehu.customers.record_purchase(
        as_(CLERK),
        customer,
        order_ref="SO-GOLD",
        amount="10000.00",
        category="维保服务",
        occurred_on=date(2025, 10, 20),
    )
    [earned] = system_events(kehu, customer, "PointsEarned")
    assert earned.payload["points"] == 15000
    assert earned.payload["expires_on"] == date(2027, 10, 20)
    complaint = kehu.complaints.lodge(
        as_(COMPLAINTS),
        customer_id=customer,
        channel="phone",
        category="delivery",
        severity="high",
        description="到货延迟",
        received_at=at(2025, 10, 21, 10, 0),
    )
    assert kehu.store.history(complaint.id)[0].payload["vip_tier"] == "gold"
    kehu.membership.redeem_points(
        as_(MARKETING), customer, points=5000, purpose="兑换礼品", at=at(2025, 11, 1, 10, 0)
    )
    before = kehu.store.max_position()
    with pytest.raises(DomainError) as short:
        kehu.membership.redeem_points(
            as_(MARKETING), customer, points=10001, purpose="超额", at=at(2025, 11, 2, 10, 0)
        )
    assert short.value.code == "customer.insufficient_points"
    assert kehu.store.max_position() == before

    # A quiet year: the term ends 2026-10-09 on only 10,000.00 of spend; the scheduler
    # downgrades one step (gold → silver) once, as the system actor.
    clock.now = at(2026, 10, 12, 8, 0)
    kehu.catch_up()
    kehu.scheduler.run_once()
    kehu.catch_up()
    assert kehu.scheduler.run_once()["membership"] == 0
    [moved] = system_events(kehu, customer, "TierChanged")
    assert (moved.payload["from_tier"], moved.payload["to_tier"]) == ("gold", "silver")
    assert moved.payload["movement"] == "downgraded"
    assert moved.envelope.actor_role == "system"

    # The points expire after their last usable day, once.
    clock.now = at(2027, 10, 22, 8, 0)
    kehu.catch_up()
    kehu.scheduler.run_once()
    kehu.catch_up()
    kehu.scheduler.run_once()
    [expired] = system_events(kehu, customer, "PointsExpired")
    assert expired.payload["points"] == 10000
    assert expired.envelope.actor_role == "system"
    member = kehu.membership_queries.get(customer)
    assert member is not None
    assert member.points_balance == 0


def test_repeated_complaints_flag_the_customer_at_risk_once(kehu: System, clock: Clock) -> None:
    customer = gold_customer(kehu)
    clock.now = at(2025, 7, 1, 9, 0)
    for day in (2, 9, 16):
        kehu.complaints.lodge(
            as_(COMPLAINTS),
            customer_id=customer,
            channel="phone",
            category="product_quality",
            severity="medium",
            description="设备故障",
            received_at=at(2025, 7, day, 10, 0),
        )
    clock.now = at(2025, 7, 20, 8, 0)
    kehu.catch_up()
    kehu.scheduler.run_once()
    kehu.catch_up()
    kehu.scheduler.run_once()
    [marked] = system_events(kehu, customer, "MarkedAtRisk")
    [task] = system_events(kehu, customer, "PreventionTaskRaised")
    assert marked.envelope.actor_role == "system"
    assert any("complaint" in reason for reason in task.payload["reasons"])
    state = kehu.membership.load(SALES, customer)
    assert state.status == "at_risk"


def test_vip_refusals_are_stable_and_record_nothing(kehu: System) -> None:
    customer = gold_customer(kehu)
    before = kehu.store.max_position()
    with pytest.raises(DomainError) as unknown:
        kehu.membership.apply_for_vip(as_(SALES), customer, requested_tier="diamond")
    assert unknown.value.code == "customer.unknown_tier"
    kehu.membership.apply_for_vip(
        as_(SALES), customer, requested_tier="platinum", application_id="P"
    )
    kehu.membership.start_vip_review(as_(MANAGER), customer, application_id="P")
    before = kehu.store.max_position()
    with pytest.raises(DomainError) as unqualified:
        kehu.membership.grant_vip(
            as_(MANAGER), customer, application_id="P", tier="platinum", reasons=["破格"]
        )
    assert unqualified.value.code == "customer.vip_not_qualified"
    with pytest.raises(Forbidden):  # a decision is a person's: not the front desk's
        kehu.membership.reject_vip(as_(CLERK), customer, application_id="P", reasons=["x"])
    with pytest.raises(Forbidden):  # and the calendar's facts are the scheduler's
        kehu.membership.evaluate_tier(as_(MANAGER), customer)
    assert kehu.store.max_position() == before
