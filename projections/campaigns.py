"""Marketing campaigns (营销活动): each campaign with its running totals, and the
participations, conversions and costs behind them (for the dashboard's acquisition cost and
conversion rate over any period).

Amounts are decimal text summed in :class:`~decimal.Decimal`, in the budget's currency (the
campaign refuses any other). The evaluation recorded by the aggregate is shown as recorded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain.campaign import Campaign
from domain.values import Money
from projections.base import Cursor, KehuProjection, ViewStore, Where, opt_datetime, opt_decimal


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _in(values: Sequence[Any]) -> str:
    return f"({', '.join('?' for _ in values)})"


def _money(value: Any) -> dict[str, str] | None:
    """An evaluation's Money (or its dict form) as ``{amount, currency}``."""
    if value is None:
        return None
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, dict):
        return {"amount": str(value["amount"]), "currency": str(value["currency"])}
    return {"amount": str(value), "currency": "CNY"}


@dataclass(frozen=True)
class CampaignEvaluationRow:
    """效果评估 as recorded by the campaign when it was evaluated."""

    participants: int
    targeted: int
    participation_rate: Decimal
    conversions: int
    orders: int
    conversion_rate: Decimal
    revenue: dict[str, str]
    cost: dict[str, str]
    budget: dict[str, str]
    acquired: int
    cost_per_acquisition: dict[str, str] | None
    roi: Decimal | None
    at: datetime


@dataclass(frozen=True)
class CampaignRow:
    id: str
    name: str
    kind: str
    status: str
    segments: list[str]
    tiers: list[str]
    statuses: list[str]
    budget: Decimal
    currency: str
    starts_on: date
    ends_on: date
    planned_at: datetime
    launched_at: datetime | None
    targeted: int | None
    participants: int
    #: Participants with at least one converting order.
    conversions: int
    #: Converting orders.
    orders: int
    #: Customers converted as new customers (新客户).
    acquired: int
    revenue: Decimal
    cost: Decimal
    closed_at: datetime | None
    evaluation: CampaignEvaluationRow | None
    version: int

    @classmethod
    def from_row(cls, row: Any) -> CampaignRow:
        criteria = json.loads(row["segment_criteria"])
        evaluation = json.loads(row["evaluation"]) if row["evaluation"] else None
        return cls(
            id=row["id"],
            name=row["name"],
            kind=row["kind"],
            status=row["status"],
            segments=list(criteria.get("segments") or []),
            tiers=list(criteria.get("tiers") or []),
            statuses=list(criteria.get("statuses") or []),
            budget=Decimal(row["budget"]),
            currency=row["currency"],
            starts_on=date.fromisoformat(row["starts_on"]),
            ends_on=date.fromisoformat(row["ends_on"]),
            planned_at=datetime.fromisoformat(row["planned_at"]),
            launched_at=opt_datetime(row["launched_at"]),
            targeted=row["targeted"],
            participants=row["participants"],
            conversions=row["conversions"],
            orders=row["orders"],
            acquired=row["acquired"],
            revenue=Decimal(row["revenue"]),
            cost=Decimal(row["cost"]),
            closed_at=opt_datetime(row["closed_at"]),
            evaluation=(
                CampaignEvaluationRow(
                    participants=evaluation["participants"],
                    targeted=evaluation["targeted"],
                    participation_rate=Decimal(evaluation["participation_rate"]),
                    conversions=evaluation["conversions"],
                    orders=evaluation["orders"],
                    conversion_rate=Decimal(evaluation["conversion_rate"]),
                    revenue=evaluation["revenue"],
                    cost=evaluation["cost"],
                    budget=evaluation["budget"],
                    acquired=evaluation["acquired"],
                    cost_per_acquisition=evaluation["cost_per_acquisition"],
                    roi=opt_decimal(evaluation["roi"]),
                    at=datetime.fromisoformat(evaluation["at"]),
                )
                if evaluation
                else None
            ),
            version=row["version"],
        )


@dataclass(frozen=True)
class CampaignFilter:
    status: list[str] | None = None
    kind: list[str] | None = None
    #: The campaign targets this segment (named in its segment criteria).
    segment: str | None = None
    #: The campaign's period overlaps ``[active_from, active_to]`` (dates, inclusive).
    active_from: date | None = None
    active_to: date | None = None
    name_contains: str | None = None


@dataclass(frozen=True)
class ParticipationRow:
    campaign_id: str
    customer_id: str
    channel: str
    at: datetime
    #: The customer converted in this campaign (at any time).
    converted: bool


@dataclass(frozen=True)
class ConversionRow:
    campaign_id: str
    order_ref: str
    customer_id: str
    revenue: Decimal
    currency: str
    new_customer: bool
    at: datetime


