"""Campaign 营销活动 — a launch event, an appreciation event, a promotion or a discount
policy, planned for a segment with a budget and a period, launched, its participants,
conversions and costs recorded, closed, and its effect evaluated (效果评估).

Status::

    planned 计划中 ─launch─▶ launched 进行中 ─close─▶ closed 已结束 ─evaluate─▶ evaluated 已评估
    (revise while planned; costs may be recorded until it is evaluated)

Rules this module holds, with the figures it uses:

- **Segment criteria** (目标客群): segments, VIP tiers and customer statuses, each a list;
  an empty list means "any". ``targeted`` is the number of customers matching them at
  launch, counted by the application from the read models and recorded on the launch; a
  segment with no customer cannot be launched for (``campaign.empty_segment``).
- **Period**: ``starts_on`` ≤ ``ends_on``, at most :data:`MAX_PERIOD_DAYS` days, not ended
  before the day it is planned; a campaign whose period is over cannot be launched.
- **Participation** (参与) is recorded once per customer; a **conversion** (转化) once per
  order reference, only for a participant (``campaign.not_a_participant``), not before the
  participation. Every amount is in the budget's currency.
- **Evaluation** (效果评估), only after the campaign is closed, with exact figures:

  - participation_rate = participants ÷ targeted,
  - conversions = participants with at least one converting order; orders = those orders,
  - conversion_rate = conversions ÷ participants (0 when nobody participated),
  - revenue = Σ conversion revenue; cost = Σ recorded costs,
  - acquired = customers converted as new customers (新客户),
  - cost_per_acquisition = cost ÷ acquired (``None`` when nobody was acquired),
  - roi = (revenue − cost) ÷ cost (``None`` when nothing was spent).

  Rates and ROI are fractions rounded ROUND_HALF_UP to 4 places (:data:`RATE_PLACES`);
  money is rounded ROUND_HALF_UP to the currency's minor unit (分).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from typing import Any, ClassVar, Final
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.base import DomainError, KehuAggregate
from domain.calendar import business_day as business_day
from domain.customer import CustomerStatus
from domain.guards import Guards
from domain.values import Money, minor_digits

MAX_PERIOD_DAYS: Final = 366
#: Rates and ROI: fractions with this many decimal places.
RATE_PLACES: Final = Decimal("0.0001")
#: The rounding of every computed figure (rates, ROI, cost per acquisition).
ROUNDING: Final = ROUND_HALF_UP
MAX_CRITERIA: Final = 50

_TIER_RE: Final = re.compile(r"[a-z0-9_]{1,30}")
#: Wide enough for any quotient of real amounts; the result is rounded explicitly.
_DIVISION: Final = Context(prec=60)


# -- vocabularies ---------------------------------------------------------------------


class CampaignKind(StrEnum):
    LAUNCH_EVENT = "launch_event"  # 新品发布会
    APPRECIATION_EVENT = "appreciation_event"  # 客户答谢会
    PROMOTION = "promotion"  # 促销活动
    DISCOUNT_POLICY = "discount_policy"  # 折扣政策


class CampaignStatus(StrEnum):
    PLANNED = "planned"  # 计划中
    LAUNCHED = "launched"  # 进行中
    CLOSED = "closed"  # 已结束
    EVALUATED = "evaluated"  # 已评估


class ParticipationChannel(StrEnum):
    SMS = "sms"  # 短信
    EMAIL = "email"  # 邮件
    PHONE = "phone"  # 电话
    WECHAT = "wechat"  # 微信
    ONLINE = "online"  # 线上
    IN_PERSON = "in_person"  # 现场


KIND_LABELS: Final = {
    CampaignKind.LAUNCH_EVENT: "新品发布会",
    CampaignKind.APPRECIATION_EVENT: "客户答谢会",
    CampaignKind.PROMOTION: "促销活动",
    CampaignKind.DISCOUNT_POLICY: "折扣政策",
}
STATUS_LABELS: Final = {
    CampaignStatus.PLANNED: "计划中",
    CampaignStatus.LAUNCHED: "进行中",
    CampaignStatus.CLOSED: "已结束",
    CampaignStatus.EVALUATED: "已评估",
}
CHANNEL_LABELS: Final = {
    ParticipationChannel.SMS: "短信",
    ParticipationChannel.EMAIL: "邮件",
    ParticipationChannel.PHONE: "电话",
    ParticipationChannel.WECHAT: "微信",
    ParticipationChannel.ONLINE: "线上",
    ParticipationChannel.IN_PERSON: "现场",
}

#: Costs may be recorded until the figures are frozen by the evaluation.
COSTS_OPEN: Final = frozenset(
    {CampaignStatus.PLANNED, CampaignStatus.LAUNCHED, CampaignStatus.CLOSED}
)


# -- errors ---------------------------------------------------------------------------


class CampaignError(DomainError):
    code = "campaign.error"


class InvalidCampaignField(CampaignError):
    code = "campaign.invalid_field"
    kind = "invalid"


class CampaignCurrencyMismatch(CampaignError):
    code = "campaign.currency_mismatch"
    kind = "invalid"


class NothingChanged(CampaignError):
    code = "campaign.nothing_changed"
    kind = "invalid"


class TimeOrderRefused(CampaignError):
    code = "campaign.time_before_previous"
    kind = "invalid"


class CampaignTransitionRefused(CampaignError):
    code = "campaign.transition_refused"


class EmptySegment(CampaignError):
    code = "campaign.empty_segment"


class PeriodOver(CampaignError):
    code = "campaign.period_over"


class AlreadyParticipating(CampaignError):
    code = "campaign.already_participating"


class NotAParticipant(CampaignError):
    code = "campaign.not_a_participant"


class DuplicateOrder(CampaignError):
    code = "campaign.duplicate_order"


# -- input helpers --------------------------------------------------------------------


_check = Guards(InvalidCampaignField)
choose = _check.choose
text = _check.text
key = _check.key
calendar_day = _check.calendar_day
instant = _check.instant
money = _check.money


def rate(numerator: int | Decimal, denominator: int | Decimal) -> Decimal:
    """``numerator ÷ denominator`` as a fraction rounded half up to 4 places."""
    quotient = _DIVISION.divide(Decimal(numerator), Decimal(denominator))
    return quotient.quantize(RATE_PLACES, rounding=ROUNDING)


def money_quotient(amount: Money, divisor: int) -> Money:
    """``amount ÷ divisor`` rounded half up to the currency's minor unit (分)."""
    quantum = Decimal(1).scaleb(-minor_digits(amount.currency))
    quotient = _DIVISION.divide(amount.amount, Decimal(divisor))
    return Money(quotient.quantize(quantum, rounding=ROUNDING), amount.currency)


