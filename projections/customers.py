"""Customer read model (客户列表): list and detail, with purchase count and total, last
interaction and lifecycle status."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain.credit import credit_profile_id
from domain.customer import Customer
from projections.base import Cursor, KehuProjection, ViewStore, Where, opt_date, opt_datetime

OrderField = Literal["name", "registered_on", "purchase_total", "last_interaction_at", "status"]

_ORDER_COLUMNS: dict[str, str] = {
    "name": "name",
    "registered_on": "registered_on",
    "purchase_total": "purchase_total_minor",
    "last_interaction_at": "last_interaction_at",
    "status": "status",
}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class CustomerRow:
    id: str
    kind: str
    name: str
    phone: str | None
    email: str | None
    uscc: str | None
    segment: str | None
    source: str | None
    tags: list[str]
    status: str
    status_reason: str | None
    marketing_consent: bool
    account_manager_id: str | None
    account_manager_name: str | None
    registered_on: date
    purchase_count: int
    purchase_totals: dict[str, Decimal]
    last_purchase_on: date | None
    interaction_count: int
    last_interaction_at: datetime | None
    last_interaction_kind: str | None
    next_review_due: date | None
    version: int

    @classmethod
    def from_row(cls, row: Any) -> CustomerRow:
        return cls(
            id=row["id"],
            kind=row["kind"],
            name=row["name"],
            phone=row["phone"],
            email=row["email"],
            uscc=row["uscc"],
            segment=row["segment"],
            source=row["source"],
            tags=json.loads(row["tags"]),
            status=row["status"],
            status_reason=row["status_reason"],
            marketing_consent=bool(row["marketing_consent"]),
            account_manager_id=row["account_manager_id"],
            account_manager_name=row["account_manager_name"],
            registered_on=date.fromisoformat(row["registered_on"]),
            purchase_count=row["purchase_count"],
            purchase_totals={k: Decimal(v) for k, v in json.loads(row["purchase_totals"]).items()},
            last_purchase_on=opt_date(row["last_purchase_on"]),
            interaction_count=row["interaction_count"],
            last_interaction_at=opt_datetime(row["last_interaction_at"]),
            last_interaction_kind=row["last_interaction_kind"],
            next_review_due=opt_date(row["next_review_due"]),
            version=row["version"],
        )


@dataclass(frozen=True)
class CustomerFilter:
    status: list[str] | None = None
    segment: list[str] | None = None
    tag: str | None = None
    name_contains: str | None = None
    kind: str | None = None


class CustomerProjection(KehuProjection):
    """Keeps ``customer_view`` and ``customer_tag``."""

    name = "customers"
    personal_columns = (("customer_view", "id", ("name", "phone", "email")),)

    def ddl(self) -> list[str]:
        view, tags = self.t("customer_view"), self.t("customer_tag")
        return [
            f"CREATE TABLE IF NOT EXISTS {view} ("
            " id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL,"
            " phone TEXT, email TEXT, uscc TEXT, segment TEXT, source TEXT,"
            " tags TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT,"
            " marketing_consent INTEGER NOT NULL,"
            " account_manager_id TEXT, account_manager_name TEXT,"
            " registered_on TEXT NOT NULL,"
            " purchase_count INTEGER NOT NULL DEFAULT 0,"
            " purchase_total_minor BIGINT NOT NULL DEFAULT 0,"
            " purchase_totals TEXT NOT NULL DEFAULT '{}',"
            " last_purchase_on TEXT,"
            " interaction_count INTEGER NOT NULL DEFAULT 0,"
            " last_interaction_at TEXT, last_interaction_kind TEXT,"
            " next_review_due TEXT,"
            " version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS customer_view_status ON {view} (status)",
            f"CREATE INDEX IF NOT EXISTS customer_view_segment ON {view} (segment)",
            f"CREATE INDEX IF NOT EXISTS customer_view_registered ON {view} (registered_on)",
            f"CREATE TABLE IF NOT EXISTS {tags} ("
            " customer_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (customer_id, tag))",
            f"CREATE INDEX IF NOT EXISTS customer_tag_tag ON {tags} (tag)",
            # "The best customers first" (by purchase total), with or without a status filter:
            # an index in the page's own order, so a page reads 20 rows, not sorts them all.
            f"CREATE INDEX IF NOT EXISTS customer_view_top ON {view}"
            f" (purchase_total_minor {self._descending_nulls_last()}, id)",
            f"CREATE INDEX IF NOT EXISTS customer_view_status_top ON {view}"
            f" (status, purchase_total_minor {self._descending_nulls_last()}, id)",
        ]

    def _descending_nulls_last(self) -> str:
        # SQLite indexes take no NULLS LAST; its DESC index sorts NULLs last already.
        return "DESC NULLS LAST" if self.views.is_postgres else "DESC"

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not show change no rows."""

    def reset(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t('customer_view')}")
        cursor.execute(f"DELETE FROM {self.t('customer_tag')}")

    def _touch(self, cursor: Cursor, event: Any, assignments: str, params: list[Any]) -> None:
        """Set ``assignments`` (may be empty) and the view's version."""
        assignments = f"{assignments}, " if assignments else ""
        cursor.execute(
            f"UPDATE {self.t('customer_view')} SET {assignments}version = ? WHERE id = ?",
            [*params, event.originator_version, str(event.originator_id)],
        )

    def _set_tags(self, cursor: Cursor, customer_id: str, tags: list[str]) -> None:
        cursor.execute(f"DELETE FROM {self.t('customer_tag')} WHERE customer_id = ?", [customer_id])
        for tag in tags:
            cursor.execute(
                f"INSERT INTO {self.t('customer_tag')} (customer_id, tag) VALUES (?, ?)",
                [customer_id, tag],
            )

    @apply.register
    def registered(self, event: Customer.Registered, cursor: Cursor) -> None:
        customer_id = str(event.originator_id)
        cursor.execute(
            f"INSERT INTO {self.t('customer_view')} (id, kind, name, phone, email, uscc,"
            " segment, source, tags, status, marketing_consent, registered_on, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                customer_id,
                event.kind,
                event.name,
                event.phone,
                event.email,
                event.uscc,
                event.segment,
                event.source,
                json.dumps(event.tags, ensure_ascii=False),
                "prospect",
                int(event.marketing_consent),
                event.registered_on.isoformat(),
                event.originator_version,
            ],
        )
        self._set_tags(cursor, customer_id, event.tags)

    @apply.register
    def profile_updated(self, event: Customer.ProfileUpdated, cursor: Cursor) -> None:
        self._changed(event, event.changes, cursor)

    @apply.register
    def personal_data_corrected(
        self, event: Customer.PersonalDataCorrected, cursor: Cursor
    ) -> None:
        self._changed(event, event.changes, cursor)

    @apply.register
    def data_copy_provided(self, event: Customer.DataCopyProvided, cursor: Cursor) -> None:
        self._touch(cursor, event, "", [])

    @apply.register
    def processing_restricted(self, event: Customer.ProcessingRestricted, cursor: Cursor) -> None:
        self._touch(cursor, event, "", [])

    @apply.register
    def restriction_lifted(self, event: Customer.RestrictionLifted, cursor: Cursor) -> None:
        self._touch(cursor, event, "", [])

    @apply.register
    def personal_data_erased(self, event: Customer.PersonalDataErased, cursor: Cursor) -> None:
        self._touch(cursor, event, "", [])  # the columns: KehuProjection.erase_subject

    def _changed(self, event: Any, changes: dict[str, Any], cursor: Cursor) -> None:
        columns = {"name", "phone", "email", "segment", "source", "marketing_consent", "tags"}
        assignments: list[str] = []
        params: list[Any] = []
        for field, value in changes.items():
            if field not in columns:
                continue
            assignments.append(f"{field} = ?")
            if field == "tags":
                params.append(json.dumps(value, ensure_ascii=False))
                self._set_tags(cursor, str(event.originator_id), value)
            elif field == "marketing_consent":
                params.append(int(value))
            else:
                params.append(value)
        if assignments:
            self._touch(cursor, event, ", ".join(assignments), params)
        else:
            self._touch(cursor, event, "", [])

    @apply.register
    def account_manager_assigned(
        self, event: Customer.AccountManagerAssigned, cursor: Cursor
    ) -> None:
        self._touch(
            cursor,
            event,
            "account_manager_id = ?, account_manager_name = ?",
            [event.manager_id, event.manager_name],
        )

    @apply.register
    def interaction_recorded(self, event: Customer.InteractionRecorded, cursor: Cursor) -> None:
        at = _utc(event.occurred_at)
        self._touch(
            cursor,
            event,
            "interaction_count = interaction_count + 1,"
            " last_interaction_kind = CASE WHEN last_interaction_at IS NULL"
            " OR last_interaction_at <= ? THEN ? ELSE last_interaction_kind END,"
            " last_interaction_at = CASE WHEN last_interaction_at IS NULL"
            " OR last_interaction_at <= ? THEN ? ELSE last_interaction_at END",
            [at, event.kind, at, at],
        )

    @apply.register
    def purchase_recorded(self, event: Customer.PurchaseRecorded, cursor: Cursor) -> None:
        view = self.t("customer_view")
        row = cursor.execute(
            f"SELECT purchase_totals FROM {view} WHERE id = ?", [str(event.originator_id)]
        ).fetchone()
        totals = {k: Decimal(v) for k, v in json.loads(row["purchase_totals"]).items()}
        currency = event.amount.currency
        totals[currency] = totals.get(currency, Decimal(0)) + event.amount.amount
        cny_minor = event.amount.minor_units if currency == "CNY" else 0
        on = event.occurred_on.isoformat()
        self._touch(
            cursor,
            event,
            "purchase_count = purchase_count + 1,"
            " purchase_total_minor = purchase_total_minor + ?,"
            " purchase_totals = ?,"
            " last_purchase_on = CASE WHEN last_purchase_on IS NULL"
            " OR last_purchase_on < ? THEN ? ELSE last_purchase_on END",
            [cny_minor, json.dumps({k: str(v) for k, v in totals.items()}), on, on],
        )

    def _status(self, cursor: Cursor, event: Any, status: str, reason: str | None) -> None:
        self._touch(cursor, event, "status = ?, status_reason = ?", [status, reason])

    @apply.register
    def activated(self, event: Customer.Activated, cursor: Cursor) -> None:
        self._status(cursor, event, "active", None)

    @apply.register
    def marked_at_risk(self, event: Customer.MarkedAtRisk, cursor: Cursor) -> None:
        self._status(cursor, event, "at_risk", event.reason)

    @apply.register
    def churned(self, event: Customer.Churned, cursor: Cursor) -> None:
        self._status(cursor, event, "churned", event.reason)

    @apply.register
    def won_back(self, event: Customer.WonBack, cursor: Cursor) -> None:
        self._status(cursor, event, "won_back", event.action)

    @apply.register
    def info_reviewed(self, event: Customer.InfoReviewed, cursor: Cursor) -> None:
        self._touch(cursor, event, "next_review_due = ?", [event.next_review_due.isoformat()])


