"""The audit trail over HTTP (审计轨迹), for admins, managers and auditors:
``GET /api/v1/audit/trail`` (stored business events, filtered and paged) and
``GET /api/v1/audit/commands/{command_id}/chain`` (everything a command and the commands
it caused recorded). Rows carry the same audit envelope as ``/history`` and ``/events``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from application.audit_trail import events_at, visible_payload
from application.context import Principal, Role
from application.permissions import authorize
from interfaces.bootstrap import System
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import MAX_SAFE_INT
from interfaces.rest.deps import PrincipalDep, SystemDep
from interfaces.rest.disclosures import Disclosing, DisclosingDep
from interfaces.rest.problems import ProblemError
from projections.audit import AuditEntry, AuditFilter

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], route_class=ActingRoute)

READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or unknown API key"},
    403: {"description": "Only admins, managers and auditors read the audit trail"},
    422: {"description": "Invalid filter (e.g. a time without its offset)"},
    504: {"description": "The audit trail did not reach `min_position` in time"},
}


class TrailQuery(BaseModel):
    """Filters combine with AND; time ranges are half-open, ``from`` ≤ t < ``to``."""

    model_config = ConfigDict(extra="forbid")

    actor_id: str | None = Field(None, description="The principal that acted")
    actor_role: Role | None = Field(None, description="The role it acted in")
    aggregate_type: str | None = Field(
        None, description="Customer, Complaint, ServiceRequest, CreditProfile, Contract, …"
    )
    aggregate_id: str | None = None
    event_type: str | None = Field(None, description="e.g. Complaint.Lodged")
    command: str | None = Field(None, description="e.g. complaints.lodge")
    command_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    recorded_from: AwareDatetime | None = Field(None, description="Recorded at or after")
    recorded_to: AwareDatetime | None = Field(None, description="Recorded before")
    business_from: AwareDatetime | None = Field(
        None, description="业务时间 at or after (events without one never match a range)"
    )
    business_to: AwareDatetime | None = Field(None, description="业务时间 before")
    after: int | None = Field(
        None,
        ge=0,
        le=MAX_SAFE_INT,
        description="Only events after this global position (pass `next_after`)",
    )
    offset: int = Field(
        0, ge=0, le=MAX_SAFE_INT, description="Events of the filtered trail to skip"
    )
    limit: int = Field(100, ge=1, le=1000)
    include_payload: bool = Field(
        False,
        description="Add each event's payload (personal data masked unless your role may see it)",
    )
    min_position: int | None = Field(
        None,
        ge=0,
        le=MAX_SAFE_INT,
        description="Answer only once the trail holds this global position",
    )


class AuditEnvelopeOut(BaseModel):
    actor_id: str | None
    actor_role: str | None
    command: str | None
    command_id: str | None
    correlation_id: str | None
    causation_id: str | None
    reason: str | None


class AuditEventOut(BaseModel):
    position: int
    aggregate_type: str
    aggregate_id: str
    version: int
    type: str
    recorded_at: str = Field(description="When kehu recorded it (UTC, ISO 8601)")
    business_time: str | None = Field(
        description="业务时间: when the fact happened as the event says (UTC); null if it says not"
    )
    envelope: AuditEnvelopeOut
    payload: dict[str, Any] | None = Field(
        None, description="Only with include_payload=true; personal data masked by role"
    )


class TrailPageOut(BaseModel):
    items: list[AuditEventOut]
    total: int = Field(description="Events matching the filter (after `after`, if given)")
    offset: int
    limit: int
    next_after: int | None = Field(
        description="Pass as `after` (with offset 0) for the next page; null on the last page"
    )


class ChainOut(BaseModel):
    command_id: str
    items: list[AuditEventOut]
    total: int = Field(description="Events in the whole chain")
    offset: int
    limit: int


def _wait(system: System, query_position: int | None, header_position: int | None) -> None:
    wanted = max(filter(None, (query_position, header_position)), default=None)
    system.wait_for(wanted)


def _page(
    system: System,
    principal: Principal,
    entries: list[AuditEntry],
    include_payload: bool,
    disclosing: Disclosing,
) -> list[dict[str, Any]]:
    recorded = events_at(system.store, [e.position for e in entries]) if include_payload else {}
    disclosing.events(recorded.values())
    page = []
    for entry in entries:
        item: dict[str, Any] = {
            "position": entry.position,
            "aggregate_type": entry.aggregate_type,
            "aggregate_id": entry.aggregate_id,
            "version": entry.version,
            "type": entry.type,
            "recorded_at": entry.recorded_at.isoformat(),
            "business_time": entry.business_time.isoformat() if entry.business_time else None,
            "envelope": {
                "actor_id": entry.actor_id,
                "actor_role": entry.actor_role,
                "command": entry.command,
                "command_id": entry.command_id,
                "correlation_id": entry.correlation_id,
                "causation_id": entry.causation_id,
                "reason": entry.reason,
            },
        }
        if include_payload:
            found = recorded.get(entry.position)
            item["payload"] = visible_payload(found, principal.role) if found else None
        page.append(item)
    return page


MinPositionHeader = Annotated[
    int | None,
    Header(ge=0, description="Read your own write: the command's `position`"),
]


@router.get(
    "/trail",
    openapi_extra=acts("audit.trail"),
    response_model=TrailPageOut,
    responses=READ_RESPONSES,
)
def trail(
    principal: PrincipalDep,
    system: SystemDep,
    query: Annotated[TrailQuery, Query()],
    disclosing: DisclosingDep,
    x_kehu_min_position: MinPositionHeader = None,
) -> dict[str, Any]:
    """审计轨迹: stored business events in global order, filtered and paged. Page with
    `offset`/`limit`, or follow with `after` = the last page's `next_after` (stable while
    new events arrive). kehu's own bookkeeping (command receipts, API keys) is not listed."""
    authorize(principal, "audit.trail")
    _wait(system, query.min_position, x_kehu_min_position)
    where = AuditFilter(
        actor_id=query.actor_id,
        actor_role=query.actor_role.value if query.actor_role else None,
        aggregate_type=query.aggregate_type,
        aggregate_id=query.aggregate_id,
        event_type=query.event_type,
        command=query.command,
        command_id=query.command_id,
        correlation_id=query.correlation_id,
        causation_id=query.causation_id,
        recorded_from=query.recorded_from,
        recorded_to=query.recorded_to,
        business_from=query.business_from,
        business_to=query.business_to,
        after_position=query.after,
    )
    entries, total = system.audit_queries.trail(where, query.offset, query.limit)
    more = query.offset + len(entries) < total
    return {
        "items": _page(system, principal, entries, query.include_payload, disclosing),
        "total": total,
        "offset": query.offset,
        "limit": query.limit,
        "next_after": entries[-1].position if entries and more else None,
    }


