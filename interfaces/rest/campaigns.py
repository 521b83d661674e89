"""HTTP commands and reads for marketing campaigns (营销活动): ``/api/v1/campaigns``.

Amounts are decimal text in the campaign's currency (given once, with the budget, when it
is planned); dates are calendar dates; business times are ISO-8601 with an offset.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field, StrictBool, StrictStr

from domain.campaign import Campaign
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import COMMAND_RESPONSES, Body, CommandOut, DecimalString, respond
from interfaces.rest.complaints import At, AtOnly
from interfaces.rest.deps import ContextDep, SystemDep
from interfaces.rest.resources import command_routes, read_routes

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"], route_class=ActingRoute)

KindName = Literal["launch_event", "appreciation_event", "promotion", "discount_policy"]
KIND_DESCRIPTION = (
    "新品发布会 launch_event, 客户答谢会 appreciation_event, 促销活动 promotion,"
    " 折扣政策 discount_policy"
)
StatusName = Literal["prospect", "active", "at_risk", "churned", "won_back"]
ChannelName = Literal["sms", "email", "phone", "wechat", "online", "in_person"]
Name = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Segment = Annotated[StrictStr, Field(min_length=1, max_length=60)]
Tier = Annotated[StrictStr, Field(pattern=r"^[a-z0-9_]{1,30}$")]


class SegmentCriteriaIn(Body):
    """目标客群: customers in any of the segments, tiers and statuses given (an empty list:
    any)."""

    segments: list[Segment] = Field(default_factory=list, max_length=50)
    tiers: list[Tier] = Field(default_factory=list, max_length=50, description="VIP tier codes")
    statuses: list[StatusName] = Field(
        default_factory=list,
        max_length=5,
        description="潜在 prospect, 活跃 active, 流失风险 at_risk, 已流失 churned, 挽回 won_back",
    )


class PlanCampaign(Body):
    name: Name
    kind: KindName = Field(description=KIND_DESCRIPTION)
    segment_criteria: SegmentCriteriaIn = Field(default_factory=SegmentCriteriaIn)
    budget: DecimalString = Field(description="预算")
    currency: StrictStr = Field("CNY", pattern=r"^[A-Z]{3}$")
    starts_on: date
    ends_on: date = Field(description="The last day; at most 366 days after starts_on")
    at: At = None


class Revise(Body):
    """Only what changes; only while planned."""

    name: Name | None = None
    kind: KindName | None = Field(None, description=KIND_DESCRIPTION)
    segment_criteria: SegmentCriteriaIn | None = None
    budget: DecimalString | None = Field(None, description="In the campaign's currency")
    starts_on: date | None = None
    ends_on: date | None = None
    at: At = None


class RecordParticipation(Body):
    customer_id: UUID
    channel: ChannelName = Field(
        description="短信 sms, 邮件 email, 电话 phone, 微信 wechat, 线上 online, 现场 in_person"
    )
    at: At = None


class RecordConversion(Body):
    customer_id: UUID = Field(description="A participant")
    order_ref: StrictStr = Field(
        pattern=r"^[A-Za-z0-9._:/-]{1,64}$", description="订单号, once per campaign"
    )
    revenue: DecimalString = Field(description="In the campaign's currency")
    new_customer: StrictBool = Field(False, description="新客户: acquired by the campaign")
    at: At = None


class RecordCost(Body):
    amount: DecimalString = Field(description="More than zero, in the campaign's currency")
    description: StrictStr = Field(min_length=1, max_length=500)
    at: At = None


@router.post(
    "",
    openapi_extra=acts("campaigns.plan"),
    status_code=201,
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def plan(body: PlanCampaign, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    """活动策划: for a segment, with a budget and a period."""
    return respond(system.campaigns.plan(ctx, **body.model_dump()))


command_routes(
    router,
    "campaign_id",
    lambda system: system.campaigns,
    [
        ("revise", "修订活动方案 while planned", Revise),
        (
            "launch",
            "活动启动: the customers matching the segment now are counted as targeted",
            AtOnly,
        ),
        ("record-participation", "参与: once per customer", RecordParticipation),
        ("record-conversion", "转化: a participant's order with its revenue", RecordConversion),
        ("record-cost", "活动费用, until the campaign is evaluated", RecordCost),
        ("close", "活动结束: no more participation or conversions", AtOnly),
        (
            "evaluate",
            "效果评估: participation and conversion rates, revenue, cost per acquisition, ROI",
            AtOnly,
        ),
    ],
    context="campaigns",
)
read_routes(
    router,
    "campaign_id",
    "campaign",
    lambda system: system.campaigns,
    Campaign.PERSONAL_STATE,
    context="campaigns",
)
