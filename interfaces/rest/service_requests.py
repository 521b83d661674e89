"""HTTP commands and reads for service requests: ``/api/v1/service-requests``."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field, StrictInt, StrictStr

from domain.service_request import ServiceRequest
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import COMMAND_RESPONSES, Body, CommandOut, respond
from interfaces.rest.complaints import At, AtOnly, ChannelName, WithReason
from interfaces.rest.deps import ContextDep, SystemDep
from interfaces.rest.resources import command_routes, read_routes

router = APIRouter(
    prefix="/api/v1/service-requests", tags=["service requests"], route_class=ActingRoute
)

PriorityName = Literal["low", "medium", "high", "critical"]


class OpenRequest(Body):
    customer_id: UUID
    request_type: Literal["consultation", "after_sales", "technical_support", "value_added"] = (
        Field(description="产品咨询, 售后, 技术支持, 增值服务")
    )
    channel: ChannelName
    priority: PriorityName = Field(description="低 low, 中 medium, 高 high, 紧急 critical")
    description: StrictStr = Field(min_length=1, max_length=5000)
    received_at: At = None
    vip_tier: StrictStr | None = None


class AssignHandler(Body):
    handler_id: StrictStr = Field(min_length=1, max_length=64)
    handler_name: StrictStr = Field(min_length=1, max_length=100)
    section: StrictStr = "service"


class Respond(Body):
    at: At = None
    note: StrictStr | None = None


class ResolveRequest(Body):
    summary: StrictStr = Field(min_length=1, max_length=2000)
    at: At = None


class Rate(Body):
    rating: StrictInt = Field(ge=1, le=5)
    comment: StrictStr | None = None
    at: At = None


@router.post(
    "",
    openapi_extra=acts("service_requests.open"),
    status_code=201,
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def open_request(body: OpenRequest, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    """受理服务请求: open a service request for an existing customer."""
    return respond(system.service_requests.open(ctx, **body.model_dump()))


command_routes(
    router,
    "request_id",
    lambda system: system.service_requests,
    [
        ("assign", "指派: assign a handler", AssignHandler),
        ("respond", "首次响应: first response", Respond),
        ("pause", "等待客户: pause the SLA clock", WithReason),
        ("resume", "Resume the SLA clock", AtOnly),
        ("resolve", "处理完毕: resolve", ResolveRequest),
        ("rate", "反馈评价: the customer's rating 1–5", Rate),
        ("close", "关闭: close", AtOnly),
        ("cancel", "取消: cancel", WithReason),
    ],
    context="service_requests",
)
read_routes(
    router,
    "request_id",
    "service request",
    lambda system: system.service_requests,
    ServiceRequest.PERSONAL_STATE,
    context="service_requests",
)
