"""Contract read models (合同台账): every contract with its current terms and where it
stands; each signed terms version (so "which terms governed on 1 May" is one lookup);
amendments with their clause diffs; the payment schedule with what is paid and overdue;
payments; breaches with their penalties.

Amounts are stored as decimal text and summed in :class:`~decimal.Decimal` (or
:class:`~domain.values.Money`), never in floating point. Business times are stored as UTC
ISO text; business dates (due dates, effective dates, ending and hand-over days) as ISO
dates, as the domain gives them (calendar days in Asia/Shanghai). Terms, diffs and other
structured values are kept as JSON in a plain form: money as ``{"amount": "120000.00",
"currency": "CNY"}``, dates as ISO text, rates as decimal text.

A customer party's name is personal data (个人信息): it is kept in its own column, and the
interfaces mask it for roles that may not see personal data. An organisation's name is
not personal data, and only organisation names are searched. Signatories' names are not
kept here at all (the aggregate has them, for those who may see them).

The payment schedule (``contract_instalment``) is that of the latest agreed terms, as in
the domain (:meth:`domain.contract.Contract.overdue_instalments`): it is rebuilt whenever
the draft is revised and whenever an amendment is concluded, with the payments already
recorded against each instalment number applied again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain.contract import (
    AFTER_END,
    OPEN_ACCOUNTS,
    PERFORMING,
    Contract,
    ContractStatus,
    Terms,
    business_day,
)
from domain.values import Money
from projections.base import (
    Cursor,
    KehuProjection,
    ViewStore,
    Where,
    opt_date,
    opt_datetime,
    placeholders,
)

OrderField = Literal["number", "drafted_at", "start_date", "end_date", "amount", "status"]

_ORDER_COLUMNS: dict[str, str] = {
    "number": "c.number",
    "drafted_at": "c.drafted_at",
    "start_date": "c.start_date",
    "end_date": "c.end_date",
    "amount": "c.amount_minor",
    "status": "c.status",
}

#: Every status in lifecycle order (the pipeline lists them all, empty ones too).
STATUS_ORDER: tuple[str, ...] = tuple(status.value for status in ContractStatus)


def _sorted_values(statuses: frozenset[ContractStatus]) -> tuple[str, ...]:
    return tuple(s for s in STATUS_ORDER if ContractStatus(s) in statuses)


_OPEN_ACCOUNTS = _sorted_values(OPEN_ACCOUNTS)
_PERFORMING = _sorted_values(PERFORMING)
_AFTER_END = _sorted_values(AFTER_END)

_TABLES = (
    "contract_view",
    "contract_terms",
    "contract_amendment",
    "contract_instalment",
    "contract_payment",
    "contract_breach",
)


# -- plain values ------------------------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def plain(value: Any) -> Any:
    """An event value as JSON-friendly data: money as ``{"amount", "currency"}`` with the
    amount as decimal text, times as UTC ISO text, dates as ISO dates, decimals as text."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _json(value: Any) -> str:
    return json.dumps(plain(value), ensure_ascii=False)


def money_of(data: Mapping[str, Any]) -> Money:
    """Money from its plain form."""
    return Money(Decimal(data["amount"]), data["currency"])


def terms_of(data: Mapping[str, Any]) -> Terms:
    """The domain's :class:`~domain.contract.Terms` from their plain form."""
    return Terms.from_dict(
        {
            **data,
            "start_date": date.fromisoformat(data["start_date"]),
            "end_date": date.fromisoformat(data["end_date"]),
            "amount": money_of(data["amount"]),
            "payment_schedule": [
                {
                    "number": item["number"],
                    "due_date": date.fromisoformat(item["due_date"]),
                    "amount": money_of(item["amount"]),
                }
                for item in data["payment_schedule"]
            ],
            "delivery": {
                "description": data["delivery"]["description"],
                "due_date": date.fromisoformat(data["delivery"]["due_date"]),
            },
            "penalty_rate": Decimal(data["penalty_rate"]),
        }
    )


# -- rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyRow:
    """甲方 or 乙方 as the view has it. ``customer_name`` is personal data: the interfaces
    mask it for roles that may not see personal data."""

    role: str
    kind: str
    customer_id: str | None
    name: str | None
    customer_name: str | None
    signed_at: datetime | None
    signature_method: str | None

    @property
    def display_name(self) -> str | None:
        return self.name if self.name is not None else self.customer_name


@dataclass(frozen=True)
class IntermediaryRow:
    """第三方中介 with its liability cap (责任限额) and fee; for one that left, when and why."""

    name: str
    liability_cap: Decimal
    fee: Decimal
    signed_at: datetime | None = None
    signature_method: str | None = None
    removed_at: datetime | None = None
    removal_reason: str | None = None


@dataclass(frozen=True)
class EndingRow:
    """How the contract ended: ``kind`` is ``terminated`` (终止) or ``dissolved`` (解除)."""

    kind: str
    reason: str
    by_party: str | None
    notice_given_on: date | None
    note: str | None
    ended_on: date
    at: datetime


@dataclass(frozen=True)
class SettlementRow:
    """清算: balance = amount due − paid + payer's penalties − payee's penalties."""

    terms_version: int
    amount_due: Decimal
    paid: Decimal
    outstanding: Decimal
    penalties: dict[str, Decimal]
    balance: Decimal
    owed_by: str | None
    owed_to: str | None
    at: datetime


@dataclass(frozen=True)
class HandOverRow:
    """客户数据移交: due after the ending; done (perhaps late) or recorded overdue."""

    due_on: date
    handed_over_at: datetime | None
    package_name: str | None
    sha256: str | None
    late: bool | None
    overdue_recorded_on: date | None


@dataclass(frozen=True)
class DeliveryRow:
    """交付 and its acceptance (验收)."""

    status: str
    description: str
    due_date: date
    rectification_due_on: date | None
    accepted_at: datetime | None
    after_rectification_deadline: bool | None
    rejections: list[dict[str, Any]]


