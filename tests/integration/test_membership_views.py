"""The membership read models on both stores: a VIP application made before the National
Day holiday shows the deadline a person computes from the official calendar, and a late
notification shows as overdue; points earned by tier, redeemed from the lots that expire
first and expired, with the liability an exact decimal; tiers due at the end of their
term and a quiet year's downgrade as a movement; coupons due; the at-risk candidates with
their reasons and an anchor that changes only with the situation; churn causes; the
customer-360 in GraphQL (masked for a role that may not see personal data, bad input
refused); and a rebuild that gives the same rows."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from application.context import CommandContext, Principal, Role
from domain.base import KehuAggregate
from domain.calendar import default_calendar
from domain.complaint import Complaint
from domain.contract import Contract, Party
from domain.customer import Customer
from domain.loyalty import default_policy_book
from domain.service_request import ServiceRequest
from domain.values import Money
from interfaces.bootstrap import System
from interfaces.graphql.common import Context
from projections.membership import MembershipProjection
from tests.unit.test_contract_terms import make_terms

SH = ZoneInfo("Asia/Shanghai")
OPERATOR = Principal(id="test:membership", role=Role.ADMIN)
BOOK = default_policy_book()
POLICY = BOOK.in_force(date(2025, 6, 1))
CALENDAR = default_calendar()
TABLES = (
    "member_view",
    "points_lot",
    "vip_application",
    "tier_movement",
    "coupon",
    "prevention_task",
    "churn",
    "service_application",
    "growth_plan",
    "member_touchpoint",
)


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SH)


def cny(amount: str) -> Money:
    return Money.parse(amount)


def customer_id(n: int) -> UUID:
    return UUID(f"00000000-0000-4000-8000-{n:012d}")


def register(n: int, on: date = date(2025, 1, 2)) -> Customer:
    return Customer.register(
        new_id=customer_id(n),
        kind="individual",
        name=f"测试客户{n}",
        registered_on=on,
        phone=f"138{n:08d}",
    )


def buy(customer: Customer, ref: str, amount: str, on: date, category: str = "办公用品") -> None:
    customer.record_purchase(ref, cny(amount), category, on, BOOK.in_force(on))


def qualify_for_silver(customer: Customer) -> None:
    """Four purchases of 15,000 in 2025: 60,000 in 12 months, silver's threshold met."""
    for i, month in enumerate((3, 5, 7, 9)):
        buy(customer, f"S{customer.id.int % 1000}-{i}", "15000.00", date(2025, month, 3))


def qualify_for_gold(customer: Customer) -> None:
    """Eight purchases of 30,000 in two categories: 240,000, gold's threshold met."""
    for i in range(8):
        category = "工业设备" if i % 2 else "软件服务"
        buy(customer, f"G{customer.id.int % 1000}-{i}", "30000.00", date(2025, 2 + i, 5), category)


def grant(
    customer: Customer, application: str, tier: str, applied: datetime, granted: datetime
) -> None:
    customer.apply_for_vip(application, tier, applied, POLICY, CALENDAR)
    customer.start_vip_review(application, "m001", applied + timedelta(hours=1))
    customer.grant_vip(application, tier, ["消费金额、购买频率达标"], granted, POLICY)


class Views:
    """The membership view of a system, and saving aggregates through its store."""

    def __init__(self, system: System) -> None:
        self.system = system
        [self.projection] = [p for p in system.projections if isinstance(p, MembershipProjection)]
        self.queries = system.membership_queries

    def save(self, *aggregates: KehuAggregate) -> None:
        ctx = CommandContext.for_principal(OPERATOR)
        self.system.store.record_many(ctx, "membership.test", list(aggregates))
        self.system.catch_up()

    def dump(self) -> dict[str, list[tuple[tuple[str, str], ...]]]:
        dumped: dict[str, list[tuple[tuple[str, str], ...]]] = {}
        with self.system.views.transaction(commit=False) as cursor:
            for table in TABLES:
                rows = cursor.execute(f"SELECT * FROM {self.system.views.table(table)}").fetchall()
                dumped[table] = sorted(
                    tuple(sorted((k, str(v)) for k, v in dict(row).items())) for row in rows
                )
        return dumped


