"""Service requests in GraphQL: ``serviceRequest(id)`` and ``serviceRequests``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from anyio import to_thread
from strawberry.types import Info

from application.clock import utc_now
from interfaces.graphql.acting import acts
from interfaces.graphql.common import (
    Connection,
    Context,
    check_page_size,
    connection,
    guard,
    offset_after,
)
from interfaces.graphql.complaints import ComplaintChannel, Handler, SlaBreach
from projections.service_requests import ServiceRequestFilter as RequestFilterQuery
from projections.service_requests import ServiceRequestRow


@strawberry.enum(description="服务请求类型 service request type")
class ServiceRequestType(Enum):
    CONSULTATION = strawberry.enum_value("consultation", description="产品咨询 consultation")
    AFTER_SALES = strawberry.enum_value("after_sales", description="售后 after-sales")
    TECHNICAL_SUPPORT = strawberry.enum_value("technical_support", description="技术支持")
    VALUE_ADDED = strawberry.enum_value("value_added", description="增值服务 value-added")


@strawberry.enum(description="优先级 priority")
class ServiceRequestPriority(Enum):
    LOW = strawberry.enum_value("low", description="低 low")
    MEDIUM = strawberry.enum_value("medium", description="中 medium")
    HIGH = strawberry.enum_value("high", description="高 high")
    CRITICAL = strawberry.enum_value("critical", description="紧急 critical")


@strawberry.enum(description="服务请求状态")
class ServiceRequestStatus(Enum):
    OPEN = strawberry.enum_value("open", description="已受理 open")
    RESPONDED = strawberry.enum_value("responded", description="已响应 responded")
    RESOLVED = strawberry.enum_value("resolved", description="已处理 resolved")
    CLOSED = strawberry.enum_value("closed", description="已关闭 closed")
    CANCELLED = strawberry.enum_value("cancelled", description="已取消 cancelled")


@strawberry.type(description="服务请求, with its SLA clock as of the query.")
class ServiceRequest:
    id: strawberry.ID
    customer_id: strawberry.ID
    request_type: ServiceRequestType
    channel: ComplaintChannel
    priority: ServiceRequestPriority
    status: ServiceRequestStatus
    handler: Handler | None
    received_at: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    response_due_at: datetime
    resolution_due_at: datetime
    breached: bool
    business_hours_elapsed: Decimal
    paused: bool
    rating: int | None
    breaches: list[SlaBreach]
    version: int

    @classmethod
    def from_row(cls, row: ServiceRequestRow) -> ServiceRequest:
        sla = row.sla
        return cls(
            id=strawberry.ID(row.id),
            customer_id=strawberry.ID(row.customer_id),
            request_type=ServiceRequestType(row.request_type),
            channel=ComplaintChannel(row.channel),
            priority=ServiceRequestPriority(row.priority),
            status=ServiceRequestStatus(row.status),
            handler=(
                Handler(id=row.handler_id, name=row.handler_name or "", section="service")
                if row.handler_id
                else None
            ),
            received_at=row.received_at,
            responded_at=sla.responded_at,
            resolved_at=sla.resolved_at,
            response_due_at=sla.response_due_at,
            resolution_due_at=sla.resolution_due_at,
            breached=sla.breached or bool(row.breaches),
            business_hours_elapsed=sla.resolution_hours,
            paused=sla.paused,
            rating=row.rating,
            breaches=[SlaBreach.of(b) for b in row.breaches],
            version=row.version,
        )


@strawberry.input(description="Filters combine with AND.")
class ServiceRequestFilter:
    status: list[ServiceRequestStatus] | None = None
    request_type: list[ServiceRequestType] | None = None
    priority: list[ServiceRequestPriority] | None = None
    channel: list[ComplaintChannel] | None = None
    customer_id: strawberry.ID | None = None
    handler_id: str | None = None
    breached: bool | None = None


def _values(items: list[Enum] | None) -> list[str] | None:
    return [str(item.value) for item in items] if items else None


@strawberry.type
class ServiceRequestQuery:
    @strawberry.field(
        description="One service request by id.", extensions=[acts("service_requests.read")]
    )
    async def service_request(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        min_position: int | None = None,
    ) -> ServiceRequest | None:
        system = await guard(info, "service_requests.read", min_position)
        row = await to_thread.run_sync(system.service_request_queries.get, str(id), utc_now())
        return ServiceRequest.from_row(row) if row else None

    @strawberry.field(
        description="Service requests as a Relay connection, newest first.",
        extensions=[acts("service_requests.read")],
    )
    async def service_requests(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: ServiceRequestFilter | None = None,
        min_position: int | None = None,
    ) -> Connection[ServiceRequest]:
        system = await guard(info, "service_requests.read", min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or ServiceRequestFilter()
        query = RequestFilterQuery(
            status=_values(where.status),  # type: ignore[arg-type]
            request_type=_values(where.request_type),  # type: ignore[arg-type]
            priority=_values(where.priority),  # type: ignore[arg-type]
            channel=_values(where.channel),  # type: ignore[arg-type]
            customer_id=str(where.customer_id) if where.customer_id else None,
            handler_id=where.handler_id,
            breached=where.breached,
        )
        rows, total = await to_thread.run_sync(
            lambda: system.service_request_queries.page(
                query, utc_now(), offset=offset, limit=first
            )
        )
        return connection([ServiceRequest.from_row(row) for row in rows], offset, total)
