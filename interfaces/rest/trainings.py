"""HTTP commands and reads for staff training (培训): ``/api/v1/trainings``.

Business times are ISO-8601 with an offset; scores and ratings are whole numbers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field, StrictBool, StrictInt, StrictStr

from domain.training import Training
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import COMMAND_RESPONSES, Body, CommandOut, respond
from interfaces.rest.complaints import At, AtOnly, WithReason
from interfaces.rest.deps import ContextDep, SystemDep
from interfaces.rest.resources import command_routes, read_routes

router = APIRouter(prefix="/api/v1/trainings", tags=["trainings"], route_class=ActingRoute)

StaffId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9._:/-]{1,64}$", description="工号")]
Name = Annotated[StrictStr, Field(min_length=1, max_length=200)]


class SessionIn(Body):
    number: StrictInt | None = Field(None, ge=1, le=50, description="1, 2, … in order")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    location: StrictStr | None = Field(
        None, max_length=200, description="Required face-to-face; a room or a meeting link"
    )


class ScheduleTraining(Body):
    programme: Name = Field(description="培训项目")
    topic: Name = Field(description="培训内容")
    mode: Literal["face_to_face", "online"] = Field(description="面授 face_to_face, 线上 online")
    trainer: StrictStr = Field(min_length=1, max_length=100, description="讲师")
    sessions: list[SessionIn] = Field(min_length=1, max_length=50)
    capacity: StrictInt = Field(ge=1, le=1000, description="名额")
    pass_score: StrictInt = Field(60, ge=0, le=100, description="合格分数 (post-assessment)")
    at: At = None


class Enroll(Body):
    staff_id: StaffId
    staff_name: StrictStr = Field(min_length=1, max_length=100, description="Personal data")
    role: StrictStr | None = Field(None, max_length=40, description="岗位 / section")
    at: At = None


class RecordAttendance(Body):
    staff_id: StaffId
    session: StrictInt = Field(ge=1, le=50)
    present: StrictBool
    at: At = None


class RecordAssessment(Body):
    staff_id: StaffId
    score: StrictInt = Field(ge=0, le=100)
    kind: Literal["pre", "post"] = Field(description="培训前 pre, 培训后 post")
    at: At = None


class RecordFeedback(Body):
    staff_id: StaffId
    rating: StrictInt = Field(ge=1, le=5)
    comment: StrictStr | None = Field(None, max_length=2000, description="Personal data")
    at: At = None


@router.post(
    "",
    openapi_extra=acts("trainings.schedule"),
    status_code=201,
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def schedule(body: ScheduleTraining, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    """培训排期: programme, content, mode, trainer, sessions, capacity and pass mark."""
    return respond(system.trainings.schedule(ctx, **body.model_dump()))


command_routes(
    router,
    "training_id",
    lambda system: system.trainings,
    [
        ("enroll", "报名: once per staff member, up to the capacity", Enroll),
        ("record-attendance", "考勤: for a session that has started", RecordAttendance),
        ("record-assessment", "考核成绩 0–100, before (pre) or after (post)", RecordAssessment),
        ("record-feedback", "培训反馈 1–5, once per staff member", RecordFeedback),
        ("complete", "培训完成 after the last session, with its effectiveness", AtOnly),
        ("cancel", "取消培训", WithReason),
    ],
    context="trainings",
)
read_routes(
    router,
    "training_id",
    "training",
    lambda system: system.trainings,
    Training.PERSONAL_STATE,
    context="trainings",
)
