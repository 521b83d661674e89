"""Customer commands and single-customer reads (客户信息管理)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.clock import Clock, business_today, utc_now
from application.context import CommandContext, Principal
from application.service import ContextService
from application.store import CommandResult, Kehu
from domain.customer import Customer, CustomerKind, enterprise_customer_id
from domain.loyalty import VipPolicyBook
from domain.values import USCC, Money


@dataclass(frozen=True)
class CustomerState:
    """One customer as the aggregate stands (or stood): a DTO, never the aggregate."""

    id: UUID
    version: int
    kind: str
    name: str
    phone: str | None
    email: str | None
    uscc: str | None
    id_number: str | None
    source: str | None
    segment: str | None
    tags: list[str]
    marketing_consent: bool
    registered_on: date
    status: str
    status_reason: str | None
    account_manager: dict[str, str] | None
    purchase_count: int
    interaction_count: int
    last_purchase_on: date | None
    last_interaction_at: datetime | None
    last_reviewed_on: date | None
    next_review_due: date | None
    created_at: datetime
    modified_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerState:
        return cls(
            id=customer.id,
            version=customer.version,
            kind=str(customer.kind),
            name=customer.name,
            phone=customer.phone,
            email=customer.email,
            uscc=customer.uscc,
            id_number=customer.id_number,
            source=customer.source,
            segment=customer.segment,
            tags=list(customer.tags),
            marketing_consent=customer.marketing_consent,
            registered_on=customer.registered_on,
            status=str(customer.status),
            status_reason=customer.status_reason,
            account_manager=customer.account_manager,
            purchase_count=customer.purchase_count,
            interaction_count=customer.interaction_count,
            last_purchase_on=customer.last_purchase_on,
            last_interaction_at=customer.last_interaction_at,
            last_reviewed_on=customer.last_reviewed_on,
            next_review_due=customer.next_review_due,
            created_at=customer.created_on,
            modified_at=customer.modified_on,
        )


class CustomerService(ContextService[Customer]):
    """Commands on customers. Each checks the caller's role, then runs through the
    shared command pipeline (envelope, idempotency, optimistic concurrency)."""

    kind = Customer
    context = "customers"

    def __init__(
        self, store: Kehu, clock: Clock = utc_now, vip_policies: VipPolicyBook | None = None
    ) -> None:
        super().__init__(store, clock)
        #: The declared VIP policy: purchases earn points and upgrade tiers by it.
        self.vip_policies = vip_policies

    def register(
        self,
        ctx: CommandContext,
        *,
        kind: str,
        name: str,
        phone: str | None = None,
        email: str | None = None,
        uscc: str | None = None,
        id_number: str | None = None,
        source: str | None = None,
        segment: str | None = None,
        tags: Iterable[str] = (),
        marketing_consent: bool = False,
        registered_on: date | None = None,
    ) -> CommandResult:
        random_id = uuid4()
        on = registered_on or business_today(self.clock)

        def identity() -> UUID:
            if kind == CustomerKind.ENTERPRISE and uscc:
                return enterprise_customer_id(USCC.parse(uscc))
            return random_id

        # Input is parsed inside the command, after the role check: a caller without the
        # role learns nothing from a validation error.
        return self._create(
            ctx,
            "customers.register",
            lambda: Customer.register(
                new_id=identity(),
                kind=kind,
                name=name,
                phone=phone,
                email=email,
                uscc=uscc,
                id_number=id_number,
                source=source,
                segment=segment,
                tags=list(tags),
                marketing_consent=marketing_consent,
                registered_on=on,
            ),
        )

    def update_profile(
        self, ctx: CommandContext, customer_id: UUID, changes: dict[str, Any]
    ) -> CommandResult:
        return self._act(
            ctx, "customers.update_profile", customer_id, lambda c: c.update_profile(**changes)
        )

    def assign_account_manager(
        self, ctx: CommandContext, customer_id: UUID, manager_id: str, manager_name: str
    ) -> CommandResult:
        return self._act(
            ctx,
            "customers.assign_account_manager",
            customer_id,
            lambda c: c.assign_account_manager(manager_id, manager_name),
        )

    def record_interaction(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        kind: str,
        summary: str,
        occurred_at: datetime | None = None,
        staff: str | None = None,
    ) -> CommandResult:
        at = self.now(occurred_at)
        return self._act(
            ctx,
            "customers.record_interaction",
            customer_id,
            lambda c: c.record_interaction(kind, summary, at, staff),
        )

    def record_purchase(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        order_ref: str,
        amount: str | Decimal,
        category: str,
        currency: str = "CNY",
        occurred_on: date | None = None,
    ) -> CommandResult:
        on = occurred_on or business_today(self.clock)
        policy = self.vip_policies.in_force_or_none(on) if self.vip_policies else None
        return self._act(
            ctx,
            "customers.record_purchase",
            customer_id,
            lambda c: c.record_purchase(
                order_ref, Money.parse(amount, currency), category, on, policy
            ),
        )

    def mark_at_risk(self, ctx: CommandContext, customer_id: UUID, reason: str) -> CommandResult:
        return self._act(
            ctx, "customers.mark_at_risk", customer_id, lambda c: c.mark_at_risk(reason)
        )

    def churn(
        self, ctx: CommandContext, customer_id: UUID, reason: str, *, cause: str = "other"
    ) -> CommandResult:
        """已流失, with the cause (流失原因) for the churn analysis."""
        return self._act(ctx, "customers.churn", customer_id, lambda c: c.churn(reason, cause))

    def win_back(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        action: str,
        *,
        campaign_id: str | None = None,
    ) -> CommandResult:
        """挽回, crediting the action or campaign."""
        return self._act(
            ctx, "customers.win_back", customer_id, lambda c: c.win_back(action, campaign_id)
        )

    def confirm_info_reviewed(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        *,
        next_review_due: date,
        reviewed_on: date | None = None,
    ) -> CommandResult:
        on = reviewed_on or business_today(self.clock)
        return self._act(
            ctx,
            "customers.confirm_info_reviewed",
            customer_id,
            lambda c: c.confirm_info_reviewed(on, next_review_due),
        )

    # -- reads of one aggregate (auditors' time travel) ---------------------------

    def get(
        self,
        principal: Principal,
        customer_id: UUID,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
    ) -> CustomerState:
        return CustomerState.of(self.load(principal, customer_id, version=version, as_of=as_of))
