"""Analytics read models (经营分析): the facts the forecasting models learn from, and the
models themselves.

- ``analytics_purchase``: one row per purchase (交易记录) with the customer's segment *as it
  stood when the purchase was recorded*, so a customer moved to another segment later does
  not rewrite a past month's segment totals. Amounts are decimal text.
- ``analytics_customer``: one row per customer with the features a churn model reads —
  first and last purchase, purchase count and CNY total, complaints lodged, the latest
  satisfaction rating, lifecycle status, and whether and when the customer churned
  (流失; the first churn, with its cause).
- ``analytics_touchpoint``: each complaint and service request of a customer, when it was
  received and the rating that stands on it (a reopened complaint's confirmation no longer
  stands), so features can be computed *as of* a past day.
- ``analytics_model``: trained models (name, version, when trained, holdout metrics and
  parameters as JSON). It is written by ``kehu models retrain``, not by events, so a
  rebuild of the views (:meth:`AnalyticsProjection.reset`) leaves it alone.

The rows hold no personal data: ids, segments, dates, amounts and ratings only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.complaint import Complaint
from domain.customer import Customer
from domain.service_request import ServiceRequest
from projections.base import Cursor, KehuProjection, ViewStore, Where, opt_date, opt_datetime

#: The currency the customer's ``purchase_total`` sums (purchases in other currencies are
#: kept in the fact table but not added to it).
TOTAL_CURRENCY = "CNY"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class PurchaseFact:
    customer_id: str
    order_ref: str
    segment: str | None
    currency: str
    amount: Decimal
    occurred_on: date


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: str
    kind: str
    segment: str | None
    status: str
    registered_on: date
    first_purchase_on: date | None
    last_purchase_on: date | None
    purchase_count: int
    purchase_total: Decimal
    complaint_count: int
    latest_rating: int | None
    latest_rating_at: datetime | None
    churned: bool
    churned_at: datetime | None
    churn_cause: str | None


@dataclass(frozen=True)
class Touchpoint:
    subject_id: str
    kind: str
    customer_id: str
    received_at: datetime
    rating: int | None
    rated_at: datetime | None


@dataclass(frozen=True)
class StoredModel:
    name: str
    version: str
    trained_at: datetime
    data_as_of: date
    metrics: dict[str, Any]
    parameters: dict[str, Any]


class AnalyticsProjection(KehuProjection):
    """Keeps ``analytics_purchase``, ``analytics_customer`` and ``analytics_touchpoint``
    (and creates ``analytics_model``)."""

    name = "analytics"
    #: Trained models are written by ``kehu models retrain``, not derived from events.
    kept_tables = frozenset({"analytics_model"})

    def ddl(self) -> list[str]:
        purchase, customer = self.t("analytics_purchase"), self.t("analytics_customer")
        touchpoint, model = self.t("analytics_touchpoint"), self.t("analytics_model")
        return [
            f"CREATE TABLE IF NOT EXISTS {purchase} ("
            " customer_id TEXT NOT NULL, order_ref TEXT NOT NULL, segment TEXT,"
            " currency TEXT NOT NULL, amount TEXT NOT NULL, occurred_on TEXT NOT NULL,"
            " PRIMARY KEY (customer_id, order_ref))",
            f"CREATE INDEX IF NOT EXISTS analytics_purchase_on ON {purchase} (occurred_on)",
            f"CREATE TABLE IF NOT EXISTS {customer} ("
            " customer_id TEXT PRIMARY KEY, kind TEXT NOT NULL, segment TEXT,"
            " status TEXT NOT NULL, registered_on TEXT NOT NULL,"
            " first_purchase_on TEXT, last_purchase_on TEXT,"
            " purchase_count INTEGER NOT NULL DEFAULT 0,"
            " purchase_total TEXT NOT NULL DEFAULT '0',"
            " complaint_count INTEGER NOT NULL DEFAULT 0,"
            " latest_rating INTEGER, latest_rating_at TEXT,"
            " churned INTEGER NOT NULL DEFAULT 0, churned_at TEXT, churn_cause TEXT)",
            f"CREATE TABLE IF NOT EXISTS {touchpoint} ("
            " subject_id TEXT PRIMARY KEY, kind TEXT NOT NULL, customer_id TEXT NOT NULL,"
            " received_at TEXT NOT NULL, rating INTEGER, rated_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS analytics_touchpoint_customer ON {touchpoint}"
            " (customer_id)",
            f"CREATE TABLE IF NOT EXISTS {model} ("
            " name TEXT NOT NULL, version TEXT NOT NULL, trained_at TEXT NOT NULL,"
            " data_as_of TEXT NOT NULL, metrics TEXT NOT NULL, parameters TEXT NOT NULL,"
            " PRIMARY KEY (name, version))",
        ]

    def reset(self, cursor: Cursor) -> None:
        for table in self.tables():
            if table not in self.kept_tables:  # a rebuild keeps the trained models
                cursor.execute(f"DELETE FROM {self.t(table)}")

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events the analytics views do not use change no rows."""

    def _set(self, cursor: Cursor, customer_id: str, assignments: str, params: list[Any]) -> None:
        cursor.execute(
            f"UPDATE {self.t('analytics_customer')} SET {assignments} WHERE customer_id = ?",
            [*params, customer_id],
        )

    # -- customers

    @apply.register
    def registered(self, event: Customer.Registered, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('analytics_customer')}"
            " (customer_id, kind, segment, status, registered_on) VALUES (?, ?, ?, ?, ?)",
            [
                str(event.originator_id),
                event.kind,
                event.segment,
                "prospect",
                event.registered_on.isoformat(),
            ],
        )

    @apply.register
    def profile_updated(self, event: Customer.ProfileUpdated, cursor: Cursor) -> None:
        if "segment" in event.changes:
            self._set(cursor, str(event.originator_id), "segment = ?", [event.changes["segment"]])

    @apply.register
    def purchase_recorded(self, event: Customer.PurchaseRecorded, cursor: Cursor) -> None:
        customer_id = str(event.originator_id)
        row = cursor.execute(
            f"SELECT segment, purchase_total FROM {self.t('analytics_customer')}"
            " WHERE customer_id = ?",
            [customer_id],
        ).fetchone()
        cursor.execute(
            f"INSERT INTO {self.t('analytics_purchase')}"
            " (customer_id, order_ref, segment, currency, amount, occurred_on)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                customer_id,
                event.order_ref,
                row["segment"],
                event.amount.currency,
                str(event.amount.amount),
                event.occurred_on.isoformat(),
            ],
        )
        total = Decimal(row["purchase_total"])
        if event.amount.currency == TOTAL_CURRENCY:
            total += event.amount.amount
        on = event.occurred_on.isoformat()
        self._set(
            cursor,
            customer_id,
            "purchase_count = purchase_count + 1, purchase_total = ?,"
            " first_purchase_on = CASE WHEN first_purchase_on IS NULL"
            " OR first_purchase_on > ? THEN ? ELSE first_purchase_on END,"
            " last_purchase_on = CASE WHEN last_purchase_on IS NULL"
            " OR last_purchase_on < ? THEN ? ELSE last_purchase_on END",
            [str(total), on, on, on, on],
        )

    @apply.register
    def activated(self, event: Customer.Activated, cursor: Cursor) -> None:
        self._set(cursor, str(event.originator_id), "status = ?", ["active"])

    @apply.register
    def marked_at_risk(self, event: Customer.MarkedAtRisk, cursor: Cursor) -> None:
        self._set(cursor, str(event.originator_id), "status = ?", ["at_risk"])

    @apply.register
    def churned(self, event: Customer.Churned, cursor: Cursor) -> None:
        # Churned has no business time of its own: it counts when recorded. The first
        # churn is the one a churn model learns from (a customer won back and lost again
        # keeps it).
        at = _utc(event.timestamp)
        self._set(
            cursor,
            str(event.originator_id),
            "status = ?, churned = 1, churned_at = COALESCE(churned_at, ?),"
            " churn_cause = COALESCE(churn_cause, ?)",
            ["churned", at, event.cause],
        )

    @apply.register
    def won_back(self, event: Customer.WonBack, cursor: Cursor) -> None:
        self._set(cursor, str(event.originator_id), "status = ?", ["won_back"])

    # -- complaints and service requests

    def _touchpoint(self, event: Any, kind: str, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('analytics_touchpoint')}"
            " (subject_id, kind, customer_id, received_at) VALUES (?, ?, ?, ?)",
            [str(event.originator_id), kind, str(event.customer_id), _utc(event.received_at)],
        )

    def _rated(self, event: Any, rating: int | None, cursor: Cursor) -> None:
        touchpoints = self.t("analytics_touchpoint")
        cursor.execute(
            f"UPDATE {touchpoints} SET rating = ?, rated_at = ? WHERE subject_id = ?",
            [rating, _utc(event.at) if rating is not None else None, str(event.originator_id)],
        )
        row = cursor.execute(
            f"SELECT customer_id FROM {touchpoints} WHERE subject_id = ?",
            [str(event.originator_id)],
        ).fetchone()
        if row is None:  # rated before it was lodged: cannot happen in a whole history
            return
        latest = cursor.execute(
            f"SELECT rating, rated_at FROM {touchpoints}"
            " WHERE customer_id = ? AND rated_at IS NOT NULL"
            " ORDER BY rated_at DESC, subject_id DESC LIMIT 1",
            [row["customer_id"]],
        ).fetchone()
        self._set(
            cursor,
            row["customer_id"],
            "latest_rating = ?, latest_rating_at = ?",
            [latest["rating"], latest["rated_at"]] if latest else [None, None],
        )

    @apply.register
    def complaint_lodged(self, event: Complaint.Lodged, cursor: Cursor) -> None:
        self._touchpoint(event, "complaint", cursor)
        self._set(cursor, str(event.customer_id), "complaint_count = complaint_count + 1", [])

    @apply.register
    def complaint_confirmed(self, event: Complaint.CustomerConfirmed, cursor: Cursor) -> None:
        self._rated(event, event.rating, cursor)

    @apply.register
    def complaint_reopened(self, event: Complaint.Reopened, cursor: Cursor) -> None:
        # A reopened complaint's confirmation no longer stands (as in the complaint view).
        self._rated(event, None, cursor)

    @apply.register
    def service_request_opened(self, event: ServiceRequest.Opened, cursor: Cursor) -> None:
        self._touchpoint(event, "service_request", cursor)

    @apply.register
    def service_request_rated(self, event: ServiceRequest.FeedbackGiven, cursor: Cursor) -> None:
        self._rated(event, event.rating, cursor)


