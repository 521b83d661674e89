"""Complaint commands (投诉处理) and single-complaint reads."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from application.context import CommandContext
from application.permissions import authorize
from application.service import ContextService
from application.store import CommandResult
from domain.complaint import Complaint
from domain.customer import Customer
from domain.values import Money


class ComplaintService(ContextService[Complaint]):
    """Commands on complaints; the complaints section (投诉管理科) handles them."""

    kind = Complaint
    context = "complaints"

    def lodge(
        self,
        ctx: CommandContext,
        *,
        customer_id: UUID,
        channel: str,
        category: str,
        severity: str,
        description: str,
        received_at: datetime | None = None,
        remedy_sought: str | None = None,
        vip_tier: str | None = None,
    ) -> CommandResult:
        authorize(ctx.principal, "complaints.lodge")
        customer = self.store.load(customer_id, Customer)  # it must exist (404 otherwise)
        # 优先服务: the customer's VIP tier as it stands, unless the caller gave one; the SLA
        # policy's tier overrides give the tiers with priority service tighter targets.
        tier = vip_tier if vip_tier is not None else customer.tier
        new_id = uuid4()
        at = self.now(received_at)
        return self._create(
            ctx,
            "complaints.lodge",
            lambda: Complaint.lodge(
                new_id=new_id,
                customer_id=customer_id,
                channel=channel,
                category=category,
                severity=severity,
                description=description,
                received_at=at,
                remedy_sought=remedy_sought,
                vip_tier=tier,
            ),
        )

    def acknowledge(
        self,
        ctx: CommandContext,
        complaint_id: UUID,
        *,
        at: datetime | None = None,
        note: str | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "complaints.acknowledge", complaint_id, lambda c: c.acknowledge(moment, note)
        )

    def classify(
        self,
        ctx: CommandContext,
        complaint_id: UUID,
        *,
        category: str,
        severity: str,
        reason: str | None = None,
    ) -> CommandResult:
        return self._act(
            ctx,
            "complaints.classify",
            complaint_id,
            lambda c: c.classify(category, severity, reason),
        )

    def assign(
        self,
        ctx: CommandContext,
        complaint_id: UUID,
        *,
        handler_id: str,
        handler_name: str,
        section: str = "complaints",
    ) -> CommandResult:
        return self._act(
            ctx,
            "complaints.assign",
            complaint_id,
            lambda c: c.assign(handler_id, handler_name, section),
        )

    def escalate(
        self,
        ctx: CommandContext,
        complaint_id: UUID,
        *,
        reason: str,
        level: int | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "complaints.escalate", complaint_id, lambda c: c.escalate(reason, moment, level)
        )

    def record_investigation(
        self, ctx: CommandContext, complaint_id: UUID, *, findings: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "complaints.record_investigation",
            complaint_id,
            lambda c: c.record_investigation(findings, moment),
        )

    def propose_resolution(
        self,
        ctx: CommandContext,
        complaint_id: UUID,
        *,
        summary: str,
        compensation: str | Decimal | None = None,
        currency: str = "CNY",
    ) -> CommandResult:
        def act(complaint: Complaint) -> None:  # parsed after the role check
            money = (
                Money.parse_non_negative(compensation, currency)
                if compensation is not None
                else None
            )
            complaint.propose_resolution(summary, money)

        return self._act(ctx, "complaints.propose_resolution", complaint_id, act)

    def resolve(
        self, ctx: CommandContext, complaint_id: UUID, *, summary: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "complaints.resolve", complaint_id, lambda c: c.resolve(summary, moment)
        )

    def communicate_result(
        self,
        ctx: CommandContext,
        complaint_id: UUID,
        *,
        explanation: str,
        reasons: str,
        channel: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "complaints.communicate_result",
            complaint_id,
            lambda c: c.communicate_result(explanation, reasons, channel, moment),
        )

    def confirm(
        self,
        ctx: CommandContext,
        complaint_id: UUID,
        *,
        rating: int,
        comment: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "complaints.confirm", complaint_id, lambda c: c.confirm(rating, moment, comment)
        )

    def reopen(
        self, ctx: CommandContext, complaint_id: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "complaints.reopen", complaint_id, lambda c: c.reopen(reason, moment))

    def close(
        self, ctx: CommandContext, complaint_id: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "complaints.close", complaint_id, lambda c: c.close(moment))

    def withdraw(
        self, ctx: CommandContext, complaint_id: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "complaints.withdraw", complaint_id, lambda c: c.withdraw(reason, moment)
        )

    def pause(
        self, ctx: CommandContext, complaint_id: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "complaints.pause", complaint_id, lambda c: c.pause(reason, moment))

    def resume(
        self, ctx: CommandContext, complaint_id: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "complaints.resume", complaint_id, lambda c: c.resume(moment))

    def record_breach(
        self,
        ctx: CommandContext,
        complaint_id: UUID,
        *,
        target: str,
        due_at: datetime,
        late_by_hours: Decimal,
        detected_at: datetime | None = None,
    ) -> CommandResult:
        """The scheduler's command: a deadline passed; record it and escalate."""
        moment = self.now(detected_at)
        return self._act(
            ctx,
            "complaints.record_breach",
            complaint_id,
            lambda c: c.escalate_for_breach(target, due_at, moment, late_by_hours),
        )

    def escalate_near_deadline(
        self,
        ctx: CommandContext,
        complaint_id: UUID,
        *,
        target: str,
        due_at: datetime,
        remaining_hours: Decimal,
        at: datetime | None = None,
    ) -> CommandResult:
        """The scheduler's command: a deadline is near and nobody escalated yet."""
        moment = self.now(at)

        def act(complaint: Complaint) -> None:
            if complaint.escalation_level == 0:
                complaint.escalate(
                    f"{target} deadline {due_at.isoformat()} is near:"
                    f" {remaining_hours} business hours left",
                    moment,
                )

        return self._act(ctx, "complaints.record_breach", complaint_id, act)