@pytest.fixture
def views(system: System) -> Views:
    return Views(system)


def ids(rows: Sequence[Any]) -> list[str]:
    return [row.application_id for row in rows]


# -- VIP applications ------------------------------------------------------------------------


def test_an_application_before_national_day_is_due_on_the_seventh_working_day(
    views: Views,
) -> None:
    # Applied Monday 2025-09-29. Working days after it (国务院办公厅 2025: 10月1日至8日放假,
    # 10月11日 Saturday worked): 9-30, 10-9, 10-10, 10-11, 10-13, 10-14, 10-15.
    customer = register(1)
    qualify_for_silver(customer)
    customer.apply_for_vip("app-1", "silver", at(2025, 9, 29), POLICY, CALENDAR)
    views.save(customer)

    rows, total = views.queries.vip_applications()
    assert total == 1
    application = rows[0]
    assert application.notify_by == datetime(2025, 10, 15, 18, 0, tzinfo=SH)
    assert application.status == "pending"
    assert application.requested_tier == "silver"
    assert application.policy_version == POLICY.version
    assert application.basis["spend_12m"] == {"amount": "60000.00", "currency": "CNY"}
    assert application.basis["purchases_12m"] == 4
    assert application.pending
    assert not application.overdue(datetime(2025, 10, 15, 18, 0, tzinfo=SH))
    assert application.overdue(datetime(2025, 10, 15, 18, 1, tzinfo=SH))


def test_a_late_notification_and_an_unnotified_decision_past_its_deadline_are_overdue(
    views: Views,
) -> None:
    late = register(2)
    qualify_for_silver(late)
    grant(late, "app-late", "silver", at(2025, 9, 29), at(2025, 10, 13))
    late.notify_vip_decision("app-late", "phone", at(2025, 10, 16, 9))  # deadline 10-15 18:00
    waiting = register(3)
    qualify_for_silver(waiting)
    waiting.apply_for_vip("app-waiting", "silver", at(2025, 10, 9), POLICY, CALENDAR)
    punctual = register(4)
    qualify_for_silver(punctual)
    grant(punctual, "app-punctual", "silver", at(2025, 9, 29), at(2025, 10, 10))
    punctual.notify_vip_decision("app-punctual", "sms", at(2025, 10, 10, 15))
    views.save(late, waiting, punctual)
    q = views.queries

    # 10-09 + 7 working days: 10-10, 10-11, 10-13, 10-14, 10-15, 10-16, 10-17.
    rows, _ = q.vip_applications(customer_id=str(customer_id(3)))
    assert rows[0].notify_by == datetime(2025, 10, 17, 18, 0, tzinfo=SH)

    before_waiting_is_due = at(2025, 10, 17, 12)
    rows, total = q.vip_applications(overdue_on=before_waiting_is_due)
    assert (ids(rows), total) == (["app-late"], 1)
    rows, total = q.vip_applications(overdue_on=at(2025, 10, 20))
    assert (ids(rows), total) == (["app-late", "app-waiting"], 2)
    rows, _ = q.vip_applications(on_time_on=at(2025, 10, 20))
    assert ids(rows) == ["app-punctual"]
    rows, _ = q.vip_applications(pending_only=True)
    assert ids(rows) == ["app-waiting"]
    rows, total = q.vip_applications(pending_only=True, overdue_on=at(2025, 10, 20))
    assert (ids(rows), total) == (["app-waiting"], 1)

    notified = q.vip_applications(customer_id=str(customer_id(2)))[0][0]
    assert notified.late is True
    assert notified.channel == "phone"
    assert notified.status == "granted"
    assert notified.granted_tier == "silver"
    assert notified.reasons == ["消费金额、购买频率达标"]
    assert notified.overdue(at(2025, 10, 16))

    rows, total = q.vip_applications(offset=1, limit=1)
    assert total == 3
    assert len(rows) == 1


