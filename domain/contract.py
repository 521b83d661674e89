"""Contract 合同 — drafted, reviewed by legal, signed by every party, performed, amended by
numbered written agreements, ended and settled, and the customer's data handed over.

Status (合同生命周期)::

    draft 草稿 ─submit─▶ in_review 审核中 ─approve─▶ approved 已审核 ─first signature─▶ signing 签署中
      ▲                      └─reject─▶ rejected 已驳回 ─revise─┘ (revising after approval, too)
      └────────────────────────────────────────────────────────────────────────────────┘
    signing ─every party signed─▶ signed 已签署 ─start date reached (activate)─▶ in_force 生效
    signed / in_force ─terminate (expiry, mutual)─▶ terminated 已终止
    signed / in_force ─dissolve (mutual, force majeure, material breach)─▶ dissolved 已解除
    terminated / dissolved ─settle─▶ settled 已结算          (data hand-over recorded on the side)

Rules this module holds, with the figures it uses:

- The contract number is the natural key: :func:`contract_id` is ``uuid5`` over the
  normalised number (upper case), so the event store refuses a second contract with it.
- **Terms** (:class:`Terms`) are a frozen value; events carry them as plain JSON-friendly
  data (:meth:`Terms.as_dict`). The payment schedule must add up exactly to the amount.
- **Signatures** are immutable: a party signs once and there is no command to change a
  signature. Signing needs the legal approval (审核通过). The contract is in force when every
  party (甲方, 乙方 and the intermediary 第三方中介 if there is one) has signed *and* the
  start date is reached; :meth:`Contract.status_on` derives that, and the scheduler records
  it once with :meth:`Contract.activate` (signing on or after the start date records it at
  once).
- **Amendments** (变更协议) are numbered 1, 2, … and each becomes a new terms version only
  when every party has signed it; an amendment not signed by everyone never counts.
  :meth:`Contract.terms_as_of` answers "which terms governed on this day". The start date
  cannot be amended; an amendment takes effect between the start and the end date, never
  before an earlier version's effective date. Only one amendment may be open at a time.
- **Renewal** (续约) is a numbered amendment of kind ``renewal`` that extends the end date
  (and optionally restates the amount and schedule); it must be agreed, and take effect,
  no later than the current end date, and every party signs it like any amendment.
- **Penalty** (违约金) = base × penalty rate, rounded to the currency's minor unit (分)
  with ROUND_HALF_UP, using the rate of the terms governing on the breach day. The rate
  must satisfy 0 < rate ≤ 0.30: a house bound, after the 30 % benchmark Chinese courts use
  to judge a penalty excessive (民法典 第585条). An intermediary's penalties together never
  exceed its liability cap (责任限额).
- **Deadlines** are calendar days, on the Asia/Shanghai calendar date of the business time:
  rectification (整改期限) = rejection day + ``rectification_days``; a material-breach
  dissolution is allowed from notice day + ``breach_notice_days`` (default 30); the data
  hand-over is due on the ending day + ``hand_over_days`` (default 30).
- **Settlement** (清算): amount due (under the terms governing on the ending day, unless an
  agreed amount is given) − paid + penalties owed by the payer − penalties owed by the
  payee = the balance the payer still owes the payee (negative: the payee refunds).
  Every figure is exact :class:`~domain.values.Money`.

Time-driven facts (activation, overdue instalments, overdue hand-over, expiry) are
recorded by a scheduler once each; :meth:`Contract.due_time_events` lists what is due.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum, StrEnum
from typing import Any, ClassVar, Final, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.base import DomainError, KehuAggregate, PersonalData
from domain.calendar import business_day as business_day
from domain.guards import Guards
from domain.values import Money

CONTRACT_NAMESPACE: Final = uuid5(NAMESPACE_URL, "https://kehu.example/contract")

#: Penalty rates above this are refused (0 < rate ≤ 0.30).
MAX_PENALTY_RATE: Final = Decimal("0.30")
#: The rounding of a computed penalty to the currency's minor unit.
PENALTY_ROUNDING: Final = ROUND_HALF_UP
DEFAULT_BREACH_NOTICE_DAYS: Final = 30
DEFAULT_HAND_OVER_DAYS: Final = 30
MAX_RECTIFICATION_DAYS: Final = 365
MAX_CONFIDENTIALITY_YEARS: Final = 30
MAX_PERIOD_DAYS: Final = 365
MAX_SIGNATORIES: Final = 10

_NUMBER_RE: Final = re.compile(r"[A-Z0-9/_-]{1,40}")
_SHA256_RE: Final = re.compile(r"[0-9a-f]{64}")


# -- vocabularies ---------------------------------------------------------------------


class ContractStatus(StrEnum):
    DRAFT = "draft"  # 草稿
    IN_REVIEW = "in_review"  # 审核中
    APPROVED = "approved"  # 已审核
    REJECTED = "rejected"  # 已驳回
    SIGNING = "signing"  # 签署中
    SIGNED = "signed"  # 已签署
    IN_FORCE = "in_force"  # 生效
    TERMINATED = "terminated"  # 已终止
    DISSOLVED = "dissolved"  # 已解除
    SETTLED = "settled"  # 已结算


class PartyRole(StrEnum):
    A = "a"  # 甲方
    B = "b"  # 乙方
    INTERMEDIARY = "intermediary"  # 第三方中介


class PartyKind(StrEnum):
    CUSTOMER = "customer"  # 客户
    ORGANISATION = "organisation"  # 组织


class SignatureMethod(StrEnum):
    WET_INK = "wet_ink"  # 手签
    E_SIGNATURE = "e_signature"  # 电子签名
    SEAL = "seal"  # 盖章


class DisputeMethod(StrEnum):
    NEGOTIATION = "negotiation"  # 协商
    ARBITRATION = "arbitration"  # 仲裁
    COURT = "court"  # 诉讼


class AmendmentKind(StrEnum):
    CHANGE = "change"  # 变更
    RENEWAL = "renewal"  # 续约


class AmendmentStatus(StrEnum):
    PENDING = "pending"  # 待签署
    IN_FORCE = "in_force"  # 已生效
    WITHDRAWN = "withdrawn"  # 已撤回


class DissolutionReason(StrEnum):
    MUTUAL = "mutual"  # 协商一致
    FORCE_MAJEURE = "force_majeure"  # 不可抗力
    MATERIAL_BREACH = "material_breach"  # 严重违约


class TerminationReason(StrEnum):
    EXPIRY = "expiry"  # 期限届满
    MUTUAL = "mutual"  # 协商一致


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # 待验收
    ACCEPTED = "accepted"  # 验收通过
    REJECTED = "rejected"  # 验收不通过, 整改中


STATUS_LABELS: Final = {
    ContractStatus.DRAFT: "草稿",
    ContractStatus.IN_REVIEW: "审核中",
    ContractStatus.APPROVED: "已审核",
    ContractStatus.REJECTED: "已驳回",
    ContractStatus.SIGNING: "签署中",
    ContractStatus.SIGNED: "已签署",
    ContractStatus.IN_FORCE: "生效",
    ContractStatus.TERMINATED: "已终止",
    ContractStatus.DISSOLVED: "已解除",
    ContractStatus.SETTLED: "已结算",
}
ROLE_LABELS: Final = {
    PartyRole.A: "甲方",
    PartyRole.B: "乙方",
    PartyRole.INTERMEDIARY: "第三方中介",
}
KIND_LABELS: Final = {PartyKind.CUSTOMER: "客户", PartyKind.ORGANISATION: "组织"}
METHOD_LABELS: Final = {
    SignatureMethod.WET_INK: "手签",
    SignatureMethod.E_SIGNATURE: "电子签名",
    SignatureMethod.SEAL: "盖章",
}
DISPUTE_LABELS: Final = {
    DisputeMethod.NEGOTIATION: "协商",
    DisputeMethod.ARBITRATION: "仲裁",
    DisputeMethod.COURT: "诉讼",
}
AMENDMENT_KIND_LABELS: Final = {AmendmentKind.CHANGE: "变更", AmendmentKind.RENEWAL: "续约"}
AMENDMENT_STATUS_LABELS: Final = {
    AmendmentStatus.PENDING: "待签署",
    AmendmentStatus.IN_FORCE: "已生效",
    AmendmentStatus.WITHDRAWN: "已撤回",
}
DISSOLUTION_LABELS: Final = {
    DissolutionReason.MUTUAL: "协商一致",
    DissolutionReason.FORCE_MAJEURE: "不可抗力",
    DissolutionReason.MATERIAL_BREACH: "严重违约",
}
TERMINATION_LABELS: Final = {
    TerminationReason.EXPIRY: "期限届满",
    TerminationReason.MUTUAL: "协商一致",
}
DELIVERY_LABELS: Final = {
    DeliveryStatus.PENDING: "待验收",
    DeliveryStatus.ACCEPTED: "验收通过",
    DeliveryStatus.REJECTED: "整改中",
}

#: The clauses of :class:`Terms`, in contract order, with their labels.
CLAUSE_LABELS: Final = {
    "start_date": "合同开始日期",
    "end_date": "合同结束日期",
    "amount": "合同金额",
    "payment_schedule": "付款计划",
    "delivery": "交付",
    "rectification_days": "整改期限(天)",
    "confidentiality_years": "保密期限(年)",
    "penalty_rate": "违约金比例",
    "dispute_resolution": "争议解决",
    "breach_notice_days": "违约通知期限(天)",
    "hand_over_days": "数据移交期限(天)",
}
CLAUSES: Final = tuple(CLAUSE_LABELS)

BEFORE_SIGNING = frozenset(
    {
        ContractStatus.DRAFT,
        ContractStatus.IN_REVIEW,
        ContractStatus.APPROVED,
        ContractStatus.REJECTED,
        ContractStatus.SIGNING,
    }
)
#: Every party has signed and the contract has not ended.
PERFORMING = frozenset({ContractStatus.SIGNED, ContractStatus.IN_FORCE})
ENDED = frozenset({ContractStatus.TERMINATED, ContractStatus.DISSOLVED})
#: Payments and breaches may be recorded until the contract is settled.
OPEN_ACCOUNTS = PERFORMING | ENDED
AFTER_END = ENDED | {ContractStatus.SETTLED}
REVISABLE = frozenset({ContractStatus.DRAFT, ContractStatus.REJECTED, ContractStatus.APPROVED})
ATTACHABLE = frozenset({ContractStatus.DRAFT, ContractStatus.REJECTED, ContractStatus.IN_REVIEW})


# -- errors ---------------------------------------------------------------------------


class ContractError(DomainError):
    code = "contract.error"


class InvalidContractField(ContractError):
    code = "contract.invalid_field"
    kind = "invalid"


class InvalidContractNumber(ContractError):
    code = "contract.invalid_number"
    kind = "invalid"


class InvalidChecksum(ContractError):
    code = "contract.invalid_checksum"
    kind = "invalid"


class ScheduleDoesNotAddUp(ContractError):
    code = "contract.schedule_does_not_add_up"
    kind = "invalid"


class ContractCurrencyMismatch(ContractError):
    code = "contract.currency_mismatch"
    kind = "invalid"


class NothingChanged(ContractError):
    code = "contract.nothing_changed"
    kind = "invalid"


class InvalidAmendment(ContractError):
    code = "contract.invalid_amendment"
    kind = "invalid"


class UnknownAmendment(ContractError):
    code = "contract.unknown_amendment"
    kind = "invalid"


class UnknownInstalment(ContractError):
    code = "contract.unknown_instalment"
    kind = "invalid"


class TimeOrderRefused(ContractError):
    code = "contract.time_before_previous"
    kind = "invalid"


class ContractTransitionRefused(ContractError):
    code = "contract.transition_refused"


class AlreadySigned(ContractError):
    code = "contract.already_signed"


class SignatoryNotAuthorised(ContractError):
    code = "contract.signatory_not_authorised"


class NotAllSigned(ContractError):
    code = "contract.not_all_signed"


class StartDateNotReached(ContractError):
    code = "contract.start_date_not_reached"


class AmendmentNumberOutOfSequence(ContractError):
    code = "contract.amendment_out_of_sequence"


class AmendmentPending(ContractError):
    code = "contract.amendment_pending"


class AmendmentNotInForce(ContractError):
    code = "contract.amendment_not_in_force"


class AmendmentAlreadyInForce(ContractError):
    code = "contract.amendment_already_in_force"


class NoTermsOnDate(ContractError):
    code = "contract.no_terms_on_date"


class Overpayment(ContractError):
    code = "contract.overpayment"


class ScheduleBelowPaid(ContractError):
    code = "contract.schedule_below_paid"


class PaymentNotOverdue(ContractError):
    code = "contract.payment_not_overdue"


class OverdueAlreadyRecorded(ContractError):
    code = "contract.overdue_already_recorded"


class DeliveryAlreadyAccepted(ContractError):
    code = "contract.delivery_already_accepted"


class NoBreachRecorded(ContractError):
    code = "contract.no_breach_recorded"


class NoticePeriodRunning(ContractError):
    code = "contract.notice_period_running"


class NotYetExpired(ContractError):
    code = "contract.not_yet_expired"


class DataAlreadyHandedOver(ContractError):
    code = "contract.data_already_handed_over"


class HandOverNotOverdue(ContractError):
    code = "contract.hand_over_not_overdue"


class HandOverOverdueAlreadyRecorded(ContractError):
    code = "contract.hand_over_overdue_already_recorded"


class NoIntermediary(ContractError):
    code = "contract.no_intermediary"


class DuplicateAttachment(ContractError):
    code = "contract.duplicate_attachment"


# -- input helpers --------------------------------------------------------------------


_check = Guards(InvalidContractField)
choose = _check.choose
text = _check.text
optional_text = _check.optional_text
whole = _check.whole
calendar_day = _check.calendar_day
instant = _check.instant
money = _check.money


def same_currency(field: str, value: Money, expected: str) -> Money:
    if value.currency != expected:
        raise ContractCurrencyMismatch(
            f"{field} is in {value.currency}, but the contract is in {expected}",
            field=field,
            currency=value.currency,
            expected=expected,
        )
    return value


def normalise_contract_number(number: object) -> str:
    """The canonical contract number: surrounding spaces dropped, letters upper-cased.

    1–40 characters of ASCII letters, digits, ``-``, ``/`` and ``_``.
    """
    if not isinstance(number, str):
        raise InvalidContractNumber(f"a contract number must be text, not {number!r}")
    canonical = number.strip().upper()
    if not _NUMBER_RE.fullmatch(canonical):
        raise InvalidContractNumber(
            "a contract number is 1–40 characters of letters, digits, '-', '/' and '_';"
            f" got {number!r}",
            value=number,
        )
    return canonical


def contract_id(number: str) -> UUID:
    """The one contract with this number (``uuid5`` of the normalised number)."""
    return uuid5(CONTRACT_NAMESPACE, normalise_contract_number(number))


def sha256_hex(value: object, field: str = "sha256") -> str:
    """A SHA-256 digest as 64 lower-case hex characters (upper case is lower-cased)."""
    if not isinstance(value, str) or not _SHA256_RE.fullmatch(value.strip().lower()):
        raise InvalidChecksum(
            f"{field} must be a SHA-256 digest of 64 hex characters, not {value!r}", field=field
        )
    return value.strip().lower()


def _signatories(field: str, names: object) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise InvalidContractField(f"{field} must be a list of names", field=field)
    cleaned = tuple(text(field, name, max_length=50) for name in names)
    if not 1 <= len(cleaned) <= MAX_SIGNATORIES:
        raise InvalidContractField(
            f"{field} must name 1 to {MAX_SIGNATORIES} authorised signatories (授权签字人)",
            field=field,
        )
    if len(set(cleaned)) != len(cleaned):
        raise InvalidContractField(f"{field} names a signatory twice", field=field)
    return cleaned


def _set(obj: object, name: str, value: object) -> None:
    """Normalise a field of a frozen value object while it is being built."""
    object.__setattr__(obj, name, value)


# -- value objects --------------------------------------------------------------------


@dataclass(frozen=True)
class Instalment:
    """One instalment of the payment schedule (付款计划): number, due date, amount."""

    number: int
    due_date: date
    amount: Money

    def __post_init__(self) -> None:
        whole("payment_schedule.number", self.number, 1, 1000)
        calendar_day("payment_schedule.due_date", self.due_date)
        money("payment_schedule.amount", self.amount, positive=True)

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "due_date": self.due_date, "amount": self.amount}

    @classmethod
    def from_value(cls, value: object) -> Instalment:
        if isinstance(value, Instalment):
            return value
        if isinstance(value, Mapping):
            return cls(
                number=value.get("number"),  # type: ignore[arg-type]
                due_date=value.get("due_date"),  # type: ignore[arg-type]
                amount=value.get("amount"),  # type: ignore[arg-type]
            )
        raise InvalidContractField(
            f"an instalment must be an Instalment or a mapping, not {value!r}",
            field="payment_schedule",
        )


@dataclass(frozen=True)
class Delivery:
    """交付: what is delivered and by when; acceptance (验收) follows."""

    description: str
    due_date: date

    def __post_init__(self) -> None:
        _set(self, "description", text("delivery.description", self.description, max_length=500))
        calendar_day("delivery.due_date", self.due_date)

    def as_dict(self) -> dict[str, Any]:
        return {"description": self.description, "due_date": self.due_date}

    @classmethod
    def from_value(cls, value: object) -> Delivery:
        if isinstance(value, Delivery):
            return value
        if isinstance(value, Mapping):
            return cls(description=value.get("description"), due_date=value.get("due_date"))  # type: ignore[arg-type]
        raise InvalidContractField(
            f"delivery must be a Delivery or a mapping, not {value!r}", field="delivery"
        )


@dataclass(frozen=True)
class DisputeResolution:
    """争议解决: negotiation (协商), arbitration by a named body (仲裁委员会), or a named court."""

    method: str
    body: str | None = None

    def __post_init__(self) -> None:
        method = choose(DisputeMethod, self.method, "dispute_resolution.method")
        _set(self, "method", method.value)
        if method == DisputeMethod.NEGOTIATION:
            if self.body is not None:
                raise InvalidContractField(
                    "negotiation names no arbitration body or court",
                    field="dispute_resolution.body",
                )
        else:
            what = "arbitration body" if method == DisputeMethod.ARBITRATION else "court"
            if self.body is None:
                raise InvalidContractField(
                    f"{method} needs the name of the {what}", field="dispute_resolution.body"
                )
            _set(self, "body", text("dispute_resolution.body", self.body, max_length=200))

    @classmethod
    def negotiation(cls) -> DisputeResolution:
        return cls(DisputeMethod.NEGOTIATION.value)

    @classmethod
    def arbitration(cls, body: str) -> DisputeResolution:
        return cls(DisputeMethod.ARBITRATION.value, body)

    @classmethod
    def court(cls, name: str) -> DisputeResolution:
        return cls(DisputeMethod.COURT.value, name)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "body": self.body}

    @classmethod
    def from_value(cls, value: object) -> DisputeResolution:
        if isinstance(value, DisputeResolution):
            return value
        if isinstance(value, Mapping):
            return cls(method=value.get("method"), body=value.get("body"))  # type: ignore[arg-type]
        raise InvalidContractField(
            f"dispute_resolution must be a DisputeResolution or a mapping, not {value!r}",
            field="dispute_resolution",
        )


@dataclass(frozen=True)
class Terms:
    """合同条款: the clauses a signed version fixes.

    The payment schedule is numbered 1, 2, … in order, its due dates never go back, every
    instalment is in the contract's currency, and the instalments add up exactly to the
    amount. ``penalty_rate`` is a :class:`~decimal.Decimal` with 0 < rate ≤ 0.30.
    """

    start_date: date
    end_date: date
    amount: Money
    payment_schedule: tuple[Instalment, ...]
    delivery: Delivery
    rectification_days: int
    confidentiality_years: int
    penalty_rate: Decimal
    dispute_resolution: DisputeResolution
    breach_notice_days: int = DEFAULT_BREACH_NOTICE_DAYS
    hand_over_days: int = DEFAULT_HAND_OVER_DAYS

    def __post_init__(self) -> None:
        calendar_day("start_date", self.start_date)
        calendar_day("end_date", self.end_date)
        if self.end_date < self.start_date:
            raise InvalidContractField(
                f"the end date {self.end_date} is before the start date {self.start_date}",
                field="end_date",
            )
        money("amount", self.amount, positive=True)
        self._check_schedule()
        _set(self, "delivery", Delivery.from_value(self.delivery))
        whole("rectification_days", self.rectification_days, 1, MAX_RECTIFICATION_DAYS)
        whole("confidentiality_years", self.confidentiality_years, 0, MAX_CONFIDENTIALITY_YEARS)
        rate: object = self.penalty_rate
        if not isinstance(rate, Decimal) or not rate.is_finite():
            raise InvalidContractField(
                f"penalty_rate must be a finite Decimal (never a float), not {rate!r}",
                field="penalty_rate",
            )
        if not Decimal(0) < rate <= MAX_PENALTY_RATE:
            raise InvalidContractField(
                f"penalty_rate must be more than 0 and at most {MAX_PENALTY_RATE}, not {rate}",
                field="penalty_rate",
            )
        _set(self, "dispute_resolution", DisputeResolution.from_value(self.dispute_resolution))
        whole("breach_notice_days", self.breach_notice_days, 0, MAX_PERIOD_DAYS)
        whole("hand_over_days", self.hand_over_days, 1, MAX_PERIOD_DAYS)

    def _check_schedule(self) -> None:
        raw: object = self.payment_schedule
        if isinstance(raw, str | Mapping) or not isinstance(raw, Iterable):
            raise InvalidContractField(
                "payment_schedule must be a list of instalments", field="payment_schedule"
            )
        schedule = tuple(Instalment.from_value(item) for item in raw)
        if not schedule:
            raise InvalidContractField(
                "payment_schedule needs at least one instalment", field="payment_schedule"
            )
        numbers = [item.number for item in schedule]
        if numbers != list(range(1, len(schedule) + 1)):
            raise InvalidContractField(
                f"instalments must be numbered 1 to {len(schedule)} in order, not {numbers}",
                field="payment_schedule",
            )
        for earlier, later in itertools.pairwise(schedule):
            if later.due_date < earlier.due_date:
                raise InvalidContractField(
                    f"instalment {later.number} is due before instalment {earlier.number}",
                    field="payment_schedule",
                )
        total = Money.zero(self.amount.currency)
        for item in schedule:
            same_currency(f"instalment {item.number}", item.amount, self.amount.currency)
            total = total + item.amount
        if total != self.amount:
            raise ScheduleDoesNotAddUp(
                f"the instalments add up to {total}, not the contract amount {self.amount}",
                total=str(total.amount),
                amount=str(self.amount.amount),
            )
        _set(self, "payment_schedule", schedule)

    def instalment(self, number: int) -> Instalment | None:
        for item in self.payment_schedule:
            if item.number == number:
                return item
        return None

    def as_dict(self) -> dict[str, Any]:
        """The clauses as JSON-friendly data (Money, date, Decimal, str, int, lists, dicts)."""
        return {
            "start_date": self.start_date,
            "end_date": self.end_date,
            "amount": self.amount,
            "payment_schedule": [item.as_dict() for item in self.payment_schedule],
            "delivery": self.delivery.as_dict(),
            "rectification_days": self.rectification_days,
            "confidentiality_years": self.confidentiality_years,
            "penalty_rate": self.penalty_rate,
            "dispute_resolution": self.dispute_resolution.as_dict(),
            "breach_notice_days": self.breach_notice_days,
            "hand_over_days": self.hand_over_days,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Terms:
        return cls(
            start_date=data["start_date"],
            end_date=data["end_date"],
            amount=data["amount"],
            payment_schedule=tuple(
                Instalment.from_value(item) for item in data["payment_schedule"]
            ),
            delivery=Delivery.from_value(data["delivery"]),
            rectification_days=data["rectification_days"],
            confidentiality_years=data["confidentiality_years"],
            penalty_rate=data["penalty_rate"],
            dispute_resolution=DisputeResolution.from_value(data["dispute_resolution"]),
            breach_notice_days=data.get("breach_notice_days", DEFAULT_BREACH_NOTICE_DAYS),
            hand_over_days=data.get("hand_over_days", DEFAULT_HAND_OVER_DAYS),
        )

    def with_changes(self, changes: Mapping[str, Any]) -> Terms:
        """These terms with some clauses replaced (values as objects or as mappings)."""
        unknown = sorted(set(changes) - set(CLAUSES))
        if unknown:
            raise InvalidContractField(
                f"unknown clause(s) {', '.join(unknown)}; the clauses are {', '.join(CLAUSES)}",
                field=unknown[0],
            )
        return dataclasses.replace(self, **dict(changes))


def diff_terms(old: Terms, new: Terms) -> list[dict[str, Any]]:
    """条款对比: the clauses that differ, in contract order, as
    ``{"clause": name, "before": value, "after": value}`` with JSON-friendly values."""
    before, after = old.as_dict(), new.as_dict()
    return [
        {"clause": clause, "before": before[clause], "after": after[clause]}
        for clause in CLAUSES
        if before[clause] != after[clause]
    ]


@dataclass(frozen=True)
class Party:
    """甲方 or 乙方: a customer (referenced by ``customer_id``) or another organisation,
    with the names of those authorised to sign for it (授权签字人)."""

    kind: str
    name: str
    signatories: tuple[str, ...]
    customer_id: UUID | None = None

    def __post_init__(self) -> None:
        kind = choose(PartyKind, self.kind, "party.kind")
        _set(self, "kind", kind.value)
        _set(self, "name", text("party.name", self.name, max_length=200))
        _set(self, "signatories", _signatories("party.signatories", self.signatories))
        if kind == PartyKind.CUSTOMER and not isinstance(self.customer_id, UUID):
            raise InvalidContractField(
                "a customer party needs its customer_id", field="party.customer_id"
            )
        if kind == PartyKind.ORGANISATION and self.customer_id is not None:
            raise InvalidContractField(
                "an organisation party has no customer_id (a customer is of kind customer)",
                field="party.customer_id",
            )

    @classmethod
    def customer(cls, customer_id: UUID, name: str, signatories: Iterable[str]) -> Party:
        return cls(PartyKind.CUSTOMER.value, name, tuple(signatories), customer_id)

    @classmethod
    def organisation(cls, name: str, signatories: Iterable[str]) -> Party:
        return cls(PartyKind.ORGANISATION.value, name, tuple(signatories))


@dataclass(frozen=True)
class Intermediary:
    """第三方中介 with its liability cap (责任限额) and fee (服务费)."""

    name: str
    liability_cap: Money
    fee: Money
    signatories: tuple[str, ...]

    def __post_init__(self) -> None:
        _set(self, "name", text("intermediary.name", self.name, max_length=200))
        money("intermediary.liability_cap", self.liability_cap)
        money("intermediary.fee", self.fee)
        _set(self, "signatories", _signatories("intermediary.signatories", self.signatories))


class _Keep(Enum):
    KEEP = "keep"


#: ``revise(intermediary=KEEP)`` (the default) keeps the intermediary as it is.
KEEP: Final = _Keep.KEEP


# -- the aggregate --------------------------------------------------------------------


class Contract(KehuAggregate):
    """合同: one contract between 甲方 and 乙方 (and perhaps a 第三方中介), from draft to
    settlement, with every signature, amendment, payment and breach."""

    #: State attributes that hold personal data (masked for roles that may not see it).
    PERSONAL_STATE: ClassVar[tuple[str, ...]] = (
        "customer_names",
        "signatories",
        "signatory_names",
        "amendment_signatory_names",
    )

    def data_subject(self, event: object | None = None) -> UUID | None:
        """The first customer party: the customer's name and their signatories are kept
        under that customer's key (an organisation-only contract: the contract's own)."""
        for party in getattr(self, "parties", {}).values():
            if party.get("customer_id") is not None:
                customer_id = party["customer_id"]
                return customer_id if isinstance(customer_id, UUID) else UUID(str(customer_id))
        return self.id

    class Drafted(Aggregate.Created):
        """起草."""

        number: str
        title: str
        parties: dict[str, dict[str, Any]]
        customer_names: PersonalData[dict[str, str]]
        signatories: PersonalData[dict[str, list[str]]]
        intermediary: dict[str, Any] | None
        leading_party: str
        payer: str
        terms: dict[str, Any]
        drafted_at: datetime

    class Revised(Aggregate.Event):
        """修订 (the whole draft restated), with the clause-level diff of the terms."""

        title: str
        parties: dict[str, dict[str, Any]]
        customer_names: PersonalData[dict[str, str]]
        signatories: PersonalData[dict[str, list[str]]]
        intermediary: dict[str, Any] | None
        leading_party: str
        payer: str
        terms: dict[str, Any]
        diff: list[dict[str, Any]]
        note: str | None
        at: datetime

    class AttachmentAdded(Aggregate.Event):
        """附件, identified by its SHA-256."""

        name: str
        sha256: str
        at: datetime

    class SubmittedForReview(Aggregate.Event):
        """提交法务审核."""

        at: datetime

    class Approved(Aggregate.Event):
        """审核通过."""

        reviewer_id: str
        comments: str | None
        at: datetime

    class Rejected(Aggregate.Event):
        """审核驳回, with the reviewer's comments."""

        reviewer_id: str
        comments: str
        at: datetime

    class Signed(Aggregate.Event):
        """签署: one party's signature, final once given."""

        party: str
        signatory: PersonalData[str]
        method: str
        signed_at: datetime

    class SigningCompleted(Aggregate.Event):
        """Every party has signed: the terms become version 1, effective from the start."""

        version: int
        effective_date: date
        at: datetime

    class Activated(Aggregate.Event):
        """生效: signed by every party and the start date reached."""

        at: datetime

    class AmendmentProposed(Aggregate.Event):
        """变更协议 (or 续约) proposed: the full new terms and the clause-level diff."""

        number: int
        kind: str
        base_version: int
        terms: dict[str, Any]
        diff: list[dict[str, Any]]
        effective_date: date
        reason: str
        at: datetime

    class AmendmentSigned(Aggregate.Event):
        number: int
        party: str
        signatory: PersonalData[str]
        method: str
        signed_at: datetime

    class AmendmentConcluded(Aggregate.Event):
        """Every party signed the amendment: it is a new terms version from its date."""

        number: int
        version: int
        effective_date: date
        at: datetime

    class AmendmentWithdrawn(Aggregate.Event):
        number: int
        reason: str
        at: datetime

    class PaymentRecorded(Aggregate.Event):
        """付款 against an instalment of the schedule."""

        instalment: int
        amount: Money
        paid_on: date
        reference: str | None

    class PaymentOverdue(Aggregate.Event):
        """逾期付款: recorded once per instalment."""

        instalment: int
        due_date: date
        outstanding: Money
        as_of: date

    class DeliveryAccepted(Aggregate.Event):
        """验收通过."""

        after_rectification_deadline: bool
        note: str | None
        at: datetime

    class DeliveryRejected(Aggregate.Event):
        """验收不通过: rectification (整改) due by the given day."""

        reasons: list[str]
        rectification_due_on: date
        at: datetime

    class BreachRecorded(Aggregate.Event):
        """违约, with the penalty: base × rate, rounded to the minor unit (``rounding``)."""

        number: int
        party: str
        description: str
        base: Money
        penalty_rate: Decimal
        penalty: Money
        rounding: str
        capped: bool
        at: datetime

    class Dissolved(Aggregate.Event):
        """合同解除."""

        reason: str
        by_party: str | None
        notice_given_on: date | None
        note: str | None
        ended_on: date
        hand_over_due_on: date
        at: datetime

    class Terminated(Aggregate.Event):
        """合同终止."""

        reason: str
        note: str | None
        ended_on: date
        hand_over_due_on: date
        at: datetime

    class Settled(Aggregate.Event):
        """清算: ``balance`` = amount_due − paid + payer's penalties − payee's penalties, owed
        by the payer to the payee (negative: by the payee to the payer)."""

        terms_version: int
        amount_due: Money
        paid: Money
        outstanding: Money
        penalties: dict[str, Money]
        balance: Money
        owed_by: str | None
        owed_to: str | None
        at: datetime

    class DataHandedOver(Aggregate.Event):
        """客户数据移交: the export package of the customer's data and its SHA-256."""

        package_name: str
        sha256: str
        customer_ids: list[UUID]
        due_on: date
        late: bool
        at: datetime

    class HandOverOverdue(Aggregate.Event):
        """The data hand-over deadline passed without a hand-over; recorded once."""

        due_on: date
        as_of: date

    class IntermediaryRemoved(Aggregate.Event):
        """第三方中介退出."""

        name: str
        reason: str
        at: datetime

    @event(Drafted)
    def __init__(
        self,
        id: UUID,
        number: str,
        title: str,
        parties: dict[str, dict[str, Any]],
        customer_names: dict[str, str],
        signatories: dict[str, list[str]],
        intermediary: dict[str, Any] | None,
        leading_party: str,
        payer: str,
        terms: dict[str, Any],
        drafted_at: datetime,
    ) -> None:
        self.number = number
        self._apply_content(
            title, parties, customer_names, signatories, intermediary, leading_party, payer, terms
        )
        self.drafted_at = drafted_at
        self.status = ContractStatus.DRAFT
        self.status_history: list[dict[str, Any]] = []
        self._record_status(ContractStatus.DRAFT, drafted_at)
        #: The version of ``terms``: 1 for the original (also while drafting), +1 per
        #: concluded amendment.
        self.terms_version = 1
        self.term_versions: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.submitted_at: datetime | None = None
        self.approved_at: datetime | None = None
        self.attachments: dict[str, dict[str, Any]] = {}
        self.signatures: dict[str, dict[str, Any]] = {}
        self.signatory_names: dict[str, str] = {}
        self.signed_at: datetime | None = None
        self.activated_at: datetime | None = None
        self.amendments: list[dict[str, Any]] = []
        self.amendment_signatory_names: dict[str, dict[str, str]] = {}
        self.payments: list[dict[str, Any]] = []
        self.overdue_recorded: dict[str, date] = {}
        self.delivery: dict[str, Any] = {
            "status": DeliveryStatus.PENDING.value,
            "rejections": [],
            "rectification_due_on": None,
            "accepted_at": None,
        }
        self.breaches: list[dict[str, Any]] = []
        self.ending: dict[str, Any] | None = None
        self.hand_over_due_on: date | None = None
        self.settlement: dict[str, Any] | None = None
        self.hand_over: dict[str, Any] | None = None
        self.hand_over_overdue_on: date | None = None
        self.intermediary_exit: dict[str, Any] | None = None

    def _apply_content(
        self,
        title: str,
        parties: dict[str, dict[str, Any]],
        customer_names: dict[str, str],
        signatories: dict[str, list[str]],
        intermediary: dict[str, Any] | None,
        leading_party: str,
        payer: str,
        terms: dict[str, Any],
    ) -> None:
        # Copies, so that changing the state never changes a recorded event.
        self.title = title
        self.parties = copy.deepcopy(parties)
        self.customer_names = dict(customer_names)
        self.signatories = copy.deepcopy(signatories)
        self.intermediary = copy.deepcopy(intermediary)
        self.leading_party = leading_party
        self.payer = payer
        self.terms = copy.deepcopy(terms)

    def _record_status(self, status: ContractStatus, at: datetime) -> None:
        self.status = status
        self.status_history.append({"status": status.value, "on": business_day(at)})

    @classmethod
    def draft(
        cls,
        *,
        number: str,
        title: str,
        party_a: Party,
        party_b: Party,
        terms: Terms,
        leading_party: str,
        drafted_at: datetime,
        intermediary: Intermediary | None = None,
        payer: str = PartyRole.A.value,
    ) -> Contract:
        """起草合同. ``payer`` is the party that pays the contract amount (甲方 by default);
        ``leading_party`` (主导) is 甲方 or 乙方."""
        canonical = normalise_contract_number(number)
        content = _content(title, party_a, party_b, intermediary, leading_party, payer, terms)
        return cls(
            id=contract_id(canonical),
            number=canonical,
            drafted_at=instant("drafted_at", drafted_at),
            **content,
        )

    # -- guards ---------------------------------------------------------------------

    def _check_status(self, action: str, allowed: frozenset[ContractStatus]) -> None:
        if self.status not in allowed:
            names = ", ".join(sorted(str(s) for s in allowed))
            raise ContractTransitionRefused(
                f"cannot {action} a contract that is {self.status}"
                f" ({STATUS_LABELS[ContractStatus(self.status)]}); allowed from: {names}",
                current_status=str(self.status),
            )

    def _check_performing(self, action: str) -> None:
        if self.status in BEFORE_SIGNING:
            raise NotAllSigned(
                f"cannot {action} a contract that not every party has signed"
                f" (it is {self.status}); parties still to sign:"
                f" {', '.join(self.unsigned_parties) or 'none'}",
                unsigned=self.unsigned_parties,
            )
        self._check_status(action, PERFORMING)

    def _check_time(
        self, field: str, at: object, *, not_before: datetime | None = None, what: str = ""
    ) -> datetime:
        moment = instant(field, at)
        if moment < self.drafted_at:
            raise TimeOrderRefused(
                f"{field} ({moment.isoformat()}) is before the contract was drafted"
                f" ({self.drafted_at.isoformat()})",
                field=field,
            )
        if not_before is not None and moment < not_before:
            raise TimeOrderRefused(
                f"{field} ({moment.isoformat()}) is before {what} ({not_before.isoformat()})",
                field=field,
            )
        return moment

    def _role(self, party: str, field: str = "party") -> str:
        role = choose(PartyRole, party, field).value
        if role == PartyRole.INTERMEDIARY and self.intermediary is None:
            raise NoIntermediary(f"the contract has no {ROLE_LABELS[PartyRole.INTERMEDIARY]}")
        return role

    def _check_signatory(self, role: str, signatory: str) -> str:
        name = text("signatory", signatory, max_length=50)
        if name not in self.signatories.get(role, []):
            raise SignatoryNotAuthorised(
                f"the signatory is not authorised to sign for"
                f" {ROLE_LABELS[PartyRole(role)]} ({role})",
                party=role,
            )
        return name

    # -- drafting and review ----------------------------------------------------------

    def revise(
        self,
        at: datetime,
        *,
        title: str | None = None,
        party_a: Party | None = None,
        party_b: Party | None = None,
        intermediary: Intermediary | Literal[_Keep.KEEP] | None = KEEP,
        terms: Terms | Mapping[str, Any] | None = None,
        leading_party: str | None = None,
        payer: str | None = None,
        note: str | None = None,
    ) -> None:
        """修订: restate the draft; anything not given stays. Revising an approved draft
        sends it back to draft, and it needs a new review."""
        self._check_status("revise", REVISABLE)
        current_terms = self.current_terms
        if terms is None:
            new_terms = current_terms
        elif isinstance(terms, Terms):
            new_terms = terms
        elif isinstance(terms, Mapping):
            new_terms = current_terms.with_changes(terms)
        else:
            raise InvalidContractField("terms must be Terms or clause changes", field="terms")
        content = _content(
            self.title if title is None else title,
            self._party(PartyRole.A) if party_a is None else party_a,
            self._party(PartyRole.B) if party_b is None else party_b,
            self._intermediary_value() if intermediary is KEEP else intermediary,
            self.leading_party if leading_party is None else leading_party,
            self.payer if payer is None else payer,
            new_terms,
        )
        if content == self._current_content():
            raise NothingChanged("the revision changes nothing in the draft")
        self._revised(
            **content,
            diff=diff_terms(current_terms, new_terms),
            note=optional_text("note", note, max_length=1000),
            at=self._check_time("at", at),
        )

    @event(Revised)
    def _revised(
        self,
        title: str,
        parties: dict[str, dict[str, Any]],
        customer_names: dict[str, str],
        signatories: dict[str, list[str]],
        intermediary: dict[str, Any] | None,
        leading_party: str,
        payer: str,
        terms: dict[str, Any],
        diff: list[dict[str, Any]],
        note: str | None,
        at: datetime,
    ) -> None:
        self._apply_content(
            title, parties, customer_names, signatories, intermediary, leading_party, payer, terms
        )
        self.approved_at = None
        self.submitted_at = None
        if self.status != ContractStatus.DRAFT:
            self._record_status(ContractStatus.DRAFT, at)

    def add_attachment(self, name: str, sha256: str, at: datetime) -> None:
        """附件 by name and SHA-256, while the contract is drafted or reviewed."""
        self._check_status("add an attachment to", ATTACHABLE)
        clean_name = text("name", name, max_length=200)
        digest = sha256_hex(sha256)
        if clean_name in self.attachments:
            raise DuplicateAttachment(
                f"the contract already has an attachment named {clean_name!r}", name=clean_name
            )
        self._attachment_added(name=clean_name, sha256=digest, at=self._check_time("at", at))

    @event(AttachmentAdded)
    def _attachment_added(self, name: str, sha256: str, at: datetime) -> None:
        self.attachments[name] = {"sha256": sha256, "added_at": at}

    def submit_for_review(self, at: datetime) -> None:
        """提交法务审核."""
        self._check_status(
            "submit for review", frozenset({ContractStatus.DRAFT, ContractStatus.REJECTED})
        )
        self._submitted_for_review(at=self._check_time("at", at))

    @event(SubmittedForReview)
    def _submitted_for_review(self, at: datetime) -> None:
        self.submitted_at = at
        self._record_status(ContractStatus.IN_REVIEW, at)

    def approve(self, reviewer_id: str, at: datetime, comments: str | None = None) -> None:
        """审核通过 by legal."""
        self._check_status("approve", frozenset({ContractStatus.IN_REVIEW}))
        self._approved(
            reviewer_id=text("reviewer_id", reviewer_id, max_length=64),
            comments=optional_text("comments", comments, max_length=2000),
            at=self._check_time(
                "at", at, not_before=self.submitted_at, what="the submission for review"
            ),
        )

    @event(Approved)
    def _approved(self, reviewer_id: str, comments: str | None, at: datetime) -> None:
        self.approved_at = at
        self.reviews.append(
            {"decision": "approved", "reviewer_id": reviewer_id, "comments": comments, "at": at}
        )
        self._record_status(ContractStatus.APPROVED, at)

    def reject(self, reviewer_id: str, comments: str, at: datetime) -> None:
        """审核驳回, with comments saying what to change."""
        self._check_status("reject", frozenset({ContractStatus.IN_REVIEW}))
        self._rejected(
            reviewer_id=text("reviewer_id", reviewer_id, max_length=64),
            comments=text("comments", comments, max_length=2000),
            at=self._check_time(
                "at", at, not_before=self.submitted_at, what="the submission for review"
            ),
        )

    @event(Rejected)
    def _rejected(self, reviewer_id: str, comments: str, at: datetime) -> None:
        self.reviews.append(
            {"decision": "rejected", "reviewer_id": reviewer_id, "comments": comments, "at": at}
        )
        self._record_status(ContractStatus.REJECTED, at)

    # -- signing ----------------------------------------------------------------------

    def sign(self, party: str, signatory: str, signed_at: datetime, method: str) -> None:
        """签署 for one party by one of its authorised signatories. A party signs once; a
        signature can never be changed. When the last party signs, the terms become
        version 1; if the start date is reached, the contract is in force at once."""
        role = choose(PartyRole, party, "party").value
        if role in self.signatures:
            raise AlreadySigned(
                f"{ROLE_LABELS[PartyRole(role)]} ({role}) has already signed; a signature"
                " cannot be changed",
                party=role,
            )
        self._check_status("sign", frozenset({ContractStatus.APPROVED, ContractStatus.SIGNING}))
        role = self._role(role)
        name = self._check_signatory(role, signatory)
        how = choose(SignatureMethod, method, "method").value
        at = self._check_time(
            "signed_at", signed_at, not_before=self.approved_at, what="the legal approval"
        )
        self._signed(party=role, signatory=name, method=how, signed_at=at)
        if not self.unsigned_parties:
            start = self.current_terms.start_date
            self._signing_completed(version=1, effective_date=start, at=at)
            if business_day(at) >= start:
                self._activated(at=at)

    @event(Signed)
    def _signed(self, party: str, signatory: str, method: str, signed_at: datetime) -> None:
        self.signatures[party] = {"method": method, "signed_at": signed_at}
        self.signatory_names[party] = signatory
        if self.status == ContractStatus.APPROVED:
            self._record_status(ContractStatus.SIGNING, signed_at)

    @event(SigningCompleted)
    def _signing_completed(self, version: int, effective_date: date, at: datetime) -> None:
        self.signed_at = at
        self.terms_version = version
        self.term_versions.append(
            {
                "version": version,
                "effective_date": effective_date,
                "terms": copy.deepcopy(self.terms),
                "amendment": None,
                "kind": "original",
                "diff": [],
            }
        )
        self._record_status(ContractStatus.SIGNED, at)

    def activate(self, at: datetime) -> None:
        """生效: recorded (once) by the scheduler when the start date of a signed contract
        arrives."""
        if self.status in BEFORE_SIGNING:
            self._check_performing("activate")
        self._check_status("activate", frozenset({ContractStatus.SIGNED}))
        moment = self._check_time("at", at, not_before=self.signed_at, what="the signing")
        start = self._original_terms().start_date
        if business_day(moment) < start:
            raise StartDateNotReached(
                f"the contract starts on {start}; it cannot be in force on {business_day(moment)}",
                start_date=start.isoformat(),
            )
        self._activated(at=moment)

    @event(Activated)
    def _activated(self, at: datetime) -> None:
        self.activated_at = at
        self._record_status(ContractStatus.IN_FORCE, at)

    # -- amendments and renewal -------------------------------------------------------

    def propose_amendment(
        self,
        number: int,
        changes: Terms | Mapping[str, Any],
        effective_date: date,
        reason: str,
        at: datetime,
    ) -> None:
        """变更协议 number ``number`` (1, 2, … in order): the full new terms, or only the
        changed clauses. It is in force only once every party has signed it."""
        self._propose(number, changes, effective_date, reason, at, AmendmentKind.CHANGE)

    def renew(
        self,
        number: int,
        new_end_date: date,
        effective_date: date,
        reason: str,
        at: datetime,
        *,
        amount: Money | None = None,
        payment_schedule: Iterable[Instalment | Mapping[str, Any]] | None = None,
    ) -> None:
        """续约 as the numbered amendment ``number``: a later end date (and, if the amount
        changes, the whole new payment schedule), agreed before the contract ends."""
        self._check_performing("renew")
        end = calendar_day("new_end_date", new_end_date)
        current = self.current_terms
        if end <= current.end_date:
            raise InvalidAmendment(
                f"a renewal extends the end date beyond {current.end_date}, not to {end}",
                field="new_end_date",
            )
        if (amount is None) != (payment_schedule is None):
            raise InvalidAmendment(
                "a renewal that changes the amount restates the payment schedule with it",
                field="payment_schedule",
            )
        changes: dict[str, Any] = {"end_date": end}
        if amount is not None and payment_schedule is not None:
            changes["amount"] = amount
            changes["payment_schedule"] = tuple(payment_schedule)
        self._propose(number, changes, effective_date, reason, at, AmendmentKind.RENEWAL)

    def _propose(
        self,
        number: int,
        changes: Terms | Mapping[str, Any],
        effective_date: date,
        reason: str,
        at: datetime,
        kind: AmendmentKind,
    ) -> None:
        self._check_performing("amend")
        number = whole("number", number, 1, 10_000)
        pending = self._pending_amendment()
        if pending is not None:
            raise AmendmentPending(
                f"amendment {pending['number']} is still awaiting signatures; sign or"
                " withdraw it first",
                pending=pending["number"],
            )
        expected = len(self.amendments) + 1
        if number != expected:
            raise AmendmentNumberOutOfSequence(
                f"the next amendment is number {expected}, not {number}", expected=expected
            )
        effective = calendar_day("effective_date", effective_date)
        current = self.current_terms
        if isinstance(changes, Terms):
            new = changes
        elif isinstance(changes, Mapping):
            new = current.with_changes(changes)
        else:
            raise InvalidContractField(
                "an amendment gives new Terms or clause changes", field="changes"
            )
        if new.start_date != current.start_date:
            raise InvalidAmendment(
                "the start date cannot be amended once signed", field="start_date"
            )
        same_currency("amount", new.amount, current.amount.currency)
        latest_effective: date = self.term_versions[-1]["effective_date"]
        if effective < latest_effective:
            raise InvalidAmendment(
                f"an amendment takes effect on or after {latest_effective} (the start or the"
                f" latest version's effective date), not on {effective}",
                field="effective_date",
            )
        if effective > current.end_date:
            raise InvalidAmendment(
                f"an amendment takes effect by the end date {current.end_date}, not on {effective}",
                field="effective_date",
            )
        if new.end_date < effective:
            raise InvalidAmendment(
                f"the amended end date {new.end_date} is before the amendment takes effect"
                f" ({effective})",
                field="end_date",
            )
        diff = diff_terms(current, new)
        if not diff:
            raise NothingChanged("the amendment changes no clause")
        self._check_schedule_covers_payments(new)
        self._amendment_proposed(
            number=number,
            kind=kind.value,
            base_version=self.terms_version,
            terms=new.as_dict(),
            diff=diff,
            effective_date=effective,
            reason=text("reason", reason, max_length=2000),
            at=self._check_time("at", at, not_before=self.signed_at, what="the signing"),
        )

    @event(AmendmentProposed)
    def _amendment_proposed(
        self,
        number: int,
        kind: str,
        base_version: int,
        terms: dict[str, Any],
        diff: list[dict[str, Any]],
        effective_date: date,
        reason: str,
        at: datetime,
    ) -> None:
        self.amendments.append(
            {
                "number": number,
                "kind": kind,
                "base_version": base_version,
                "terms": copy.deepcopy(terms),
                "diff": copy.deepcopy(diff),
                "effective_date": effective_date,
                "reason": reason,
                "proposed_at": at,
                "status": AmendmentStatus.PENDING.value,
                "signatures": {},
                "version": None,
                "concluded_at": None,
                "withdrawn": None,
            }
        )
        self.amendment_signatory_names[str(number)] = {}

    def sign_amendment(
        self, number: int, party: str, signatory: str, signed_at: datetime, method: str
    ) -> None:
        """签署变更协议. When every party has signed, the amendment is a new terms version
        from its effective date."""
        self._check_performing("sign an amendment to")
        amendment = self._amendment(number)
        role = choose(PartyRole, party, "party").value
        if amendment["status"] == AmendmentStatus.IN_FORCE:
            raise AmendmentAlreadyInForce(
                f"amendment {amendment['number']} is already signed by every party"
            )
        if amendment["status"] == AmendmentStatus.WITHDRAWN:
            raise ContractTransitionRefused(
                f"amendment {amendment['number']} was withdrawn", current_status="withdrawn"
            )
        if role in amendment["signatures"]:
            raise AlreadySigned(
                f"{ROLE_LABELS[PartyRole(role)]} ({role}) has already signed amendment"
                f" {amendment['number']}; a signature cannot be changed",
                party=role,
            )
        role = self._role(role)
        name = self._check_signatory(role, signatory)
        how = choose(SignatureMethod, method, "method").value
        at = self._check_time(
            "signed_at", signed_at, not_before=amendment["proposed_at"], what="the proposal"
        )
        unsigned = [r for r in self.required_parties if r not in amendment["signatures"]]
        completes = unsigned == [role]
        if completes:
            self._check_schedule_covers_payments(Terms.from_dict(amendment["terms"]))
        self._amendment_signed(
            number=amendment["number"], party=role, signatory=name, method=how, signed_at=at
        )
        if completes:
            self._amendment_concluded(
                number=amendment["number"],
                version=self.terms_version + 1,
                effective_date=amendment["effective_date"],
                at=at,
            )

    @event(AmendmentSigned)
    def _amendment_signed(
        self, number: int, party: str, signatory: str, method: str, signed_at: datetime
    ) -> None:
        self.amendments[number - 1]["signatures"][party] = {
            "method": method,
            "signed_at": signed_at,
        }
        self.amendment_signatory_names[str(number)][party] = signatory

    @event(AmendmentConcluded)
    def _amendment_concluded(
        self, number: int, version: int, effective_date: date, at: datetime
    ) -> None:
        amendment = self.amendments[number - 1]
        amendment["status"] = AmendmentStatus.IN_FORCE.value
        amendment["version"] = version
        amendment["concluded_at"] = at
        self.terms = copy.deepcopy(amendment["terms"])
        self.terms_version = version
        self.term_versions.append(
            {
                "version": version,
                "effective_date": effective_date,
                "terms": copy.deepcopy(amendment["terms"]),
                "amendment": number,
                "kind": amendment["kind"],
                "diff": copy.deepcopy(amendment["diff"]),
            }
        )

    def withdraw_amendment(self, number: int, reason: str, at: datetime) -> None:
        """撤回 an amendment not yet signed by every party; its number stays used."""
        self._check_performing("withdraw an amendment to")
        amendment = self._amendment(number)
        if amendment["status"] == AmendmentStatus.IN_FORCE:
            raise AmendmentAlreadyInForce(
                f"amendment {amendment['number']} is signed by every party and in force"
            )
        if amendment["status"] == AmendmentStatus.WITHDRAWN:
            raise ContractTransitionRefused(
                f"amendment {amendment['number']} was already withdrawn",
                current_status="withdrawn",
            )
        self._amendment_withdrawn(
            number=amendment["number"],
            reason=text("reason", reason, max_length=2000),
            at=self._check_time("at", at, not_before=amendment["proposed_at"], what="the proposal"),
        )

    @event(AmendmentWithdrawn)
    def _amendment_withdrawn(self, number: int, reason: str, at: datetime) -> None:
        self.amendments[number - 1]["status"] = AmendmentStatus.WITHDRAWN.value
        self.amendments[number - 1]["withdrawn"] = {"reason": reason, "at": at}

    def _amendment(self, number: int) -> dict[str, Any]:
        n = whole("number", number, 1, 10_000)
        if n > len(self.amendments):
            raise UnknownAmendment(f"the contract has no amendment {n}", number=n)
        return self.amendments[n - 1]

    def _pending_amendment(self) -> dict[str, Any] | None:
        for amendment in self.amendments:
            if amendment["status"] == AmendmentStatus.PENDING:
                return amendment
        return None

    def _check_schedule_covers_payments(self, terms: Terms) -> None:
        for key, paid in self._paid_by_instalment().items():
            instalment = terms.instalment(int(key))
            due = instalment.amount if instalment else Money.zero(paid.currency)
            if paid > due:
                raise ScheduleBelowPaid(
                    f"instalment {key} has {paid} paid already; the amended schedule would"
                    f" make it {due}",
                    instalment=int(key),
                    paid=str(paid.amount),
                )

    # -- the intermediary ------------------------------------------------------------

    def remove_intermediary(self, reason: str, at: datetime) -> None:
        """第三方中介退出 (exit mechanism): later amendments need only 甲方 and 乙方. Its
        penalties already recorded still count in the settlement."""
        if self.intermediary is None:
            raise NoIntermediary("the contract has no intermediary (第三方中介) to remove")
        self._check_performing("remove the intermediary of")
        pending = self._pending_amendment()
        if pending is not None:
            raise AmendmentPending(
                f"amendment {pending['number']} awaits signatures; sign or withdraw it before"
                " the intermediary leaves",
                pending=pending["number"],
            )
        self._intermediary_removed(
            name=self.intermediary["name"],
            reason=text("reason", reason, max_length=2000),
            at=self._check_time("at", at, not_before=self.signed_at, what="the signing"),
        )

    @event(IntermediaryRemoved)
    def _intermediary_removed(self, name: str, reason: str, at: datetime) -> None:
        self.intermediary_exit = {
            **copy.deepcopy(self.intermediary or {}),
            "reason": reason,
            "at": at,
        }
        self.intermediary = None

    # -- performance: payments, delivery, breaches -----------------------------------

    def record_payment(
        self, instalment: int, amount: Money, paid_on: date, reference: str | None = None
    ) -> None:
        """付款 against an instalment; more than its outstanding amount is refused."""
        self._check_accounts_open("record a payment on")
        item = self._instalment(instalment)
        paid = same_currency("amount", money("amount", amount, positive=True), item.amount.currency)
        day = calendar_day("paid_on", paid_on)
        if day < business_day(self.drafted_at):
            raise TimeOrderRefused(
                f"paid_on ({day}) is before the contract was drafted", field="paid_on"
            )
        outstanding = self.outstanding(item.number)
        if paid > outstanding:
            raise Overpayment(
                f"instalment {item.number} has {outstanding} outstanding; {paid} is too much",
                instalment=item.number,
                outstanding=str(outstanding.amount),
            )
        self._payment_recorded(
            instalment=item.number,
            amount=paid,
            paid_on=day,
            reference=optional_text("reference", reference, max_length=100),
        )

    @event(PaymentRecorded)
    def _payment_recorded(
        self, instalment: int, amount: Money, paid_on: date, reference: str | None
    ) -> None:
        self.payments.append(
            {"instalment": instalment, "amount": amount, "paid_on": paid_on, "reference": reference}
        )

    def mark_payment_overdue(self, instalment: int, as_of: date) -> None:
        """逾期付款: recorded once per instalment, by the scheduler, when the instalment is
        unpaid (in part) after its due date."""
        self._check_accounts_open("record an overdue payment on")
        item = self._instalment(instalment)
        day = calendar_day("as_of", as_of)
        if str(item.number) in self.overdue_recorded:
            raise OverdueAlreadyRecorded(
                f"instalment {item.number} was already recorded overdue"
                f" (as of {self.overdue_recorded[str(item.number)]})",
                instalment=item.number,
            )
        outstanding = self.outstanding(item.number, as_of=day)
        if day <= item.due_date or outstanding.is_zero():
            raise PaymentNotOverdue(
                f"instalment {item.number} (due {item.due_date}, {outstanding} outstanding)"
                f" is not overdue on {day}",
                instalment=item.number,
            )
        self._payment_overdue(
            instalment=item.number, due_date=item.due_date, outstanding=outstanding, as_of=day
        )

    @event(PaymentOverdue)
    def _payment_overdue(
        self, instalment: int, due_date: date, outstanding: Money, as_of: date
    ) -> None:
        self.overdue_recorded[str(instalment)] = as_of

    def accept_delivery(self, at: datetime, note: str | None = None) -> None:
        """验收通过 (also of a re-delivery after rectification)."""
        self._check_performing("accept the delivery of")
        if self.delivery["status"] == DeliveryStatus.ACCEPTED:
            raise DeliveryAlreadyAccepted("the delivery was already accepted")
        moment = self._check_time("at", at, not_before=self.signed_at, what="the signing")
        due: date | None = self.delivery["rectification_due_on"]
        self._delivery_accepted(
            after_rectification_deadline=due is not None and business_day(moment) > due,
            note=optional_text("note", note, max_length=1000),
            at=moment,
        )

    @event(DeliveryAccepted)
    def _delivery_accepted(
        self, after_rectification_deadline: bool, note: str | None, at: datetime
    ) -> None:
        self.delivery["status"] = DeliveryStatus.ACCEPTED.value
        self.delivery["accepted_at"] = at

    def reject_delivery(self, reasons: Iterable[str], at: datetime) -> None:
        """验收不通过: rectification (整改) is due ``rectification_days`` calendar days
        after the rejection day (Asia/Shanghai)."""
        self._check_performing("reject the delivery of")
        if self.delivery["status"] == DeliveryStatus.ACCEPTED:
            raise DeliveryAlreadyAccepted("the delivery was already accepted")
        if isinstance(reasons, str) or not isinstance(reasons, Iterable):
            raise InvalidContractField("reasons must be a list of reasons", field="reasons")
        cleaned = [text("reasons", reason, max_length=500) for reason in reasons]
        if not cleaned:
            raise InvalidContractField("a rejection gives at least one reason", field="reasons")
        moment = self._check_time("at", at, not_before=self.signed_at, what="the signing")
        day = business_day(moment)
        days = self._governing_terms(day).rectification_days
        self._delivery_rejected(
            reasons=cleaned, rectification_due_on=day + timedelta(days=days), at=moment
        )

    @event(DeliveryRejected)
    def _delivery_rejected(
        self, reasons: list[str], rectification_due_on: date, at: datetime
    ) -> None:
        self.delivery["status"] = DeliveryStatus.REJECTED.value
        self.delivery["rectification_due_on"] = rectification_due_on
        self.delivery["rejections"].append(
            {"reasons": list(reasons), "at": at, "rectification_due_on": rectification_due_on}
        )

    def record_breach(self, party: str, description: str, base: Money, at: datetime) -> None:
        """违约: the penalty is ``base`` × the penalty rate of the terms governing on the
        breach day, rounded to the currency's minor unit with ROUND_HALF_UP. An
        intermediary's penalties together never exceed its liability cap."""
        self._check_accounts_open("record a breach of")
        role = self._role(party)
        what = text("description", description, max_length=2000)
        amount = self.current_terms.amount
        base_amount = same_currency("base", money("base", base, positive=True), amount.currency)
        moment = self._check_time("at", at, not_before=self.signed_at, what="the signing")
        rate = self._governing_terms(business_day(moment)).penalty_rate
        penalty = base_amount.multiply(rate, PENALTY_ROUNDING)
        capped = False
        if role == PartyRole.INTERMEDIARY:
            assert self.intermediary is not None
            remaining = self.intermediary["liability_cap"] - self.penalties_owed().get(
                role, Money.zero(amount.currency)
            )
            if penalty > remaining:
                penalty, capped = remaining, True
        self._breach_recorded(
            number=len(self.breaches) + 1,
            party=role,
            description=what,
            base=base_amount,
            penalty_rate=rate,
            penalty=penalty,
            rounding=PENALTY_ROUNDING,
            capped=capped,
            at=moment,
        )

    @event(BreachRecorded)
    def _breach_recorded(
        self,
        number: int,
        party: str,
        description: str,
        base: Money,
        penalty_rate: Decimal,
        penalty: Money,
        rounding: str,
        capped: bool,
        at: datetime,
    ) -> None:
        self.breaches.append(
            {
                "number": number,
                "party": party,
                "description": description,
                "base": base,
                "penalty_rate": penalty_rate,
                "penalty": penalty,
                "capped": capped,
                "at": at,
            }
        )

    # -- ending ---------------------------------------------------------------------

    def dissolve(
        self,
        reason: str,
        at: datetime,
        *,
        by_party: str | None = None,
        notice_given_on: date | None = None,
        note: str | None = None,
    ) -> None:
        """合同解除: by mutual agreement, for force majeure, or by ``by_party`` for the
        other side's material breach — only once a breach by another party is recorded on
        or before the notice day, and ``breach_notice_days`` after the notice."""
        self._check_performing("dissolve")
        why = choose(DissolutionReason, reason, "reason")
        moment = self._check_time("at", at, not_before=self.signed_at, what="the signing")
        day = business_day(moment)
        by: str | None = None
        if by_party is not None:
            by = choose(PartyRole, by_party, "by_party").value
            if by == PartyRole.INTERMEDIARY:
                raise InvalidContractField(
                    "only 甲方 or 乙方 dissolves the contract", field="by_party"
                )
        notice: date | None = None
        if notice_given_on is not None:
            notice = calendar_day("notice_given_on", notice_given_on)
            if notice > day:
                raise InvalidContractField(
                    f"the notice ({notice}) is after the dissolution ({day})",
                    field="notice_given_on",
                )
        terms = self._governing_terms(day)
        if why == DissolutionReason.MATERIAL_BREACH:
            if by is None or notice is None:
                raise InvalidContractField(
                    "a dissolution for material breach names the dissolving party and the"
                    " day notice was given",
                    field="by_party" if by is None else "notice_given_on",
                )
            breaches = [
                b for b in self.breaches if b["party"] != by and business_day(b["at"]) <= notice
            ]
            if not breaches:
                raise NoBreachRecorded(
                    f"no breach by another party than {by} is recorded on or before the"
                    f" notice of {notice}",
                    by_party=by,
                )
            allowed_from = notice + timedelta(days=terms.breach_notice_days)
            if day < allowed_from:
                raise NoticePeriodRunning(
                    f"the {terms.breach_notice_days}-day notice period from {notice} runs until"
                    f" {allowed_from}; the contract can be dissolved from then",
                    allowed_from=allowed_from.isoformat(),
                )
        self._dissolved(
            reason=why.value,
            by_party=by,
            notice_given_on=notice,
            note=optional_text("note", note, max_length=2000),
            ended_on=day,
            hand_over_due_on=day + timedelta(days=terms.hand_over_days),
            at=moment,
        )

    @event(Dissolved)
    def _dissolved(
        self,
        reason: str,
        by_party: str | None,
        notice_given_on: date | None,
        note: str | None,
        ended_on: date,
        hand_over_due_on: date,
        at: datetime,
    ) -> None:
        self.ending = {
            "kind": ContractStatus.DISSOLVED.value,
            "reason": reason,
            "by_party": by_party,
            "notice_given_on": notice_given_on,
            "note": note,
            "on": ended_on,
            "at": at,
        }
        self.hand_over_due_on = hand_over_due_on
        self._record_status(ContractStatus.DISSOLVED, at)

    def terminate(self, reason: str, at: datetime, note: str | None = None) -> None:
        """合同终止: on expiry (on or after the end date) or by mutual agreement."""
        self._check_performing("terminate")
        why = choose(TerminationReason, reason, "reason")
        moment = self._check_time("at", at, not_before=self.signed_at, what="the signing")
        day = business_day(moment)
        terms = self._governing_terms(day)
        if why == TerminationReason.EXPIRY and day < terms.end_date:
            raise NotYetExpired(
                f"the contract runs until {terms.end_date}; it does not expire on {day}",
                end_date=terms.end_date.isoformat(),
            )
        # Expiry ends the contract on its end date, however late it is recorded.
        ended_on = terms.end_date if why == TerminationReason.EXPIRY else day
        self._terminated(
            reason=why.value,
            note=optional_text("note", note, max_length=2000),
            ended_on=ended_on,
            hand_over_due_on=ended_on + timedelta(days=terms.hand_over_days),
            at=moment,
        )

    @event(Terminated)
    def _terminated(
        self, reason: str, note: str | None, ended_on: date, hand_over_due_on: date, at: datetime
    ) -> None:
        self.ending = {
            "kind": ContractStatus.TERMINATED.value,
            "reason": reason,
            "by_party": None,
            "notice_given_on": None,
            "note": note,
            "on": ended_on,
            "at": at,
        }
        self.hand_over_due_on = hand_over_due_on
        self._record_status(ContractStatus.TERMINATED, at)

    def settle(self, at: datetime, *, amount_due: Money | None = None) -> None:
        """清算 after the contract ended. ``amount_due`` is the amount under the terms
        governing on the ending day unless the parties agreed another (e.g. in the
        dissolution agreement). balance = due − paid + payer's penalties − payee's."""
        self._check_status("settle", ENDED)
        assert self.ending is not None
        moment = self._check_time("at", at, not_before=self.ending["at"], what="the ending")
        ended_on: date = self.ending["on"]
        entry = self._version_entry_governing(ended_on)
        terms = Terms.from_dict(entry["terms"])
        currency = terms.amount.currency
        due = (
            terms.amount
            if amount_due is None
            else same_currency("amount_due", money("amount_due", amount_due), currency)
        )
        paid = self.paid_total()
        penalties = self.penalties_owed()
        payee = PartyRole.B.value if self.payer == PartyRole.A else PartyRole.A.value
        balance = due - paid + penalties[self.payer] - penalties[payee]
        owed_by: str | None = None
        owed_to: str | None = None
        if balance.is_negative():
            owed_by, owed_to = payee, self.payer
        elif not balance.is_zero():
            owed_by, owed_to = self.payer, payee
        self._settled(
            terms_version=entry["version"],
            amount_due=due,
            paid=paid,
            outstanding=due - paid,
            penalties=penalties,
            balance=balance,
            owed_by=owed_by,
            owed_to=owed_to,
            at=moment,
        )

    @event(Settled)
    def _settled(
        self,
        terms_version: int,
        amount_due: Money,
        paid: Money,
        outstanding: Money,
        penalties: dict[str, Money],
        balance: Money,
        owed_by: str | None,
        owed_to: str | None,
        at: datetime,
    ) -> None:
        self.settlement = {
            "terms_version": terms_version,
            "amount_due": amount_due,
            "paid": paid,
            "outstanding": outstanding,
            "penalties": dict(penalties),
            "balance": balance,
            "owed_by": owed_by,
            "owed_to": owed_to,
            "at": at,
        }
        self._record_status(ContractStatus.SETTLED, at)

    def hand_over_data(self, package_name: str, sha256: str, at: datetime) -> None:
        """客户数据移交: the export package of the customer's data, with its SHA-256, due
        ``hand_over_days`` after the ending day; a late hand-over is recorded as late."""
        self._check_status("hand over the data of", AFTER_END)
        if self.hand_over is not None:
            raise DataAlreadyHandedOver(
                f"the data was handed over on {self.hand_over['at'].isoformat()}"
            )
        assert self.ending is not None
        assert self.hand_over_due_on is not None
        name = text("package_name", package_name, max_length=200)
        digest = sha256_hex(sha256)
        moment = self._check_time("at", at, not_before=self.ending["at"], what="the ending")
        self._data_handed_over(
            package_name=name,
            sha256=digest,
            customer_ids=[
                p["customer_id"] for p in self.parties.values() if p["customer_id"] is not None
            ],
            due_on=self.hand_over_due_on,
            late=business_day(moment) > self.hand_over_due_on,
            at=moment,
        )

    @event(DataHandedOver)
    def _data_handed_over(
        self,
        package_name: str,
        sha256: str,
        customer_ids: list[UUID],
        due_on: date,
        late: bool,
        at: datetime,
    ) -> None:
        self.hand_over = {
            "package_name": package_name,
            "sha256": sha256,
            "customer_ids": list(customer_ids),
            "late": late,
            "at": at,
        }

    def mark_hand_over_overdue(self, as_of: date) -> None:
        """The hand-over deadline passed with no hand-over: recorded once, by the scheduler."""
        self._check_status("record an overdue hand-over of", AFTER_END)
        day = calendar_day("as_of", as_of)
        if self.hand_over is not None:
            raise DataAlreadyHandedOver("the data was already handed over")
        if self.hand_over_overdue_on is not None:
            raise HandOverOverdueAlreadyRecorded(
                f"the overdue hand-over was already recorded (as of {self.hand_over_overdue_on})"
            )
        assert self.hand_over_due_on is not None
        if day <= self.hand_over_due_on:
            raise HandOverNotOverdue(
                f"the data hand-over is due by {self.hand_over_due_on}; on {day} it is not overdue",
                due_on=self.hand_over_due_on.isoformat(),
            )
        self._hand_over_overdue(due_on=self.hand_over_due_on, as_of=day)

    @event(HandOverOverdue)
    def _hand_over_overdue(self, due_on: date, as_of: date) -> None:
        self.hand_over_overdue_on = as_of

    def _check_accounts_open(self, action: str) -> None:
        if self.status in BEFORE_SIGNING:
            self._check_performing(action)
        self._check_status(action, OPEN_ACCOUNTS)

    # -- queries --------------------------------------------------------------------

    @property
    def required_parties(self) -> list[str]:
        """Who must sign: 甲方, 乙方, and the intermediary while there is one."""
        roles = [PartyRole.A.value, PartyRole.B.value]
        if self.intermediary is not None:
            roles.append(PartyRole.INTERMEDIARY.value)
        return roles

    @property
    def unsigned_parties(self) -> list[str]:
        if self.term_versions:
            return []
        return [role for role in self.required_parties if role not in self.signatures]

    @property
    def current_terms(self) -> Terms:
        """The latest agreed terms (the draft's terms before signing)."""
        return Terms.from_dict(self.terms)

    def terms_as_of(self, day: date) -> Terms:
        """The terms in force on ``day``: those of the latest version signed by every party
        whose effective date is on or before ``day`` (version 1 from the start date).
        Unsigned amendments never count."""
        return Terms.from_dict(self._version_entry_as_of(day)["terms"])

    def version_as_of(self, day: date) -> int:
        return int(self._version_entry_as_of(day)["version"])

    def terms_versions(self) -> list[dict[str, Any]]:
        """Every signed version: version, effective_date, terms, amendment, kind, diff."""
        return copy.deepcopy(self.term_versions)

    def amendment_history(self) -> list[dict[str, Any]]:
        """Every amendment with its status, effective date, diff and signatures (without the
        signatories' names)."""
        return [
            {
                "number": a["number"],
                "kind": a["kind"],
                "status": a["status"],
                "effective_date": a["effective_date"],
                "reason": a["reason"],
                "diff": copy.deepcopy(a["diff"]),
                "signatures": copy.deepcopy(a["signatures"]),
                "version": a["version"],
            }
            for a in self.amendments
        ]

    def version_of_amendment(self, number: int) -> int:
        """The terms version an amendment made, refused while not every party signed it."""
        amendment = self._amendment(number)
        if amendment["status"] != AmendmentStatus.IN_FORCE:
            unsigned = [r for r in self.required_parties if r not in amendment["signatures"]]
            raise AmendmentNotInForce(
                f"amendment {amendment['number']} is {amendment['status']}, not in force;"
                f" still to sign: {', '.join(unsigned) or 'none'}",
                number=amendment["number"],
            )
        return int(amendment["version"])

    def status_on(self, day: date) -> ContractStatus | None:
        """The status on ``day`` from the recorded facts, with the start date deriving
        ``in_force`` for a signed contract before the scheduler records it. ``None``
        before the contract was drafted."""
        calendar_day("day", day)
        found: ContractStatus | None = None
        for entry in self.status_history:
            if entry["on"] <= day:
                found = ContractStatus(entry["status"])
        if found == ContractStatus.SIGNED and day >= self._original_terms().start_date:
            return ContractStatus.IN_FORCE
        return found

    def in_force_on(self, day: date) -> bool:
        return self.status_on(day) == ContractStatus.IN_FORCE

    def paid_total(self, as_of: date | None = None) -> Money:
        total = Money.zero(self.current_terms.amount.currency)
        for payment in self.payments:
            if as_of is None or payment["paid_on"] <= as_of:
                total = total + payment["amount"]
        return total

    def outstanding(self, instalment: int, as_of: date | None = None) -> Money:
        """What is still to pay on an instalment (by ``as_of``, if given)."""
        item = self._instalment(instalment)
        paid = Money.zero(item.amount.currency)
        for payment in self.payments:
            if payment["instalment"] == item.number and (
                as_of is None or payment["paid_on"] <= as_of
            ):
                paid = paid + payment["amount"]
        return item.amount - paid

    def overdue_instalments(self, as_of: date) -> list[int]:
        """Instalments past their due date on ``as_of`` with something unpaid by then."""
        day = calendar_day("as_of", as_of)
        if not self.term_versions:
            return []
        return [
            item.number
            for item in self.current_terms.payment_schedule
            if item.due_date < day and not self.outstanding(item.number, as_of=day).is_zero()
        ]

    def penalties_owed(self) -> dict[str, Money]:
        """Penalties recorded against each party (the intermediary's only if it had one)."""
        currency = self.current_terms.amount.currency
        roles = [PartyRole.A.value, PartyRole.B.value]
        if self.intermediary is not None or self.intermediary_exit is not None:
            roles.append(PartyRole.INTERMEDIARY.value)
        owed = {role: Money.zero(currency) for role in roles}
        for breach in self.breaches:
            owed[breach["party"]] = owed[breach["party"]] + breach["penalty"]
        return owed

    def due_time_events(self, as_of: date) -> list[dict[str, Any]]:
        """What the scheduler should record on ``as_of`` (each only once): ``activate``,
        ``expire`` (the day after the end date: the end date is the last day in force), ``payment_overdue`` (per instalment), ``hand_over_overdue``."""
        day = calendar_day("as_of", as_of)
        due: list[dict[str, Any]] = []
        if self.status == ContractStatus.SIGNED and day >= self._original_terms().start_date:
            due.append({"event": "activate"})
        if self.status in PERFORMING and day > self._governing_terms(day).end_date:
            due.append({"event": "expire"})
        if self.status in OPEN_ACCOUNTS:
            due.extend(
                {"event": "payment_overdue", "instalment": n}
                for n in self.overdue_instalments(day)
                if str(n) not in self.overdue_recorded
            )
        if (
            self.status in AFTER_END
            and self.hand_over is None
            and self.hand_over_overdue_on is None
            and self.hand_over_due_on is not None
            and day > self.hand_over_due_on
        ):
            due.append({"event": "hand_over_overdue"})
        return due

    # -- internals ------------------------------------------------------------------

    def _instalment(self, number: int) -> Instalment:
        n = whole("instalment", number, 1, 1000)
        item = self.current_terms.instalment(n)
        if item is None:
            raise UnknownInstalment(f"the payment schedule has no instalment {n}", instalment=n)
        return item

    def _paid_by_instalment(self) -> dict[str, Money]:
        paid: dict[str, Money] = {}
        for payment in self.payments:
            key = str(payment["instalment"])
            paid[key] = paid[key] + payment["amount"] if key in paid else payment["amount"]
        return paid

    def _original_terms(self) -> Terms:
        if self.term_versions:
            return Terms.from_dict(self.term_versions[0]["terms"])
        return self.current_terms

    def _version_entry_as_of(self, day: date) -> dict[str, Any]:
        calendar_day("day", day)
        found: dict[str, Any] | None = None
        for entry in self.term_versions:
            if entry["effective_date"] <= day:
                found = entry
        if found is None:
            if not self.term_versions:
                raise NoTermsOnDate(
                    f"no terms are in force on {day}: not every party has signed the contract"
                )
            raise NoTermsOnDate(
                f"no terms are in force on {day}: the contract starts on"
                f" {self.term_versions[0]['effective_date']}"
            )
        return found

    def _version_entry_governing(self, day: date) -> dict[str, Any]:
        """The version in force on ``day``, or version 1 before the start."""
        if day < self.term_versions[0]["effective_date"]:
            return self.term_versions[0]
        return self._version_entry_as_of(day)

    def _governing_terms(self, day: date) -> Terms:
        if not self.term_versions:
            return self.current_terms
        return Terms.from_dict(self._version_entry_governing(day)["terms"])

    def _party(self, role: str) -> Party:
        record = self.parties[role]
        name = record["name"] if record["name"] is not None else self.customer_names[role]
        return Party(record["kind"], name, tuple(self.signatories[role]), record["customer_id"])

    def _intermediary_value(self) -> Intermediary | None:
        if self.intermediary is None:
            return None
        return Intermediary(
            self.intermediary["name"],
            self.intermediary["liability_cap"],
            self.intermediary["fee"],
            tuple(self.signatories[PartyRole.INTERMEDIARY]),
        )

    def _current_content(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "parties": self.parties,
            "customer_names": self.customer_names,
            "signatories": self.signatories,
            "intermediary": self.intermediary,
            "leading_party": self.leading_party,
            "payer": self.payer,
            "terms": self.terms,
        }


