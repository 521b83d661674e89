"""Membership read models (会员与客户关系): each customer's tier, points and relationship
health (``member_view``); the points ledger by lot, so the liability and what expires
are sums; VIP applications against their notification deadline; every tier movement;
coupons; prevention tasks; churn causes; value-added service applications; growth
plans; and each customer's complaints and ratings (``member_touchpoint``) for the
at-risk signals and the latest satisfaction.

Points are whole numbers; amounts and rates are stored as decimal text and read back as
:class:`~decimal.Decimal`, never floating point. Business times are stored as UTC ISO
text (so they compare as text), business dates as ISO dates.

The at-risk signals read only this view's own tables (the touchpoints are kept here,
from the complaint and service-request events), so one tracking position answers for
all of them and a rebuild gives the same candidates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain.calendar import SHANGHAI
from domain.complaint import OPEN as OPEN_COMPLAINT_STATUSES
from domain.complaint import Complaint
from domain.customer import Customer
from domain.loyalty import VipPolicyBook, default_policy_book
from domain.service_request import ServiceRequest
from domain.values import Money
from projections.base import (
    Cursor,
    KehuProjection,
    ViewStore,
    Where,
    opt_date,
    opt_datetime,
    opt_decimal,
)

R = TypeVar("R")

#: Statuses from which the at-risk policy may flag a customer.
FLAGGABLE_STATUSES = ("active", "won_back")

_TABLES = (
    "member_view",
    "points_lot",
    "vip_application",
    "tier_movement",
    "coupon",
    "prevention_task",
    "churn",
    "service_application",
    "growth_plan",
    "member_touchpoint",
)


# -- plain values ------------------------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _plain(value: Any) -> Any:
    """An event value as JSON-friendly data: money as ``{"amount", "currency"}`` with the
    amount as decimal text, times as UTC ISO text, dates as ISO dates, decimals as text."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def _json(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False)


def _in(values: Sequence[str]) -> str:
    return f"({', '.join('?' for _ in values)})"


def _start_of(day: date) -> str:
    """Midnight in Shanghai at the start of ``day``, as stored (UTC text)."""
    return _utc(datetime.combine(day, time(0), tzinfo=SHANGHAI))


# -- rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    """One customer's membership as the view has it."""

    customer_id: str
    status: str
    tier: str | None
    tier_label: str | None
    tier_since: date | None
    tier_expires_on: date | None
    policy_version: str | None
    points_balance: int
    points_next_expiry: date | None
    points_earned_total: int
    points_redeemed_total: int
    points_expired_total: int
    open_prevention_task: str | None
    relationship: str
    relationship_since: datetime | None
    churn_cause: str | None
    win_back_action: str | None
    win_back_campaign_id: str | None
    last_purchase_on: date | None
    version: int

    @classmethod
    def from_row(cls, row: Any) -> MemberRow:
        return cls(
            customer_id=row["customer_id"],
            status=row["status"],
            tier=row["tier"],
            tier_label=row["tier_label"],
            tier_since=opt_date(row["tier_since"]),
            tier_expires_on=opt_date(row["tier_expires_on"]),
            policy_version=row["policy_version"],
            points_balance=int(row["points_balance"]),
            points_next_expiry=opt_date(row["points_next_expiry"]),
            points_earned_total=int(row["points_earned_total"]),
            points_redeemed_total=int(row["points_redeemed_total"]),
            points_expired_total=int(row["points_expired_total"]),
            open_prevention_task=row["open_prevention_task"],
            relationship=row["relationship"],
            relationship_since=opt_datetime(row["relationship_since"]),
            churn_cause=row["churn_cause"],
            win_back_action=row["win_back_action"],
            win_back_campaign_id=row["win_back_campaign_id"],
            last_purchase_on=opt_date(row["last_purchase_on"]),
            version=row["version"],
        )


@dataclass(frozen=True)
class PointsLotRow:
    """积分批次: points earned on one order, what is left of them and when they expire."""

    lot: str
    points: int
    remaining: int
    earned_on: date
    expires_on: date


@dataclass(frozen=True)
class VipApplicationRow:
    """会员申请: the decision must be notified by ``notify_by`` (7 working days)."""

    customer_id: str
    application_id: str
    requested_tier: str
    applied_at: datetime
    notify_by: datetime
    policy_version: str | None
    basis: dict[str, Any]
    status: str
    reviewer_id: str | None
    decided_at: datetime | None
    granted_tier: str | None
    reasons: list[str]
    notified_at: datetime | None
    channel: str | None
    late: bool | None

    def overdue(self, as_of: datetime) -> bool:
        """Not notified and past the deadline at ``as_of``, or notified late."""
        if self.notified_at is not None:
            return bool(self.late)
        return self.notify_by < as_of

    @property
    def pending(self) -> bool:
        """Still waiting for the customer to be told the decision."""
        return self.notified_at is None

    @classmethod
    def from_row(cls, row: Any) -> VipApplicationRow:
        return cls(
            customer_id=row["customer_id"],
            application_id=row["application_id"],
            requested_tier=row["requested_tier"],
            applied_at=datetime.fromisoformat(row["applied_at"]),
            notify_by=datetime.fromisoformat(row["notify_by"]),
            policy_version=row["policy_version"],
            basis=json.loads(row["basis"]),
            status=row["status"],
            reviewer_id=row["reviewer_id"],
            decided_at=opt_datetime(row["decided_at"]),
            granted_tier=row["granted_tier"],
            reasons=json.loads(row["reasons"]),
            notified_at=opt_datetime(row["notified_at"]),
            channel=row["channel"],
            late=bool(row["late"]) if row["late"] is not None else None,
        )


@dataclass(frozen=True)
class TierMovementRow:
    """One tier move: granted on application, or upgraded, renewed, downgraded or lapsed."""

    customer_id: str
    version: int
    effective_on: date
    recorded_at: datetime
    from_tier: str | None
    to_tier: str | None
    movement: str
    policy_version: str | None
    expires_on: date | None
    reason: str | None

    @classmethod
    def from_row(cls, row: Any) -> TierMovementRow:
        return cls(
            customer_id=row["customer_id"],
            version=row["version"],
            effective_on=date.fromisoformat(row["effective_on"]),
            recorded_at=datetime.fromisoformat(row["recorded_at"]),
            from_tier=row["from_tier"],
            to_tier=row["to_tier"],
            movement=row["movement"],
            policy_version=row["policy_version"],
            expires_on=opt_date(row["expires_on"]),
            reason=row["reason"],
        )


