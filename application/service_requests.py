"""Service-request commands (服务请求): the service section (服务管理科) handles them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from application.context import CommandContext
from application.permissions import authorize
from application.service import ContextService
from application.store import CommandResult
from domain.customer import Customer
from domain.service_request import ServiceRequest


class ServiceRequestService(ContextService[ServiceRequest]):
    kind = ServiceRequest
    context = "service_requests"

    def open(
        self,
        ctx: CommandContext,
        *,
        customer_id: UUID,
        request_type: str,
        channel: str,
        priority: str,
        description: str,
        received_at: datetime | None = None,
        vip_tier: str | None = None,
    ) -> CommandResult:
        authorize(ctx.principal, "service_requests.open")
        customer = self.store.load(customer_id, Customer)  # it must exist (404 otherwise)
        # 优先服务: the customer's VIP tier as it stands, unless the caller gave one; the SLA
        # policy's tier overrides give the tiers with priority service tighter targets.
        tier = vip_tier if vip_tier is not None else customer.tier
        new_id = uuid4()
        at = self.now(received_at)
        return self._create(
            ctx,
            "service_requests.open",
            lambda: ServiceRequest.open(
                new_id=new_id,
                customer_id=customer_id,
                request_type=request_type,
                channel=channel,
                priority=priority,
                description=description,
                received_at=at,
                vip_tier=tier,
            ),
        )

    def assign(
        self,
        ctx: CommandContext,
        request_id: UUID,
        *,
        handler_id: str,
        handler_name: str,
        section: str = "service",
    ) -> CommandResult:
        return self._act(
            ctx,
            "service_requests.assign",
            request_id,
            lambda r: r.assign(handler_id, handler_name, section),
        )

    def respond(
        self,
        ctx: CommandContext,
        request_id: UUID,
        *,
        at: datetime | None = None,
        note: str | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "service_requests.respond", request_id, lambda r: r.respond(moment, note)
        )

    def pause(
        self, ctx: CommandContext, request_id: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "service_requests.pause", request_id, lambda r: r.pause(reason, moment)
        )

    def resume(
        self, ctx: CommandContext, request_id: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "service_requests.resume", request_id, lambda r: r.resume(moment))

    def resolve(
        self, ctx: CommandContext, request_id: UUID, *, summary: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "service_requests.resolve", request_id, lambda r: r.resolve(summary, moment)
        )

    def rate(
        self,
        ctx: CommandContext,
        request_id: UUID,
        *,
        rating: int,
        comment: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "service_requests.rate", request_id, lambda r: r.rate(rating, moment, comment)
        )

    def close(
        self, ctx: CommandContext, request_id: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "service_requests.close", request_id, lambda r: r.close(moment))

    def cancel(
        self, ctx: CommandContext, request_id: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "service_requests.cancel", request_id, lambda r: r.cancel(reason, moment)
        )

    def record_breach(
        self,
        ctx: CommandContext,
        request_id: UUID,
        *,
        target: str,
        due_at: datetime,
        late_by_hours: Decimal,
        detected_at: datetime | None = None,
    ) -> CommandResult:
        """The scheduler's command: a deadline passed."""
        moment = self.now(detected_at)
        return self._act(
            ctx,
            "service_requests.record_breach",
            request_id,
            lambda r: r.record_sla_breach(target, due_at, moment, late_by_hours),
        )