@dataclass(frozen=True)
class ContractRow:
    id: str
    number: str
    title: str
    status: str
    status_history: list[dict[str, Any]]
    party_a: PartyRow
    party_b: PartyRow
    intermediary: IntermediaryRow | None
    intermediary_exit: IntermediaryRow | None
    leading_party: str
    payer: str
    currency: str
    amount: Decimal
    start_date: date
    end_date: date
    terms_version: int
    terms: dict[str, Any]
    drafted_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    reviews: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    #: Each party's signature by role: ``{"method", "signed_at"}`` (no names).
    signatures: dict[str, dict[str, Any]]
    signed_at: datetime | None
    activated_at: datetime | None
    pending_amendment: int | None
    paid_total: Decimal
    penalties: dict[str, Decimal]
    overdue_recorded: dict[str, date]
    delivery: DeliveryRow
    ending: EndingRow | None
    settlement: SettlementRow | None
    hand_over: HandOverRow | None
    version: int
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> ContractRow:
        signatures: dict[str, dict[str, Any]] = json.loads(row["signatures"])
        terms: dict[str, Any] = json.loads(row["terms"])

        def party(role: str) -> PartyRow:
            signature = signatures.get(role, {})
            return PartyRow(
                role=role,
                kind=row[f"party_{role}_kind"],
                customer_id=row[f"party_{role}_customer_id"],
                name=row[f"party_{role}_name"],
                customer_name=row[f"party_{role}_customer_name"],
                signed_at=opt_datetime(signature.get("signed_at")),
                signature_method=signature.get("method"),
            )

        intermediary_signature = signatures.get("intermediary", {})
        intermediary = (
            IntermediaryRow(
                name=row["intermediary_name"],
                liability_cap=Decimal(row["intermediary_cap"]),
                fee=Decimal(row["intermediary_fee"]),
                signed_at=opt_datetime(intermediary_signature.get("signed_at")),
                signature_method=intermediary_signature.get("method"),
            )
            if row["intermediary_name"] is not None
            else None
        )
        exit_data = json.loads(row["intermediary_exit"]) if row["intermediary_exit"] else None
        intermediary_exit = (
            IntermediaryRow(
                name=exit_data["name"],
                liability_cap=Decimal(exit_data["liability_cap"]["amount"]),
                fee=Decimal(exit_data["fee"]["amount"]),
                signed_at=opt_datetime(intermediary_signature.get("signed_at")),
                signature_method=intermediary_signature.get("method"),
                removed_at=opt_datetime(exit_data["at"]),
                removal_reason=exit_data["reason"],
            )
            if exit_data
            else None
        )
        ending = (
            EndingRow(
                kind=row["end_kind"],
                reason=row["end_reason"],
                by_party=row["ended_by_party"],
                notice_given_on=opt_date(row["notice_given_on"]),
                note=row["end_note"],
                ended_on=date.fromisoformat(row["ended_on"]),
                at=datetime.fromisoformat(row["ended_at"]),
            )
            if row["end_kind"]
            else None
        )
        settled = json.loads(row["settlement"]) if row["settlement"] else None
        settlement = (
            SettlementRow(
                terms_version=settled["terms_version"],
                amount_due=Decimal(settled["amount_due"]["amount"]),
                paid=Decimal(settled["paid"]["amount"]),
                outstanding=Decimal(settled["outstanding"]["amount"]),
                penalties={k: Decimal(v["amount"]) for k, v in settled["penalties"].items()},
                balance=Decimal(settled["balance"]["amount"]),
                owed_by=settled["owed_by"],
                owed_to=settled["owed_to"],
                at=datetime.fromisoformat(settled["at"]),
            )
            if settled
            else None
        )
        hand_over = (
            HandOverRow(
                due_on=date.fromisoformat(row["hand_over_due_on"]),
                handed_over_at=opt_datetime(row["handed_over_at"]),
                package_name=row["hand_over_package"],
                sha256=row["hand_over_sha256"],
                late=bool(row["hand_over_late"]) if row["hand_over_late"] is not None else None,
                overdue_recorded_on=opt_date(row["hand_over_overdue_on"]),
            )
            if row["hand_over_due_on"]
            else None
        )
        return cls(
            id=row["id"],
            number=row["number"],
            title=row["title"],
            status=row["status"],
            status_history=[
                {
                    "status": entry["status"],
                    "on": date.fromisoformat(entry["on"]),
                    "at": datetime.fromisoformat(entry["at"]),
                }
                for entry in json.loads(row["status_history"])
            ],
            party_a=party("a"),
            party_b=party("b"),
            intermediary=intermediary,
            intermediary_exit=intermediary_exit,
            leading_party=row["leading_party"],
            payer=row["payer"],
            currency=row["currency"],
            amount=Decimal(row["amount"]),
            start_date=date.fromisoformat(row["start_date"]),
            end_date=date.fromisoformat(row["end_date"]),
            terms_version=row["terms_version"],
            terms=terms,
            drafted_at=datetime.fromisoformat(row["drafted_at"]),
            submitted_at=opt_datetime(row["submitted_at"]),
            approved_at=opt_datetime(row["approved_at"]),
            reviews=json.loads(row["reviews"]),
            attachments=json.loads(row["attachments"]),
            signatures=signatures,
            signed_at=opt_datetime(row["signed_at"]),
            activated_at=opt_datetime(row["activated_at"]),
            pending_amendment=row["pending_amendment"],
            paid_total=Decimal(row["paid_total"]),
            penalties={k: Decimal(v) for k, v in json.loads(row["penalties"]).items()},
            overdue_recorded={
                k: date.fromisoformat(v) for k, v in json.loads(row["overdue_recorded"]).items()
            },
            delivery=DeliveryRow(
                status=row["delivery_status"],
                description=terms["delivery"]["description"],
                due_date=date.fromisoformat(terms["delivery"]["due_date"]),
                rectification_due_on=opt_date(row["rectification_due_on"]),
                accepted_at=opt_datetime(row["delivery_accepted_at"]),
                after_rectification_deadline=(
                    bool(row["delivery_after_deadline"])
                    if row["delivery_after_deadline"] is not None
                    else None
                ),
                rejections=json.loads(row["delivery_rejections"]),
            ),
            ending=ending,
            settlement=settlement,
            hand_over=hand_over,
            version=row["version"],
            updated_at=datetime.fromisoformat(row["updated_at"]),
        )

    @property
    def parties(self) -> list[PartyRow]:
        return [self.party_a, self.party_b]

    def status_on(self, day: date) -> str | None:
        """The status on ``day`` from the recorded facts, a signed contract counting as in
        force from its start date (as :meth:`domain.contract.Contract.status_on`); ``None``
        before it was drafted."""
        found: str | None = None
        for entry in self.status_history:
            if entry["on"] <= day:
                found = entry["status"]
        if found == ContractStatus.SIGNED.value and day >= self.start_date:
            return ContractStatus.IN_FORCE.value
        return found


@dataclass(frozen=True)
class TermsVersionRow:
    """One signed version of the terms: version 1 from the start date, then one per
    concluded amendment from its effective date. ``terms`` is their plain form."""

    contract_id: str
    version: int
    effective_date: date
    amendment: int | None
    kind: str
    terms: dict[str, Any]
    diff: list[dict[str, Any]]

    def as_terms(self) -> Terms:
        return terms_of(self.terms)


@dataclass(frozen=True)
class AmendmentRow:
    contract_id: str
    number: int
    kind: str
    status: str
    base_version: int
    version: int | None
    effective_date: date
    terms: dict[str, Any]
    diff: list[dict[str, Any]]
    reason: str
    signatures: dict[str, dict[str, Any]]
    proposed_at: datetime
    concluded_at: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None