# -- tiers and points ----------------------------------------------------------------------


def test_points_are_earned_by_tier_redeemed_first_from_the_earliest_lots_and_valued_exactly(
    views: Views,
) -> None:
    customer = register(10)
    qualify_for_silver(customer)
    grant(customer, "app-10", "silver", at(2025, 9, 29), at(2025, 10, 10))
    buy(customer, "P1", "12345.67", date(2025, 10, 20))  # silver: 1 point per yuan → 12345
    buy(customer, "P2", "999.99", date(2025, 11, 2))  # 999
    views.save(customer)
    member = views.queries.get(customer_id(10))
    assert member is not None
    assert (member.tier, member.tier_label, member.tier_since) == (
        "silver",
        "银卡",
        date(2025, 10, 10),
    )
    assert member.tier_expires_on == date(2026, 10, 10)
    assert member.points_balance == 13344
    assert member.points_next_expiry == date(2027, 10, 20)
    assert member.status == "active"
    assert member.last_purchase_on == date(2025, 11, 2)

    customer.redeem_points("R1", 12000, "礼品兑换", at(2025, 12, 1))
    views.save(customer)
    lots = views.queries.points_lots(customer_id(10))
    assert [(lot.lot, lot.remaining) for lot in lots] == [("P1", 345), ("P2", 999)]
    member = views.queries.get(customer_id(10))
    assert member is not None
    assert (member.points_balance, member.points_redeemed_total) == (1344, 12000)

    liability = views.queries.points_liability(POLICY.yuan_per_point)
    assert liability.points == 1344
    assert liability.value == Decimal("13.44")
    assert liability.members == 1
    odd = views.queries.points_liability(Decimal("0.0075"))
    assert odd.value == Decimal("10.0800")

    # P1 expires 2027-10-20: on 10-21 it is due, and expiring it leaves P2.
    assert views.queries.points_due(date(2027, 10, 20)) == []
    assert views.queries.points_due(date(2027, 10, 21)) == [
        (str(customer_id(10)), date(2027, 10, 20))
    ]
    assert (
        views.queries.points_liability(POLICY.yuan_per_point, date(2027, 10, 21)).past_expiry == 345
    )
    customer.expire_points(date(2027, 10, 21))
    views.save(customer)
    member = views.queries.get(customer_id(10))
    assert member is not None
    assert (member.points_balance, member.points_expired_total) == (999, 345)
    assert member.points_next_expiry == date(2027, 11, 2)
    assert views.queries.points_due(date(2027, 10, 21)) == []
    assert views.queries.points_liability(POLICY.yuan_per_point).value == Decimal("9.99")


def test_a_quiet_year_downgrades_gold_one_step_when_its_term_ends(views: Views) -> None:
    customer = register(20)
    qualify_for_gold(customer)
    grant(customer, "app-20", "gold", at(2025, 9, 29), at(2025, 10, 10))
    other = register(21)
    qualify_for_silver(other)
    views.save(customer, other)

    assert views.queries.tiers_due(date(2026, 10, 9)) == []
    assert views.queries.tiers_due(date(2026, 10, 12)) == [
        (str(customer_id(20)), date(2026, 10, 10))
    ]

    customer.evaluate_tier(date(2026, 10, 12), POLICY)
    views.save(customer)
    member = views.queries.get(customer_id(20))
    assert member is not None
    assert (member.tier, member.tier_label) == ("silver", "银卡")
    assert (member.tier_since, member.tier_expires_on) == (date(2026, 10, 10), date(2027, 10, 10))
    assert views.queries.tiers_due(date(2026, 10, 12)) == []

    moves, total = views.queries.tier_movements(date(2026, 1, 1), date(2026, 12, 31))
    assert total == 1
    move = moves[0]
    assert (move.from_tier, move.to_tier, move.movement) == ("gold", "silver", "downgraded")
    assert move.effective_on == date(2026, 10, 10)
    assert move.policy_version == POLICY.version
    history = views.queries.tier_history(customer_id(20))
    assert [(m.movement, m.to_tier) for m in history] == [
        ("granted", "gold"),
        ("downgraded", "silver"),
    ]
    counts = {c.tier: c.count for c in views.queries.tier_distribution()}
    assert counts == {"silver": 1, None: 1}


