"""Credit profile 信用档案: assessment and review dates, repair plans, contested ratings
(PIPL art. 24) and the risk register — as events and state, without a database."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError, personal_fields
from domain.credit import (
    REVIEW_MONTHS,
    RISK_DIMENSION_LABELS,
    RISK_LEVEL_LABELS,
    RISK_RESPONSE_LABELS,
    CreditProfile,
    RiskDimension,
    RiskLevel,
    RiskResponse,
    add_months,
    risk_level,
)
from domain.scorecard import MODEL_VERSION, AssessmentInputs, Rating

SH = ZoneInfo("Asia/Shanghai")
CUSTOMER_ID = UUID("00000000-0000-4000-8000-0000000000c1")
OPENED = datetime(2026, 3, 2, 9, tzinfo=SH)

PERFECT: dict[str, Any] = {
    "invoices_paid_on_time": 100,
    "invoices_paid_late": 0,
    "overdue_count_12m": 0,
    "max_overdue_days": 0,
    "total_assets": "1000.00",
    "total_liabilities": "0.00",
    "current_assets": "200.00",
    "current_liabilities": "100.00",
    "annual_revenue": "1000.00",
    "net_profit": "100.00",
    "relationship_months": 60,
}
#: 120 + 80 + 60 + 50 + 40 + 60 = 410: C.
POOR = PERFECT | {
    "invoices_paid_on_time": 80,
    "invoices_paid_late": 20,
    "overdue_count_12m": 3,
    "max_overdue_days": 45,
    "total_liabilities": "750.00",
    "current_assets": "100.00",
    "net_profit": "0.00",
    "relationship_months": 12,
}
#: 250 + 80 + 60 + 50 + 40 + 90 = 570: B.
FAIR = POOR | {"invoices_paid_on_time": 95, "invoices_paid_late": 5, "relationship_months": 24}


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def parsed(raw: dict[str, Any], currency: str = "CNY") -> AssessmentInputs:
    return AssessmentInputs.parse(raw, currency)


def names(events: Sequence[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def replay(events: Sequence[Any]) -> Any:
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def refused(aggregate: Any, code: str, command: Callable[[], object]) -> DomainError:
    """The command is refused with ``code`` and leaves neither events nor state behind."""
    before = copy.deepcopy(state(aggregate))
    assert list(aggregate.pending_events) == []
    with pytest.raises(DomainError) as error:
        command()
    assert error.value.code == code, error.value.message
    assert len(aggregate.collect_events()) == 0
    assert state(aggregate) == before
    return error.value


def opened() -> CreditProfile:
    profile = CreditProfile.open(customer_id=CUSTOMER_ID, at=OPENED)
    profile.collect_events()
    return profile


def rated(raw: dict[str, Any] = POOR) -> CreditProfile:
    """Assessed as A1 on 3 March (C for the POOR inputs)."""
    profile = opened()
    profile.assess("A1", parsed(raw), at(3, 3))
    profile.collect_events()
    return profile


# -- assessment -------------------------------------------------------------------------


def test_an_assessment_records_the_scorecard_and_its_explanation() -> None:
    profile = opened()
    inputs = parsed(PERFECT)
    card = profile.assess("A1", inputs, at(3, 3))
    [assessed] = profile.collect_events()
    assert isinstance(assessed, CreditProfile.Assessed)
    assert assessed.assessment_id == "A1"
    assert assessed.inputs == inputs.as_dict()
    assert assessed.inputs["total_assets"] == "1000.00"
    assert assessed.factors == [f.as_dict() for f in card.factors]
    assert (assessed.score, assessed.rating) == (1000, "AAA")
    assert assessed.model_version == MODEL_VERSION
    assert assessed.explanation == card.explanation()
    assert "300/300" in assessed.explanation
    assert assessed.review_due_on == date(2027, 3, 3)
    assert assessed.at == at(3, 3)
    assert (profile.score, profile.rating, profile.rating_source) == (1000, "AAA", "scorecard")
    assert profile.model_version == MODEL_VERSION
    assert profile.assessment_id == "A1"
    assert profile.explanation == card.explanation()
    assert profile.factors == assessed.factors
    assert profile.assessed_at == at(3, 3)
    assert profile.review_due_on == date(2027, 3, 3)


@pytest.mark.parametrize(
    ("raw", "rating", "due"),
    [
        (PERFECT, Rating.AAA, date(2027, 3, 3)),
        (FAIR, Rating.B, date(2026, 9, 3)),
        (POOR, Rating.C, date(2026, 6, 3)),
    ],
)
def test_the_next_review_comes_sooner_for_weaker_ratings(
    raw: dict[str, Any], rating: Rating, due: date
) -> None:
    profile = opened()
    assert profile.assess("A1", parsed(raw), at(3, 3)).rating is rating
    assert profile.review_due_on == due
    assert profile.review_due_on == add_months(date(2026, 3, 3), REVIEW_MONTHS[rating])


def test_review_months_cover_every_rating() -> None:
    assert set(REVIEW_MONTHS) == set(Rating)
    assert [REVIEW_MONTHS[r] for r in Rating] == [12, 12, 6, 6, 3, 3]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2026, 3, 31), 6, date(2026, 9, 30)),
        (date(2026, 1, 31), 12, date(2027, 1, 31)),
        (date(2026, 10, 15), 3, date(2027, 1, 15)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_last_of_a_shorter_month(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


def test_the_review_date_counts_from_the_shanghai_day_of_the_assessment() -> None:
    profile = opened()
    # 16:30 UTC on 31 March is 00:30 on 1 April in Shanghai
    profile.assess("A1", parsed(PERFECT), datetime(2026, 3, 31, 16, 30, tzinfo=UTC))
    assert profile.review_due_on == date(2027, 4, 1)


def test_a_reassessment_replaces_the_rating() -> None:
    profile = rated(POOR)
    assert profile.rating == "C"
    profile.assess("A2", parsed(PERFECT), at(4, 1))
    assert (profile.assessment_id, profile.rating, profile.score) == ("A2", "AAA", 1000)
    assert names(profile.collect_events()) == ["Assessed"]


def test_financial_figures_in_another_currency_are_refused() -> None:
    profile = opened()
    refused(
        profile,
        "credit.currency_mismatch",
        lambda: profile.assess("A1", parsed(PERFECT, "USD"), at(3, 3)),
    )
    assert profile.rating is None


@pytest.mark.parametrize(
    ("code", "field", "assessment_id", "moment"),
    [
        ("credit.invalid_field", "assessment_id", "A 1", at(3, 3)),
        ("credit.invalid_field", "assessment_id", "", at(3, 3)),
        ("credit.invalid_field", "at", "A1", datetime(2026, 3, 2, 8, tzinfo=SH)),
        ("validation.invalid_value", "at", "A1", datetime(2026, 3, 3, 10)),
    ],
)
def test_an_invalid_assessment_is_refused(
    code: str, field: str, assessment_id: str, moment: datetime
) -> None:
    profile = opened()
    error = refused(profile, code, lambda: profile.assess(assessment_id, parsed(PERFECT), moment))
    assert error.details == {"field": field}


def test_a_review_can_be_scheduled() -> None:
    profile = rated()
    profile.schedule_review(date(2026, 4, 15), "  逾期 增加 ")
    [scheduled] = profile.collect_events()
    assert isinstance(scheduled, CreditProfile.ReviewScheduled)
    assert (scheduled.due_on, scheduled.reason) == (date(2026, 4, 15), "逾期 增加")
    assert profile.review_due_on == date(2026, 4, 15)
    profile.schedule_review(date(2026, 3, 2), "开户当日")
    assert profile.review_due_on == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("field", "due_on", "reason"),
    [
        ("due_on", datetime(2026, 4, 15, tzinfo=SH), "提前复评"),
        ("due_on", "2026-04-15", "提前复评"),
        ("due_on", date(2026, 3, 1), "提前复评"),
        ("reason", date(2026, 4, 15), " "),
    ],
)
def test_an_invalid_review_date_is_refused(field: str, due_on: Any, reason: str) -> None:
    profile = rated()
    error = refused(
        profile, "credit.invalid_field", lambda: profile.schedule_review(due_on, reason)
    )
    assert error.details == {"field": field}


# -- repair plans (信用修复) --------------------------------------------------------------


def started(target: str = "B") -> CreditProfile:
    profile = rated(POOR)
    profile.start_repair_plan(
        "P1", ["按时付款", "  降低  负债 ", "补充担保"], target, date(2026, 9, 30), at(3, 4)
    )
    profile.collect_events()
    return profile


def test_a_repair_plan_is_started_with_its_actions_and_target() -> None:
    profile = rated(POOR)
    profile.start_repair_plan(
        "P1", ["按时付款", "  降低  负债 ", "补充担保"], "B", date(2026, 9, 30), at(3, 4)
    )
    [plan_started] = profile.collect_events()
    assert isinstance(plan_started, CreditProfile.RepairPlanStarted)
    assert plan_started.plan_id == "P1"
    assert plan_started.actions == ["按时付款", "降低 负债", "补充担保"]
    assert (plan_started.target_rating, plan_started.due_on) == ("B", date(2026, 9, 30))
    assert profile.repair_plans["P1"] == {
        "actions": ["按时付款", "降低 负债", "补充担保"],
        "done": [False, False, False],
        "target_rating": "B",
        "due_on": date(2026, 9, 30),
        "status": "active",
        "progress": 0,
    }


def test_repair_progress_is_the_share_of_actions_done() -> None:
    profile = started()
    profile.record_repair_progress("P1", 0, True, "  已结清 ", at(3, 10))
    profile.record_repair_progress("P1", 1, True, None, at(3, 11))
    profile.record_repair_progress("P1", 2, True, "", at(3, 12))
    profile.record_repair_progress("P1", 1, False, "负债回升", at(3, 13))
    events = profile.collect_events()
    assert [e.progress for e in events] == [33, 66, 100, 66]
    assert [(e.action, e.done) for e in events] == [(0, True), (1, True), (2, True), (1, False)]
    assert [e.note for e in events] == ["已结清", None, None, "负债回升"]
    assert profile.repair_plans["P1"]["done"] == [True, False, True]
    assert profile.repair_plans["P1"]["progress"] == 66


def test_completing_a_repair_plan_reassesses_and_records_the_target_met() -> None:
    profile = started(target="B")
    card = profile.complete_repair_plan("P1", "A2", parsed(FAIR), at(9, 1))
    assert card.rating is Rating.B
    assessed, completed = profile.collect_events()
    assert isinstance(assessed, CreditProfile.Assessed)
    assert (assessed.assessment_id, assessed.rating, assessed.score) == ("A2", "B", 570)
    assert isinstance(completed, CreditProfile.RepairPlanCompleted)
    assert (completed.plan_id, completed.assessment_id, completed.rating) == ("P1", "A2", "B")
    assert completed.target_met is True  # exactly the target
    assert completed.at == at(9, 1)
    assert profile.repair_plans["P1"]["status"] == "met"
    assert (profile.rating, profile.assessment_id) == ("B", "A2")


def test_the_completion_names_the_assessment_as_it_was_recorded() -> None:
    profile = started()
    profile.complete_repair_plan("P1", "  A2 ", parsed(FAIR), at(9, 1))
    assessed, completed = profile.collect_events()
    assert assessed.assessment_id == completed.assessment_id == profile.assessment_id == "A2"


def test_a_repair_plan_that_beats_its_target_is_met() -> None:
    profile = started(target="B")
    profile.complete_repair_plan("P1", "A2", parsed(PERFECT), at(9, 1))
    assert profile.collect_events()[-1].target_met is True
    assert profile.rating == "AAA"


def test_a_repair_plan_that_misses_its_target_is_not_met() -> None:
    profile = started(target="A")
    profile.complete_repair_plan("P1", "A2", parsed(FAIR), at(9, 1))
    completed = profile.collect_events()[-1]
    assert (completed.rating, completed.target_met) == ("B", False)
    assert profile.repair_plans["P1"]["status"] == "not_met"
    assert profile.rating == "B"


def test_a_completed_plan_takes_no_more_progress_and_cannot_complete_again() -> None:
    profile = started()
    profile.complete_repair_plan("P1", "A2", parsed(POOR), at(9, 1))
    profile.collect_events()
    error = refused(
        profile,
        "credit.repair_plan_refused",
        lambda: profile.record_repair_progress("P1", 0, True, None, at(9, 2)),
    )
    assert error.details == {"plan_id": "P1"}
    refused(
        profile,
        "credit.repair_plan_refused",
        lambda: profile.complete_repair_plan("P1", "A3", parsed(PERFECT), at(9, 2)),
    )
    assert profile.rating == "C"
    # its id is spent, but a new plan may start
    refused(
        profile,
        "credit.repair_plan_refused",
        lambda: profile.start_repair_plan("P1", ["再试"], "B", date(2027, 3, 1), at(9, 2)),
    )
    profile.start_repair_plan("P2", ["再试"], "B", date(2027, 3, 1), at(9, 2))
    assert profile.repair_plans["P2"]["status"] == "active"


def test_completing_an_unknown_plan_records_no_assessment() -> None:
    profile = rated()
    refused(
        profile,
        "credit.repair_plan_refused",
        lambda: profile.complete_repair_plan("P9", "A2", parsed(PERFECT), at(9, 1)),
    )
    assert profile.assessment_id == "A1"


def test_completing_with_figures_in_another_currency_records_nothing() -> None:
    profile = started()
    refused(
        profile,
        "credit.currency_mismatch",
        lambda: profile.complete_repair_plan("P1", "A2", parsed(PERFECT, "USD"), at(9, 1)),
    )
    assert profile.repair_plans["P1"]["status"] == "active"


def test_a_repair_plan_needs_a_rating() -> None:
    profile = opened()
    refused(
        profile,
        "credit.not_assessed",
        lambda: profile.start_repair_plan("P1", ["按时付款"], "B", date(2026, 9, 30), at(3, 4)),
    )


@pytest.mark.parametrize("target", ["C", "D"])
def test_a_repair_target_must_be_better_than_the_rating(target: str) -> None:
    profile = rated(POOR)
    refused(
        profile,
        "credit.repair_plan_refused",
        lambda: profile.start_repair_plan("P1", ["按时付款"], target, date(2026, 9, 30), at(3, 4)),
    )


def test_a_aaa_rating_has_nothing_to_repair() -> None:
    profile = rated(PERFECT)
    refused(
        profile,
        "credit.repair_plan_refused",
        lambda: profile.start_repair_plan("P1", ["保持"], "AAA", date(2026, 9, 30), at(3, 4)),
    )


def test_only_one_repair_plan_is_active_at_a_time() -> None:
    profile = started()
    refused(
        profile,
        "credit.repair_plan_refused",
        lambda: profile.start_repair_plan("P2", ["按时付款"], "A", date(2026, 9, 30), at(3, 5)),
    )


@pytest.mark.parametrize(
    ("field", "actions", "target", "due_on"),
    [
        ("actions", [], "B", date(2026, 9, 30)),
        ("actions", ["x"] * 21, "B", date(2026, 9, 30)),
        ("actions", "按时付款", "B", date(2026, 9, 30)),
        ("actions[1]", ["按时付款", "  "], "B", date(2026, 9, 30)),
        ("target_rating", ["按时付款"], "E", date(2026, 9, 30)),
        ("due_on", ["按时付款"], "B", date(2026, 3, 4)),  # the day it starts
        ("due_on", ["按时付款"], "B", datetime(2026, 9, 30, tzinfo=SH)),
        ("plan_id", ["按时付款"], "B", date(2026, 9, 30)),
    ],
)
def test_an_invalid_repair_plan_is_refused(
    field: str, actions: Any, target: str, due_on: Any
) -> None:
    profile = rated(POOR)
    plan_id = "P 1" if field == "plan_id" else "P1"
    error = refused(
        profile,
        "credit.invalid_field",
        lambda: profile.start_repair_plan(plan_id, actions, target, due_on, at(3, 4)),
    )
    assert error.details == {"field": field}


def test_twenty_actions_and_a_due_date_tomorrow_are_accepted() -> None:
    profile = rated(POOR)
    profile.start_repair_plan("P1", ["x"] * 20, "B", date(2026, 3, 5), at(3, 4))
    assert profile.repair_plans["P1"]["done"] == [False] * 20


@pytest.mark.parametrize(
    ("field", "action", "done", "note"),
    [
        ("action", 3, True, None),
        ("action", -1, True, None),
        ("action", True, True, None),
        ("action", "0", True, None),
        ("done", 0, "yes", None),
        ("done", 0, 1, None),
        ("note", 0, True, "x" * 1001),
    ],
)
def test_invalid_repair_progress_is_refused(
    field: str, action: Any, done: Any, note: str | None
) -> None:
    profile = started()
    error = refused(
        profile,
        "credit.invalid_field",
        lambda: profile.record_repair_progress("P1", action, done, note, at(3, 10)),
    )
    assert error.details == {"field": field}


# -- contested ratings (PIPL art. 24) ---------------------------------------------------


def contested() -> CreditProfile:
    profile = rated(POOR)
    profile.contest("K1", "付款记录有误", at(3, 5))
    profile.collect_events()
    return profile


def under_review() -> CreditProfile:
    profile = contested()
    profile.start_review("K1", "reviewer-1", at(3, 6))
    profile.collect_events()
    return profile


def decide(profile: CreditProfile, **overrides: Any) -> None:
    fields: dict[str, Any] = {
        "reviewer": "reviewer-1",
        "outcome": "overturned",
        "explanation": "客户提供了按时付款的银行回单",
        "rating": "B",
        "at": at(3, 7),
    } | overrides
    profile.decide_contest("K1", **fields)


def test_contesting_a_rating_and_starting_the_review() -> None:
    profile = rated(POOR)
    profile.contest("K1", "  付款 记录有误 ", at(3, 5))
    profile.start_review("K1", "reviewer-1", at(3, 6))
    contest_event, review = profile.collect_events()
    assert isinstance(contest_event, CreditProfile.AssessmentContested)
    assert (contest_event.contest_id, contest_event.assessment_id) == ("K1", "A1")
    assert contest_event.grounds == "付款 记录有误"
    assert isinstance(review, CreditProfile.ManualReviewStarted)
    assert (review.contest_id, review.reviewer) == ("K1", "reviewer-1")
    assert profile.contests["K1"] == {
        "assessment_id": "A1",
        "status": "under_review",
        "reviewer": "reviewer-1",
    }


def test_the_grounds_of_a_contest_are_personal_data() -> None:
    assert personal_fields(CreditProfile.AssessmentContested) == {"grounds"}


def test_an_upheld_contest_keeps_the_scorecard_rating() -> None:
    profile = under_review()
    decide(profile, outcome="upheld", rating=None, explanation="评分依据无误")
    [upheld] = profile.collect_events()
    assert isinstance(upheld, CreditProfile.ContestUpheld)
    assert (upheld.contest_id, upheld.reviewer, upheld.explanation) == (
        "K1",
        "reviewer-1",
        "评分依据无误",
    )
    assert (profile.rating, profile.rating_source) == ("C", "scorecard")
    assert profile.contests["K1"]["status"] == "upheld"
    # decided: nothing more to decide
    refused(profile, "credit.contest_refused", lambda: decide(profile))


def test_an_overturned_contest_sets_the_reviewers_rating() -> None:
    profile = under_review()
    explanation_before = profile.explanation
    decide(profile)
    [overturned] = profile.collect_events()
    assert isinstance(overturned, CreditProfile.RatingOverturned)
    assert (overturned.previous_rating, overturned.rating) == ("C", "B")
    assert overturned.reviewer == "reviewer-1"
    assert (profile.rating, profile.rating_source) == ("B", "manual_review")
    assert profile.contests["K1"]["status"] == "overturned"
    assert profile.explanation != explanation_before
    assert profile.explanation == (
        "客户提供了按时付款的银行回单\n(overturned by reviewer-1; was C)"
    )


def test_a_reviewers_rating_cannot_be_contested_until_the_next_assessment() -> None:
    profile = under_review()
    decide(profile)
    profile.collect_events()
    refused(profile, "credit.contest_refused", lambda: profile.contest("K2", "仍有异议", at(3, 8)))
    profile.assess("A2", parsed(POOR), at(4, 1))
    assert profile.rating_source == "scorecard"
    profile.contest("K2", "仍有异议", at(4, 2))
    [contest_event] = profile.collect_events()[1:]
    assert contest_event.assessment_id == "A2"


def test_a_rating_without_an_assessment_cannot_be_contested() -> None:
    profile = opened()
    refused(profile, "credit.not_assessed", lambda: profile.contest("K1", "异议", at(3, 5)))


def test_only_one_contest_is_open_at_a_time() -> None:
    profile = contested()
    refused(profile, "credit.contest_refused", lambda: profile.contest("K2", "再议", at(3, 6)))
    profile.start_review("K1", "reviewer-1", at(3, 6))
    profile.collect_events()
    refused(profile, "credit.contest_refused", lambda: profile.contest("K2", "再议", at(3, 6)))


def test_a_contest_id_is_used_once() -> None:
    profile = under_review()
    decide(profile, outcome="upheld", rating=None)
    profile.collect_events()
    refused(profile, "credit.contest_refused", lambda: profile.contest("K1", "再议", at(3, 8)))


def test_review_steps_out_of_order_are_refused() -> None:
    profile = contested()
    error = refused(profile, "credit.contest_refused", lambda: decide(profile))
    assert error.details == {"status": "contested"}
    profile.start_review("K1", "reviewer-1", at(3, 6))
    profile.collect_events()
    error = refused(
        profile,
        "credit.contest_refused",
        lambda: profile.start_review("K1", "reviewer-2", at(3, 6)),
    )
    assert error.details == {"status": "under_review"}
    error = refused(
        profile, "credit.contest_refused", lambda: profile.start_review("K9", "r", at(3, 6))
    )
    assert error.details == {"contest_id": "K9"}


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("rating", {"outcome": "upheld", "rating": "B"}),
        ("rating", {"outcome": "overturned", "rating": None}),
        ("rating", {"outcome": "overturned", "rating": "C"}),  # the current rating
        ("rating", {"outcome": "overturned", "rating": "E"}),
        ("outcome", {"outcome": "under_review"}),
        ("outcome", {"outcome": "contested"}),
        ("outcome", {"outcome": "maybe"}),
        ("explanation", {"explanation": "  "}),
        ("reviewer", {"reviewer": ""}),
        ("at", {"at": datetime(2026, 3, 1, tzinfo=SH)}),
    ],
)
def test_an_invalid_decision_is_refused(field: str, overrides: dict[str, Any]) -> None:
    profile = under_review()
    error = refused(profile, "credit.invalid_field", lambda: decide(profile, **overrides))
    assert error.details == {"field": field}
    assert profile.rating == "C"


def test_only_the_reviewer_who_started_the_review_decides_it() -> None:
    profile = under_review()
    error = refused(
        profile, "credit.not_the_reviewer", lambda: decide(profile, reviewer="reviewer-2")
    )
    assert error.details == {"contest_id": "K1"}
    assert "under review by reviewer-1" in error.message
    assert (profile.rating, profile.contests["K1"]["status"]) == ("C", "under_review")
    decide(profile, reviewer="  reviewer-1 ")
    [overturned] = profile.collect_events()
    assert isinstance(overturned, CreditProfile.RatingOverturned)
    assert overturned.reviewer == "reviewer-1"


def test_an_upheld_assessment_cannot_be_contested_again() -> None:
    profile = under_review()
    decide(profile, outcome="upheld", rating=None)
    profile.collect_events()
    error = refused(
        profile, "credit.already_contested", lambda: profile.contest("K2", "再议", at(3, 8))
    )
    assert error.details == {"assessment_id": "A1", "contest_id": "K1"}
    # the next assessment is a new automated decision, open to a contest of its own
    profile.assess("A2", parsed(POOR), at(4, 1))
    profile.contest("K2", "再议", at(4, 2))
    [_, contest_event] = profile.collect_events()
    assert isinstance(contest_event, CreditProfile.AssessmentContested)
    assert contest_event.assessment_id == "A2"


@pytest.mark.parametrize("stage", [contested, under_review], ids=["contested", "under_review"])
def test_no_reassessment_while_a_contest_is_open(stage: Callable[[], CreditProfile]) -> None:
    profile = stage()
    error = refused(
        profile, "credit.contest_open", lambda: profile.assess("A2", parsed(FAIR), at(3, 8))
    )
    assert error.details == {"contest_id": "K1"}
    assert (profile.assessment_id, profile.rating) == ("A1", "C")


def test_a_repair_plan_is_not_completed_while_a_contest_is_open() -> None:
    profile = rated(POOR)
    profile.start_repair_plan("P1", ["按时付款"], "B", date(2026, 9, 30), at(3, 4))
    profile.contest("K1", "付款记录有误", at(3, 5))
    profile.collect_events()
    refused(
        profile,
        "credit.contest_open",
        lambda: profile.complete_repair_plan("P1", "A2", parsed(FAIR), at(3, 8)),
    )
    assert profile.repair_plans["P1"]["status"] == "active"


def test_a_decided_contest_lets_the_profile_be_reassessed() -> None:
    profile = under_review()
    decide(profile, outcome="upheld", rating=None)
    profile.assess("A2", parsed(FAIR), at(3, 8))
    assert (profile.assessment_id, profile.rating) == ("A2", "B")


def test_contest_plan_and_risk_ids_are_cleaned_at_every_command() -> None:
    profile = rated(POOR)
    profile.contest(" K1 ", "付款记录有误", at(3, 5))
    profile.start_review("K1 ", "reviewer-1", at(3, 6))
    profile.decide_contest(
        " K1",
        reviewer="reviewer-1",
        outcome="upheld",
        explanation="评分依据无误",
        rating=None,
        at=at(3, 7),
    )
    profile.start_repair_plan(" P1 ", ["按时付款"], "B", date(2026, 9, 30), at(3, 8))
    profile.record_repair_progress(" P1", 0, True, None, at(3, 9))
    profile.complete_repair_plan("P1 ", " A2 ", parsed(FAIR), at(3, 10))
    assess_risk(profile, risk_id=" R1 ", at=at(3, 11), review_on=date(2026, 6, 1))
    profile.close_risk(" R1 ", "已投保", at(3, 12))
    events = profile.collect_events()
    assert names(events) == [
        "AssessmentContested",
        "ManualReviewStarted",
        "ContestUpheld",
        "RepairPlanStarted",
        "RepairProgressRecorded",
        "Assessed",
        "RepairPlanCompleted",
        "RiskAssessed",
        "RiskClosed",
    ]
    ids = [
        getattr(e, name)
        for e in events
        for name in ("contest_id", "plan_id", "assessment_id", "risk_id")
        if hasattr(e, name)
    ]
    assert ids == ["K1", "A1", "K1", "K1", "P1", "P1", "A2", "P1", "A2", "R1", "R1"]
    assert (set(profile.contests), set(profile.repair_plans), set(profile.risks)) == (
        {"K1"},
        {"P1"},
        {"R1"},
    )


@pytest.mark.parametrize(
    ("field", "command"),
    [
        ("contest_id", lambda p: p.start_review("K 1", "reviewer-1", at(3, 6))),
        ("plan_id", lambda p: p.record_repair_progress("", 0, True, None, at(3, 6))),
        ("risk_id", lambda p: p.close_risk("R 1", "关闭", at(3, 6))),
    ],
)
def test_an_id_that_cannot_be_one_is_refused_as_invalid(
    field: str, command: Callable[[CreditProfile], object]
) -> None:
    profile = contested()
    error = refused(profile, "credit.invalid_field", lambda: command(profile))
    assert error.details == {"field": field}


def test_a_contest_needs_grounds() -> None:
    profile = rated()
    error = refused(profile, "credit.invalid_field", lambda: profile.contest("K1", " ", at(3, 5)))
    assert error.details == {"field": "grounds"}


# -- risk register (风险识别与评估) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("likelihood", "impact", "expected"),
    [
        (1, 1, RiskLevel.LOW),
        (2, 2, RiskLevel.LOW),  # 4
        (1, 4, RiskLevel.LOW),
        (1, 5, RiskLevel.MEDIUM),  # 5
        (5, 1, RiskLevel.MEDIUM),
        (3, 3, RiskLevel.MEDIUM),  # 9
        (2, 5, RiskLevel.HIGH),  # 10
        (3, 4, RiskLevel.HIGH),
        (4, 4, RiskLevel.HIGH),  # 16
        (4, 5, RiskLevel.SEVERE),  # 20
        (5, 4, RiskLevel.SEVERE),
        (5, 5, RiskLevel.SEVERE),
    ],
)
def test_risk_matrix_boundaries(likelihood: int, impact: int, expected: RiskLevel) -> None:
    assert risk_level(likelihood, impact) is expected


def test_the_whole_risk_matrix() -> None:
    counts = dict.fromkeys(RiskLevel, 0)
    for likelihood in range(1, 6):
        for impact in range(1, 6):
            level = risk_level(likelihood, impact)
            assert risk_level(impact, likelihood) is level
            counts[level] += 1
    # products 1–4: 8 cells; 5–9: 7; 10–16: 7; 20 and 25: 3
    assert counts == {
        RiskLevel.LOW: 8,
        RiskLevel.MEDIUM: 7,
        RiskLevel.HIGH: 7,
        RiskLevel.SEVERE: 3,
    }


def test_risk_labels_are_complete() -> None:
    assert set(RISK_DIMENSION_LABELS) == set(RiskDimension)
    assert set(RISK_LEVEL_LABELS) == set(RiskLevel)
    assert set(RISK_RESPONSE_LABELS) == set(RiskResponse)
    assert RISK_LEVEL_LABELS[RiskLevel.SEVERE] == "严重"


def assess_risk(profile: CreditProfile, **overrides: Any) -> RiskLevel:
    fields: dict[str, Any] = {
        "risk_id": "R1",
        "dimension": "credit",
        "description": "应收账款周转放缓",
        "likelihood": 2,
        "impact": 2,
        "response": "transfer",
        "owner": "risk-officer",
        "review_on": date(2026, 6, 1),
        "at": at(3, 3),
    } | overrides
    return profile.assess_risk(**fields)


def test_a_risk_is_recorded_with_its_level() -> None:
    profile = opened()
    assert assess_risk(profile) is RiskLevel.LOW
    [assessed] = profile.collect_events()
    assert isinstance(assessed, CreditProfile.RiskAssessed)
    assert (assessed.risk_id, assessed.dimension, assessed.description) == (
        "R1",
        "credit",
        "应收账款周转放缓",
    )
    assert (assessed.likelihood, assessed.impact, assessed.level) == (2, 2, "low")
    assert (assessed.response, assessed.owner) == ("transfer", "risk-officer")
    assert (assessed.review_on, assessed.at) == (date(2026, 6, 1), at(3, 3))
    assert profile.risks["R1"] == {
        "dimension": "credit",
        "level": "low",
        "response": "transfer",
        "owner": "risk-officer",
        "review_on": date(2026, 6, 1),
        "status": "open",
    }


@pytest.mark.parametrize(
    ("likelihood", "impact", "expected"),
    [
        (2, 2, "low"),
        (1, 5, "medium"),
        (3, 3, "medium"),
        (2, 5, "high"),
        (4, 4, "high"),
        (4, 5, "severe"),
    ],
)
def test_the_recorded_level_follows_the_matrix(likelihood: int, impact: int, expected: str) -> None:
    profile = opened()
    assert assess_risk(profile, likelihood=likelihood, impact=impact).value == expected
    assert profile.collect_events()[0].level == expected
    assert profile.risks["R1"]["level"] == expected


def test_reassessing_a_risk_updates_it() -> None:
    profile = opened()
    assess_risk(profile)
    assert assess_risk(profile, likelihood=4, impact=5, response="avoid", at=at(4, 1)) is (
        RiskLevel.SEVERE
    )
    assert names(profile.collect_events()) == ["RiskAssessed", "RiskAssessed"]
    assert profile.risks["R1"]["level"] == "severe"
    assert profile.risks["R1"]["response"] == "avoid"
    assert list(profile.risks) == ["R1"]


def test_a_risk_keeps_its_dimension() -> None:
    profile = opened()
    assess_risk(profile)
    profile.collect_events()
    error = refused(
        profile, "credit.invalid_field", lambda: assess_risk(profile, dimension="market")
    )
    assert error.details == {"field": "dimension"}


def test_closing_a_risk_ends_it() -> None:
    profile = opened()
    assess_risk(profile)
    profile.collect_events()
    profile.close_risk("R1", "  已投保 ", at(3, 10))
    [closed] = profile.collect_events()
    assert isinstance(closed, CreditProfile.RiskClosed)
    assert (closed.risk_id, closed.reason) == ("R1", "已投保")
    assert profile.risks["R1"]["status"] == "closed"
    error = refused(profile, "credit.no_such_risk", lambda: assess_risk(profile, at=at(3, 11)))
    assert error.details == {"risk_id": "R1"}
    refused(profile, "credit.no_such_risk", lambda: profile.close_risk("R1", "再次", at(3, 11)))


def test_closing_an_unknown_risk_is_refused() -> None:
    profile = opened()
    error = refused(
        profile, "credit.no_such_risk", lambda: profile.close_risk("R9", "关闭", at(3, 10))
    )
    assert error.details == {"risk_id": "R9"}


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("likelihood", {"likelihood": 0}),
        ("likelihood", {"likelihood": 6}),
        ("likelihood", {"likelihood": True}),
        ("likelihood", {"likelihood": "3"}),
        ("likelihood", {"likelihood": 2.0}),
        ("impact", {"impact": 0}),
        ("impact", {"impact": 6}),
        ("impact", {"impact": False}),
        ("dimension", {"dimension": "legal"}),
        ("response", {"response": "ignore"}),
        ("owner", {"owner": " "}),
        ("description", {"description": ""}),
        ("review_on", {"review_on": date(2026, 3, 2)}),
        ("review_on", {"review_on": datetime(2026, 6, 1, tzinfo=SH)}),
        ("risk_id", {"risk_id": "R 1"}),
    ],
)
def test_an_invalid_risk_is_refused(field: str, overrides: dict[str, Any]) -> None:
    profile = opened()
    error = refused(profile, "credit.invalid_field", lambda: assess_risk(profile, **overrides))
    assert error.details == {"field": field}


def test_a_risk_may_be_reviewed_the_day_it_is_assessed() -> None:
    profile = opened()
    assess_risk(profile, review_on=date(2026, 3, 3))
    assert profile.risks["R1"]["review_on"] == date(2026, 3, 3)


def test_a_risk_at_a_naive_time_is_refused() -> None:
    profile = opened()
    error = refused(
        profile,
        "validation.invalid_value",
        lambda: assess_risk(profile, at=datetime(2026, 3, 3, 10)),
    )
    assert error.details == {"field": "at"}


# -- replay -----------------------------------------------------------------------------


def test_replaying_reviews_rebuilds_the_same_profile() -> None:
    profile = CreditProfile.open(customer_id=CUSTOMER_ID, at=OPENED)
    profile.assess("A1", parsed(POOR), at(3, 3))
    profile.contest("K1", "付款记录有误", at(3, 5))
    profile.start_review("K1", "reviewer-1", at(3, 6))
    decide(profile, rating="D")
    profile.assess("A2", parsed(POOR), at(4, 1))
    profile.start_repair_plan("P1", ["按时付款", "降低负债"], "B", date(2026, 9, 30), at(4, 2))
    profile.record_repair_progress("P1", 1, True, None, at(4, 3))
    profile.complete_repair_plan("P1", "A3", parsed(FAIR), at(9, 1))
    assess_risk(profile, at=at(9, 1), review_on=date(2026, 12, 1))
    assess_risk(
        profile,
        risk_id="R2",
        dimension="market",
        likelihood=4,
        impact=5,
        at=at(9, 1),
        review_on=date(2026, 12, 1),
    )
    profile.close_risk("R1", "已投保", at(9, 2))
    profile.schedule_review(date(2026, 10, 1), "提前复评")
    events = profile.collect_events()

    rebuilt = replay(events)
    assert isinstance(rebuilt, CreditProfile)
    assert (rebuilt.rating, rebuilt.rating_source, rebuilt.score) == ("B", "scorecard", 570)
    assert rebuilt.assessment_id == "A3"
    assert rebuilt.review_due_on == date(2026, 10, 1)
    assert rebuilt.repair_plans == profile.repair_plans
    assert rebuilt.repair_plans["P1"]["status"] == "met"
    assert rebuilt.contests == profile.contests
    assert rebuilt.contests["K1"]["status"] == "overturned"
    assert rebuilt.risks == profile.risks
    assert {k: r["status"] for k, r in rebuilt.risks.items()} == {"R1": "closed", "R2": "open"}
    assert state(rebuilt) == state(profile)