def segment_criteria(criteria: object) -> dict[str, list[str]]:
    """The target segment (目标客群) as ``{segments, tiers, statuses}``: each a list of
    distinct values in the order given; an empty (or absent) list means any."""
    if criteria is None:
        criteria = {}
    if not isinstance(criteria, Mapping):
        raise InvalidCampaignField(
            "segment_criteria must be an object with segments, tiers and statuses",
            field="segment_criteria",
        )
    unknown = set(criteria) - {"segments", "tiers", "statuses"}
    if unknown:
        raise InvalidCampaignField(
            f"segment_criteria has segments, tiers and statuses, not {', '.join(sorted(unknown))}",
            field="segment_criteria",
        )
    out: dict[str, list[str]] = {}
    for name in ("segments", "tiers", "statuses"):
        values = criteria.get(name) or []
        field = f"segment_criteria.{name}"
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise InvalidCampaignField(f"{field} must be a list", field=field)
        if len(values) > MAX_CRITERIA:
            raise InvalidCampaignField(f"{field} has more than {MAX_CRITERIA} values", field=field)
        cleaned: list[str] = []
        for value in values:
            if name == "segments":
                item = text(field, value, max_length=60)
            elif name == "tiers":
                if not isinstance(value, str) or not _TIER_RE.fullmatch(value.strip()):
                    raise InvalidCampaignField(
                        f"{field}: a tier code is lower-case letters, digits and _, not {value!r}",
                        field=field,
                    )
                item = value.strip()
            else:
                item = choose(CustomerStatus, value, field).value
            if item not in cleaned:
                cleaned.append(item)
        out[name] = cleaned
    return out


