"""The event feed for integrators (global order) and event pages for auditors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from application.context import Principal
from application.permissions import authorize
from application.privacy import mask_event_payload, may_see_personal_data
from application.store import RecordedEvent, to_json
from interfaces.rest.acting import ActingRoute, acts
from interfaces.rest.common import MAX_SAFE_INT
from interfaces.rest.deps import PrincipalDep, SystemDep
from interfaces.rest.disclosures import DisclosingDep

router = APIRouter(prefix="/api/v1", tags=["events"], route_class=ActingRoute)


class EventOut(BaseModel):
    position: int | None
    aggregate_type: str
    aggregate_id: str
    version: int
    type: str
    recorded_at: str
    envelope: dict[str, Any] | None
    payload: dict[str, Any]


def history_page(events: list[RecordedEvent], principal: Principal) -> list[dict[str, Any]]:
    visible = may_see_personal_data(principal.role)
    page = []
    for recorded in events:
        data = recorded.as_json()
        payload = recorded.payload
        if not visible:
            payload = mask_event_payload(type(recorded.event), payload)
        data["payload"] = to_json(payload)
        page.append(data)
    return page


@router.get("/events", openapi_extra=acts("events.feed"), response_model=list[EventOut])
def event_feed(
    principal: PrincipalDep,
    system: SystemDep,
    disclosing: DisclosingDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_SAFE_INT, description="Global position to read after")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Events in global order after a position. Personal data is masked unless the
    caller's role may see it. Follow it by passing the last position as `after`."""
    authorize(principal, "events.feed")
    events = system.store.feed(after, limit)
    disclosing.events(events)
    return history_page(events, principal)
