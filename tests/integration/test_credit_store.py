"""Credit control on both stores: blocked orders recorded as evidence, four eyes on large
limits, exposure as of a past date equal to a hand computation from the events, the
overdue policy, and bad input refused without a trace."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application.context import Principal, Role
from application.credit import OrderBlockedError
from application.errors import Forbidden
from domain.base import DomainError
from interfaces.bootstrap import System
from projections.credit import DecisionFilter, RiskFilter
from tests.support import Clock, as_, at

CLERK = Principal(id="user:info", role=Role.INFORMATION)
ANALYST = Principal(id="user:wang", role=Role.CREDIT, name="王芳")
OTHER_ANALYST = Principal(id="user:zhou", role=Role.CREDIT, name="周杰")
MANAGER = Principal(id="user:chen", role=Role.MANAGER, name="陈经理")
RISK_OFFICER = Principal(id="user:sun", role=Role.RISK, name="孙丽")

INPUTS: dict[str, Any] = {
    "invoices_paid_on_time": 40,
    "invoices_paid_late": 2,
    "overdue_count_12m": 1,
    "max_overdue_days": 12,
    "total_assets": "5000000",
    "total_liabilities": "2500000",
    "current_assets": "1800000",
    "current_liabilities": "1000000",
    "annual_revenue": "9000000",
    "net_profit": "700000",
    "relationship_months": 30,
}


@pytest.fixture
def clock() -> Clock:
    return Clock(at(2026, 3, 2, 10, 0))


def open_profile(kehu: System, limit: str = "500000.00", prepayment: str = "0.2") -> UUID:
    customer = kehu.customers.register(
        as_(CLERK),
        kind="enterprise",
        name="杭州云杉贸易有限公司",
        uscc="91330106MA2H3UWK08",
        email="finance@yunshan.example.cn",
    )
    profile = kehu.credit.open(as_(ANALYST), customer_id=customer.id, at=at(2026, 3, 1, 9, 0))
    kehu.credit.assess(as_(ANALYST), profile.id, inputs=INPUTS, at=at(2026, 3, 1, 10, 0))
    kehu.credit.set_limit(
        as_(ANALYST),
        profile.id,
        limit=limit,
        term_days=30,
        prepayment_ratio=prepayment,
        reason="首次授信",
        at=at(2026, 3, 1, 11, 0),
    )
    return profile.id


def event_count(kehu: System) -> int:
    return kehu.store.max_position()


def test_an_order_over_the_available_amount_is_blocked_and_recorded_then_approved_after_payment(
    kehu: System, clock: Clock
) -> None:
    profile_id = open_profile(kehu)
    first = kehu.credit.check_order(
        as_(ANALYST), profile_id, order_id="SO-1", amount="500000.00", at=at(2026, 3, 2, 10, 0)
    )
    assert first.events == ["CreditProfile.OrderApproved"]
    kehu.credit.record_invoice(
        as_(ANALYST),
        profile_id,
        invoice_id="INV-1",
        order_id="SO-1",
        amount="400000.00",
        invoiced_on=date(2026, 3, 3),
        at=at(2026, 3, 3, 9, 0),
    )
    before = event_count(kehu)
    with pytest.raises(OrderBlockedError) as blocked:
        kehu.credit.check_order(
            as_(ANALYST), profile_id, order_id="SO-2", amount="200000.00", at=at(2026, 3, 4, 9, 0)
        )
    assert blocked.value.code == "credit.limit_exceeded"
    assert blocked.value.details["decision"] == "blocked_by_limit"
    assert blocked.value.details["available"] == "100000.00 CNY"
    assert blocked.value.details["credit_amount"] == "160000.00 CNY"
    assert event_count(kehu) == before + 1  # the decision is evidence
    recorded = kehu.store.history(profile_id)[-1]
    assert recorded.type == "CreditProfile.OrderBlocked"
    assert recorded.position == blocked.value.details["position"]
    assert recorded.envelope is not None
    assert recorded.envelope.actor_id == ANALYST.id

    kehu.credit.record_payment(
        as_(ANALYST),
        profile_id,
        invoice_id="INV-1",
        amount="100000.00",
        paid_on=date(2026, 3, 5),
        at=at(2026, 3, 5, 9, 0),
    )
    again = kehu.credit.check_order(
        as_(ANALYST), profile_id, order_id="SO-2", amount="200000.00", at=at(2026, 3, 5, 10, 0)
    )
    assert again.events == ["CreditProfile.OrderApproved"]
    profile = kehu.credit.load(ANALYST, profile_id)
    assert profile.available.amount == Decimal("40000.00")

    kehu.catch_up()
    checks, total = kehu.credit_queries.decisions(DecisionFilter(decisions=["blocked_by_limit"]))
    assert total == 1
    assert checks[0].order_id == "SO-2"
    assert checks[0].available == Decimal("100000.00")
    row = kehu.credit_queries.get(str(profile_id))
    assert row is not None
    assert (row.reserved, row.used, row.overdue) == (
        Decimal("160000.00"),
        Decimal("300000.00"),
        Decimal("0"),
    )


def test_a_replayed_blocked_check_is_refused_again_and_records_nothing(kehu: System) -> None:
    profile_id = open_profile(kehu, limit="1000.00", prepayment="0")
    context = as_(ANALYST, idempotency_key="check-SO-9", request_hash="h1")
    with pytest.raises(OrderBlockedError):
        kehu.credit.check_order(context, profile_id, order_id="SO-9", amount="5000.00")
    before = event_count(kehu)
    with pytest.raises(OrderBlockedError) as replay:
        kehu.credit.check_order(context, profile_id, order_id="SO-9", amount="5000.00")
    assert replay.value.code == "credit.limit_exceeded"
    assert event_count(kehu) == before


def test_four_eyes_the_requester_cannot_approve_their_own_limit(kehu: System) -> None:
    profile_id = open_profile(kehu)
    requested = kehu.credit.set_limit(
        as_(MANAGER),
        profile_id,
        limit="3000000.00",
        term_days=60,
        reason="战略客户扩大合作",
        request_id="LC-1",
    )
    assert requested.events == ["CreditProfile.LimitChangeRequested"]
    before = event_count(kehu)
    with pytest.raises(DomainError) as refused:
        kehu.credit.approve_limit_change(as_(MANAGER), profile_id, request_id="LC-1")
    assert refused.value.code == "credit.four_eyes"
    with pytest.raises(Forbidden):  # the credit section may not approve at all
        kehu.credit.approve_limit_change(as_(ANALYST), profile_id, request_id="LC-1")
    assert event_count(kehu) == before
    assert kehu.credit.load(ANALYST, profile_id).limit.amount == Decimal("500000.00")

    other_manager = Principal(id="user:he", role=Role.MANAGER, name="何总")
    kehu.credit.approve_limit_change(as_(other_manager), profile_id, request_id="LC-1")
    profile = kehu.credit.load(ANALYST, profile_id)
    assert profile.limit.amount == Decimal("3000000.00")
    assert profile.term_days == 60
    set_event = kehu.store.history(profile_id)[-1]
    assert set_event.payload["set_by"] == "user:he"
    assert set_event.payload["request_id"] == "LC-1"


def hand_exposure(events: list[Any], until: datetime) -> dict[str, Decimal]:
    """The exposure computed by hand from the stored events, independent of the view."""
    figures = {"limit": Decimal(0), "reserved": Decimal(0), "used": Decimal(0)}
    figures["overdue"] = Decimal(0)
    overdue_invoices: set[str] = set()
    for recorded in events:
        payload = recorded.payload
        if "at" not in payload or payload["at"] > until:
            continue
        kind = recorded.type.split(".")[1]
        if kind == "LimitSet":
            figures["limit"] = payload["limit"].amount
        elif kind == "OrderApproved":
            figures["reserved"] += payload["credit_amount"].amount
        elif kind == "ReservationReleased":
            figures["reserved"] -= payload["amount"].amount
        elif kind == "Invoiced":
            figures["reserved"] -= payload["amount"].amount
            figures["used"] += payload["amount"].amount
        elif kind == "InvoiceOverdue":
            overdue_invoices.add(payload["invoice_id"])
            figures["used"] -= payload["amount"].amount
            figures["overdue"] += payload["amount"].amount
        elif kind == "PaymentReceived":
            bucket = "overdue" if payload["invoice_id"] in overdue_invoices else "used"
            figures[bucket] -= payload["amount"].amount
    return figures


def test_exposure_as_of_a_past_date_equals_a_hand_computation_from_the_events(
    kehu: System, clock: Clock
) -> None:
    profile_id = open_profile(kehu, prepayment="0.3333")
    credit = kehu.credit
    credit.check_order(
        as_(ANALYST), profile_id, order_id="A", amount="100000.01", at=at(2026, 3, 2, 9)
    )
    credit.check_order(
        as_(ANALYST), profile_id, order_id="B", amount="33333.33", at=at(2026, 3, 3, 9)
    )
    credit.record_invoice(
        as_(ANALYST),
        profile_id,
        invoice_id="I-A",
        order_id="A",
        amount="66666.67",
        invoiced_on=date(2026, 3, 4),
        at=at(2026, 3, 4, 9),
    )
    credit.release_reservation(
        as_(ANALYST), profile_id, order_id="B", reason="客户取消订单", at=at(2026, 3, 10, 9)
    )
    clock.now = at(2026, 4, 10, 9)
    kehu.catch_up()  # the policy finds its candidates in the read model
    assert kehu.scheduler.run_once()["credit-overdue"] == 1
    kehu.catch_up()
    assert kehu.scheduler.run_once()["credit-overdue"] == 0  # once per invoice
    credit.record_payment(
        as_(ANALYST),
        profile_id,
        invoice_id="I-A",
        amount="10000.05",
        paid_on=date(2026, 4, 12),
        at=at(2026, 4, 12, 9),
    )
    credit.set_limit(
        as_(ANALYST),
        profile_id,
        limit="800000",
        term_days=45,
        reason="年度复审",
        at=at(2026, 4, 15, 9),
    )
    kehu.catch_up()
    row = kehu.credit_queries.get(str(profile_id))
    assert row is not None
    events = kehu.store.history(profile_id, limit=1000)
    for moment in (
        at(2026, 3, 1, 12),
        at(2026, 3, 2, 9),
        at(2026, 3, 3, 12),
        at(2026, 3, 5, 0),
        at(2026, 3, 31, 23, 59),
        at(2026, 4, 11),
        at(2026, 4, 13),
        at(2026, 5, 1),
    ):
        view = kehu.credit_queries.exposure_as_of(row, moment)
        hand = hand_exposure(events, moment)
        assert (view.limit, view.reserved, view.used, view.overdue) == (
            hand["limit"],
            hand["reserved"],
            hand["used"],
            hand["overdue"],
        ), moment
    end_of_march = kehu.credit_queries.exposure_as_of(row, at(2026, 3, 31, 23, 59))
    # A: 100000.01 less 33330.00 prepaid (0.3333, half-up) = 66670.01 reserved, 66666.67 of
    # it invoiced; B reserved 22223.33 then released.
    assert end_of_march.reserved == Decimal("3.34")
    assert end_of_march.used == Decimal("66666.67")
    assert end_of_march.exposure == Decimal("66670.01")
    assert end_of_march.available == Decimal("433329.99")
    assert end_of_march.utilisation_percent == Decimal("13.33")
    now = row.current(at(2026, 5, 1))
    assert now.overdue == Decimal("56666.62")
    assert now.used == Decimal(0)
    ageing = {b.bucket: b for b in kehu.credit_queries.ageing(str(profile_id), date(2026, 5, 20))}
    # Due 3 April (30 days after 4 March): 47 days past due on 20 May.
    assert ageing["31-60"].amount == Decimal("56666.62")
    assert ageing["31-60"].invoices == 1
    assert ageing["0-30"].amount == Decimal(0)


def test_overdue_blocks_new_orders_until_paid(kehu: System, clock: Clock) -> None:
    profile_id = open_profile(kehu, prepayment="0")
    credit = kehu.credit
    credit.check_order(as_(ANALYST), profile_id, order_id="X", amount="1000.00")
    credit.record_invoice(as_(ANALYST), profile_id, invoice_id="IX", order_id="X", amount="1000.00")
    clock.now = at(2026, 4, 5, 9)
    credit.record_overdue(as_(ANALYST), profile_id, invoice_id="IX")
    with pytest.raises(OrderBlockedError) as blocked:
        credit.check_order(as_(ANALYST), profile_id, order_id="Y", amount="1.00")
    assert blocked.value.code == "credit.overdue"
    credit.record_payment(as_(ANALYST), profile_id, invoice_id="IX", amount="1000.00")
    assert credit.check_order(as_(ANALYST), profile_id, order_id="Y", amount="1.00").events == [
        "CreditProfile.OrderApproved"
    ]
    credit.block(as_(ANALYST), profile_id, reason="工商异常")
    with pytest.raises(OrderBlockedError) as manual:
        credit.check_order(as_(ANALYST), profile_id, order_id="Z", amount="1.00")
    assert manual.value.code == "credit.blocked"


@pytest.mark.parametrize(
    ("command", "kwargs", "code"),
    [
        ("check_order", {"order_id": "Q", "amount": "-5"}, "credit.invalid_field"),
        ("check_order", {"order_id": "has space", "amount": "5"}, "credit.invalid_field"),
        ("set_limit", {"limit": "1.001", "term_days": 30, "reason": "x"}, "credit.invalid_field"),
        ("set_limit", {"limit": "10", "term_days": 400, "reason": "x"}, "credit.invalid_field"),
        (
            "set_limit",
            {"limit": "10", "term_days": 3, "prepayment_ratio": "1.5", "reason": "x"},
            "credit.invalid_field",
        ),
        ("record_payment", {"invoice_id": "nope", "amount": "5"}, "credit.no_such_invoice"),
        ("assess", {"inputs": {**INPUTS, "net_profit": 1.5}}, "credit.invalid_assessment_input"),
        ("release_reservation", {"order_id": "none", "reason": "x"}, "credit.no_reservation"),
        ("unblock", {"reason": "x"}, "credit.block_state"),
    ],
)
def test_bad_input_is_refused_with_a_stable_code_and_changes_nothing(
    kehu: System, command: str, kwargs: dict[str, Any], code: str
) -> None:
    profile_id = open_profile(kehu)
    before = event_count(kehu)
    with pytest.raises(DomainError) as refused:
        getattr(kehu.credit, command)(as_(ANALYST), profile_id, **kwargs)
    assert refused.value.code == code
    assert event_count(kehu) == before


def test_the_risk_register_and_rating_distribution(kehu: System) -> None:
    profile_id = open_profile(kehu)
    kehu.credit.assess_risk(
        as_(RISK_OFFICER),
        profile_id,
        risk_id="R-1",
        dimension="credit",
        description="主要客户集中度高",
        likelihood=4,
        impact=5,
        response="diversify",
        owner="孙丽",
        review_on=date(2026, 6, 1),
    )
    kehu.credit.assess_risk(
        as_(RISK_OFFICER),
        profile_id,
        risk_id="R-2",
        dimension="market",
        description="原材料价格波动",
        likelihood=2,
        impact=2,
        response="accept",
        owner="孙丽",
        review_on=date(2026, 9, 1),
    )
    with pytest.raises(Forbidden):
        kehu.credit.assess_risk(
            as_(ANALYST),
            profile_id,
            dimension="market",
            description="x",
            likelihood=1,
            impact=1,
            response="accept",
            owner="x",
            review_on=date(2026, 9, 1),
        )
    kehu.credit.close_risk(as_(RISK_OFFICER), profile_id, risk_id="R-2", reason="已对冲")
    kehu.catch_up()
    risks, total = kehu.credit_queries.risks(RiskFilter())
    assert total == 1
    assert risks[0].risk_id == "R-1"
    assert risks[0].level == "severe"
    closed, _ = kehu.credit_queries.risks(RiskFilter(status="closed"))
    assert [r.risk_id for r in closed] == ["R-2"]
    assert dict(kehu.credit_queries.rating_distribution()) == {"A": 1}


def test_a_contested_rating_is_overturned_by_manual_review(kehu: System) -> None:
    profile_id = open_profile(kehu)
    kehu.credit.contest(
        as_(Principal(id="user:svc", role=Role.SERVICE)),
        profile_id,
        contest_id="C-1",
        grounds="财务报表有误，已提交更正版本",
    )
    kehu.credit.start_review(as_(OTHER_ANALYST), profile_id, contest_id="C-1")
    kehu.credit.decide_contest(
        as_(OTHER_ANALYST),
        profile_id,
        contest_id="C-1",
        outcome="overturned",
        explanation="更正后的报表显示负债率 35%",
        rating="AA",
    )
    kehu.catch_up()
    row = kehu.credit_queries.get(str(profile_id))
    assert row is not None
    assert (row.rating, row.rating_source) == ("AA", "manual_review")
    assert row.contests[0]["status"] == "overturned"
    assert row.contests[0]["reviewer"] == OTHER_ANALYST.id  # an identity, not a name
    assert "grounds" not in row.contests[0]  # the customer's words stay in the event log


def test_a_manager_releases_a_blocked_order_on_record(kehu: System) -> None:
    profile_id = open_profile(kehu, limit="1000.00", prepayment="0")
    with pytest.raises(OrderBlockedError):
        kehu.credit.check_order(as_(ANALYST), profile_id, order_id="BIG", amount="1500.00")
    before = event_count(kehu)
    with pytest.raises(Forbidden):
        kehu.credit.release_blocked_order(as_(ANALYST), profile_id, order_id="BIG", reason="x")
    with pytest.raises(DomainError) as refused:
        kehu.credit.release_blocked_order(as_(MANAGER), profile_id, order_id="SMALL", reason="x")
    assert refused.value.code == "credit.order_not_blocked"
    assert event_count(kehu) == before
    kehu.credit.release_blocked_order(
        as_(MANAGER), profile_id, order_id="BIG", reason="战略客户，已取得担保函"
    )
    profile = kehu.credit.load(ANALYST, profile_id)
    assert profile.reserved.amount == Decimal("1500.00")
    assert profile.available.amount == Decimal("-500.00")
    with pytest.raises(DomainError) as twice:
        kehu.credit.release_blocked_order(as_(MANAGER), profile_id, order_id="BIG", reason="x")
    assert twice.value.code == "credit.order_not_blocked"
    kehu.catch_up()
    released, total = kehu.credit_queries.decisions(
        DecisionFilter(decisions=["released_by_override"])
    )
    assert total == 1
    assert released[0].detail == "blocked_by_limit released by user:chen: 战略客户，已取得担保函"
    assert released[0].available == Decimal("1000.00")
