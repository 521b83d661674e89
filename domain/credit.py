"""Credit profile 信用档案 — one per customer: assessment → rating, credit control (limit,
term, prepayment ratio), order checks against the limit, invoices, payments and overdue
records, block / unblock, reviews, repair plans, contested ratings, and the customer's
risk register (风险识别 → 风险等级 → 应对).

Every credit decision is an event, including the refusals: an order blocked by the limit
is recorded with the figures it was decided on, so "why was this order blocked, and what
was the exposure then" can always be answered from the log.

Exposure (信用占用) = reserved + used + overdue, where

- *reserved* is the credit part of approved orders not yet invoiced,
- *used* is invoiced and unpaid, not (yet) recorded overdue,
- *overdue* is invoiced, unpaid and recorded overdue.

Available (可用额度) = limit − exposure; it is negative when a limit was lowered below the
exposure. A recorded overdue invoice moves its unpaid amount from *used* to *overdue*, so
nothing is counted twice.

An order's credit part is its amount less the prepayment (预付款 = amount × prepayment
ratio, rounded half-up to the minor unit). The credit term (信用期限) is in calendar days:
an invoice falls due ``term_days`` after its invoice date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.base import (
    DomainError,
    InvalidValueError,
    KehuAggregate,
    PersonalData,
    aware,
)
from domain.calendar import business_day as business_day
from domain.guards import Guards
from domain.scorecard import (
    RATING_RANK,
    AssessmentInputs,
    Rating,
    Scorecard,
    score,
)
from domain.values import Money

CREDIT_NAMESPACE = uuid5(NAMESPACE_URL, "https://kehu.example/credit-profile")

#: Months until the next review, by rating: the weaker the rating, the sooner.
REVIEW_MONTHS = {
    Rating.AAA: 12,
    Rating.AA: 12,
    Rating.A: 6,
    Rating.B: 6,
    Rating.C: 3,
    Rating.D: 3,
}

MAX_TERM_DAYS = 365

#: Limits above this need a second approver unless configured otherwise.
DEFAULT_APPROVAL_THRESHOLD = Money(Decimal(1_000_000))


def credit_profile_id(customer_id: UUID) -> UUID:
    """The one credit profile of a customer."""
    return uuid5(CREDIT_NAMESPACE, str(customer_id))


@dataclass(frozen=True)
class CreditPolicy:
    """What the organisation configures: limits above ``approval_threshold`` need a second
    person's approval (四眼原则); an overdue invoice blocks new orders once it is more than
    ``overdue_tolerance_days`` past due (0: any recorded overdue blocks)."""

    approval_threshold: Money = DEFAULT_APPROVAL_THRESHOLD
    overdue_tolerance_days: int = 0


class Decision(StrEnum):
    """A credit check's outcome (信用检查结论)."""

    APPROVED = "approved"  # 通过
    BLOCKED_BY_LIMIT = "blocked_by_limit"  # 超出信用额度
    BLOCKED_BY_OVERDUE = "blocked_by_overdue"  # 存在逾期
    BLOCKED_MANUALLY = "blocked_manually"  # 人工冻结
    #: Not a check's outcome: a manager released a blocked order (人工放行).
    RELEASED_BY_OVERRIDE = "released_by_override"


BLOCKED_DECISIONS = frozenset(
    {Decision.BLOCKED_BY_LIMIT, Decision.BLOCKED_BY_OVERDUE, Decision.BLOCKED_MANUALLY}
)

DECISION_LABELS = {
    Decision.APPROVED: "通过",
    Decision.BLOCKED_BY_LIMIT: "超出信用额度",
    Decision.BLOCKED_BY_OVERDUE: "存在逾期",
    Decision.BLOCKED_MANUALLY: "人工冻结",
    Decision.RELEASED_BY_OVERRIDE: "人工放行",
}


class RiskDimension(StrEnum):
    FINANCIAL = "financial"  # 财务风险
    MARKET = "market"  # 市场风险
    CREDIT = "credit"  # 信用风险


class RiskLevel(StrEnum):
    LOW = "low"  # 低
    MEDIUM = "medium"  # 中
    HIGH = "high"  # 高
    SEVERE = "severe"  # 严重


class RiskResponse(StrEnum):
    DIVERSIFY = "diversify"  # 分散
    TRANSFER = "transfer"  # 转移
    AVOID = "avoid"  # 规避
    ACCEPT = "accept"  # 接受


RISK_DIMENSION_LABELS = {
    RiskDimension.FINANCIAL: "财务风险",
    RiskDimension.MARKET: "市场风险",
    RiskDimension.CREDIT: "信用风险",
}
RISK_LEVEL_LABELS = {
    RiskLevel.LOW: "低",
    RiskLevel.MEDIUM: "中",
    RiskLevel.HIGH: "高",
    RiskLevel.SEVERE: "严重",
}
RISK_RESPONSE_LABELS = {
    RiskResponse.DIVERSIFY: "分散",
    RiskResponse.TRANSFER: "转移",
    RiskResponse.AVOID: "规避",
    RiskResponse.ACCEPT: "接受",
}


def risk_level(likelihood: int, impact: int) -> RiskLevel:
    """The 5 × 5 risk matrix: likelihood × impact of 1–4 is low, 5–9 medium, 10–16 high,
    above 16 severe."""
    product = likelihood * impact
    if product <= 4:
        return RiskLevel.LOW
    if product <= 9:
        return RiskLevel.MEDIUM
    if product <= 16:
        return RiskLevel.HIGH
    return RiskLevel.SEVERE


class ContestStatus(StrEnum):
    CONTESTED = "contested"  # 已提出异议
    UNDER_REVIEW = "under_review"  # 人工复核中
    UPHELD = "upheld"  # 维持
    OVERTURNED = "overturned"  # 改判


# -- errors ---------------------------------------------------------------------------


class CreditError(DomainError):
    code = "credit.error"


class InvalidCreditField(CreditError):
    code = "credit.invalid_field"
    kind = "invalid"


class LimitExceeded(CreditError):
    """Raised by the application when a recorded check blocked an order by its limit."""

    code = "credit.limit_exceeded"


