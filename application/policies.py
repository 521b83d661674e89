"""Time-driven policies: kehu acting on its own, as the system actor.

Each run asks a read model for candidates, then issues ordinary commands (recorded with
an envelope like any other). The Idempotency-Key of each command names the deadline it
acts on, so a deadline is acted on once, however many schedulers run or how often.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from application.clock import Clock, utc_now
from application.complaints import ComplaintService
from application.context import SYSTEM, CommandContext
from application.contracts import ContractService
from application.credit import CreditService
from application.errors import ApplicationError
from application.service_requests import ServiceRequestService
from domain.base import DomainError
from domain.contract import Contract
from domain.credit import business_day
from domain.sla import SlaStatus

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
