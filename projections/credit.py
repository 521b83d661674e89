"""Credit read models (信用看板): each profile's limit and exposure, a ledger of every
change to the exposure (so the exposure as of any past date is a sum), invoices for
the overdue ageing, every credit decision, and the risk register.

Amounts are stored as decimal text and summed in :class:`~decimal.Decimal`, never in
floating point. The ledger is keyed by the business time of each change (``at``), so
"the exposure on 31 March" means what was reserved, invoiced and overdue by then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.credit import CreditProfile
from domain.values import Money
from projections.base import Cursor, KehuProjection, ViewStore, Where, opt_date, opt_datetime

#: Overdue ageing buckets (账龄), by days past due.
AGEING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)

BUCKETS = ("limit", "reserved", "used", "overdue")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _amount(money: Money) -> str:
    return str(money.amount)


@dataclass(frozen=True)
class Exposure:
    """信用占用 at one moment."""

    as_of: datetime
    currency: str
    limit: Decimal
    reserved: Decimal
    used: Decimal
    overdue: Decimal

    @property
    def exposure(self) -> Decimal:
        return self.reserved + self.used + self.overdue

    @property
    def available(self) -> Decimal:
        return self.limit - self.exposure

    @property
    def utilisation_percent(self) -> Decimal | None:
        """Exposure as a percentage of the limit, to two places (None without a limit)."""
        if self.limit == 0:
            return None
        return (self.exposure * 100 / self.limit).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CreditProfileRow:
    id: str
    customer_id: str
    currency: str
    limit: Decimal
    term_days: int
    prepayment_ratio: Decimal
    reserved: Decimal
    used: Decimal
    overdue: Decimal
    score: int | None
    rating: str | None
    rating_source: str | None
    model_version: str | None
    explanation: str | None
    factors: list[dict[str, Any]]
    assessed_at: datetime | None
    review_due_on: date | None
    blocked_reason: str | None
    pending_request: dict[str, Any] | None
    contests: list[dict[str, Any]]
    repair_plans: list[dict[str, Any]]
    version: int

    @classmethod
    def from_row(cls, row: Any) -> CreditProfileRow:
        return cls(
            id=row["id"],
            customer_id=row["customer_id"],
            currency=row["currency"],
            limit=Decimal(row["limit_amount"]),
            term_days=row["term_days"],
            prepayment_ratio=Decimal(row["prepayment_ratio"]),
            reserved=Decimal(row["reserved"]),
            used=Decimal(row["used"]),
            overdue=Decimal(row["overdue"]),
            score=row["score"],
            rating=row["rating"],
            rating_source=row["rating_source"],
            model_version=row["model_version"],
            explanation=row["explanation"],
            factors=json.loads(row["factors"]),
            assessed_at=opt_datetime(row["assessed_at"]),
            review_due_on=opt_date(row["review_due_on"]),
            blocked_reason=row["blocked_reason"],
            pending_request=json.loads(row["pending_request"]) if row["pending_request"] else None,
            contests=json.loads(row["contests"]),
            repair_plans=json.loads(row["repair_plans"]),
            version=row["version"],
        )

    def current(self, as_of: datetime) -> Exposure:
        """The running figures (as of the view's last event), labelled ``as_of``."""
        return Exposure(
            as_of=as_of,
            currency=self.currency,
            limit=self.limit,
            reserved=self.reserved,
            used=self.used,
            overdue=self.overdue,
        )


@dataclass(frozen=True)
class InvoiceRow:
    invoice_id: str
    order_id: str
    amount: Decimal
    outstanding: Decimal
    invoiced_on: date
    due_on: date
    overdue: bool


@dataclass(frozen=True)
class AgeingBucket:
    bucket: str
    amount: Decimal
    invoices: int


@dataclass(frozen=True)
class DecisionRow:
    profile_id: str
    customer_id: str
    version: int
    order_id: str
    decision: str
    detail: str
    order_amount: Decimal
    credit_amount: Decimal
    limit: Decimal
    exposure: Decimal
    available: Decimal
    currency: str
    at: datetime


@dataclass(frozen=True)
class RiskRow:
    profile_id: str
    customer_id: str
    risk_id: str
    dimension: str
    description: str
    likelihood: int
    impact: int
    level: str
    response: str
    owner: str
    review_on: date
    status: str
    assessed_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class DecisionFilter:
    decisions: list[str] | None = None
    customer_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class RiskFilter:
    levels: list[str] | None = None
    dimensions: list[str] | None = None
    status: str | None = "open"
    customer_id: str | None = None
    review_before: date | None = None


class CreditProjection(KehuProjection):
    """Keeps ``credit_profile_view``, ``credit_ledger``, ``credit_invoice``,
    ``credit_decision`` and ``credit_risk``."""

    name = "credit"

    def ddl(self) -> list[str]:
        t = self.t
        return [
            f"CREATE TABLE IF NOT EXISTS {t('credit_profile_view')} ("
            " id TEXT PRIMARY KEY, customer_id TEXT NOT NULL UNIQUE, currency TEXT NOT NULL,"
            " limit_amount TEXT NOT NULL, term_days INTEGER NOT NULL,"
            " prepayment_ratio TEXT NOT NULL, reserved TEXT NOT NULL, used TEXT NOT NULL,"
            " overdue TEXT NOT NULL, score INTEGER, rating TEXT, rating_source TEXT,"
            " model_version TEXT, explanation TEXT, factors TEXT NOT NULL,"
            " assessed_at TEXT, review_due_on TEXT, blocked_reason TEXT,"
            " pending_request TEXT, contests TEXT NOT NULL, repair_plans TEXT NOT NULL,"
            " version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS credit_profile_rating ON {t('credit_profile_view')}"
            " (rating)",
            f"CREATE INDEX IF NOT EXISTS credit_profile_review ON {t('credit_profile_view')}"
            " (review_due_on)",
            f"CREATE TABLE IF NOT EXISTS {t('credit_ledger')} ("
            " profile_id TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL,"
            " at TEXT NOT NULL, bucket TEXT NOT NULL, delta TEXT NOT NULL,"
            " PRIMARY KEY (profile_id, version, seq))",
            f"CREATE INDEX IF NOT EXISTS credit_ledger_at ON {t('credit_ledger')} (profile_id, at)",
            f"CREATE TABLE IF NOT EXISTS {t('credit_invoice')} ("
            " profile_id TEXT NOT NULL, invoice_id TEXT NOT NULL, order_id TEXT NOT NULL,"
            " amount TEXT NOT NULL, outstanding TEXT NOT NULL, invoiced_on TEXT NOT NULL,"
            " due_on TEXT NOT NULL, overdue INTEGER NOT NULL,"
            " PRIMARY KEY (profile_id, invoice_id))",
            f"CREATE INDEX IF NOT EXISTS credit_invoice_due ON {t('credit_invoice')}"
            " (overdue, due_on)",
            f"CREATE TABLE IF NOT EXISTS {t('credit_decision')} ("
            " profile_id TEXT NOT NULL, version INTEGER NOT NULL, customer_id TEXT NOT NULL,"
            " order_id TEXT NOT NULL, decision TEXT NOT NULL, detail TEXT NOT NULL,"
            " order_amount TEXT NOT NULL, credit_amount TEXT NOT NULL,"
            " limit_amount TEXT NOT NULL, exposure TEXT NOT NULL, available TEXT NOT NULL,"
            " currency TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (profile_id, version))",
            f"CREATE INDEX IF NOT EXISTS credit_decision_at ON {t('credit_decision')}"
            " (decision, at)",
            f"CREATE TABLE IF NOT EXISTS {t('credit_risk')} ("
            " profile_id TEXT NOT NULL, risk_id TEXT NOT NULL, customer_id TEXT NOT NULL,"
            " dimension TEXT NOT NULL, description TEXT NOT NULL, likelihood INTEGER NOT NULL,"
            " impact INTEGER NOT NULL, level TEXT NOT NULL, severity INTEGER NOT NULL,"
            " response TEXT NOT NULL, owner TEXT NOT NULL, review_on TEXT NOT NULL,"
            " status TEXT NOT NULL, assessed_at TEXT NOT NULL, closed_at TEXT,"
            " PRIMARY KEY (profile_id, risk_id))",
            f"CREATE INDEX IF NOT EXISTS credit_risk_level ON {t('credit_risk')}"
            " (status, severity)",
        ]

    def reset(self, cursor: Cursor) -> None:
        for table in (
            "credit_profile_view",
            "credit_ledger",
            "credit_invoice",
            "credit_decision",
            "credit_risk",
        ):
            cursor.execute(f"DELETE FROM {self.t(table)}")

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not show change no rows."""

    # -- helpers --------------------------------------------------------------------

    def _profile(self, cursor: Cursor, event: Any) -> Any:
        return cursor.execute(
            f"SELECT * FROM {self.t('credit_profile_view')} WHERE id = ?",
            [str(event.originator_id)],
        ).fetchone()

    def _touch(self, cursor: Cursor, event: Any, assignments: str, params: list[Any]) -> None:
        """Set ``assignments`` (may be empty) and the view's version."""
        assignments = f"{assignments}, " if assignments else ""
        cursor.execute(
            f"UPDATE {self.t('credit_profile_view')} SET {assignments}version = ? WHERE id = ?",
            [*params, event.originator_version, str(event.originator_id)],
        )

    def _move(self, cursor: Cursor, event: Any, changes: list[tuple[str, Decimal]]) -> None:
        """Change the profile's running figures and write each change to the ledger."""
        row = self._profile(cursor, event)
        columns = {name: "limit_amount" if name == "limit" else name for name in BUCKETS}
        figures = {name: Decimal(row[column]) for name, column in columns.items()}
        for seq, (bucket, delta) in enumerate(changes):
            figures[bucket] += delta
            cursor.execute(
                f"INSERT INTO {self.t('credit_ledger')}"
                " (profile_id, version, seq, at, bucket, delta) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    str(event.originator_id),
                    event.originator_version,
                    seq,
                    _utc(event.at),
                    bucket,
                    str(delta),
                ],
            )
        self._touch(
            cursor,
            event,
            ", ".join(f"{columns[name]} = ?" for name in BUCKETS),
            [str(figures[name]) for name in BUCKETS],
        )

    def _json_list(self, cursor: Cursor, event: Any, column: str) -> list[dict[str, Any]]:
        return list(json.loads(self._profile(cursor, event)[column]))

    def _upsert(
        self, entries: list[dict[str, Any]], key: str, value: str, changes: dict[str, Any]
    ) -> list[dict[str, Any]]:
        for entry in entries:
            if entry[key] == value:
                entry.update(changes)
                return entries
        entries.append({key: value, **changes})
        return entries

    # -- handlers -------------------------------------------------------------------

    @apply.register
    def opened(self, event: CreditProfile.Opened, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('credit_profile_view')} (id, customer_id, currency,"
            " limit_amount, term_days, prepayment_ratio, reserved, used, overdue, factors,"
            " contests, repair_plans, version)"
            " VALUES (?, ?, ?, ?, 0, '0', '0', '0', '0', '[]', '[]', '[]', ?)",
            [
                str(event.originator_id),
                str(event.customer_id),
                event.currency,
                "0",
                event.originator_version,
            ],
        )

    @apply.register
    def assessed(self, event: CreditProfile.Assessed, cursor: Cursor) -> None:
        self._touch(
            cursor,
            event,
            "score = ?, rating = ?, rating_source = 'scorecard', model_version = ?,"
            " explanation = ?, factors = ?, assessed_at = ?, review_due_on = ?",
            [
                event.score,
                event.rating,
                event.model_version,
                event.explanation,
                json.dumps(event.factors, ensure_ascii=False),
                _utc(event.at),
                event.review_due_on.isoformat(),
            ],
        )

    @apply.register
    def review_scheduled(self, event: CreditProfile.ReviewScheduled, cursor: Cursor) -> None:
        self._touch(cursor, event, "review_due_on = ?", [event.due_on.isoformat()])

    @apply.register
    def limit_set(self, event: CreditProfile.LimitSet, cursor: Cursor) -> None:
        row = self._profile(cursor, event)
        delta = event.limit.amount - Decimal(row["limit_amount"])
        self._move(cursor, event, [("limit", delta)])
        self._touch(
            cursor,
            event,
            "term_days = ?, prepayment_ratio = ?, pending_request = NULL",
            [event.term_days, str(event.prepayment_ratio)],
        )

    @apply.register
    def limit_change_requested(
        self, event: CreditProfile.LimitChangeRequested, cursor: Cursor
    ) -> None:
        request = {
            "request_id": event.request_id,
            "limit": _amount(event.limit),
            "term_days": event.term_days,
            "prepayment_ratio": str(event.prepayment_ratio),
            "reason": event.reason,
            "requested_by": event.requested_by,
            "requested_at": _utc(event.at),
        }
        self._touch(cursor, event, "pending_request = ?", [json.dumps(request, ensure_ascii=False)])

    @apply.register
    def limit_change_rejected(
        self, event: CreditProfile.LimitChangeRejected, cursor: Cursor
    ) -> None:
        self._touch(cursor, event, "pending_request = NULL", [])

    def _decision(self, event: Any, cursor: Cursor, decision: str, detail: str) -> None:
        row = self._profile(cursor, event)
        cursor.execute(
            f"INSERT INTO {self.t('credit_decision')} (profile_id, version, customer_id,"
            " order_id, decision, detail, order_amount, credit_amount, limit_amount, exposure,"
            " available, currency, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                str(event.originator_id),
                event.originator_version,
                row["customer_id"],
                event.order_id,
                decision,
                detail,
                _amount(event.order_amount),
                _amount(event.credit_amount),
                _amount(event.limit),
                _amount(event.exposure),
                _amount(event.available),
                event.order_amount.currency,
                _utc(event.at),
            ],
        )

    @apply.register
    def order_approved(self, event: CreditProfile.OrderApproved, cursor: Cursor) -> None:
        self._decision(event, cursor, "approved", "")
        self._move(cursor, event, [("reserved", event.credit_amount.amount)])

    @apply.register
    def order_blocked(self, event: CreditProfile.OrderBlocked, cursor: Cursor) -> None:
        self._decision(event, cursor, event.decision, event.detail)
        self._touch(cursor, event, "", [])

    @apply.register
    def blocked_order_released(
        self, event: CreditProfile.BlockedOrderReleased, cursor: Cursor
    ) -> None:
        detail = f"{event.overridden} released by {event.released_by}: {event.reason}"
        self._decision(event, cursor, "released_by_override", detail)
        self._move(cursor, event, [("reserved", event.credit_amount.amount)])

    @apply.register
    def reservation_released(
        self, event: CreditProfile.ReservationReleased, cursor: Cursor
    ) -> None:
        self._move(cursor, event, [("reserved", -event.amount.amount)])

    @apply.register
    def invoiced(self, event: CreditProfile.Invoiced, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('credit_invoice')} (profile_id, invoice_id, order_id, amount,"
            " outstanding, invoiced_on, due_on, overdue) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            [
                str(event.originator_id),
                event.invoice_id,
                event.order_id,
                _amount(event.amount),
                _amount(event.amount),
                event.invoiced_on.isoformat(),
                event.due_on.isoformat(),
            ],
        )
        amount = event.amount.amount
        self._move(cursor, event, [("reserved", -amount), ("used", amount)])

    def _invoice(self, cursor: Cursor, event: Any) -> Any:
        return cursor.execute(
            f"SELECT * FROM {self.t('credit_invoice')} WHERE profile_id = ? AND invoice_id = ?",
            [str(event.originator_id), event.invoice_id],
        ).fetchone()

    @apply.register
    def payment_received(self, event: CreditProfile.PaymentReceived, cursor: Cursor) -> None:
        invoice = self._invoice(cursor, event)
        outstanding = Decimal(invoice["outstanding"]) - event.amount.amount
        cursor.execute(
            f"UPDATE {self.t('credit_invoice')} SET outstanding = ?"
            " WHERE profile_id = ? AND invoice_id = ?",
            [str(outstanding), str(event.originator_id), event.invoice_id],
        )
        bucket = "overdue" if invoice["overdue"] else "used"
        self._move(cursor, event, [(bucket, -event.amount.amount)])

    @apply.register
    def invoice_overdue(self, event: CreditProfile.InvoiceOverdue, cursor: Cursor) -> None:
        cursor.execute(
            f"UPDATE {self.t('credit_invoice')} SET overdue = 1"
            " WHERE profile_id = ? AND invoice_id = ?",
            [str(event.originator_id), event.invoice_id],
        )
        amount = event.amount.amount
        self._move(cursor, event, [("used", -amount), ("overdue", amount)])

    @apply.register
    def blocked(self, event: CreditProfile.Blocked, cursor: Cursor) -> None:
        self._touch(cursor, event, "blocked_reason = ?", [event.reason])

    @apply.register
    def unblocked(self, event: CreditProfile.Unblocked, cursor: Cursor) -> None:
        self._touch(cursor, event, "blocked_reason = NULL", [])

    def _plans(self, event: Any, cursor: Cursor, changes: dict[str, Any]) -> None:
        plans = self._upsert(
            self._json_list(cursor, event, "repair_plans"), "plan_id", event.plan_id, changes
        )
        self._touch(cursor, event, "repair_plans = ?", [json.dumps(plans, ensure_ascii=False)])

    @apply.register
    def repair_plan_started(self, event: CreditProfile.RepairPlanStarted, cursor: Cursor) -> None:
        self._plans(
            event,
            cursor,
            {
                "actions": event.actions,
                "done": [False] * len(event.actions),
                "target_rating": event.target_rating,
                "due_on": event.due_on.isoformat(),
                "status": "active",
                "progress": 0,
                "started_at": _utc(event.at),
            },
        )

    @apply.register
    def repair_progress(self, event: CreditProfile.RepairProgressRecorded, cursor: Cursor) -> None:
        plans = self._json_list(cursor, event, "repair_plans")
        done = next(p["done"] for p in plans if p["plan_id"] == event.plan_id)
        done[event.action] = event.done
        self._plans(event, cursor, {"done": done, "progress": event.progress})

    @apply.register
    def repair_completed(self, event: CreditProfile.RepairPlanCompleted, cursor: Cursor) -> None:
        self._plans(
            event,
            cursor,
            {
                "status": "met" if event.target_met else "not_met",
                "result_rating": event.rating,
                "completed_at": _utc(event.at),
            },
        )

    def _contests(self, event: Any, cursor: Cursor, changes: dict[str, Any]) -> None:
        contests = self._upsert(
            self._json_list(cursor, event, "contests"), "contest_id", event.contest_id, changes
        )
        self._touch(cursor, event, "contests = ?", [json.dumps(contests, ensure_ascii=False)])

    @apply.register
    def contested(self, event: CreditProfile.AssessmentContested, cursor: Cursor) -> None:
        # The grounds are the customer's own words (personal data): not kept in the view.
        self._contests(
            event,
            cursor,
            {
                "assessment_id": event.assessment_id,
                "status": "contested",
                "contested_at": _utc(event.at),
            },
        )

    @apply.register
    def review_started(self, event: CreditProfile.ManualReviewStarted, cursor: Cursor) -> None:
        self._contests(event, cursor, {"status": "under_review", "reviewer": event.reviewer})

    @apply.register
    def contest_upheld(self, event: CreditProfile.ContestUpheld, cursor: Cursor) -> None:
        self._contests(
            event,
            cursor,
            {"status": "upheld", "explanation": event.explanation, "decided_at": _utc(event.at)},
        )

    @apply.register
    def rating_overturned(self, event: CreditProfile.RatingOverturned, cursor: Cursor) -> None:
        self._contests(
            event,
            cursor,
            {
                "status": "overturned",
                "explanation": event.explanation,
                "previous_rating": event.previous_rating,
                "rating": event.rating,
                "decided_at": _utc(event.at),
            },
        )
        self._touch(
            cursor,
            event,
            "rating = ?, rating_source = 'manual_review', explanation = ?",
            [
                event.rating,
                f"{event.explanation}\n(overturned by {event.reviewer};"
                f" was {event.previous_rating})",
            ],
        )

    @apply.register
    def risk_assessed(self, event: CreditProfile.RiskAssessed, cursor: Cursor) -> None:
        row = self._profile(cursor, event)
        params = [
            event.dimension,
            event.description,
            event.likelihood,
            event.impact,
            event.level,
            event.likelihood * event.impact,
            event.response,
            event.owner,
            event.review_on.isoformat(),
            _utc(event.at),
        ]
        table = self.t("credit_risk")
        existing = cursor.execute(
            f"SELECT risk_id FROM {table} WHERE profile_id = ? AND risk_id = ?",
            [str(event.originator_id), event.risk_id],
        ).fetchone()
        if existing:
            cursor.execute(
                f"UPDATE {table} SET dimension = ?, description = ?, likelihood = ?,"
                " impact = ?, level = ?, severity = ?, response = ?, owner = ?,"
                " review_on = ?, assessed_at = ? WHERE profile_id = ? AND risk_id = ?",
                [*params, str(event.originator_id), event.risk_id],
            )
        else:
            cursor.execute(
                f"INSERT INTO {table} (dimension, description, likelihood, impact, level,"
                " severity, response, owner, review_on, assessed_at, profile_id, risk_id,"
                " customer_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')",
                [*params, str(event.originator_id), event.risk_id, row["customer_id"]],
            )
        self._touch(cursor, event, "", [])

    @apply.register
    def risk_closed(self, event: CreditProfile.RiskClosed, cursor: Cursor) -> None:
        cursor.execute(
            f"UPDATE {self.t('credit_risk')} SET status = 'closed', closed_at = ?"
            " WHERE profile_id = ? AND risk_id = ?",
            [_utc(event.at), str(event.originator_id), event.risk_id],
        )
        self._touch(cursor, event, "", [])


