"""Credit profiles (信用管理) and the customer risk register (风险管理): commands.

The credit section (信用管理科) assesses and checks orders; the risk section (风险管理科)
assesses risks; a department manager approves limits above the threshold, never the
person who asked for them.

A credit check records its decision either way. When it blocks the order, the decision is
stored first and then refused with :class:`OrderBlockedError` (HTTP 409 with the stable
code of the reason, e.g. ``credit.limit_exceeded``) carrying the recorded event's position
and figures, so the caller learns both that it was refused and where the evidence is.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from application.clock import Clock, utc_now
from application.context import CommandContext
from application.errors import ApplicationError
from application.permissions import authorize
from application.service import ContextService
from application.store import CommandResult, Kehu
from domain.credit import (
    BLOCKING_ERRORS,
    CreditPolicy,
    CreditProfile,
    Decision,
    business_day,
    credit_profile_id,
)
from domain.customer import Customer
from domain.scorecard import AssessmentInputs


class OrderBlockedError(ApplicationError):
    """The order was refused; the decision is recorded (``position``)."""

    status = 409
    title = "Order blocked by credit control"
    code: ClassVar[str] = "credit.limit_exceeded"

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code  # type: ignore[misc]


class CreditService(ContextService[CreditProfile]):
    kind = CreditProfile
    context = "credit"

    def __init__(
        self, store: Kehu, clock: Clock = utc_now, policy: CreditPolicy | None = None
    ) -> None:
        super().__init__(store, clock)
        self.policy = policy or CreditPolicy()

    @staticmethod
    def profile_id(customer_id: UUID) -> UUID:
        return credit_profile_id(customer_id)

    def open(
        self,
        ctx: CommandContext,
        *,
        customer_id: UUID,
        currency: str = "CNY",
        at: datetime | None = None,
    ) -> CommandResult:
        """开立信用档案 for an existing customer (one per customer)."""
        authorize(ctx.principal, "credit.open")
        self.store.load(customer_id, Customer)
        moment = self.now(at)
        return self._create(
            ctx,
            "credit.open",
            lambda: CreditProfile.open(customer_id=customer_id, at=moment, currency=currency),
        )

    def assess(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        inputs: dict[str, Any],
        assessment_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """信用评估 with the scorecard."""
        moment = self.now(at)
        identifier = assessment_id or uuid4().hex

        def act(profile: CreditProfile) -> None:
            profile.assess(identifier, AssessmentInputs.parse(inputs, profile.currency), moment)

        return self._act(ctx, "credit.assess", profile_id, act)

    def schedule_review(
        self, ctx: CommandContext, profile_id: UUID, *, due_on: date, reason: str
    ) -> CommandResult:
        return self._act(
            ctx,
            "credit.schedule_review",
            profile_id,
            lambda p: p.schedule_review(due_on, reason),
        )

    def set_limit(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        limit: str,
        term_days: int,
        prepayment_ratio: str = "0",
        reason: str,
        request_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """设定信用额度. Above the threshold this records a request for approval
        (``CreditProfile.LimitChangeRequested``) instead of the limit."""
        moment = self.now(at)
        identifier = request_id or uuid4().hex
        return self._act(
            ctx,
            "credit.set_limit",
            profile_id,
            lambda p: p.set_limit(
                request_id=identifier,
                limit=limit,
                term_days=term_days,
                prepayment_ratio=prepayment_ratio,
                reason=reason,
                by=ctx.principal.id,
                at=moment,
                policy=self.policy,
            ),
        )

    def approve_limit_change(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        request_id: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "credit.approve_limit_change",
            profile_id,
            lambda p: p.approve_limit_change(request_id, by=ctx.principal.id, at=moment),
        )

    def reject_limit_change(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        request_id: str,
        reason: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "credit.reject_limit_change",
            profile_id,
            lambda p: p.reject_limit_change(
                request_id, reason=reason, by=ctx.principal.id, at=moment
            ),
        )

    def check_order(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        order_id: str,
        amount: str,
        at: datetime | None = None,
    ) -> CommandResult:
        """信用检查. Approved: the result, with the reservation made. Blocked: the decision
        is recorded, then :class:`OrderBlockedError` is raised (also on an
        Idempotency-Key replay, so a retry sees the same refusal)."""
        moment = self.now(at)
        result = self._act(
            ctx,
            "credit.check_order",
            profile_id,
            lambda p: p.check_order(order_id, amount, moment, self.policy),
        )
        decided = self.store.history(profile_id, after_version=result.version - 1, limit=1)
        event = decided[0].payload if decided else {}
        if decided and decided[0].type == "CreditProfile.OrderBlocked":
            decision = Decision(event["decision"])
            raise OrderBlockedError(
                BLOCKING_ERRORS[decision].code,
                f"order {event['order_id']} blocked: {event['detail']}",
                decision=decision.value,
                order_id=event["order_id"],
                credit_amount=str(event["credit_amount"]),
                available=str(event["available"]),
                id=str(result.id),
                version=result.version,
                position=result.position,
            )
        return result

    def release_blocked_order(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        order_id: str,
        reason: str,
        at: datetime | None = None,
    ) -> CommandResult:
        """人工放行 by a department manager: the blocked order is reserved anyway."""
        moment = self.now(at)
        return self._act(
            ctx,
            "credit.release_blocked_order",
            profile_id,
            lambda p: p.release_blocked_order(order_id, reason, ctx.principal.id, moment),
        )

    def release_reservation(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        order_id: str,
        reason: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "credit.release_reservation",
            profile_id,
            lambda p: p.release(order_id, reason, moment),
        )

    def record_invoice(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        invoice_id: str,
        order_id: str,
        amount: str,
        invoiced_on: date | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        day = invoiced_on or business_day(moment)
        return self._act(
            ctx,
            "credit.record_invoice",
            profile_id,
            lambda p: p.invoice(invoice_id, order_id, amount, day, moment),
        )

    def record_payment(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        invoice_id: str,
        amount: str,
        paid_on: date | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        day = paid_on or business_day(moment)
        return self._act(
            ctx,
            "credit.record_payment",
            profile_id,
            lambda p: p.receive_payment(invoice_id, amount, day, moment),
        )

    def record_overdue(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        invoice_id: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "credit.record_overdue",
            profile_id,
            lambda p: p.record_overdue(invoice_id, moment),
        )

    def block(
        self, ctx: CommandContext, profile_id: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "credit.block", profile_id, lambda p: p.block(reason, moment))

    def unblock(
        self, ctx: CommandContext, profile_id: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "credit.unblock", profile_id, lambda p: p.unblock(reason, moment))

    def start_repair_plan(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        actions: list[str],
        target_rating: str,
        due_on: date,
        plan_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        identifier = plan_id or uuid4().hex
        return self._act(
            ctx,
            "credit.start_repair_plan",
            profile_id,
            lambda p: p.start_repair_plan(identifier, actions, target_rating, due_on, moment),
        )

    def record_repair_progress(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        plan_id: str,
        action: int,
        done: bool = True,
        note: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "credit.record_repair_progress",
            profile_id,
            lambda p: p.record_repair_progress(plan_id, action, done, note, moment),
        )

    def complete_repair_plan(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        plan_id: str,
        inputs: dict[str, Any],
        assessment_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        identifier = assessment_id or uuid4().hex

        def act(profile: CreditProfile) -> None:
            parsed = AssessmentInputs.parse(inputs, profile.currency)
            profile.complete_repair_plan(plan_id, identifier, parsed, moment)

        return self._act(ctx, "credit.complete_repair_plan", profile_id, act)

    def contest(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        grounds: str,
        contest_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """PIPL art. 24: the customer contests the automated rating."""
        moment = self.now(at)
        identifier = contest_id or uuid4().hex
        return self._act(
            ctx, "credit.contest", profile_id, lambda p: p.contest(identifier, grounds, moment)
        )

    def start_review(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        contest_id: str,
        at: datetime | None = None,
    ) -> CommandResult:
        """A person takes up the contest (人工复核); the reviewer is the caller."""
        moment = self.now(at)
        reviewer = ctx.principal.id  # an identity: names are not unique
        return self._act(
            ctx,
            "credit.review_contest",
            profile_id,
            lambda p: p.start_review(contest_id, reviewer, moment),
        )

    def decide_contest(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        contest_id: str,
        outcome: str,
        explanation: str,
        rating: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        reviewer = ctx.principal.id  # an identity: names are not unique
        return self._act(
            ctx,
            "credit.review_contest",
            profile_id,
            lambda p: p.decide_contest(
                contest_id,
                reviewer=reviewer,
                outcome=outcome,
                explanation=explanation,
                rating=rating,
                at=moment,
            ),
        )

    def assess_risk(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        dimension: str,
        description: str,
        likelihood: int,
        impact: int,
        response: str,
        owner: str,
        review_on: date,
        risk_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """风险识别与评估: identify a risk or re-assess one (same ``risk_id``)."""
        moment = self.now(at)
        identifier = risk_id or uuid4().hex
        return self._act(
            ctx,
            "credit.assess_risk",
            profile_id,
            lambda p: p.assess_risk(
                risk_id=identifier,
                dimension=dimension,
                description=description,
                likelihood=likelihood,
                impact=impact,
                response=response,
                owner=owner,
                review_on=review_on,
                at=moment,
            ),
        )

    def close_risk(
        self,
        ctx: CommandContext,
        profile_id: UUID,
        *,
        risk_id: str,
        reason: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "credit.close_risk", profile_id, lambda p: p.close_risk(risk_id, reason, moment)
        )
