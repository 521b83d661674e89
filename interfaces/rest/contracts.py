"""HTTP commands and reads for contracts: ``/api/v1/contracts``.

Amounts are decimal text in the contract's currency (given once, when it is drafted);
dates are calendar dates (``2025-01-01``); business times are ISO-8601 with an offset.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import Field, StrictBool, StrictInt, StrictStr

from domain.contract import Contract
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import COMMAND_RESPONSES, Body, CommandOut, DecimalString, respond
from interfaces.rest.complaints import At, AtOnly, WithReason
from interfaces.rest.deps import ContextDep, PrincipalDep, SystemDep
from interfaces.rest.resources import command_routes, read_routes

router = APIRouter(prefix="/api/v1/contracts", tags=["contracts"], route_class=ActingRoute)

Text = Annotated[StrictStr, Field(min_length=1, max_length=2000)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Signatory = Annotated[StrictStr, Field(min_length=1, max_length=50)]
Role = Literal["a", "b", "intermediary"]
LeadingRole = Literal["a", "b"]
Method = Literal["wet_ink", "e_signature", "seal"]
Rate = Annotated[
    StrictStr,
    Field(
        pattern=r"^0(\.\d{1,4})?$",
        description='违约金比例 as decimal text, more than 0 and at most 0.30 (e.g. "0.05")',
    ),
]
Days = Annotated[StrictInt, Field(ge=0, le=365)]
Number = Annotated[StrictInt, Field(ge=1, le=1000)]


class InstalmentIn(Body):
    number: Number
    due_date: date
    amount: DecimalString


class DeliveryIn(Body):
    description: Text
    due_date: date


class DisputeIn(Body):
    method: Literal["negotiation", "arbitration", "court"] = Field(
        description="协商 negotiation, 仲裁 arbitration (name the body), 诉讼 court (name it)"
    )
    body: Name | None = None


class TermsIn(Body):
    """合同条款. The payment schedule must add up exactly to the amount."""

    start_date: date
    end_date: date
    amount: DecimalString
    payment_schedule: list[InstalmentIn] = Field(min_length=1, max_length=120)
    delivery: DeliveryIn
    rectification_days: Days = Field(description="整改期限 in calendar days")
    confidentiality_years: StrictInt = Field(ge=0, le=30)
    penalty_rate: Rate
    dispute_resolution: DisputeIn
    breach_notice_days: Days = 30
    hand_over_days: Days = Field(30, description="客户数据移交 deadline after the contract ends")


class ClauseChanges(Body):
    """Only the clauses that change."""

    start_date: date | None = None
    end_date: date | None = None
    amount: DecimalString | None = None
    payment_schedule: list[InstalmentIn] | None = Field(None, min_length=1, max_length=120)
    delivery: DeliveryIn | None = None
    rectification_days: Days | None = None
    confidentiality_years: StrictInt | None = Field(None, ge=0, le=30)
    penalty_rate: Rate | None = None
    dispute_resolution: DisputeIn | None = None
    breach_notice_days: Days | None = None
    hand_over_days: Days | None = None


class PartyIn(Body):
    kind: Literal["customer", "organisation"]
    customer_id: UUID | None = Field(None, description="For a customer party")
    name: Name | None = Field(None, description="An organisation's name; a customer's by default")
    signatories: list[Signatory] = Field(min_length=1, max_length=10)


class IntermediaryIn(Body):
    name: Name
    liability_cap: DecimalString = Field(description="责任限额")
    fee: DecimalString = Field(description="服务费")
    signatories: list[Signatory] = Field(min_length=1, max_length=10)


class DraftContract(Body):
    number: StrictStr = Field(
        min_length=1, max_length=40, description="合同编号, unique (letters, digits, / _ -)"
    )
    title: Name
    party_a: PartyIn
    party_b: PartyIn
    terms: TermsIn
    leading_party: LeadingRole = Field(description="主导方: 甲方 a or 乙方 b")
    payer: LeadingRole = "a"
    currency: StrictStr = Field("CNY", pattern=r"^[A-Z]{3}$")
    intermediary: IntermediaryIn | None = None
    at: At = None


class Revise(Body):
    title: Name | None = None
    party_a: PartyIn | None = None
    party_b: PartyIn | None = None
    terms: ClauseChanges | None = None
    intermediary: IntermediaryIn | None = None
    remove_intermediary: StrictBool = False
    leading_party: LeadingRole | None = None
    payer: LeadingRole | None = None
    note: Text | None = None
    at: At = None


class AddAttachment(Body):
    name: Name
    sha256: StrictStr = Field(pattern=r"^[0-9a-fA-F]{64}$")
    at: At = None


class Approve(Body):
    comments: Text | None = None
    at: At = None


class Reject(Body):
    comments: Text
    at: At = None


class Sign(Body):
    party: Role
    signatory: Signatory
    method: Method
    signed_at: At = None


class ProposeAmendment(Body):
    number: Number
    changes: ClauseChanges
    effective_date: date
    reason: Text
    at: At = None


class Renew(Body):
    number: Number
    new_end_date: date
    effective_date: date
    reason: Text
    amount: DecimalString | None = None
    payment_schedule: list[InstalmentIn] | None = Field(None, min_length=1, max_length=120)
    at: At = None


class SignAmendment(Body):
    number: Number
    party: Role
    signatory: Signatory
    method: Method
    signed_at: At = None


class WithdrawAmendment(Body):
    number: Number
    reason: Text
    at: At = None


class RecordPayment(Body):
    instalment: Number
    amount: DecimalString
    paid_on: date | None = None
    reference: StrictStr | None = Field(None, min_length=1, max_length=64)


class AcceptDelivery(Body):
    note: Text | None = None
    at: At = None


class RejectDelivery(Body):
    reasons: list[Text] = Field(min_length=1, max_length=20)
    at: At = None


class RecordBreach(Body):
    party: Role
    description: Text
    base: DecimalString = Field(description="The amount the penalty rate applies to")
    at: At = None


class Dissolve(Body):
    reason: Literal["mutual", "force_majeure", "material_breach"] = Field(
        description="协商一致 mutual, 不可抗力 force majeure, 严重违约 material breach"
    )
    by_party: LeadingRole | None = Field(None, description="Who dissolves for a material breach")
    notice_given_on: date | None = None
    note: Text | None = None
    at: At = None


class Terminate(Body):
    reason: Literal["expiry", "mutual"] = Field(description="期限届满 expiry, 协商一致 mutual")
    note: Text | None = None
    at: At = None


class Settle(Body):
    amount_due: DecimalString | None = Field(
        None, description="An agreed amount due; the governing terms' amount if absent"
    )
    at: At = None


@router.post(
    "",
    openapi_extra=acts("contracts.draft"),
    status_code=201,
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def draft(body: DraftContract, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    """起草合同. Its id is derived from the number, so a number is used once."""
    return respond(system.contracts.draft(ctx, **body.model_dump()))


@router.get(
    "/by-number/{number}",
    openapi_extra=acts("contracts.read"),
    responses={404: {"description": "No contract has it"}},
)
def by_number(number: str, principal: PrincipalDep, system: SystemDep) -> dict[str, str]:
    """The id of a contract, by its number."""
    found = system.contracts.contract_id(number)
    contract = system.contracts.load(principal, found)
    return {"id": str(found), "number": contract.number}


@router.get(
    "/{contract_id}/hand-over-package",
    openapi_extra=acts("contracts.hand_over_data"),
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The package handed over"},
        404: {"description": "No such contract"},
        409: {"description": "Not handed over, or the history changed since"},
    },
)
def hand_over_package(contract_id: UUID, principal: PrincipalDep, system: SystemDep) -> Response:
    """The customer-data package that was handed over, rebuilt from the store and checked
    against the SHA-256 recorded then (``X-Kehu-Sha256``)."""
    package = system.contracts.hand_over_package(principal, contract_id)
    return Response(
        package.content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{package.name}"',
            "X-Kehu-Sha256": package.sha256,
        },
    )


command_routes(
    router,
    "contract_id",
    lambda system: system.contracts,
    [
        ("revise", "修订: change a draft (a rejected or approved one goes back to draft)", Revise),
        ("add-attachment", "附件: by name and SHA-256", AddAttachment),
        ("submit-for-review", "提交法务审核", AtOnly),
        ("approve", "审核通过 (legal or the manager)", Approve),
        ("reject", "审核驳回 with comments (legal or the manager)", Reject),
        ("sign", "签署: one party's authorised signatory; final once given", Sign),
        ("propose-amendment", "变更协议: the clauses that change, numbered", ProposeAmendment),
        ("renew", "续约: a numbered amendment extending the end date", Renew),
        ("sign-amendment", "签署变更协议: in force once every party signed", SignAmendment),
        ("withdraw-amendment", "撤回变更协议", WithdrawAmendment),
        ("remove-intermediary", "第三方中介退出", WithReason),
        ("record-payment", "付款 against an instalment of the schedule", RecordPayment),
        ("accept-delivery", "验收通过", AcceptDelivery),
        ("reject-delivery", "验收不通过: rectification due within the agreed days", RejectDelivery),
        (
            "record-breach",
            "违约: the penalty is base × rate, rounded half up to 0.01",
            RecordBreach,
        ),
        ("dissolve", "合同解除: mutual, force majeure, or material breach after notice", Dissolve),
        ("terminate", "合同终止: expiry or mutual agreement", Terminate),
        ("settle", "清算: the balance between the parties", Settle),
        (
            "hand-over-data",
            "客户数据移交: build the package of the customers' data and record its SHA-256",
            AtOnly,
        ),
    ],
    context="contracts",
)
read_routes(
    router,
    "contract_id",
    "contract",
    lambda system: system.contracts,
    Contract.PERSONAL_STATE,
    context="contracts",
)
