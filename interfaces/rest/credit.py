"""HTTP commands and reads for credit profiles and the risk register:
``/api/v1/credit-profiles``.

A credit check that blocks an order answers ``409`` with the code of its reason
(``credit.limit_exceeded``, ``credit.overdue``, ``credit.blocked``) *and* records the
decision: the problem document carries the recorded event's ``position`` and ``version``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field, StrictBool, StrictInt, StrictStr

from domain.credit import CreditProfile, credit_profile_id
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import COMMAND_RESPONSES, Body, CommandOut, DecimalString, respond
from interfaces.rest.complaints import At, WithReason
from interfaces.rest.deps import ContextDep, PrincipalDep, SystemDep
from interfaces.rest.resources import command_routes, read_routes

router = APIRouter(prefix="/api/v1/credit-profiles", tags=["credit"], route_class=ActingRoute)

RatingName = Literal["AAA", "AA", "A", "B", "C", "D"]
Reference = Annotated[
    StrictStr,
    Field(min_length=1, max_length=64, pattern=r"^\S+$", description="An external reference"),
]
Count = Annotated[StrictInt, Field(ge=0, le=1_000_000)]
SignedDecimalString = Annotated[
    StrictStr,
    Field(
        pattern=r"^-?\d{1,15}(\.\d{1,2})?$",
        description='A decimal amount that may be negative, e.g. "-1200.00".',
    ),
]


class OpenProfile(Body):
    customer_id: UUID
    currency: StrictStr = Field("CNY", pattern=r"^[A-Z]{3}$")
    at: At = None


class Inputs(Body):
    """信用评估依据: payment history, overdue record, financial statements, relationship."""

    invoices_paid_on_time: Count
    invoices_paid_late: Count
    overdue_count_12m: Count = Field(description="Overdue incidents in the last 12 months")
    max_overdue_days: Count
    total_assets: DecimalString
    total_liabilities: DecimalString
    current_assets: DecimalString
    current_liabilities: DecimalString
    annual_revenue: DecimalString
    net_profit: SignedDecimalString
    relationship_months: Count


class Assess(Body):
    inputs: Inputs
    assessment_id: Reference | None = None
    at: At = None


class ScheduleReview(Body):
    due_on: date
    reason: StrictStr = Field(min_length=1, max_length=500)


class SetLimit(Body):
    limit: DecimalString
    term_days: StrictInt = Field(ge=0, le=365, description="信用期限 in calendar days")
    prepayment_ratio: StrictStr = Field(
        "0", pattern=r"^(0(\.\d{1,4})?|1(\.0{1,4})?)$", description="预付款比例, 0 to 1"
    )
    reason: StrictStr = Field(min_length=1, max_length=500)
    request_id: Reference | None = None
    at: At = None


class ApproveLimitChange(Body):
    request_id: Reference
    at: At = None


class RejectLimitChange(Body):
    request_id: Reference
    reason: StrictStr = Field(min_length=1, max_length=500)
    at: At = None


class CheckOrder(Body):
    order_id: Reference
    amount: DecimalString
    at: At = None


class OrderWithReason(Body):
    order_id: Reference
    reason: StrictStr = Field(min_length=1, max_length=500)
    at: At = None


class RecordInvoice(Body):
    invoice_id: Reference
    order_id: Reference
    amount: DecimalString
    invoiced_on: date | None = None
    at: At = None


class RecordPayment(Body):
    invoice_id: Reference
    amount: DecimalString
    paid_on: date | None = None
    at: At = None


class RecordOverdue(Body):
    invoice_id: Reference
    at: At = None


class StartRepairPlan(Body):
    actions: list[Annotated[StrictStr, Field(min_length=1, max_length=500)]] = Field(
        min_length=1, max_length=20
    )
    target_rating: RatingName
    due_on: date
    plan_id: Reference | None = None
    at: At = None


class RecordRepairProgress(Body):
    plan_id: Reference
    action: StrictInt = Field(ge=0, description="Index of the action in the plan")
    done: StrictBool = True
    note: StrictStr | None = Field(None, max_length=1000)
    at: At = None


class CompleteRepairPlan(Body):
    plan_id: Reference
    inputs: Inputs
    assessment_id: Reference | None = None
    at: At = None


class Contest(Body):
    grounds: StrictStr = Field(min_length=1, max_length=2000)
    contest_id: Reference | None = None
    at: At = None


class StartReview(Body):
    contest_id: Reference
    at: At = None


class DecideContest(Body):
    contest_id: Reference
    outcome: Literal["upheld", "overturned"]
    explanation: StrictStr = Field(min_length=1, max_length=2000)
    rating: RatingName | None = None
    at: At = None


class AssessRisk(Body):
    dimension: Literal["financial", "market", "credit"] = Field(
        description="财务 financial, 市场 market, 信用 credit"
    )
    description: StrictStr = Field(min_length=1, max_length=2000)
    likelihood: StrictInt = Field(ge=1, le=5)
    impact: StrictInt = Field(ge=1, le=5)
    response: Literal["diversify", "transfer", "avoid", "accept"] = Field(
        description="分散 diversify, 转移 transfer, 规避 avoid, 接受 accept"
    )
    owner: StrictStr = Field(min_length=1, max_length=100)
    review_on: date
    risk_id: Reference | None = None
    at: At = None


class CloseRisk(Body):
    risk_id: Reference
    reason: StrictStr = Field(min_length=1, max_length=500)
    at: At = None


@router.post(
    "",
    openapi_extra=acts("credit.open"),
    status_code=201,
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def open_profile(body: OpenProfile, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    """开立信用档案: one per customer; its id is derived from the customer's."""
    return respond(system.credit.open(ctx, **body.model_dump()))


