"""Complaints in GraphQL: ``complaint(id)``, ``complaints`` and ``slaStatistics``.

Deadlines and breaches are computed by the SLA engine as of the moment of the query (or
``asOf``), in business hours on the mainland-China calendar.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.types import Info

from application.clock import utc_now
from interfaces.graphql.acting import acts
from interfaces.graphql.common import (
    Connection,
    Context,
    Money,
    OrderDirection,
    check_page_size,
    connection,
    guard,
    offset_after,
)
from projections.complaints import ComplaintFilter as ComplaintFilterQuery
from projections.complaints import ComplaintRow, SlaGroup, SlaReport


@strawberry.enum(description="投诉渠道 complaint channel")
class ComplaintChannel(Enum):
    PHONE = strawberry.enum_value("phone", description="电话 phone")
    EMAIL = strawberry.enum_value("email", description="邮箱 email")
    ONLINE = strawberry.enum_value("online", description="在线客服 online service")
    WECHAT = strawberry.enum_value("wechat", description="微信 WeChat")
    IN_PERSON = strawberry.enum_value("in_person", description="现场 in person")
    LETTER = strawberry.enum_value("letter", description="信函 letter")


@strawberry.enum(description="投诉分类 complaint category")
class ComplaintCategory(Enum):
    PRODUCT_QUALITY = strawberry.enum_value("product_quality", description="产品质量")
    SERVICE_ATTITUDE = strawberry.enum_value("service_attitude", description="服务态度")
    DELIVERY = strawberry.enum_value("delivery", description="交付")
    BILLING = strawberry.enum_value("billing", description="账单")
    PRIVACY = strawberry.enum_value("privacy", description="隐私")
    OTHER = strawberry.enum_value("other", description="其他")


@strawberry.enum(description="严重程度 severity")
class ComplaintSeverity(Enum):
    LOW = strawberry.enum_value("low", description="低 low")
    MEDIUM = strawberry.enum_value("medium", description="中 medium")
    HIGH = strawberry.enum_value("high", description="高 high")
    CRITICAL = strawberry.enum_value("critical", description="紧急 critical")


@strawberry.enum(description="投诉处理状态 complaint status")
class ComplaintStatus(Enum):
    RECEIVED = strawberry.enum_value("received", description="已受理 received")
    ACKNOWLEDGED = strawberry.enum_value("acknowledged", description="已响应 acknowledged")
    INVESTIGATING = strawberry.enum_value("investigating", description="调查中 investigating")
    RESOLVED = strawberry.enum_value("resolved", description="已处理 resolved")
    RESULT_COMMUNICATED = strawberry.enum_value(
        "result_communicated", description="已反馈 result communicated"
    )
    CONFIRMED = strawberry.enum_value("confirmed", description="已确认 confirmed by the customer")
    REOPENED = strawberry.enum_value("reopened", description="重新处理 reopened")
    CLOSED = strawberry.enum_value("closed", description="已关闭 closed")
    WITHDRAWN = strawberry.enum_value("withdrawn", description="已撤回 withdrawn")


@strawberry.type(description="处理人 the handler")
class Handler:
    id: str
    name: str
    section: str | None


@strawberry.type(description="A recorded service-level breach (with how late, in business hours).")
class SlaBreach:
    target: str
    due_at: datetime
    detected_at: datetime
    late_by_hours: Decimal

    @classmethod
    def of(cls, recorded: dict[str, str]) -> SlaBreach:
        return cls(
            target=recorded["target"],
            due_at=datetime.fromisoformat(recorded["due_at"]),
            detected_at=datetime.fromisoformat(recorded["detected_at"]),
            late_by_hours=Decimal(recorded["late_by_hours"]),
        )


@strawberry.type(description="投诉: a complaint from the complaint read model, with its SLA clock.")
class Complaint:
    id: strawberry.ID
    customer_id: strawberry.ID
    channel: ComplaintChannel
    category: ComplaintCategory
    severity: ComplaintSeverity
    status: ComplaintStatus
    vip_tier: str | None
    handler: Handler | None
    escalation_level: int
    received_at: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    finished_at: datetime | None
    response_due_at: datetime = strawberry.field(
        description="First-response deadline (business hours, pauses excluded)"
    )
    resolution_due_at: datetime = strawberry.field(description="Resolution deadline")
    response_breached: bool
    resolution_breached: bool
    breached: bool = strawberry.field(description="Either deadline missed (as of the query)")
    response_late_by_hours: Decimal
    resolution_late_by_hours: Decimal
    business_hours_elapsed: Decimal = strawberry.field(
        description="Business hours the resolution clock has run (pauses excluded)"
    )
    paused: bool = strawberry.field(description="Waiting on the customer: the clock stands still")
    rating: int | None
    compensation: Money | None
    breaches: list[SlaBreach]
    reopen_count: int
    version: int

    @classmethod
    def from_row(cls, row: ComplaintRow) -> Complaint:
        sla = row.sla
        return cls(
            id=strawberry.ID(row.id),
            customer_id=strawberry.ID(row.customer_id),
            channel=ComplaintChannel(row.channel),
            category=ComplaintCategory(row.category),
            severity=ComplaintSeverity(row.severity),
            status=ComplaintStatus(row.status),
            vip_tier=row.vip_tier,
            handler=(
                Handler(id=row.handler_id, name=row.handler_name or "", section=row.section)
                if row.handler_id
                else None
            ),
            escalation_level=row.escalation_level,
            received_at=row.received_at,
            responded_at=sla.responded_at,
            resolved_at=sla.resolved_at,
            finished_at=row.finished_at,
            response_due_at=sla.response_due_at,
            resolution_due_at=sla.resolution_due_at,
            response_breached=sla.response_breached,
            resolution_breached=sla.resolution_breached,
            breached=sla.breached or bool(row.breaches),
            response_late_by_hours=sla.response_late_by,
            resolution_late_by_hours=sla.resolution_late_by,
            business_hours_elapsed=sla.resolution_hours,
            paused=sla.paused,
            rating=row.rating,
            compensation=Money(**row.compensation) if row.compensation else None,
            breaches=[SlaBreach.of(b) for b in row.breaches],
            reopen_count=row.reopen_count,
            version=row.version,
        )


@strawberry.input(description="Filters combine with AND.")
class ComplaintFilter:
    status: list[ComplaintStatus] | None = None
    category: list[ComplaintCategory] | None = None
    severity: list[ComplaintSeverity] | None = None
    channel: list[ComplaintChannel] | None = None
    handler_id: str | None = None
    customer_id: strawberry.ID | None = None
    breached: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


@strawberry.input
class ComplaintOrder:
    direction: OrderDirection = OrderDirection.DESC


@strawberry.enum(description="How SLA statistics are grouped")
class SlaGroupBy(Enum):
    CATEGORY = "category"
    SEVERITY = "severity"
    CHANNEL = "channel"
    MONTH = "month"
    HANDLER = "handler"
    NONE = "none"


@strawberry.type(description="SLA figures of one group of complaints received in the period.")
class SlaGroupStats:
    key: str
    complaints: int
    resolved: int
    on_time: int = strawberry.field(description="Resolved without missing either deadline")
    breached: int = strawberry.field(description="Complaints that missed a deadline")
    on_time_rate: Decimal | None = strawberry.field(
        description="on_time / resolved × 100, one decimal (null when none resolved)"
    )
    median_hours: Decimal | None = strawberry.field(
        description="Median handling time of resolved complaints, in business hours"
    )
    p90_hours: Decimal | None = strawberry.field(
        description="90th percentile (nearest rank) handling time, in business hours"
    )

    @classmethod
    def of(cls, group: SlaGroup) -> SlaGroupStats:
        return cls(
            key=group.key,
            complaints=group.complaints,
            resolved=group.resolved,
            on_time=group.on_time,
            breached=group.breached,
            on_time_rate=group.on_time_rate,
            median_hours=group.median_hours,
            p90_hours=group.p90_hours,
        )


@strawberry.type(description="Complaint SLA statistics for complaints received in [from, to).")
class SlaStatistics:
    period_from: datetime
    period_to: datetime
    groups: list[SlaGroupStats]
    total: SlaGroupStats
    active_customers: int = strawberry.field(
        description="Customers now active, at risk or won back"
    )
    complaint_rate_per_1000: Decimal | None = strawberry.field(
        description="Complaints received in the period per 1,000 active customers"
    )

    @classmethod
    def of(cls, report: SlaReport) -> SlaStatistics:
        return cls(
            period_from=report.period_from,
            period_to=report.period_to,
            groups=[SlaGroupStats.of(g) for g in report.groups],
            total=SlaGroupStats.of(report.total),
            active_customers=report.active_customers,
            complaint_rate_per_1000=report.complaint_rate_per_1000,
        )


def _values(items: list[Enum] | None) -> list[str] | None:
    return [str(item.value) for item in items] if items else None


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise GraphQLError(
            f"{name} needs a timezone offset", extensions={"code": "validation.naive_datetime"}
        )
    return moment


@strawberry.type
class ComplaintQuery:
    @strawberry.field(
        description="One complaint by id, with its SLA clock as of now or `asOf`.",
        extensions=[acts("complaints.read")],
    )
    async def complaint(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: datetime | None = None,
        min_position: int | None = None,
    ) -> Complaint | None:
        system = await guard(info, "complaints.read", min_position)
        moment = _aware(as_of, "asOf") or utc_now()
        row = await to_thread.run_sync(system.complaint_queries.get, str(id), moment)
        return Complaint.from_row(row) if row else None

    @strawberry.field(
        description="Complaints as a Relay connection, filtered, by received time.",
        extensions=[acts("complaints.read")],
    )
    async def complaints(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: ComplaintFilter | None = None,
        order_by: ComplaintOrder | None = None,
        as_of: datetime | None = None,
        min_position: int | None = None,
    ) -> Connection[Complaint]:
        system = await guard(info, "complaints.read", min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or ComplaintFilter()
        moment = _aware(as_of, "asOf") or utc_now()
        query = ComplaintFilterQuery(
            status=_values(where.status),  # type: ignore[arg-type]
            category=_values(where.category),  # type: ignore[arg-type]
            severity=_values(where.severity),  # type: ignore[arg-type]
            channel=_values(where.channel),  # type: ignore[arg-type]
            handler_id=where.handler_id,
            customer_id=str(where.customer_id) if where.customer_id else None,
            breached=where.breached,
            received_from=_aware(where.received_from, "receivedFrom"),
            received_to=_aware(where.received_to, "receivedTo"),
        )
        descending = (order_by or ComplaintOrder()).direction is OrderDirection.DESC
        rows, total = await to_thread.run_sync(
            lambda: system.complaint_queries.page(
                query, moment, descending=descending, offset=offset, limit=first
            )
        )
        return connection([Complaint.from_row(row) for row in rows], offset, total)

    @strawberry.field(
        description="On-time %, median and p90 handling time (business hours) and the"
        " complaint rate per 1,000 active customers, for complaints received in [from, to).",
        extensions=[acts("complaints.read")],
    )
    async def sla_statistics(
        self,
        info: Info[Context, None],
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        group_by: SlaGroupBy = SlaGroupBy.NONE,
        min_position: int | None = None,
    ) -> SlaStatistics:
        system = await guard(info, "complaints.read", min_position)
        start = _aware(from_, "from") or from_
        end = _aware(to, "to") or to
        report = await to_thread.run_sync(
            lambda: system.complaint_queries.sla_report(start, end, str(group_by.value), utc_now())
        )
        return SlaStatistics.of(report)
