"""Time-driven policies: kehu acting on its own, as the system actor.

Each run asks a read model for candidates, then issues ordinary commands (recorded with
an envelope like any other). The Idempotency-Key of each command names the deadline it
acts on, so a deadline is acted on once, however many schedulers run or how often.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Protocol
from uuid import UUID

from application.clock import Clock, utc_now
from application.complaints import ComplaintService
from application.context import SYSTEM, CommandContext
from application.contracts import ContractService
from application.credit import CreditService
from application.errors import ApplicationError
from application.membership import MembershipService
from application.service_requests import ServiceRequestService
from application.store import CommandResult
from application.surveys import SurveyService
from domain.base import DomainError
from domain.contract import Contract
from domain.credit import business_day
from domain.sla import SlaStatus
from domain.survey import SurveyChannel

log = logging.getLogger("kehu.policies")


class DeadlineView(Protocol):
    """What the SLA policy needs to know of an open item."""

    @property
    def id(self) -> str: ...
    @property
    def escalation_level(self) -> int: ...
    @property
    def breaches(self) -> list[dict[str, str]]: ...
    @property
    def sla(self) -> SlaStatus: ...


@dataclass(frozen=True)
class Deadline:
    target: str
    due_at: datetime
    target_hours: Decimal
    used_hours: Decimal
    late_by: Decimal


def next_deadline(status: SlaStatus) -> Deadline | None:
    """The first unmet deadline of a clock, if any."""
    if status.responded_at is None:
        return Deadline(
            "response",
            status.response_due_at,
            status.targets.response_hours,
            status.response_hours,
            status.response_late_by,
        )
    if status.resolved_at is None:
        return Deadline(
            "resolution",
            status.resolution_due_at,
            status.targets.resolution_hours,
            status.resolution_hours,
            status.resolution_late_by,
        )
    return None


class SlaEscalation:
    """Watches the SLA clocks of one kind of item. A passed deadline is recorded as a
    breach with how late it is (and, for complaints, escalated); where the service can
    escalate early, a deadline with a quarter of its time left is escalated once."""

    def __init__(
        self,
        name: str,
        service: ComplaintService | ServiceRequestService,
        candidates: Callable[[datetime], Sequence[DeadlineView]],
        clock: Clock = utc_now,
        near_fraction: Decimal = Decimal("0.25"),
    ) -> None:
        self.name = name
        self.service = service
        self.candidates = candidates
        self.clock = clock
        self.near_fraction = near_fraction

    def run_once(self) -> int:
        """Act on every due deadline; return how many commands recorded something."""
        now = self.clock()
        acted = 0
        for item in self.candidates(now):
            deadline = next_deadline(item.sla)
            if deadline is None:
                continue
            due = deadline.due_at.isoformat()
            recorded = {(b["target"], datetime.fromisoformat(b["due_at"])) for b in item.breaches}
            try:
                if deadline.late_by > 0:
                    if (deadline.target, deadline.due_at) in recorded:
                        continue
                    result = self.service.record_breach(
                        self._context(f"{self.name}:breach:{item.id}:{deadline.target}:{due}"),
                        UUID(item.id),
                        target=deadline.target,
                        due_at=deadline.due_at,
                        late_by_hours=deadline.late_by,
                        detected_at=now,
                    )
                elif (
                    isinstance(self.service, ComplaintService)
                    and item.escalation_level == 0
                    and deadline.target_hours - deadline.used_hours
                    <= deadline.target_hours * self.near_fraction
                ):
                    result = self.service.escalate_near_deadline(
                        self._context(f"{self.name}:near:{item.id}:{deadline.target}:{due}"),
                        UUID(item.id),
                        target=deadline.target,
                        due_at=deadline.due_at,
                        remaining_hours=deadline.target_hours - deadline.used_hours,
                        at=now,
                    )
                else:
                    continue
            except (DomainError, ApplicationError) as refused:
                # The read model may lag the store: the aggregate has the last word.
                log.info("%s skipped %s: %s", self.name, item.id, refused)
                continue
            acted += 1 if result.events and not result.replayed else 0
        return acted

    def _context(self, key: str) -> CommandContext:
        return CommandContext.for_principal(
            SYSTEM, idempotency_key=key, request_hash=key, reason="SLA policy"
        )


class CreditOverdue:
    """Unpaid invoices past their due date are recorded overdue, once each (the
    Idempotency-Key names the invoice), which moves them from used to overdue and, past
    the tolerance, blocks new orders."""

    def __init__(
        self,
        name: str,
        service: CreditService,
        candidates: Callable[[date], Sequence[tuple[str, str]]],
        clock: Clock = utc_now,
    ) -> None:
        self.name = name
        self.service = service
        self.candidates = candidates
        self.clock = clock

    def run_once(self) -> int:
        now = self.clock()
        acted = 0
        for profile_id, invoice_id in self.candidates(business_day(now)):
            key = f"{self.name}:{profile_id}:{invoice_id}"
            context = CommandContext.for_principal(
                SYSTEM, idempotency_key=key, request_hash=key, reason="overdue policy"
            )
            try:
                result = self.service.record_overdue(
                    context, UUID(profile_id), invoice_id=invoice_id, at=now
                )
            except (DomainError, ApplicationError) as refused:
                log.info("%s skipped %s/%s: %s", self.name, profile_id, invoice_id, refused)
                continue
            acted += 1 if result.events and not result.replayed else 0
        return acted


class ContractDeadlines:
    """Facts that follow from a contract's calendar, recorded once each: in force when the
    start date of a signed contract arrives, expired the day after its end date, an
    instalment overdue, the data hand-over deadline missed. The aggregate says what is due
    (``Contract.due_time_events``); the Idempotency-Key names the contract and the fact."""

    def __init__(
        self,
        name: str,
        service: ContractService,
        candidates: Callable[[date], Sequence[UUID]],
        clock: Clock = utc_now,
    ) -> None:
        self.name = name
        self.service = service
        self.candidates = candidates
        self.clock = clock

    def run_once(self) -> int:
        now = self.clock()
        today = business_day(now)
        acted = 0
        for contract_id in self.candidates(today):
            try:
                due = self.service.store.load(contract_id, Contract).due_time_events(today)
            except (DomainError, ApplicationError) as refused:
                log.info("%s skipped %s: %s", self.name, contract_id, refused)
                continue
            for fact in due:
                acted += self._record(contract_id, fact, now, today)
        return acted

    def _record(
        self, contract_id: UUID, fact: dict[str, object], now: datetime, today: date
    ) -> int:
        what = str(fact["event"])
        instalment = fact.get("instalment")
        key = f"{self.name}:{contract_id}:{what}" + (f":{instalment}" if instalment else "")
        context = CommandContext.for_principal(
            SYSTEM, idempotency_key=key, request_hash=key, reason="contract calendar"
        )
        service = self.service
        try:
            if what == "activate":
                result = service.activate(context, contract_id, at=now)
            elif what == "expire":
                result = service.terminate(context, contract_id, reason="expiry", at=now)
            elif what == "payment_overdue":
                assert isinstance(instalment, int)
                result = service.mark_payment_overdue(
                    context, contract_id, instalment=instalment, as_of=today
                )
            elif what == "hand_over_overdue":
                result = service.mark_hand_over_overdue(context, contract_id, as_of=today)
            else:
                log.warning("%s: unknown due fact %s for %s", self.name, what, contract_id)
                return 0
        except (DomainError, ApplicationError) as refused:
            log.info("%s skipped %s/%s: %s", self.name, contract_id, what, refused)
            return 0
        return 1 if result.events and not result.replayed else 0


@dataclass(frozen=True)
class AtRiskRule:
    """When a customer counts as at risk (流失风险), from configuration."""

    quiet_days: int = 180
    complaints: int = 3
    complaint_window_days: int = 90
    low_rating: int = 2


class MembershipCalendar:
    """The membership's time-driven facts, each recorded once by the system actor: a tier
    evaluated at the end of its term (renewed, upgraded, downgraded or lapsed by the
    declared policy), points and coupons expired, and customers flagged at risk (流失预警)
    with a prevention task naming the reasons. Each Idempotency-Key names the customer and
    the situation (the term's end, the expiry date, the at-risk anchor)."""

    def __init__(
        self,
        name: str,
        service: MembershipService,
        *,
        tiers_due: Callable[[date], Sequence[tuple[str, date]]],
        points_due: Callable[[date], Sequence[tuple[str, date]]],
        coupons_due: Callable[[date], Sequence[tuple[str, date]]],
        at_risk: Callable[[date], Sequence[tuple[str, Sequence[str], str]]],
        clock: Clock = utc_now,
        task_days: int = 7,
    ) -> None:
        self.name = name
        self.service = service
        self.tiers_due = tiers_due
        self.points_due = points_due
        self.coupons_due = coupons_due
        self.at_risk = at_risk
        self.clock = clock
        self.task_days = task_days

    def _context(self, key: str, reason: str) -> CommandContext:
        return CommandContext.for_principal(
            SYSTEM, idempotency_key=key, request_hash=key, reason=reason
        )

    def _run(
        self, key: str, reason: str, command: Callable[[CommandContext], CommandResult]
    ) -> int:
        try:
            result = command(self._context(key, reason))
        except (DomainError, ApplicationError) as refused:
            log.info("%s skipped %s: %s", self.name, key, refused)
            return 0
        return 1 if result.events and not result.replayed else 0

    def run_once(self) -> int:
        now = self.clock()
        today = business_day(now)
        service = self.service
        jobs = (
            (
                self.tiers_due,
                "tier",
                "tier evaluation at the end of the term",
                service.evaluate_tier,
            ),
            (self.points_due, "points", "points expiry", service.expire_points),
            (self.coupons_due, "coupons", "coupon expiry", service.expire_coupons),
        )
        acted = 0
        for candidates, what, reason, command in jobs:
            for customer, due in candidates(today):
                acted += self._run(
                    f"{self.name}:{what}:{customer}:{due}",
                    reason,
                    partial(command, customer_id=UUID(customer), on=today),
                )
        for customer, reasons, anchor in self.at_risk(today):
            acted += self._flag(UUID(customer), list(reasons), anchor, now, today)
        return acted

    def _flag(
        self, customer: UUID, reasons: list[str], anchor: str, now: datetime, today: date
    ) -> int:
        """Flag the customer at risk with a prevention task, once per situation (the
        anchor changes when the situation does)."""
        return self._run(
            f"{self.name}:at-risk:{customer}:{anchor}",
            "at-risk policy",
            lambda ctx: self.service.flag_at_risk(
                ctx,
                customer,
                reasons=reasons,
                due_on=today + timedelta(days=self.task_days),
                task_id=f"at-risk-{anchor}"[:64],
                at=now,
            ),
        )


class SurveyOnResolution:
    """回访: every complaint or service request resolved gets one satisfaction survey, as
    the system actor. The read side lists the resolved cases without a survey, each with
    the handler *as recorded when it was resolved* and the customer's segment then; the
    survey keeps both, so reassigning the case later never moves the rating. A case gets
    one survey however often this runs: the survey's id derives from the case and the
    Idempotency-Key names it.

    Only cases resolved within ``lookback`` are considered, so that switching the policy on
    does not survey customers about cases long closed. The survey goes out through the
    case's channel when a survey can use it (``channel`` in the candidate), else through
    ``channel``; answers are due ``respond_days`` days later."""

    def __init__(
        self,
        name: str,
        service: SurveyService,
        candidates: Callable[[datetime], Sequence[Mapping[str, Any]]],
        clock: Clock = utc_now,
        *,
        channel: str = SurveyChannel.SMS.value,
        respond_days: int = 14,
        lookback: timedelta = timedelta(days=30),
    ) -> None:
        self.name = name
        self.service = service
        self.candidates = candidates
        self.clock = clock
        self.channel = SurveyChannel(channel).value
        self.respond_days = respond_days
        self.lookback = lookback

    def run_once(self) -> int:
        now = self.clock()
        respond_by = business_day(now) + timedelta(days=self.respond_days)
        acted = 0
        for case in self.candidates(now - self.lookback):
            kind, source = str(case["kind"]), str(case["source_id"])
            key = f"{self.name}:{kind}:{source}"
            context = CommandContext.for_principal(
                SYSTEM, idempotency_key=key, request_hash=key, reason="survey after resolution"
            )
            given = case.get("channel")
            channel = given if given in {c.value for c in SurveyChannel} else self.channel
            try:
                result = self.service.request(
                    context,
                    customer_id=UUID(str(case["customer_id"])),
                    kind=kind,
                    source_id=UUID(source),
                    channel=str(channel),
                    respond_by=respond_by,
                    handler_id=case.get("handler_id"),
                    segment=case.get("segment"),
                    at=now,
                )
            except (DomainError, ApplicationError) as refused:
                # The read model may lag the store: the survey may exist already.
                log.info("%s skipped %s: %s", self.name, key, refused)
                continue
            acted += 1 if result.events and not result.replayed else 0
        return acted


class SurveyExpiry:
    """逾期未回复: a survey still unanswered after its ``respond_by`` day is recorded
    expired, once (the Idempotency-Key names the survey); it then refuses a late answer."""

    def __init__(
        self,
        name: str,
        service: SurveyService,
        candidates: Callable[[date], Sequence[UUID | str]],
        clock: Clock = utc_now,
    ) -> None:
        self.name = name
        self.service = service
        self.candidates = candidates
        self.clock = clock

    def run_once(self) -> int:
        today = business_day(self.clock())
        acted = 0
        for survey in self.candidates(today):
            key = f"{self.name}:{survey}"
            context = CommandContext.for_principal(
                SYSTEM, idempotency_key=key, request_hash=key, reason="survey expiry"
            )
            try:
                result = self.service.expire(context, UUID(str(survey)), on=today)
            except (DomainError, ApplicationError) as refused:
                log.info("%s skipped %s: %s", self.name, survey, refused)
                continue
            acted += 1 if result.events and not result.replayed else 0
        return acted


class Policy(Protocol):
    name: str

    def run_once(self) -> int: ...


class Scheduler:
    """Runs time-driven policies every ``interval`` seconds in a background thread."""

    def __init__(self, policies: Sequence[Policy], interval: float = 30.0) -> None:
        self.policies = list(policies)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> dict[str, int]:
        return {policy.name: policy.run_once() for policy in self.policies}

    def _loop(self) -> None:
        while not self._stop.is_set():
            for policy in self.policies:
                try:
                    policy.run_once()
                except Exception:  # a failing policy must not stop the others
                    log.exception("policy %s failed", policy.name)
            self._stop.wait(self.interval)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
