"""Campaign 营销活动: planned for a segment, launched, participants, conversions and costs
recorded, closed and evaluated with exact figures — as events and state, without a
database."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError, personal_fields
from domain.campaign import (
    CHANNEL_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    Campaign,
    CampaignKind,
    CampaignStatus,
    ParticipationChannel,
)
from domain.values import Money
from tests.unit.test_contract import names, refused, replay, state

SH = ZoneInfo("Asia/Shanghai")
CAMPAIGN_ID = UUID("00000000-0000-4000-8000-00000000ca01")
A, B, C, D = (UUID(f"00000000-0000-4000-8000-0000000000{n}1") for n in ("a", "b", "c", "d"))


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SH)


def cny(amount: str) -> Money:
    return Money.parse(amount)


CRITERIA = {"segments": ["enterprise"], "tiers": ["gold"], "statuses": ["active"]}


def plan(**overrides: Any) -> Campaign:
    fields: dict[str, Any] = {
        "new_id": CAMPAIGN_ID,
        "name": "2025 秋季客户答谢会",
        "kind": "appreciation_event",
        "segment_criteria": CRITERIA,
        "budget": cny("50000.00"),
        "starts_on": date(2025, 9, 1),
        "ends_on": date(2025, 9, 30),
        "planned_at": at(2025, 8, 1),
    } | overrides
    return Campaign.plan(**fields)


def planned(**overrides: Any) -> Campaign:
    c = plan(**overrides)
    c.collect_events()
    return c


def launched(targeted: int = 300, **overrides: Any) -> Campaign:
    c = planned(**overrides)
    c.launch(targeted, at(2025, 9, 1))
    c.record_participation(A, "wechat", at(2025, 9, 2))
    c.collect_events()
    return c


def closed() -> Campaign:
    c = launched()
    c.close(at(2025, 9, 30, 18))
    c.collect_events()
    return c


# -- the whole life, with exact figures ---------------------------------------------------


def test_a_campaign_from_plan_to_evaluation_with_exact_figures() -> None:
    c = plan()
    c.revise(at(2025, 8, 5), budget=cny("60000.00"), name="2025 秋季 VIP 客户答谢会")
    c.record_cost(cny("1000.00"), "场地定金", at(2025, 8, 20))
    c.launch(300, at(2025, 9, 1, 9))
    for n, customer in enumerate((A, B, C, D)):
        c.record_participation(customer, "in_person", at(2025, 9, 2, 9 + n))
    for n in range(3):  # three more participants, none of whom converts
        c.record_participation(UUID(int=n + 1), "online", at(2025, 9, 3))
    c.record_conversion(A, "SO-1", cny("1200.00"), False, at(2025, 9, 5))
    c.record_conversion(A, "SO-2", cny("300.50"), False, at(2025, 9, 6))
    c.record_conversion(B, "SO-3", cny("899.99"), True, at(2025, 9, 7))
    c.record_conversion(C, "SO-4", cny("150.00"), True, at(2025, 9, 8))
    c.close(at(2025, 9, 30, 18))
    c.record_cost(cny("333.33"), "礼品尾款", at(2025, 10, 8))  # an invoice after the close
    c.evaluate(at(2025, 10, 10))
    events = c.collect_events()
    assert names(events) == [
        "Planned",
        "Revised",
        "CostRecorded",
        "Launched",
        *["ParticipationRecorded"] * 7,
        *["ConversionRecorded"] * 4,
        "Closed",
        "CostRecorded",
        "Evaluated",
    ]
    evaluated = events[-1]
    assert isinstance(evaluated, Campaign.Evaluated)
    assert evaluated.targeted == 300
    assert evaluated.participants == 7
    assert evaluated.participation_rate == Decimal("0.0233")  # 7 / 300
    assert evaluated.conversions == 3  # A, B and C converted
    assert evaluated.orders == 4
    assert evaluated.conversion_rate == Decimal("0.4286")  # 3 / 7
    assert evaluated.revenue == cny("2550.49")
    assert evaluated.cost == cny("1333.33")
    assert evaluated.budget == cny("60000.00")
    assert evaluated.acquired == 2  # B and C
    # 1333.33 / 2 = 666.665, half up to the fen (half-even would give 666.66).
    assert evaluated.cost_per_acquisition == cny("666.67")
    assert evaluated.roi == Decimal("0.9129")  # (2550.49 − 1333.33) / 1333.33
    assert c.status == CampaignStatus.EVALUATED
    assert c.evaluation is not None
    assert c.evaluation["roi"] == Decimal("0.9129")

    rebuilt = replay(events)
    assert isinstance(rebuilt, Campaign)
    assert state(rebuilt) == state(c)


def test_rates_round_half_up_to_four_places() -> None:
    c = planned()
    c.launch(32, at(2025, 9, 1))
    c.record_participation(A, "sms", at(2025, 9, 2))
    c.close(at(2025, 9, 3))
    c.evaluate(at(2025, 9, 4))
    assert c.evaluation is not None
    assert c.evaluation["participation_rate"] == Decimal("0.0313")  # 1 / 32 = 0.03125


def test_without_costs_acquisitions_or_participants_the_undefined_figures_are_absent() -> None:
    c = planned()
    c.launch(10, at(2025, 9, 1))
    c.close(at(2025, 9, 2))
    c.evaluate(at(2025, 9, 3))
    assert c.evaluation is not None
    assert c.evaluation["participants"] == 0
    assert c.evaluation["conversion_rate"] == Decimal("0.0000")
    assert c.evaluation["cost_per_acquisition"] is None
    assert c.evaluation["roi"] is None
    assert c.evaluation["revenue"] == cny("0.00")


def test_a_negative_roi_when_the_campaign_cost_more_than_it_earned() -> None:
    c = launched()
    c.record_conversion(A, "SO-1", cny("100.00"), True, at(2025, 9, 3))
    c.record_cost(cny("300.00"), "物料", at(2025, 9, 3))
    c.close(at(2025, 9, 4))
    c.evaluate(at(2025, 9, 5))
    assert c.evaluation is not None
    assert c.evaluation["roi"] == Decimal("-0.6667")
    assert c.evaluation["cost_per_acquisition"] == cny("300.00")


# -- planning -------------------------------------------------------------------------


def test_planning_records_the_cleaned_segment_criteria() -> None:
    c = plan(segment_criteria={"segments": [" 华东  企业 ", "华东 企业"], "statuses": ["active"]})
    [planned_event] = c.collect_events()
    assert isinstance(planned_event, Campaign.Planned)
    assert planned_event.segment_criteria == {
        "segments": ["华东 企业"],
        "tiers": [],
        "statuses": ["active"],
    }
    assert plan(segment_criteria=None).segment_criteria == {
        "segments": [],
        "tiers": [],
        "statuses": [],
    }


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"name": " "}, "campaign.invalid_field"),
        ({"kind": "webinar"}, "campaign.invalid_field"),
        ({"budget": cny("-1.00")}, "campaign.invalid_field"),
        ({"budget": "100.00"}, "campaign.invalid_field"),
        ({"starts_on": date(2025, 10, 1)}, "campaign.invalid_field"),  # after ends_on
        ({"ends_on": date(2026, 9, 2)}, "campaign.invalid_field"),  # 367 days
        ({"starts_on": date(2025, 7, 1), "ends_on": date(2025, 7, 31)}, "campaign.invalid_field"),
        ({"starts_on": at(2025, 9, 1)}, "campaign.invalid_field"),
        ({"planned_at": datetime(2025, 8, 1)}, "validation.invalid_value"),
        ({"new_id": "c1"}, "campaign.invalid_field"),
        ({"segment_criteria": ["enterprise"]}, "campaign.invalid_field"),
        ({"segment_criteria": {"regions": ["east"]}}, "campaign.invalid_field"),
        ({"segment_criteria": {"segments": "enterprise"}}, "campaign.invalid_field"),
        ({"segment_criteria": {"tiers": ["Gold"]}}, "campaign.invalid_field"),
        ({"segment_criteria": {"statuses": ["vip"]}}, "campaign.invalid_field"),
        ({"segment_criteria": {"segments": ["s"] * 51}}, "campaign.invalid_field"),
    ],
)
def test_an_invalid_plan_is_refused(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(DomainError) as error:
        plan(**overrides)
    assert error.value.code == code, error.value.message


def test_a_period_of_366_days_is_allowed() -> None:
    c = plan(starts_on=date(2025, 9, 1), ends_on=date(2026, 9, 1))
    assert c.ends_on == date(2026, 9, 1)


def test_revising_restates_the_plan_and_keeps_what_is_not_given() -> None:
    c = planned()
    c.revise(at(2025, 8, 2), kind="promotion", segment_criteria={"statuses": ["at_risk"]})
    [revised] = c.collect_events()
    assert isinstance(revised, Campaign.Revised)
    assert revised.kind == "promotion"
    assert revised.name == "2025 秋季客户答谢会"
    assert revised.budget == cny("50000.00")
    assert c.segment_criteria == {"segments": [], "tiers": [], "statuses": ["at_risk"]}
    refused(c, "campaign.nothing_changed", lambda: c.revise(at(2025, 8, 3), kind="promotion"))
    refused(
        c,
        "campaign.time_before_previous",
        lambda: c.revise(at(2025, 7, 31), name="新名称"),
    )
    refused(
        c,
        "campaign.invalid_field",
        lambda: c.revise(at(2025, 8, 3), ends_on=date(2025, 8, 31)),  # before starts_on
    )


def test_revising_is_refused_once_launched() -> None:
    c = launched()
    refused(c, "campaign.transition_refused", lambda: c.revise(at(2025, 9, 3), name="新名称"))


# -- launch ---------------------------------------------------------------------------


def test_launching_records_how_many_customers_were_targeted() -> None:
    c = planned()
    c.launch(120, at(2025, 8, 25))  # before the period: a pre-launch is allowed
    [launch] = c.collect_events()
    assert isinstance(launch, Campaign.Launched)
    assert launch.targeted == 120
    assert c.status == CampaignStatus.LAUNCHED


@pytest.mark.parametrize(
    ("targeted", "when", "code"),
    [
        (0, at(2025, 9, 1), "campaign.empty_segment"),
        (-1, at(2025, 9, 1), "campaign.invalid_field"),
        (True, at(2025, 9, 1), "campaign.invalid_field"),
        (10, at(2025, 10, 1), "campaign.period_over"),
        (10, at(2025, 7, 31), "campaign.time_before_previous"),
        (10, datetime(2025, 9, 1), "validation.invalid_value"),
    ],
)
def test_an_invalid_launch_is_refused(targeted: Any, when: datetime, code: str) -> None:
    c = planned()
    refused(c, code, lambda: c.launch(targeted, when))


def test_a_campaign_is_launched_once() -> None:
    c = launched()
    refused(c, "campaign.transition_refused", lambda: c.launch(10, at(2025, 9, 3)))


# -- participation and conversions ------------------------------------------------------


def test_participation_is_recorded_once_per_customer_while_it_runs() -> None:
    c = planned()
    refused(
        c,
        "campaign.transition_refused",
        lambda: c.record_participation(A, "sms", at(2025, 9, 2)),
    )
    c = launched()
    refused(
        c,
        "campaign.already_participating",
        lambda: c.record_participation(A, "sms", at(2025, 9, 3)),
    )
    refused(
        c,
        "campaign.invalid_field",
        lambda: c.record_participation(B, "letter", at(2025, 9, 3)),
    )
    refused(
        c,
        "campaign.invalid_field",
        lambda: c.record_participation("b", "sms", at(2025, 9, 3)),  # type: ignore[arg-type]
    )
    refused(
        c,
        "campaign.time_before_previous",
        lambda: c.record_participation(B, "sms", at(2025, 8, 31)),
    )


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"customer_id": B}, "campaign.not_a_participant"),
        ({"order_ref": "SO-1"}, "campaign.duplicate_order"),
        ({"order_ref": "SO 2"}, "campaign.invalid_field"),
        ({"revenue": cny("-1.00")}, "campaign.invalid_field"),
        ({"revenue": Money.parse("10.00", "USD")}, "campaign.currency_mismatch"),
        ({"revenue": "10.00"}, "campaign.invalid_field"),
        ({"new_customer": "yes"}, "campaign.invalid_field"),
        ({"at": at(2025, 9, 2, 9)}, "campaign.time_before_previous"),  # before participating
    ],
)
def test_an_invalid_conversion_is_refused(overrides: dict[str, Any], code: str) -> None:
    c = launched()
    c.record_conversion(A, "SO-1", cny("10.00"), False, at(2025, 9, 3))
    c.collect_events()
    fields: dict[str, Any] = {
        "customer_id": A,
        "order_ref": "SO-2",
        "revenue": cny("20.00"),
        "new_customer": False,
        "at": at(2025, 9, 4),
    } | overrides
    refused(c, code, lambda: c.record_conversion(**fields))


def test_no_participation_or_conversion_after_the_close() -> None:
    c = closed()
    refused(
        c,
        "campaign.transition_refused",
        lambda: c.record_participation(B, "sms", at(2025, 10, 1)),
    )
    refused(
        c,
        "campaign.transition_refused",
        lambda: c.record_conversion(A, "SO-9", cny("1.00"), False, at(2025, 10, 1)),
    )


# -- costs ----------------------------------------------------------------------------


def test_costs_are_positive_amounts_in_the_budgets_currency() -> None:
    c = planned()
    refused(c, "campaign.invalid_field", lambda: c.record_cost(cny("0.00"), "x", at(2025, 8, 2)))
    refused(
        c,
        "campaign.currency_mismatch",
        lambda: c.record_cost(Money.parse("1.00", "HKD"), "x", at(2025, 8, 2)),
    )
    refused(c, "campaign.invalid_field", lambda: c.record_cost(cny("1.00"), " ", at(2025, 8, 2)))
    refused(
        c,
        "campaign.time_before_previous",
        lambda: c.record_cost(cny("1.00"), "x", at(2025, 7, 2)),
    )


def test_the_evaluation_freezes_the_costs() -> None:
    c = closed()
    c.evaluate(at(2025, 10, 1))
    c.collect_events()
    refused(
        c,
        "campaign.transition_refused",
        lambda: c.record_cost(cny("1.00"), "迟到的发票", at(2025, 10, 2)),
    )


# -- close and evaluation ---------------------------------------------------------------


def test_evaluation_comes_once_and_only_after_the_close() -> None:
    c = launched()
    refused(c, "campaign.transition_refused", lambda: c.evaluate(at(2025, 9, 5)))
    refused(c, "campaign.time_before_previous", lambda: c.close(at(2025, 8, 31)))
    c.close(at(2025, 9, 30))
    c.collect_events()
    refused(c, "campaign.transition_refused", lambda: c.close(at(2025, 10, 1)))
    refused(c, "campaign.time_before_previous", lambda: c.evaluate(at(2025, 9, 29)))
    c.evaluate(at(2025, 10, 1))
    c.collect_events()
    refused(c, "campaign.transition_refused", lambda: c.evaluate(at(2025, 10, 2)))


def test_the_figures_can_be_read_before_the_evaluation() -> None:
    c = launched(targeted=4)
    figures = c.figures()
    assert figures["participants"] == 1
    assert figures["participation_rate"] == Decimal("0.2500")


# -- vocabulary ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enum", "labels"),
    [
        (CampaignKind, KIND_LABELS),
        (CampaignStatus, STATUS_LABELS),
        (ParticipationChannel, CHANNEL_LABELS),
    ],
)
def test_every_value_has_a_chinese_label(enum: Any, labels: dict[Any, str]) -> None:
    assert set(labels) == set(enum)


def test_campaign_events_hold_no_personal_data() -> None:
    assert KIND_LABELS[CampaignKind.LAUNCH_EVENT] == "新品发布会"
    for event_class in (Campaign.Planned, Campaign.ConversionRecorded, Campaign.Evaluated):
        assert personal_fields(event_class) == frozenset()