@dataclass(frozen=True)
class CouponRow:
    """优惠券: a fixed value or a discount rate, redeemed once or expired."""

    customer_id: str
    coupon_id: str
    description: str
    value: Decimal | None
    discount_rate: Decimal | None
    min_spend: Decimal | None
    currency: str | None
    issued_at: datetime
    valid_until: date
    status: str
    reason: str | None
    order_ref: str | None
    redeemed_at: datetime | None
    expired_on: date | None

    @classmethod
    def from_row(cls, row: Any) -> CouponRow:
        return cls(
            customer_id=row["customer_id"],
            coupon_id=row["coupon_id"],
            description=row["description"],
            value=opt_decimal(row["value"]),
            discount_rate=opt_decimal(row["discount_rate"]),
            min_spend=opt_decimal(row["min_spend"]),
            currency=row["currency"],
            issued_at=datetime.fromisoformat(row["issued_at"]),
            valid_until=date.fromisoformat(row["valid_until"]),
            status=row["status"],
            reason=row["reason"],
            order_ref=row["order_ref"],
            redeemed_at=opt_datetime(row["redeemed_at"]),
            expired_on=opt_date(row["expired_on"]),
        )


@dataclass(frozen=True)
class PreventionTaskRow:
    """流失预防任务 with the reasons the customer looked at risk."""

    customer_id: str
    task_id: str
    reasons: list[str]
    owner: str | None
    due_on: date
    status: str
    raised_at: datetime
    outcome: str | None
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> PreventionTaskRow:
        return cls(
            customer_id=row["customer_id"],
            task_id=row["task_id"],
            reasons=json.loads(row["reasons"]),
            owner=row["owner"],
            due_on=date.fromisoformat(row["due_on"]),
            status=row["status"],
            raised_at=datetime.fromisoformat(row["raised_at"]),
            outcome=row["outcome"],
            completed_at=opt_datetime(row["completed_at"]),
        )


@dataclass(frozen=True)
class ServiceApplicationRow:
    """增值服务申请: applied → approved or rejected → implemented. Notes are not kept."""

    customer_id: str
    application_id: str
    service: str
    status: str
    reviewer_id: str | None
    reasons: list[str]
    applied_at: datetime
    decided_at: datetime | None
    implemented_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> ServiceApplicationRow:
        return cls(
            customer_id=row["customer_id"],
            application_id=row["application_id"],
            service=row["service"],
            status=row["status"],
            reviewer_id=row["reviewer_id"],
            reasons=json.loads(row["reasons"]),
            applied_at=datetime.fromisoformat(row["applied_at"]),
            decided_at=opt_datetime(row["decided_at"]),
            implemented_at=opt_datetime(row["implemented_at"]),
        )


@dataclass(frozen=True)
class GrowthGoalRow:
    metric: str
    target: Decimal
    progress: Decimal


@dataclass(frozen=True)
class GrowthPlanRow:
    """成长计划: goals with their progress, due on a day."""

    customer_id: str
    plan_id: str
    goals: list[GrowthGoalRow]
    due_on: date
    status: str
    started_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> GrowthPlanRow:
        return cls(
            customer_id=row["customer_id"],
            plan_id=row["plan_id"],
            goals=[
                GrowthGoalRow(
                    metric=g["metric"],
                    target=Decimal(g["target"]),
                    progress=Decimal(g["progress"]),
                )
                for g in json.loads(row["goals"])
            ],
            due_on=date.fromisoformat(row["due_on"]),
            status=row["status"],
            started_at=datetime.fromisoformat(row["started_at"]),
            closed_at=opt_datetime(row["closed_at"]),
        )


@dataclass(frozen=True)
class SatisfactionRow:
    """满意度: a rating 1–5 the customer gave a service request (反馈评价) or a
    complaint's result (满意度确认)."""

    source: str
    subject_id: str
    rating: int
    rated_at: datetime


@dataclass(frozen=True)
class PointsLiability:
    """积分负债: points earned and neither redeemed nor expired, and their value."""

    points: int
    value: Decimal
    yuan_per_point: Decimal
    members: int
    #: Of ``points``, those whose expiry date has passed but that are not yet expired.
    past_expiry: int


@dataclass(frozen=True)
class TierCount:
    tier: str | None
    count: int


@dataclass(frozen=True)
class ChurnCauseCount:
    cause: str
    count: int


@dataclass(frozen=True)
class AtRiskRow:
    """A customer at risk (流失风险) with the reasons of the open prevention task."""

    member: MemberRow
    task: PreventionTaskRow | None


# -- the projection ------------------------------------------------------------------------


