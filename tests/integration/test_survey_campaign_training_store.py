"""Surveys, campaigns and training on both stores, through the application services and
the scheduler: a resolved complaint requests exactly one survey attributed to the handler
recorded at the resolution, an unanswered one expires and refuses a late answer; a
campaign from plan to evaluation with exact figures; a training with its effectiveness.
Bad input is refused with a stable code and records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application.context import SYSTEM, Principal, Role
from application.errors import ApplicationError, Forbidden
from domain.base import DomainError
from domain.campaign import Campaign
from domain.survey import survey_id_for
from domain.training import Training
from domain.values import Money
from interfaces.bootstrap import System
from tests.support import Clock, as_, at

CLERK = Principal(id="user:info", role=Role.INFORMATION)
COMPLAINTS = Principal(id="user:ts", role=Role.COMPLAINTS, name="投诉管理科")
SERVICE = Principal(id="user:fw", role=Role.SERVICE, name="服务管理科")
SATISFACTION = Principal(id="user:my", role=Role.SATISFACTION, name="满意度管理科")
MARKETING = Principal(id="user:yx", role=Role.MARKETING, name="营销管理科")
MANAGER = Principal(id="user:jl", role=Role.MANAGER, name="经理")
INTEGRATOR = Principal(id="machine:survey-tool", role=Role.INTEGRATOR)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(2025, 9, 1, 9, 0))


def customer(kehu: System, name: str = "张伟", segment: str | None = "enterprise") -> UUID:
    return kehu.customers.register(
        as_(CLERK), kind="individual", name=name, phone="13812345678", segment=segment
    ).id


def refused_unchanged(kehu: System, code: str, command: Callable[[], object]) -> None:
    """The command is refused with ``code`` and the store records nothing."""
    head = kehu.store.max_position()
    with pytest.raises((DomainError, ApplicationError)) as error:
        command()
    assert error.value.code == code, error.value
    assert kehu.store.max_position() == head


# -- surveys --------------------------------------------------------------------------


def test_a_resolved_complaint_requests_one_survey_attributed_to_the_handler_at_resolution(
    kehu: System, clock: Clock
) -> None:
    customer_id = customer(kehu)
    complaint = kehu.complaints.lodge(
        as_(COMPLAINTS),
        customer_id=customer_id,
        channel="phone",
        category="service_attitude",
        severity="medium",
        description="客服态度差",
    ).id
    kehu.complaints.assign(as_(COMPLAINTS), complaint, handler_id="user:wang", handler_name="王芳")
    clock.now = at(2025, 9, 1, 15, 0)
    kehu.complaints.resolve(as_(COMPLAINTS), complaint, summary="已道歉并补偿")
    # Reassigned after the resolution, before the policy runs: the rating stays with 王芳.
    kehu.complaints.assign(as_(COMPLAINTS), complaint, handler_id="user:zhao", handler_name="赵敏")
    kehu.catch_up()

    clock.now = at(2025, 9, 2, 9, 0)
    assert kehu.scheduler.run_once()["survey-on-resolution"] == 1
    kehu.catch_up()
    assert kehu.scheduler.run_once()["survey-on-resolution"] == 0  # once per case

    survey_id = survey_id_for("complaint", complaint)
    survey = kehu.surveys.load(SATISFACTION, survey_id)
    assert survey.kind == "complaint"
    assert survey.source_id == complaint
    assert survey.customer_id == customer_id
    assert survey.handler_id == "user:wang"
    assert survey.segment == "enterprise"
    assert survey.respond_by == date(2025, 9, 16)
    [requested] = kehu.surveys.history(SATISFACTION, survey_id)
    assert requested.envelope is not None
    assert requested.envelope.actor_id == SYSTEM.id
    assert requested.envelope.command == "surveys.request"

    # Asking again by hand for the same case is refused: the id derives from the case.
    refused_unchanged(
        kehu,
        "conflict.already_exists",
        lambda: kehu.surveys.request(
            as_(SATISFACTION),
            customer_id=customer_id,
            kind="complaint",
            source_id=complaint,
            channel="sms",
        ),
    )

    # The answer arrives from another system, and keeps the handler of the request.
    clock.now = at(2025, 9, 3, 20, 0)
    kehu.complaints.assign(as_(COMPLAINTS), complaint, handler_id="user:sun", handler_name="孙七")
    result = kehu.surveys.answer(
        as_(INTEGRATOR),
        survey_id,
        csat=4,
        nps=9,
        ces=2,
        scores={"service": 4, "after_sales": 5},
        comment="处理及时",
    )
    assert result.events == ["Survey.Answered"]
    answered = kehu.surveys.history(SATISFACTION, survey_id)[-1]
    assert answered.payload["handler_id"] == "user:wang"
    assert answered.payload["segment"] == "enterprise"
    assert answered.payload["csat"] == 4
    refused_unchanged(
        kehu,
        "survey.already_answered",
        lambda: kehu.surveys.answer(as_(SERVICE), survey_id, csat=5, scores={"service": 5}),
    )

    # An improvement action follows, and is moved on.
    kehu.surveys.add_action(
        as_(SATISFACTION),
        survey_id,
        action_id="A1",
        description="客服话术培训",
        owner="user:li",
        due_on=date(2025, 9, 30),
    )
    clock.now = at(2025, 9, 10, 9, 0)
    kehu.surveys.update_action(as_(SATISFACTION), survey_id, action_id="A1", status="done")
    assert kehu.surveys.load(SATISFACTION, survey_id).actions["A1"]["status"] == "done"


def test_an_unanswered_survey_expires_and_then_refuses_an_answer(
    kehu: System, clock: Clock
) -> None:
    customer_id = customer(kehu, segment=None)
    request = kehu.service_requests.open(
        as_(SERVICE),
        customer_id=customer_id,
        request_type="after_sales",
        channel="phone",
        priority="medium",
        description="设备异响",
    ).id
    kehu.service_requests.assign(as_(SERVICE), request, handler_id="user:liu", handler_name="刘洋")
    kehu.service_requests.resolve(as_(SERVICE), request, summary="已上门维修")
    kehu.catch_up()
    assert kehu.scheduler.run_once()["survey-on-resolution"] == 1
    survey_id = survey_id_for("service_request", request)
    survey = kehu.surveys.load(SATISFACTION, survey_id)
    assert survey.handler_id == "user:liu"
    assert survey.segment is None
    assert survey.respond_by == date(2025, 9, 15)

    kehu.catch_up()
    clock.now = at(2025, 9, 15, 23, 0)  # the last day: not yet expired
    assert kehu.scheduler.run_once()["survey-expiry"] == 0
    clock.now = at(2025, 9, 16, 8, 0)
    assert kehu.scheduler.run_once()["survey-expiry"] == 1
    kehu.catch_up()
    assert kehu.scheduler.run_once()["survey-expiry"] == 0
    assert kehu.surveys.load(SATISFACTION, survey_id).status == "expired"

    refused_unchanged(
        kehu,
        "survey.expired",
        lambda: kehu.surveys.answer(as_(INTEGRATOR), survey_id, csat=3, scores={"service": 3}),
    )
    # Only kehu itself records an expiry.
    refused_unchanged(
        kehu, "auth.forbidden", lambda: kehu.surveys.expire(as_(SATISFACTION), survey_id)
    )


def test_a_periodic_survey_takes_the_customers_segment_and_bad_answers_change_nothing(
    kehu: System, clock: Clock
) -> None:
    customer_id = customer(kehu, segment="smb")
    survey_id = kehu.surveys.request(
        as_(SATISFACTION), customer_id=customer_id, channel="email", respond_by=date(2025, 9, 8)
    ).id
    survey = kehu.surveys.load(SATISFACTION, survey_id)
    assert survey.kind == "periodic"
    assert survey.segment == "smb"
    assert survey.handler_id is None

    for code, answer in (
        ("survey.invalid_field", {"csat": 9, "scores": {"service": 4}}),
        ("survey.invalid_field", {"csat": 4, "scores": {}}),
        ("survey.invalid_field", {"csat": 4, "scores": {"price": 4}}),
        ("survey.invalid_field", {"csat": 4, "nps": 11, "scores": {"product": 4}}),
        (
            "survey.time_before_previous",
            {"csat": 4, "scores": {"product": 4}, "at": at(2025, 8, 31)},
        ),
        ("survey.expired", {"csat": 4, "scores": {"product": 4}, "at": at(2025, 9, 9, 0, 1)}),
    ):
        refused_unchanged(
            kehu,
            code,
            lambda answer=answer: kehu.surveys.answer(as_(SATISFACTION), survey_id, **answer),
        )
    refused_unchanged(
        kehu,
        "survey.invalid_field",
        lambda: kehu.surveys.request(as_(SATISFACTION), customer_id=customer_id, channel="letter"),
    )
    refused_unchanged(
        kehu,
        "survey.not_answered",
        lambda: kehu.surveys.add_action(
            as_(SATISFACTION),
            survey_id,
            action_id="A1",
            description="x",
            owner="o",
            due_on=date(2025, 9, 30),
        ),
    )
    refused_unchanged(
        kehu,
        "not_found",
        lambda: kehu.surveys.request(as_(SATISFACTION), customer_id=UUID(int=1), channel="sms"),
    )
    refused_unchanged(
        kehu,
        "auth.forbidden",
        lambda: kehu.surveys.request(as_(MARKETING), customer_id=customer_id, channel="sms"),
    )


# -- campaigns --------------------------------------------------------------------------


def test_a_campaign_from_plan_to_evaluation_with_exact_figures(kehu: System, clock: Clock) -> None:
    first, second, third = (customer(kehu, name) for name in ("张伟", "李娜", "王强"))
    customer(kehu, "赵敏", segment="individual")
    kehu.catch_up()
    assert kehu.campaigns.count_segment({"segments": ["enterprise"]}) == 3
    assert kehu.campaigns.count_segment({"segments": ["enterprise"], "tiers": ["gold"]}) == 0

    campaign = kehu.campaigns.plan(
        as_(MARKETING),
        name="2025 秋季新品发布会",
        kind="launch_event",
        segment_criteria={"segments": ["enterprise"], "tiers": [], "statuses": []},
        budget="20000.00",
        starts_on=date(2025, 9, 10),
        ends_on=date(2025, 9, 30),
    ).id
    kehu.campaigns.revise(as_(MARKETING), campaign, budget="25000.00")
    kehu.campaigns.record_cost(as_(MARKETING), campaign, amount="5000.00", description="场地")

    clock.now = at(2025, 9, 10, 9, 0)
    launched = kehu.campaigns.launch(as_(MARKETING), campaign)
    assert launched.events == ["Campaign.Launched"]
    assert kehu.campaigns.load(MARKETING, campaign).targeted == 3

    clock.now = at(2025, 9, 12, 14, 0)
    kehu.campaigns.record_participation(
        as_(MARKETING), campaign, customer_id=first, channel="in_person"
    )
    kehu.campaigns.record_participation(
        as_(MARKETING), campaign, customer_id=second, channel="wechat"
    )
    clock.now = at(2025, 9, 13, 10, 0)
    kehu.campaigns.record_conversion(
        as_(MARKETING), campaign, customer_id=first, order_ref="SO-1", revenue="8000.00"
    )
    kehu.campaigns.record_conversion(
        as_(MARKETING), campaign, customer_id=first, order_ref="SO-2", revenue="1999.99"
    )
    kehu.campaigns.record_conversion(
        as_(MARKETING),
        campaign,
        customer_id=second,
        order_ref="SO-3",
        revenue="12000.01",
        new_customer=True,
    )
    refused_unchanged(
        kehu,
        "campaign.not_a_participant",
        lambda: kehu.campaigns.record_conversion(
            as_(MARKETING), campaign, customer_id=third, order_ref="SO-4", revenue="1.00"
        ),
    )
    refused_unchanged(
        kehu,
        "campaign.duplicate_order",
        lambda: kehu.campaigns.record_conversion(
            as_(MARKETING), campaign, customer_id=second, order_ref="SO-3", revenue="1.00"
        ),
    )
    refused_unchanged(
        kehu,
        "campaign.already_participating",
        lambda: kehu.campaigns.record_participation(
            as_(MARKETING), campaign, customer_id=first, channel="sms"
        ),
    )
    refused_unchanged(
        kehu,
        "campaign.transition_refused",
        lambda: kehu.campaigns.evaluate(as_(MARKETING), campaign),
    )

    clock.now = at(2025, 9, 30, 18, 0)
    kehu.campaigns.close(as_(MARKETING), campaign)
    clock.now = at(2025, 10, 8, 10, 0)
    kehu.campaigns.record_cost(as_(MARKETING), campaign, amount="1000.01", description="礼品尾款")
    result = kehu.campaigns.evaluate(as_(MARKETING), campaign)
    assert result.events == ["Campaign.Evaluated"]

    evaluated = kehu.campaigns.history(MARKETING, campaign)[-1]
    assert evaluated.type == "Campaign.Evaluated"
    figures = evaluated.payload
    assert figures["targeted"] == 3
    assert figures["participants"] == 2
    assert figures["participation_rate"] == Decimal("0.6667")
    assert figures["conversions"] == 2
    assert figures["orders"] == 3
    assert figures["conversion_rate"] == Decimal("1.0000")
    assert figures["revenue"] == Money.parse("22000.00")
    assert figures["cost"] == Money.parse("6000.01")
    assert figures["budget"] == Money.parse("25000.00")
    assert figures["acquired"] == 1
    assert figures["cost_per_acquisition"] == Money.parse("6000.01")
    # (22000.00 − 6000.01) / 6000.01 = 2.66666…, half up to 4 places.
    assert figures["roi"] == Decimal("2.6667")
    state = kehu.campaigns.load(MARKETING, campaign)
    assert isinstance(state, Campaign)
    assert state.status == "evaluated"
    refused_unchanged(
        kehu,
        "campaign.transition_refused",
        lambda: kehu.campaigns.record_cost(
            as_(MARKETING), campaign, amount="1.00", description="x"
        ),
    )


def test_bad_campaign_input_is_refused_with_stable_codes(kehu: System, clock: Clock) -> None:
    plan: dict[str, Any] = {
        "name": "双十一促销",
        "kind": "promotion",
        "segment_criteria": {"statuses": ["active"]},
        "budget": "1000.00",
        "starts_on": date(2025, 11, 1),
        "ends_on": date(2025, 11, 11),
    }
    for code, overrides in (
        ("campaign.invalid_field", {"ends_on": date(2025, 10, 31)}),
        ("campaign.invalid_field", {"kind": "webinar"}),
        ("campaign.invalid_field", {"segment_criteria": {"statuses": ["vip"]}}),
        ("campaign.invalid_field", {"budget": "-1.00"}),
        ("validation.invalid_amount", {"budget": "1,000"}),
        ("validation.invalid_amount", {"budget": "0.001"}),
    ):
        refused_unchanged(
            kehu,
            code,
            lambda overrides=overrides: kehu.campaigns.plan(as_(MARKETING), **(plan | overrides)),
        )
    refused_unchanged(
        kehu, "auth.forbidden", lambda: kehu.campaigns.plan(as_(SATISFACTION), **plan)
    )
    campaign = kehu.campaigns.plan(as_(MARKETING), **plan).id
    # Nobody is active yet: an empty segment cannot be launched for.
    kehu.catch_up()
    refused_unchanged(
        kehu, "campaign.empty_segment", lambda: kehu.campaigns.launch(as_(MARKETING), campaign)
    )
    refused_unchanged(
        kehu,
        "campaign.nothing_changed",
        lambda: kehu.campaigns.revise(as_(MARKETING), campaign, name="双十一促销"),
    )
    refused_unchanged(
        kehu,
        "campaign.invalid_field",
        lambda: kehu.campaigns.record_cost(as_(MARKETING), campaign, amount="0", description="x"),
    )
    refused_unchanged(
        kehu,
        "not_found",
        lambda: kehu.campaigns.record_participation(
            as_(MARKETING), campaign, customer_id=UUID(int=7), channel="sms"
        ),
    )


# -- training ---------------------------------------------------------------------------


def test_a_training_with_attendance_assessments_and_its_effectiveness(
    kehu: System, clock: Clock
) -> None:
    sessions = [
        {
            "number": 1,
            "starts_at": at(2025, 9, 5, 9),
            "ends_at": at(2025, 9, 5, 12),
            "location": "A101",
        },
        {
            "number": 2,
            "starts_at": at(2025, 9, 6, 9),
            "ends_at": at(2025, 9, 6, 12),
            "location": "A101",
        },
    ]
    training = kehu.trainings.schedule(
        as_(MANAGER),
        programme="客户服务规范",
        topic="投诉处理",
        mode="face_to_face",
        trainer="陈老师",
        sessions=sessions,
        capacity=2,
        pass_score=70,
    ).id
    kehu.trainings.enroll(
        as_(MANAGER), training, staff_id="S1", staff_name="王芳", role="complaints"
    )
    kehu.trainings.enroll(as_(MANAGER), training, staff_id="S2", staff_name="李强")
    refused_unchanged(
        kehu,
        "training.full",
        lambda: kehu.trainings.enroll(as_(MANAGER), training, staff_id="S3", staff_name="赵敏"),
    )
    kehu.trainings.record_assessment(as_(MANAGER), training, staff_id="S1", score=55, kind="pre")
    kehu.trainings.record_assessment(as_(MANAGER), training, staff_id="S2", score=70, kind="pre")
    refused_unchanged(
        kehu,
        "training.session_not_started",
        lambda: kehu.trainings.record_attendance(
            as_(MANAGER), training, staff_id="S1", session=1, present=True
        ),
    )

    clock.now = at(2025, 9, 5, 9, 10)
    for staff in ("S1", "S2"):
        kehu.trainings.record_attendance(
            as_(MANAGER), training, staff_id=staff, session=1, present=True
        )
    clock.now = at(2025, 9, 6, 9, 10)
    kehu.trainings.record_attendance(as_(MANAGER), training, staff_id="S1", session=2, present=True)
    kehu.trainings.record_attendance(
        as_(MANAGER), training, staff_id="S2", session=2, present=False
    )
    refused_unchanged(
        kehu,
        "training.not_finished",
        lambda: kehu.trainings.complete(as_(MANAGER), training),
    )
    clock.now = at(2025, 9, 6, 12, 30)
    kehu.trainings.record_assessment(as_(MANAGER), training, staff_id="S1", score=88, kind="post")
    kehu.trainings.record_assessment(as_(MANAGER), training, staff_id="S2", score=69, kind="post")
    kehu.trainings.record_feedback(as_(MANAGER), training, staff_id="S1", rating=5, comment="实用")
    kehu.trainings.record_feedback(as_(MANAGER), training, staff_id="S2", rating=4)
    refused_unchanged(
        kehu,
        "training.already_assessed",
        lambda: kehu.trainings.record_assessment(
            as_(MANAGER), training, staff_id="S2", score=75, kind="post"
        ),
    )
    refused_unchanged(
        kehu,
        "auth.forbidden",
        lambda: kehu.trainings.complete(as_(MARKETING), training),
    )
    clock.now = at(2025, 9, 7, 9, 0)
    result = kehu.trainings.complete(as_(MANAGER), training)
    assert result.events == ["Training.Completed"]

    completed = kehu.trainings.history(MANAGER, training)[-1].payload
    assert completed["enrolled"] == 2
    assert completed["attendance_rate"] == Decimal("0.7500")  # 3 of 2 × 2
    assert completed["passed"] == 1  # 88 reaches 70; 69 does not
    assert completed["pass_rate"] == Decimal("0.5000")
    assert completed["average_score"] == Decimal("78.50")
    assert completed["improvement"] == Decimal("16.00")  # (33 − 1) / 2
    assert completed["satisfaction"] == Decimal("4.50")
    state = kehu.trainings.load(MANAGER, training)
    assert isinstance(state, Training)
    assert state.status == "completed"
    refused_unchanged(
        kehu,
        "training.transition_refused",
        lambda: kehu.trainings.cancel(as_(MANAGER), training, reason="已完成"),
    )


def test_bad_training_input_is_refused_with_stable_codes(kehu: System) -> None:
    good: dict[str, Any] = {
        "programme": "数据安全",
        "topic": "个人信息保护法",
        "mode": "online",
        "trainer": "外聘讲师",
        "sessions": [{"starts_at": at(2025, 9, 5, 19), "ends_at": at(2025, 9, 5, 21)}],
        "capacity": 50,
    }
    for code, overrides in (
        ("training.invalid_field", {"mode": "hybrid"}),
        ("training.invalid_field", {"sessions": []}),
        ("training.invalid_field", {"capacity": 0}),
        ("training.invalid_field", {"pass_score": 101}),
        ("training.invalid_field", {"mode": "face_to_face"}),  # no location
        (
            "training.invalid_field",
            {"sessions": [{"starts_at": at(2025, 9, 5, 21), "ends_at": at(2025, 9, 5, 19)}]},
        ),
    ):
        refused_unchanged(
            kehu,
            code,
            lambda overrides=overrides: kehu.trainings.schedule(as_(MANAGER), **(good | overrides)),
        )
    refused_unchanged(
        kehu, "auth.forbidden", lambda: kehu.trainings.schedule(as_(SATISFACTION), **good)
    )
    training = kehu.trainings.schedule(as_(MANAGER), **good).id
    refused_unchanged(
        kehu,
        "training.not_enrolled",
        lambda: kehu.trainings.record_feedback(as_(MANAGER), training, staff_id="S9", rating=5),
    )
    refused_unchanged(
        kehu,
        "training.no_participants",
        lambda: kehu.trainings.complete(as_(MANAGER), training, at=at(2025, 9, 6)),
    )
    refused_unchanged(
        kehu, "not_found", lambda: kehu.trainings.cancel(as_(MANAGER), UUID(int=9), reason="x")
    )
    with pytest.raises(Forbidden):
        kehu.trainings.history(MARKETING, training)
