"""Marketing campaigns in GraphQL: ``campaign(id)`` and ``campaigns`` (a Relay
connection), with their running figures and the evaluation (效果评估) as recorded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import strawberry
from anyio import to_thread
from strawberry.types import Info

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
from projections.campaigns import CampaignEvaluationRow, CampaignRow
from projections.campaigns import CampaignFilter as CampaignFilterQuery


@strawberry.enum(description="活动类型 campaign kind")
class CampaignKind(Enum):
    LAUNCH_EVENT = strawberry.enum_value("launch_event", description="新品发布会 launch event")
    APPRECIATION_EVENT = strawberry.enum_value(
        "appreciation_event", description="客户答谢会 appreciation event"
    )
    PROMOTION = strawberry.enum_value("promotion", description="促销活动 promotion")
    DISCOUNT_POLICY = strawberry.enum_value("discount_policy", description="折扣政策 discount")


@strawberry.enum(description="活动状态 campaign status")
class CampaignStatus(Enum):
    PLANNED = strawberry.enum_value("planned", description="计划中 planned")
    LAUNCHED = strawberry.enum_value("launched", description="进行中 launched")
    CLOSED = strawberry.enum_value("closed", description="已结束 closed")
    EVALUATED = strawberry.enum_value("evaluated", description="已评估 evaluated")


_KIND_LABELS = {
    "launch_event": "新品发布会",
    "appreciation_event": "客户答谢会",
    "promotion": "促销活动",
    "discount_policy": "折扣政策",
}
_STATUS_LABELS = {
    "planned": "计划中",
    "launched": "进行中",
    "closed": "已结束",
    "evaluated": "已评估",
}


def _money(amount: Decimal | str, currency: str) -> Money:
    return Money(amount=str(amount), currency=currency)


def _recorded(value: dict[str, str] | None) -> Money | None:
    return Money(amount=value["amount"], currency=value["currency"]) if value else None


@strawberry.type(description="目标客群: an empty list means any.")
class SegmentCriteria:
    segments: list[str]
    tiers: list[str] = strawberry.field(description="VIP tier codes")
    statuses: list[str] = strawberry.field(description="Customer lifecycle statuses")


@strawberry.type(description="效果评估 as recorded when the campaign was evaluated.")
class CampaignEvaluation:
    participants: int
    targeted: int
    participation_rate: Decimal = strawberry.field(
        description="participants ÷ targeted, a fraction to 4 places (half up)"
    )
    conversions: int = strawberry.field(description="Participants with a converting order")
    orders: int = strawberry.field(description="Converting orders")
    conversion_rate: Decimal = strawberry.field(
        description="conversions ÷ participants, a fraction to 4 places (half up)"
    )
    revenue: Money
    cost: Money
    budget: Money | None
    acquired: int = strawberry.field(description="Customers converted as new customers")
    cost_per_acquisition: Money | None = strawberry.field(
        description="cost ÷ acquired, to the fen (half up); null when nobody was acquired"
    )
    roi: Decimal | None = strawberry.field(
        description="(revenue − cost) ÷ cost, a fraction to 4 places; null when nothing was spent"
    )
    at: datetime

    @classmethod
    def from_row(cls, row: CampaignEvaluationRow) -> CampaignEvaluation:
        revenue, cost = _recorded(row.revenue), _recorded(row.cost)
        assert revenue is not None
        assert cost is not None
        return cls(
            participants=row.participants,
            targeted=row.targeted,
            participation_rate=row.participation_rate,
            conversions=row.conversions,
            orders=row.orders,
            conversion_rate=row.conversion_rate,
            revenue=revenue,
            cost=cost,
            budget=_recorded(row.budget),
            acquired=row.acquired,
            cost_per_acquisition=_recorded(row.cost_per_acquisition),
            roi=row.roi,
            at=row.at,
        )


@strawberry.type(description="营销活动: a campaign from the campaign read model.")
class Campaign:
    id: strawberry.ID
    name: str
    kind: CampaignKind
    kind_label: str
    status: CampaignStatus
    status_label: str
    segment_criteria: SegmentCriteria
    budget: Money
    starts_on: date
    ends_on: date
    planned_at: datetime
    launched_at: datetime | None
    targeted: int | None = strawberry.field(
        description="Customers matching the segment criteria at launch"
    )
    participants: int
    conversions: int = strawberry.field(description="Participants with a converting order")
    orders: int = strawberry.field(description="Converting orders")
    acquired: int = strawberry.field(description="Customers converted as new customers")
    revenue: Money = strawberry.field(description="Revenue of the converting orders so far")
    cost: Money = strawberry.field(description="Costs recorded so far")
    closed_at: datetime | None
    evaluation: CampaignEvaluation | None
    version: int

    @classmethod
    def from_row(cls, row: CampaignRow) -> Campaign:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            kind=CampaignKind(row.kind),
            kind_label=_KIND_LABELS.get(row.kind, row.kind),
            status=CampaignStatus(row.status),
            status_label=_STATUS_LABELS.get(row.status, row.status),
            segment_criteria=SegmentCriteria(
                segments=row.segments, tiers=row.tiers, statuses=row.statuses
            ),
            budget=_money(row.budget, row.currency),
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            planned_at=row.planned_at,
            launched_at=row.launched_at,
            targeted=row.targeted,
            participants=row.participants,
            conversions=row.conversions,
            orders=row.orders,
            acquired=row.acquired,
            revenue=_money(row.revenue, row.currency),
            cost=_money(row.cost, row.currency),
            closed_at=row.closed_at,
            evaluation=CampaignEvaluation.from_row(row.evaluation) if row.evaluation else None,
            version=row.version,
        )


@strawberry.input(description="Filters combine with AND.")
class CampaignFilter:
    status: list[CampaignStatus] | None = None
    kind: list[CampaignKind] | None = None
    segment: str | None = strawberry.field(
        default=None, description="The campaign's segment criteria name this segment"
    )
    active_from: date | None = strawberry.field(
        default=None, description="The campaign's period ends on or after this day"
    )
    active_to: date | None = strawberry.field(
        default=None, description="The campaign's period starts on or before this day"
    )
    name_contains: str | None = None


@strawberry.input
class CampaignOrder:
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="By start date"
    )


@strawberry.type
class CampaignQuery:
    @strawberry.field(description="One campaign by id.", extensions=[acts("campaigns.read")])
    async def campaign(
        self, info: Info[Context, None], id: strawberry.ID, min_position: int | None = None
    ) -> Campaign | None:
        system = await guard(info, "campaigns.read", min_position)
        row = await to_thread.run_sync(system.campaign_queries.get, str(id))
        return Campaign.from_row(row) if row else None

    @strawberry.field(
        description="Campaigns as a Relay connection, by start date.",
        extensions=[acts("campaigns.read")],
    )
    async def campaigns(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: CampaignFilter | None = None,
        order_by: CampaignOrder | None = None,
        min_position: int | None = None,
    ) -> Connection[Campaign]:
        system = await guard(info, "campaigns.read", min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or CampaignFilter()
        query = CampaignFilterQuery(
            status=[str(s.value) for s in where.status] if where.status else None,
            kind=[str(k.value) for k in where.kind] if where.kind else None,
            segment=where.segment,
            active_from=where.active_from,
            active_to=where.active_to,
            name_contains=where.name_contains,
        )
        descending = (order_by or CampaignOrder()).direction is OrderDirection.DESC
        rows, total = await to_thread.run_sync(
            lambda: system.campaign_queries.page(
                query, descending=descending, offset=offset, limit=first
            )
        )
        return connection([Campaign.from_row(row) for row in rows], offset, total)