# -- the aggregate --------------------------------------------------------------------


class Campaign(KehuAggregate):
    """营销活动: plan, launch, participants, conversions, costs, close and evaluation."""

    #: State attributes that hold personal data (none: customers are named by id).
    PERSONAL_STATE: ClassVar[tuple[str, ...]] = ()

    class Planned(Aggregate.Created):
        """活动策划: for a segment, with a budget and a period."""

        name: str
        kind: str
        segment_criteria: dict[str, list[str]]
        budget: Money
        starts_on: date
        ends_on: date
        planned_at: datetime

    class Revised(Aggregate.Event):
        """The plan restated while still planned."""

        name: str
        kind: str
        segment_criteria: dict[str, list[str]]
        budget: Money
        starts_on: date
        ends_on: date
        at: datetime

    class Launched(Aggregate.Event):
        """活动启动: ``targeted`` customers matched the segment at launch."""

        targeted: int
        at: datetime

    class ParticipationRecorded(Aggregate.Event):
        customer_id: UUID
        channel: str
        at: datetime

    class ConversionRecorded(Aggregate.Event):
        """转化: an order of a participant, and whether the campaign acquired the customer."""

        customer_id: UUID
        order_ref: str
        revenue: Money
        new_customer: bool
        at: datetime

    class CostRecorded(Aggregate.Event):
        amount: Money
        description: str
        at: datetime

    class Closed(Aggregate.Event):
        at: datetime

    class Evaluated(Aggregate.Event):
        """效果评估, with the figures as computed (see the module docstring)."""

        participants: int
        targeted: int
        participation_rate: Decimal
        conversions: int
        orders: int
        conversion_rate: Decimal
        revenue: Money
        cost: Money
        budget: Money
        acquired: int
        cost_per_acquisition: Money | None
        roi: Decimal | None
        at: datetime

    @event(Planned)
    def __init__(
        self,
        id: UUID,
        name: str,
        kind: str,
        segment_criteria: dict[str, list[str]],
        budget: Money,
        starts_on: date,
        ends_on: date,
        planned_at: datetime,
    ) -> None:
        self._apply_plan(name, kind, segment_criteria, budget, starts_on, ends_on)
        self.planned_at = planned_at
        self.status = CampaignStatus.PLANNED
        self.targeted: int | None = None
        self.launched_at: datetime | None = None
        self.closed_at: datetime | None = None
        #: customer id (text) → channel and time of the participation.
        self.participants: dict[str, dict[str, Any]] = {}
        #: order reference → customer id, revenue, new customer, time.
        self.conversions: dict[str, dict[str, Any]] = {}
        self.costs: list[dict[str, Any]] = []
        self.evaluation: dict[str, Any] | None = None

    def _apply_plan(
        self,
        name: str,
        kind: str,
        segment_criteria: dict[str, list[str]],
        budget: Money,
        starts_on: date,
        ends_on: date,
    ) -> None:
        self.name = name
        self.kind = kind
        # A copy, so that changing the state never changes a recorded event.
        self.segment_criteria = {k: list(v) for k, v in segment_criteria.items()}
        self.budget = budget
        self.starts_on = starts_on
        self.ends_on = ends_on

    @classmethod
    def plan(
        cls,
        *,
        new_id: UUID,
        name: str,
        kind: str,
        segment_criteria: Mapping[str, Sequence[str]] | None,
        budget: Money,
        starts_on: date,
        ends_on: date,
        planned_at: datetime,
    ) -> Campaign:
        """活动策划."""
        if not isinstance(new_id, UUID):
            raise InvalidCampaignField("a campaign needs an id", field="new_id")
        moment = instant("planned_at", planned_at)
        return cls(
            id=new_id,
            planned_at=moment,
            **_plan(name, kind, segment_criteria, budget, starts_on, ends_on, moment),
        )

    # -- guards ---------------------------------------------------------------------

    def _check_status(self, action: str, allowed: frozenset[CampaignStatus]) -> None:
        if self.status not in allowed:
            names = ", ".join(sorted(str(s) for s in allowed))
            raise CampaignTransitionRefused(
                f"cannot {action} a campaign that is {self.status}"
                f" ({STATUS_LABELS[CampaignStatus(self.status)]}); allowed from: {names}",
                current_status=str(self.status),
            )

    def _check_time(
        self, field: str, at: object, *, not_before: datetime | None = None, what: str = ""
    ) -> datetime:
        moment = instant(field, at)
        if moment < self.planned_at:
            raise TimeOrderRefused(
                f"{field} ({moment.isoformat()}) is before the campaign was planned"
                f" ({self.planned_at.isoformat()})",
                field=field,
            )
        if not_before is not None and moment < not_before:
            raise TimeOrderRefused(
                f"{field} ({moment.isoformat()}) is before {what} ({not_before.isoformat()})",
                field=field,
            )
        return moment

    def _amount(self, field: str, value: object, *, positive: bool) -> Money:
        amount = money(field, value, positive=positive)
        if amount.currency != self.budget.currency:
            raise CampaignCurrencyMismatch(
                f"{field} is in {amount.currency}, but the campaign's budget is in"
                f" {self.budget.currency}",
                field=field,
                currency=amount.currency,
                expected=self.budget.currency,
            )
        return amount

    # -- planning -------------------------------------------------------------------

    def revise(
        self,
        at: datetime,
        *,
        name: str | None = None,
        kind: str | None = None,
        segment_criteria: Mapping[str, Sequence[str]] | None = None,
        budget: Money | None = None,
        starts_on: date | None = None,
        ends_on: date | None = None,
    ) -> None:
        """修订活动方案 while planned; anything not given stays."""
        self._check_status("revise", frozenset({CampaignStatus.PLANNED}))
        moment = self._check_time("at", at)
        plan = _plan(
            self.name if name is None else name,
            self.kind if kind is None else kind,
            self.segment_criteria if segment_criteria is None else segment_criteria,
            self.budget if budget is None else budget,
            self.starts_on if starts_on is None else starts_on,
            self.ends_on if ends_on is None else ends_on,
            moment,
        )
        current = {
            "name": self.name,
            "kind": self.kind,
            "segment_criteria": self.segment_criteria,
            "budget": self.budget,
            "starts_on": self.starts_on,
            "ends_on": self.ends_on,
        }
        if plan == current:
            raise NothingChanged("the revision changes nothing in the plan")
        self._revised(**plan, at=moment)

    @event(Revised)
    def _revised(
        self,
        name: str,
        kind: str,
        segment_criteria: dict[str, list[str]],
        budget: Money,
        starts_on: date,
        ends_on: date,
        at: datetime,
    ) -> None:
        self._apply_plan(name, kind, segment_criteria, budget, starts_on, ends_on)

    def launch(self, targeted: int, at: datetime) -> None:
        """活动启动, with the number of customers the segment held then."""
        self._check_status("launch", frozenset({CampaignStatus.PLANNED}))
        if isinstance(targeted, bool) or not isinstance(targeted, int) or targeted < 0:
            raise InvalidCampaignField(
                f"targeted must be a whole number of customers, not {targeted!r}",
                field="targeted",
            )
        moment = self._check_time("at", at)
        if business_day(moment) > self.ends_on:
            raise PeriodOver(
                f"the campaign's period ended on {self.ends_on}; it cannot be launched on"
                f" {business_day(moment)}",
                ends_on=self.ends_on.isoformat(),
            )
        if targeted == 0:
            raise EmptySegment(
                "no customer matches the campaign's segment criteria; revise them first",
                **{k: ",".join(v) for k, v in self.segment_criteria.items()},
            )
        self._launched(targeted=targeted, at=moment)

    @event(Launched)
    def _launched(self, targeted: int, at: datetime) -> None:
        self.status = CampaignStatus.LAUNCHED
        self.targeted = targeted
        self.launched_at = at

    # -- while it runs ----------------------------------------------------------------

    def record_participation(self, customer_id: UUID, channel: str, at: datetime) -> None:
        """参与: once per customer, while the campaign runs."""
        self._check_status("record a participation in", frozenset({CampaignStatus.LAUNCHED}))
        customer = _customer(customer_id)
        if str(customer) in self.participants:
            raise AlreadyParticipating(
                f"customer {customer} already participates in the campaign",
                customer_id=str(customer),
            )
        assert self.launched_at is not None
        self._participation_recorded(
            customer_id=customer,
            channel=choose(ParticipationChannel, channel, "channel").value,
            at=self._check_time("at", at, not_before=self.launched_at, what="the launch"),
        )

    @event(ParticipationRecorded)
    def _participation_recorded(self, customer_id: UUID, channel: str, at: datetime) -> None:
        self.participants[str(customer_id)] = {"channel": channel, "at": at}

    def record_conversion(
        self,
        customer_id: UUID,
        order_ref: str,
        revenue: Money,
        new_customer: bool,
        at: datetime,
    ) -> None:
        """转化: a participant's order (once per order reference); ``new_customer`` when
        the campaign acquired the customer."""
        self._check_status("record a conversion in", frozenset({CampaignStatus.LAUNCHED}))
        customer = _customer(customer_id)
        reference = key("order_ref", order_ref)
        if reference in self.conversions:
            raise DuplicateOrder(
                f"order {reference} is already recorded as a conversion", order_ref=reference
            )
        participation = self.participants.get(str(customer))
        if participation is None:
            raise NotAParticipant(
                f"customer {customer} has not participated in the campaign; record the"
                " participation first",
                customer_id=str(customer),
            )
        if not isinstance(new_customer, bool):
            raise InvalidCampaignField("new_customer must be true or false", field="new_customer")
        self._conversion_recorded(
            customer_id=customer,
            order_ref=reference,
            revenue=self._amount("revenue", revenue, positive=False),
            new_customer=new_customer,
            at=self._check_time(
                "at", at, not_before=participation["at"], what="the customer's participation"
            ),
        )

    @event(ConversionRecorded)
    def _conversion_recorded(
        self, customer_id: UUID, order_ref: str, revenue: Money, new_customer: bool, at: datetime
    ) -> None:
        self.conversions[order_ref] = {
            "customer_id": str(customer_id),
            "revenue": revenue,
            "new_customer": new_customer,
            "at": at,
        }

    def record_cost(self, amount: Money, description: str, at: datetime) -> None:
        """活动费用: from planning until the evaluation freezes the figures."""
        self._check_status("record a cost of", COSTS_OPEN)
        self._cost_recorded(
            amount=self._amount("amount", amount, positive=True),
            description=text("description", description, max_length=500),
            at=self._check_time("at", at),
        )

    @event(CostRecorded)
    def _cost_recorded(self, amount: Money, description: str, at: datetime) -> None:
        self.costs.append({"amount": amount, "description": description, "at": at})

    def close(self, at: datetime) -> None:
        """活动结束: no more participants or conversions."""
        self._check_status("close", frozenset({CampaignStatus.LAUNCHED}))
        assert self.launched_at is not None
        self._closed(at=self._check_time("at", at, not_before=self.launched_at, what="the launch"))

    @event(Closed)
    def _closed(self, at: datetime) -> None:
        self.status = CampaignStatus.CLOSED
        self.closed_at = at

    # -- evaluation -------------------------------------------------------------------

    def figures(self) -> dict[str, Any]:
        """The evaluation's figures as they stand (see the module docstring)."""
        currency = self.budget.currency
        participants = len(self.participants)
        targeted = self.targeted or 0
        converted = {c["customer_id"] for c in self.conversions.values()}
        acquired = {c["customer_id"] for c in self.conversions.values() if c["new_customer"]}
        revenue = Money.zero(currency)
        for conversion in self.conversions.values():
            revenue = revenue + conversion["revenue"]
        cost = Money.zero(currency)
        for item in self.costs:
            cost = cost + item["amount"]
        return {
            "participants": participants,
            "targeted": targeted,
            "participation_rate": rate(participants, targeted) if targeted else Decimal("0.0000"),
            "conversions": len(converted),
            "orders": len(self.conversions),
            "conversion_rate": (
                rate(len(converted), participants) if participants else Decimal("0.0000")
            ),
            "revenue": revenue,
            "cost": cost,
            "budget": self.budget,
            "acquired": len(acquired),
            "cost_per_acquisition": money_quotient(cost, len(acquired)) if acquired else None,
            "roi": None if cost.is_zero() else rate((revenue - cost).amount, cost.amount),
        }

    def evaluate(self, at: datetime) -> None:
        """效果评估, once, after the campaign is closed."""
        self._check_status("evaluate", frozenset({CampaignStatus.CLOSED}))
        assert self.closed_at is not None
        moment = self._check_time("at", at, not_before=self.closed_at, what="the close")
        self._evaluated(**self.figures(), at=moment)

    @event(Evaluated)
    def _evaluated(
        self,
        participants: int,
        targeted: int,
        participation_rate: Decimal,
        conversions: int,
        orders: int,
        conversion_rate: Decimal,
        revenue: Money,
        cost: Money,
        budget: Money,
        acquired: int,
        cost_per_acquisition: Money | None,
        roi: Decimal | None,
        at: datetime,
    ) -> None:
        self.status = CampaignStatus.EVALUATED
        self.evaluation = {
            "participants": participants,
            "targeted": targeted,
            "participation_rate": participation_rate,
            "conversions": conversions,
            "orders": orders,
            "conversion_rate": conversion_rate,
            "revenue": revenue,
            "cost": cost,
            "budget": budget,
            "acquired": acquired,
            "cost_per_acquisition": cost_per_acquisition,
            "roi": roi,
            "at": at,
        }