def test_a_purchase_that_qualifies_for_a_higher_tier_upgrades_at_once(views: Views) -> None:
    customer = register(22)
    qualify_for_silver(customer)
    grant(customer, "app-22", "silver", at(2025, 9, 29), at(2025, 10, 10))
    for i in range(4):
        buy(customer, f"U{i}", "40000.00", date(2025, 10, 20 + i), "软件服务")
    views.save(customer)
    member = views.queries.get(customer_id(22))
    assert member is not None
    assert (member.tier, member.tier_since) == ("gold", date(2025, 10, 23))
    history = views.queries.tier_history(customer_id(22))
    assert [(m.from_tier, m.to_tier, m.movement) for m in history] == [
        (None, "silver", "granted"),
        ("silver", "gold", "upgraded"),
    ]


# -- coupons ---------------------------------------------------------------------------------


def test_coupons_past_their_last_day_are_due_until_expired(views: Views) -> None:
    customer = register(30)
    buy(customer, "C0", "100.00", date(2025, 3, 1))
    customer.issue_coupon(
        "cp-value", "满减券", date(2025, 12, 31), "生日礼物", at(2025, 11, 1), value=cny("50.00")
    )
    customer.issue_coupon(
        "cp-rate",
        "九折券",
        date(2025, 11, 30),
        "挽回活动",
        at(2025, 11, 1),
        discount_rate=Decimal("0.1"),
        min_spend=cny("500.00"),
    )
    customer.issue_coupon(
        "cp-used", "立减券", date(2025, 11, 30), "活动", at(2025, 11, 1), value=cny("20.00")
    )
    customer.redeem_coupon("cp-used", "ORDER-9", at(2025, 11, 5))
    views.save(customer)

    assert views.queries.coupons_due(date(2025, 11, 30)) == []
    assert views.queries.coupons_due(date(2025, 12, 1)) == [
        (str(customer_id(30)), date(2025, 11, 30))
    ]
    coupons = {c.coupon_id: c for c in views.queries.coupons(customer_id(30))}
    assert coupons["cp-rate"].discount_rate == Decimal("0.1")
    assert coupons["cp-rate"].min_spend == Decimal("500.00")
    assert coupons["cp-value"].value == Decimal("50.00")
    assert (coupons["cp-used"].status, coupons["cp-used"].order_ref) == ("redeemed", "ORDER-9")

    customer.expire_coupons(date(2025, 12, 1))
    views.save(customer)
    assert views.queries.coupons_due(date(2025, 12, 1)) == []
    statuses = {c.coupon_id: c.status for c in views.queries.coupons(customer_id(30))}
    assert statuses == {"cp-value": "issued", "cp-rate": "expired", "cp-used": "redeemed"}


# -- relationship health ----------------------------------------------------------------------


def complaint(n: int, customer: UUID, received: datetime) -> Complaint:
    return Complaint.lodge(
        new_id=UUID(f"00000000-0000-4000-9000-{n:012d}"),
        customer_id=customer,
        channel="phone",
        category="product_quality",
        severity="medium",
        description="产品质量问题",
        received_at=received,
    )


def rated_request(n: int, customer: UUID, rating: int, when: datetime) -> ServiceRequest:
    request = ServiceRequest.open(
        new_id=UUID(f"00000000-0000-4000-a000-{n:012d}"),
        customer_id=customer,
        request_type="after_sales",
        channel="phone",
        priority="medium",
        description="售后维修",
        received_at=when,
    )
    request.resolve("已处理", when + timedelta(hours=2))
    request.rate(rating, when + timedelta(hours=3))
    return request