@dataclass(frozen=True)
class InstalmentRow:
    """One instalment of the latest agreed payment schedule and what is paid on it."""

    contract_id: str
    number: int
    due_date: date
    amount: Decimal
    paid: Decimal
    overdue_recorded_on: date | None

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid

    def overdue_on(self, day: date) -> bool:
        """Past due on ``day`` with something unpaid (by the payments recorded)."""
        return self.due_date < day and self.outstanding > 0


@dataclass(frozen=True)
class InstalmentDue:
    """An instalment across contracts, for the dashboard's payments due and overdue."""

    contract_id: str
    contract_number: str
    title: str
    status: str
    payer: str
    currency: str
    instalment: int
    due_date: date
    amount: Decimal
    paid: Decimal
    overdue_recorded_on: date | None

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid


@dataclass(frozen=True)
class PaymentRow:
    contract_id: str
    version: int
    instalment: int
    amount: Decimal
    currency: str
    paid_on: date
    reference: str | None


@dataclass(frozen=True)
class BreachRow:
    contract_id: str
    contract_number: str
    currency: str
    number: int
    party: str
    description: str
    base: Decimal
    penalty_rate: Decimal
    penalty: Decimal
    rounding: str
    capped: bool
    at: datetime


@dataclass(frozen=True)
class PipelineStage:
    """One status of the pipeline: how many contracts, and their amounts per currency."""

    status: str
    count: int
    totals: dict[str, Decimal]


@dataclass(frozen=True)
class ContractFilter:
    """Filters combine with AND. ``today`` (a business date in Shanghai) is needed by
    ``expiring_within_days`` and ``overdue_payments``."""

    statuses: list[str] | None = None
    #: Either party is this customer.
    customer_id: str | None = None
    #: An organisation's name (甲方, 乙方 or the intermediary) contains this, case-blind.
    party_name: str | None = None
    #: Signed or in force, and the current end date is on or before today + N days
    #: (those whose end date has passed but that were not yet terminated included).
    expiring_within_days: int | None = None
    #: Has (true) or has not (false) an instalment past due with something unpaid.
    overdue_payments: bool | None = None
    intermediary: bool | None = None
    today: date | None = None


@dataclass(frozen=True)
class BreachFilter:
    contract_id: str | None = None
    party: str | None = None
    since: datetime | None = None
    until: datetime | None = None


# -- the projection ------------------------------------------------------------------------


