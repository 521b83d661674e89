"""HTTP commands and reads for complaints: ``/api/v1/complaints``."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field, StrictInt, StrictStr

from application.privacy import mask_value, may_see_personal_data
from application.store import aggregate_state
from domain.complaint import Complaint
from interfaces.rest.common import COMMAND_RESPONSES, Body, CommandOut, DecimalString, respond
from interfaces.rest.deps import ContextDep, PrincipalDep, SystemDep
from interfaces.rest.events import EventOut, history_page, to_json
from interfaces.rest.problems import ProblemError

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])

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


@router.post("", status_code=201, response_model=CommandOut, responses=COMMAND_RESPONSES)
def lodge(body: LodgeComplaint, ctx: ContextDep, system: SystemDep) -> JSONResponse:
    """受理投诉: lodge a complaint for an existing customer."""
    return respond(system.complaints.lodge(ctx, **body.model_dump()))


def _action(name: str, summary: str, model: type[Body], call: Any) -> None:
    path = "/{complaint_id}/" + name

    def endpoint(complaint_id: UUID, body: Any, ctx: ContextDep, system: SystemDep) -> JSONResponse:
        return respond(call(system.complaints, ctx, complaint_id, **body.model_dump()))

    endpoint.__annotations__ = {
        "complaint_id": UUID,
        "body": model,
        "ctx": ContextDep,
        "system": SystemDep,
        "return": JSONResponse,
    }
    endpoint.__name__ = name.replace("-", "_")
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        response_model=CommandOut,
        responses=COMMAND_RESPONSES,
        summary=summary,
        name=f"complaints.{endpoint.__name__}",
    )


_ACTIONS: list[tuple[str, str, type[Body], Any]] = [
    (
        "acknowledge",
        "首次响应: first response",
        Acknowledge,
        lambda s, c, i, **b: s.acknowledge(c, i, **b),
    ),
    (
        "classify",
        "分类: classify or reclassify",
        Classify,
        lambda s, c, i, **b: s.classify(c, i, **b),
    ),
    ("assign", "指派: assign a handler", Assign, lambda s, c, i, **b: s.assign(c, i, **b)),
    ("escalate", "升级: escalate", Escalate, lambda s, c, i, **b: s.escalate(c, i, **b)),
    (
        "record-investigation",
        "调查: record findings",
        RecordInvestigation,
        lambda s, c, i, **b: s.record_investigation(c, i, **b),
    ),
    (
        "propose-resolution",
        "处理方案, with compensation",
        ProposeResolution,
        lambda s, c, i, **b: s.propose_resolution(c, i, **b),
    ),
    ("resolve", "处理完毕: resolve", Resolve, lambda s, c, i, **b: s.resolve(c, i, **b)),
    (
        "communicate-result",
        "结果反馈: the result and its reasons",
        CommunicateResult,
        lambda s, c, i, **b: s.communicate_result(c, i, **b),
    ),
    (
        "confirm",
        "The customer confirms with a rating 1–5",
        Confirm,
        lambda s, c, i, **b: s.confirm(c, i, **b),
    ),
    (
        "reopen",
        "重新处理: the customer reopens within the window",
        WithReason,
        lambda s, c, i, **b: s.reopen(c, i, **b),
    ),
    ("close", "关闭", AtOnly, lambda s, c, i, **b: s.close(c, i, **b)),
    (
        "withdraw",
        "撤回: the customer withdraws",
        WithReason,
        lambda s, c, i, **b: s.withdraw(c, i, **b),
    ),
    ("pause", "等待客户: pause the SLA clock", WithReason, lambda s, c, i, **b: s.pause(c, i, **b)),
    ("resume", "Resume the SLA clock", AtOnly, lambda s, c, i, **b: s.resume(c, i, **b)),
]
for _name, _summary, _model, _call in _ACTIONS:
    _action(_name, _summary, _model, _call)


@router.get("/{complaint_id}", responses={404: {"description": "No such complaint (then)"}})
def get_complaint(
    complaint_id: UUID,
    principal: PrincipalDep,
    system: SystemDep,
    response: Response,
    as_of: Annotated[AwareDatetime | None, Query()] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """One complaint from its events — now, at a past time (`as_of`) or at a version."""
    if as_of is not None and version is not None:
        raise ProblemError(
            422, "validation.as_of_and_version", "Choose one", "give as_of or version, not both"
        )
    complaint = system.complaints.get(principal, complaint_id, version=version, as_of=as_of)
    state = aggregate_state(complaint)
    if not may_see_personal_data(principal.role):
        for name in Complaint.PERSONAL_STATE:
            state[name] = mask_value(state.get(name))
    response.headers["ETag"] = f'"{complaint.version}"'
    return dict(to_json(state))


@router.get("/{complaint_id}/history", response_model=list[EventOut])
def complaint_history(
    complaint_id: UUID,
    principal: PrincipalDep,
    system: SystemDep,
    after_version: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The complaint's events with their audit envelopes (breaches and escalations included)."""
    events = system.complaints.history(
        principal, complaint_id, after_version=after_version, limit=limit
    )
    return history_page(events, principal)