RULE = {"quiet_days": 180, "complaint_count": 3, "complaint_window_days": 90, "low_rating": 2}
TODAY = date(2025, 7, 30)


def test_at_risk_candidates_carry_their_reasons_and_an_anchor_per_situation(
    views: Views,
) -> None:
    quiet = register(40)
    buy(quiet, "Q1", "100.00", date(2025, 1, 10))  # 201 days before TODAY
    complaining = register(41)
    buy(complaining, "K1", "100.00", date(2025, 7, 1))
    unhappy = register(42)
    buy(unhappy, "H1", "100.00", date(2025, 7, 1))
    fine = register(43)
    buy(fine, "F1", "100.00", date(2025, 7, 1))
    prospect = register(44)
    tasked = register(45)
    buy(tasked, "T1", "100.00", date(2025, 1, 10))
    tasked.raise_prevention_task(
        "task-45", ["no_purchase_180d"], "m002", date(2025, 8, 6), at(2025, 7, 20)
    )
    records: list[KehuAggregate] = [
        complaint(1, complaining.id, at(2025, 5, 2)),  # 2025-05-02 is in the 90 days to 07-30
        complaint(2, complaining.id, at(2025, 6, 10)),
        complaint(3, complaining.id, at(2025, 7, 29)),
        complaint(4, fine.id, at(2025, 7, 1)),
        complaint(5, fine.id, at(2025, 4, 30)),  # 2025-05-01 starts the window
        complaint(6, fine.id, at(2025, 7, 2)),
        rated_request(1, unhappy.id, 5, at(2025, 6, 1)),
        rated_request(2, unhappy.id, 2, at(2025, 7, 2)),
        rated_request(3, fine.id, 2, at(2025, 6, 1)),
        rated_request(4, fine.id, 4, at(2025, 7, 3)),
    ]
    views.save(quiet, complaining, unhappy, fine, prospect, tasked, *records)

    found = views.queries.at_risk_candidates(TODAY, **RULE)
    reasons = {customer: why for customer, why, _ in found}
    assert reasons == {
        str(quiet.id): ["no_purchase_180d"],
        str(complaining.id): ["complaints_3_in_90d"],
        str(unhappy.id): ["low_satisfaction_2"],
    }
    anchors = {customer: anchor for customer, _, anchor in found}
    assert views.queries.at_risk_candidates(TODAY, **RULE) == found
    assert all(len(anchor) <= 56 for anchor in anchors.values())

    # The same situation a day later keeps its anchor; a new complaint changes it.
    later = {
        c: a for c, _, a in views.queries.at_risk_candidates(TODAY + timedelta(days=1), **RULE)
    }
    assert later[str(quiet.id)] == anchors[str(quiet.id)]
    assert later[str(unhappy.id)] == anchors[str(unhappy.id)]
    views.save(complaint(7, complaining.id, at(2025, 7, 30, 9)))
    found = views.queries.at_risk_candidates(TODAY, **RULE)
    again = {customer: (why, anchor) for customer, why, anchor in found}
    assert again[str(complaining.id)][0] == ["complaints_4_in_90d"]
    assert again[str(complaining.id)][1] != anchors[str(complaining.id)]

    # A prevention task takes the customer off the list; once done, the same situation
    # comes back with the same anchor (the scheduler's key has it: it acts once).
    quiet.raise_prevention_task(
        "task-40", ["no_purchase_180d"], None, date(2025, 8, 6), at(2025, 7, 30)
    )
    views.save(quiet)
    assert str(quiet.id) not in {c for c, _, _ in views.queries.at_risk_candidates(TODAY, **RULE)}
    quiet.complete_prevention_task("task-40", "电话回访，客户暂无需求", at(2025, 7, 31))
    views.save(quiet)
    back = {c: a for c, _, a in views.queries.at_risk_candidates(TODAY, **RULE)}
    assert back[str(quiet.id)] == anchors[str(quiet.id)]

    # A later, better rating ends the low-satisfaction signal.
    views.save(rated_request(5, unhappy.id, 5, at(2025, 7, 20)))
    assert str(unhappy.id) not in {c for c, _, _ in views.queries.at_risk_candidates(TODAY, **RULE)}
    latest = views.queries.latest_satisfaction(unhappy.id)
    assert latest is not None
    assert (latest.rating, latest.source) == (5, "service_request")


