"""VIP membership, loyalty and relationship health on the Customer aggregate, in the domain
alone: each command, the events it leaves pending, the state they build, and the rules that
refuse a command without recording anything."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)

from domain.base import DomainError
from domain.calendar import default_calendar
from domain.customer import Customer, CustomerStatus
from domain.loyalty import Basis, default_policy_book
from domain.values import Money

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
POLICY = default_policy_book().in_force(date(2025, 1, 1))
CALENDAR = default_calendar()
REGISTERED_ON = date(2025, 1, 2)


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


# -- helpers --------------------------------------------------------------------------------


def collected(customer: Customer) -> list[Any]:
    return list(customer.collect_events())


def names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def state(customer: Customer) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in vars(customer).items() if k != "_pending_events"})


def rebuild(events: list[Any]) -> Customer:
    aggregate: Any = None
    for stored in events:
        aggregate = stored.mutate(aggregate)
    return aggregate


def refused(customer: Customer, code: str, command: Callable[[], object]) -> DomainError:
    """The command raises ``code``, records nothing and leaves the state as it was."""
    before = state(customer)
    pending = list(customer.pending_events)
    with pytest.raises(DomainError) as error:
        command()
    assert error.value.code == code, error.value.message
    assert list(customer.pending_events) == pending
    assert state(customer) == before
    return error.value


def new_customer() -> Customer:
    customer = Customer.register(
        new_id=uuid4(),
        kind="individual",
        name="张伟",
        phone="13812345678",
        registered_on=REGISTERED_ON,
    )
    collected(customer)
    return customer


#: 4 purchases of ¥12,500 in one category: ¥50,000 — silver exactly.
SILVER_BUYING = [(date(2025, m, 10), "12500.00", "耗材") for m in (1, 2, 3, 4)]
#: 8 purchases of ¥25,000 in two categories: ¥200,000 — gold exactly.
GOLD_BUYING = [(date(2025, m, 10), "25000.00", "耗材" if m % 2 else "培训") for m in range(1, 9)]


def buyer(purchases: list[tuple[date, str, str]]) -> Customer:
    customer = new_customer()
    for n, (day, amount, category) in enumerate(purchases, start=1):
        customer.record_purchase(f"SO-{n}", Money.parse(amount), category, day, POLICY)
    collected(customer)
    return customer


def applied(
    purchases: list[tuple[date, str, str]] = GOLD_BUYING,
    tier: str = "gold",
    when: datetime = at(2025, 9, 26),
) -> Customer:
    customer = buyer(purchases)
    customer.apply_for_vip("A-1", tier, when, POLICY, CALENDAR)
    collected(customer)
    return customer


def in_review(tier: str = "gold", purchases: list[tuple[date, str, str]] = GOLD_BUYING) -> Customer:
    customer = applied(purchases, tier)
    customer.start_vip_review("A-1", "user:reviewer", at(2025, 9, 28, 9))
    collected(customer)
    return customer


def member(tier: str = "gold") -> Customer:
    """A member of ``tier`` granted on 2025-09-29 (term to 2026-09-29), notified."""
    purchases = GOLD_BUYING if tier == "gold" else SILVER_BUYING
    customer = in_review(tier, purchases)
    customer.grant_vip("A-1", tier, ["资格审核通过"], at(2025, 9, 29, 15), POLICY)
    customer.notify_vip_decision("A-1", "sms", at(2025, 9, 30, 9))
    collected(customer)
    return customer


# -- applying ----------------------------------------------------------------------------------


def test_an_application_before_national_day_is_due_on_the_seventh_working_day_after() -> None:
    customer = buyer(GOLD_BUYING)

    customer.apply_for_vip("A-1", "gold", at(2025, 9, 26, 10), POLICY, CALENDAR)

    [applied_event] = collected(customer)
    # Applied on Friday 2025-09-26; the day applied does not count (民法典 第二百零一条). The
    # working days after it, by the 2025 arrangement (国办发明电〔2024〕12号: 10月1日至8日放假,
    # 9月28日(周日)、10月11日(周六)上班):
    #   1 Sun 09-28 (adjusted working day)   2 Mon 09-29   3 Tue 09-30
    #     (Wed 10-01 … Wed 10-08: National Day and Mid-Autumn Festival, days off)
    #   4 Thu 10-09   5 Fri 10-10   6 Sat 10-11 (adjusted working day)   7 Mon 10-13
    # so the decision is due by the close of business, 18:00 on Monday 2025-10-13. (18:00 on
    # Tuesday 2025-10-14 is the deadline of an application made on Sunday 09-28 itself.)
    assert applied_event.notify_by == datetime(2025, 10, 13, 18, tzinfo=SH)
    assert applied_event.notify_by == CALENDAR.working_days_deadline(at(2025, 9, 26, 10), 7)
    assert CALENDAR.working_days_deadline(at(2025, 9, 28, 10), 7) == datetime(
        2025, 10, 14, 18, tzinfo=SH
    )


def test_an_application_records_the_basis_as_of_the_day_and_the_policy_version() -> None:
    customer = buyer([*GOLD_BUYING, (date(2025, 9, 27), "1000.00", "设备")])

    customer.apply_for_vip("A-1", "gold", at(2025, 9, 26), POLICY, CALENDAR)

    [event] = collected(customer)
    assert isinstance(event, Customer.VipApplied)
    assert event.requested_tier == "gold"
    assert event.policy_version == "2025.1"
    assert event.basis == {
        "spend_12m": Money.parse("200000"),
        "purchases_12m": 8,
        "categories": ["培训", "耗材"],
        "window_start": date(2024, 9, 27),
        "window_end": date(2025, 9, 26),
    }
    application = customer.vip_applications["A-1"]
    assert application["status"] == "pending"
    assert application["notify_by"] == datetime(2025, 10, 13, 18, tzinfo=SH)
    assert customer.open_vip_application is application


def test_an_application_counts_from_its_day_in_shanghai() -> None:
    customer = buyer(GOLD_BUYING)
    # 2025-09-27 17:00 UTC is already Sunday 2025-09-28 01:00 in Shanghai.
    customer.apply_for_vip("A-1", "gold", datetime(2025, 9, 27, 17, tzinfo=UTC), POLICY, CALENDAR)
    assert customer.vip_applications["A-1"]["notify_by"] == datetime(2025, 10, 14, 18, tzinfo=SH)
    assert customer.vip_applications["A-1"]["basis"]["window_end"] == date(2025, 9, 28)


@pytest.mark.parametrize("status", ["prospect", "at_risk", "churned"])
def test_only_an_active_or_won_back_customer_may_apply(status: str) -> None:
    customer = new_customer() if status == "prospect" else buyer(GOLD_BUYING)
    if status == "at_risk":
        customer.mark_at_risk("90天未下单")
    if status == "churned":
        customer.churn("转向竞品", "competitor")
    collected(customer)
    refused(
        customer,
        "customer.transition_refused",
        lambda: customer.apply_for_vip("A-1", "gold", at(2025, 9, 26), POLICY, CALENDAR),
    )


def test_a_won_back_customer_may_apply() -> None:
    customer = buyer(GOLD_BUYING)
    customer.churn("价格", "price")
    customer.win_back("回访")
    customer.apply_for_vip("A-1", "silver", at(2025, 9, 26), POLICY, CALENDAR)
    assert names(collected(customer))[-1] == "VipApplied"


def test_one_application_at_a_time() -> None:
    customer = applied()
    error = refused(
        customer,
        "customer.vip_application_open",
        lambda: customer.apply_for_vip("A-2", "platinum", at(2025, 9, 27), POLICY, CALENDAR),
    )
    assert error.details == {"application_id": "A-1"}


def test_a_rejected_application_may_be_followed_by_another() -> None:
    customer = in_review()
    customer.reject_vip("A-1", ["资料不全"], at(2025, 9, 29))
    customer.apply_for_vip("A-2", "gold", at(2025, 10, 9), POLICY, CALENDAR)
    assert names(collected(customer)) == ["VipRejected", "VipApplied"]
    assert customer.open_vip_application is customer.vip_applications["A-2"]


@pytest.mark.parametrize("tier", ["silver", "gold"])
def test_an_application_must_be_for_a_tier_above_the_one_held(tier: str) -> None:
    customer = member("gold")
    refused(
        customer,
        "customer.vip_tier_not_higher",
        lambda: customer.apply_for_vip("A-2", tier, at(2025, 10, 9), POLICY, CALENDAR),
    )


@pytest.mark.parametrize(
    ("application_id", "tier", "when", "code"),
    [
        ("A-1", "diamond", at(2025, 9, 26), "customer.unknown_tier"),
        ("", "gold", at(2025, 9, 26), "customer.invalid_field"),
        ("A 1", "gold", at(2025, 9, 26), "customer.invalid_field"),
        ("A-1", "gold", datetime(2025, 9, 26, 10), "validation.invalid_value"),
        ("A-1", "gold", date(2025, 9, 26), "customer.invalid_field"),
        ("A-1", "gold", at(2025, 1, 1), "customer.time_before_previous"),
    ],
)
def test_a_bad_application_is_refused(application_id: str, tier: str, when: Any, code: str) -> None:
    customer = buyer(GOLD_BUYING)
    refused(
        customer,
        code,
        lambda: customer.apply_for_vip(application_id, tier, when, POLICY, CALENDAR),
    )


def test_an_application_id_is_used_once_and_applications_follow_each_other() -> None:
    customer = in_review()
    customer.reject_vip("A-1", ["资料不全"], at(2025, 9, 29))
    collected(customer)
    refused(
        customer,
        "customer.duplicate_id",
        lambda: customer.apply_for_vip("A-1", "gold", at(2025, 10, 9), POLICY, CALENDAR),
    )
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.apply_for_vip("A-2", "gold", at(2025, 9, 25), POLICY, CALENDAR),
    )


# -- review and decision ------------------------------------------------------------------------


def test_a_review_is_started_by_a_reviewer() -> None:
    customer = applied()
    customer.start_vip_review("A-1", "user:reviewer", at(2025, 9, 28, 9))
    [event] = collected(customer)
    assert isinstance(event, Customer.VipReviewStarted)
    application = customer.vip_applications["A-1"]
    assert (application["status"], application["reviewer_id"]) == ("in_review", "user:reviewer")


def test_review_refusals() -> None:
    customer = applied()
    refused(
        customer,
        "customer.unknown_vip_application",
        lambda: customer.start_vip_review("A-9", "user:r", at(2025, 9, 28)),
    )
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.start_vip_review("A-1", "user:r", at(2025, 9, 26, 9)),
    )
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.start_vip_review("A-1", " ", at(2025, 9, 28)),
    )
    customer.start_vip_review("A-1", "user:r", at(2025, 9, 28))
    collected(customer)
    refused(
        customer,
        "customer.vip_application_status",
        lambda: customer.start_vip_review("A-1", "user:other", at(2025, 9, 28)),
    )


def test_granting_sets_the_tier_for_a_term_from_the_day_granted() -> None:
    customer = in_review()

    customer.grant_vip("A-1", "gold", ["消费与频次达标"], at(2025, 9, 29, 15), POLICY)

    [event] = collected(customer)
    assert isinstance(event, Customer.VipGranted)
    assert (event.tier, event.effective_on, event.expires_on) == (
        "gold",
        date(2025, 9, 29),
        date(2026, 9, 29),
    )
    assert event.policy_version == "2025.1"
    assert (customer.tier, customer.tier_since, customer.tier_expires_on) == (
        "gold",
        date(2025, 9, 29),
        date(2026, 9, 29),
    )
    assert customer.tier_policy_version == "2025.1"
    [move] = customer.tier_history
    assert move["movement"] == "granted"
    assert (move["from_tier"], move["to_tier"], move["application_id"]) == (None, "gold", "A-1")
    application = customer.vip_applications["A-1"]
    assert (application["status"], application["granted_tier"]) == ("granted", "gold")
    assert application["reasons"] == ["消费与频次达标"]
    assert customer.open_vip_application is None


def test_a_lower_tier_than_requested_may_be_granted_when_the_basis_meets_it() -> None:
    customer = in_review("platinum")
    customer.grant_vip("A-1", "gold", ["白金卡条件未满足，认定金卡"], at(2025, 9, 29), POLICY)
    assert customer.tier == "gold"


def test_the_basis_recorded_at_the_application_decides_qualification() -> None:
    customer = in_review("gold", SILVER_BUYING)
    # Purchases after the application do not count towards it.
    for n in range(4):
        customer.record_purchase(f"SO-L{n}", Money.parse("50000"), "培训", date(2025, 9, 28))
    collected(customer)
    error = refused(
        customer,
        "customer.vip_not_qualified",
        lambda: customer.grant_vip("A-1", "gold", ["x"], at(2025, 9, 29), POLICY),
    )
    assert "金卡" in error.message
    customer.grant_vip("A-1", "silver", ["认定银卡"], at(2025, 9, 29), POLICY)
    assert customer.tier == "silver"


def test_grant_refusals() -> None:
    customer = in_review("gold")
    refused(
        customer,
        "customer.vip_tier_above_requested",
        lambda: customer.grant_vip("A-1", "platinum", ["x"], at(2025, 9, 29), POLICY),
    )
    refused(
        customer,
        "customer.unknown_tier",
        lambda: customer.grant_vip("A-1", "diamond", ["x"], at(2025, 9, 29), POLICY),
    )
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.grant_vip("A-1", "gold", [], at(2025, 9, 29), POLICY),
    )
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.grant_vip("A-1", "gold", "通过", at(2025, 9, 29), POLICY),  # type: ignore[arg-type]
    )
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.grant_vip("A-1", "gold", ["x"], at(2025, 9, 27), POLICY),
    )
    later = dataclasses.replace(POLICY, version="2026.1")
    error = refused(
        customer,
        "customer.vip_policy_mismatch",
        lambda: customer.grant_vip("A-1", "gold", ["x"], at(2025, 9, 29), later),
    )
    assert error.details == {"policy_version": "2025.1"}


def test_a_pending_application_is_reviewed_before_it_is_decided() -> None:
    customer = applied()
    refused(
        customer,
        "customer.vip_application_status",
        lambda: customer.grant_vip("A-1", "gold", ["x"], at(2025, 9, 29), POLICY),
    )
    refused(
        customer,
        "customer.vip_application_status",
        lambda: customer.reject_vip("A-1", ["x"], at(2025, 9, 29)),
    )


def test_a_decided_application_is_not_decided_again() -> None:
    customer = member("gold")
    refused(
        customer,
        "customer.vip_application_status",
        lambda: customer.reject_vip("A-1", ["x"], at(2025, 10, 1)),
    )


def test_a_grant_not_above_the_tier_held_is_refused() -> None:
    customer = in_review("gold")
    customer.grant_vip("A-1", "gold", ["ok"], at(2025, 9, 29), POLICY)
    customer.notify_vip_decision("A-1", "phone", at(2025, 9, 29, 16))
    customer.apply_for_vip("A-2", "platinum", at(2025, 10, 9), POLICY, CALENDAR)
    customer.start_vip_review("A-2", "user:r", at(2025, 10, 9, 11))
    collected(customer)
    refused(
        customer,
        "customer.vip_tier_not_higher",
        lambda: customer.grant_vip("A-2", "gold", ["x"], at(2025, 10, 10), POLICY),
    )


def test_rejecting_records_the_reasons_and_keeps_the_tier() -> None:
    customer = in_review()
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.reject_vip("A-1", [], at(2025, 9, 29)),
    )
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.reject_vip("A-1", ["x"], at(2025, 9, 28, 8)),
    )
    customer.reject_vip("A-1", ["近12个月品类不足", "  请补充资料 "], at(2025, 9, 29))
    [event] = collected(customer)
    assert isinstance(event, Customer.VipRejected)
    assert event.reasons == ["近12个月品类不足", "请补充资料"]
    assert customer.vip_applications["A-1"]["status"] == "rejected"
    assert customer.tier is None


# -- notification ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notified_at", "late"),
    [
        (at(2025, 10, 13, 17, 59), False),
        (at(2025, 10, 13, 18, 0), False),
        (at(2025, 10, 14, 9, 0), True),
    ],
)
def test_a_notification_after_the_deadline_is_recorded_late(
    notified_at: datetime, late: bool
) -> None:
    customer = in_review()
    customer.reject_vip("A-1", ["资料不全"], at(2025, 9, 29))
    customer.notify_vip_decision("A-1", "email", notified_at)
    event = collected(customer)[-1]
    assert isinstance(event, Customer.VipDecisionNotified)
    assert (event.notify_by, event.late) == (datetime(2025, 10, 13, 18, tzinfo=SH), late)
    application = customer.vip_applications["A-1"]
    assert (application["notified_at"], application["channel"], application["late"]) == (
        notified_at,
        "email",
        late,
    )


def test_overdue_notifications_are_visible_until_notified() -> None:
    customer = in_review()
    assert customer.vip_notifications_overdue(at(2025, 10, 13, 18)) == []
    assert customer.vip_notifications_overdue(at(2025, 10, 13, 18, 1)) == ["A-1"]
    customer.grant_vip("A-1", "gold", ["ok"], at(2025, 10, 13, 17), POLICY)
    assert customer.vip_notifications_overdue(at(2025, 10, 14)) == ["A-1"]
    customer.notify_vip_decision("A-1", "phone", at(2025, 10, 14))
    assert customer.vip_notifications_overdue(at(2025, 10, 14)) == []


def test_notification_refusals() -> None:
    customer = in_review()
    refused(
        customer,
        "customer.vip_not_decided",
        lambda: customer.notify_vip_decision("A-1", "sms", at(2025, 9, 29)),
    )
    customer.grant_vip("A-1", "gold", ["ok"], at(2025, 9, 29, 15), POLICY)
    collected(customer)
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.notify_vip_decision("A-1", "pigeon", at(2025, 9, 30)),
    )
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.notify_vip_decision("A-1", "sms", at(2025, 9, 29, 14)),
    )
    refused(
        customer,
        "customer.unknown_vip_application",
        lambda: customer.notify_vip_decision("A-2", "sms", at(2025, 9, 30)),
    )
    customer.notify_vip_decision("A-1", "sms", at(2025, 9, 30))
    collected(customer)
    refused(
        customer,
        "customer.vip_already_notified",
        lambda: customer.notify_vip_decision("A-1", "sms", at(2025, 10, 1)),
    )


# -- tier moves --------------------------------------------------------------------------------------


def test_a_purchase_that_qualifies_for_a_higher_tier_upgrades_at_once() -> None:
    customer = member("silver")  # silver from 2025-09-29: ¥50,000, 4 purchases, 1 category
    # Up to gold: ¥200,000, 8 purchases and 2 categories in 12 months.
    for n, day in enumerate([date(2025, 10, d) for d in (10, 11, 12)], start=10):
        customer.record_purchase(f"SO-{n}", Money.parse("10000.00"), "耗材", day, POLICY)
    collected(customer)

    customer.record_purchase("SO-20", Money.parse("120000.00"), "培训", date(2025, 10, 20), POLICY)

    events = collected(customer)
    assert names(events) == ["PurchaseRecorded", "PointsEarned", "TierChanged"]
    earned, changed = events[1], events[2]
    assert (earned.tier, earned.points) == ("silver", 120000)  # the tier held when buying
    assert (changed.from_tier, changed.to_tier, changed.movement) == ("silver", "gold", "upgraded")
    assert (changed.effective_on, changed.expires_on) == (date(2025, 10, 20), date(2026, 10, 20))
    assert changed.basis["spend_12m"] == Money.parse("200000")
    assert (customer.tier, customer.tier_since, customer.tier_expires_on) == (
        "gold",
        date(2025, 10, 20),
        date(2026, 10, 20),
    )
    assert customer.tier_on(date(2025, 10, 19)) == "silver"
    assert customer.tier_on(date(2025, 10, 20)) == "gold"


def test_without_a_policy_or_a_tier_a_purchase_changes_no_tier() -> None:
    customer = member("silver")
    customer.record_purchase("SO-9", Money.parse("900000"), "设备", date(2025, 10, 20))
    assert names(collected(customer)) == ["PurchaseRecorded"]
    non_member = buyer(GOLD_BUYING)
    non_member.record_purchase("SO-9", Money.parse("900000"), "设备", date(2025, 10, 20), POLICY)
    assert names(collected(non_member)) == ["PurchaseRecorded"]
    assert non_member.tier is None


def test_a_purchase_dated_before_the_last_tier_move_upgrades_nothing() -> None:
    customer = member("silver")
    customer.record_purchase("SO-9", Money.parse("900000"), "设备", date(2025, 9, 1), POLICY)
    assert names(collected(customer)) == ["PurchaseRecorded"]  # and no points: no tier then
    assert customer.tier == "silver"


def test_nothing_is_evaluated_before_the_term_ends() -> None:
    customer = member("gold")
    assert not customer.tier_due(date(2026, 9, 28))
    customer.evaluate_tier(date(2026, 9, 28), POLICY)
    assert collected(customer) == []
    assert customer.tier_due(date(2026, 9, 29))


def test_a_quiet_year_downgrades_gold_one_step_to_silver_from_the_end_of_the_term() -> None:
    customer = member("gold")  # no purchase from 2025-09-29 to 2026-09-28

    customer.evaluate_tier(date(2026, 10, 5), POLICY)  # the scheduler ran a week late

    [event] = collected(customer)
    assert isinstance(event, Customer.TierChanged)
    assert (event.from_tier, event.to_tier, event.movement) == ("gold", "silver", "downgraded")
    assert (event.effective_on, event.expires_on) == (date(2026, 9, 29), date(2027, 9, 29))
    assert event.basis["window_start"] == date(2025, 9, 29)
    assert event.basis["window_end"] == date(2026, 9, 28)
    assert event.basis["purchases_12m"] == 0
    assert "降级" in event.reason
    assert (customer.tier, customer.tier_since) == ("silver", date(2026, 9, 29))

    customer.evaluate_tier(date(2026, 10, 6), POLICY)
    assert collected(customer) == []  # evaluated once


def test_a_quiet_year_lapses_silver() -> None:
    customer = member("silver")
    customer.evaluate_tier(date(2026, 9, 29), POLICY)
    [event] = collected(customer)
    assert (event.to_tier, event.movement, event.expires_on) == (None, "lapsed", None)
    assert (customer.tier, customer.tier_since, customer.tier_expires_on) == (None, None, None)
    assert customer.tier_policy_version is None
    customer.evaluate_tier(date(2027, 9, 29), POLICY)
    assert collected(customer) == []


def test_a_member_who_still_qualifies_is_renewed_for_another_term() -> None:
    customer = member("silver")
    for n, month in enumerate(range(1, 5), start=10):
        customer.record_purchase(
            f"SO-{n}", Money.parse("12500"), "耗材", date(2026, month, 10), POLICY
        )
    collected(customer)
    customer.evaluate_tier(date(2026, 9, 29), POLICY)
    [event] = collected(customer)
    assert (event.movement, event.to_tier, event.expires_on) == (
        "renewed",
        "silver",
        date(2027, 9, 29),
    )
    assert customer.tier_since == date(2025, 9, 29)  # held without a break
    assert customer.tier_expires_on == date(2027, 9, 29)


def test_a_purchase_on_the_day_the_term_ends_counts_for_the_next_term() -> None:
    customer = member("silver")
    customer.record_purchase("SO-10", Money.parse("50000"), "耗材", date(2026, 9, 29))
    for n, month in enumerate(range(1, 4), start=11):
        customer.record_purchase(f"SO-{n}", Money.parse("1"), "耗材", date(2026, month, 10))
    collected(customer)
    customer.evaluate_tier(date(2026, 9, 29), POLICY)
    assert collected(customer)[0].movement == "lapsed"


def test_under_to_qualified_a_quiet_year_drops_gold_to_no_tier() -> None:
    customer = member("gold")
    customer.evaluate_tier(date(2026, 9, 29), dataclasses.replace(POLICY, downgrade="to_qualified"))
    [event] = collected(customer)
    assert (event.to_tier, event.movement) == (None, "lapsed")


def test_a_customer_without_a_tier_is_not_evaluated() -> None:
    customer = buyer(GOLD_BUYING)
    assert not customer.tier_due(date(2030, 1, 1))
    customer.evaluate_tier(date(2030, 1, 1), POLICY)
    assert collected(customer) == []


def test_an_evaluation_day_must_be_a_date() -> None:
    customer = member("gold")
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.evaluate_tier(at(2026, 9, 29), POLICY),
    )


def test_benefits_follow_the_tier_held() -> None:
    customer = buyer(GOLD_BUYING)
    assert customer.benefits(POLICY) is None
    assert not customer.needs_account_manager(POLICY)
    customer = member("gold")
    assert customer.benefits(POLICY) == {
        "tier": "gold",
        "label": "金卡",
        "discount_rate": Decimal("0.08"),
        "priority_service": True,
        "birthday_gift": True,
        "dedicated_manager": True,
        "points_per_yuan": Decimal("1.5"),
    }
    assert customer.needs_account_manager(POLICY)
    customer.assign_account_manager("m001", "周敏")
    assert not customer.needs_account_manager(POLICY)


def test_the_basis_query_reads_the_rolling_twelve_months() -> None:
    customer = buyer(GOLD_BUYING)
    assert customer.basis(date(2025, 9, 26)) == Basis(
        spend_12m=Money.parse("200000"),
        purchases_12m=8,
        categories=("培训", "耗材"),
        window_start=date(2024, 9, 27),
        window_end=date(2025, 9, 26),
    )
    assert customer.basis(date(2026, 1, 10)).purchases_12m == 7


# -- points --------------------------------------------------------------------------------------------


def points_member() -> Customer:
    """Gold from 2025-09-29 with three lots: 150 (2025-10-01), 300 (2025-11-01),
    15 (2025-12-01), expiring 24 months after each."""
    customer = member("gold")
    for ref, amount, day in [
        ("P-1", "100.00", date(2025, 10, 1)),
        ("P-2", "200.99", date(2025, 11, 1)),
        ("P-3", "10.00", date(2025, 12, 1)),
    ]:
        customer.record_purchase(ref, Money.parse(amount), "耗材", day, POLICY)
    collected(customer)
    return customer


def test_a_member_earns_points_at_the_tiers_rate_rounded_down_for_24_months() -> None:
    customer = member("gold")
    customer.record_purchase("P-1", Money.parse("200.99"), "耗材", date(2025, 11, 1), POLICY)
    _, earned = collected(customer)
    assert isinstance(earned, Customer.PointsEarned)
    assert (earned.order_ref, earned.points, earned.tier) == ("P-1", 301, "gold")
    assert earned.points_per_yuan == Decimal("1.5")
    assert (earned.earned_on, earned.expires_on) == (date(2025, 11, 1), date(2027, 11, 1))
    assert customer.points_balance == 301


def test_no_points_in_another_currency_or_too_small_an_amount() -> None:
    customer = member("gold")
    customer.record_purchase("P-1", Money.parse("100", "USD"), "耗材", date(2025, 11, 1), POLICY)
    customer.record_purchase("P-2", Money.parse("0.50"), "耗材", date(2025, 11, 2), POLICY)
    assert names(collected(customer)) == ["PurchaseRecorded", "PurchaseRecorded"]
    assert customer.points_balance == 0


def test_points_are_redeemed_from_the_lots_that_expire_first() -> None:
    customer = points_member()
    assert customer.points_balance == 150 + 301 + 15

    customer.redeem_points("R-1", 200, "兑换礼品", at(2025, 12, 5))

    [event] = collected(customer)
    assert isinstance(event, Customer.PointsRedeemed)
    assert event.lots == [{"lot": "P-1", "points": 150}, {"lot": "P-2", "points": 50}]
    assert [lot["remaining"] for lot in customer.points_lots] == [0, 251, 15]
    assert customer.points_balance == 266
    assert customer.points_redemptions["R-1"]["purpose"] == "兑换礼品"


def test_points_not_yet_earned_on_the_day_are_not_redeemable() -> None:
    customer = points_member()
    assert customer.points_usable(date(2025, 11, 15)) == 451
    refused(
        customer,
        "customer.insufficient_points",
        lambda: customer.redeem_points("R-1", 452, "x", at(2025, 11, 15)),
    )


def test_redemption_refusals() -> None:
    customer = points_member()
    error = refused(
        customer,
        "customer.insufficient_points",
        lambda: customer.redeem_points("R-1", 467, "x", at(2025, 12, 5)),
    )
    assert error.details == {"available": 466, "requested": 467}
    bad_points: list[Any] = [0, -5, True, 1.5, "10"]
    for bad in bad_points:
        refused(
            customer,
            "customer.invalid_field",
            partial(customer.redeem_points, "R-1", bad, "x", at(2025, 12, 5)),
        )
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.redeem_points("R-1", 1, " ", at(2025, 12, 5)),
    )
    customer.redeem_points("R-1", 10, "x", at(2025, 12, 5))
    collected(customer)
    refused(
        customer,
        "customer.duplicate_id",
        lambda: customer.redeem_points("R-1", 10, "x", at(2025, 12, 6)),
    )
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.redeem_points("R-2", 10, "x", at(2025, 12, 4)),
    )


def test_lots_past_their_expiry_cannot_be_redeemed_even_before_they_are_expired() -> None:
    customer = points_member()
    # P-1 was usable through 2027-10-01; on 2027-10-02 only P-2 and P-3 are left.
    assert customer.points_usable(date(2027, 10, 1)) == 466
    assert customer.points_usable(date(2027, 10, 2)) == 316
    refused(
        customer,
        "customer.insufficient_points",
        lambda: customer.redeem_points("R-1", 317, "x", at(2027, 10, 2)),
    )


def test_expiring_points_records_one_event_for_every_lot_past_its_expiry_once() -> None:
    customer = points_member()
    customer.redeem_points("R-1", 100, "x", at(2025, 12, 5))
    collected(customer)
    # P-1 (50 left) is usable through 2027-10-01, P-2 (301) through 2027-11-01.
    assert customer.points_expiring(date(2027, 10, 1)) == 0
    assert customer.points_expiring(date(2027, 10, 2)) == 50
    assert customer.points_expiring(date(2027, 11, 2)) == 50 + 301

    customer.expire_points(date(2027, 11, 2))

    [event] = collected(customer)
    assert isinstance(event, Customer.PointsExpired)
    assert (event.points, event.lots, event.expired_on) == (351, ["P-1", "P-2"], date(2027, 11, 2))
    assert customer.points_balance == 15
    assert [(lot["remaining"], lot["expired"]) for lot in customer.points_lots] == [
        (0, 50),
        (0, 301),
        (15, 0),
    ]
    customer.expire_points(date(2027, 11, 2))
    customer.expire_points(date(2027, 11, 3))
    assert collected(customer) == []


def test_nothing_expires_while_every_lot_is_valid() -> None:
    customer = points_member()
    customer.expire_points(date(2027, 10, 1))  # P-1's last day
    assert collected(customer) == []


# -- coupons ---------------------------------------------------------------------------------------------


def coupon_holder() -> Customer:
    customer = member("gold")
    customer.issue_coupon(
        "C-1",
        "满千减百",
        date(2025, 12, 31),
        "会员生日礼",
        at(2025, 10, 9),
        value=Money.parse("100"),
        min_spend=Money.parse("1000"),
    )
    customer.issue_coupon(
        "C-2",
        "九五折",
        date(2025, 10, 31),
        "挽回活动",
        at(2025, 10, 9),
        discount_rate=Decimal("0.05"),
    )
    collected(customer)
    return customer


def test_a_coupon_has_a_value_or_a_discount_rate() -> None:
    customer = coupon_holder()
    first, second = customer.coupons["C-1"], customer.coupons["C-2"]
    assert (first["value"], first["discount_rate"], first["min_spend"]) == (
        Money.parse("100"),
        None,
        Money.parse("1000"),
    )
    assert (second["value"], second["discount_rate"]) == (None, Decimal("0.05"))
    assert first["status"] == second["status"] == "issued"
    assert first["issued_on"] == date(2025, 10, 9)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"value": Money.parse("10"), "discount_rate": Decimal("0.1")},
        {"discount_rate": Decimal(0)},
        {"discount_rate": Decimal(1)},
        {"discount_rate": 0.1},
        {"value": Money.parse("0")},
        {"value": Money.parse("10"), "min_spend": Money.parse("100", "USD")},
        {"value": Money.parse("10"), "min_spend": Money.parse("-1")},
        {"value": Money.parse("10"), "valid_until": date(2025, 10, 8)},
        {"value": Money.parse("10"), "description": ""},
        {"value": Money.parse("10"), "coupon_id": "C 9"},
    ],
)
def test_a_bad_coupon_is_refused(overrides: dict[str, Any]) -> None:
    customer = coupon_holder()
    fields: dict[str, Any] = {
        "coupon_id": "C-9",
        "description": "券",
        "valid_until": date(2025, 12, 31),
        "reason": "活动",
        "at": at(2025, 10, 9),
    } | overrides
    refused(customer, "customer.invalid_field", lambda: customer.issue_coupon(**fields))


def test_a_coupon_id_is_issued_once() -> None:
    customer = coupon_holder()
    refused(
        customer,
        "customer.duplicate_id",
        lambda: customer.issue_coupon(
            "C-1", "x", date(2025, 12, 31), "x", at(2025, 10, 9), value=Money.parse("1")
        ),
    )


def test_a_coupon_is_redeemed_once() -> None:
    customer = coupon_holder()
    customer.record_purchase("SO-50", Money.parse("1000"), "耗材", date(2025, 10, 10))
    collected(customer)
    customer.redeem_coupon("C-1", "SO-50", at(2025, 10, 10))
    [event] = collected(customer)
    assert isinstance(event, Customer.CouponRedeemed)
    assert customer.coupons["C-1"]["status"] == "redeemed"
    assert customer.coupons["C-1"]["order_ref"] == "SO-50"
    refused(
        customer,
        "customer.coupon_redeemed",
        lambda: customer.redeem_coupon("C-1", "SO-51", at(2025, 10, 11)),
    )


def test_coupon_redemption_refusals() -> None:
    customer = coupon_holder()
    customer.record_purchase("SO-50", Money.parse("999.99"), "耗材", date(2025, 10, 10))
    collected(customer)
    refused(
        customer,
        "customer.coupon_min_spend_not_met",
        lambda: customer.redeem_coupon("C-1", "SO-50", at(2025, 10, 10)),
    )
    refused(
        customer,
        "customer.coupon_expired",
        lambda: customer.redeem_coupon("C-2", "SO-60", at(2025, 11, 1)),
    )
    refused(
        customer,
        "customer.unknown_coupon",
        lambda: customer.redeem_coupon("C-9", "SO-60", at(2025, 10, 10)),
    )
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.redeem_coupon("C-2", "SO-60", at(2025, 10, 8)),
    )
    # An order not (yet) recorded cannot be checked against the minimum spend.
    customer.redeem_coupon("C-1", "SO-61", at(2025, 10, 10))
    customer.redeem_coupon("C-2", "SO-62", at(2025, 10, 31, 23, 59))
    assert names(collected(customer)) == ["CouponRedeemed", "CouponRedeemed"]


def test_expiring_coupons_records_one_event_per_coupon_still_issued_past_its_date() -> None:
    customer = coupon_holder()
    customer.expire_coupons(date(2025, 10, 31))
    assert collected(customer) == []

    customer.expire_coupons(date(2026, 1, 1))

    events = collected(customer)
    assert names(events) == ["CouponExpired", "CouponExpired"]
    assert [(e.coupon_id, e.expired_on) for e in events] == [
        ("C-1", date(2026, 1, 1)),
        ("C-2", date(2026, 1, 1)),
    ]
    assert customer.coupons["C-2"]["status"] == "expired"
    customer.expire_coupons(date(2026, 1, 2))
    assert collected(customer) == []
    refused(
        customer,
        "customer.coupon_expired",
        lambda: customer.redeem_coupon("C-1", "SO-70", at(2025, 12, 31)),
    )


def test_a_redeemed_coupon_does_not_expire() -> None:
    customer = coupon_holder()
    customer.redeem_coupon("C-2", "SO-60", at(2025, 10, 10))
    customer.expire_coupons(date(2025, 11, 1))
    assert names(collected(customer)) == ["CouponRedeemed"]
    assert customer.coupons["C-2"]["status"] == "redeemed"


# -- value-added services ----------------------------------------------------------------------------


def test_a_value_added_service_is_applied_for_reviewed_and_implemented() -> None:
    customer = member("gold")
    customer.apply_for_service("S-1", "产品试用", "希望试用新型号", at(2025, 10, 9))
    customer.review_service("S-1", True, [], "user:service", at(2025, 10, 10))
    customer.implement_service("S-1", "已寄送试用品", at(2025, 10, 15))
    assert names(collected(customer)) == [
        "ServiceApplied",
        "ServiceReviewed",
        "ServiceImplemented",
    ]
    service = customer.service_applications["S-1"]
    assert (service["status"], service["reviewer_id"]) == ("implemented", "user:service")
    assert (service["applied_at"], service["decided_at"], service["implemented_at"]) == (
        at(2025, 10, 9),
        at(2025, 10, 10),
        at(2025, 10, 15),
    )


def test_a_rejected_service_needs_a_reason_and_is_not_implemented() -> None:
    customer = member("gold")
    customer.apply_for_service("S-1", "个性化定制", None, at(2025, 10, 9))
    collected(customer)
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.review_service("S-1", False, [], "user:s", at(2025, 10, 10)),
    )
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.review_service("S-1", "no", ["x"], "user:s", at(2025, 10, 10)),  # type: ignore[arg-type]
    )
    customer.review_service("S-1", False, ["暂不提供该项服务"], "user:s", at(2025, 10, 10))
    collected(customer)
    assert customer.service_applications["S-1"]["status"] == "rejected"
    refused(
        customer,
        "customer.service_application_status",
        lambda: customer.implement_service("S-1", None, at(2025, 10, 11)),
    )
    refused(
        customer,
        "customer.service_application_status",
        lambda: customer.review_service("S-1", True, [], "user:s", at(2025, 10, 11)),
    )


def test_service_refusals() -> None:
    customer = member("gold")
    customer.apply_for_service("S-1", "专属活动邀请", None, at(2025, 10, 9))
    collected(customer)
    refused(
        customer,
        "customer.duplicate_id",
        lambda: customer.apply_for_service("S-1", "x", None, at(2025, 10, 9)),
    )
    refused(
        customer,
        "customer.unknown_service_application",
        lambda: customer.review_service("S-9", True, [], "user:s", at(2025, 10, 10)),
    )
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.review_service("S-1", True, [], "user:s", at(2025, 10, 8)),
    )
    refused(
        customer,
        "customer.service_application_status",
        lambda: customer.implement_service("S-1", None, at(2025, 10, 10)),
    )
    churned = buyer(GOLD_BUYING)
    churned.churn("迁往外地", "relocation")
    collected(churned)
    refused(
        churned,
        "customer.churned",
        lambda: churned.apply_for_service("S-1", "x", None, at(2025, 10, 9)),
    )


# -- growth plans -------------------------------------------------------------------------------------


def planned() -> Customer:
    customer = member("gold")
    customer.start_growth_plan(
        "G-1",
        [
            {"metric": "年度采购额(万元)", "target": Decimal(50)},
            {"metric": "品类数", "target": "3"},
        ],
        date(2026, 6, 30),
        at(2025, 10, 9),
    )
    collected(customer)
    return customer


def test_a_growth_plan_tracks_progress_towards_its_goals() -> None:
    customer = planned()
    customer.record_growth_progress("G-1", "年度采购额(万元)", Decimal("12.5"), at(2025, 11, 1))
    customer.record_growth_progress("G-1", "年度采购额(万元)", Decimal("20"), at(2025, 12, 1))
    assert names(collected(customer)) == ["GrowthProgressRecorded", "GrowthProgressRecorded"]
    plan = customer.growth_plans["G-1"]
    assert plan["goals"] == [
        {"metric": "年度采购额(万元)", "target": Decimal(50), "progress": Decimal(20)},
        {"metric": "品类数", "target": Decimal(3), "progress": Decimal(0)},
    ]
    assert plan["status"] == "active"


def test_a_plan_is_achieved_only_when_every_goal_is_reached() -> None:
    customer = planned()
    customer.record_growth_progress("G-1", "年度采购额(万元)", Decimal(60), at(2025, 11, 1))
    collected(customer)
    refused(
        customer,
        "customer.growth_goals_not_met",
        lambda: customer.close_growth_plan("G-1", "achieved", at(2025, 11, 2)),
    )
    customer.record_growth_progress("G-1", "品类数", Decimal(3), at(2025, 11, 2))
    customer.close_growth_plan("G-1", "achieved", at(2025, 11, 3))
    assert names(collected(customer)) == ["GrowthProgressRecorded", "GrowthPlanClosed"]
    plan = customer.growth_plans["G-1"]
    assert (plan["status"], plan["closed_at"]) == ("achieved", at(2025, 11, 3))
    refused(
        customer,
        "customer.growth_plan_closed",
        lambda: customer.record_growth_progress("G-1", "品类数", Decimal(4), at(2025, 11, 4)),
    )


def test_a_plan_is_missed_only_after_its_due_date_with_a_goal_short() -> None:
    customer = planned()
    refused(
        customer,
        "customer.growth_plan_not_missed",
        lambda: customer.close_growth_plan("G-1", "missed", at(2026, 6, 30)),
    )
    customer.close_growth_plan("G-1", "missed", at(2026, 7, 1))
    assert customer.growth_plans["G-1"]["status"] == "missed"


def test_a_plan_may_be_cancelled_while_active() -> None:
    customer = planned()
    customer.close_growth_plan("G-1", "cancelled", at(2025, 10, 10))
    assert customer.growth_plans["G-1"]["status"] == "cancelled"
    collected(customer)
    refused(
        customer,
        "customer.growth_plan_closed",
        lambda: customer.close_growth_plan("G-1", "cancelled", at(2025, 10, 11)),
    )


def test_growth_progress_refusals() -> None:
    customer = planned()
    cases: list[tuple[str, Callable[[], object]]] = [
        (
            "customer.unknown_growth_plan",
            lambda: customer.record_growth_progress("G-9", "品类数", Decimal(1), at(2025, 11, 1)),
        ),
        (
            "customer.unknown_growth_metric",
            lambda: customer.record_growth_progress("G-1", "满意度", Decimal(1), at(2025, 11, 1)),
        ),
        (
            "customer.invalid_field",
            lambda: customer.record_growth_progress("G-1", "品类数", Decimal(-1), at(2025, 11, 1)),
        ),
        (
            "customer.invalid_field",
            lambda: customer.record_growth_progress("G-1", "品类数", 1.5, at(2025, 11, 1)),  # type: ignore[arg-type]
        ),
        (
            "customer.time_before_previous",
            lambda: customer.record_growth_progress("G-1", "品类数", Decimal(1), at(2025, 10, 8)),
        ),
        (
            "customer.invalid_field",
            lambda: customer.close_growth_plan("G-1", "won", at(2025, 11, 1)),
        ),
    ]
    for code, command in cases:
        refused(customer, code, command)


@pytest.mark.parametrize(
    ("goals", "due_on"),
    [
        ([], date(2026, 6, 30)),
        ([{"metric": "a", "target": Decimal(1)}] * 2, date(2026, 6, 30)),
        ([{"metric": "a", "target": Decimal(0)}], date(2026, 6, 30)),
        ([{"metric": "a", "target": 1.5}], date(2026, 6, 30)),
        ([{"metric": "", "target": Decimal(1)}], date(2026, 6, 30)),
        ([{"metric": f"m{n}", "target": Decimal(1)} for n in range(11)], date(2026, 6, 30)),
        ({"metric": "a", "target": Decimal(1)}, date(2026, 6, 30)),
        (["a"], date(2026, 6, 30)),
        ([{"metric": "a", "target": Decimal(1)}], date(2025, 10, 9)),
    ],
)
def test_a_bad_growth_plan_is_refused(goals: Any, due_on: date) -> None:
    customer = planned()
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.start_growth_plan("G-2", goals, due_on, at(2025, 10, 9)),
    )


def test_a_plan_id_is_used_once() -> None:
    customer = planned()
    refused(
        customer,
        "customer.duplicate_id",
        lambda: customer.start_growth_plan(
            "G-1", [{"metric": "a", "target": Decimal(1)}], date(2026, 1, 1), at(2025, 10, 9)
        ),
    )


# -- prevention tasks, churn and win-back ------------------------------------------------------------


def test_one_prevention_task_is_open_at_a_time() -> None:
    customer = buyer(GOLD_BUYING)
    customer.raise_prevention_task(
        "T-1", ["90天未下单", "近期投诉3次"], "m001", date(2025, 10, 16), at(2025, 10, 9)
    )
    [event] = collected(customer)
    assert isinstance(event, Customer.PreventionTaskRaised)
    assert customer.open_prevention_task == customer.prevention_tasks["T-1"]
    assert customer.prevention_tasks["T-1"]["status"] == "open"
    refused(
        customer,
        "customer.prevention_task_open",
        lambda: customer.raise_prevention_task(
            "T-2", ["x"], None, date(2025, 10, 20), at(2025, 10, 10)
        ),
    )
    customer.complete_prevention_task("T-1", "已回访，客户恢复下单", at(2025, 10, 12))
    customer.raise_prevention_task("T-2", ["满意度低"], None, date(2025, 10, 20), at(2025, 10, 13))
    assert names(collected(customer)) == ["PreventionTaskCompleted", "PreventionTaskRaised"]
    done = customer.prevention_tasks["T-1"]
    assert (done["status"], done["outcome"], done["completed_at"]) == (
        "done",
        "已回访，客户恢复下单",
        at(2025, 10, 12),
    )


def test_prevention_task_refusals() -> None:
    customer = buyer(GOLD_BUYING)
    cases: list[tuple[str, Callable[[], object]]] = [
        (
            "customer.invalid_field",
            lambda: customer.raise_prevention_task(
                "T-1", [], None, date(2025, 10, 16), at(2025, 10, 9)
            ),
        ),
        (
            "customer.invalid_field",
            lambda: customer.raise_prevention_task(
                "T-1", ["x"], None, date(2025, 10, 8), at(2025, 10, 9)
            ),
        ),
        (
            "customer.unknown_prevention_task",
            lambda: customer.complete_prevention_task("T-9", "x", at(2025, 10, 9)),
        ),
    ]
    for code, command in cases:
        refused(customer, code, command)
    customer.raise_prevention_task("T-1", ["x"], None, date(2025, 10, 9), at(2025, 10, 9))
    collected(customer)
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.complete_prevention_task("T-1", "x", at(2025, 10, 8)),
    )
    customer.complete_prevention_task("T-1", "x", at(2025, 10, 9, 11))
    collected(customer)
    refused(
        customer,
        "customer.prevention_task_done",
        lambda: customer.complete_prevention_task("T-1", "x", at(2025, 10, 10)),
    )
    refused(
        customer,
        "customer.duplicate_id",
        lambda: customer.raise_prevention_task(
            "T-1", ["x"], None, date(2025, 10, 20), at(2025, 10, 10)
        ),
    )
    customer.churn("价格", "price")
    collected(customer)
    refused(
        customer,
        "customer.churned",
        lambda: customer.raise_prevention_task(
            "T-2", ["x"], None, date(2025, 10, 20), at(2025, 10, 10)
        ),
    )


def test_churn_records_its_cause_and_win_back_credits_the_campaign() -> None:
    customer = buyer(GOLD_BUYING)
    customer.churn("竞品价格更低", "competitor")
    customer.win_back("定向优惠回访", campaign_id="CMP-2025-09")
    churned, won = collected(customer)
    assert (churned.reason, churned.cause) == ("竞品价格更低", "competitor")
    assert (won.action, won.campaign_id) == ("定向优惠回访", "CMP-2025-09")
    assert customer.churn_cause == "competitor"
    assert customer.win_back_credit == {"action": "定向优惠回访", "campaign_id": "CMP-2025-09"}
    assert customer.status == CustomerStatus.WON_BACK


def test_churn_and_win_back_default_to_cause_other_and_no_campaign() -> None:
    customer = buyer(GOLD_BUYING)
    customer.churn("业务调整")
    customer.win_back("回访")
    assert customer.churn_cause == "other"
    assert customer.win_back_credit == {"action": "回访", "campaign_id": None}


def test_an_unknown_churn_cause_or_a_bad_campaign_is_refused() -> None:
    customer = buyer(GOLD_BUYING)
    refused(customer, "customer.invalid_field", lambda: customer.churn("x", "weather"))
    customer.churn("x", "service")
    collected(customer)
    refused(customer, "customer.invalid_field", lambda: customer.win_back("x", "CMP 1"))


def _v1(mapper: Mapper[Any], event: Any, dropped: str) -> StoredEvent:
    """The event as version 1 stored it: without the field version 2 added."""
    stored = mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state[dropped]
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode("utf-8"),
    )


def test_stored_version_1_churn_and_win_back_events_still_load() -> None:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO()):
        transcoder.register(transcoding)
    mapper: Mapper[Any] = Mapper(transcoder)
    customer = Customer.register(
        new_id=uuid4(),
        kind="individual",
        name="李娜",
        phone="13912345678",
        registered_on=REGISTERED_ON,
    )
    customer.churn("价格原因转向竞品", "price")
    customer.win_back("专属折扣", "CMP-1")
    registered, churned, won = collected(customer)

    old_churned = mapper.to_domain_event(_v1(mapper, churned, "cause"))
    old_won = mapper.to_domain_event(_v1(mapper, won, "campaign_id"))

    assert isinstance(old_churned, Customer.Churned)
    assert (old_churned.reason, old_churned.cause) == ("价格原因转向竞品", "other")
    assert isinstance(old_won, Customer.WonBack)
    assert (old_won.action, old_won.campaign_id) == ("专属折扣", None)
    rebuilt = rebuild([registered, old_churned, old_won])
    assert rebuilt.status == CustomerStatus.WON_BACK
    assert rebuilt.churn_cause == "other"
    assert rebuilt.win_back_credit == {"action": "专属折扣", "campaign_id": None}
    # Version 2 events are stored with their version and read back whole.
    reread: Any = mapper.to_domain_event(mapper.to_stored_event(churned))
    assert (type(reread), reread.cause) == (Customer.Churned, "price")


def test_the_upcasts_fill_in_the_new_fields() -> None:
    churned: dict[str, Any] = {"reason": "x"}
    Customer.Churned.upcast_v1_v2(churned)
    assert churned == {"reason": "x", "cause": "other"}
    won: dict[str, Any] = {"action": "y"}
    Customer.WonBack.upcast_v1_v2(won)
    assert won == {"action": "y", "campaign_id": None}


# -- relationship breakdown and repair -------------------------------------------------------------


def test_a_broken_relationship_is_repaired_with_actions() -> None:
    customer = buyer(GOLD_BUYING)
    assert customer.relationship == "healthy"
    customer.break_relationship("重大质量事故后拒绝沟通", at(2025, 10, 9))
    customer.repair_relationship(["高层拜访", "赔偿方案"], at(2025, 11, 1))
    assert names(collected(customer)) == ["RelationshipBroken", "RelationshipRepaired"]
    assert customer.relationship == "healthy"
    assert [h["relationship"] for h in customer.relationship_history] == ["broken", "healthy"]
    assert customer.relationship_history[1]["actions"] == ["高层拜访", "赔偿方案"]


def test_relationship_refusals() -> None:
    customer = buyer(GOLD_BUYING)
    refused(
        customer,
        "customer.relationship_healthy",
        lambda: customer.repair_relationship(["x"], at(2025, 10, 9)),
    )
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.break_relationship(" ", at(2025, 10, 9)),
    )
    customer.break_relationship("拒绝沟通", at(2025, 10, 9))
    collected(customer)
    refused(
        customer,
        "customer.relationship_broken",
        lambda: customer.break_relationship("again", at(2025, 10, 10)),
    )
    refused(
        customer,
        "customer.invalid_field",
        lambda: customer.repair_relationship([], at(2025, 10, 10)),
    )
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.repair_relationship(["x"], at(2025, 10, 8)),
    )


# -- replay --------------------------------------------------------------------------------------------


def a_membership_story() -> tuple[Customer, list[Any]]:
    customer = Customer.register(
        new_id=uuid4(),
        kind="individual",
        name="王芳",
        phone="13712345678",
        registered_on=REGISTERED_ON,
    )
    for n, (day, amount, category) in enumerate(SILVER_BUYING, start=1):
        customer.record_purchase(f"SO-{n}", Money.parse(amount), category, day, POLICY)
    customer.apply_for_vip("A-1", "gold", at(2025, 9, 26), POLICY, CALENDAR)
    customer.start_vip_review("A-1", "user:r", at(2025, 9, 28))
    customer.grant_vip("A-1", "silver", ["银卡条件满足"], at(2025, 9, 29), POLICY)
    customer.notify_vip_decision("A-1", "wechat", at(2025, 10, 14))
    customer.record_purchase("SO-10", Money.parse("150000.50"), "培训", date(2025, 10, 20), POLICY)
    # The eighth purchase in 12 months (SO-13) reaches gold: upgraded from 2025-10-23.
    for n in range(11, 14):
        customer.record_purchase(
            f"SO-{n}", Money.parse("100"), "耗材", date(2025, 10, n + 10), POLICY
        )
    customer.redeem_points("R-1", 1000, "兑换礼品", at(2025, 11, 1))
    customer.issue_coupon(
        "C-1", "满千减百", date(2025, 12, 31), "升级礼", at(2025, 11, 1), value=Money.parse("100")
    )
    customer.redeem_coupon("C-1", "SO-13", at(2025, 11, 2))
    customer.apply_for_service("S-1", "产品试用", None, at(2025, 11, 3))
    customer.review_service("S-1", True, ["金卡权益"], "user:s", at(2025, 11, 4))
    customer.implement_service("S-1", None, at(2025, 11, 5))
    customer.start_growth_plan(
        "G-1", [{"metric": "品类数", "target": Decimal(3)}], date(2026, 6, 30), at(2025, 11, 6)
    )
    customer.record_growth_progress("G-1", "品类数", Decimal(2), at(2025, 12, 1))
    customer.raise_prevention_task("T-1", ["满意度低"], "m001", date(2025, 12, 10), at(2025, 12, 2))
    customer.complete_prevention_task("T-1", "已回访", at(2025, 12, 3))
    customer.break_relationship("投诉处理不满", at(2025, 12, 4))
    customer.repair_relationship(["经理拜访"], at(2025, 12, 20))
    # A quiet year after the upgrade: gold → silver, one step.
    customer.evaluate_tier(date(2026, 10, 23), POLICY)
    customer.expire_points(date(2027, 11, 1))
    customer.churn("转向竞品", "competitor")
    customer.win_back("回访", "CMP-9")
    return customer, collected(customer)


def test_replaying_a_membership_story_rebuilds_an_equal_customer() -> None:
    customer, events = a_membership_story()
    assert "TierChanged" in names(events)
    assert customer.tier == "silver"  # upgraded to gold, then a quiet year: one step down

    rebuilt = rebuild(events)

    assert rebuilt is not customer
    assert state(rebuilt) == state(customer)
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert [m["movement"] for m in rebuilt.tier_history] == ["granted", "upgraded", "downgraded"]
    assert rebuilt.points_balance == 0  # 1,000 redeemed, the rest expired after 24 months
    assert rebuilt.win_back_credit == {"action": "回访", "campaign_id": "CMP-9"}


def test_replaying_a_prefix_gives_the_membership_as_it_stood() -> None:
    _, events = a_membership_story()
    upgrade = next(n for n, e in enumerate(events) if isinstance(e, Customer.TierChanged))
    past = rebuild(events[: upgrade + 1])
    assert (past.tier, past.tier_since, past.tier_expires_on) == (
        "gold",
        date(2025, 10, 23),
        date(2026, 10, 23),
    )
    assert past.points_balance == 150300  # earned at silver, one point per yuan


def test_state_never_shares_data_with_the_events_that_built_it() -> None:
    customer, events = a_membership_story()
    applied_event = next(e for e in events if isinstance(e, Customer.VipApplied))
    customer.vip_applications["A-1"]["basis"]["categories"].append("tampered")
    assert "tampered" not in applied_event.basis["categories"]
    customer.tier_history[0]["basis"]["categories"].append("tampered")
    assert "tampered" not in applied_event.basis["categories"]


def test_a_time_before_registration_is_refused() -> None:
    customer = new_customer()
    refused(
        customer,
        "customer.time_before_previous",
        lambda: customer.break_relationship("x", datetime(2025, 1, 1, 23, tzinfo=SH)),
    )
    # 2025-01-01 17:00 UTC is 2025-01-02 01:00 in Shanghai: the day registered.
    customer.break_relationship("x", datetime(2025, 1, 1, 17, tzinfo=UTC))
    assert customer.relationship == "broken"
    assert customer.relationship_history[0]["at"] == at(2025, 1, 2, 1)
