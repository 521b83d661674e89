"""Complaint read model (投诉台账) with its service-level clock, and SLA statistics.

Each row keeps the clock facts (responded, paused, resumed, resolved, reopened); the
deadlines stored with the row are those in force after its last event, and every answer
recomputes the clock as of the moment asked with the SLA engine, so nothing here goes stale
while time passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from statistics import median
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.calendar import SHANGHAI, BusinessCalendar
from domain.complaint import Complaint
from domain.sla import SlaPolicy, SlaStatus
from projections.base import Cursor, ViewStore, Where, placeholders
from projections.clocked import (
    ClockedProjection,
    clock_of,
    late_clause,
    moment,
    open_running_sql,
    utc,
)

OPEN_STATUSES = ("received", "acknowledged", "investigating", "reopened")
ACTIVE_CUSTOMER_STATUSES = ("active", "at_risk", "won_back")

_COLUMNS = (
    "id", "customer_id", "channel", "category", "severity", "status", "vip_tier",
    "handler_id", "handler_name", "section", "escalation_level", "received_at",
    "responded_at", "resolved_at", "finished_at", "rating", "rating_handler_id",
    "compensation", "clock", "breaches", "response_due_at", "resolution_due_at",
    "paused", "reopen_count", "version",
)  # fmt: skip


@dataclass(frozen=True)
class ComplaintRow:
    """One complaint as the read model has it, with its clock as of ``sla.as_of``."""

    id: str
    customer_id: str
    channel: str
    category: str
    severity: str
    status: str
    vip_tier: str | None
    handler_id: str | None
    handler_name: str | None
    section: str | None
    escalation_level: int
    received_at: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    finished_at: datetime | None
    rating: int | None
    rating_handler_id: str | None
    compensation: dict[str, str] | None
    breaches: list[dict[str, str]]
    reopen_count: int
    version: int
    sla: SlaStatus


class ComplaintProjection(ClockedProjection):
    """Keeps ``complaint_view``."""

    name = "complaints"
    table = "complaint_view"
    columns = _COLUMNS
    priority_column = "severity"

    def ddl(self) -> list[str]:
        view = self.t("complaint_view")
        return [
            f"CREATE TABLE IF NOT EXISTS {view} ("
            " id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, channel TEXT NOT NULL,"
            " category TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL,"
            " vip_tier TEXT, handler_id TEXT, handler_name TEXT, section TEXT,"
            " escalation_level INTEGER NOT NULL, received_at TEXT NOT NULL,"
            " responded_at TEXT, resolved_at TEXT, finished_at TEXT,"
            " rating INTEGER, rating_handler_id TEXT, compensation TEXT,"
            " clock TEXT NOT NULL, breaches TEXT NOT NULL,"
            " response_due_at TEXT NOT NULL, resolution_due_at TEXT NOT NULL,"
            " paused INTEGER NOT NULL, reopen_count INTEGER NOT NULL, version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS complaint_view_status ON {view} (status)",
            f"CREATE INDEX IF NOT EXISTS complaint_view_customer ON {view} (customer_id)",
            f"CREATE INDEX IF NOT EXISTS complaint_view_received ON {view} (received_at)",
            f"CREATE INDEX IF NOT EXISTS complaint_view_handler ON {view} (handler_id)",
        ]

    # -- handlers -----------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not show change no rows."""

    @apply.register
    def lodged(self, event: Complaint.Lodged, cursor: Cursor) -> None:
        row: dict[str, Any] = {
            "id": str(event.originator_id),
            "customer_id": str(event.customer_id),
            "channel": event.channel,
            "category": event.category,
            "severity": event.severity,
            "status": "received",
            "vip_tier": event.vip_tier,
            "handler_id": None,
            "handler_name": None,
            "section": None,
            "escalation_level": 0,
            "received_at": utc(event.received_at),
            "responded_at": None,
            "resolved_at": None,
            "finished_at": None,
            "rating": None,
            "rating_handler_id": None,
            "compensation": None,
            "clock": "[]",
            "breaches": "[]",
            "response_due_at": "",
            "resolution_due_at": "",
            "paused": 0,
            "reopen_count": 0,
            "version": event.originator_version,
        }
        self._insert(cursor, row, event, event.received_at)

    @apply.register
    def acknowledged(self, event: Complaint.Acknowledged, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row["responded_at"] = utc(event.at)
            if row["status"] == "received":
                row["status"] = "acknowledged"
            self._fact(row, "responded", event.at)

        self._change(cursor, event, event.at, change)

    @apply.register
    def classified(self, event: Complaint.Classified, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row["category"] = event.category
            row["severity"] = event.severity

        self._change(cursor, event, event.timestamp, change)

    @apply.register
    def assigned(self, event: Complaint.Assigned, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row["handler_id"] = event.handler_id
            row["handler_name"] = event.handler_name
            row["section"] = event.section

        self._change(cursor, event, event.timestamp, change)

    @apply.register
    def escalated(self, event: Complaint.Escalated, cursor: Cursor) -> None:
        self._change(cursor, event, event.at, lambda row: row.update(escalation_level=event.level))

    @apply.register
    def investigated(self, event: Complaint.InvestigationRecorded, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            if row["status"] in ("received", "acknowledged"):
                row["status"] = "investigating"

        self._change(cursor, event, event.at, change)

    @apply.register
    def resolution_proposed(self, event: Complaint.ResolutionProposed, cursor: Cursor) -> None:
        money = event.compensation
        value = (
            json.dumps({"amount": str(money.amount), "currency": money.currency}) if money else None
        )
        self._change(cursor, event, event.timestamp, lambda row: row.update(compensation=value))

    @apply.register
    def resolved(self, event: Complaint.Resolved, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row["status"] = "resolved"
            row["resolved_at"] = utc(event.at)
            row["responded_at"] = row["responded_at"] or utc(event.at)
            self._fact(row, "resolved", event.at)

        self._change(cursor, event, event.at, change)

    @apply.register
    def result_communicated(self, event: Complaint.ResultCommunicated, cursor: Cursor) -> None:
        self._change(cursor, event, event.at, lambda row: row.update(status="result_communicated"))

    @apply.register
    def confirmed(self, event: Complaint.CustomerConfirmed, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row["status"] = "confirmed"
            row["rating"] = event.rating
            # The handler as recorded when the rating was given (later reassignment
            # does not move a past rating).
            row["rating_handler_id"] = row["handler_id"]

        self._change(cursor, event, event.at, change)

    @apply.register
    def reopened(self, event: Complaint.Reopened, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row["status"] = "reopened"
            row["resolved_at"] = None
            row["rating"] = None
            row["rating_handler_id"] = None
            row["reopen_count"] += 1
            self._fact(row, "reopened", event.at)

        self._change(cursor, event, event.at, change)

    @apply.register
    def closed(self, event: Complaint.Closed, cursor: Cursor) -> None:
        self._change(
            cursor,
            event,
            event.at,
            lambda row: row.update(status="closed", finished_at=utc(event.at)),
        )

    @apply.register
    def withdrawn(self, event: Complaint.Withdrawn, cursor: Cursor) -> None:
        def change(row: dict[str, Any]) -> None:
            row["status"] = "withdrawn"
            row["finished_at"] = utc(event.at)
            if row["paused"]:
                self._fact(row, "resumed", event.at)

        self._change(cursor, event, event.at, change)

    @apply.register
    def paused(self, event: Complaint.Paused, cursor: Cursor) -> None:
        self._change(cursor, event, event.at, lambda row: self._fact(row, "paused", event.at))

    @apply.register
    def resumed(self, event: Complaint.Resumed, cursor: Cursor) -> None:
        self._change(cursor, event, event.at, lambda row: self._fact(row, "resumed", event.at))

    @apply.register
    def sla_breached(self, event: Complaint.SlaBreached, cursor: Cursor) -> None:
        self._change(cursor, event, event.detected_at, lambda row: self._breach(row, event))


@dataclass(frozen=True)
class ComplaintFilter:
    status: list[str] | None = None
    category: list[str] | None = None
    severity: list[str] | None = None
    channel: list[str] | None = None
    handler_id: str | None = None
    customer_id: str | None = None
    breached: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


@dataclass(frozen=True)
class SlaGroup:
    """SLA statistics of one group of complaints received in a period."""

    key: str
    complaints: int
    resolved: int
    on_time: int
    breached: int
    on_time_rate: Decimal | None
    median_hours: Decimal | None
    p90_hours: Decimal | None


@dataclass(frozen=True)
class SlaReport:
    period_from: datetime
    period_to: datetime
    group_by: str
    groups: list[SlaGroup]
    total: SlaGroup
    active_customers: int
    complaint_rate_per_1000: Decimal | None


def percentile(values: list[Decimal], fraction: Decimal) -> Decimal | None:
    """Nearest-rank percentile (the smallest value with at least ``fraction`` at or below)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = int((fraction * len(ordered)).to_integral_value(rounding="ROUND_CEILING"))
    return ordered[max(rank, 1) - 1]


def _hours(value: Decimal | None) -> Decimal | None:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if value is not None else None


def _rate(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class ComplaintQueries:
    """Read-side queries over ``complaint_view`` (never the event store)."""

    def __init__(self, views: ViewStore, calendar: BusinessCalendar, policy: SlaPolicy) -> None:
        self.views = views
        self.view = views.table("complaint_view")
        self.customers = views.table("customer_view")
        self.calendar = calendar
        self.policy = policy

    def _row(self, raw: Any, as_of: datetime) -> ComplaintRow:
        received_at = datetime.fromisoformat(raw["received_at"])
        return ComplaintRow(
            id=raw["id"],
            customer_id=raw["customer_id"],
            channel=raw["channel"],
            category=raw["category"],
            severity=raw["severity"],
            status=raw["status"],
            vip_tier=raw["vip_tier"],
            handler_id=raw["handler_id"],
            handler_name=raw["handler_name"],
            section=raw["section"],
            escalation_level=raw["escalation_level"],
            received_at=received_at,
            responded_at=moment(raw["responded_at"]),
            resolved_at=moment(raw["resolved_at"]),
            finished_at=moment(raw["finished_at"]),
            rating=raw["rating"],
            rating_handler_id=raw["rating_handler_id"],
            compensation=json.loads(raw["compensation"]) if raw["compensation"] else None,
            breaches=json.loads(raw["breaches"]),
            reopen_count=raw["reopen_count"],
            version=raw["version"],
            sla=clock_of(raw, self.calendar, self.policy, "severity", as_of),
        )

    def get(self, complaint_id: str, as_of: datetime) -> ComplaintRow | None:
        with self.views.transaction(commit=False) as cursor:
            raw = cursor.execute(
                f"SELECT * FROM {self.view} WHERE id = ?", [complaint_id]
            ).fetchone()
        return self._row(raw, as_of) if raw else None

    def page(
        self,
        where: ComplaintFilter,
        as_of: datetime,
        *,
        descending: bool = True,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[ComplaintRow], int]:
        condition = self._where(where, as_of)
        direction = "DESC" if descending else "ASC"
        rows, total = self.views.page(
            self.view,
            condition.clauses,
            condition.params,
            f"received_at {direction}, id ASC",
            offset=offset,
            limit=limit,
        )
        return [self._row(r, as_of) for r in rows], total

    def _where(self, where: ComplaintFilter, as_of: datetime) -> Where:
        condition = (
            Where()
            .within("status", where.status)
            .within("category", where.category)
            .within("severity", where.severity)
            .within("channel", where.channel)
            .equal("handler_id", where.handler_id or None)
            .equal("customer_id", where.customer_id or None)
            .at_least("received_at", where.received_from)
            .before("received_at", where.received_to)
        )
        if where.breached is not None:
            # Deadlines stored with a running clock are exact; a paused clock cannot
            # breach while it stands still, so only recorded breaches count for it.
            now = utc(as_of)
            late = late_clause(OPEN_STATUSES)
            condition.raw(late if where.breached else f"NOT {late}", now, now, *OPEN_STATUSES)
        return condition

    def open_running(self, as_of: datetime, limit: int = 500) -> list[ComplaintRow]:
        """Open complaints whose clock runs, earliest deadline first (for the scheduler)."""
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                open_running_sql(self.view, OPEN_STATUSES), [*OPEN_STATUSES, limit]
            ).fetchall()
        return [self._row(r, as_of) for r in rows]

    def sla_report(
        self, period_from: datetime, period_to: datetime, group_by: str, as_of: datetime
    ) -> SlaReport:
        """On-time %, median and p90 handling time (business hours) per group, and the
        complaint rate per 1,000 active customers."""
        rows, _ = self.page(
            ComplaintFilter(received_from=period_from, received_to=period_to),
            as_of,
            limit=1_000_000,
        )
        key_of: dict[str, Callable[[ComplaintRow], str]] = {
            "category": lambda r: r.category,
            "severity": lambda r: r.severity,
            "channel": lambda r: r.channel,
            "month": lambda r: r.received_at.astimezone(SHANGHAI).strftime("%Y-%m"),
            "handler": lambda r: r.handler_id or "",
            "none": lambda r: "all",
        }
        grouped: dict[str, list[ComplaintRow]] = {}
        for row in rows:
            grouped.setdefault(key_of[group_by](row), []).append(row)
        with self.views.transaction(commit=False) as cursor:
            active = cursor.execute(
                f"SELECT COUNT(*) AS n FROM {self.customers}"
                f" WHERE status IN {placeholders(ACTIVE_CUSTOMER_STATUSES)}",
                list(ACTIVE_CUSTOMER_STATUSES),
            ).fetchone()["n"]
        rate = (
            (Decimal(len(rows)) * 1000 / active).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if active
            else None
        )
        return SlaReport(
            period_from=period_from,
            period_to=period_to,
            group_by=group_by,
            groups=[self._group(key, members) for key, members in sorted(grouped.items())],
            total=self._group("total", rows),
            active_customers=int(active),
            complaint_rate_per_1000=rate,
        )

    @staticmethod
    def _group(key: str, rows: list[ComplaintRow]) -> SlaGroup:
        resolved = [r for r in rows if r.sla.resolved_at is not None]
        hours = [r.sla.resolution_hours for r in resolved]
        breached = sum(1 for r in rows if r.sla.breached)
        on_time = sum(1 for r in resolved if not r.sla.breached)
        return SlaGroup(
            key=key,
            complaints=len(rows),
            resolved=len(resolved),
            on_time=on_time,
            breached=breached,
            on_time_rate=_rate(on_time, len(resolved)),
            median_hours=_hours(Decimal(median(hours))) if hours else None,
            p90_hours=_hours(percentile(hours, Decimal("0.9"))),
        )
