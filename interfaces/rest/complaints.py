"""HTTP commands and reads for complaints: ``/api/v1/complaints``."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field, StrictInt, StrictStr

from domain.complaint import Complaint
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import COMMAND_RESPONSES, Body, CommandOut, DecimalString, respond
from interfaces.rest.deps import ContextDep, SystemDep
from interfaces.rest.resources import command_routes, read_routes

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"], route_class=ActingRoute)

ChannelName = Literal["phone", "email", "online", "wechat", "in_person", "letter"]
CategoryName = Literal[
    "product_quality", "service_attitude", "delivery", "billing", "privacy", "other"
]
SeverityName = Literal["low", "medium", "high", "critical"]
At = Annotated[
    AwareDatetime | None,
    Field(description="Business time, ISO-8601 with offset; now if absent"),
]


class LodgeComplaint(Body):
    customer_id: UUID
    channel: ChannelName = Field(
        description="电话 phone, 邮箱 email, 在线客服 online, 微信 wechat, 现场 in_person, 信函 letter"
    )
    category: CategoryName
    severity: SeverityName = Field(description="低 low, 中 medium, 高 high, 紧急 critical")
    description: StrictStr = Field(min_length=1, max_length=5000)
    remedy_sought: StrictStr | None = Field(None, max_length=1000)
    received_at: At = None
    vip_tier: StrictStr | None = None


class Acknowledge(Body):
    at: At = None
    note: StrictStr | None = None


class Classify(Body):
    category: CategoryName
    severity: SeverityName
    reason: StrictStr | None = None


class Assign(Body):
    handler_id: StrictStr = Field(min_length=1, max_length=64)
    handler_name: StrictStr = Field(min_length=1, max_length=100)
    section: StrictStr = "complaints"


class Escalate(Body):
    reason: StrictStr = Field(min_length=1, max_length=500)
    level: StrictInt | None = Field(None, ge=1, le=3)
    at: At = None


class RecordInvestigation(Body):
    findings: StrictStr = Field(min_length=1, max_length=5000)
    at: At = None


class ProposeResolution(Body):
    summary: StrictStr = Field(min_length=1, max_length=2000)
    compensation: DecimalString | None = None
    currency: StrictStr = Field("CNY", pattern=r"^[A-Z]{3}$")


class Resolve(Body):
    summary: StrictStr = Field(min_length=1, max_length=2000)
    at: At = None


class CommunicateResult(Body):
    explanation: StrictStr = Field(min_length=1, max_length=2000)
    reasons: StrictStr = Field(min_length=1, max_length=2000)
    channel: ChannelName
    at: At = None


class Confirm(Body):
    rating: StrictInt = Field(ge=1, le=5)
    comment: StrictStr | None = None
    at: At = None


class WithReason(Body):
    reason: StrictStr = Field(min_length=1, max_length=2000)
    at: At = None


class AtOnly(Body):
    at: At = None


@router.post(
    "",
    openapi_extra=acts("complaints.lodge"),
    status_code=201,
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def lodge(body: LodgeComplaint, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    """受理投诉: lodge a complaint for an existing customer."""
    return respond(system.complaints.lodge(ctx, **body.model_dump()))


command_routes(
    router,
    "complaint_id",
    lambda system: system.complaints,
    [
        ("acknowledge", "首次响应: first response", Acknowledge),
        ("classify", "分类: classify or reclassify", Classify),
        ("assign", "指派: assign a handler", Assign),
        ("escalate", "升级: escalate", Escalate),
        ("record-investigation", "调查: record findings", RecordInvestigation),
        ("propose-resolution", "处理方案, with compensation", ProposeResolution),
        ("resolve", "处理完毕: resolve", Resolve),
        ("communicate-result", "结果反馈: the result and its reasons", CommunicateResult),
        ("confirm", "The customer confirms with a rating 1–5", Confirm),
        ("reopen", "重新处理: the customer reopens within the window", WithReason),
        ("close", "关闭: close", AtOnly),
        ("withdraw", "撤回: the customer withdraws", WithReason),
        ("pause", "等待客户: pause the SLA clock", WithReason),
        ("resume", "Resume the SLA clock", AtOnly),
    ],
    context="complaints",
)
read_routes(
    router,
    "complaint_id",
    "complaint",
    lambda system: system.complaints,
    Complaint.PERSONAL_STATE,
    context="complaints",
)
