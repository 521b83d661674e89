"""Satisfaction survey 满意度调查: requested, answered once by its deadline or expired, and
the improvement actions it leads to — as events and state, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError, personal_fields
from domain.survey import (
    CHANNEL_LABELS,
    DIMENSION_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    Dimension,
    Survey,
    SurveyChannel,
    SurveyKind,
    SurveyStatus,
    survey_id_for,
)
from tests.unit.test_contract import names, refused, replay, state

SH = ZoneInfo("Asia/Shanghai")
CUSTOMER_ID = UUID("00000000-0000-4000-8000-0000000000c1")
COMPLAINT_ID = UUID("00000000-0000-4000-8000-0000000000d1")
PERIODIC_ID = UUID("00000000-0000-4000-8000-0000000000e1")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def request(**overrides: Any) -> Survey:
    fields: dict[str, Any] = {
        "customer_id": CUSTOMER_ID,
        "kind": "complaint",
        "source_id": COMPLAINT_ID,
        "channel": "sms",
        "handler_id": "user:wang",
        "segment": "enterprise",
        "requested_at": at(2025, 7, 1),
        "respond_by": date(2025, 7, 15),
    } | overrides
    return Survey.request(**fields)


def requested(**overrides: Any) -> Survey:
    s = request(**overrides)
    s.collect_events()
    return s


def answered(**overrides: Any) -> Survey:
    s = requested(**overrides)
    s.answer(csat=4, scores={"service": 4}, answered_at=at(2025, 7, 2))
    s.collect_events()
    return s


def with_action() -> Survey:
    s = answered()
    s.add_action(
        action_id="A1",
        description="缩短投诉首次响应时间",
        owner="user:li",
        due_on=date(2025, 8, 1),
        at=at(2025, 7, 3),
    )
    s.collect_events()
    return s


# -- the whole life ---------------------------------------------------------------------


def test_a_complaint_survey_is_requested_answered_and_followed_by_improvement_actions() -> None:
    s = request()
    s.answer(
        csat=2,
        nps=3,
        ces=6,
        scores={"service": 2, "product": 4, "after_sales": 3},
        comment="  处理太慢 ",
        answered_at=at(2025, 7, 3, 9),
    )
    s.add_action(
        action_id="A1",
        description="投诉首次响应缩短到 2 小时",
        owner="user:li",
        due_on=date(2025, 8, 1),
        at=at(2025, 7, 4),
    )
    s.update_action(action_id="A1", status="in_progress", note="已培训客服", at=at(2025, 7, 10))
    s.update_action(action_id="A1", status="done", at=at(2025, 7, 30))
    events = s.collect_events()
    assert names(events) == [
        "Requested",
        "Answered",
        "ActionAdded",
        "ActionUpdated",
        "ActionUpdated",
    ]
    assert s.id == survey_id_for("complaint", COMPLAINT_ID)
    assert s.status == SurveyStatus.ANSWERED
    assert (s.csat, s.nps, s.ces) == (2, 3, 6)
    # Dimensions in their own order, whatever order they were given in.
    assert list(s.scores) == ["product", "service", "after_sales"]
    assert s.comment == "处理太慢"
    action = s.actions["A1"]
    assert action["status"] == "done"
    assert action["note"] == "已培训客服"
    assert action["done_at"] == at(2025, 7, 30)

    rebuilt = replay(events)
    assert isinstance(rebuilt, Survey)
    assert state(rebuilt) == state(s)


def test_the_answer_copies_what_the_rating_is_attributed_to_from_the_request() -> None:
    s = requested(handler_id="user:wang", segment="vip", channel="wechat")
    s.answer(csat=5, scores={"service": 5}, answered_at=at(2025, 7, 2))
    [answer] = s.collect_events()
    assert isinstance(answer, Survey.Answered)
    assert answer.handler_id == "user:wang"
    assert answer.segment == "vip"
    assert answer.channel == "wechat"
    assert answer.kind == "complaint"
    assert answer.customer_id == CUSTOMER_ID
    assert answer.nps is None
    assert answer.ces is None
    assert answer.comment is None


def test_a_cases_survey_id_derives_from_its_kind_and_case() -> None:
    assert survey_id_for("complaint", COMPLAINT_ID) == survey_id_for("complaint", COMPLAINT_ID)
    assert survey_id_for("complaint", COMPLAINT_ID) != survey_id_for(
        "service_request", COMPLAINT_ID
    )
    assert request(new_id=survey_id_for("complaint", COMPLAINT_ID)).id == survey_id_for(
        "complaint", COMPLAINT_ID
    )
    with pytest.raises(DomainError, match="only a complaint or service-request") as error:
        survey_id_for("periodic", COMPLAINT_ID)
    assert error.value.code == "survey.invalid_field"


def test_a_periodic_survey_takes_its_id_from_the_application_and_names_no_case() -> None:
    s = request(kind="periodic", source_id=None, new_id=PERIODIC_ID, handler_id=None)
    assert s.id == PERIODIC_ID
    assert s.kind == SurveyKind.PERIODIC
    assert s.source_id is None
    assert s.handler_id is None


def test_respond_by_may_be_the_request_day_in_shanghai() -> None:
    # 2025-06-30 20:00 UTC is already 1 July in Shanghai.
    s = request(requested_at=datetime(2025, 6, 30, 20, tzinfo=UTC), respond_by=date(2025, 7, 1))
    assert s.respond_by == date(2025, 7, 1)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"kind": "yearly"}, "survey.invalid_field"),
        ({"channel": "letter"}, "survey.invalid_field"),
        ({"source_id": None}, "survey.invalid_field"),
        ({"kind": "periodic"}, "survey.invalid_field"),  # names a case
        ({"kind": "periodic", "source_id": None}, "survey.invalid_field"),  # no id
        ({"new_id": PERIODIC_ID}, "survey.invalid_field"),  # a case's id is derived
        ({"customer_id": "c1"}, "survey.invalid_field"),
        ({"requested_at": datetime(2025, 7, 1, 10)}, "validation.invalid_value"),
        ({"requested_at": date(2025, 7, 1)}, "survey.invalid_field"),
        ({"respond_by": date(2025, 6, 30)}, "survey.invalid_field"),
        ({"respond_by": date(2025, 9, 30)}, "survey.invalid_field"),  # 91 days
        ({"respond_by": at(2025, 7, 15)}, "survey.invalid_field"),
        ({"handler_id": "x" * 65}, "survey.invalid_field"),
        ({"segment": "s" * 61}, "survey.invalid_field"),
    ],
)
def test_an_invalid_request_is_refused(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(DomainError) as error:
        request(**overrides)
    assert error.value.code == code, error.value.message


def test_the_latest_respond_by_is_90_days_after_the_request_day() -> None:
    assert request(respond_by=date(2025, 9, 29)).respond_by == date(2025, 9, 29)


# -- answering ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"csat": 0}, "survey.invalid_field"),
        ({"csat": 6}, "survey.invalid_field"),
        ({"csat": True}, "survey.invalid_field"),
        ({"csat": 4.0}, "survey.invalid_field"),
        ({"nps": 11}, "survey.invalid_field"),
        ({"nps": -1}, "survey.invalid_field"),
        ({"ces": 0}, "survey.invalid_field"),
        ({"ces": 8}, "survey.invalid_field"),
        ({"scores": {}}, "survey.invalid_field"),
        ({"scores": {"price": 3}}, "survey.invalid_field"),
        ({"scores": {"service": 6}}, "survey.invalid_field"),
        ({"scores": {"service": 0}}, "survey.invalid_field"),
        ({"scores": [("service", 3)]}, "survey.invalid_field"),
        ({"comment": "长" * 2001}, "survey.invalid_field"),
        ({"answered_at": datetime(2025, 7, 2, 10)}, "validation.invalid_value"),
        ({"answered_at": at(2025, 7, 1, 9)}, "survey.time_before_previous"),
    ],
)
def test_an_invalid_answer_is_refused(overrides: dict[str, Any], code: str) -> None:
    s = requested()
    fields: dict[str, Any] = {
        "csat": 4,
        "scores": {"service": 4},
        "answered_at": at(2025, 7, 2),
    } | overrides
    refused(s, code, lambda: s.answer(**fields))


def test_answering_twice_is_refused() -> None:
    s = answered()
    refused(
        s,
        "survey.already_answered",
        lambda: s.answer(csat=5, scores={"service": 5}, answered_at=at(2025, 7, 3)),
    )


def test_an_answer_is_accepted_until_the_end_of_respond_by_in_shanghai() -> None:
    s = requested(respond_by=date(2025, 7, 15))
    # 16:00 UTC on the 15th is midnight in Shanghai: the 16th, too late.
    refused(
        s,
        "survey.expired",
        lambda: s.answer(
            csat=3, scores={"product": 3}, answered_at=datetime(2025, 7, 15, 16, tzinfo=UTC)
        ),
    )
    s.answer(csat=3, scores={"product": 3}, answered_at=datetime(2025, 7, 15, 15, 59, tzinfo=UTC))
    assert s.status == SurveyStatus.ANSWERED


# -- expiry ---------------------------------------------------------------------------


def test_an_unanswered_survey_expires_once_after_respond_by_and_then_refuses_an_answer() -> None:
    s = requested(respond_by=date(2025, 7, 15))
    assert not s.due_to_expire(date(2025, 7, 15))
    assert s.due_to_expire(date(2025, 7, 16))
    refused(s, "survey.not_yet_due", lambda: s.expire(date(2025, 7, 15)))
    s.expire(date(2025, 7, 16))
    [expired] = s.collect_events()
    assert isinstance(expired, Survey.Expired)
    assert expired.expired_on == date(2025, 7, 16)
    assert s.status == SurveyStatus.EXPIRED
    assert not s.due_to_expire(date(2025, 7, 17))
    refused(s, "survey.expired", lambda: s.expire(date(2025, 7, 17)))
    refused(
        s,
        "survey.expired",
        lambda: s.answer(csat=4, scores={"service": 4}, answered_at=at(2025, 7, 14)),
    )


def test_an_answered_survey_does_not_expire() -> None:
    s = answered()
    assert not s.due_to_expire(date(2025, 12, 31))
    refused(s, "survey.already_answered", lambda: s.expire(date(2025, 12, 31)))


def test_expiry_needs_a_calendar_day() -> None:
    s = requested()
    refused(s, "survey.invalid_field", lambda: s.expire(at(2025, 8, 1)))  # type: ignore[arg-type]


# -- improvement actions --------------------------------------------------------------


def test_improvement_actions_follow_an_answer() -> None:
    s = requested()
    refused(
        s,
        "survey.not_answered",
        lambda: s.add_action(
            action_id="A1", description="x", owner="o", due_on=date(2025, 8, 1), at=at(2025, 7, 2)
        ),
    )


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"action_id": "A1"}, "survey.duplicate_action"),
        ({"action_id": "has space"}, "survey.invalid_field"),
        ({"action_id": ""}, "survey.invalid_field"),
        ({"description": " "}, "survey.invalid_field"),
        ({"owner": ""}, "survey.invalid_field"),
        ({"due_on": date(2025, 7, 2)}, "survey.invalid_field"),  # before the day it is added
        ({"due_on": at(2025, 8, 1)}, "survey.invalid_field"),
        ({"at": at(2025, 7, 1, 12)}, "survey.time_before_previous"),  # before the answer
    ],
)
def test_an_invalid_action_is_refused(overrides: dict[str, Any], code: str) -> None:
    s = with_action()
    fields: dict[str, Any] = {
        "action_id": "A2",
        "description": "回访话术优化",
        "owner": "user:li",
        "due_on": date(2025, 8, 1),
        "at": at(2025, 7, 3),
    } | overrides
    refused(s, code, lambda: s.add_action(**fields))


def test_a_survey_has_at_most_50_actions() -> None:
    s = answered()
    for n in range(50):
        s.add_action(
            action_id=f"A{n}",
            description="措施",
            owner="o",
            due_on=date(2025, 8, 1),
            at=at(2025, 7, 3),
        )
    s.collect_events()
    refused(
        s,
        "survey.too_many_actions",
        lambda: s.add_action(
            action_id="A50", description="x", owner="o", due_on=date(2025, 8, 1), at=at(2025, 7, 3)
        ),
    )


def test_an_action_moves_on_and_done_is_final() -> None:
    s = with_action()
    refused(
        s,
        "survey.invalid_field",  # staying open says nothing without a note
        lambda: s.update_action(action_id="A1", status="open", at=at(2025, 7, 4)),
    )
    s.update_action(action_id="A1", status="open", note="已排期", at=at(2025, 7, 4))
    s.update_action(action_id="A1", status="in_progress", at=at(2025, 7, 5))
    s.collect_events()
    refused(
        s,
        "survey.action_transition_refused",
        lambda: s.update_action(action_id="A1", status="open", note="x", at=at(2025, 7, 6)),
    )
    s.update_action(action_id="A1", status="in_progress", note="过半", at=at(2025, 7, 6))
    s.update_action(action_id="A1", status="done", at=at(2025, 7, 7))
    s.collect_events()
    refused(
        s,
        "survey.action_closed",
        lambda: s.update_action(action_id="A1", status="done", note="x", at=at(2025, 7, 8)),
    )


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"action_id": "A9"}, "survey.unknown_action"),
        ({"status": "closed"}, "survey.invalid_field"),
        ({"note": "长" * 1001}, "survey.invalid_field"),
        ({"at": at(2025, 7, 2, 23)}, "survey.time_before_previous"),  # before it was added
    ],
)
def test_an_invalid_action_update_is_refused(overrides: dict[str, Any], code: str) -> None:
    s = with_action()
    fields: dict[str, Any] = {"action_id": "A1", "status": "in_progress", "at": at(2025, 7, 4)}
    fields |= overrides
    refused(s, code, lambda: s.update_action(**fields))


# -- vocabulary and personal data -------------------------------------------------------


def test_the_comment_is_personal_data_and_nothing_else_is() -> None:
    assert personal_fields(Survey.Answered) == {"comment"}
    assert personal_fields(Survey.Requested) == frozenset()
    assert Survey.PERSONAL_STATE == ("comment",)


@pytest.mark.parametrize(
    ("enum", "labels"),
    [
        (SurveyKind, KIND_LABELS),
        (SurveyChannel, CHANNEL_LABELS),
        (Dimension, DIMENSION_LABELS),
        (SurveyStatus, STATUS_LABELS),
    ],
)
def test_every_value_has_a_chinese_label(enum: Any, labels: dict[Any, str]) -> None:
    assert set(labels) == set(enum)
    assert KIND_LABELS[SurveyKind.COMPLAINT] == "投诉回访"
    assert DIMENSION_LABELS[Dimension.AFTER_SALES] == "售后"
