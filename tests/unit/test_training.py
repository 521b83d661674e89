"""Training 培训: scheduled with its sessions, staff enrolled up to the capacity, attendance,
assessments and feedback recorded, completed with its effectiveness — as events and state,
without a database."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError, personal_fields
from domain.training import (
    ASSESSMENT_LABELS,
    MODE_LABELS,
    STATUS_LABELS,
    AssessmentKind,
    Training,
    TrainingMode,
    TrainingStatus,
)
from tests.unit.test_contract import names, refused, replay, state

SH = ZoneInfo("Asia/Shanghai")
TRAINING_ID = UUID("00000000-0000-4000-8000-0000000007a1")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


SESSIONS: list[dict[str, Any]] = [
    {
        "number": 1,
        "starts_at": at(2025, 9, 1, 9),
        "ends_at": at(2025, 9, 1, 12),
        "location": "A101",
    },
    {
        "number": 2,
        "starts_at": at(2025, 9, 2, 9),
        "ends_at": at(2025, 9, 2, 12),
        "location": "A101",
    },
]


def schedule(**overrides: Any) -> Training:
    fields: dict[str, Any] = {
        "new_id": TRAINING_ID,
        "programme": "客户服务规范",
        "topic": "投诉处理与沟通技巧",
        "mode": "face_to_face",
        "trainer": "陈老师",
        "sessions": SESSIONS,
        "capacity": 3,
        "pass_score": 60,
        "at": at(2025, 8, 1),
    } | overrides
    return Training.schedule(**fields)


def scheduled(**overrides: Any) -> Training:
    t = schedule(**overrides)
    t.collect_events()
    return t


def enrolled(*staff: str, **overrides: Any) -> Training:
    t = scheduled(**overrides)
    for n, staff_id in enumerate(staff or ("S1",)):
        t.enroll(staff_id, f"员工{n}", at(2025, 8, 2), role="complaints")
    t.collect_events()
    return t


# -- the whole life ---------------------------------------------------------------------


def test_a_training_from_schedule_to_completion_with_its_effectiveness() -> None:
    t = schedule()
    t.enroll("S1", "王芳", at(2025, 8, 2), role="complaints")
    t.enroll("S2", "李强", at(2025, 8, 3), role="service")
    t.enroll("S3", "赵敏", at(2025, 8, 4))
    for staff in ("S1", "S2", "S3"):
        t.record_assessment(staff, {"S1": 60, "S2": 50, "S3": 70}[staff], "pre", at(2025, 8, 30))
    for staff in ("S1", "S2", "S3"):
        t.record_attendance(staff, 1, True, at(2025, 9, 1, 9, 5))
    t.record_attendance("S1", 2, True, at(2025, 9, 2, 9, 5))
    t.record_attendance("S2", 2, True, at(2025, 9, 2, 9, 5))
    t.record_attendance("S3", 2, True, at(2025, 9, 2, 9, 5))
    t.record_attendance("S3", 2, False, at(2025, 9, 2, 12))  # a correction: S3 left early
    t.record_assessment("S1", 85, "post", at(2025, 9, 2, 12))
    t.record_assessment("S2", 55, "post", at(2025, 9, 2, 12))
    t.record_assessment("S3", 90, "post", at(2025, 9, 2, 12))
    t.record_feedback("S1", 5, at(2025, 9, 2, 13), comment="案例很实用")
    t.record_feedback("S2", 4, at(2025, 9, 2, 13))
    t.record_feedback("S3", 4, at(2025, 9, 2, 13))
    t.complete(at(2025, 9, 3))
    events = t.collect_events()
    assert names(events) == [
        "Scheduled",
        *["Enrolled"] * 3,
        *["AssessmentRecorded"] * 3,
        *["AttendanceRecorded"] * 7,
        *["AssessmentRecorded"] * 3,
        *["FeedbackRecorded"] * 3,
        "Completed",
    ]
    completed = events[-1]
    assert isinstance(completed, Training.Completed)
    assert completed.enrolled == 3
    assert completed.sessions == 2
    assert completed.attendance_rate == Decimal("0.8333")  # 5 of 3 × 2
    assert completed.passed == 2  # 85 and 90 reach 60; 55 does not
    assert completed.pass_rate == Decimal("0.6667")
    assert completed.average_score == Decimal("76.67")  # (85 + 55 + 90) / 3
    assert completed.improvement == Decimal("16.67")  # (25 + 5 + 20) / 3
    assert completed.satisfaction == Decimal("4.33")  # (5 + 4 + 4) / 3
    assert t.status == TrainingStatus.COMPLETED
    assert t.effectiveness is not None
    assert t.effectiveness["pass_rate"] == Decimal("0.6667")

    rebuilt = replay(events)
    assert isinstance(rebuilt, Training)
    assert state(rebuilt) == state(t)


def test_without_assessments_or_feedback_those_figures_are_absent() -> None:
    t = enrolled("S1", "S2")
    t.record_attendance("S1", 1, True, at(2025, 9, 1, 9))
    t.record_assessment("S1", 70, "pre", at(2025, 8, 30))  # pre only: no improvement
    t.complete(at(2025, 9, 2, 12))
    assert t.effectiveness is not None
    assert t.effectiveness["attendance_rate"] == Decimal("0.2500")  # 1 of 2 × 2
    assert t.effectiveness["pass_rate"] == Decimal("0.0000")
    assert t.effectiveness["average_score"] is None
    assert t.effectiveness["improvement"] is None
    assert t.effectiveness["satisfaction"] is None


def test_means_round_half_up_to_two_places() -> None:
    t = enrolled("S1", "S2", "S3", "S4", capacity=4)
    for staff, rating in (("S1", 5), ("S2", 5), ("S3", 5), ("S4", 4)):
        t.record_feedback(staff, rating, at(2025, 9, 1, 10))
    for staff, (pre, post) in {
        "S1": (60, 61),
        "S2": (60, 60),
        "S3": (60, 60),
        "S4": (60, 60),
    }.items():
        t.record_assessment(staff, pre, "pre", at(2025, 8, 30))
        t.record_assessment(staff, post, "post", at(2025, 9, 2, 12))
    pending = len(t.pending_events)
    figures = t.figures()
    assert figures["satisfaction"] == Decimal("4.75")
    assert figures["improvement"] == Decimal("0.25")
    assert len(t.pending_events) == pending  # reading the figures records nothing


# -- schedule ---------------------------------------------------------------------------


def test_an_online_training_needs_no_location_and_unnumbered_sessions_are_numbered() -> None:
    t = schedule(
        mode="online",
        sessions=[
            {"starts_at": at(2025, 9, 1, 19), "ends_at": at(2025, 9, 1, 20)},
            {"starts_at": at(2025, 9, 8, 19), "ends_at": at(2025, 9, 8, 20), "location": None},
        ],
    )
    assert [s["number"] for s in t.sessions] == [1, 2]
    assert t.sessions[0]["location"] is None
    assert t.mode == TrainingMode.ONLINE


def _session(
    number: int, start: datetime, hours: int = 2, location: str | None = "A101"
) -> dict[str, Any]:
    return {
        "number": number,
        "starts_at": start,
        "ends_at": start + timedelta(hours=hours),
        "location": location,
    }


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"programme": ""}, "training.invalid_field"),
        ({"topic": "题" * 201}, "training.invalid_field"),
        ({"trainer": " "}, "training.invalid_field"),
        ({"mode": "hybrid"}, "training.invalid_field"),
        ({"capacity": 0}, "training.invalid_field"),
        ({"capacity": 1001}, "training.invalid_field"),
        ({"pass_score": 101}, "training.invalid_field"),
        ({"pass_score": True}, "training.invalid_field"),
        ({"at": datetime(2025, 8, 1)}, "validation.invalid_value"),
        ({"new_id": "t1"}, "training.invalid_field"),
        ({"sessions": []}, "training.invalid_field"),
        ({"sessions": "weekly"}, "training.invalid_field"),
        ({"sessions": [_session(1, at(2025, 9, 1))] * 51}, "training.invalid_field"),
        ({"sessions": [_session(2, at(2025, 9, 1))]}, "training.invalid_field"),
        ({"sessions": [_session(1, at(2025, 9, 1), hours=0)]}, "training.invalid_field"),
        ({"sessions": [_session(1, at(2025, 9, 1), hours=25)]}, "training.invalid_field"),
        ({"sessions": [_session(1, at(2025, 9, 1), location=None)]}, "training.invalid_field"),
        (
            {"sessions": [_session(1, at(2025, 9, 1, 9)), _session(2, at(2025, 9, 1, 10))]},
            "training.invalid_field",  # overlaps the first
        ),
        (
            {"sessions": [{"number": 1, "starts_at": "2025-09-01", "ends_at": at(2025, 9, 1)}]},
            "training.invalid_field",
        ),
        ({"sessions": ["S1"]}, "training.invalid_field"),
    ],
)
def test_an_invalid_schedule_is_refused(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(DomainError) as error:
        schedule(**overrides)
    assert error.value.code == code, error.value.message


def test_back_to_back_sessions_are_allowed() -> None:
    t = schedule(sessions=[_session(1, at(2025, 9, 1, 9)), _session(2, at(2025, 9, 1, 11))])
    assert len(t.sessions) == 2


# -- enrolment ------------------------------------------------------------------------


def test_enrolment_is_once_per_staff_member_up_to_the_capacity() -> None:
    t = enrolled("S1", "S2", "S3")
    error = refused(t, "training.full", lambda: t.enroll("S4", "孙七", at(2025, 8, 5)))
    assert error.details == {"capacity": 3}
    t = enrolled("S1")
    refused(t, "training.already_enrolled", lambda: t.enroll("S1", "王芳", at(2025, 8, 5)))
    refused(t, "training.invalid_field", lambda: t.enroll("S 2", "李强", at(2025, 8, 5)))
    refused(t, "training.invalid_field", lambda: t.enroll("S2", " ", at(2025, 8, 5)))
    refused(t, "training.time_before_previous", lambda: t.enroll("S2", "李强", at(2025, 7, 31)))


# -- attendance -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff", "session", "present", "when", "code"),
    [
        ("S9", 1, True, at(2025, 9, 1, 9), "training.not_enrolled"),
        ("S1", 3, True, at(2025, 9, 3, 9), "training.unknown_session"),
        ("S1", 0, True, at(2025, 9, 1, 9), "training.invalid_field"),
        ("S1", 1, "yes", at(2025, 9, 1, 9), "training.invalid_field"),
        ("S1", 2, True, at(2025, 9, 1, 13), "training.session_not_started"),
        ("S1", 1, True, at(2025, 9, 1, 10), "training.nothing_changed"),  # already present
    ],
)
def test_invalid_attendance_is_refused(
    staff: str, session: int, present: Any, when: datetime, code: str
) -> None:
    t = enrolled("S1")
    t.record_attendance("S1", 1, True, at(2025, 9, 1, 9))
    t.collect_events()
    refused(t, code, lambda: t.record_attendance(staff, session, present, when))


# -- assessments and feedback -----------------------------------------------------------


def test_one_pre_and_one_post_assessment_per_staff_member() -> None:
    t = enrolled("S1")
    t.record_assessment("S1", 40, "pre", at(2025, 8, 10))  # before the training: fine
    t.collect_events()
    refused(
        t,
        "training.already_assessed",
        lambda: t.record_assessment("S1", 45, "pre", at(2025, 8, 11)),
    )
    refused(
        t,
        "training.time_before_previous",  # a post-assessment before the first session
        lambda: t.record_assessment("S1", 80, "post", at(2025, 8, 31)),
    )
    refused(
        t, "training.invalid_field", lambda: t.record_assessment("S1", 101, "post", at(2025, 9, 2))
    )
    refused(
        t, "training.invalid_field", lambda: t.record_assessment("S1", 80, "final", at(2025, 9, 2))
    )
    refused(
        t, "training.not_enrolled", lambda: t.record_assessment("S2", 80, "post", at(2025, 9, 2))
    )
    t.record_assessment("S1", 80, "post", at(2025, 9, 2))
    assert t.assessments["S1"] == {"pre": 40, "post": 80}


def test_feedback_once_per_staff_member_after_the_training_began() -> None:
    t = enrolled("S1")
    refused(t, "training.time_before_previous", lambda: t.record_feedback("S1", 5, at(2025, 8, 31)))
    refused(t, "training.invalid_field", lambda: t.record_feedback("S1", 6, at(2025, 9, 2)))
    refused(t, "training.not_enrolled", lambda: t.record_feedback("S2", 5, at(2025, 9, 2)))
    t.record_feedback("S1", 5, at(2025, 9, 2), comment="很好")
    t.collect_events()
    refused(
        t, "training.feedback_already_recorded", lambda: t.record_feedback("S1", 4, at(2025, 9, 3))
    )
    assert t.feedback_comments == {"S1": "很好"}


# -- completion and cancellation --------------------------------------------------------


def test_completion_comes_after_the_last_session_and_needs_participants() -> None:
    t = enrolled("S1")
    refused(t, "training.not_finished", lambda: t.complete(at(2025, 9, 2, 11)))
    t = scheduled()
    refused(t, "training.no_participants", lambda: t.complete(at(2025, 9, 3)))


def test_nothing_changes_after_completion() -> None:
    t = enrolled("S1")
    t.complete(at(2025, 9, 3))
    t.collect_events()
    for command in (
        lambda: t.enroll("S2", "李强", at(2025, 9, 4)),
        lambda: t.record_attendance("S1", 1, True, at(2025, 9, 4)),
        lambda: t.record_assessment("S1", 90, "post", at(2025, 9, 4)),
        lambda: t.record_feedback("S1", 5, at(2025, 9, 4)),
        lambda: t.complete(at(2025, 9, 4)),
        lambda: t.cancel("取消", at(2025, 9, 4)),
    ):
        refused(t, "training.transition_refused", command)


def test_a_cancelled_training_takes_nothing_more() -> None:
    t = enrolled("S1")
    refused(t, "training.invalid_field", lambda: t.cancel(" ", at(2025, 8, 5)))
    t.cancel("讲师临时出差", at(2025, 8, 5))
    [cancelled] = t.collect_events()
    assert isinstance(cancelled, Training.Cancelled)
    assert t.status == TrainingStatus.CANCELLED
    refused(t, "training.transition_refused", lambda: t.enroll("S2", "李强", at(2025, 8, 6)))
    refused(t, "training.transition_refused", lambda: t.complete(at(2025, 9, 3)))


# -- vocabulary and personal data -------------------------------------------------------


def test_staff_names_and_comments_are_personal_data() -> None:
    assert personal_fields(Training.Enrolled) == {"staff_name"}
    assert personal_fields(Training.FeedbackRecorded) == {"comment"}
    assert personal_fields(Training.Scheduled) == frozenset()
    assert Training.PERSONAL_STATE == ("staff_names", "feedback_comments")


@pytest.mark.parametrize(
    ("enum", "labels"),
    [
        (TrainingMode, MODE_LABELS),
        (TrainingStatus, STATUS_LABELS),
        (AssessmentKind, ASSESSMENT_LABELS),
    ],
)
def test_every_value_has_a_chinese_label(enum: Any, labels: dict[Any, str]) -> None:
    assert set(labels) == set(enum)
    assert MODE_LABELS[TrainingMode.FACE_TO_FACE] == "面授"