class ContractProjection(KehuProjection):
    """Keeps ``contract_view``, ``contract_terms``, ``contract_amendment``,
    ``contract_instalment``, ``contract_payment`` and ``contract_breach``."""

    name = "contracts"
    personal_columns = (
        ("contract_view", "party_a_customer_id", ("party_a_customer_name",)),
        ("contract_view", "party_b_customer_id", ("party_b_customer_name",)),
    )

    def ddl(self) -> list[str]:
        t = self.t
        view = t("contract_view")
        return [
            f"CREATE TABLE IF NOT EXISTS {view} ("
            " id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, title TEXT NOT NULL,"
            " status TEXT NOT NULL, status_history TEXT NOT NULL,"
            " party_a_kind TEXT NOT NULL, party_a_customer_id TEXT, party_a_name TEXT,"
            " party_a_customer_name TEXT,"
            " party_b_kind TEXT NOT NULL, party_b_customer_id TEXT, party_b_name TEXT,"
            " party_b_customer_name TEXT,"
            " intermediary_name TEXT, intermediary_cap TEXT, intermediary_fee TEXT,"
            " intermediary_exit TEXT,"
            " leading_party TEXT NOT NULL, payer TEXT NOT NULL, currency TEXT NOT NULL,"
            " amount TEXT NOT NULL, amount_minor BIGINT NOT NULL,"
            " start_date TEXT NOT NULL, end_date TEXT NOT NULL,"
            " terms_version INTEGER NOT NULL, terms TEXT NOT NULL,"
            " drafted_at TEXT NOT NULL, submitted_at TEXT, approved_at TEXT,"
            " reviews TEXT NOT NULL, attachments TEXT NOT NULL, signatures TEXT NOT NULL,"
            " signed_at TEXT, activated_at TEXT, pending_amendment INTEGER,"
            " paid_total TEXT NOT NULL, penalties TEXT NOT NULL, overdue_recorded TEXT NOT NULL,"
            " delivery_status TEXT NOT NULL, delivery_accepted_at TEXT,"
            " delivery_after_deadline INTEGER, rectification_due_on TEXT,"
            " delivery_rejections TEXT NOT NULL,"
            " end_kind TEXT, end_reason TEXT, ended_by_party TEXT, notice_given_on TEXT,"
            " end_note TEXT, ended_on TEXT, ended_at TEXT, hand_over_due_on TEXT,"
            " handed_over_at TEXT, hand_over_package TEXT, hand_over_sha256 TEXT,"
            " hand_over_late INTEGER, hand_over_overdue_on TEXT,"
            " settlement TEXT, settlement_balance TEXT, settled_at TEXT,"
            " version INTEGER NOT NULL, updated_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS contract_view_status ON {view} (status, end_date)",
            f"CREATE INDEX IF NOT EXISTS contract_view_party_a ON {view} (party_a_customer_id)",
            f"CREATE INDEX IF NOT EXISTS contract_view_party_b ON {view} (party_b_customer_id)",
            f"CREATE INDEX IF NOT EXISTS contract_view_hand_over ON {view} (hand_over_due_on)",
            f"CREATE TABLE IF NOT EXISTS {t('contract_terms')} ("
            " contract_id TEXT NOT NULL, version INTEGER NOT NULL,"
            " effective_date TEXT NOT NULL, amendment INTEGER, kind TEXT NOT NULL,"
            " terms TEXT NOT NULL, diff TEXT NOT NULL, PRIMARY KEY (contract_id, version))",
            f"CREATE INDEX IF NOT EXISTS contract_terms_effective ON {t('contract_terms')}"
            " (contract_id, effective_date)",
            f"CREATE TABLE IF NOT EXISTS {t('contract_amendment')} ("
            " contract_id TEXT NOT NULL, number INTEGER NOT NULL, kind TEXT NOT NULL,"
            " status TEXT NOT NULL, base_version INTEGER NOT NULL, version INTEGER,"
            " effective_date TEXT NOT NULL, terms TEXT NOT NULL, diff TEXT NOT NULL,"
            " reason TEXT NOT NULL, signatures TEXT NOT NULL, proposed_at TEXT NOT NULL,"
            " concluded_at TEXT, withdrawn_at TEXT, withdrawal_reason TEXT,"
            " PRIMARY KEY (contract_id, number))",
            f"CREATE TABLE IF NOT EXISTS {t('contract_instalment')} ("
            " contract_id TEXT NOT NULL, number INTEGER NOT NULL, due_date TEXT NOT NULL,"
            " amount TEXT NOT NULL, paid TEXT NOT NULL, fully_paid INTEGER NOT NULL,"
            " overdue_recorded_on TEXT, PRIMARY KEY (contract_id, number))",
            f"CREATE INDEX IF NOT EXISTS contract_instalment_due ON {t('contract_instalment')}"
            " (fully_paid, due_date)",
            f"CREATE TABLE IF NOT EXISTS {t('contract_payment')} ("
            " contract_id TEXT NOT NULL, version INTEGER NOT NULL, instalment INTEGER NOT NULL,"
            " amount TEXT NOT NULL, currency TEXT NOT NULL, paid_on TEXT NOT NULL,"
            " reference TEXT, PRIMARY KEY (contract_id, version))",
            f"CREATE TABLE IF NOT EXISTS {t('contract_breach')} ("
            " contract_id TEXT NOT NULL, number INTEGER NOT NULL,"
            " contract_number TEXT NOT NULL, currency TEXT NOT NULL, party TEXT NOT NULL,"
            " description TEXT NOT NULL, base TEXT NOT NULL, penalty_rate TEXT NOT NULL,"
            " penalty TEXT NOT NULL, rounding TEXT NOT NULL, capped INTEGER NOT NULL,"
            " at TEXT NOT NULL, PRIMARY KEY (contract_id, number))",
            f"CREATE INDEX IF NOT EXISTS contract_breach_at ON {t('contract_breach')} (at)",
        ]

    def reset(self, cursor: Cursor) -> None:
        for table in _TABLES:
            cursor.execute(f"DELETE FROM {self.t(table)}")

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not show change no rows."""

    # -- helpers --------------------------------------------------------------------

    def _row(self, cursor: Cursor, event: Any) -> Any:
        return cursor.execute(
            f"SELECT * FROM {self.t('contract_view')} WHERE id = ?", [str(event.originator_id)]
        ).fetchone()

    def _touch(self, cursor: Cursor, event: Any, assignments: str, params: list[Any]) -> None:
        """Set ``assignments`` (may be empty), the view's version and when it changed."""
        assignments = f"{assignments}, " if assignments else ""
        cursor.execute(
            f"UPDATE {self.t('contract_view')} SET {assignments}version = ?, updated_at = ?"
            " WHERE id = ?",
            [*params, event.originator_version, _utc(event.timestamp), str(event.originator_id)],
        )

    def _status(
        self,
        cursor: Cursor,
        event: Any,
        status: ContractStatus,
        at: datetime,
        assignments: str = "",
        params: Sequence[Any] = (),
    ) -> None:
        """Move to ``status`` (on the business day of ``at``), with other assignments."""
        history = json.loads(self._row(cursor, event)["status_history"])
        history.append({"status": status.value, "on": business_day(at).isoformat(), "at": _utc(at)})
        extra = f", {assignments}" if assignments else ""
        self._touch(
            cursor,
            event,
            f"status = ?, status_history = ?{extra}",
            [status.value, json.dumps(history), *params],
        )

    def _content(self, event: Contract.Drafted | Contract.Revised) -> dict[str, Any]:
        """The columns a draft's content sets (drafting and every revision)."""
        terms = event.terms
        amount: Money = terms["amount"]
        columns: dict[str, Any] = {
            "title": event.title,
            "leading_party": event.leading_party,
            "payer": event.payer,
            "currency": amount.currency,
            "amount": str(amount.amount),
            "amount_minor": amount.minor_units,
            "start_date": terms["start_date"].isoformat(),
            "end_date": terms["end_date"].isoformat(),
            "terms": _json(terms),
            # Payments come only after signing, and a signed contract is never revised.
            "paid_total": str(Money.zero(amount.currency).amount),
        }
        for role in ("a", "b"):
            party = event.parties[role]
            columns[f"party_{role}_kind"] = str(party["kind"])
            columns[f"party_{role}_customer_id"] = (
                str(party["customer_id"]) if party["customer_id"] is not None else None
            )
            columns[f"party_{role}_name"] = party["name"]
            columns[f"party_{role}_customer_name"] = event.customer_names.get(role)
        intermediary = event.intermediary
        columns["intermediary_name"] = intermediary["name"] if intermediary else None
        columns["intermediary_cap"] = (
            str(intermediary["liability_cap"].amount) if intermediary else None
        )
        columns["intermediary_fee"] = str(intermediary["fee"].amount) if intermediary else None
        return columns

    def _paid_by_instalment(self, cursor: Cursor, contract_id: str) -> dict[int, Decimal]:
        paid: dict[int, Decimal] = {}
        for payment in cursor.execute(
            f"SELECT instalment, amount FROM {self.t('contract_payment')} WHERE contract_id = ?",
            [contract_id],
        ).fetchall():
            number = int(payment["instalment"])
            paid[number] = paid.get(number, Decimal(0)) + Decimal(payment["amount"])
        return paid

    def _rebuild_instalments(
        self, cursor: Cursor, contract_id: str, terms: Mapping[str, Any], overdue: Mapping[str, str]
    ) -> None:
        """The schedule of ``terms`` (plain form), with the payments recorded so far
        applied by instalment number, and the overdue records kept by number."""
        paid = self._paid_by_instalment(cursor, contract_id)
        table = self.t("contract_instalment")
        cursor.execute(f"DELETE FROM {table} WHERE contract_id = ?", [contract_id])
        for item in terms["payment_schedule"]:
            amount = money_of(item["amount"])
            paid_on_it = Money.zero(amount.currency) + Money(
                paid.get(item["number"], Decimal(0)), amount.currency
            )
            cursor.execute(
                f"INSERT INTO {table} (contract_id, number, due_date, amount, paid, fully_paid,"
                " overdue_recorded_on) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    contract_id,
                    item["number"],
                    item["due_date"],
                    str(amount.amount),
                    str(paid_on_it.amount),
                    int(paid_on_it >= amount),
                    overdue.get(str(item["number"])),
                ],
            )

    def _set_columns(self, cursor: Cursor, event: Any, columns: Mapping[str, Any]) -> None:
        self._touch(
            cursor, event, ", ".join(f"{name} = ?" for name in columns), list(columns.values())
        )

    # -- drafting and review --------------------------------------------------------

    @apply.register
    def drafted(self, event: Contract.Drafted, cursor: Cursor) -> None:
        contract_id = str(event.originator_id)
        columns = {
            "id": contract_id,
            "number": event.number,
            **self._content(event),
            "status": ContractStatus.DRAFT.value,
            "status_history": json.dumps(
                [
                    {
                        "status": ContractStatus.DRAFT.value,
                        "on": business_day(event.drafted_at).isoformat(),
                        "at": _utc(event.drafted_at),
                    }
                ]
            ),
            "terms_version": 1,
            "drafted_at": _utc(event.drafted_at),
            "reviews": "[]",
            "attachments": "[]",
            "signatures": "{}",
            "penalties": "{}",
            "overdue_recorded": "{}",
            "delivery_status": "pending",
            "delivery_rejections": "[]",
            "version": event.originator_version,
            "updated_at": _utc(event.timestamp),
        }
        cursor.execute(
            f"INSERT INTO {self.t('contract_view')} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' for _ in columns)})",
            list(columns.values()),
        )
        self._rebuild_instalments(cursor, contract_id, plain(event.terms), {})

    @apply.register
    def revised(self, event: Contract.Revised, cursor: Cursor) -> None:
        columns = self._content(event)
        assignments = ", ".join(f"{name} = ?" for name in columns)
        # A revision sends an approved (or rejected) draft back to draft.
        extra = f"{assignments}, submitted_at = NULL, approved_at = NULL"
        if self._row(cursor, event)["status"] != ContractStatus.DRAFT.value:
            self._status(
                cursor, event, ContractStatus.DRAFT, event.at, extra, list(columns.values())
            )
        else:
            self._touch(cursor, event, extra, list(columns.values()))
        self._rebuild_instalments(cursor, str(event.originator_id), plain(event.terms), {})

    @apply.register
    def attachment_added(self, event: Contract.AttachmentAdded, cursor: Cursor) -> None:
        attachments = json.loads(self._row(cursor, event)["attachments"])
        attachments.append({"name": event.name, "sha256": event.sha256, "at": _utc(event.at)})
        self._touch(cursor, event, "attachments = ?", [json.dumps(attachments, ensure_ascii=False)])

    @apply.register
    def submitted_for_review(self, event: Contract.SubmittedForReview, cursor: Cursor) -> None:
        self._status(
            cursor, event, ContractStatus.IN_REVIEW, event.at, "submitted_at = ?", [_utc(event.at)]
        )

    def _review(self, cursor: Cursor, event: Any, decision: str) -> str:
        reviews = json.loads(self._row(cursor, event)["reviews"])
        reviews.append(
            {
                "decision": decision,
                "reviewer_id": event.reviewer_id,
                "comments": event.comments,
                "at": _utc(event.at),
            }
        )
        return json.dumps(reviews, ensure_ascii=False)

    @apply.register
    def approved(self, event: Contract.Approved, cursor: Cursor) -> None:
        reviews = self._review(cursor, event, "approved")
        self._status(
            cursor,
            event,
            ContractStatus.APPROVED,
            event.at,
            "approved_at = ?, reviews = ?",
            [_utc(event.at), reviews],
        )

    @apply.register
    def rejected(self, event: Contract.Rejected, cursor: Cursor) -> None:
        reviews = self._review(cursor, event, "rejected")
        self._status(cursor, event, ContractStatus.REJECTED, event.at, "reviews = ?", [reviews])

    # -- signing --------------------------------------------------------------------

    @apply.register
    def signed(self, event: Contract.Signed, cursor: Cursor) -> None:
        row = self._row(cursor, event)
        signatures = json.loads(row["signatures"])
        # The signatory's name is personal data and is not kept in the view.
        signatures[event.party] = {"method": event.method, "signed_at": _utc(event.signed_at)}
        params = [json.dumps(signatures)]
        if row["status"] == ContractStatus.APPROVED.value:
            self._status(
                cursor, event, ContractStatus.SIGNING, event.signed_at, "signatures = ?", params
            )
        else:
            self._touch(cursor, event, "signatures = ?", params)

    @apply.register
    def signing_completed(self, event: Contract.SigningCompleted, cursor: Cursor) -> None:
        row = self._row(cursor, event)
        cursor.execute(
            f"INSERT INTO {self.t('contract_terms')} (contract_id, version, effective_date,"
            " amendment, kind, terms, diff) VALUES (?, ?, ?, NULL, 'original', ?, '[]')",
            [row["id"], event.version, event.effective_date.isoformat(), row["terms"]],
        )
        self._status(
            cursor,
            event,
            ContractStatus.SIGNED,
            event.at,
            "signed_at = ?, terms_version = ?",
            [_utc(event.at), event.version],
        )

    @apply.register
    def activated(self, event: Contract.Activated, cursor: Cursor) -> None:
        self._status(
            cursor, event, ContractStatus.IN_FORCE, event.at, "activated_at = ?", [_utc(event.at)]
        )

    # -- amendments -----------------------------------------------------------------

    def _amendment(self, cursor: Cursor, event: Any) -> Any:
        return cursor.execute(
            f"SELECT * FROM {self.t('contract_amendment')} WHERE contract_id = ? AND number = ?",
            [str(event.originator_id), event.number],
        ).fetchone()

    def _update_amendment(
        self, cursor: Cursor, event: Any, assignments: str, params: list[Any]
    ) -> None:
        cursor.execute(
            f"UPDATE {self.t('contract_amendment')} SET {assignments}"
            " WHERE contract_id = ? AND number = ?",
            [*params, str(event.originator_id), event.number],
        )

    @apply.register
    def amendment_proposed(self, event: Contract.AmendmentProposed, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('contract_amendment')} (contract_id, number, kind, status,"
            " base_version, effective_date, terms, diff, reason, signatures, proposed_at)"
            " VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, '{}', ?)",
            [
                str(event.originator_id),
                event.number,
                event.kind,
                event.base_version,
                event.effective_date.isoformat(),
                _json(event.terms),
                _json(event.diff),
                event.reason,
                _utc(event.at),
            ],
        )
        self._touch(cursor, event, "pending_amendment = ?", [event.number])

    @apply.register
    def amendment_signed(self, event: Contract.AmendmentSigned, cursor: Cursor) -> None:
        signatures = json.loads(self._amendment(cursor, event)["signatures"])
        signatures[event.party] = {"method": event.method, "signed_at": _utc(event.signed_at)}
        self._update_amendment(cursor, event, "signatures = ?", [json.dumps(signatures)])
        self._touch(cursor, event, "", [])

    @apply.register
    def amendment_concluded(self, event: Contract.AmendmentConcluded, cursor: Cursor) -> None:
        amendment = self._amendment(cursor, event)
        contract_id = str(event.originator_id)
        self._update_amendment(
            cursor,
            event,
            "status = 'in_force', version = ?, concluded_at = ?",
            [event.version, _utc(event.at)],
        )
        cursor.execute(
            f"INSERT INTO {self.t('contract_terms')} (contract_id, version, effective_date,"
            " amendment, kind, terms, diff) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                contract_id,
                event.version,
                event.effective_date.isoformat(),
                event.number,
                amendment["kind"],
                amendment["terms"],
                amendment["diff"],
            ],
        )
        terms = json.loads(amendment["terms"])
        amount = money_of(terms["amount"])
        self._set_columns(
            cursor,
            event,
            {
                "terms": amendment["terms"],
                "terms_version": event.version,
                "currency": amount.currency,
                "amount": str(amount.amount),
                "amount_minor": amount.minor_units,
                "start_date": terms["start_date"],
                "end_date": terms["end_date"],
                "pending_amendment": None,
            },
        )
        overdue = json.loads(self._row(cursor, event)["overdue_recorded"])
        self._rebuild_instalments(cursor, contract_id, terms, overdue)

    @apply.register
    def amendment_withdrawn(self, event: Contract.AmendmentWithdrawn, cursor: Cursor) -> None:
        self._update_amendment(
            cursor,
            event,
            "status = 'withdrawn', withdrawn_at = ?, withdrawal_reason = ?",
            [_utc(event.at), event.reason],
        )
        self._touch(cursor, event, "pending_amendment = NULL", [])

    @apply.register
    def intermediary_removed(self, event: Contract.IntermediaryRemoved, cursor: Cursor) -> None:
        row = self._row(cursor, event)
        currency = row["currency"]
        exit_record = {
            "name": event.name,
            "liability_cap": {"amount": row["intermediary_cap"], "currency": currency},
            "fee": {"amount": row["intermediary_fee"], "currency": currency},
            "reason": event.reason,
            "at": _utc(event.at),
        }
        self._touch(
            cursor,
            event,
            "intermediary_name = NULL, intermediary_cap = NULL, intermediary_fee = NULL,"
            " intermediary_exit = ?",
            [json.dumps(exit_record, ensure_ascii=False)],
        )

    # -- performance ----------------------------------------------------------------

    @apply.register
    def payment_recorded(self, event: Contract.PaymentRecorded, cursor: Cursor) -> None:
        contract_id = str(event.originator_id)
        cursor.execute(
            f"INSERT INTO {self.t('contract_payment')} (contract_id, version, instalment,"
            " amount, currency, paid_on, reference) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                contract_id,
                event.originator_version,
                event.instalment,
                str(event.amount.amount),
                event.amount.currency,
                event.paid_on.isoformat(),
                event.reference,
            ],
        )
        table = self.t("contract_instalment")
        item = cursor.execute(
            f"SELECT amount, paid FROM {table} WHERE contract_id = ? AND number = ?",
            [contract_id, event.instalment],
        ).fetchone()
        if item is not None:
            currency = event.amount.currency
            paid = Money(Decimal(item["paid"]), currency) + event.amount
            cursor.execute(
                f"UPDATE {table} SET paid = ?, fully_paid = ? WHERE contract_id = ? AND number = ?",
                [
                    str(paid.amount),
                    int(paid >= Money(Decimal(item["amount"]), currency)),
                    contract_id,
                    event.instalment,
                ],
            )
        total = Money(Decimal(self._row(cursor, event)["paid_total"]), event.amount.currency)
        self._touch(cursor, event, "paid_total = ?", [str((total + event.amount).amount)])

    @apply.register
    def payment_overdue(self, event: Contract.PaymentOverdue, cursor: Cursor) -> None:
        overdue = json.loads(self._row(cursor, event)["overdue_recorded"])
        overdue[str(event.instalment)] = event.as_of.isoformat()
        cursor.execute(
            f"UPDATE {self.t('contract_instalment')} SET overdue_recorded_on = ?"
            " WHERE contract_id = ? AND number = ?",
            [event.as_of.isoformat(), str(event.originator_id), event.instalment],
        )
        self._touch(cursor, event, "overdue_recorded = ?", [json.dumps(overdue)])

    @apply.register
    def delivery_accepted(self, event: Contract.DeliveryAccepted, cursor: Cursor) -> None:
        self._touch(
            cursor,
            event,
            "delivery_status = 'accepted', delivery_accepted_at = ?, delivery_after_deadline = ?",
            [_utc(event.at), int(event.after_rectification_deadline)],
        )

    @apply.register
    def delivery_rejected(self, event: Contract.DeliveryRejected, cursor: Cursor) -> None:
        rejections = json.loads(self._row(cursor, event)["delivery_rejections"])
        rejections.append(
            {
                "reasons": list(event.reasons),
                "at": _utc(event.at),
                "rectification_due_on": event.rectification_due_on.isoformat(),
            }
        )
        self._touch(
            cursor,
            event,
            "delivery_status = 'rejected', rectification_due_on = ?, delivery_rejections = ?",
            [
                event.rectification_due_on.isoformat(),
                json.dumps(rejections, ensure_ascii=False),
            ],
        )

    @apply.register
    def breach_recorded(self, event: Contract.BreachRecorded, cursor: Cursor) -> None:
        row = self._row(cursor, event)
        cursor.execute(
            f"INSERT INTO {self.t('contract_breach')} (contract_id, number, contract_number,"
            " currency, party, description, base, penalty_rate, penalty, rounding, capped, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                row["id"],
                event.number,
                row["number"],
                event.penalty.currency,
                event.party,
                event.description,
                str(event.base.amount),
                str(event.penalty_rate),
                str(event.penalty.amount),
                event.rounding,
                int(event.capped),
                _utc(event.at),
            ],
        )
        penalties = json.loads(row["penalties"])
        before = Money(Decimal(penalties.get(event.party, "0")), event.penalty.currency)
        penalties[event.party] = str((before + event.penalty).amount)
        self._touch(cursor, event, "penalties = ?", [json.dumps(penalties)])

    # -- ending ---------------------------------------------------------------------

    def _ended(
        self,
        cursor: Cursor,
        event: Any,
        status: ContractStatus,
        by_party: str | None,
        notice_given_on: date | None,
    ) -> None:
        self._status(
            cursor,
            event,
            status,
            event.at,
            "end_kind = ?, end_reason = ?, ended_by_party = ?, notice_given_on = ?,"
            " end_note = ?, ended_on = ?, ended_at = ?, hand_over_due_on = ?",
            [
                status.value,
                event.reason,
                by_party,
                notice_given_on.isoformat() if notice_given_on else None,
                event.note,
                event.ended_on.isoformat(),
                _utc(event.at),
                event.hand_over_due_on.isoformat(),
            ],
        )

    @apply.register
    def dissolved(self, event: Contract.Dissolved, cursor: Cursor) -> None:
        self._ended(cursor, event, ContractStatus.DISSOLVED, event.by_party, event.notice_given_on)

    @apply.register
    def terminated(self, event: Contract.Terminated, cursor: Cursor) -> None:
        self._ended(cursor, event, ContractStatus.TERMINATED, None, None)

    @apply.register
    def settled(self, event: Contract.Settled, cursor: Cursor) -> None:
        settlement = {
            "terms_version": event.terms_version,
            "amount_due": event.amount_due,
            "paid": event.paid,
            "outstanding": event.outstanding,
            "penalties": event.penalties,
            "balance": event.balance,
            "owed_by": event.owed_by,
            "owed_to": event.owed_to,
            "at": event.at,
        }
        self._status(
            cursor,
            event,
            ContractStatus.SETTLED,
            event.at,
            "settlement = ?, settlement_balance = ?, settled_at = ?",
            [_json(settlement), str(event.balance.amount), _utc(event.at)],
        )

    @apply.register
    def data_handed_over(self, event: Contract.DataHandedOver, cursor: Cursor) -> None:
        self._touch(
            cursor,
            event,
            "handed_over_at = ?, hand_over_package = ?, hand_over_sha256 = ?, hand_over_late = ?",
            [_utc(event.at), event.package_name, event.sha256, int(event.late)],
        )

    @apply.register
    def hand_over_overdue(self, event: Contract.HandOverOverdue, cursor: Cursor) -> None:
        self._touch(cursor, event, "hand_over_overdue_on = ?", [event.as_of.isoformat()])


