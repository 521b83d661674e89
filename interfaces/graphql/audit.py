"""The audit trail in GraphQL (审计轨迹): ``auditTrail`` — every stored business event,
who did it in which role, through which command, why, when it was recorded and when it
happened, filtered and paged — and ``causalChain(commandId)``, everything a command and
the commands it caused recorded. Admins, managers and auditors may read it."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from weakref import WeakKeyDictionary

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from application.audit_trail import events_at, visible_payload
from application.store import RecordedEvent
from interfaces.graphql.acting import acts
from interfaces.graphql.common import (
    Connection,
    Context,
    OrderDirection,
    check_page_size,
    connection,
    guard,
    offset_after,
)
from interfaces.graphql.disclosures import note_events
from projections.audit import AuditEntry
from projections.audit import AuditFilter as AuditFilterQuery


@strawberry.enum(description="角色: the role an actor acted in")
class ActorRole(Enum):
    ADMIN = strawberry.enum_value("admin", description="系统管理员 administrator")
    MANAGER = strawberry.enum_value("manager", description="经理 department manager")
    AUDITOR = strawberry.enum_value("auditor", description="审计 auditor")
    INTEGRATOR = strawberry.enum_value("integrator", description="系统集成 machine client")
    INFORMATION = strawberry.enum_value("information", description="信息管理科")
    RELATIONSHIP = strawberry.enum_value("relationship", description="关系管理科")
    SERVICE = strawberry.enum_value("service", description="服务管理科")
    COMPLAINTS = strawberry.enum_value("complaints", description="投诉管理科")
    SATISFACTION = strawberry.enum_value("satisfaction", description="满意度管理科")
    CREDIT = strawberry.enum_value("credit", description="信用管理科")
    RISK = strawberry.enum_value("risk", description="风险管理科")
    MARKETING = strawberry.enum_value("marketing", description="营销管理科")
    LEGAL = strawberry.enum_value("legal", description="法务 legal")
    SYSTEM = strawberry.enum_value("system", description="系统 kehu itself (scheduler, policies)")


_ROLES: dict[str, ActorRole] = {str(member.value): member for member in ActorRole}


@strawberry.type(description="Who recorded an event: a principal's id and the role it acted in.")
class Actor:
    id: str
    role: ActorRole | None = strawberry.field(description="Null only for a role kehu no longer has")


_loaders: WeakKeyDictionary[Context, DataLoader[int, RecordedEvent | None]] = WeakKeyDictionary()


def _events(info: Info[Context, None]) -> DataLoader[int, RecordedEvent | None]:
    """One loader per request: the payloads of a page are read from the store together."""
    context = info.context
    loader = _loaders.get(context)
    if loader is None:
        store = context.system.store

        async def load(positions: list[int]) -> list[RecordedEvent | None]:
            found = await to_thread.run_sync(events_at, store, positions)
            return [found.get(position) for position in positions]

        loader = DataLoader(load_fn=load)
        _loaders[context] = loader
    return loader


@strawberry.type(
    description="One stored business event in the audit trail. The event's data is the"
    " `payload` field (read from the event store; personal data masked unless your role"
    " may see it)."
)
class AuditEvent:
    position: int = strawberry.field(description="Global position in the event store")
    recorded_at: datetime = strawberry.field(description="When kehu recorded it (UTC)")
    aggregate_type: str = strawberry.field(description="Customer, Complaint, Contract, …")
    aggregate_id: strawberry.ID
    version: int = strawberry.field(description="The aggregate's version this event made")
    type: str = strawberry.field(description="The event type, e.g. Complaint.Lodged")
    actor: Actor | None
    command: str | None = strawberry.field(description="e.g. complaints.lodge")
    command_id: str | None = strawberry.field(
        description="The command's id (its Idempotency-Key when one was sent)"
    )
    correlation_id: str | None = strawberry.field(
        description="Groups everything one conversation started (X-Correlation-Id)"
    )
    causation_id: str | None = strawberry.field(
        description="The command that caused this one (X-Causation-Id; its own id if none)"
    )
    reason: str | None
    business_time: datetime | None = strawberry.field(
        description="业务时间: when the fact happened as the event says (its at / occurred_at /"
        " received_at / signed_at … field, or the Shanghai midnight of its occurred_on /"
        " paid_on … day); null when the event names no such time. UTC."
    )

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEvent:
        actor = None
        if entry.actor_id is not None:
            actor = Actor(id=entry.actor_id, role=_ROLES.get(entry.actor_role or ""))
        return cls(
            position=entry.position,
            recorded_at=entry.recorded_at,
            aggregate_type=entry.aggregate_type,
            aggregate_id=strawberry.ID(entry.aggregate_id),
            version=entry.version,
            type=entry.type,
            actor=actor,
            command=entry.command,
            command_id=entry.command_id,
            correlation_id=entry.correlation_id,
            causation_id=entry.causation_id,
            reason=entry.reason,
            business_time=entry.business_time,
        )

    @strawberry.field(
        description="The event's data as JSON (money as {amount, currency}, times ISO-8601),"
        " personal data masked unless your role may see it. Read from the event store."
    )
    async def payload(self, info: Info[Context, None]) -> JSON | None:
        recorded = await _events(info).load(self.position)
        if recorded is None:
            return None
        note_events(info, [recorded])
        return JSON(visible_payload(recorded, info.context.principal.role))


@strawberry.input(
    name="AuditFilter", description="Filters combine with AND; ranges are [from, to)."
)
class AuditFilterInput:
    actor_id: str | None = None
    actor_role: ActorRole | None = None
    aggregate_type: str | None = strawberry.field(
        default=None, description="Customer, Complaint, ServiceRequest, CreditProfile, Contract"
    )
    aggregate_id: strawberry.ID | None = None
    event_type: str | None = strawberry.field(default=None, description="e.g. Complaint.Lodged")
    command: str | None = strawberry.field(default=None, description="e.g. complaints.lodge")
    command_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    business_from: datetime | None = None
    business_to: datetime | None = None


@strawberry.enum(description="How the audit trail is ordered")
class AuditOrderField(Enum):
    POSITION = strawberry.enum_value("position", description="记录顺序 global recorded order")
    BUSINESS_TIME = strawberry.enum_value(
        "business_time", description="业务时间 business time (events without one last)"
    )


@strawberry.input
class AuditOrder:
    field: AuditOrderField = AuditOrderField.POSITION
    direction: OrderDirection = OrderDirection.ASC


def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
        raise GraphQLError(
            f"{name} needs a timezone offset", extensions={"code": "validation.naive_datetime"}
        )
    return moment


def _query(where: AuditFilterInput) -> AuditFilterQuery:
    return AuditFilterQuery(
        actor_id=where.actor_id,
        actor_role=str(where.actor_role.value) if where.actor_role else None,
        aggregate_type=where.aggregate_type,
        aggregate_id=str(where.aggregate_id) if where.aggregate_id else None,
        event_type=where.event_type,
        command=where.command,
        command_id=where.command_id,
        correlation_id=where.correlation_id,
        causation_id=where.causation_id,
        recorded_from=_aware("recordedFrom", where.recorded_from),
        recorded_to=_aware("recordedTo", where.recorded_to),
        business_from=_aware("businessFrom", where.business_from),
        business_to=_aware("businessTo", where.business_to),
    )


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="审计轨迹: stored business events, filtered, in recorded order unless"
        " ordered otherwise (admin, manager, auditor).",
        extensions=[acts("audit.trail")],
    )
    async def audit_trail(
        self,
        info: Info[Context, None],
        filter: AuditFilterInput | None = None,
        order_by: AuditOrder | None = None,
        first: int = 20,
        after: str | None = None,
        min_position: int | None = None,
    ) -> Connection[AuditEvent]:
        system = await guard(info, "audit.trail", min_position)
        check_page_size(first)
        offset = offset_after(after)
        query = _query(filter or AuditFilterInput())
        order = order_by or AuditOrder()
        rows, total = await to_thread.run_sync(
            lambda: system.audit_queries.trail(
                query,
                offset,
                first,
                order_by="business_time"
                if order.field is AuditOrderField.BUSINESS_TIME
                else "position",
                descending=order.direction is OrderDirection.DESC,
            )
        )
        return connection([AuditEvent.of(row) for row in rows], offset, total)

    @strawberry.field(
        description="因果链: every event the command recorded and every event recorded by"
        " the commands it caused (their causationId names a command of the chain,"
        " transitively), in recorded order. Empty if the command recorded nothing.",
        extensions=[acts("audit.trail")],
    )
    async def causal_chain(
        self,
        info: Info[Context, None],
        command_id: str,
        first: int = 100,
        after: str | None = None,
        min_position: int | None = None,
    ) -> Connection[AuditEvent]:
        system = await guard(info, "audit.trail", min_position)
        check_page_size(first)
        offset = offset_after(after)
        rows, total = await to_thread.run_sync(
            lambda: system.audit_queries.causal_chain_page(command_id, offset=offset, limit=first)
        )
        return connection([AuditEvent.of(row) for row in rows], offset, total)