@dataclass(frozen=True)
class CostRow:
    campaign_id: str
    version: int
    amount: Decimal
    currency: str
    description: str
    at: datetime


class CampaignProjection(KehuProjection):
    """Keeps ``campaign_view``, ``campaign_participation``, ``campaign_conversion`` and
    ``campaign_cost``."""

    name = "campaigns"

    def ddl(self) -> list[str]:
        t = self.t
        return [
            f"CREATE TABLE IF NOT EXISTS {t('campaign_view')} ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,"
            " status TEXT NOT NULL, segment_criteria TEXT NOT NULL, budget TEXT NOT NULL,"
            " currency TEXT NOT NULL, starts_on TEXT NOT NULL, ends_on TEXT NOT NULL,"
            " planned_at TEXT NOT NULL, launched_at TEXT, targeted INTEGER,"
            " participants INTEGER NOT NULL DEFAULT 0, conversions INTEGER NOT NULL DEFAULT 0,"
            " orders INTEGER NOT NULL DEFAULT 0,"
            " acquired INTEGER NOT NULL DEFAULT 0, revenue TEXT NOT NULL DEFAULT '0',"
            " cost TEXT NOT NULL DEFAULT '0', closed_at TEXT, evaluation TEXT,"
            " version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS campaign_view_status ON {t('campaign_view')} (status)",
            f"CREATE TABLE IF NOT EXISTS {t('campaign_segment')} ("
            " campaign_id TEXT NOT NULL, segment TEXT NOT NULL,"
            " PRIMARY KEY (campaign_id, segment))",
            f"CREATE INDEX IF NOT EXISTS campaign_segment_segment"
            f" ON {t('campaign_segment')} (segment)",
            f"CREATE TABLE IF NOT EXISTS {t('campaign_participation')} ("
            " campaign_id TEXT NOT NULL, customer_id TEXT NOT NULL, channel TEXT NOT NULL,"
            " at TEXT NOT NULL, PRIMARY KEY (campaign_id, customer_id))",
            f"CREATE INDEX IF NOT EXISTS campaign_participation_at"
            f" ON {t('campaign_participation')} (at)",
            f"CREATE TABLE IF NOT EXISTS {t('campaign_conversion')} ("
            " campaign_id TEXT NOT NULL, order_ref TEXT NOT NULL, customer_id TEXT NOT NULL,"
            " revenue TEXT NOT NULL, currency TEXT NOT NULL, new_customer INTEGER NOT NULL,"
            " at TEXT NOT NULL, PRIMARY KEY (campaign_id, order_ref))",
            f"CREATE INDEX IF NOT EXISTS campaign_conversion_at ON {t('campaign_conversion')} (at)",
            f"CREATE TABLE IF NOT EXISTS {t('campaign_cost')} ("
            " campaign_id TEXT NOT NULL, version INTEGER NOT NULL, amount TEXT NOT NULL,"
            " currency TEXT NOT NULL, description TEXT NOT NULL, at TEXT NOT NULL,"
            " PRIMARY KEY (campaign_id, version))",
            f"CREATE INDEX IF NOT EXISTS campaign_cost_at ON {t('campaign_cost')} (at)",
        ]

    def reset(self, cursor: Cursor) -> None:
        for table in (
            "campaign_view",
            "campaign_segment",
            "campaign_participation",
            "campaign_conversion",
            "campaign_cost",
        ):
            cursor.execute(f"DELETE FROM {self.t(table)}")

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not show change no rows."""

    # -- helpers ----------------------------------------------------------------------

    def _touch(self, cursor: Cursor, event: Any, changes: dict[str, Any]) -> None:
        assignments = "".join(f"{column} = ?, " for column in changes)
        cursor.execute(
            f"UPDATE {self.t('campaign_view')} SET {assignments}version = ? WHERE id = ?",
            [*changes.values(), event.originator_version, str(event.originator_id)],
        )

    def _row(self, cursor: Cursor, event: Any) -> Any:
        return cursor.execute(
            f"SELECT * FROM {self.t('campaign_view')} WHERE id = ?", [str(event.originator_id)]
        ).fetchone()

    def _plan(self, cursor: Cursor, event: Any) -> dict[str, Any]:
        criteria = dict(event.segment_criteria or {})
        campaign_id = str(event.originator_id)
        cursor.execute(
            f"DELETE FROM {self.t('campaign_segment')} WHERE campaign_id = ?", [campaign_id]
        )
        for segment in sorted(set(criteria.get("segments") or [])):
            cursor.execute(
                f"INSERT INTO {self.t('campaign_segment')} (campaign_id, segment) VALUES (?, ?)",
                [campaign_id, segment],
            )
        return {
            "name": event.name,
            "kind": event.kind,
            "segment_criteria": json.dumps(
                {
                    "segments": list(criteria.get("segments") or []),
                    "tiers": list(criteria.get("tiers") or []),
                    "statuses": list(criteria.get("statuses") or []),
                },
                ensure_ascii=False,
            ),
            "budget": str(event.budget.amount),
            "currency": event.budget.currency,
            "starts_on": event.starts_on.isoformat(),
            "ends_on": event.ends_on.isoformat(),
        }

    # -- handlers ---------------------------------------------------------------------

    @apply.register
    def planned(self, event: Campaign.Planned, cursor: Cursor) -> None:
        row = self._plan(cursor, event)
        row.update(
            id=str(event.originator_id),
            status="planned",
            planned_at=_utc(event.planned_at),
            version=event.originator_version,
        )
        cursor.execute(
            f"INSERT INTO {self.t('campaign_view')} ({', '.join(row)}) VALUES {_in(list(row))}",
            list(row.values()),
        )

    @apply.register
    def revised(self, event: Campaign.Revised, cursor: Cursor) -> None:
        self._touch(cursor, event, self._plan(cursor, event))

    @apply.register
    def launched(self, event: Campaign.Launched, cursor: Cursor) -> None:
        self._touch(
            cursor,
            event,
            {"status": "launched", "launched_at": _utc(event.at), "targeted": event.targeted},
        )

    @apply.register
    def participation_recorded(self, event: Campaign.ParticipationRecorded, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('campaign_participation')} (campaign_id, customer_id,"
            " channel, at) VALUES (?, ?, ?, ?)",
            [str(event.originator_id), str(event.customer_id), event.channel, _utc(event.at)],
        )
        row = self._row(cursor, event)
        self._touch(cursor, event, {"participants": row["participants"] + 1})

    @apply.register
    def conversion_recorded(self, event: Campaign.ConversionRecorded, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('campaign_conversion')} (campaign_id, order_ref, customer_id,"
            " revenue, currency, new_customer, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                str(event.originator_id),
                event.order_ref,
                str(event.customer_id),
                str(event.revenue.amount),
                event.revenue.currency,
                int(event.new_customer),
                _utc(event.at),
            ],
        )
        row = self._row(cursor, event)
        counts = cursor.execute(
            "SELECT COUNT(DISTINCT customer_id) AS converted, COUNT(*) AS orders,"
            " COUNT(DISTINCT CASE WHEN new_customer = 1 THEN customer_id END) AS acquired"
            f" FROM {self.t('campaign_conversion')} WHERE campaign_id = ?",
            [str(event.originator_id)],
        ).fetchone()
        changes: dict[str, Any] = {
            "conversions": int(counts["converted"]),
            "orders": int(counts["orders"]),
            "acquired": int(counts["acquired"]),
        }
        if event.revenue.currency == row["currency"]:
            changes["revenue"] = str(Decimal(row["revenue"]) + event.revenue.amount)
        self._touch(cursor, event, changes)

    @apply.register
    def cost_recorded(self, event: Campaign.CostRecorded, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('campaign_cost')} (campaign_id, version, amount, currency,"
            " description, at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                str(event.originator_id),
                event.originator_version,
                str(event.amount.amount),
                event.amount.currency,
                event.description,
                _utc(event.at),
            ],
        )
        row = self._row(cursor, event)
        changes: dict[str, Any] = {}
        if event.amount.currency == row["currency"]:
            changes["cost"] = str(Decimal(row["cost"]) + event.amount.amount)
        self._touch(cursor, event, changes)

    @apply.register
    def closed(self, event: Campaign.Closed, cursor: Cursor) -> None:
        self._touch(cursor, event, {"status": "closed", "closed_at": _utc(event.at)})

    @apply.register
    def evaluated(self, event: Campaign.Evaluated, cursor: Cursor) -> None:
        evaluation = {
            "participants": event.participants,
            "targeted": event.targeted,
            "participation_rate": str(event.participation_rate),
            "conversions": event.conversions,
            "orders": event.orders,
            "conversion_rate": str(event.conversion_rate),
            "revenue": _money(event.revenue),
            "cost": _money(event.cost),
            "budget": _money(event.budget),
            "acquired": event.acquired,
            "cost_per_acquisition": _money(event.cost_per_acquisition),
            "roi": str(event.roi) if event.roi is not None else None,
            "at": _utc(event.at),
        }
        self._touch(cursor, event, {"status": "evaluated", "evaluation": json.dumps(evaluation)})


class CampaignQueries:
    """Read-side queries over the campaign views (never the event store)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def t(self, name: str) -> str:
        return self.views.table(name)

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.views.transaction(commit=False) as cursor:
            return cursor.execute(statement, params).fetchall()

    def get(self, campaign_id: str | UUID) -> CampaignRow | None:
        rows = self._all(
            f"SELECT * FROM {self.t('campaign_view')} WHERE id = ?", [str(campaign_id)]
        )
        return CampaignRow.from_row(rows[0]) if rows else None

    def page(
        self,
        where: CampaignFilter,
        *,
        descending: bool = True,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[CampaignRow], int]:
        """Campaigns matching every filter, the latest starting first (or the earliest)."""
        condition = Where().within("status", where.status).within("kind", where.kind)
        if where.segment:
            condition.raw(self._in_segment("id"), where.segment)
        condition.at_least("ends_on", where.active_from).at_most("starts_on", where.active_to)
        condition.contains("name", where.name_contains)
        direction = "DESC" if descending else "ASC"
        rows, total = self.views.page(
            self.t("campaign_view"),
            condition.clauses,
            condition.params,
            f"starts_on {direction}, planned_at {direction}, id ASC",
            offset=offset,
            limit=limit,
        )
        return [CampaignRow.from_row(r) for r in rows], total

    def _in_segment(self, column: str) -> str:
        """SQL: the campaign that ``column`` names targets the segment (one parameter)."""
        return (
            f"{column} IN (SELECT campaign_id FROM {self.t('campaign_segment')} WHERE segment = ?)"
        )

    def _recorded(
        self,
        start: datetime | None,
        end: datetime | None,
        campaign_id: str | None,
        segment: str | None,
        alias: str = "",
    ) -> Where:
        """Rows recorded in ``[start, end)``, of the campaign and of campaigns targeting
        the segment where given (``alias``: the table's, with its dot)."""
        condition = (
            Where()
            .at_least(f"{alias}at", start)
            .before(f"{alias}at", end)
            .equal(f"{alias}campaign_id", campaign_id)
        )
        if segment is not None:
            condition.raw(self._in_segment(f"{alias}campaign_id"), segment)
        return condition

    def participations(
        self,
        start: datetime,
        end: datetime,
        *,
        campaign_id: str | None = None,
        segment: str | None = None,
    ) -> list[ParticipationRow]:
        """Participations recorded in ``[start, end)``, each with whether that customer
        converted in the same campaign (at any time). ``segment``: only campaigns whose
        criteria name it."""
        p, c = self.t("campaign_participation"), self.t("campaign_conversion")
        condition = self._recorded(start, end, campaign_id, segment, "p.")
        rows = self._all(
            "SELECT p.campaign_id, p.customer_id, p.channel, p.at,"
            f" EXISTS (SELECT 1 FROM {c} c WHERE c.campaign_id = p.campaign_id"
            " AND c.customer_id = p.customer_id) AS converted"
            f" FROM {p} p{condition.sql} ORDER BY p.at, p.campaign_id, p.customer_id",
            condition.params,
        )
        return [
            ParticipationRow(
                campaign_id=r["campaign_id"],
                customer_id=r["customer_id"],
                channel=r["channel"],
                at=datetime.fromisoformat(r["at"]),
                converted=bool(r["converted"]),
            )
            for r in rows
        ]

    def conversions(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        campaign_id: str | None = None,
        segment: str | None = None,
    ) -> list[ConversionRow]:
        """Conversions recorded in ``[start, end)`` (all without bounds)."""
        condition = self._recorded(start, end, campaign_id, segment)
        rows = self._all(
            f"SELECT * FROM {self.t('campaign_conversion')}{condition.sql}"
            " ORDER BY at, campaign_id, order_ref",
            condition.params,
        )
        return [
            ConversionRow(
                campaign_id=r["campaign_id"],
                order_ref=r["order_ref"],
                customer_id=r["customer_id"],
                revenue=Decimal(r["revenue"]),
                currency=r["currency"],
                new_customer=bool(r["new_customer"]),
                at=datetime.fromisoformat(r["at"]),
            )
            for r in rows
        ]

    def costs(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        campaign_id: str | None = None,
        segment: str | None = None,
    ) -> list[CostRow]:
        """Costs recorded in ``[start, end)`` (all without bounds)."""
        condition = self._recorded(start, end, campaign_id, segment)
        rows = self._all(
            f"SELECT * FROM {self.t('campaign_cost')}{condition.sql}"
            " ORDER BY at, campaign_id, version",
            condition.params,
        )
        return [
            CostRow(
                campaign_id=r["campaign_id"],
                version=r["version"],
                amount=Decimal(r["amount"]),
                currency=r["currency"],
                description=r["description"],
                at=datetime.fromisoformat(r["at"]),
            )
            for r in rows
        ]