class AnalyticsQueries:
    """Read-side queries over the analytics views (never the event store), and the
    model registry."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def t(self, name: str) -> str:
        return self.views.table(name)

    def purchases(self) -> list[PurchaseFact]:
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT * FROM {self.t('analytics_purchase')}"
                " ORDER BY occurred_on, customer_id, order_ref"
            ).fetchall()
        return [
            PurchaseFact(
                customer_id=r["customer_id"],
                order_ref=r["order_ref"],
                segment=r["segment"],
                currency=r["currency"],
                amount=Decimal(r["amount"]),
                occurred_on=date.fromisoformat(r["occurred_on"]),
            )
            for r in rows
        ]

    def customers(self, customer_id: str | None = None) -> list[CustomerFacts]:
        condition = Where().equal("customer_id", customer_id)
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT * FROM {self.t('analytics_customer')}{condition.sql} ORDER BY customer_id",
                condition.params,
            ).fetchall()
        return [
            CustomerFacts(
                customer_id=r["customer_id"],
                kind=r["kind"],
                segment=r["segment"],
                status=r["status"],
                registered_on=date.fromisoformat(r["registered_on"]),
                first_purchase_on=opt_date(r["first_purchase_on"]),
                last_purchase_on=opt_date(r["last_purchase_on"]),
                purchase_count=int(r["purchase_count"]),
                purchase_total=Decimal(r["purchase_total"]),
                complaint_count=int(r["complaint_count"]),
                latest_rating=r["latest_rating"],
                latest_rating_at=opt_datetime(r["latest_rating_at"]),
                churned=bool(r["churned"]),
                churned_at=opt_datetime(r["churned_at"]),
                churn_cause=r["churn_cause"],
            )
            for r in rows
        ]

    def customer(self, customer_id: str) -> CustomerFacts | None:
        found = self.customers(customer_id)
        return found[0] if found else None

    def purchases_of(self, customer_id: str) -> list[PurchaseFact]:
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT * FROM {self.t('analytics_purchase')} WHERE customer_id = ?"
                " ORDER BY occurred_on, order_ref",
                [customer_id],
            ).fetchall()
        return [
            PurchaseFact(
                customer_id=r["customer_id"],
                order_ref=r["order_ref"],
                segment=r["segment"],
                currency=r["currency"],
                amount=Decimal(r["amount"]),
                occurred_on=date.fromisoformat(r["occurred_on"]),
            )
            for r in rows
        ]

    def touchpoints(self, customer_id: str | None = None) -> list[Touchpoint]:
        condition = Where().equal("customer_id", customer_id)
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT * FROM {self.t('analytics_touchpoint')}{condition.sql}"
                " ORDER BY customer_id, received_at, subject_id",
                condition.params,
            ).fetchall()
        return [
            Touchpoint(
                subject_id=r["subject_id"],
                kind=r["kind"],
                customer_id=r["customer_id"],
                received_at=datetime.fromisoformat(r["received_at"]),
                rating=r["rating"],
                rated_at=opt_datetime(r["rated_at"]),
            )
            for r in rows
        ]

    # -- the model registry

    def save_model(
        self,
        *,
        name: str,
        version: str,
        trained_at: datetime,
        data_as_of: date,
        metrics: dict[str, Any],
        parameters: dict[str, Any],
    ) -> None:
        """Record a trained model; the same name and version (the same training data)
        replaces the earlier record."""
        table = self.t("analytics_model")
        with self.views.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {table}"
                " (name, version, trained_at, data_as_of, metrics, parameters)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name, version) DO UPDATE SET trained_at = excluded.trained_at,"
                " data_as_of = excluded.data_as_of, metrics = excluded.metrics,"
                " parameters = excluded.parameters",
                [
                    name,
                    version,
                    _utc(trained_at),
                    data_as_of.isoformat(),
                    json.dumps(metrics, ensure_ascii=False, sort_keys=True),
                    json.dumps(parameters, ensure_ascii=False, sort_keys=True),
                ],
            )

    def models(self, name: str | None = None, *, limit: int = 1000) -> list[StoredModel]:
        """Trained models, newest first."""
        condition = Where().equal("name", name)
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT * FROM {self.t('analytics_model')}{condition.sql}"
                " ORDER BY trained_at DESC, name, version DESC LIMIT ?",
                [*condition.params, limit],
            ).fetchall()
        return [
            StoredModel(
                name=r["name"],
                version=r["version"],
                trained_at=datetime.fromisoformat(r["trained_at"]),
                data_as_of=date.fromisoformat(r["data_as_of"]),
                metrics=json.loads(r["metrics"]),
                parameters=json.loads(r["parameters"]),
            )
            for r in rows
        ]

    def latest_model(self, name: str) -> StoredModel | None:
        found = self.models(name, limit=1)
        return found[0] if found else None