def test_customers_at_risk_are_listed_with_their_task_reasons(views: Views) -> None:
    customer = register(50)
    buy(customer, "A1", "100.00", date(2025, 1, 10))
    customer.mark_at_risk("no_purchase_180d")
    customer.raise_prevention_task(
        "task-50",
        ["no_purchase_180d", "low_satisfaction_2"],
        "m003",
        date(2025, 8, 6),
        at(2025, 7, 30),
    )
    calm = register(51)
    buy(calm, "A2", "100.00", date(2025, 7, 1))
    views.save(customer, calm)

    rows, total = views.queries.at_risk()
    assert total == 1
    assert rows[0].member.customer_id == str(customer.id)
    assert rows[0].task is not None
    assert rows[0].task.reasons == ["no_purchase_180d", "low_satisfaction_2"]
    assert rows[0].task.owner == "m003"
    member = views.queries.get(customer.id)
    assert member is not None
    assert member.open_prevention_task == "task-50"


def test_churn_causes_are_counted_and_a_win_back_credits_its_campaign(views: Views) -> None:
    churned = [register(60 + i) for i in range(4)]
    for customer, cause in zip(churned, ("price", "price", "service", "competitor"), strict=True):
        customer.churn("客户流失", cause)
    churned[3].win_back("回访并提供专属折扣", "CAMP-2025-09")
    churned[1].break_relationship("投诉处理不满", at(2025, 7, 1))
    before = datetime.now(UTC) - timedelta(minutes=5)
    views.save(*churned)
    after = datetime.now(UTC) + timedelta(minutes=5)

    counts = [(c.cause, c.count) for c in views.queries.churn_causes(before, after)]
    assert counts == [("price", 2), ("competitor", 1), ("service", 1)]
    assert views.queries.churn_causes(after, after + timedelta(days=1)) == []
    won = views.queries.get(churned[3].id)
    assert won is not None
    assert (won.status, won.churn_cause) == ("won_back", "competitor")
    assert (won.win_back_action, won.win_back_campaign_id) == ("回访并提供专属折扣", "CAMP-2025-09")
    broken = views.queries.get(churned[1].id)
    assert broken is not None
    assert broken.relationship == "broken"


def test_services_and_growth_plans_are_kept(views: Views) -> None:
    customer = register(70)
    buy(customer, "V1", "100.00", date(2025, 3, 1))
    customer.apply_for_service("svc-1", "产品试用", "希望试用新品", at(2025, 4, 1))
    customer.review_service("svc-1", True, ["VIP权益"], "m004", at(2025, 4, 2))
    customer.implement_service("svc-1", "已安排", at(2025, 4, 10))
    customer.start_growth_plan(
        "plan-1",
        [{"metric": "spend", "target": Decimal("100000")}],
        date(2025, 12, 31),
        at(2025, 4, 1),
    )
    customer.record_growth_progress("plan-1", "spend", Decimal("25000.50"), at(2025, 6, 1))
    views.save(customer)

    service = views.queries.service_applications(customer.id)[0]
    assert (service.status, service.reviewer_id, service.reasons) == (
        "implemented",
        "m004",
        ["VIP权益"],
    )
    plan = views.queries.growth_plans(customer.id)[0]
    assert plan.status == "active"
    assert [(g.metric, g.target, g.progress) for g in plan.goals] == [
        ("spend", Decimal("100000"), Decimal("25000.50"))
    ]


# -- rebuild ---------------------------------------------------------------------------------