class OverdueBlocks(CreditError):
    code = "credit.overdue"


class ProfileBlocked(CreditError):
    code = "credit.blocked"


BLOCKING_ERRORS: dict[Decision, type[CreditError]] = {
    Decision.BLOCKED_BY_LIMIT: LimitExceeded,
    Decision.BLOCKED_BY_OVERDUE: OverdueBlocks,
    Decision.BLOCKED_MANUALLY: ProfileBlocked,
}


class FourEyesRefused(CreditError):
    code = "credit.four_eyes"


class LimitChangePending(CreditError):
    """A limit change waits for its second person: until it is approved or rejected, no
    other limit — requested or set directly — may take its place."""

    code = "credit.limit_change_pending"


class NoSuchRequest(CreditError):
    code = "credit.no_such_request"


class NotBlocked(CreditError):
    code = "credit.order_not_blocked"


class OrderAlreadyApproved(CreditError):
    """An order number passes the credit check once: approved (or released by a manager),
    it is never checked again, whether it still holds its reservation, is invoiced, was
    cancelled or needed no credit."""

    code = "credit.order_already_approved"


class NoReservation(CreditError):
    code = "credit.no_reservation"


class InvoiceExceedsReservation(CreditError):
    code = "credit.invoice_exceeds_reservation"


class DuplicateInvoice(CreditError):
    code = "credit.duplicate_invoice"


class NoSuchInvoice(CreditError):
    code = "credit.no_such_invoice"


class Overpayment(CreditError):
    code = "credit.overpayment"


class NotYetDue(CreditError):
    code = "credit.not_yet_due"


class InvoicePaid(CreditError):
    """A paid invoice is never overdue."""

    code = "credit.invoice_paid"


class AlreadyOverdue(CreditError):
    code = "credit.already_overdue"


class BlockStateRefused(CreditError):
    code = "credit.block_state"


class NotAssessed(CreditError):
    code = "credit.not_assessed"


class ContestRefused(CreditError):
    code = "credit.contest_refused"


class AlreadyContested(CreditError):
    """An assessment is contested once; a decided contest is final until the next
    assessment."""

    code = "credit.already_contested"


class NotTheReviewer(CreditError):
    """Only the reviewer who took up a contest decides it."""

    code = "credit.not_the_reviewer"


class ContestOpen(CreditError):
    """No re-assessment while a contest of the current rating is open."""

    code = "credit.contest_open"


class RepairPlanRefused(CreditError):
    code = "credit.repair_plan_refused"


class NoSuchRisk(CreditError):
    code = "credit.no_such_risk"


class CurrencyRefused(CreditError):
    code = "credit.currency_mismatch"
    kind = "invalid"


_check = Guards(InvalidCreditField)
choose = _check.choose
text = _check.text
optional_text = _check.optional_text
key = _check.reference