class CustomerQueries:
    """Read-side queries over ``customer_view`` (never the event store)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views
        self.view = views.table("customer_view")
        self.tags = views.table("customer_tag")

    def get(self, customer_id: str) -> CustomerRow | None:
        with self.views.transaction(commit=False) as cursor:
            row = cursor.execute(
                f"SELECT * FROM {self.view} WHERE id = ?", [customer_id]
            ).fetchone()
        return CustomerRow.from_row(row) if row else None

    def page(
        self,
        where: CustomerFilter,
        *,
        order_by: str = "registered_on",
        descending: bool = False,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[CustomerRow], int]:
        condition = self._where(where)
        column = _ORDER_COLUMNS[order_by]
        direction = "DESC" if descending else "ASC"
        rows, total = self.views.page(
            self.view,
            condition.clauses,
            condition.params,
            f"{column} {direction} NULLS LAST, id ASC",
            offset=offset,
            limit=limit,
        )
        return [CustomerRow.from_row(r) for r in rows], total

    def _where(self, where: CustomerFilter) -> Where:
        condition = (
            Where()
            .within("status", where.status)
            .within("segment", where.segment)
            .equal("kind", where.kind or None)
        )
        if where.tag:
            condition.raw(f"id IN (SELECT customer_id FROM {self.tags} WHERE tag = ?)", where.tag)
        return condition.contains("name", where.name_contains)

    def subject_records(self, customer_id: UUID) -> list[UUID]:
        """Every record that holds the customer's personal data besides their own (for a
        PIPL copy): complaints, service requests, contracts they are a party to, surveys,
        and their credit profile."""
        found = self.records_of(customer_id)
        key = str(customer_id)
        with self.views.transaction(commit=False) as cursor:
            for sql, params in (
                (
                    f"SELECT id FROM {self.views.table('contract_view')}"
                    " WHERE party_a_customer_id = ? OR party_b_customer_id = ? ORDER BY id",
                    [key, key],
                ),
                (
                    f"SELECT id FROM {self.views.table('survey_view')}"
                    " WHERE customer_id = ? ORDER BY id",
                    [key],
                ),
            ):
                found += [UUID(row["id"]) for row in cursor.execute(sql, params).fetchall()]
        return [*found, credit_profile_id(customer_id)]

    def records_of(self, customer_id: UUID) -> list[UUID]:
        """The complaints and service requests recorded for a customer (the customer's
        data beyond their own record, e.g. for a hand-over package)."""
        found: list[UUID] = []
        with self.views.transaction(commit=False) as cursor:
            for table in ("complaint_view", "service_request_view"):
                rows = cursor.execute(
                    f"SELECT id FROM {self.views.table(table)} WHERE customer_id = ? ORDER BY id",
                    [str(customer_id)],
                ).fetchall()
                found += [UUID(row["id"]) for row in rows]
        return found