def test_a_rebuild_gives_the_same_rows(views: Views) -> None:
    gold = register(80)
    qualify_for_gold(gold)
    grant(gold, "app-80", "gold", at(2025, 9, 29), at(2025, 10, 10))
    gold.notify_vip_decision("app-80", "wechat", at(2025, 10, 11))
    buy(gold, "R1", "3333.33", date(2025, 10, 20), "软件服务")
    gold.redeem_points("redeem-1", 1000, "兑换礼品", at(2025, 11, 1))
    gold.issue_coupon(
        "cp-80", "券", date(2025, 12, 31), "生日", at(2025, 11, 1), value=cny("10.00")
    )
    gold.evaluate_tier(date(2026, 10, 10), POLICY)
    gold.expire_points(date(2027, 10, 21))
    gold.raise_prevention_task(
        "task-80", ["no_purchase_180d"], None, date(2027, 11, 1), at(2027, 10, 21)
    )
    gold.mark_at_risk("no_purchase_180d")
    gold.churn("价格太高", "price")
    other = register(81)
    buy(other, "O1", "10.00", date(2025, 3, 1))
    views.save(
        gold,
        other,
        complaint(80, other.id, at(2025, 6, 1)),
        rated_request(80, other.id, 3, at(2025, 6, 2)),
    )

    before = views.dump()
    assert all(before[table] for table in ("member_view", "points_lot", "tier_movement", "churn"))
    views.projection.start_over()
    assert views.dump()["member_view"] == []
    views.system.projection_worker().catch_up(views.projection)
    assert views.dump() == before


# -- GraphQL ---------------------------------------------------------------------------------


def graphql(system: System, query: str, role: Role = Role.ADMIN, **variables: Any) -> Any:
    from interfaces.graphql.schema import schema

    context = Context(system, Principal(id=f"test:{role.value}", role=role), None, None)
    return asyncio.run(
        schema.execute(query, variable_values=variables or None, context_value=context)
    )


CUSTOMER_360 = """
query ($id: ID!) {
  customer360(id: $id) {
    id
    customer { name phone status }
    tier { tier { code label } since expiresOn policyVersion
           benefits { discountRate priorityService birthdayGift dedicatedManager } }
    points { balance value { amount currency } nextExpiry lots { lot remaining } }
    openComplaints
    credit { id }
    contracts { total inForce inForceValue { amount currency } }
    latestSatisfaction { rating source }
    vipApplications { applicationId status notifyBy late overdue requestedTier { label } }
    coupons { couponId status }
    preventionTasks { taskId reasons status }
    tierHistory { movement movementLabel toTier { code } }
  }
}
"""


def contract_with(customer: UUID, number: str, *, in_force: bool) -> Contract:
    """120,000 CNY from 2025-01-01 with the customer as 甲方; in force or still a draft."""
    contract = Contract.draft(
        number=number,
        title="客户关系管理服务合同",
        party_a=Party.customer(customer, "测试客户", ["测试客户"]),
        party_b=Party.organisation("上海乙方科技有限公司", ["李四"]),
        terms=make_terms(),
        leading_party="a",
        drafted_at=at(2024, 12, 1),
    )
    if in_force:
        contract.submit_for_review(at(2024, 12, 2))
        contract.approve("legal-01", at(2024, 12, 3), "条款合法")
        contract.sign("a", "测试客户", at(2024, 12, 10), "wet_ink")
        contract.sign("b", "李四", at(2024, 12, 11), "seal")
        contract.activate(at(2025, 1, 1, 0))
    return contract


