"""Customers in GraphQL: ``customer(id)`` and ``customers`` (a Relay connection)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from anyio import to_thread
from strawberry.types import Info

from application.context import Principal
from application.privacy import mask_value, may_see_personal_data
from domain.customer import STATUS_LABELS, CustomerStatus
from interfaces.graphql.acting import acts
from interfaces.graphql.common import (
    Connection,
    Context,
    Money,
    OrderDirection,
    check_page_size,
    connection,
    guard,
    offset_after,
)
from interfaces.graphql.disclosures import ShowsPersonalData
from projections.customers import CustomerFilter as CustomerFilterQuery
from projections.customers import CustomerRow


@strawberry.enum(description="Customer lifecycle status (客户生命周期)")
class CustomerStatusEnum(Enum):
    PROSPECT = strawberry.enum_value("prospect", description="潜在 prospect")
    ACTIVE = strawberry.enum_value("active", description="活跃 active")
    AT_RISK = strawberry.enum_value("at_risk", description="流失风险 at risk")
    CHURNED = strawberry.enum_value("churned", description="已流失 churned")
    WON_BACK = strawberry.enum_value("won_back", description="挽回 won back")


@strawberry.enum(description="个人客户 individual or 企业客户 enterprise")
class CustomerKindEnum(Enum):
    INDIVIDUAL = strawberry.enum_value("individual", description="个人客户 individual")
    ENTERPRISE = strawberry.enum_value("enterprise", description="企业客户 enterprise")


@strawberry.type(description="专属客户经理 dedicated account manager")
class AccountManager:
    id: str
    name: str


@strawberry.type(description="A customer (客户) from the customer read model.")
class Customer:
    id: strawberry.ID
    kind: CustomerKindEnum
    name: str = strawberry.field(
        description="Masked unless the caller's role may see personal data",
        extensions=[ShowsPersonalData("id")],
    )
    phone: str | None = strawberry.field(extensions=[ShowsPersonalData("id")])
    email: str | None = strawberry.field(extensions=[ShowsPersonalData("id")])
    uscc: str | None = strawberry.field(description="统一社会信用代码 (enterprises)")
    segment: str | None
    source: str | None
    tags: list[str]
    status: CustomerStatusEnum
    status_label: str = strawberry.field(description="The status in Chinese, e.g. 活跃")
    status_reason: str | None
    marketing_consent: bool
    account_manager: AccountManager | None
    registered_on: date
    purchase_count: int
    purchase_total: Money = strawberry.field(description="Total of CNY purchases")
    purchase_totals: list[Money] = strawberry.field(description="Totals per currency")
    last_purchase_on: date | None
    interaction_count: int
    last_interaction_at: datetime | None
    last_interaction_kind: str | None
    next_review_due: date | None
    version: int

    @classmethod
    def from_row(cls, row: CustomerRow, principal: Principal) -> Customer:
        visible = may_see_personal_data(principal.role)

        def personal(value: str | None) -> str | None:
            return value if visible else mask_value(value)

        return cls(
            id=strawberry.ID(row.id),
            kind=CustomerKindEnum(row.kind),
            name=personal(row.name) or "",
            phone=personal(row.phone),
            email=personal(row.email),
            uscc=row.uscc,
            segment=row.segment,
            source=row.source,
            tags=row.tags,
            status=CustomerStatusEnum(row.status),
            status_label=STATUS_LABELS[CustomerStatus(row.status)],
            status_reason=row.status_reason,
            marketing_consent=row.marketing_consent,
            account_manager=(
                AccountManager(id=row.account_manager_id, name=row.account_manager_name or "")
                if row.account_manager_id
                else None
            ),
            registered_on=row.registered_on,
            purchase_count=row.purchase_count,
            purchase_total=Money(
                amount=str(row.purchase_totals.get("CNY", "0.00")), currency="CNY"
            ),
            purchase_totals=[
                Money(amount=str(v), currency=k) for k, v in sorted(row.purchase_totals.items())
            ],
            last_purchase_on=row.last_purchase_on,
            interaction_count=row.interaction_count,
            last_interaction_at=row.last_interaction_at,
            last_interaction_kind=row.last_interaction_kind,
            next_review_due=row.next_review_due,
            version=row.version,
        )


@strawberry.input(description="Filters combine with AND.")
class CustomerFilter:
    status: list[CustomerStatusEnum] | None = None
    segment: list[str] | None = None
    kind: CustomerKindEnum | None = None
    tag: str | None = None
    name_contains: str | None = strawberry.field(
        default=None, description="Substring of the name, Chinese included (e.g. 青禾)"
    )


@strawberry.enum
class CustomerOrderField(Enum):
    NAME = "name"
    REGISTERED_ON = "registered_on"
    PURCHASE_TOTAL = "purchase_total"
    LAST_INTERACTION_AT = "last_interaction_at"
    STATUS = "status"


@strawberry.input
class CustomerOrder:
    field: CustomerOrderField = CustomerOrderField.REGISTERED_ON
    direction: OrderDirection = OrderDirection.ASC


@strawberry.type
class CustomerQuery:
    @strawberry.field(
        description="One customer by id, from the customer read model.",
        extensions=[acts("customers.read")],
    )
    async def customer(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        min_position: int | None = None,
    ) -> Customer | None:
        system = await guard(info, "customers.read", min_position)
        row = await to_thread.run_sync(system.customer_queries.get, str(id))
        return Customer.from_row(row, info.context.principal) if row else None

    @strawberry.field(
        description="Customers as a Relay connection, filtered and ordered.",
        extensions=[acts("customers.read")],
    )
    async def customers(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: CustomerFilter | None = None,
        order_by: CustomerOrder | None = None,
        min_position: int | None = None,
    ) -> Connection[Customer]:
        system = await guard(info, "customers.read", min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or CustomerFilter()
        order = order_by or CustomerOrder()
        rows, total = await to_thread.run_sync(
            lambda: system.customer_queries.page(
                CustomerFilterQuery(
                    status=[str(s.value) for s in where.status] if where.status else None,
                    segment=where.segment,
                    kind=str(where.kind.value) if where.kind else None,
                    tag=where.tag,
                    name_contains=where.name_contains,
                ),
                order_by=str(order.field.value),
                descending=order.direction is OrderDirection.DESC,
                offset=offset,
                limit=first,
            )
        )
        principal = info.context.principal
        return connection([Customer.from_row(row, principal) for row in rows], offset, total)