def _customer(customer_id: object) -> UUID:
    if not isinstance(customer_id, UUID):
        raise InvalidCampaignField("customer_id must be a customer's id", field="customer_id")
    return customer_id


def _plan(
    name: str,
    kind: str,
    criteria: Mapping[str, Sequence[str]] | None,
    budget: Money,
    starts_on: date,
    ends_on: date,
    at: datetime,
) -> dict[str, Any]:
    """The plan as event fields, checked."""
    start = calendar_day("starts_on", starts_on)
    end = calendar_day("ends_on", ends_on)
    if end < start:
        raise InvalidCampaignField(
            f"ends_on ({end}) is before starts_on ({start})", field="ends_on"
        )
    if end - start > timedelta(days=MAX_PERIOD_DAYS - 1):
        raise InvalidCampaignField(
            f"a campaign runs at most {MAX_PERIOD_DAYS} days; {start} to {end} is longer",
            field="ends_on",
        )
    if end < business_day(at):
        raise InvalidCampaignField(
            f"the period ended on {end}, before the plan ({business_day(at)})", field="ends_on"
        )
    return {
        "name": text("name", name, max_length=200),
        "kind": choose(CampaignKind, kind, "kind").value,
        "segment_criteria": segment_criteria(criteria),
        "budget": money("budget", budget),
        "starts_on": start,
        "ends_on": end,
    }
