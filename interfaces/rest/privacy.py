"""A person's PIPL rights over HTTP: ``/api/v1/customers/{id}/privacy/…``."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import Field, StrictStr

from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import COMMAND_RESPONSES, Body, CommandOut, respond
from interfaces.rest.deps import ContextDep, SystemDep

router = APIRouter(prefix="/api/v1/customers", tags=["privacy (PIPL)"], route_class=ActingRoute)

RequestId = Field(
    min_length=1, max_length=64, description="The person's request, as your records name it"
)


class CopyRequest(Body):
    request_id: StrictStr = RequestId
    format: Literal["json", "markdown"] = Field(
        "json", description="JSON (machine-readable) or a readable Markdown document"
    )


class Correction(Body):
    """The identifying fields to correct; only those present are changed."""

    request_id: StrictStr = RequestId
    name: StrictStr | None = None
    phone: StrictStr | None = None
    email: StrictStr | None = None
    id_number: StrictStr | None = None


class PrivacyRequest(Body):
    request_id: StrictStr = RequestId
    reason: StrictStr = Field(min_length=1, max_length=500)


@router.post(
    "/{customer_id}/privacy/copy",
    openapi_extra=acts("privacy.access"),
    responses={
        **COMMAND_RESPONSES,
        200: {
            "description": "The copy (JSON or Markdown); `X-Kehu-Sha256` is recorded",
            "content": {"application/json": {}, "text/markdown": {}},
        },
    },
)
def copy_personal_data(
    customer_id: UUID, body: CopyRequest, ctx: ContextDep, system: SystemDep
) -> Response:
    """查阅、复制 (PIPL art. 45): everything kehu holds about the person — their record,
    complaints, service requests, credit profile (with its explained ratings), contracts,
    surveys and every event with who recorded it. Recorded as `Customer.DataCopyProvided`
    with the SHA-256 of what was given."""
    result, content, digest = system.pipl.provide_copy(
        ctx, customer_id, body.request_id, format=body.format
    )
    headers = {
        "X-Kehu-Sha256": digest,
        "X-Kehu-Position": str(result.position),
        "X-Kehu-Version": str(result.version),
    }
    media = "text/markdown; charset=utf-8" if body.format == "markdown" else "application/json"
    return Response(content, media_type=media, headers=headers)


@router.post(
    "/{customer_id}/privacy/correct",
    openapi_extra=acts("privacy.correct"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def correct_personal_data(
    customer_id: UUID, body: Correction, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    """更正 (art. 46): `Customer.PersonalDataCorrected` with the new values."""
    changes = body.model_dump(include=body.model_fields_set - {"request_id"})
    return respond(system.pipl.correct(ctx, customer_id, body.request_id, changes))


@router.post(
    "/{customer_id}/privacy/restrict",
    openapi_extra=acts("privacy.restrict"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def restrict_processing(
    customer_id: UUID, body: PrivacyRequest, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    """限制处理 (art. 44): storage only; commands on the person's data are refused with 409
    `privacy.processing_restricted` until the restriction is lifted."""
    return respond(system.pipl.restrict(ctx, customer_id, body.request_id, body.reason))


@router.post(
    "/{customer_id}/privacy/lift-restriction",
    openapi_extra=acts("privacy.restrict"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def lift_restriction(
    customer_id: UUID, body: PrivacyRequest, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    return respond(system.pipl.lift_restriction(ctx, customer_id, body.request_id, body.reason))


@router.post(
    "/{customer_id}/privacy/erase",
    openapi_extra=acts("privacy.erase"),
    response_model=CommandOut,
    responses=COMMAND_RESPONSES,
)
def erase_personal_data(
    customer_id: UUID, body: PrivacyRequest, ctx: ContextDep, system: SystemDep
) -> JSONResponse:
    """删除 (art. 47): `Customer.PersonalDataErased`, then the person's key is destroyed. Their
    name, phone, email, ID number and free texts read as `[erased]` everywhere; amounts,
    dates and ratings remain; `kehu audit verify` still passes."""
    return respond(system.pipl.erase(ctx, customer_id, body.request_id, body.reason))
