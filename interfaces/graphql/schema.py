"""The read side in GraphQL (Strawberry): dashboards and lists built from read models.

It never changes state. Every query accepts ``minPosition`` (or the
``X-Kehu-Min-Position`` header): the answer reflects at least that global position, or
the request fails with ``read.min_position_timeout``.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from enum import Enum

import strawberry
from anyio import to_thread
from fastapi import Request
from graphql import GraphQLError
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.types import Info

from application.context import Principal
from application.errors import ApplicationError
from application.permissions import authorize
from application.privacy import mask_value, may_see_personal_data
from domain.customer import STATUS_LABELS, CustomerStatus
from interfaces.bootstrap import System
from interfaces.rest.problems import ProblemError
from projections.customers import CustomerFilter as CustomerFilterQuery
from projections.customers import CustomerRow


class Context(BaseContext):
    def __init__(
        self,
        system: System,
        principal: Principal | None,
        error: ApplicationError | None,
        min_position: int | None,
    ) -> None:
        super().__init__()
        self.system = system
        self._principal = principal
        self._error = error
        self.min_position = min_position

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            assert self._error is not None
            raise _graphql_error(self._error)
        return self._principal


def _graphql_error(error: ApplicationError) -> GraphQLError:
    return GraphQLError(
        error.message,
        extensions={
            "code": error.code,
            "status": error.status,
            **{k: str(v) for k, v in error.details.items()},
        },
    )


async def _guard(info: Info[Context, None], action: str, min_position: int | None) -> System:
    """Authorise, then wait (off the event loop) for the requested position."""
    context = info.context
    try:
        authorize(context.principal, action)
        wanted = max(filter(None, (min_position, context.min_position)), default=None)
        if wanted:
            await to_thread.run_sync(context.system.wait_for, wanted)
    except ApplicationError as error:
        raise _graphql_error(error) from None
    return context.system


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


@strawberry.type(description="An amount of money: a decimal string and an ISO 4217 currency.")
class Money:
    amount: str
    currency: str


@strawberry.type(description="专属客户经理 dedicated account manager")
class AccountManager:
    id: str
    name: str


@strawberry.type(description="A customer (客户) from the customer read model.")
class Customer:
    id: strawberry.ID
    kind: CustomerKindEnum
    name: str = strawberry.field(
        description="Masked unless the caller's role may see personal data"
    )
    phone: str | None
    email: str | None
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


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class CustomerEdge:
    node: Customer
    cursor: str


@strawberry.type(description="A Relay connection of customers.")
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    total_count: int


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


@strawberry.enum
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input
class CustomerOrder:
    field: CustomerOrderField = CustomerOrderField.REGISTERED_ON
    direction: OrderDirection = OrderDirection.ASC


MAX_PAGE = 200


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "o" or not value.isdigit():
            raise ValueError(cursor)
    except ValueError:
        raise GraphQLError(
            "the cursor is not valid", extensions={"code": "validation.invalid_cursor"}
        ) from None
    return int(value) + 1


@strawberry.type
class Query:
    @strawberry.field(description="One customer by id, from the customer read model.")
    async def customer(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        min_position: int | None = None,
    ) -> Customer | None:
        system = await _guard(info, "customers.read", min_position)
        row = await to_thread.run_sync(system.customer_queries.get, str(id))
        return Customer.from_row(row, info.context.principal) if row else None

    @strawberry.field(description="Customers as a Relay connection, filtered and ordered.")
    async def customers(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: CustomerFilter | None = None,
        order_by: CustomerOrder | None = None,
        min_position: int | None = None,
    ) -> CustomerConnection:
        system = await _guard(info, "customers.read", min_position)
        if not 0 <= first <= MAX_PAGE:
            raise GraphQLError(
                f"first must be between 0 and {MAX_PAGE}",
                extensions={"code": "validation.page_size"},
            )
        offset = _offset(after)
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
        edges = [
            CustomerEdge(node=Customer.from_row(row, principal), cursor=_cursor(offset + i))
            for i, row in enumerate(rows)
        ]
        return CustomerConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=offset + len(rows) < total,
                has_previous_page=offset > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )


schema = strawberry.Schema(query=Query)


def graphql_router() -> GraphQLRouter[Context, None]:
    async def get_context(request: Request) -> Context:
        system: System = request.app.state.system
        principal: Principal | None = None
        error: ApplicationError | None = None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        try:
            principal = await to_thread.run_sync(
                system.keys.authenticate, token.strip() if scheme.lower() == "bearer" else None
            )
        except ApplicationError as refused:
            error = refused
        raw_position = request.headers.get("x-kehu-min-position")
        min_position = None
        if raw_position is not None:
            if not raw_position.strip().isdigit():
                raise ProblemError(
                    400,
                    "validation.min_position",
                    "Invalid X-Kehu-Min-Position",
                    "X-Kehu-Min-Position takes a global position (a whole number)",
                )
            min_position = int(raw_position)
        return Context(system, principal, error, min_position)

    return GraphQLRouter(schema, context_getter=get_context, graphql_ide="graphiql")