@router.get(
    "/commands/{command_id}/chain",
    openapi_extra=acts("audit.trail"),
    response_model=ChainOut,
    responses={**READ_RESPONSES, 404: {"description": "The command recorded nothing"}},
)
def causal_chain(
    principal: PrincipalDep,
    system: SystemDep,
    command_id: Annotated[str, Path(min_length=1, max_length=200)],
    disclosing: DisclosingDep,
    offset: Annotated[int, Query(ge=0, le=MAX_SAFE_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    include_payload: Annotated[bool, Query(description="Add payloads (masked by role)")] = False,
    min_position: Annotated[int | None, Query(ge=0, le=MAX_SAFE_INT)] = None,
    x_kehu_min_position: MinPositionHeader = None,
) -> dict[str, Any]:
    """因果链: every event the command recorded and every event recorded by the commands it
    caused — their `causation_id` (the `X-Causation-Id` header) names a command of the
    chain, transitively — in global order. The whole conversation, caused or not, is
    `/audit/trail?correlation_id=…`."""
    authorize(principal, "audit.trail")
    _wait(system, min_position, x_kehu_min_position)
    entries, total = system.audit_queries.causal_chain_page(command_id, offset=offset, limit=limit)
    if total == 0:
        raise ProblemError(
            404,
            "not_found",
            "Not found",
            f"no event recorded by command {command_id} is in the audit trail"
            " (pass the command's position as min_position to wait for it)",
        )
    return {
        "command_id": command_id,
        "items": _page(system, principal, entries, include_payload, disclosing),
        "total": total,
        "offset": offset,
        "limit": limit,
    }
