"""HTTP commands and reads for customers: ``/api/v1/customers``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field, StrictBool, StrictStr

from application.disclosures import in_state
from application.privacy import mask_value, may_see_personal_data
from application.store import to_json
from domain.customer import Customer
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import (
    COMMAND_RESPONSES,
    MAX_SAFE_INT,
    Body,
    CommandOut,
    DecimalString,
    respond,
)
from interfaces.rest.deps import ContextDep, PrincipalDep, SystemDep
from interfaces.rest.disclosures import DisclosingDep
from interfaces.rest.events import EventOut, history_page
from interfaces.rest.problems import ProblemError

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], route_class=ActingRoute)


class RegisterCustomer(Body):
    kind: Literal["enterprise", "individual"] = Field(
        description="enterprise 企业客户 or individual 个人客户"
    )
    name: StrictStr = Field(min_length=1, max_length=200, examples=["杭州青禾贸易有限公司"])
    phone: StrictStr | None = Field(
        None, description="Mainland mobile number", examples=["13812345678"]
    )
    email: StrictStr | None = None
    uscc: StrictStr | None = Field(
        None, description="Unified Social Credit Code (统一社会信用代码); required for enterprises"
    )
    id_number: StrictStr | None = Field(None, description="Resident ID number (居民身份证号码)")
    segment: StrictStr | None = None
    source: StrictStr | None = Field(None, description="Source channel, e.g. referral, exhibition")
    tags: list[StrictStr] = Field(default_factory=list)
    marketing_consent: StrictBool = False
    registered_on: date | None = Field(
        None, description="Business date; today in Asia/Shanghai if absent"
    )


class UpdateProfile(Body):
    """Only the fields present are changed; only real changes are recorded."""

    name: StrictStr | None = None
    phone: StrictStr | None = None
    email: StrictStr | None = None
    segment: StrictStr | None = None
    source: StrictStr | None = None
    tags: list[StrictStr] | None = None
    marketing_consent: StrictBool | None = None


class AssignAccountManager(Body):
    manager_id: StrictStr = Field(min_length=1, max_length=64)
    manager_name: StrictStr = Field(min_length=1, max_length=100)


class RecordInteraction(Body):
    kind: Literal["visit", "call", "email", "feedback"]
    summary: StrictStr = Field(min_length=1, max_length=2000)
    occurred_at: AwareDatetime | None = Field(None, description="ISO-8601 with offset")
    staff: StrictStr | None = None


class RecordPurchase(Body):
    order_ref: StrictStr = Field(min_length=1, max_length=64)
    amount: DecimalString
    currency: StrictStr = Field("CNY", pattern=r"^[A-Z]{3}$")
    category: StrictStr = Field(min_length=1, max_length=60)
    occurred_on: date | None = Field(None, description="Business date of the purchase")


class Reason(Body):
    reason: StrictStr = Field(min_length=1, max_length=500)


class Churn(Body):
    reason: StrictStr = Field(min_length=1, max_length=500)
    cause: Literal[
        "price", "service", "quality", "competitor", "relocation", "no_need", "other"
    ] = Field(
        "other",
        description="流失原因: 价格 price, 服务 service, 质量 quality, 竞争对手 competitor,"
        " 迁移 relocation, 无需求 no need, 其他 other",
    )


class WinBack(Body):
    action: StrictStr = Field(
        min_length=1, max_length=500, description="The action or campaign credited"
    )
    campaign_id: StrictStr | None = Field(
        None, min_length=1, max_length=64, description="The campaign credited, if any"
    )


class ConfirmInfoReview(Body):
    next_review_due: date
    reviewed_on: date | None = None


@router.post(
    "",
    openapi_extra=acts("customers.register"),
    status_code=201,
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def register_customer(body: RegisterCustomer, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    """Register a customer (客户登记). Enterprises are keyed by USCC: a second
    registration of the same USCC is refused with 409 `conflict.already_exists`."""
    return respond(system.customers.register(ctx, **body.model_dump()))


@router.post(
    "/{customer_id}/update-profile",
    openapi_extra=acts("customers.update_profile"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def update_profile(
    customer_id: UUID, body: UpdateProfile, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    changes = body.model_dump(include=body.model_fields_set)
    if not changes:
        raise ProblemError(
            422, "validation.nothing_to_update", "Nothing to update", "give at least one field"
        )
    return respond(system.customers.update_profile(ctx, customer_id, changes))


@router.post(
    "/{customer_id}/assign-account-manager",
    openapi_extra=acts("customers.assign_account_manager"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def assign_account_manager(
    customer_id: UUID, body: AssignAccountManager, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    """Assign the dedicated account manager (专属客户经理)."""
    return respond(
        system.customers.assign_account_manager(
            ctx, customer_id, body.manager_id, body.manager_name
        )
    )


@router.post(
    "/{customer_id}/record-interaction",
    openapi_extra=acts("customers.record_interaction"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def record_interaction(
    customer_id: UUID, body: RecordInteraction, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    """Record a visit, call, email or feedback (客户沟通)."""
    return respond(system.customers.record_interaction(ctx, customer_id, **body.model_dump()))


@router.post(
    "/{customer_id}/record-purchase",
    openapi_extra=acts("customers.record_purchase"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def record_purchase(
    customer_id: UUID, body: RecordPurchase, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    """Record a purchase (交易记录). The first purchase makes a prospect active;
    a churned customer is refused with 409 `customer.churned`."""
    return respond(system.customers.record_purchase(ctx, customer_id, **body.model_dump()))


@router.post(
    "/{customer_id}/mark-at-risk",
    openapi_extra=acts("customers.mark_at_risk"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def mark_at_risk(
    customer_id: UUID, body: Reason, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    return respond(system.customers.mark_at_risk(ctx, customer_id, body.reason))


@router.post(
    "/{customer_id}/churn",
    openapi_extra=acts("customers.churn"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def churn(customer_id: UUID, body: Churn, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    return respond(system.customers.churn(ctx, customer_id, body.reason, cause=body.cause))


@router.post(
    "/{customer_id}/win-back",
    openapi_extra=acts("customers.win_back"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def win_back(customer_id: UUID, body: WinBack, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    return respond(
        system.customers.win_back(ctx, customer_id, body.action, campaign_id=body.campaign_id)
    )


@router.post(
    "/{customer_id}/confirm-info-review",
    openapi_extra=acts("customers.confirm_info_reviewed"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def confirm_info_review(
    customer_id: UUID, body: ConfirmInfoReview, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    """Confirm the periodic information review (定期审核) and set the next due date."""
    return respond(
        system.customers.confirm_info_reviewed(
            ctx, customer_id, next_review_due=body.next_review_due, reviewed_on=body.reviewed_on
        )
    )


@router.get(
    "/{customer_id}",
    openapi_extra=acts("customers.read"),
    responses={404: {"description": "No such customer (then)"}},
)
def get_customer(
    customer_id: UUID,
    principal: PrincipalDep,
    system: SystemDep,
    response: Response,
    disclosing: DisclosingDep,
    as_of: Annotated[
        AwareDatetime | None, Query(description="State as it stood at this time")
    ] = None,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_SAFE_INT, description="State as it stood at this version")
    ] = None,
) -> dict[str, Any]:
    """One customer from its events — now, at a past time (`as_of`) or at a version."""
    if as_of is not None and version is not None:
        raise ProblemError(
            422, "validation.as_of_and_version", "Choose one", "give as_of or version, not both"
        )
    state = system.customers.get(principal, customer_id, version=version, as_of=as_of)
    data = {k: to_json(v) for k, v in vars(state).items()}
    if not may_see_personal_data(principal.role):
        for field in Customer.PERSONAL_STATE:
            data[field] = mask_value(data[field])
    disclosing.record(in_state(Customer, [str(customer_id)], data))
    response.headers["ETag"] = f'"{state.version}"'
    return data


@router.get(
    "/{customer_id}/history", openapi_extra=acts("customers.history"), response_model=list[EventOut]
)
def customer_history(
    customer_id: UUID,
    principal: PrincipalDep,
    system: SystemDep,
    disclosing: DisclosingDep,
    after_version: Annotated[int, Query(ge=0, le=MAX_SAFE_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The customer's events with their audit envelopes, oldest first, paged by version."""
    events = system.customers.history(
        principal, customer_id, after_version=after_version, limit=limit
    )
    disclosing.events(events)
    return history_page(events, principal)
