"""Disclosures over HTTP (个人信息查阅记录).

- :data:`DisclosingDep` gives a read route what it needs to record its own answer: the
  caller's context (actor, role, ``X-Correlation-Id``, ``X-Causation-Id``, ``X-Reason``)
  and the route (``GET /api/v1/customers/{customer_id}``). A route that shows personal
  data unmasked calls it once, after the read succeeded and before it answers, so a
  refused or failed read records nothing and no answer leaves unrecorded.
- ``GET /api/v1/customers/{id}/disclosures``: who looked at this person (admins, managers
  and auditors: the ``audit.trail`` permission).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import unquote
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from application.context import CommandContext
from application.disclosures import Disclosed, in_aggregate
from application.permissions import authorize
from application.store import RecordedEvent
from domain.base import KehuAggregate
from domain.customer import Customer
from interfaces.bootstrap import System
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.deps import PrincipalDep, SystemDep
from projections.disclosures import DisclosureFilter, DisclosureRow


class Disclosing:
    """Records what one REST answer disclosed (once per answer)."""

    def __init__(self, system: System, ctx: CommandContext, via: str) -> None:
        self.system = system
        self.ctx = ctx
        self.via = via

    @property
    def unmasked(self) -> bool:
        """Whether this caller's answers are recorded at all (else nothing is worked out)."""
        return self.system.disclosures.applies_to(self.ctx.principal)

    def record(self, disclosed: Disclosed) -> None:
        self.system.disclosures.record(self.ctx, self.via, disclosed)

    def aggregate(self, aggregate: KehuAggregate, state: dict[str, Any]) -> None:
        """The answer is the aggregate's ``state`` (unmasked, if the role may see it)."""
        if self.unmasked:
            self.record(in_aggregate(aggregate, state))

    def events(self, events: Iterable[RecordedEvent]) -> None:
        """The answer holds these events' payloads (unmasked, if the role may see it)."""
        if self.unmasked:
            self.record(self.system.disclosures.in_events(events))


def get_disclosing(request: Request, principal: PrincipalDep, system: SystemDep) -> Disclosing:
    route = request.scope.get("route")
    via = f"{request.method} {getattr(route, 'path', request.url.path)}"
    reason = request.headers.get("x-reason")
    ctx = CommandContext.for_principal(
        principal,
        correlation_id=request.headers.get("x-correlation-id"),
        causation_id=request.headers.get("x-causation-id"),
        reason=unquote(reason) if reason else None,
    )
    return Disclosing(system, ctx, via)


DisclosingDep = Annotated[Disclosing, Depends(get_disclosing)]


router = APIRouter(prefix="/api/v1/customers", tags=["customers"], route_class=ActingRoute)


class DisclosureOut(BaseModel):
    id: str
    recorded_at: str = Field(description="When the answer was recorded (UTC, ISO 8601)")
    actor_id: str = Field(description="Who looked")
    actor_role: str = Field(description="In which role")
    via: str = Field(description="The query, e.g. `GET /api/v1/customers/{customer_id}`")
    fields: list[str] = Field(description="The personal fields shown, e.g. `Customer.phone`")
    subjects: list[str] = Field(description="Everyone the same answer showed")
    command_id: str
    correlation_id: str


class DisclosurePageOut(BaseModel):
    items: list[DisclosureOut]
    total: int
    offset: int
    limit: int


def disclosure_json(row: DisclosureRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "recorded_at": row.recorded_at.isoformat(),
        "actor_id": row.actor_id,
        "actor_role": row.actor_role,
        "via": row.via,
        "fields": row.fields,
        "subjects": row.subjects,
        "command_id": row.command_id,
        "correlation_id": row.correlation_id,
    }


@router.get(
    "/{customer_id}/disclosures",
    openapi_extra=acts("audit.trail"),
    response_model=DisclosurePageOut,
    responses={
        403: {"description": "Only admins, managers and auditors read disclosures"},
        404: {"description": "No such customer"},
        504: {"description": "The disclosures did not reach `min_position` in time"},
    },
)
def customer_disclosures(
    customer_id: UUID,
    principal: PrincipalDep,
    system: SystemDep,
    actor_id: Annotated[str | None, Query(max_length=200, description="Who looked")] = None,
    since: Annotated[AwareDatetime | None, Query(description="Recorded at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Recorded before")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    min_position: Annotated[int | None, Query(ge=0)] = None,
    x_kehu_min_position: Annotated[int | None, Header(ge=0)] = None,
) -> dict[str, Any]:
    """个人信息查阅记录: who saw this customer's personal data unmasked — when, in which
    role, through which query and which fields — the latest first."""
    authorize(principal, "audit.trail")
    system.store.load(customer_id, Customer)  # 404 for an unknown customer
    system.wait_for(max(filter(None, (min_position, x_kehu_min_position)), default=None))
    rows, total = system.disclosure_queries.page(
        DisclosureFilter(subject_id=str(customer_id), actor_id=actor_id, since=since, until=until),
        offset=offset,
        limit=limit,
    )
    return {
        "items": [disclosure_json(row) for row in rows],
        "total": total,
        "offset": offset,
        "limit": limit,
    }
