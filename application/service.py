"""What every bounded context's service shares: the store, the clock, and acting on one
aggregate through the command pipeline after checking the caller's role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from application.clock import Clock, utc_now
from application.context import CommandContext
from application.permissions import authorize
from application.store import CommandResult, Kehu
from domain.base import KehuAggregate

A = TypeVar("A", bound=KehuAggregate)


class ContextService(Generic[A]):
    """Base of the per-context services (customers, complaints, …)."""

    kind: type[A]

    def __init__(self, store: Kehu, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    def now(self, at: datetime | None = None) -> datetime:
        """The given business time, or now."""
        return at if at is not None else self.clock()

    def _act(
        self, ctx: CommandContext, command: str, aggregate_id: UUID, act: Callable[[A], None]
    ) -> CommandResult:
        authorize(ctx.principal, command)
        return self.store.execute(ctx, command, kind=self.kind, target=aggregate_id, act=act)

    def _create(self, ctx: CommandContext, command: str, create: Callable[[], A]) -> CommandResult:
        authorize(ctx.principal, command)
        return self.store.execute(ctx, command, kind=self.kind, create=create)
