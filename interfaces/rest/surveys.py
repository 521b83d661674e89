"""HTTP commands and reads for satisfaction surveys (满意度调查): ``/api/v1/surveys``.

``POST /api/v1/surveys`` requests a periodic survey (定期调查); the surveys that follow a
resolved complaint or service request (投诉回访 / 服务回访) are requested by kehu itself,
once per case. Scores are whole numbers; ``respond_by`` is a calendar date; business
times are ISO-8601 with an offset.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field, StrictInt, StrictStr

from domain.survey import Survey
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import COMMAND_RESPONSES, Body, CommandOut, respond
from interfaces.rest.complaints import At
from interfaces.rest.deps import ContextDep, SystemDep
from interfaces.rest.resources import command_routes, read_routes

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"], route_class=ActingRoute)

SurveyChannelName = Literal["sms", "email", "phone", "wechat", "online", "in_person"]
DimensionName = Literal["product", "service", "after_sales"]
ActionId = Annotated[
    StrictStr, Field(pattern=r"^[A-Za-z0-9._:/-]{1,64}$", description="改进措施编号, unique")
]
Text = Annotated[StrictStr, Field(min_length=1, max_length=1000)]


class RequestSurvey(Body):
    customer_id: UUID
    channel: SurveyChannelName = Field(
        description="短信 sms, 邮件 email, 电话 phone, 微信 wechat, 在线 online, 现场 in_person"
    )
    respond_by: date | None = Field(
        None,
        description="The last day (Asia/Shanghai) an answer is accepted, at most 90 days"
        " ahead; 14 days after the request if absent",
    )
    segment: StrictStr | None = Field(
        None, max_length=60, description="The customer's segment as it stands if absent"
    )
    at: At = None


class Answer(Body):
    """客户回复, once, on or before ``respond_by``."""

    csat: StrictInt = Field(ge=1, le=5, description="CSAT 1–5")
    scores: dict[DimensionName, Annotated[StrictInt, Field(ge=1, le=5)]] = Field(
        min_length=1, description="Per dimension 1–5: 产品 product, 服务 service, 售后 after_sales"
    )
    nps: StrictInt | None = Field(None, ge=0, le=10, description="NPS 0–10 (likely to recommend)")
    ces: StrictInt | None = Field(None, ge=1, le=7, description="CES 1–7 (effort)")
    comment: StrictStr | None = Field(None, max_length=2000, description="Personal data")
    at: At = None


class AddAction(Body):
    action_id: ActionId
    description: Text
    owner: StrictStr = Field(min_length=1, max_length=64)
    due_on: date
    at: At = None


class UpdateAction(Body):
    action_id: ActionId
    status: Literal["open", "in_progress", "done"] = Field(
        description="待处理 open, 进行中 in_progress, 已完成 done (final)"
    )
    note: Text | None = Field(None, description="Needed to record progress at the same status")
    at: At = None


@router.post(
    "",
    openapi_extra=acts("surveys.request"),
    status_code=201,
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def request_survey(body: RequestSurvey, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    """发起定期满意度调查 for an existing customer."""
    return respond(system.surveys.request(ctx, kind="periodic", **body.model_dump()))


command_routes(
    router,
    "survey_id",
    lambda system: system.surveys,
    [
        (
            "answer",
            "客户回复: CSAT, NPS, CES and scores per dimension; once, by respond_by",
            Answer,
        ),
        ("add-action", "改进措施: an improvement action after the answer", AddAction),
        ("update-action", "改进措施进展: open → in progress → done", UpdateAction),
    ],
    context="surveys",
    acting={
        "add-action": "surveys.manage_actions",
        "update-action": "surveys.manage_actions",
    },
)
read_routes(
    router,
    "survey_id",
    "survey",
    lambda system: system.surveys,
    Survey.PERSONAL_STATE,
    context="surveys",
)
