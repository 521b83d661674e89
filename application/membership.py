"""VIP membership, loyalty and relationship health (会员与客户关系): commands on the
Customer aggregate with the declared tier policy and the mainland-China calendar.

The relationship section (关系管理科) takes VIP applications and decides them with the
manager; marketing issues coupons and redeems points; the service section handles
value-added services; kehu itself (the scheduler) evaluates tiers at the end of their
term, expires points and coupons, and flags customers at risk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.clock import SHANGHAI, Clock, business_today
from application.context import CommandContext
from application.service import ContextService
from application.store import CommandResult, Kehu
from domain.calendar import BusinessCalendar
from domain.customer import Customer
from domain.loyalty import VipPolicyBook
from domain.values import Money


def _money(value: str | None, currency: str = "CNY") -> Money | None:
    return None if value is None else Money.parse(value, currency)


class MembershipService(ContextService[Customer]):
    kind = Customer
    context = "customers"

    def __init__(
        self,
        store: Kehu,
        clock: Clock,
        policies: VipPolicyBook,
        calendar: BusinessCalendar,
    ) -> None:
        super().__init__(store, clock)
        self.policies = policies
        self.calendar = calendar

    def _today(self, on: date | None = None) -> date:
        return on or business_today(self.clock)

    # -- VIP applications -------------------------------------------------------------

    def apply_for_vip(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        requested_tier: str,
        application_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """会员申请: the decision is due within the policy's working days (7)."""
        moment = self.now(at)
        identifier = application_id or uuid4().hex
        return self._act(
            ctx,
            "customers.apply_for_vip",
            customer_id,
            lambda c: c.apply_for_vip(
                identifier,
                requested_tier,
                moment,
                self.policies.in_force(self._today_of(moment)),
                self.calendar,
            ),
        )

    def start_vip_review(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        application_id: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.review_vip",
            customer_id,
            lambda c: c.start_vip_review(application_id, ctx.principal.id, moment),
        )

    def grant_vip(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        application_id: str,
        tier: str,
        reasons: Sequence[str],
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)

        def act(customer: Customer) -> None:
            # Decided under the policy version the application was made under.
            application = customer.vip_applications.get(application_id)
            policy = (
                self.policies.version(application["policy_version"])
                if application is not None
                else self.policies.in_force(self._today_of(moment))
            )
            customer.grant_vip(application_id, tier, list(reasons), moment, policy)

        return self._act(ctx, "customers.review_vip", customer_id, act)

    def reject_vip(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        application_id: str,
        reasons: Sequence[str],
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.review_vip",
            customer_id,
            lambda c: c.reject_vip(application_id, list(reasons), moment),
        )

    def notify_vip_decision(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        application_id: str,
        channel: str,
        at: datetime | None = None,
    ) -> CommandResult:
        """通知: recorded late if after the deadline."""
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.notify_vip_decision",
            customer_id,
            lambda c: c.notify_vip_decision(application_id, channel, moment),
        )

    def evaluate_tier(
        self, ctx: CommandContext, customer_id: UUID, *, on: date | None = None
    ) -> CommandResult:
        """At the end of a tier's term: renewed, upgraded, downgraded or lapsed."""
        day = self._today(on)
        return self._act(
            ctx,
            "customers.evaluate_tier",
            customer_id,
            lambda c: c.evaluate_tier(day, self.policies.in_force(day)),
        )

    # -- points and coupons -----------------------------------------------------------

    def redeem_points(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        points: int,
        purpose: str,
        redemption_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        identifier = redemption_id or uuid4().hex
        return self._act(
            ctx,
            "customers.redeem_points",
            customer_id,
            lambda c: c.redeem_points(identifier, points, purpose, moment),
        )

    def expire_points(
        self, ctx: CommandContext, customer_id: UUID, *, on: date | None = None
    ) -> CommandResult:
        day = self._today(on)
        return self._act(
            ctx, "customers.expire_points", customer_id, lambda c: c.expire_points(day)
        )

    def issue_coupon(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        description: str,
        valid_until: date,
        reason: str,
        value: str | None = None,
        discount_rate: str | None = None,
        min_spend: str | None = None,
        currency: str = "CNY",
        coupon_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        identifier = coupon_id or uuid4().hex
        rate = Decimal(discount_rate) if discount_rate is not None else None
        return self._act(
            ctx,
            "customers.issue_coupon",
            customer_id,
            lambda c: c.issue_coupon(
                coupon_id=identifier,
                description=description,
                value=_money(value, currency),
                discount_rate=rate,
                min_spend=_money(min_spend, currency),
                valid_until=valid_until,
                reason=reason,
                at=moment,
            ),
        )

    def redeem_coupon(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        coupon_id: str,
        order_ref: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.redeem_coupon",
            customer_id,
            lambda c: c.redeem_coupon(coupon_id, order_ref, moment),
        )

    def expire_coupons(
        self, ctx: CommandContext, customer_id: UUID, *, on: date | None = None
    ) -> CommandResult:
        day = self._today(on)
        return self._act(
            ctx, "customers.expire_coupons", customer_id, lambda c: c.expire_coupons(day)
        )

    # -- value-added services and growth plans ----------------------------------------

    def apply_for_service(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        service: str,
        note: str | None = None,
        application_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """增值服务申请."""
        moment = self.now(at)
        identifier = application_id or uuid4().hex
        return self._act(
            ctx,
            "customers.apply_for_service",
            customer_id,
            lambda c: c.apply_for_service(identifier, service, note, moment),
        )

    def review_service(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        application_id: str,
        approved: bool,
        reasons: Sequence[str],
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.review_service",
            customer_id,
            lambda c: c.review_service(
                application_id, approved, list(reasons), ctx.principal.id, moment
            ),
        )

    def implement_service(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        application_id: str,
        note: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.implement_service",
            customer_id,
            lambda c: c.implement_service(application_id, note, moment),
        )

    def start_growth_plan(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        goals: Sequence[Mapping[str, Any]],
        due_on: date,
        plan_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """成长计划: goals (metric, target) and a due date."""
        moment = self.now(at)
        identifier = plan_id or uuid4().hex
        parsed = [
            {"metric": g.get("metric"), "target": Decimal(str(g.get("target")))} for g in goals
        ]
        return self._act(
            ctx,
            "customers.manage_growth_plan",
            customer_id,
            lambda c: c.start_growth_plan(identifier, parsed, due_on, moment),
        )

    def record_growth_progress(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        plan_id: str,
        metric: str,
        value: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.manage_growth_plan",
            customer_id,
            lambda c: c.record_growth_progress(plan_id, metric, Decimal(value), moment),
        )

    def close_growth_plan(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        plan_id: str,
        outcome: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.manage_growth_plan",
            customer_id,
            lambda c: c.close_growth_plan(plan_id, outcome, moment),
        )

    # -- relationship health ----------------------------------------------------------

    def raise_prevention_task(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        reasons: Sequence[str],
        due_on: date,
        owner: str | None = None,
        task_id: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """流失预防: a task with the reasons the customer looks at risk."""
        moment = self.now(at)
        identifier = task_id or uuid4().hex
        return self._act(
            ctx,
            "customers.raise_prevention_task",
            customer_id,
            lambda c: c.raise_prevention_task(identifier, list(reasons), owner, due_on, moment),
        )

    def flag_at_risk(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        reasons: Sequence[str],
        due_on: date,
        task_id: str,
        owner: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """流失预警 (the at-risk policy): in one command, an active or won-back customer is
        marked at risk and a prevention task raised with the reasons."""
        moment = self.now(at)
        why = "; ".join(reasons)

        def act(customer: Customer) -> None:
            if customer.status in ("active", "won_back"):
                customer.mark_at_risk(why)
            customer.raise_prevention_task(task_id, list(reasons), owner, due_on, moment)

        return self._act(ctx, "customers.raise_prevention_task", customer_id, act)

    def complete_prevention_task(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        task_id: str,
        outcome: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.complete_prevention_task",
            customer_id,
            lambda c: c.complete_prevention_task(task_id, outcome, moment),
        )

    def break_relationship(
        self, ctx: CommandContext, customer_id: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.manage_relationship",
            customer_id,
            lambda c: c.break_relationship(reason, moment),
        )

    def repair_relationship(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        actions: Sequence[str],
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "customers.manage_relationship",
            customer_id,
            lambda c: c.repair_relationship(list(actions), moment),
        )

    @staticmethod
    def _today_of(moment: datetime) -> date:
        return moment.astimezone(SHANGHAI).date()
