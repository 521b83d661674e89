"""HTTP commands for VIP membership, loyalty and relationship health on a customer:
``POST /api/v1/customers/{id}/<action>``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import Field, StrictBool, StrictInt, StrictStr

from interfaces.rest.acting import ActingRoute
from interfaces.rest.common import Body, DecimalString
from interfaces.rest.complaints import At
from interfaces.rest.resources import command_routes

router = APIRouter(prefix="/api/v1/customers", tags=["membership"], route_class=ActingRoute)

Reference = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
Text = Annotated[StrictStr, Field(min_length=1, max_length=2000)]
Reasons = Annotated[list[Text], Field(min_length=1, max_length=20)]
Tier = Literal["silver", "gold", "platinum"]


class ApplyForVip(Body):
    requested_tier: Tier = Field(description="银卡 silver, 金卡 gold, 白金卡 platinum")
    application_id: Reference | None = None
    at: At = None


class VipApplication(Body):
    application_id: Reference
    at: At = None


class GrantVip(Body):
    application_id: Reference
    tier: Tier
    reasons: Reasons
    at: At = None


class RejectVip(Body):
    application_id: Reference
    reasons: Reasons
    at: At = None


class NotifyVipDecision(Body):
    application_id: Reference
    channel: Literal["sms", "email", "phone", "wechat", "letter", "in_person"]
    at: At = None


class RedeemPoints(Body):
    points: StrictInt = Field(ge=1, le=100_000_000)
    purpose: Text
    redemption_id: Reference | None = None
    at: At = None


class IssueCoupon(Body):
    """Exactly one of ``value`` (an amount off) and ``discount_rate`` (e.g. "0.1")."""

    description: Text
    valid_until: date
    reason: Text
    value: DecimalString | None = None
    discount_rate: StrictStr | None = Field(None, pattern=r"^0(\.\d{1,4})?$")
    min_spend: DecimalString | None = None
    currency: StrictStr = Field("CNY", pattern=r"^[A-Z]{3}$")
    coupon_id: Reference | None = None
    at: At = None


class RedeemCoupon(Body):
    coupon_id: Reference
    order_ref: Reference
    at: At = None


class ApplyForService(Body):
    service: Text = Field(description="增值服务, e.g. 上门培训")
    note: Text | None = None
    application_id: Reference | None = None
    at: At = None


class ReviewService(Body):
    application_id: Reference
    approved: StrictBool
    reasons: Reasons
    at: At = None


class ImplementService(Body):
    application_id: Reference
    note: Text | None = None
    at: At = None


class Goal(Body):
    metric: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    target: DecimalString


class StartGrowthPlan(Body):
    goals: list[Goal] = Field(min_length=1, max_length=20)
    due_on: date
    plan_id: Reference | None = None
    at: At = None


class RecordGrowthProgress(Body):
    plan_id: Reference
    metric: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    value: DecimalString
    at: At = None


class CloseGrowthPlan(Body):
    plan_id: Reference
    outcome: Literal["achieved", "missed", "cancelled"]
    at: At = None


class RaisePreventionTask(Body):
    reasons: Reasons
    due_on: date
    owner: Annotated[StrictStr, Field(min_length=1, max_length=100)] | None = None
    task_id: Reference | None = None
    at: At = None


class CompletePreventionTask(Body):
    task_id: Reference
    outcome: Text
    at: At = None


class BreakRelationship(Body):
    reason: Text
    at: At = None


class RepairRelationship(Body):
    actions: Reasons
    at: At = None


command_routes(
    router,
    "customer_id",
    lambda system: system.membership,
    [
        ("apply-for-vip", "会员申请: the decision is due within 7 working days", ApplyForVip),
        ("start-vip-review", "Take up a VIP application", VipApplication),
        ("grant-vip", "Grant a tier the customer qualifies for, with reasons", GrantVip),
        ("reject-vip", "Reject a VIP application, with reasons", RejectVip),
        ("notify-vip-decision", "通知: recorded late after the deadline", NotifyVipDecision),
        ("redeem-points", "积分兑换: earliest-expiring points first", RedeemPoints),
        ("issue-coupon", "发放优惠券", IssueCoupon),
        ("redeem-coupon", "使用优惠券 (once, before it expires)", RedeemCoupon),
        ("apply-for-service", "增值服务申请", ApplyForService),
        ("review-service", "Approve or reject a value-added service", ReviewService),
        ("implement-service", "Record a value-added service as delivered", ImplementService),
        ("start-growth-plan", "成长计划: goals and a due date", StartGrowthPlan),
        ("record-growth-progress", "Progress on a growth-plan goal", RecordGrowthProgress),
        ("close-growth-plan", "Close a growth plan", CloseGrowthPlan),
        ("raise-prevention-task", "流失预防: a task with the at-risk reasons", RaisePreventionTask),
        ("complete-prevention-task", "Complete a prevention task", CompletePreventionTask),
        ("break-relationship", "关系破裂, with the reason", BreakRelationship),
        ("repair-relationship", "关系修复, with the actions taken", RepairRelationship),
    ],
    context="customers",
    acting={
        "start-vip-review": "customers.review_vip",
        "grant-vip": "customers.review_vip",
        "reject-vip": "customers.review_vip",
        "start-growth-plan": "customers.manage_growth_plan",
        "record-growth-progress": "customers.manage_growth_plan",
        "close-growth-plan": "customers.manage_growth_plan",
        "break-relationship": "customers.manage_relationship",
        "repair-relationship": "customers.manage_relationship",
    },
)