class CreditQueries:
    """Read-side queries over the credit views (never the event store)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def t(self, name: str) -> str:
        return self.views.table(name)

    def by_customer(self, customer_id: str) -> CreditProfileRow | None:
        with self.views.transaction(commit=False) as cursor:
            row = cursor.execute(
                f"SELECT * FROM {self.t('credit_profile_view')} WHERE customer_id = ?",
                [customer_id],
            ).fetchone()
        return CreditProfileRow.from_row(row) if row else None

    def get(self, profile_id: str) -> CreditProfileRow | None:
        with self.views.transaction(commit=False) as cursor:
            row = cursor.execute(
                f"SELECT * FROM {self.t('credit_profile_view')} WHERE id = ?", [profile_id]
            ).fetchone()
        return CreditProfileRow.from_row(row) if row else None

    def exposure_as_of(self, profile: CreditProfileRow, as_of: datetime) -> Exposure:
        """The exposure as it stood at ``as_of`` (business time): the ledger summed."""
        figures = dict.fromkeys(BUCKETS, Decimal(0))
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT bucket, delta FROM {self.t('credit_ledger')}"
                " WHERE profile_id = ? AND at <= ?",
                [profile.id, _utc(as_of)],
            ).fetchall()
        for row in rows:
            figures[row["bucket"]] += Decimal(row["delta"])
        return Exposure(as_of=as_of, currency=profile.currency, **figures)

    def invoices(self, profile_id: str) -> list[InvoiceRow]:
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT * FROM {self.t('credit_invoice')} WHERE profile_id = ?"
                " ORDER BY due_on, invoice_id",
                [profile_id],
            ).fetchall()
        return [
            InvoiceRow(
                invoice_id=r["invoice_id"],
                order_id=r["order_id"],
                amount=Decimal(r["amount"]),
                outstanding=Decimal(r["outstanding"]),
                invoiced_on=date.fromisoformat(r["invoiced_on"]),
                due_on=date.fromisoformat(r["due_on"]),
                overdue=bool(r["overdue"]),
            )
            for r in rows
        ]

    def ageing(self, profile_id: str, on: date) -> list[AgeingBucket]:
        """Recorded-overdue unpaid invoices by days past due on ``on`` (账龄分析)."""
        sums = {name: Decimal(0) for name, _, _ in AGEING_BUCKETS}
        counts = dict.fromkeys(sums, 0)
        for invoice in self.invoices(profile_id):
            if not invoice.overdue or invoice.outstanding == 0:
                continue
            days = (on - invoice.due_on).days
            for name, low, high in AGEING_BUCKETS:
                if days >= low and (high is None or days <= high):
                    sums[name] += invoice.outstanding
                    counts[name] += 1
                    break
        return [AgeingBucket(name, sums[name], counts[name]) for name in sums]

    def past_due(self, on: date, limit: int = 1000) -> list[tuple[str, str]]:
        """(profile id, invoice id) of unpaid invoices past due and not recorded overdue:
        the overdue policy's candidates."""
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT profile_id, invoice_id, outstanding FROM {self.t('credit_invoice')}"
                " WHERE overdue = 0 AND due_on < ? ORDER BY due_on LIMIT ?",
                [on.isoformat(), limit],
            ).fetchall()
        return [(r["profile_id"], r["invoice_id"]) for r in rows if Decimal(r["outstanding"]) > 0]

    def rating_distribution(self) -> list[tuple[str | None, int]]:
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT rating, COUNT(*) AS n FROM {self.t('credit_profile_view')} GROUP BY rating"
            ).fetchall()
        return [(r["rating"], int(r["n"])) for r in rows]

    def reviews_due(self, on_or_before: date, limit: int = 200) -> list[CreditProfileRow]:
        with self.views.transaction(commit=False) as cursor:
            rows = cursor.execute(
                f"SELECT * FROM {self.t('credit_profile_view')}"
                " WHERE review_due_on IS NOT NULL AND review_due_on <= ?"
                " ORDER BY review_due_on, id LIMIT ?",
                [on_or_before.isoformat(), limit],
            ).fetchall()
        return [CreditProfileRow.from_row(r) for r in rows]

    def decisions(
        self, where: DecisionFilter, *, offset: int = 0, limit: int = 20
    ) -> tuple[list[DecisionRow], int]:
        condition = (
            Where()
            .within("decision", where.decisions)
            .equal("customer_id", where.customer_id or None)
            .at_least("at", where.since)
            .before("at", where.until)
        )
        rows, total = self.views.page(
            self.t("credit_decision"),
            condition.clauses,
            condition.params,
            "at DESC, profile_id, version DESC",
            offset=offset,
            limit=limit,
        )
        return [
            DecisionRow(
                profile_id=r["profile_id"],
                customer_id=r["customer_id"],
                version=r["version"],
                order_id=r["order_id"],
                decision=r["decision"],
                detail=r["detail"],
                order_amount=Decimal(r["order_amount"]),
                credit_amount=Decimal(r["credit_amount"]),
                limit=Decimal(r["limit_amount"]),
                exposure=Decimal(r["exposure"]),
                available=Decimal(r["available"]),
                currency=r["currency"],
                at=datetime.fromisoformat(r["at"]),
            )
            for r in rows
        ], total

    def risks(
        self, where: RiskFilter, *, offset: int = 0, limit: int = 20
    ) -> tuple[list[RiskRow], int]:
        """The risk register, most severe first."""
        condition = (
            Where()
            .equal("status", where.status or None)
            .within("level", where.levels)
            .within("dimension", where.dimensions)
            .equal("customer_id", where.customer_id or None)
            .at_most("review_on", where.review_before)
        )
        rows, total = self.views.page(
            self.t("credit_risk"),
            condition.clauses,
            condition.params,
            "severity DESC, review_on, profile_id, risk_id",
            offset=offset,
            limit=limit,
        )
        return [
            RiskRow(
                profile_id=r["profile_id"],
                customer_id=r["customer_id"],
                risk_id=r["risk_id"],
                dimension=r["dimension"],
                description=r["description"],
                likelihood=r["likelihood"],
                impact=r["impact"],
                level=r["level"],
                response=r["response"],
                owner=r["owner"],
                review_on=date.fromisoformat(r["review_on"]),
                status=r["status"],
                assessed_at=datetime.fromisoformat(r["assessed_at"]),
                closed_at=opt_datetime(r["closed_at"]),
            )
            for r in rows
        ], total