# -- queries ---------------------------------------------------------------------------------


class ContractQueries:
    """Read-side queries over the contract views (never the event store)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def t(self, name: str) -> str:
        return self.views.table(name)

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.views.transaction(commit=False) as cursor:
            return cursor.execute(statement, params).fetchall()

    # -- one contract ---------------------------------------------------------------

    def get(self, contract_id: str | UUID) -> ContractRow | None:
        rows = self._all(
            f"SELECT * FROM {self.t('contract_view')} WHERE id = ?", [str(contract_id)]
        )
        return ContractRow.from_row(rows[0]) if rows else None

    def by_number(self, number: str) -> ContractRow | None:
        rows = self._all(
            f"SELECT * FROM {self.t('contract_view')} WHERE number = ?", [number.strip().upper()]
        )
        return ContractRow.from_row(rows[0]) if rows else None

    def terms_as_of(self, contract_id: str | UUID, day: date) -> TermsVersionRow | None:
        """The terms in force on ``day``: the latest signed version whose effective date is
        on or before it (``None`` before the start, or if not every party has signed)."""
        rows = self._all(
            f"SELECT * FROM {self.t('contract_terms')} WHERE contract_id = ?"
            " AND effective_date <= ? ORDER BY version DESC LIMIT 1",
            [str(contract_id), day.isoformat()],
        )
        return _terms_version(rows[0]) if rows else None

    def terms_versions(self, contract_id: str | UUID) -> list[TermsVersionRow]:
        rows = self._all(
            f"SELECT * FROM {self.t('contract_terms')} WHERE contract_id = ? ORDER BY version",
            [str(contract_id)],
        )
        return [_terms_version(r) for r in rows]

    def amendments(self, contract_id: str | UUID) -> list[AmendmentRow]:
        rows = self._all(
            f"SELECT * FROM {self.t('contract_amendment')} WHERE contract_id = ? ORDER BY number",
            [str(contract_id)],
        )
        return [
            AmendmentRow(
                contract_id=r["contract_id"],
                number=r["number"],
                kind=r["kind"],
                status=r["status"],
                base_version=r["base_version"],
                version=r["version"],
                effective_date=date.fromisoformat(r["effective_date"]),
                terms=json.loads(r["terms"]),
                diff=json.loads(r["diff"]),
                reason=r["reason"],
                signatures=json.loads(r["signatures"]),
                proposed_at=datetime.fromisoformat(r["proposed_at"]),
                concluded_at=opt_datetime(r["concluded_at"]),
                withdrawn_at=opt_datetime(r["withdrawn_at"]),
                withdrawal_reason=r["withdrawal_reason"],
            )
            for r in rows
        ]

    def instalments(self, contract_id: str | UUID) -> list[InstalmentRow]:
        rows = self._all(
            f"SELECT * FROM {self.t('contract_instalment')} WHERE contract_id = ? ORDER BY number",
            [str(contract_id)],
        )
        return [
            InstalmentRow(
                contract_id=r["contract_id"],
                number=r["number"],
                due_date=date.fromisoformat(r["due_date"]),
                amount=Decimal(r["amount"]),
                paid=Decimal(r["paid"]),
                overdue_recorded_on=opt_date(r["overdue_recorded_on"]),
            )
            for r in rows
        ]

    def payments(self, contract_id: str | UUID) -> list[PaymentRow]:
        rows = self._all(
            f"SELECT * FROM {self.t('contract_payment')} WHERE contract_id = ?"
            " ORDER BY paid_on, version",
            [str(contract_id)],
        )
        return [
            PaymentRow(
                contract_id=r["contract_id"],
                version=r["version"],
                instalment=r["instalment"],
                amount=Decimal(r["amount"]),
                currency=r["currency"],
                paid_on=date.fromisoformat(r["paid_on"]),
                reference=r["reference"],
            )
            for r in rows
        ]

    # -- lists ----------------------------------------------------------------------

    def page(
        self,
        where: ContractFilter,
        *,
        order_by: str = "number",
        descending: bool = False,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[ContractRow], int]:
        condition = self._where(where)
        direction = "DESC" if descending else "ASC"
        rows, total = self.views.page(
            f"{self.t('contract_view')} c",
            condition.clauses,
            condition.params,
            f"{_ORDER_COLUMNS[order_by]} {direction} NULLS LAST, c.number ASC",
            offset=offset,
            limit=limit,
        )
        return [ContractRow.from_row(r) for r in rows], total

    def _where(self, where: ContractFilter) -> Where:
        condition = Where().within("c.status", where.statuses)
        if where.customer_id:
            condition.raw(
                "(c.party_a_customer_id = ? OR c.party_b_customer_id = ?)",
                where.customer_id,
                where.customer_id,
            )
        condition.contains(
            ("c.party_a_name", "c.party_b_name", "c.intermediary_name"), where.party_name
        )
        if where.expiring_within_days is not None:
            if where.expiring_within_days < 0:
                raise ValueError("expiring_within_days must be zero or more")
            until = self._today(where) + timedelta(days=where.expiring_within_days)
            condition.raw(
                f"c.status IN {placeholders(_PERFORMING)} AND c.end_date <= ?",
                *_PERFORMING,
                until.isoformat(),
            )
        if where.overdue_payments is not None:
            overdue = (
                f"(c.status IN {placeholders(_OPEN_ACCOUNTS)} AND EXISTS (SELECT 1 FROM"
                f" {self.t('contract_instalment')} i WHERE i.contract_id = c.id"
                " AND i.fully_paid = 0 AND i.due_date < ?))"
            )
            condition.raw(
                overdue if where.overdue_payments else f"NOT {overdue}",
                *_OPEN_ACCOUNTS,
                self._today(where).isoformat(),
            )
        if where.intermediary is not None:
            condition.raw(
                "c.intermediary_name IS NOT NULL"
                if where.intermediary
                else "c.intermediary_name IS NULL"
            )
        return condition

    @staticmethod
    def _today(where: ContractFilter) -> date:
        if where.today is None:
            raise ValueError("this filter needs today's date (ContractFilter.today)")
        return where.today

    def pipeline(self) -> list[PipelineStage]:
        """Per status, in lifecycle order: how many contracts and their current amounts
        summed per currency (exact decimals)."""
        counts = dict.fromkeys(STATUS_ORDER, 0)
        totals: dict[str, dict[str, Decimal]] = {status: {} for status in STATUS_ORDER}
        for r in self._all(f"SELECT status, currency, amount FROM {self.t('contract_view')}"):
            counts[r["status"]] += 1
            sums = totals[r["status"]]
            sums[r["currency"]] = sums.get(r["currency"], Decimal(0)) + Decimal(r["amount"])
        return [
            PipelineStage(status=s, count=counts[s], totals=dict(sorted(totals[s].items())))
            for s in STATUS_ORDER
        ]

    def payments_due(
        self,
        start: date | None = None,
        end: date | None = None,
        *,
        overdue_on: date | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[InstalmentDue], int]:
        """Instalments with something unpaid (by the payments recorded) of contracts whose
        accounts are open (signed to ended, not settled), due from ``start`` to ``end``
        inclusive; with ``overdue_on``, only those due before that day. Earliest first."""
        condition = (
            Where()
            .within("c.status", _OPEN_ACCOUNTS)
            .raw("i.fully_paid = 0")
            .at_least("i.due_date", start)
            .at_most("i.due_date", end)
            .before("i.due_date", overdue_on)
        )
        source = (
            f"{self.t('contract_instalment')} i JOIN {self.t('contract_view')} c"
            " ON c.id = i.contract_id"
        )
        with self.views.transaction(commit=False) as cursor:
            total = cursor.execute(
                f"SELECT COUNT(*) AS n FROM {source}{condition.sql}", condition.params
            ).fetchone()["n"]
            rows = cursor.execute(
                "SELECT i.contract_id, c.number AS contract_number, c.title, c.status, c.payer,"
                " c.currency, i.number AS instalment, i.due_date, i.amount, i.paid,"
                f" i.overdue_recorded_on FROM {source}{condition.sql}"
                " ORDER BY i.due_date, c.number, i.number LIMIT ? OFFSET ?",
                [*condition.params, limit, offset],
            ).fetchall()
        return [
            InstalmentDue(
                contract_id=r["contract_id"],
                contract_number=r["contract_number"],
                title=r["title"],
                status=r["status"],
                payer=r["payer"],
                currency=r["currency"],
                instalment=r["instalment"],
                due_date=date.fromisoformat(r["due_date"]),
                amount=Decimal(r["amount"]),
                paid=Decimal(r["paid"]),
                overdue_recorded_on=opt_date(r["overdue_recorded_on"]),
            )
            for r in rows
        ], int(total)

    def overdue_instalments(
        self, today: date, *, offset: int = 0, limit: int = 100
    ) -> tuple[list[InstalmentDue], int]:
        """Instalments past due on ``today`` with something unpaid, across contracts."""
        return self.payments_due(overdue_on=today, offset=offset, limit=limit)

    def breaches(
        self, where: BreachFilter, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[BreachRow], int]:
        """Breaches with their penalties, latest first."""
        condition = (
            Where()
            .equal("contract_id", where.contract_id or None)
            .equal("party", where.party or None)
            .at_least("at", where.since)
            .before("at", where.until)
        )
        rows, total = self.views.page(
            self.t("contract_breach"),
            condition.clauses,
            condition.params,
            "at DESC, contract_number, number DESC",
            offset=offset,
            limit=limit,
        )
        return [
            BreachRow(
                contract_id=r["contract_id"],
                contract_number=r["contract_number"],
                currency=r["currency"],
                number=r["number"],
                party=r["party"],
                description=r["description"],
                base=Decimal(r["base"]),
                penalty_rate=Decimal(r["penalty_rate"]),
                penalty=Decimal(r["penalty"]),
                rounding=r["rounding"],
                capped=bool(r["capped"]),
                at=datetime.fromisoformat(r["at"]),
            )
            for r in rows
        ], total

    # -- the scheduler --------------------------------------------------------------

    def scheduler_candidates(self, today: date) -> list[UUID]:
        """Contracts for which the scheduler may have something to record on ``today``
        (it asks each aggregate's ``due_time_events``): a signed contract whose start date
        has come (activate); a signed or in-force one whose current end date has come
        (expire); one with open accounts and an instalment due before today, unpaid as of
        today and not recorded overdue (payment overdue); an ended or settled one whose
        hand-over was due before today, neither done nor recorded overdue (hand-over
        overdue). It may name a contract with nothing due; it never leaves one out."""
        day = today.isoformat()
        instalments, payments = self.t("contract_instalment"), self.t("contract_payment")
        # A payment dated after today does not count yet (as in the domain).
        unpaid_today = (
            f"EXISTS (SELECT 1 FROM {instalments} i WHERE i.contract_id = c.id"
            " AND i.due_date < ? AND i.overdue_recorded_on IS NULL AND (i.fully_paid = 0"
            f" OR EXISTS (SELECT 1 FROM {payments} p WHERE p.contract_id = i.contract_id"
            " AND p.instalment = i.number AND p.paid_on > ?)))"
        )
        rows = self._all(
            f"SELECT c.id FROM {self.t('contract_view')} c WHERE"
            " (c.status = ? AND c.start_date <= ?)"
            f" OR (c.status IN {placeholders(_PERFORMING)} AND c.end_date <= ?)"
            f" OR (c.status IN {placeholders(_OPEN_ACCOUNTS)} AND {unpaid_today})"
            f" OR (c.status IN {placeholders(_AFTER_END)} AND c.handed_over_at IS NULL"
            " AND c.hand_over_overdue_on IS NULL AND c.hand_over_due_on < ?)"
            " ORDER BY c.id",
            [
                ContractStatus.SIGNED.value,
                day,
                *_PERFORMING,
                day,
                *_OPEN_ACCOUNTS,
                day,
                day,
                *_AFTER_END,
                day,
            ],
        )
        return [UUID(r["id"]) for r in rows]


def _terms_version(r: Any) -> TermsVersionRow:
    return TermsVersionRow(
        contract_id=r["contract_id"],
        version=r["version"],
        effective_date=date.fromisoformat(r["effective_date"]),
        amendment=r["amendment"],
        kind=r["kind"],
        terms=json.loads(r["terms"]),
        diff=json.loads(r["diff"]),
    )