def test_customer_360_in_graphql_masks_personal_data_for_a_role_that_may_not_see_it(
    views: Views,
) -> None:
    customer = register(90)
    qualify_for_gold(customer)
    grant(customer, "app-90", "gold", at(2025, 9, 29), at(2025, 10, 10))
    customer.notify_vip_decision("app-90", "phone", at(2025, 10, 16, 9))
    buy(customer, "X1", "1000.00", date(2025, 10, 20), "软件服务")  # gold: 1.5 per yuan
    views.save(
        customer,
        complaint(90, customer.id, at(2025, 10, 21)),
        rated_request(90, customer.id, 4, at(2025, 10, 22)),
        contract_with(customer.id, "HT-2025-090", in_force=True),
        contract_with(customer.id, "HT-2025-091", in_force=False),
    )

    result = graphql(views.system, CUSTOMER_360, id=str(customer.id))
    assert result.errors is None, result.errors
    data = result.data["customer360"]
    assert data["customer"]["name"] == "测试客户90"
    assert data["tier"]["tier"] == {"code": "gold", "label": "金卡"}
    assert data["tier"]["benefits"] == {
        "discountRate": "0.08",
        "priorityService": True,
        "birthdayGift": True,
        "dedicatedManager": True,
    }
    assert data["points"]["balance"] == 1500
    assert data["points"]["value"] == {"amount": "15.00", "currency": "CNY"}
    assert data["points"]["lots"] == [{"lot": "X1", "remaining": 1500}]
    assert data["openComplaints"] == 1
    assert data["credit"] is None
    assert data["contracts"] == {
        "total": 2,
        "inForce": 1,
        "inForceValue": [{"amount": "120000.00", "currency": "CNY"}],
    }
    assert data["latestSatisfaction"] == {"rating": 4, "source": "SERVICE_REQUEST"}
    assert data["vipApplications"][0]["late"] is True
    assert data["vipApplications"][0]["overdue"] is True
    assert data["vipApplications"][0]["requestedTier"] == {"label": "金卡"}
    assert [m["movementLabel"] for m in data["tierHistory"]] == ["申请认定"]

    masked = graphql(
        views.system,
        f'query {{ customer360(id: "{customer.id}") {{ customer {{ name phone }} }} }}',
        Role.CREDIT,
    )
    assert masked.errors is None, masked.errors
    assert masked.data["customer360"]["customer"] == {"name": "测试****", "phone": "138****0090"}


def test_membership_lists_in_graphql_refuse_bad_input(views: Views) -> None:
    customer = register(91)
    buy(customer, "Y1", "10.00", date(2025, 3, 1))
    customer.churn("价格", "price")
    views.save(customer)

    naive = graphql(
        views.system,
        'query { vipApplications(filter: {overdue: true, asOf: "2025-10-20T10:00:00"})'
        " { totalCount } }",
    )
    assert naive.errors
    assert naive.errors[0].extensions["code"] == "validation.naive_datetime"
    backwards = graphql(
        views.system,
        'query { tierMovements(from: "2025-12-01", to: "2025-01-01") { totalCount } }',
    )
    assert backwards.errors
    assert backwards.errors[0].extensions["code"] == "validation.invalid_range"
    too_many = graphql(views.system, "query { atRiskCustomers(first: 1000) { totalCount } }")
    assert too_many.errors
    assert too_many.errors[0].extensions["code"] == "validation.page_size"
    cursor = graphql(views.system, 'query { vipApplications(after: "nope") { totalCount } }')
    assert cursor.errors
    assert cursor.errors[0].extensions["code"] == "validation.invalid_cursor"

    causes = graphql(views.system, "query { churnCauses { cause label count } }")
    assert causes.errors is None, causes.errors
    listed = {c["cause"]: (c["label"], c["count"]) for c in causes.data["churnCauses"]}
    assert listed["PRICE"] == ("价格", 1)
    assert listed["OTHER"] == ("其他", 0)
    assert len(listed) == 7
    liability = graphql(
        views.system, "query { pointsLiability { points value { amount } policyVersion } }"
    )
    assert liability.errors is None, liability.errors
    assert liability.data["pointsLiability"]["points"] == 0
    distribution = graphql(views.system, "query { tierDistribution { tier { code } label count } }")
    assert distribution.errors is None, distribution.errors
    assert distribution.data["tierDistribution"][-1] == {
        "tier": None,
        "label": "普通客户",
        "count": 1,
    }
