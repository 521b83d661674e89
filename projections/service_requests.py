"""Service-request read model (服务请求台账) with its service-level clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.calendar import BusinessCalendar
from domain.service_request import ServiceRequest
from domain.sla import SlaPolicy, SlaStatus
from projections.base import Cursor, ViewStore, Where
from projections.clocked import (
    ClockedProjection,
    clock_of,
    late_clause,
    moment,
    open_running_sql,
    utc,
)

OPEN_STATUSES = ("open", "responded")

_COLUMNS = (
    "id", "customer_id", "request_type", "channel", "priority", "status", "vip_tier",
    "handler_id", "handler_name", "section", "received_at", "responded_at", "resolved_at",
    "finished_at", "rating", "rating_handler_id", "clock", "breaches", "response_due_at",
    "resolution_due_at", "paused", "version",
)  # fmt: skip


@dataclass(frozen=True)
class ServiceRequestRow:
    id: str
    customer_id: str
    request_type: str
    channel: str
    priority: str
    status: str
    vip_tier: str | None
    handler_id: str | None
    handler_name: str | None
    received_at: datetime
    finished_at: datetime | None
    rating: int | None
    rating_handler_id: str | None
    breaches: list[dict[str, str]]
    version: int
    sla: SlaStatus

    #: Service requests are not escalated; the SLA policy only records their breaches.
    escalation_level: int = 0


class ServiceRequestProjection(ClockedProjection):
    """Keeps ``service_request_view``."""

    name = "service_requests"
    table = "service_request_view"
    columns = _COLUMNS
    priority_column = "priority"

    def ddl(self) -> list[str]:
        view = self.t(self.table)
        return [
            f"CREATE TABLE IF NOT EXISTS {view} ("
            " id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, request_type TEXT NOT NULL,"
            " channel TEXT NOT NULL, priority TEXT NOT NULL, status TEXT NOT NULL,"
            " vip_tier TEXT, handler_id TEXT, handler_name TEXT, section TEXT,"
            " received_at TEXT NOT NULL, responded_at TEXT, resolved_at TEXT, finished_at TEXT,"
            " rating INTEGER, rating_handler_id TEXT, clock TEXT NOT NULL, breaches TEXT NOT NULL,"
            " response_due_at TEXT NOT NULL, resolution_due_at TEXT NOT NULL,"
            " paused INTEGER NOT NULL, version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS service_request_view_status ON {view} (status)",
            f"CREATE INDEX IF NOT EXISTS service_request_view_received ON {view} (received_at)",
        ]

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not show change no rows."""

    @apply.register
    def opened(self, event: ServiceRequest.Opened, cursor: Cursor) -> None:
        row: dict[str, Any] = dict.fromkeys(_COLUMNS)
        row.update(
            id=str(event.originator_id),
            customer_id=str(event.customer_id),
            request_type=event.request_type,
            channel=event.channel,
            priority=event.priority,
            status="open",
            vip_tier=event.vip_tier,
            received_at=utc(event.received_at),
            version=event.originator_version,
        )
        for key in ("clock", "breaches", "response_due_at", "resolution_due_at", "paused"):
            row.pop(key)
        self._insert(cursor, row, event, event.received_at)

    @apply.register
    def assigned(self, event: ServiceRequest.Assigned, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row.update(
                handler_id=event.handler_id, handler_name=event.handler_name, section=event.section
            )

        self._change(cursor, event, event.timestamp, change)

    @apply.register
    def responded(self, event: ServiceRequest.Responded, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row.update(status="responded", responded_at=utc(event.at))
            self._fact(row, "responded", event.at)

        self._change(cursor, event, event.at, change)

    @apply.register
    def paused(self, event: ServiceRequest.Paused, cursor: Cursor) -> None:
        self._change(cursor, event, event.at, lambda row: self._fact(row, "paused", event.at))

    @apply.register
    def resumed(self, event: ServiceRequest.Resumed, cursor: Cursor) -> None:
        self._change(cursor, event, event.at, lambda row: self._fact(row, "resumed", event.at))

    @apply.register
    def resolved(self, event: ServiceRequest.Resolved, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row.update(status="resolved", resolved_at=utc(event.at))
            row["responded_at"] = row["responded_at"] or utc(event.at)
            self._fact(row, "resolved", event.at)

        self._change(cursor, event, event.at, change)

    @apply.register
    def feedback_given(self, event: ServiceRequest.FeedbackGiven, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row.update(rating=event.rating, rating_handler_id=row["handler_id"])

        self._change(cursor, event, event.at, change)

    @apply.register
    def closed(self, event: ServiceRequest.Closed, cursor: Cursor) -> None:
        self._change(
            cursor,
            event,
            event.at,
            lambda row: row.update(status="closed", finished_at=utc(event.at)),
        )

    @apply.register
    def cancelled(self, event: ServiceRequest.Cancelled, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row.update(status="cancelled", finished_at=utc(event.at))
            if row["paused"]:
                self._fact(row, "resumed", event.at)

        self._change(cursor, event, event.at, change)

    @apply.register
    def sla_breached(self, event: ServiceRequest.SlaBreached, cursor: Cursor) -> None:
        self._change(cursor, event, event.detected_at, lambda row: self._breach(row, event))


@dataclass(frozen=True)
class ServiceRequestFilter:
    status: list[str] | None = None
    request_type: list[str] | None = None
    priority: list[str] | None = None
    channel: list[str] | None = None
    customer_id: str | None = None
    handler_id: str | None = None
    breached: bool | None = None


class ServiceRequestQueries:
    def __init__(self, views: ViewStore, calendar: BusinessCalendar, policy: SlaPolicy) -> None:
        self.views = views
        self.view = views.table("service_request_view")
        self.calendar = calendar
        self.policy = policy

    def _row(self, raw: Any, as_of: datetime) -> ServiceRequestRow:
        return ServiceRequestRow(
            id=raw["id"],
            customer_id=raw["customer_id"],
            request_type=raw["request_type"],
            channel=raw["channel"],
            priority=raw["priority"],
            status=raw["status"],
            vip_tier=raw["vip_tier"],
            handler_id=raw["handler_id"],
            handler_name=raw["handler_name"],
            received_at=datetime.fromisoformat(raw["received_at"]),
            finished_at=moment(raw["finished_at"]),
            rating=raw["rating"],
            rating_handler_id=raw["rating_handler_id"],
            breaches=json.loads(raw["breaches"]),
            version=raw["version"],
            sla=clock_of(raw, self.calendar, self.policy, "priority", as_of),
        )

    def get(self, request_id: str, as_of: datetime) -> ServiceRequestRow | None:
        with self.views.transaction(commit=False) as cursor:
            raw = cursor.execute(f"SELECT * FROM {self.view} WHERE id = ?", [request_id]).fetchone()
        return self._row(raw, as_of) if raw else None

    def page(
        self, where: ServiceRequestFilter, as_of: datetime, *, offset: int = 0, limit: int = 20
    ) -> tuple[list[ServiceRequestRow], int]:
        condition = (
            Where()
            .within("status", where.status)
            .within("request_type", where.request_type)
            .within("priority", where.priority)
            .within("channel", where.channel)
            .equal("customer_id", where.customer_id or None)
            .equal("handler_id", where.handler_id or None)
        )
        if where.breached is not None:
            late = late_clause(OPEN_STATUSES)
            condition.raw(
                late if where.breached else f"NOT {late}", utc(as_of), utc(as_of), *OPEN_STATUSES
            )
        rows, total = self.views.page(
            self.view,
            condition.clauses,
            condition.params,
            "received_at DESC, id",
            offset=offset,
            limit=limit,
        )
        return [self._row(r, as_of) for r in rows], total

    def open_running(self, as_of: datetime, limit: int = 500) -> list[ServiceRequestRow]:
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                open_running_sql(self.view, OPEN_STATUSES), [*OPEN_STATUSES, limit]
            ).fetchall()
        return [self._row(r, as_of) for r in rows]