@router.get(
    "/for-customer/{customer_id}",
    openapi_extra=acts("credit.read"),
    responses={404: {"description": "The customer has no credit profile"}},
)
def profile_of_customer(
    customer_id: UUID, principal: PrincipalDep, system: SystemDep
) -> dict[str, str]:
    """The id of a customer's credit profile."""
    profile_id = credit_profile_id(customer_id)
    system.credit.load(principal, profile_id)
    return {"id": str(profile_id), "customer_id": str(customer_id)}


command_routes(
    router,
    "profile_id",
    lambda system: system.credit,
    [
        ("assess", "信用评估: score and rate with the scorecard", Assess),
        ("schedule-review", "复评日期: set the next review date", ScheduleReview),
        (
            "set-limit",
            "信用控制: limit, term and prepayment ratio (above the threshold: a request)",
            SetLimit,
        ),
        (
            "approve-limit-change",
            "Approve a requested limit (not by its requester)",
            ApproveLimitChange,
        ),
        ("reject-limit-change", "Reject a requested limit", RejectLimitChange),
        (
            "check-order",
            "信用检查: reserve an order's credit part, or record why it is blocked (409)",
            CheckOrder,
        ),
        (
            "release-blocked-order",
            "人工放行: a manager releases a blocked order, with reasons",
            OrderWithReason,
        ),
        ("release-reservation", "释放占用: release an order's reservation", OrderWithReason),
        ("record-invoice", "开票: reserved → used", RecordInvoice),
        ("record-payment", "回款: a payment against an invoice", RecordPayment),
        ("record-overdue", "逾期: an unpaid invoice past its due date", RecordOverdue),
        ("block", "冻结: block every new order", WithReason),
        ("unblock", "解除冻结", WithReason),
        ("start-repair-plan", "信用修复: start a repair plan", StartRepairPlan),
        ("record-repair-progress", "Record progress on a repair action", RecordRepairProgress),
        ("complete-repair-plan", "Complete a repair plan with a re-assessment", CompleteRepairPlan),
        ("contest", "PIPL art. 24: the customer contests the automated rating", Contest),
        ("start-review", "人工复核: take up a contest", StartReview),
        ("decide-contest", "Uphold or overturn the contested rating", DecideContest),
        ("assess-risk", "风险评估: identify or re-assess a risk", AssessRisk),
        ("close-risk", "Close a risk", CloseRisk),
    ],
    context="credit",
    acting={
        "start-review": "credit.review_contest",
        "decide-contest": "credit.review_contest",
    },
)
read_routes(
    router,
    "profile_id",
    "credit profile",
    lambda system: system.credit,
    CreditProfile.PERSONAL_STATE,
    context="credit",
)