def whole(field: str, value: object, *, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``; the bounds are named at every call."""
    return _check.whole(field, value, low, high)


def ratio(field: str, value: object) -> Decimal:
    """A ratio from 0 to 1 with at most four decimal places, given as text or Decimal."""
    if isinstance(value, float | bool):
        raise InvalidCreditField(f"{field} must be decimal text, never a float", field=field)
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise InvalidCreditField(f"{field} must be a decimal such as 0.30", field=field) from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(1):
        raise InvalidCreditField(f"{field} must be from 0 to 1; got {value}", field=field)
    if number != number.quantize(Decimal("0.0001")):
        raise InvalidCreditField(f"{field} has more than four decimal places", field=field)
    return number.quantize(Decimal("0.0001"))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day if it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


class CreditProfile(KehuAggregate):
    """信用档案 of one customer."""

    #: State attributes that hold personal data.
    PERSONAL_STATE: ClassVar[tuple[str, ...]] = ()

    def data_subject(self, event: object | None = None) -> UUID | None:
        return self.customer_id  # personal data about the customer who raised it

    class Opened(Aggregate.Created):
        customer_id: UUID
        currency: str
        at: datetime

    class Assessed(Aggregate.Event):
        """信用评估: an automated scorecard rating with its factors and explanation."""

        assessment_id: str
        inputs: dict[str, Any]
        factors: list[dict[str, Any]]
        score: int
        rating: str
        model_version: str
        explanation: str
        review_due_on: date
        at: datetime

    class LimitSet(Aggregate.Event):
        """信用控制: the limit, term and prepayment ratio in force from now."""

        limit: Money
        term_days: int
        prepayment_ratio: Decimal
        reason: str
        set_by: str
        request_id: str | None
        at: datetime

    class LimitChangeRequested(Aggregate.Event):
        """A limit above the approval threshold waits for a second person."""

        request_id: str
        limit: Money
        term_days: int
        prepayment_ratio: Decimal
        reason: str
        requested_by: str
        at: datetime

    class LimitChangeRejected(Aggregate.Event):
        request_id: str
        rejected_by: str
        reason: str
        at: datetime

    class OrderApproved(Aggregate.Event):
        """The order passed the credit check; its credit part is reserved."""

        order_id: str
        order_amount: Money
        prepayment: Money
        credit_amount: Money
        limit: Money
        exposure: Money
        available: Money
        at: datetime

    class OrderBlocked(Aggregate.Event):
        """The order failed the credit check; nothing is reserved. ``decision`` says why."""

        order_id: str
        order_amount: Money
        prepayment: Money
        credit_amount: Money
        limit: Money
        exposure: Money
        available: Money
        decision: str
        detail: str
        at: datetime

    class BlockedOrderReleased(Aggregate.Event):
        """人工放行: a manager lets a blocked order through, with reasons; its credit part
        is reserved even beyond the limit. ``overridden`` is the decision set aside."""

        order_id: str
        order_amount: Money
        credit_amount: Money
        limit: Money
        exposure: Money
        available: Money
        overridden: str
        reason: str
        released_by: str
        at: datetime

    class ReservationReleased(Aggregate.Event):
        order_id: str
        amount: Money
        reason: str
        at: datetime

    class Invoiced(Aggregate.Event):
        """Reserved → used: an invoice against an approved order."""

        invoice_id: str
        order_id: str
        amount: Money
        invoiced_on: date
        due_on: date
        at: datetime

    class PaymentReceived(Aggregate.Event):
        invoice_id: str
        amount: Money
        paid_on: date
        at: datetime

    class InvoiceOverdue(Aggregate.Event):
        """逾期: an invoice past its due date and unpaid; its unpaid amount moves from used
        to overdue."""

        invoice_id: str
        amount: Money
        due_on: date
        days_overdue: int
        at: datetime

    class Blocked(Aggregate.Event):
        """冻结: every new order is blocked until unblocked."""

        reason: str
        at: datetime

    class Unblocked(Aggregate.Event):
        reason: str
        at: datetime

    class ReviewScheduled(Aggregate.Event):
        due_on: date
        reason: str

    class RepairPlanStarted(Aggregate.Event):
        """信用修复计划."""

        plan_id: str
        actions: list[str]
        target_rating: str
        due_on: date
        at: datetime

    class RepairProgressRecorded(Aggregate.Event):
        plan_id: str
        action: int
        done: bool
        note: str | None
        progress: int
        at: datetime

    class RepairPlanCompleted(Aggregate.Event):
        """The plan ended with a re-assessment; ``target_met`` says if it reached the
        target rating."""

        plan_id: str
        assessment_id: str
        rating: str
        target_met: bool
        at: datetime

    class AssessmentContested(Aggregate.Event):
        """PIPL art. 24: the customer contests an automated rating."""

        contest_id: str
        assessment_id: str
        grounds: PersonalData[str]
        at: datetime

    class ManualReviewStarted(Aggregate.Event):
        contest_id: str
        reviewer: str
        at: datetime

    class ContestUpheld(Aggregate.Event):
        """The rating stands."""

        contest_id: str
        reviewer: str
        explanation: str
        at: datetime

    class RatingOverturned(Aggregate.Event):
        """The reviewer sets another rating, with reasons."""

        contest_id: str
        reviewer: str
        previous_rating: str
        rating: str
        explanation: str
        at: datetime

    class RiskAssessed(Aggregate.Event):
        """风险识别与评估: one risk of one dimension, its level from likelihood × impact,
        the response, its owner and when to review it."""

        risk_id: str
        dimension: str
        description: str
        likelihood: int
        impact: int
        level: str
        response: str
        owner: str
        review_on: date
        at: datetime

    class RiskClosed(Aggregate.Event):
        risk_id: str
        reason: str
        at: datetime

    # -- creation -------------------------------------------------------------------

    @event(Opened)
    def __init__(self, id: UUID, customer_id: UUID, currency: str, at: datetime) -> None:
        self.customer_id = customer_id
        self.currency = currency
        self.opened_at = at
        self.limit = Money.zero(currency)
        self.term_days = 0
        self.prepayment_ratio = Decimal("0.0000")
        self.limit_set_at: datetime | None = None
        self.score: int | None = None
        self.rating: str | None = None
        self.rating_source: str | None = None
        self.model_version: str | None = None
        self.assessment_id: str | None = None
        self.explanation: str | None = None
        self.factors: list[dict[str, Any]] = []
        self.assessed_at: datetime | None = None
        self.review_due_on: date | None = None
        self.pending_request: dict[str, Any] | None = None
        self.reservations: dict[str, Money] = {}
        #: Orders that passed their check (approved, or released by a manager): never
        #: checked again, whatever became of them since.
        self.approved_orders: set[str] = set()
        #: Orders whose latest check blocked them: their credit part and the decision.
        self.blocked_orders: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.blocked_reason: str | None = None
        self.repair_plans: dict[str, dict[str, Any]] = {}
        self.contests: dict[str, dict[str, Any]] = {}
        self.risks: dict[str, dict[str, Any]] = {}
        self.last_at = at

    @classmethod
    def open(cls, *, customer_id: UUID, at: datetime, currency: str = "CNY") -> CreditProfile:
        """开立信用档案 for a customer."""
        try:
            clean_currency = Money.zero(currency).currency
        except InvalidValueError as error:
            raise InvalidCreditField(error.message, field="currency") from None
        return cls(
            id=credit_profile_id(customer_id),
            customer_id=customer_id,
            currency=clean_currency,
            at=aware("at", at),
        )

    # -- figures --------------------------------------------------------------------

    def money(self, field: str, amount: object, *, positive: bool = True) -> Money:
        """An amount in the profile's currency."""
        try:
            value = Money.parse_non_negative(amount, self.currency)
        except InvalidValueError as error:
            raise InvalidCreditField(f"{field}: {error.message}", field=field) from None
        if positive and value.is_zero():
            raise InvalidCreditField(f"{field} must be more than zero", field=field)
        return value

    def _sum(self, amounts: list[Money]) -> Money:
        total = Money.zero(self.currency)
        for amount in amounts:
            total = total + amount
        return total

    @property
    def reserved(self) -> Money:
        return self._sum(list(self.reservations.values()))

    @property
    def used(self) -> Money:
        return self._sum([i["outstanding"] for i in self.invoices.values() if not i["overdue"]])

    @property
    def overdue(self) -> Money:
        return self._sum([i["outstanding"] for i in self.invoices.values() if i["overdue"]])

    @property
    def exposure(self) -> Money:
        return self.reserved + self.used + self.overdue

    @property
    def available(self) -> Money:
        return self.limit - self.exposure

    @property
    def blocked(self) -> bool:
        return self.blocked_reason is not None

    def days_overdue(self, invoice_id: str, on: date) -> int:
        invoice = self.invoices[invoice_id]
        return max(0, (on - invoice["due_on"]).days)

    # -- guards ---------------------------------------------------------------------

    def _time(self, field: str, at: datetime) -> datetime:
        aware(field, at)
        if at < self.opened_at:
            raise InvalidCreditField(
                f"{field} ({at.isoformat()}) is before the profile was opened"
                f" ({self.opened_at.isoformat()})",
                field=field,
            )
        return at

    # -- assessment -----------------------------------------------------------------

    def assess(self, assessment_id: str, inputs: AssessmentInputs, at: datetime) -> Scorecard:
        """信用评估 with the scorecard; schedules the next review by rating.

        Refused with ``credit.contest_open`` while a contest of the current rating is open:
        the reviewer decides on the rating the customer contested, and a new rating under
        the contest would be the one an ``overturned`` decision replaced. The contest is
        decided first, then the profile is re-assessed."""
        moment = self._time("at", at)
        identifier = key("assessment_id", assessment_id)
        if any(m.currency != self.currency for m in _amounts(inputs)):
            raise CurrencyRefused(f"the financial figures must be in {self.currency}")
        open_contest = self._open_contest()
        if open_contest is not None:
            raise ContestOpen(
                f"contest {open_contest} of the rating is open; decide it before re-assessing",
                contest_id=open_contest,
            )
        card = score(inputs)
        self._assessed(
            assessment_id=identifier,
            inputs=inputs.as_dict(),
            factors=[f.as_dict() for f in card.factors],
            score=card.score,
            rating=card.rating.value,
            model_version=card.model_version,
            explanation=card.explanation(),
            review_due_on=add_months(business_day(moment), REVIEW_MONTHS[card.rating]),
            at=moment,
        )
        return card

    @event(Assessed)
    def _assessed(
        self,
        assessment_id: str,
        inputs: dict[str, Any],
        factors: list[dict[str, Any]],
        score: int,
        rating: str,
        model_version: str,
        explanation: str,
        review_due_on: date,
        at: datetime,
    ) -> None:
        self.assessment_id = assessment_id
        self.score = score
        self.rating = rating
        self.rating_source = "scorecard"
        self.model_version = model_version
        self.factors = factors
        self.explanation = explanation
        self.review_due_on = review_due_on
        self.assessed_at = at
        self.last_at = at

    def schedule_review(self, due_on: date, reason: str) -> None:
        """Bring a review forward or push it back (复评日期)."""
        if not isinstance(due_on, date) or isinstance(due_on, datetime):
            raise InvalidCreditField("due_on must be a date", field="due_on")
        if due_on < business_day(self.opened_at):
            raise InvalidCreditField("due_on is before the profile was opened", field="due_on")
        self._review_scheduled(due_on=due_on, reason=text("reason", reason, max_length=500))

    @event(ReviewScheduled)
    def _review_scheduled(self, due_on: date, reason: str) -> None:
        self.review_due_on = due_on

    # -- credit control -------------------------------------------------------------

    def set_limit(
        self,
        *,
        request_id: str,
        limit: object,
        term_days: object,
        prepayment_ratio: object,
        reason: str,
        by: str,
        at: datetime,
        policy: CreditPolicy,
    ) -> bool:
        """设定信用额度、期限和预付款比例. A limit above the policy's threshold is only
        requested: a different person must approve it. Returns True if it is in force.

        While a request waits for approval, every other limit change is refused
        (``credit.limit_change_pending``), one set directly below the threshold included:
        otherwise the later approval would silently replace the newer limit with the older
        request. The waiting request is closed first, on record, by its approval or its
        rejection, so each request in the log ends with a named person's decision and no
        limit in force is replaced by an approval of an older request."""
        new_limit = self.money("limit", limit, positive=False)
        term = whole("term_days", term_days, low=0, high=MAX_TERM_DAYS)
        prepay = ratio("prepayment_ratio", prepayment_ratio)
        why = text("reason", reason, max_length=500)
        moment = self._time("at", at)
        threshold = policy.approval_threshold
        if threshold.currency != self.currency:
            raise CurrencyRefused(f"the approval threshold is not in {self.currency}")
        if self.pending_request is not None:
            waiting = self.pending_request["request_id"]
            raise LimitChangePending(
                f"limit change {waiting} is waiting for approval; approve or reject it before"
                " changing the limit again",
                request_id=waiting,
            )
        if new_limit > threshold:
            self._limit_change_requested(
                request_id=key("request_id", request_id),
                limit=new_limit,
                term_days=term,
                prepayment_ratio=prepay,
                reason=why,
                requested_by=by,
                at=moment,
            )
            return False
        self._limit_set(
            limit=new_limit,
            term_days=term,
            prepayment_ratio=prepay,
            reason=why,
            set_by=by,
            request_id=None,
            at=moment,
        )
        return True

    def approve_limit_change(self, request_id: str, *, by: str, at: datetime) -> None:
        """The second person approves (四眼原则): never the one who requested it."""
        pending = self._pending(request_id)
        if by == pending["requested_by"]:
            raise FourEyesRefused(
                "the person who requested a limit change cannot approve it",
                request_id=pending["request_id"],
            )
        moment = self._time("at", at)
        if moment < pending["at"]:
            raise InvalidCreditField("the approval is before the request", field="at")
        self._limit_set(
            limit=pending["limit"],
            term_days=pending["term_days"],
            prepayment_ratio=pending["prepayment_ratio"],
            reason=pending["reason"],
            set_by=by,
            request_id=pending["request_id"],
            at=moment,
        )

    def reject_limit_change(self, request_id: str, *, reason: str, by: str, at: datetime) -> None:
        """Reject a waiting limit change: the limit stays as it is and the way is free for
        another change."""
        pending = self._pending(request_id)
        self._limit_change_rejected(
            request_id=pending["request_id"],
            rejected_by=by,
            reason=text("reason", reason, max_length=500),
            at=self._time("at", at),
        )

    def _pending(self, request_id: str) -> dict[str, Any]:
        request = key("request_id", request_id)
        if self.pending_request is None or self.pending_request["request_id"] != request:
            raise NoSuchRequest(
                f"no limit change {request!r} is waiting for approval", request_id=request
            )
        return self.pending_request

    @event(LimitChangeRequested)
    def _limit_change_requested(
        self,
        request_id: str,
        limit: Money,
        term_days: int,
        prepayment_ratio: Decimal,
        reason: str,
        requested_by: str,
        at: datetime,
    ) -> None:
        self.pending_request = {
            "request_id": request_id,
            "limit": limit,
            "term_days": term_days,
            "prepayment_ratio": prepayment_ratio,
            "reason": reason,
            "requested_by": requested_by,
            "at": at,
        }

    @event(LimitSet)
    def _limit_set(
        self,
        limit: Money,
        term_days: int,
        prepayment_ratio: Decimal,
        reason: str,
        set_by: str,
        request_id: str | None,
        at: datetime,
    ) -> None:
        self.limit = limit
        self.term_days = term_days
        self.prepayment_ratio = prepayment_ratio
        self.limit_set_at = at
        if request_id is not None:
            self.pending_request = None
        self.last_at = at

    @event(LimitChangeRejected)
    def _limit_change_rejected(
        self, request_id: str, rejected_by: str, reason: str, at: datetime
    ) -> None:
        self.pending_request = None

    # -- orders ---------------------------------------------------------------------

    def check_order(
        self, order_id: str, amount: object, at: datetime, policy: CreditPolicy
    ) -> Decision:
        """信用检查: decide an order against the limit and record the decision either way.
        An approved order's credit part is reserved.

        An order number is approved once. A blocked order may be checked again (that is
        how it goes through once its cause is gone), but an approved one — or one a manager
        released — is refused with ``credit.order_already_approved`` at every later stage:
        still reserved, invoiced in part or in full, its reservation released, or fully
        prepaid and never reserved. A second approval would reserve its credit again and
        leave two decisions for one order in the log."""
        order = key("order_id", order_id)
        if order in self.approved_orders:
            raise OrderAlreadyApproved(
                f"order {order} already passed its credit check ({self._order_stage(order)});"
                " a new order needs a new order number",
                order_id=order,
            )
        order_amount = self.money("amount", amount)
        moment = self._time("at", at)
        prepayment = order_amount.multiply(self.prepayment_ratio, ROUND_HALF_UP)
        credit_amount = order_amount - prepayment
        exposure, available = self.exposure, self.available
        decision, detail = self._decide(credit_amount, available, business_day(moment), policy)
        figures: dict[str, Any] = {
            "order_id": order,
            "order_amount": order_amount,
            "prepayment": prepayment,
            "credit_amount": credit_amount,
            "limit": self.limit,
            "exposure": exposure,
            "available": available,
            "at": moment,
        }
        if decision is Decision.APPROVED:
            self._order_approved(**figures)
        else:
            self._order_blocked(**figures, decision=decision.value, detail=detail)
        return decision

    def _order_stage(self, order_id: str) -> str:
        if order_id in self.reservations:
            return f"it holds a reservation of {self.reservations[order_id]}"
        if any(i["order_id"] == order_id for i in self.invoices.values()):
            return "it is invoiced"
        return "it holds no reservation"

    def _decide(
        self, credit_amount: Money, available: Money, on: date, policy: CreditPolicy
    ) -> tuple[Decision, str]:
        """A manual block first, then overdue invoices past the tolerance: both are about
        the customer, so they stop any order. The limit comes last and only for an order
        that needs credit: a fully prepaid order (credit part 0) takes nothing from the
        limit, so not even a negative available amount blocks it."""
        if self.blocked_reason is not None:
            return Decision.BLOCKED_MANUALLY, f"the profile is blocked: {self.blocked_reason}"
        late = [
            (invoice_id, self.days_overdue(invoice_id, on))
            for invoice_id, invoice in sorted(self.invoices.items())
            if invoice["overdue"] and not invoice["outstanding"].is_zero()
        ]
        late = [(i, d) for i, d in late if d > policy.overdue_tolerance_days]
        if late:
            listed = ", ".join(f"{i} ({d} days)" for i, d in late)
            return Decision.BLOCKED_BY_OVERDUE, f"overdue invoices: {listed}"
        if not credit_amount.is_zero() and credit_amount > available:
            return (
                Decision.BLOCKED_BY_LIMIT,
                f"the credit part {credit_amount} exceeds the available {available}"
                f" (limit {self.limit}, exposure {self.exposure})",
            )
        return Decision.APPROVED, ""

    @event(OrderApproved)
    def _order_approved(
        self,
        order_id: str,
        order_amount: Money,
        prepayment: Money,
        credit_amount: Money,
        limit: Money,
        exposure: Money,
        available: Money,
        at: datetime,
    ) -> None:
        if not credit_amount.is_zero():
            self.reservations[order_id] = credit_amount
        self.approved_orders.add(order_id)
        self.blocked_orders.pop(order_id, None)
        self.last_at = at

    @event(OrderBlocked)
    def _order_blocked(
        self,
        order_id: str,
        order_amount: Money,
        prepayment: Money,
        credit_amount: Money,
        limit: Money,
        exposure: Money,
        available: Money,
        decision: str,
        detail: str,
        at: datetime,
    ) -> None:
        self.blocked_orders[order_id] = {
            "order_amount": order_amount,
            "credit_amount": credit_amount,
            "decision": decision,
        }
        self.last_at = at

    def release_blocked_order(self, order_id: str, reason: str, by: str, at: datetime) -> None:
        """人工放行: release the order its latest check blocked (a manager's decision,
        recorded with its reasons and the figures it overrode)."""
        order = key("order_id", order_id)
        blocked = self.blocked_orders.get(order)
        if blocked is None:
            raise NotBlocked(f"order {order} is not blocked", order_id=order)
        self._blocked_order_released(
            order_id=order,
            order_amount=blocked["order_amount"],
            credit_amount=blocked["credit_amount"],
            limit=self.limit,
            exposure=self.exposure,
            available=self.available,
            overridden=blocked["decision"],
            reason=text("reason", reason, max_length=500),
            released_by=by,
            at=self._time("at", at),
        )

    @event(BlockedOrderReleased)
    def _blocked_order_released(
        self,
        order_id: str,
        order_amount: Money,
        credit_amount: Money,
        limit: Money,
        exposure: Money,
        available: Money,
        overridden: str,
        reason: str,
        released_by: str,
        at: datetime,
    ) -> None:
        del self.blocked_orders[order_id]
        if not credit_amount.is_zero():
            self.reservations[order_id] = credit_amount
        self.approved_orders.add(order_id)
        self.last_at = at

    def release(self, order_id: str, reason: str, at: datetime) -> None:
        """释放占用: the order was cancelled or will not be invoiced in full."""
        order = key("order_id", order_id)
        if order not in self.reservations:
            raise NoReservation(f"order {order} holds no reservation", order_id=order)
        self._released(
            order_id=order,
            amount=self.reservations[order],
            reason=text("reason", reason, max_length=500),
            at=self._time("at", at),
        )

    @event(ReservationReleased)
    def _released(self, order_id: str, amount: Money, reason: str, at: datetime) -> None:
        del self.reservations[order_id]

    # -- invoices, payments, overdue --------------------------------------------------

    def invoice(
        self, invoice_id: str, order_id: str, amount: object, invoiced_on: date, at: datetime
    ) -> None:
        """开票: the invoiced amount moves from reserved to used and falls due after the
        credit term."""
        invoice = key("invoice_id", invoice_id)
        order = key("order_id", order_id)
        if invoice in self.invoices:
            raise DuplicateInvoice(f"invoice {invoice} is already recorded", invoice_id=invoice)
        if order not in self.reservations:
            raise NoReservation(f"order {order} holds no reservation", order_id=order)
        value = self.money("amount", amount)
        if value > self.reservations[order]:
            raise InvoiceExceedsReservation(
                f"the invoice {value} exceeds the order's reservation {self.reservations[order]}",
                reserved=str(self.reservations[order].amount),
            )
        day = _date("invoiced_on", invoiced_on)
        self._invoiced(
            invoice_id=invoice,
            order_id=order,
            amount=value,
            invoiced_on=day,
            due_on=day + timedelta(days=self.term_days),
            at=self._time("at", at),
        )

    @event(Invoiced)
    def _invoiced(
        self,
        invoice_id: str,
        order_id: str,
        amount: Money,
        invoiced_on: date,
        due_on: date,
        at: datetime,
    ) -> None:
        left = self.reservations[order_id] - amount
        if left.is_zero():
            del self.reservations[order_id]
        else:
            self.reservations[order_id] = left
        self.invoices[invoice_id] = {
            "order_id": order_id,
            "amount": amount,
            "outstanding": amount,
            "invoiced_on": invoiced_on,
            "due_on": due_on,
            "overdue": False,
        }
        self.last_at = at

    def receive_payment(self, invoice_id: str, amount: object, paid_on: date, at: datetime) -> None:
        """回款 against an invoice; more than is outstanding is refused."""
        identifier, invoice = self._invoice(invoice_id)
        value = self.money("amount", amount)
        if value > invoice["outstanding"]:
            raise Overpayment(
                f"the payment {value} exceeds the {invoice['outstanding']} outstanding",
                outstanding=str(invoice["outstanding"].amount),
            )
        self._payment_received(
            invoice_id=identifier,
            amount=value,
            paid_on=_date("paid_on", paid_on),
            at=self._time("at", at),
        )

    @event(PaymentReceived)
    def _payment_received(
        self, invoice_id: str, amount: Money, paid_on: date, at: datetime
    ) -> None:
        invoice = self.invoices[invoice_id]
        invoice["outstanding"] = invoice["outstanding"] - amount
        self.last_at = at

    def record_overdue(self, invoice_id: str, at: datetime) -> None:
        """逾期: the invoice is unpaid after its due date (recorded once). A paid invoice
        is refused with ``credit.invoice_paid``, whatever its due date."""
        identifier, invoice = self._invoice(invoice_id)
        moment = self._time("at", at)
        day = business_day(moment)
        if invoice["overdue"]:
            raise AlreadyOverdue(f"invoice {identifier} is already recorded overdue")
        if invoice["outstanding"].is_zero():
            raise InvoicePaid(f"invoice {identifier} is paid in full", invoice_id=identifier)
        if day <= invoice["due_on"]:
            raise NotYetDue(
                f"invoice {identifier} falls due on {invoice['due_on'].isoformat()}",
                due_on=invoice["due_on"].isoformat(),
            )
        self._invoice_overdue(
            invoice_id=identifier,
            amount=invoice["outstanding"],
            due_on=invoice["due_on"],
            days_overdue=(day - invoice["due_on"]).days,
            at=moment,
        )

    @event(InvoiceOverdue)
    def _invoice_overdue(
        self, invoice_id: str, amount: Money, due_on: date, days_overdue: int, at: datetime
    ) -> None:
        self.invoices[invoice_id]["overdue"] = True
        self.last_at = at

    def _invoice(self, invoice_id: str) -> tuple[str, dict[str, Any]]:
        """The cleaned invoice number and its invoice."""
        identifier = key("invoice_id", invoice_id)
        if identifier not in self.invoices:
            raise NoSuchInvoice(f"no invoice {identifier!r}", invoice_id=identifier)
        return identifier, self.invoices[identifier]

    def overdue_invoices(self, on: date) -> list[str]:
        """Invoices unpaid after their due date and not yet recorded overdue."""
        return [
            invoice_id
            for invoice_id, invoice in sorted(self.invoices.items())
            if not invoice["overdue"]
            and not invoice["outstanding"].is_zero()
            and on > invoice["due_on"]
        ]

    # -- block ----------------------------------------------------------------------

    def block(self, reason: str, at: datetime) -> None:
        """冻结信用."""
        if self.blocked_reason is not None:
            raise BlockStateRefused("the profile is already blocked")
        self._blocked(reason=text("reason", reason, max_length=500), at=self._time("at", at))

    @event(Blocked)
    def _blocked(self, reason: str, at: datetime) -> None:
        self.blocked_reason = reason

    def unblock(self, reason: str, at: datetime) -> None:
        """解除冻结."""
        if self.blocked_reason is None:
            raise BlockStateRefused("the profile is not blocked")
        self._unblocked(reason=text("reason", reason, max_length=500), at=self._time("at", at))

    @event(Unblocked)
    def _unblocked(self, reason: str, at: datetime) -> None:
        self.blocked_reason = None

    # -- repair plans -----------------------------------------------------------------

    def start_repair_plan(
        self, plan_id: str, actions: list[str], target_rating: str, due_on: date, at: datetime
    ) -> None:
        """信用修复计划: actions towards a better rating by a date."""
        if self.rating is None:
            raise NotAssessed("a repair plan needs a rating to improve on")
        plan = key("plan_id", plan_id)
        if plan in self.repair_plans:
            raise RepairPlanRefused(f"repair plan {plan} already exists")
        if any(p["status"] == "active" for p in self.repair_plans.values()):
            raise RepairPlanRefused("another repair plan is active")
        if not isinstance(actions, list) or not 1 <= len(actions) <= 20:
            raise InvalidCreditField("a repair plan has 1 to 20 actions", field="actions")
        target = choose(Rating, target_rating, "target_rating")
        if RATING_RANK[target] >= RATING_RANK[Rating(self.rating)]:
            raise RepairPlanRefused(
                f"the target {target.value} is not better than the rating {self.rating}"
            )
        moment = self._time("at", at)
        day = _date("due_on", due_on)
        if day <= business_day(moment):
            raise InvalidCreditField("the plan's due date must be in the future", field="due_on")
        self._repair_plan_started(
            plan_id=plan,
            actions=[text(f"actions[{i}]", a, max_length=500) for i, a in enumerate(actions)],
            target_rating=target.value,
            due_on=day,
            at=moment,
        )

    @event(RepairPlanStarted)
    def _repair_plan_started(
        self, plan_id: str, actions: list[str], target_rating: str, due_on: date, at: datetime
    ) -> None:
        self.repair_plans[plan_id] = {
            "actions": actions,
            "done": [False] * len(actions),
            "target_rating": target_rating,
            "due_on": due_on,
            "status": "active",
            "progress": 0,
        }

    def record_repair_progress(
        self, plan_id: str, action: int, done: bool, note: str | None, at: datetime
    ) -> None:
        identifier, plan = self._active_plan(plan_id)
        index = whole("action", action, low=0, high=len(plan["actions"]) - 1)
        if not isinstance(done, bool):
            raise InvalidCreditField("done must be true or false", field="done")
        marks = list(plan["done"])
        marks[index] = done
        progress = (100 * sum(marks)) // len(marks)
        self._repair_progress(
            plan_id=identifier,
            action=index,
            done=done,
            note=optional_text("note", note, max_length=1000),
            progress=progress,
            at=self._time("at", at),
        )

    @event(RepairProgressRecorded)
    def _repair_progress(
        self, plan_id: str, action: int, done: bool, note: str | None, progress: int, at: datetime
    ) -> None:
        plan = self.repair_plans[plan_id]
        plan["done"][action] = done
        plan["progress"] = progress

    def complete_repair_plan(
        self, plan_id: str, assessment_id: str, inputs: AssessmentInputs, at: datetime
    ) -> Scorecard:
        """Completion → re-assessment: the plan closes with a new rating."""
        identifier, plan = self._active_plan(plan_id)
        card = self.assess(assessment_id, inputs, at)
        self._repair_completed(
            plan_id=identifier,
            assessment_id=key("assessment_id", assessment_id),
            rating=card.rating.value,
            target_met=RATING_RANK[card.rating] <= RATING_RANK[Rating(plan["target_rating"])],
            at=at,
        )
        return card

    @event(RepairPlanCompleted)
    def _repair_completed(
        self, plan_id: str, assessment_id: str, rating: str, target_met: bool, at: datetime
    ) -> None:
        self.repair_plans[plan_id]["status"] = "met" if target_met else "not_met"

    def _active_plan(self, plan_id: str) -> tuple[str, dict[str, Any]]:
        """The cleaned plan id and its active plan."""
        identifier = key("plan_id", plan_id)
        plan = self.repair_plans.get(identifier)
        if plan is None or plan["status"] != "active":
            raise RepairPlanRefused(f"no active repair plan {identifier!r}", plan_id=identifier)
        return identifier, plan

    # -- contested ratings (PIPL art. 24) -------------------------------------------

    def contest(self, contest_id: str, grounds: str, at: datetime) -> None:
        """The customer contests the current automated rating, once: after an ``upheld``
        decision the same assessment is refused with ``credit.already_contested`` (the
        decision is final; the next assessment can be contested again), and after an
        ``overturned`` one the rating is a reviewer's, not automated."""
        if self.assessment_id is None:
            raise NotAssessed("there is no rating to contest")
        if self.rating_source != "scorecard":
            raise ContestRefused("the current rating is already a reviewer's decision")
        if self._open_contest() is not None:
            raise ContestRefused("a contest of this rating is already open")
        contest = key("contest_id", contest_id)
        if contest in self.contests:
            raise ContestRefused(f"contest {contest} already exists")
        decided = [
            (earlier, c["status"])
            for earlier, c in sorted(self.contests.items())
            if c["assessment_id"] == self.assessment_id
        ]
        if decided:
            earlier, status = decided[0]
            raise AlreadyContested(
                f"assessment {self.assessment_id} was already contested ({earlier}, {status});"
                " the next assessment may be contested again",
                assessment_id=self.assessment_id,
                contest_id=earlier,
            )
        self._contested(
            contest_id=contest,
            assessment_id=self.assessment_id,
            grounds=text("grounds", grounds, max_length=2000),
            at=self._time("at", at),
        )

    @event(AssessmentContested)
    def _contested(self, contest_id: str, assessment_id: str, grounds: str, at: datetime) -> None:
        self.contests[contest_id] = {
            "assessment_id": assessment_id,
            "status": ContestStatus.CONTESTED.value,
            "reviewer": None,
        }

    def start_review(self, contest_id: str, reviewer: str, at: datetime) -> None:
        """人工复核: a person takes up the contest; they alone decide it."""
        identifier, _ = self._contest(contest_id, ContestStatus.CONTESTED)
        self._review_started(
            contest_id=identifier,
            reviewer=text("reviewer", reviewer, max_length=100),
            at=self._time("at", at),
        )

    @event(ManualReviewStarted)
    def _review_started(self, contest_id: str, reviewer: str, at: datetime) -> None:
        self.contests[contest_id]["status"] = ContestStatus.UNDER_REVIEW.value
        self.contests[contest_id]["reviewer"] = reviewer

    def decide_contest(
        self,
        contest_id: str,
        *,
        reviewer: str,
        outcome: str,
        explanation: str,
        rating: str | None,
        at: datetime,
    ) -> None:
        """The manual review ends: ``upheld`` keeps the rating, ``overturned`` sets
        ``rating`` instead. Only the reviewer who started the review decides it
        (``credit.not_the_reviewer`` otherwise): the person who examined the grounds
        answers for the decision, and nobody can take over a review unseen."""
        identifier, contest = self._contest(contest_id, ContestStatus.UNDER_REVIEW)
        who = text("reviewer", reviewer, max_length=100)
        if who != contest["reviewer"]:
            raise NotTheReviewer(
                f"contest {identifier} is under review by {contest['reviewer']};"
                " only they may decide it",
                contest_id=identifier,
            )
        why = text("explanation", explanation, max_length=2000)
        moment = self._time("at", at)
        result = choose(ContestStatus, outcome, "outcome")
        if result is ContestStatus.UPHELD:
            if rating is not None:
                raise InvalidCreditField("an upheld rating takes no new rating", field="rating")
            self._upheld(contest_id=identifier, reviewer=who, explanation=why, at=moment)
            return
        if result is not ContestStatus.OVERTURNED:
            raise InvalidCreditField("outcome must be upheld or overturned", field="outcome")
        if rating is None:
            raise InvalidCreditField("an overturned rating needs the new rating", field="rating")
        new = choose(Rating, rating, "rating")
        if new.value == self.rating:
            raise InvalidCreditField("the new rating equals the current one", field="rating")
        self._overturned(
            contest_id=identifier,
            reviewer=who,
            previous_rating=self.rating or "",
            rating=new.value,
            explanation=why,
            at=moment,
        )

    @event(ContestUpheld)
    def _upheld(self, contest_id: str, reviewer: str, explanation: str, at: datetime) -> None:
        self.contests[contest_id]["status"] = ContestStatus.UPHELD.value

    @event(RatingOverturned)
    def _overturned(
        self,
        contest_id: str,
        reviewer: str,
        previous_rating: str,
        rating: str,
        explanation: str,
        at: datetime,
    ) -> None:
        self.contests[contest_id]["status"] = ContestStatus.OVERTURNED.value
        self.rating = rating
        self.rating_source = "manual_review"
        self.explanation = f"{explanation}\n(overturned by {reviewer}; was {previous_rating})"

    def _contest(self, contest_id: str, status: ContestStatus) -> tuple[str, dict[str, Any]]:
        """The cleaned contest id and its contest, which must be in ``status``."""
        identifier = key("contest_id", contest_id)
        contest = self.contests.get(identifier)
        if contest is None:
            raise ContestRefused(f"no contest {identifier!r}", contest_id=identifier)
        if contest["status"] != status.value:
            raise ContestRefused(
                f"contest {identifier} is {contest['status']}, not {status.value}",
                status=contest["status"],
            )
        return identifier, contest

    def _open_contest(self) -> str | None:
        """The contest awaiting a decision, if any (at most one is open)."""
        for contest_id, contest in sorted(self.contests.items()):
            if contest["status"] in (ContestStatus.CONTESTED, ContestStatus.UNDER_REVIEW):
                return contest_id
        return None

    # -- risk register ---------------------------------------------------------------

    def assess_risk(
        self,
        *,
        risk_id: str,
        dimension: str,
        description: str,
        likelihood: int,
        impact: int,
        response: str,
        owner: str,
        review_on: date,
        at: datetime,
    ) -> RiskLevel:
        """风险识别: record or re-assess one risk; its level is likelihood × impact."""
        identifier = key("risk_id", risk_id)
        existing = self.risks.get(identifier)
        if existing is not None and existing["status"] == "closed":
            raise NoSuchRisk(f"risk {identifier} is closed", risk_id=identifier)
        dim = choose(RiskDimension, dimension, "dimension")
        if existing is not None and existing["dimension"] != dim.value:
            raise InvalidCreditField("a risk keeps its dimension", field="dimension")
        chance = whole("likelihood", likelihood, low=1, high=5)
        effect = whole("impact", impact, low=1, high=5)
        level = risk_level(chance, effect)
        moment = self._time("at", at)
        day = _date("review_on", review_on)
        if day < business_day(moment):
            raise InvalidCreditField("review_on is in the past", field="review_on")
        self._risk_assessed(
            risk_id=identifier,
            dimension=dim.value,
            description=text("description", description, max_length=2000),
            likelihood=chance,
            impact=effect,
            level=level.value,
            response=choose(RiskResponse, response, "response").value,
            owner=text("owner", owner, max_length=100),
            review_on=day,
            at=moment,
        )
        return level

    @event(RiskAssessed)
    def _risk_assessed(
        self,
        risk_id: str,
        dimension: str,
        description: str,
        likelihood: int,
        impact: int,
        level: str,
        response: str,
        owner: str,
        review_on: date,
        at: datetime,
    ) -> None:
        self.risks[risk_id] = {
            "dimension": dimension,
            "level": level,
            "response": response,
            "owner": owner,
            "review_on": review_on,
            "status": "open",
        }

    def close_risk(self, risk_id: str, reason: str, at: datetime) -> None:
        identifier = key("risk_id", risk_id)
        risk = self.risks.get(identifier)
        if risk is None or risk["status"] == "closed":
            raise NoSuchRisk(f"no open risk {identifier!r}", risk_id=identifier)
        self._risk_closed(
            risk_id=identifier,
            reason=text("reason", reason, max_length=500),
            at=self._time("at", at),
        )

    @event(RiskClosed)
    def _risk_closed(self, risk_id: str, reason: str, at: datetime) -> None:
        self.risks[risk_id]["status"] = "closed"


def _amounts(inputs: AssessmentInputs) -> list[Money]:
    return [getattr(inputs, name) for name in AssessmentInputs.AMOUNTS]


def _date(field: str, value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidCreditField(f"{field} must be a calendar date", field=field)
    return value
