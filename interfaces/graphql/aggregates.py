"""Time travel in GraphQL for every aggregate type: ``aggregate(id, asOf | version)`` —
the state rebuilt from its events, now, as it stood at a past time, or at a version —
the same answer as REST ``GET /api/v1/<collection>/{id}?as_of=|version=``, with personal
data masked for roles that may not see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from anyio import to_thread
from strawberry.scalars import JSON
from strawberry.types import Info

from application.disclosures import Disclosed, in_aggregate
from application.errors import ApplicationError, NotFound
from application.privacy import mask_value, may_see_personal_data
from application.service import ContextService
from application.store import aggregate_state, to_json
from domain.base import KehuAggregate
from interfaces.bootstrap import System
from interfaces.graphql.acting import acts
from interfaces.graphql.common import Context, graphql_error
from interfaces.graphql.disclosures import ShowsPersonalData


def _services(system: System) -> dict[str, ContextService[Any]]:
    """The service (and so the read permission) of each business aggregate type."""
    services: list[ContextService[Any]] = [
        system.customers,
        system.complaints,
        system.service_requests,
        system.credit,
        system.contracts,
        system.surveys,
        system.campaigns,
        system.trainings,
    ]
    return {service.kind.__name__: service for service in services}


@strawberry.type(description="An aggregate's state rebuilt from its events (time travel).")
class AggregateState:
    id: strawberry.ID
    type: str = strawberry.field(description="Customer, Complaint, Contract, …")
    version: int
    state: JSON = strawberry.field(
        description="Every attribute as plain JSON: money as {amount, currency}, times ISO"
        " 8601; personal data masked unless the caller's role may see it.",
        extensions=[ShowsPersonalData(disclosed="shows")],
    )
    shows: strawberry.Private[Disclosed]


def _read(
    system: System, principal: Any, id: str, as_of: datetime | None, version: int | None
) -> AggregateState:
    try:
        aggregate_id = UUID(id)
    except ValueError:
        raise NotFound(f"{id!r} is not an aggregate id") from None
    found = system.store.load(aggregate_id, KehuAggregate)  # 404 for an unknown id
    service = _services(system).get(type(found).__name__)
    if service is None:  # kehu's bookkeeping (API keys, command receipts) is not readable
        raise NotFound(f"no business aggregate with id {id}")
    aggregate = service.load(principal, aggregate_id, version=version, as_of=as_of)
    state = aggregate_state(aggregate)
    if not may_see_personal_data(principal.role):
        for name in getattr(type(aggregate), "PERSONAL_STATE", ()):
            state[name] = mask_value(state.get(name))
    return AggregateState(
        id=strawberry.ID(str(aggregate.id)),
        type=type(aggregate).__name__,
        version=aggregate.version,
        state=to_json(state),
        shows=in_aggregate(aggregate, state),
    )


class _Refused(ApplicationError):
    status = 422
    title = "Invalid value"

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code  # type: ignore[misc]


@strawberry.type
class AggregateQuery:
    @strawberry.field(
        description="Any business aggregate by id as it stands now, as it stood at `asOf`"
        " (ISO 8601 with offset) or at `version` — not both.",
        extensions=[
            acts(
                "customers.read",
                "complaints.read",
                "service_requests.read",
                "credit.read",
                "contracts.read",
                "surveys.read",
                "campaigns.read",
                "trainings.read",
            )
        ],
    )
    async def aggregate(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: datetime | None = None,
        version: int | None = None,
    ) -> AggregateState:
        system, principal = info.context.system, info.context.principal
        if as_of is not None and version is not None:
            raise graphql_error(
                _Refused("give asOf or version, not both", code="validation.as_of_and_version")
            )
        if as_of is not None and as_of.utcoffset() is None:
            raise graphql_error(
                _Refused("asOf needs a timezone offset", code="validation.naive_datetime")
            )
        if version is not None and version < 1:
            raise graphql_error(_Refused("version starts at 1", code="validation.version"))
        try:
            return await to_thread.run_sync(_read, system, principal, str(id), as_of, version)
        except ApplicationError as error:
            raise graphql_error(error) from None