class MembershipProjection(KehuProjection):
    """Keeps the membership tables (see the module docstring)."""

    name = "membership"

    def __init__(self, views: ViewStore, policies: VipPolicyBook | None = None) -> None:
        super().__init__(views)
        #: Only for tier labels (the packaged policy if none is given); the events carry
        #: everything else.
        self.policies = policies

    def ddl(self) -> list[str]:
        t = self.t
        return [
            f"CREATE TABLE IF NOT EXISTS {t('member_view')} ("
            " customer_id TEXT PRIMARY KEY, status TEXT NOT NULL,"
            " tier TEXT, tier_label TEXT, tier_since TEXT, tier_expires_on TEXT,"
            " policy_version TEXT,"
            " points_balance BIGINT NOT NULL DEFAULT 0, points_next_expiry TEXT,"
            " points_earned_total BIGINT NOT NULL DEFAULT 0,"
            " points_redeemed_total BIGINT NOT NULL DEFAULT 0,"
            " points_expired_total BIGINT NOT NULL DEFAULT 0,"
            " open_prevention_task TEXT,"
            " relationship TEXT NOT NULL DEFAULT 'healthy', relationship_since TEXT,"
            " churn_cause TEXT, win_back_action TEXT, win_back_campaign_id TEXT,"
            " last_purchase_on TEXT, version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS member_view_tier ON {t('member_view')} (tier)",
            f"CREATE INDEX IF NOT EXISTS member_view_status ON {t('member_view')} (status)",
            f"CREATE INDEX IF NOT EXISTS member_view_expires"
            f" ON {t('member_view')} (tier_expires_on)",
            f"CREATE TABLE IF NOT EXISTS {t('points_lot')} ("
            " customer_id TEXT NOT NULL, lot TEXT NOT NULL, points BIGINT NOT NULL,"
            " remaining BIGINT NOT NULL, earned_on TEXT NOT NULL, expires_on TEXT NOT NULL,"
            " PRIMARY KEY (customer_id, lot))",
            f"CREATE INDEX IF NOT EXISTS points_lot_expires ON {t('points_lot')} (expires_on)",
            f"CREATE TABLE IF NOT EXISTS {t('vip_application')} ("
            " customer_id TEXT NOT NULL, application_id TEXT NOT NULL,"
            " requested_tier TEXT NOT NULL, applied_at TEXT NOT NULL, notify_by TEXT NOT NULL,"
            " policy_version TEXT, basis TEXT NOT NULL, status TEXT NOT NULL,"
            " reviewer_id TEXT, review_started_at TEXT, decided_at TEXT, granted_tier TEXT,"
            " reasons TEXT NOT NULL DEFAULT '[]', notified_at TEXT, channel TEXT,"
            " late INTEGER, PRIMARY KEY (customer_id, application_id))",
            f"CREATE INDEX IF NOT EXISTS vip_application_notify_by"
            f" ON {t('vip_application')} (notify_by)",
            f"CREATE TABLE IF NOT EXISTS {t('tier_movement')} ("
            " customer_id TEXT NOT NULL, version INTEGER NOT NULL,"
            " effective_on TEXT NOT NULL, recorded_at TEXT NOT NULL,"
            " from_tier TEXT, to_tier TEXT, movement TEXT NOT NULL, policy_version TEXT,"
            " expires_on TEXT, reason TEXT, PRIMARY KEY (customer_id, version))",
            f"CREATE INDEX IF NOT EXISTS tier_movement_effective"
            f" ON {t('tier_movement')} (effective_on)",
            f"CREATE TABLE IF NOT EXISTS {t('coupon')} ("
            " customer_id TEXT NOT NULL, coupon_id TEXT NOT NULL, description TEXT NOT NULL,"
            " value TEXT, discount_rate TEXT, min_spend TEXT, currency TEXT,"
            " issued_at TEXT NOT NULL, valid_until TEXT NOT NULL, status TEXT NOT NULL,"
            " reason TEXT, order_ref TEXT, redeemed_at TEXT, expired_on TEXT,"
            " PRIMARY KEY (customer_id, coupon_id))",
            f"CREATE INDEX IF NOT EXISTS coupon_valid_until ON {t('coupon')} (valid_until)",
            f"CREATE TABLE IF NOT EXISTS {t('prevention_task')} ("
            " customer_id TEXT NOT NULL, task_id TEXT NOT NULL, reasons TEXT NOT NULL,"
            " owner TEXT, due_on TEXT NOT NULL, status TEXT NOT NULL,"
            " raised_at TEXT NOT NULL, outcome TEXT, completed_at TEXT,"
            " PRIMARY KEY (customer_id, task_id))",
            f"CREATE TABLE IF NOT EXISTS {t('churn')} ("
            " customer_id TEXT NOT NULL, version INTEGER NOT NULL, cause TEXT NOT NULL,"
            " reason TEXT, at TEXT NOT NULL, PRIMARY KEY (customer_id, version))",
            f"CREATE INDEX IF NOT EXISTS churn_at ON {t('churn')} (at)",
            f"CREATE TABLE IF NOT EXISTS {t('service_application')} ("
            " customer_id TEXT NOT NULL, application_id TEXT NOT NULL, service TEXT NOT NULL,"
            " status TEXT NOT NULL, reviewer_id TEXT, reasons TEXT NOT NULL DEFAULT '[]',"
            " applied_at TEXT NOT NULL, decided_at TEXT, implemented_at TEXT,"
            " PRIMARY KEY (customer_id, application_id))",
            f"CREATE TABLE IF NOT EXISTS {t('growth_plan')} ("
            " customer_id TEXT NOT NULL, plan_id TEXT NOT NULL, goals TEXT NOT NULL,"
            " due_on TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL,"
            " closed_at TEXT, PRIMARY KEY (customer_id, plan_id))",
            f"CREATE TABLE IF NOT EXISTS {t('member_touchpoint')} ("
            " subject_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, kind TEXT NOT NULL,"
            " received_at TEXT NOT NULL, rating INTEGER, rated_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS member_touchpoint_customer"
            f" ON {t('member_touchpoint')} (customer_id, kind, received_at)",
        ]

    def reset(self, cursor: Cursor) -> None:
        for table in _TABLES:
            cursor.execute(f"DELETE FROM {self.t(table)}")

    # -- helpers --------------------------------------------------------------------------

    def _label(self, tier: str | None, policy_version: str | None) -> str | None:
        """The tier's label in the policy version that decided the move."""
        if tier is None:
            return None
        book = self.policies or default_policy_book()
        for policy in book.versions:
            if policy.version == policy_version and policy.has_tier(tier):
                return policy.tier(tier).label
        if book.latest.has_tier(tier):
            return book.latest.tier(tier).label
        return tier

    def _touch(self, cursor: Cursor, event: Any, assignments: str, params: list[Any]) -> None:
        """Set ``assignments`` (may be empty) and the row's version."""
        assignments = f"{assignments}, " if assignments else ""
        cursor.execute(
            f"UPDATE {self.t('member_view')} SET {assignments}version = ? WHERE customer_id = ?",
            [*params, event.originator_version, str(event.originator_id)],
        )

    def _member(self, cursor: Cursor, event: Any) -> Any:
        return cursor.execute(
            f"SELECT * FROM {self.t('member_view')} WHERE customer_id = ?",
            [str(event.originator_id)],
        ).fetchone()

    def _update(
        self, cursor: Cursor, table: str, key: str, event: Any, ident: str, changes: dict[str, Any]
    ) -> None:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        cursor.execute(
            f"UPDATE {self.t(table)} SET {assignments} WHERE customer_id = ? AND {key} = ?",
            [*changes.values(), str(event.originator_id), ident],
        )

    def _insert(self, cursor: Cursor, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        cursor.execute(
            f"INSERT INTO {self.t(table)} ({columns}) VALUES {_in(list(row))}",
            list(row.values()),
        )

    # -- handlers -------------------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not show change no rows."""

    # lifecycle

    @apply.register
    def registered(self, event: Customer.Registered, cursor: Cursor) -> None:
        self._insert(
            cursor,
            "member_view",
            {
                "customer_id": str(event.originator_id),
                "status": "prospect",
                "relationship": "healthy",
                "version": event.originator_version,
            },
        )

    @apply.register
    def purchase_recorded(self, event: Customer.PurchaseRecorded, cursor: Cursor) -> None:
        on = event.occurred_on.isoformat()
        self._touch(
            cursor,
            event,
            "last_purchase_on = CASE WHEN last_purchase_on IS NULL"
            " OR last_purchase_on < ? THEN ? ELSE last_purchase_on END",
            [on, on],
        )

    @apply.register
    def activated(self, event: Customer.Activated, cursor: Cursor) -> None:
        self._touch(cursor, event, "status = 'active'", [])

    @apply.register
    def marked_at_risk(self, event: Customer.MarkedAtRisk, cursor: Cursor) -> None:
        self._touch(cursor, event, "status = 'at_risk'", [])

    @apply.register
    def churned(self, event: Customer.Churned, cursor: Cursor) -> None:
        # Churned has no business time of its own: the churn counts when recorded.
        self._insert(
            cursor,
            "churn",
            {
                "customer_id": str(event.originator_id),
                "version": event.originator_version,
                "cause": event.cause,
                "reason": event.reason,
                "at": _utc(event.timestamp),
            },
        )
        self._touch(cursor, event, "status = 'churned', churn_cause = ?", [event.cause])

    @apply.register
    def won_back(self, event: Customer.WonBack, cursor: Cursor) -> None:
        self._touch(
            cursor,
            event,
            "status = 'won_back', win_back_action = ?, win_back_campaign_id = ?",
            [event.action, event.campaign_id],
        )

    # VIP applications and tiers

    @apply.register
    def vip_applied(self, event: Customer.VipApplied, cursor: Cursor) -> None:
        self._insert(
            cursor,
            "vip_application",
            {
                "customer_id": str(event.originator_id),
                "application_id": event.application_id,
                "requested_tier": event.requested_tier,
                "applied_at": _utc(event.applied_at),
                "notify_by": _utc(event.notify_by),
                "policy_version": event.policy_version,
                "basis": _json(event.basis),
                "status": "pending",
                "reasons": "[]",
            },
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def vip_review_started(self, event: Customer.VipReviewStarted, cursor: Cursor) -> None:
        self._update(
            cursor,
            "vip_application",
            "application_id",
            event,
            event.application_id,
            {
                "status": "in_review",
                "reviewer_id": event.reviewer_id,
                "review_started_at": _utc(event.at),
            },
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def vip_granted(self, event: Customer.VipGranted, cursor: Cursor) -> None:
        self._update(
            cursor,
            "vip_application",
            "application_id",
            event,
            event.application_id,
            {
                "status": "granted",
                "granted_tier": event.tier,
                "reasons": _json(event.reasons),
                "decided_at": _utc(event.at),
            },
        )
        self._move(
            cursor,
            event,
            to_tier=event.tier,
            movement="granted",
            effective_on=event.effective_on,
            expires_on=event.expires_on,
            policy_version=event.policy_version,
            reason="; ".join(event.reasons) or None,
        )

    @apply.register
    def vip_rejected(self, event: Customer.VipRejected, cursor: Cursor) -> None:
        self._update(
            cursor,
            "vip_application",
            "application_id",
            event,
            event.application_id,
            {"status": "rejected", "reasons": _json(event.reasons), "decided_at": _utc(event.at)},
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def vip_decision_notified(self, event: Customer.VipDecisionNotified, cursor: Cursor) -> None:
        self._update(
            cursor,
            "vip_application",
            "application_id",
            event,
            event.application_id,
            {"notified_at": _utc(event.at), "channel": event.channel, "late": int(event.late)},
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def tier_changed(self, event: Customer.TierChanged, cursor: Cursor) -> None:
        self._move(
            cursor,
            event,
            to_tier=event.to_tier,
            movement=event.movement,
            effective_on=event.effective_on,
            expires_on=event.expires_on,
            policy_version=event.policy_version,
            reason=event.reason,
        )

    def _move(
        self,
        cursor: Cursor,
        event: Any,
        *,
        to_tier: str | None,
        movement: str,
        effective_on: date,
        expires_on: date | None,
        policy_version: str | None,
        reason: str | None,
    ) -> None:
        member = self._member(cursor, event)
        self._insert(
            cursor,
            "tier_movement",
            {
                "customer_id": str(event.originator_id),
                "version": event.originator_version,
                "effective_on": effective_on.isoformat(),
                "recorded_at": _utc(event.timestamp),
                "from_tier": member["tier"],
                "to_tier": to_tier,
                "movement": movement,
                "policy_version": policy_version,
                "expires_on": expires_on.isoformat() if expires_on else None,
                "reason": reason,
            },
        )
        # As in the domain: a tier held on (renewed) keeps the day it was first held.
        if to_tier is None:
            since = None
        elif to_tier != member["tier"] or not member["tier_since"]:
            since = effective_on.isoformat()
        else:
            since = member["tier_since"]
        self._touch(
            cursor,
            event,
            "tier = ?, tier_label = ?, tier_since = ?, tier_expires_on = ?, policy_version = ?",
            [
                to_tier,
                self._label(to_tier, policy_version),
                since,
                expires_on.isoformat() if expires_on else None,
                policy_version if to_tier is not None else None,
            ],
        )

    # points

    def _refresh_points(
        self, cursor: Cursor, event: Any, assignment: str, params: list[Any]
    ) -> None:
        """The balance and the next expiry follow from the lots."""
        row = cursor.execute(
            "SELECT COALESCE(SUM(remaining), 0) AS balance, MIN(expires_on) AS next_expiry"
            f" FROM {self.t('points_lot')} WHERE customer_id = ? AND remaining > 0",
            [str(event.originator_id)],
        ).fetchone()
        self._touch(
            cursor,
            event,
            f"{assignment}, points_balance = ?, points_next_expiry = ?",
            [*params, int(row["balance"]), row["next_expiry"]],
        )

    @apply.register
    def points_earned(self, event: Customer.PointsEarned, cursor: Cursor) -> None:
        self._insert(
            cursor,
            "points_lot",
            {
                "customer_id": str(event.originator_id),
                "lot": event.order_ref,
                "points": event.points,
                "remaining": event.points,
                "earned_on": event.earned_on.isoformat(),
                "expires_on": event.expires_on.isoformat(),
            },
        )
        self._refresh_points(
            cursor, event, "points_earned_total = points_earned_total + ?", [event.points]
        )

    @apply.register
    def points_redeemed(self, event: Customer.PointsRedeemed, cursor: Cursor) -> None:
        # The event names the lots drawn on (earliest expiry first) and how much of each.
        for drawn in event.lots:
            cursor.execute(
                f"UPDATE {self.t('points_lot')} SET remaining = remaining - ?"
                " WHERE customer_id = ? AND lot = ?",
                [int(drawn["points"]), str(event.originator_id), drawn["lot"]],
            )
        self._refresh_points(
            cursor, event, "points_redeemed_total = points_redeemed_total + ?", [event.points]
        )

    @apply.register
    def points_expired(self, event: Customer.PointsExpired, cursor: Cursor) -> None:
        if event.lots:
            cursor.execute(
                f"UPDATE {self.t('points_lot')} SET remaining = 0"
                f" WHERE customer_id = ? AND lot IN {_in(event.lots)}",
                [str(event.originator_id), *event.lots],
            )
        self._refresh_points(
            cursor, event, "points_expired_total = points_expired_total + ?", [event.points]
        )

    # coupons

    @apply.register
    def coupon_issued(self, event: Customer.CouponIssued, cursor: Cursor) -> None:
        money = event.value or event.min_spend
        self._insert(
            cursor,
            "coupon",
            {
                "customer_id": str(event.originator_id),
                "coupon_id": event.coupon_id,
                "description": event.description,
                "value": str(event.value.amount) if event.value else None,
                "discount_rate": str(event.discount_rate)
                if event.discount_rate is not None
                else None,
                "min_spend": str(event.min_spend.amount) if event.min_spend else None,
                "currency": money.currency if money else None,
                "issued_at": _utc(event.at),
                "valid_until": event.valid_until.isoformat(),
                "status": "issued",
                "reason": event.reason,
            },
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def coupon_redeemed(self, event: Customer.CouponRedeemed, cursor: Cursor) -> None:
        self._update(
            cursor,
            "coupon",
            "coupon_id",
            event,
            event.coupon_id,
            {"status": "redeemed", "order_ref": event.order_ref, "redeemed_at": _utc(event.at)},
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def coupon_expired(self, event: Customer.CouponExpired, cursor: Cursor) -> None:
        self._update(
            cursor,
            "coupon",
            "coupon_id",
            event,
            event.coupon_id,
            {"status": "expired", "expired_on": event.expired_on.isoformat()},
        )
        self._touch(cursor, event, "", [])

    # value-added services (notes are free text and not kept here)

    @apply.register
    def service_applied(self, event: Customer.ServiceApplied, cursor: Cursor) -> None:
        self._insert(
            cursor,
            "service_application",
            {
                "customer_id": str(event.originator_id),
                "application_id": event.application_id,
                "service": event.service,
                "status": "applied",
                "reasons": "[]",
                "applied_at": _utc(event.at),
            },
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def service_reviewed(self, event: Customer.ServiceReviewed, cursor: Cursor) -> None:
        self._update(
            cursor,
            "service_application",
            "application_id",
            event,
            event.application_id,
            {
                "status": "approved" if event.approved else "rejected",
                "reviewer_id": event.reviewer_id,
                "reasons": _json(event.reasons),
                "decided_at": _utc(event.at),
            },
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def service_implemented(self, event: Customer.ServiceImplemented, cursor: Cursor) -> None:
        self._update(
            cursor,
            "service_application",
            "application_id",
            event,
            event.application_id,
            {"status": "implemented", "implemented_at": _utc(event.at)},
        )
        self._touch(cursor, event, "", [])

    # growth plans

    @apply.register
    def growth_plan_started(self, event: Customer.GrowthPlanStarted, cursor: Cursor) -> None:
        goals = [
            {"metric": g["metric"], "target": _plain(g["target"]), "progress": "0"}
            for g in event.goals
        ]
        self._insert(
            cursor,
            "growth_plan",
            {
                "customer_id": str(event.originator_id),
                "plan_id": event.plan_id,
                "goals": _json(goals),
                "due_on": event.due_on.isoformat(),
                "status": "active",
                "started_at": _utc(event.at),
            },
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def growth_progress_recorded(
        self, event: Customer.GrowthProgressRecorded, cursor: Cursor
    ) -> None:
        row = cursor.execute(
            f"SELECT goals FROM {self.t('growth_plan')} WHERE customer_id = ? AND plan_id = ?",
            [str(event.originator_id), event.plan_id],
        ).fetchone()
        goals = json.loads(row["goals"])
        for goal in goals:
            if goal["metric"] == event.metric:
                goal["progress"] = str(event.value)
        self._update(
            cursor, "growth_plan", "plan_id", event, event.plan_id, {"goals": _json(goals)}
        )
        self._touch(cursor, event, "", [])

    @apply.register
    def growth_plan_closed(self, event: Customer.GrowthPlanClosed, cursor: Cursor) -> None:
        self._update(
            cursor,
            "growth_plan",
            "plan_id",
            event,
            event.plan_id,
            {"status": event.outcome, "closed_at": _utc(event.at)},
        )
        self._touch(cursor, event, "", [])

    # relationship health

    @apply.register
    def prevention_task_raised(self, event: Customer.PreventionTaskRaised, cursor: Cursor) -> None:
        self._insert(
            cursor,
            "prevention_task",
            {
                "customer_id": str(event.originator_id),
                "task_id": event.task_id,
                "reasons": _json(event.reasons),
                "owner": event.owner,
                "due_on": event.due_on.isoformat(),
                "status": "open",
                "raised_at": _utc(event.at),
            },
        )
        self._touch(cursor, event, "open_prevention_task = ?", [event.task_id])

    @apply.register
    def prevention_task_completed(
        self, event: Customer.PreventionTaskCompleted, cursor: Cursor
    ) -> None:
        self._update(
            cursor,
            "prevention_task",
            "task_id",
            event,
            event.task_id,
            {"status": "done", "outcome": event.outcome, "completed_at": _utc(event.at)},
        )
        self._touch(
            cursor,
            event,
            "open_prevention_task = CASE WHEN open_prevention_task = ? THEN NULL"
            " ELSE open_prevention_task END",
            [event.task_id],
        )

    @apply.register
    def relationship_broken(self, event: Customer.RelationshipBroken, cursor: Cursor) -> None:
        self._touch(
            cursor, event, "relationship = 'broken', relationship_since = ?", [_utc(event.at)]
        )

    @apply.register
    def relationship_repaired(self, event: Customer.RelationshipRepaired, cursor: Cursor) -> None:
        self._touch(
            cursor, event, "relationship = 'healthy', relationship_since = ?", [_utc(event.at)]
        )

    # complaints and service requests: the customer's touchpoints and ratings

    def _touchpoint(self, event: Any, kind: str, cursor: Cursor) -> None:
        self._insert(
            cursor,
            "member_touchpoint",
            {
                "subject_id": str(event.originator_id),
                "customer_id": str(event.customer_id),
                "kind": kind,
                "received_at": _utc(event.received_at),
            },
        )

    def _rated(self, event: Any, rating: int | None, cursor: Cursor) -> None:
        cursor.execute(
            f"UPDATE {self.t('member_touchpoint')} SET rating = ?, rated_at = ?"
            " WHERE subject_id = ?",
            [rating, _utc(event.at) if rating is not None else None, str(event.originator_id)],
        )

    @apply.register
    def complaint_lodged(self, event: Complaint.Lodged, cursor: Cursor) -> None:
        self._touchpoint(event, "complaint", cursor)

    @apply.register
    def complaint_confirmed(self, event: Complaint.CustomerConfirmed, cursor: Cursor) -> None:
        self._rated(event, event.rating, cursor)

    @apply.register
    def complaint_reopened(self, event: Complaint.Reopened, cursor: Cursor) -> None:
        # A reopened complaint's earlier confirmation no longer stands (as in the
        # complaint view).
        self._rated(event, None, cursor)

    @apply.register
    def service_request_opened(self, event: ServiceRequest.Opened, cursor: Cursor) -> None:
        self._touchpoint(event, "service_request", cursor)

    @apply.register
    def service_request_rated(self, event: ServiceRequest.FeedbackGiven, cursor: Cursor) -> None:
        self._rated(event, event.rating, cursor)


# -- queries -------------------------------------------------------------------------------


class MembershipQueries:
    """Read-side queries over the membership views (never the event store)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def t(self, name: str) -> str:
        return self.views.table(name)

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.views.transaction(commit=False) as cursor:
            return cursor.execute(statement, params).fetchall()

    # -- one customer -----------------------------------------------------------------

    def get(self, customer_id: str | UUID) -> MemberRow | None:
        rows = self._all(
            f"SELECT * FROM {self.t('member_view')} WHERE customer_id = ?", [str(customer_id)]
        )
        return MemberRow.from_row(rows[0]) if rows else None

    def points_lots(self, customer_id: str | UUID, *, open_only: bool = True) -> list[PointsLotRow]:
        """The customer's lots, those that expire first first."""
        condition = " AND remaining > 0" if open_only else ""
        rows = self._all(
            f"SELECT * FROM {self.t('points_lot')} WHERE customer_id = ?{condition}"
            " ORDER BY expires_on, earned_on, lot",
            [str(customer_id)],
        )
        return [
            PointsLotRow(
                lot=r["lot"],
                points=int(r["points"]),
                remaining=int(r["remaining"]),
                earned_on=date.fromisoformat(r["earned_on"]),
                expires_on=date.fromisoformat(r["expires_on"]),
            )
            for r in rows
        ]

    def _of_customer(
        self, table: str, order: str, row: Callable[[Any], R], customer_id: str | UUID
    ) -> list[R]:
        rows = self._all(
            f"SELECT * FROM {self.t(table)} WHERE customer_id = ? ORDER BY {order}",
            [str(customer_id)],
        )
        return [row(r) for r in rows]

    def coupons(self, customer_id: str | UUID) -> list[CouponRow]:
        return self._of_customer(
            "coupon", "issued_at DESC, coupon_id", CouponRow.from_row, customer_id
        )

    def prevention_tasks(self, customer_id: str | UUID) -> list[PreventionTaskRow]:
        return self._of_customer(
            "prevention_task", "raised_at DESC, task_id", PreventionTaskRow.from_row, customer_id
        )

    def service_applications(self, customer_id: str | UUID) -> list[ServiceApplicationRow]:
        return self._of_customer(
            "service_application",
            "applied_at DESC, application_id",
            ServiceApplicationRow.from_row,
            customer_id,
        )

    def growth_plans(self, customer_id: str | UUID) -> list[GrowthPlanRow]:
        return self._of_customer(
            "growth_plan", "started_at DESC, plan_id", GrowthPlanRow.from_row, customer_id
        )

    def tier_history(self, customer_id: str | UUID) -> list[TierMovementRow]:
        return self._of_customer("tier_movement", "version", TierMovementRow.from_row, customer_id)

    def latest_satisfaction(self, customer_id: str | UUID) -> SatisfactionRow | None:
        """The latest rating the customer gave, to a service request or a complaint."""
        rows = self._all(
            f"SELECT kind, subject_id, rating, rated_at FROM {self.t('member_touchpoint')}"
            " WHERE customer_id = ? AND rated_at IS NOT NULL"
            " ORDER BY rated_at DESC, subject_id LIMIT 1",
            [str(customer_id)],
        )
        if not rows:
            return None
        r = rows[0]
        return SatisfactionRow(
            source=r["kind"],
            subject_id=r["subject_id"],
            rating=int(r["rating"]),
            rated_at=datetime.fromisoformat(r["rated_at"]),
        )

    def open_complaints(self, customer_id: str | UUID) -> int:
        """Complaints still being handled (received, acknowledged, investigating,
        reopened), from the complaint view."""
        statuses = sorted(str(s) for s in OPEN_COMPLAINT_STATUSES)
        rows = self._all(
            f"SELECT COUNT(*) AS n FROM {self.t('complaint_view')}"
            f" WHERE customer_id = ? AND status IN {_in(statuses)}",
            [str(customer_id), *statuses],
        )
        return int(rows[0]["n"])

    # -- VIP applications --------------------------------------------------------------

    def vip_applications(
        self,
        *,
        pending_only: bool = False,
        overdue_on: datetime | None = None,
        on_time_on: datetime | None = None,
        customer_id: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[VipApplicationRow], int]:
        """Applications, the earliest notification deadline first. ``pending_only``: the
        customer has not yet been told the decision. ``overdue_on``: only those overdue at
        that moment (not notified and past the deadline, or notified late);
        ``on_time_on``: only those not overdue at that moment."""
        condition = Where()
        if pending_only:
            condition.raw("notified_at IS NULL")
        if overdue_on is not None:
            condition.raw("((notified_at IS NULL AND notify_by < ?) OR late = 1)", _utc(overdue_on))
        if on_time_on is not None:
            condition.raw(
                "((notified_at IS NULL AND notify_by >= ?) OR late = 0)", _utc(on_time_on)
            )
        condition.equal("customer_id", customer_id or None)
        rows, total = self.views.page(
            self.t("vip_application"),
            condition.clauses,
            condition.params,
            "notify_by, applied_at, customer_id, application_id",
            offset=offset,
            limit=limit,
        )
        return [VipApplicationRow.from_row(r) for r in rows], total

    # -- tiers -------------------------------------------------------------------------

    def tier_distribution(self) -> list[TierCount]:
        """Members per tier (``None``: no tier), most members first."""
        rows = self._all(
            f"SELECT tier, COUNT(*) AS n FROM {self.t('member_view')} GROUP BY tier"
            " ORDER BY n DESC, tier"
        )
        return [TierCount(tier=r["tier"], count=int(r["n"])) for r in rows]

    def tier_movements(
        self,
        since: date | None = None,
        until: date | None = None,
        *,
        offset: int = 0,
        limit: int = 200,
    ) -> tuple[list[TierMovementRow], int]:
        """Tier moves effective from ``since`` to ``until``, both days included."""
        condition = Where().at_least("effective_on", since).at_most("effective_on", until)
        rows, total = self.views.page(
            self.t("tier_movement"),
            condition.clauses,
            condition.params,
            "effective_on, recorded_at, customer_id, version",
            offset=offset,
            limit=limit,
        )
        return [TierMovementRow.from_row(r) for r in rows], total

    def tiers_due(self, today: date, limit: int = 1000) -> list[tuple[str, date]]:
        """(customer id, term end) of tiers whose term ended on or before ``today``:
        the tier evaluation's candidates."""
        rows = self._all(
            f"SELECT customer_id, tier_expires_on FROM {self.t('member_view')}"
            " WHERE tier IS NOT NULL AND tier_expires_on <= ?"
            " ORDER BY tier_expires_on, customer_id LIMIT ?",
            [today.isoformat(), limit],
        )
        return [(r["customer_id"], date.fromisoformat(r["tier_expires_on"])) for r in rows]

    # -- points ------------------------------------------------------------------------

    def points_liability(
        self, yuan_per_point: Decimal, today: date | None = None
    ) -> PointsLiability:
        """Points outstanding (earned, neither redeemed nor expired) and their value at
        ``yuan_per_point``, exactly. ``today`` (optional) splits off those past expiry."""
        rows = self._all(
            "SELECT COALESCE(SUM(remaining), 0) AS points,"
            " COUNT(DISTINCT customer_id) AS members"
            f" FROM {self.t('points_lot')} WHERE remaining > 0"
        )
        past = 0
        if today is not None:
            past_rows = self._all(
                "SELECT COALESCE(SUM(remaining), 0) AS points"
                f" FROM {self.t('points_lot')} WHERE remaining > 0 AND expires_on < ?",
                [today.isoformat()],
            )
            past = int(past_rows[0]["points"])
        points = int(rows[0]["points"])
        return PointsLiability(
            points=points,
            value=points * yuan_per_point,
            yuan_per_point=yuan_per_point,
            members=int(rows[0]["members"]),
            past_expiry=past,
        )

    def points_due(self, today: date, limit: int = 1000) -> list[tuple[str, date]]:
        """(customer id, earliest expiry) of customers with points left in a lot that
        expired before ``today``: the points expiry's candidates."""
        rows = self._all(
            f"SELECT customer_id, MIN(expires_on) AS expires_on FROM {self.t('points_lot')}"
            " WHERE remaining > 0 AND expires_on < ? GROUP BY customer_id"
            " ORDER BY MIN(expires_on), customer_id LIMIT ?",
            [today.isoformat(), limit],
        )
        return [(r["customer_id"], date.fromisoformat(r["expires_on"])) for r in rows]

    def coupons_due(self, today: date, limit: int = 1000) -> list[tuple[str, date]]:
        """(customer id, earliest end of validity) of customers holding an issued coupon
        valid until before ``today``: the coupon expiry's candidates."""
        rows = self._all(
            f"SELECT customer_id, MIN(valid_until) AS valid_until FROM {self.t('coupon')}"
            " WHERE status = 'issued' AND valid_until < ? GROUP BY customer_id"
            " ORDER BY MIN(valid_until), customer_id LIMIT ?",
            [today.isoformat(), limit],
        )
        return [(r["customer_id"], date.fromisoformat(r["valid_until"])) for r in rows]

    # -- relationship health -----------------------------------------------------------

    def at_risk_candidates(
        self,
        today: date,
        *,
        quiet_days: int,
        complaint_count: int,
        complaint_window_days: int,
        low_rating: int,
    ) -> list[tuple[str, list[str], str]]:
        """Active or won-back customers without an open prevention task who look at risk
        (流失预警), with the reasons and an anchor naming the situation:

        - ``no_purchase_{quiet_days}d``: the last purchase was ``quiet_days`` or more
          days before ``today`` (a customer who never bought is not flagged by this);
        - ``complaints_{n}_in_{window}d``: ``n`` ≥ ``complaint_count`` complaints lodged
          in the ``complaint_window_days`` days ending ``today`` (Shanghai days);
        - ``low_satisfaction_{r}``: the latest rating given (to a service request or a
          complaint's result) is ``r`` ≤ ``low_rating``.

        The anchor changes when the situation does (a new last purchase, a new
        complaint, a new rating, a signal appearing or going), so a policy keyed on it
        acts once per situation; an old complaint leaving the window while enough remain
        does not change it. It is a 16-character digest (fit for ids)."""
        flaggable = list(FLAGGABLE_STATUSES)
        eligible = f"m.status IN {_in(flaggable)} AND m.open_prevention_task IS NULL"
        found: dict[str, tuple[list[str], list[str]]] = {}

        def add(customer_id: str, reason: str, situation: str) -> None:
            reasons, situations = found.setdefault(customer_id, ([], []))
            reasons.append(reason)
            situations.append(situation)

        quiet_since = today - timedelta(days=quiet_days)
        for r in self._all(
            f"SELECT m.customer_id, m.last_purchase_on FROM {self.t('member_view')} m"
            f" WHERE {eligible} AND m.last_purchase_on IS NOT NULL AND m.last_purchase_on <= ?",
            [*flaggable, quiet_since.isoformat()],
        ):
            add(r["customer_id"], f"no_purchase_{quiet_days}d", f"p:{r['last_purchase_on']}")

        window_start = _start_of(today - timedelta(days=complaint_window_days - 1))
        window_end = _start_of(today + timedelta(days=1))
        for r in self._all(
            "SELECT t.customer_id, COUNT(*) AS n, MAX(t.received_at) AS latest"
            f" FROM {self.t('member_touchpoint')} t JOIN {self.t('member_view')} m"
            " ON m.customer_id = t.customer_id"
            f" WHERE {eligible} AND t.kind = 'complaint'"
            " AND t.received_at >= ? AND t.received_at < ?"
            " GROUP BY t.customer_id HAVING COUNT(*) >= ?",
            [*flaggable, window_start, window_end, complaint_count],
        ):
            add(
                r["customer_id"],
                f"complaints_{int(r['n'])}_in_{complaint_window_days}d",
                f"c:{r['latest']}",
            )

        for r in self._all(
            "SELECT t.customer_id, t.subject_id, t.rating, t.rated_at"
            f" FROM {self.t('member_touchpoint')} t JOIN {self.t('member_view')} m"
            " ON m.customer_id = t.customer_id"
            f" WHERE {eligible} AND t.rated_at IS NOT NULL AND t.rating <= ?"
            f" AND t.rated_at = (SELECT MAX(l.rated_at) FROM {self.t('member_touchpoint')} l"
            " WHERE l.customer_id = t.customer_id AND l.rated_at IS NOT NULL)",
            [*flaggable, low_rating],
        ):
            add(
                r["customer_id"],
                f"low_satisfaction_{int(r['rating'])}",
                f"r:{r['subject_id']}:{r['rated_at']}",
            )

        candidates: list[tuple[str, list[str], str]] = []
        for customer_id in sorted(found):
            reasons, situations = found[customer_id]
            digest = hashlib.sha256("|".join(situations).encode()).hexdigest()[:16]
            candidates.append((customer_id, reasons, digest))
        return candidates

    def at_risk(self, *, offset: int = 0, limit: int = 20) -> tuple[list[AtRiskRow], int]:
        """Customers at risk (流失风险), by customer id, each with the open prevention
        task (and its reasons) if one is open."""
        rows, total = self.views.page(
            self.t("member_view"),
            ["status = ?"],
            ["at_risk"],
            "customer_id",
            offset=offset,
            limit=limit,
        )
        members = [MemberRow.from_row(r) for r in rows]
        tasks: dict[tuple[str, str], PreventionTaskRow] = {}
        wanted = [m for m in members if m.open_prevention_task]
        if wanted:
            found = self._all(
                f"SELECT * FROM {self.t('prevention_task')} WHERE status = 'open'"
                f" AND customer_id IN {_in([m.customer_id for m in wanted])}",
                [m.customer_id for m in wanted],
            )
            for r in found:
                task = PreventionTaskRow.from_row(r)
                tasks[(task.customer_id, task.task_id)] = task
        return [
            AtRiskRow(
                member=m,
                task=tasks.get((m.customer_id, m.open_prevention_task or "")),
            )
            for m in members
        ], total

    # -- churn -------------------------------------------------------------------------

    def churn_causes(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[ChurnCauseCount]:
        """Churns recorded from ``since`` (included) to ``until`` (excluded), by cause,
        the commonest first."""
        condition = Where().at_least("at", since).before("at", until)
        rows = self._all(
            f"SELECT cause, COUNT(*) AS n FROM {self.t('churn')}{condition.sql}"
            " GROUP BY cause ORDER BY n DESC, cause",
            condition.params,
        )
        return [ChurnCauseCount(cause=r["cause"], count=int(r["n"])) for r in rows]