def _content(
    title: str,
    party_a: Party,
    party_b: Party,
    intermediary: Intermediary | None,
    leading_party: str,
    payer: str,
    terms: Terms,
) -> dict[str, Any]:
    """The draft's content as event fields, checked. A customer party's name is kept
    apart as personal data (the customer may be a natural person); an organisation's
    name is not."""
    if not isinstance(terms, Terms):
        raise InvalidContractField("terms must be Terms", field="terms")
    for field, party in (("party_a", party_a), ("party_b", party_b)):
        if not isinstance(party, Party):
            raise InvalidContractField(f"{field} must be a Party", field=field)
    if party_a == party_b or (
        party_a.customer_id is not None and party_a.customer_id == party_b.customer_id
    ):
        raise InvalidContractField("甲方 and 乙方 must be different parties", field="party_b")
    if intermediary is not None:
        if not isinstance(intermediary, Intermediary):
            raise InvalidContractField("intermediary must be an Intermediary", field="intermediary")
        currency = terms.amount.currency
        same_currency("intermediary.liability_cap", intermediary.liability_cap, currency)
        same_currency("intermediary.fee", intermediary.fee, currency)
    leading = choose(PartyRole, leading_party, "leading_party")
    paying = choose(PartyRole, payer, "payer")
    for field, chosen in (("leading_party", leading), ("payer", paying)):
        if chosen == PartyRole.INTERMEDIARY:
            raise InvalidContractField(f"{field} is 甲方 (a) or 乙方 (b)", field=field)
    parties: dict[str, dict[str, Any]] = {}
    customer_names: dict[str, str] = {}
    signatories: dict[str, list[str]] = {}
    for role, party in ((PartyRole.A.value, party_a), (PartyRole.B.value, party_b)):
        is_customer = party.kind == PartyKind.CUSTOMER
        parties[role] = {
            "kind": party.kind,
            "customer_id": party.customer_id,
            "name": None if is_customer else party.name,
        }
        if is_customer:
            customer_names[role] = party.name
        signatories[role] = list(party.signatories)
    intermediary_record: dict[str, Any] | None = None
    if intermediary is not None:
        intermediary_record = {
            "name": intermediary.name,
            "liability_cap": intermediary.liability_cap,
            "fee": intermediary.fee,
        }
        signatories[PartyRole.INTERMEDIARY.value] = list(intermediary.signatories)
    return {
        "title": text("title", title, max_length=200),
        "parties": parties,
        "customer_names": customer_names,
        "signatories": signatories,
        "intermediary": intermediary_record,
        "leading_party": leading.value,
        "payer": paying.value,
        "terms": terms.as_dict(),
    }
