"""What the GraphQL read side shares: context, authorisation and read-your-writes,
money, paging."""

from __future__ import annotations

import base64
from enum import Enum
from typing import Generic, TypeVar

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from application.context import Principal
from application.errors import ApplicationError
from application.permissions import authorize
from interfaces.bootstrap import System


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
            raise graphql_error(self._error)
        return self._principal


def graphql_error(error: ApplicationError) -> GraphQLError:
    return GraphQLError(
        error.message,
        extensions={
            "code": error.code,
            "status": error.status,
            **{k: str(v) for k, v in error.details.items()},
        },
    )


async def guard(info: Info[Context, None], action: str, min_position: int | None) -> System:
    """Authorise, then wait (off the event loop) for the requested position."""
    context = info.context
    try:
        authorize(context.principal, action)
        wanted = max(filter(None, (min_position, context.min_position)), default=None)
        if wanted:
            await to_thread.run_sync(context.system.wait_for, wanted)
    except ApplicationError as error:
        raise graphql_error(error) from None
    return context.system


@strawberry.type(description="An amount of money: a decimal string and an ISO 4217 currency.")
class Money:
    amount: str
    currency: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.enum
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


MAX_PAGE = 200


def cursor_at(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def offset_after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        # A cursor past 2**53 was not made here, and the stores' 64-bit integers end soon after.
        if kind != "o" or not value.isdigit() or int(value) >= 2**53:
            raise ValueError(cursor)
    except ValueError:
        raise GraphQLError(
            "the cursor is not valid", extensions={"code": "validation.invalid_cursor"}
        ) from None
    return int(value) + 1


def check_page_size(first: int) -> None:
    if not 0 <= first <= MAX_PAGE:
        raise GraphQLError(
            f"first must be between 0 and {MAX_PAGE}", extensions={"code": "validation.page_size"}
        )


T = TypeVar("T")


@strawberry.type(description="One node of a list, with the cursor to page after it.")
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type(description="A Relay connection: one page of a list and its total.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


def connection(nodes: list[T], offset: int, total: int) -> Connection[T]:
    """The page of ``nodes`` that starts ``offset`` items into a list of ``total``."""
    edges = [Edge(node=node, cursor=cursor_at(offset + i)) for i, node in enumerate(nodes)]
    return Connection(
        edges=edges,
        page_info=page_info(offset, [e.cursor for e in edges], total),
        total_count=total,
    )


def page_info(offset: int, cursors: list[str], total: int) -> PageInfo:
    """Relay page info for a page of ``cursors`` starting at ``offset`` of ``total``."""
    return PageInfo(
        has_next_page=offset + len(cursors) < total,
        has_previous_page=offset > 0,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
