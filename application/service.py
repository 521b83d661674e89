"""What every bounded context's service shares: the store, the clock, and acting on one
aggregate through the command pipeline after checking the caller's role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from application.clock import Clock, utc_now
from application.context import CommandContext, Principal
from application.permissions import authorize
from application.store import CommandResult, Kehu, RecordedEvent
from domain.base import KehuAggregate

A = TypeVar("A", bound=KehuAggregate)


class ContextService(Generic[A]):
    """Base of the per-context services (customers, complaints, …)."""

    kind: type[A]
    #: The permission prefix of the context's reads, e.g. ``complaints``.
    context: str

    def __init__(self, store: Kehu, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    def now(self, at: datetime | None = None) -> datetime:
        """The given business time, or now."""
        return at if at is not None else self.clock()

    def _act(
        self, ctx: CommandContext, command: str, aggregate_id: UUID, act: Callable[[A], object]
    ) -> CommandResult:
        authorize(ctx.principal, command)
        return self.store.execute(ctx, command, kind=self.kind, target=aggregate_id, act=act)

    def _create(self, ctx: CommandContext, command: str, create: Callable[[], A]) -> CommandResult:
        authorize(ctx.principal, command)
        return self.store.execute(ctx, command, kind=self.kind, create=create)

    def load(
        self,
        principal: Principal,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
    ) -> A:
        """The aggregate now, at a version, or as it stood at a past time (for time travel
        reads that the interfaces turn into a DTO)."""
        authorize(principal, f"{self.context}.read")
        if as_of is not None:
            return self.store.load_as_of(aggregate_id, self.kind, as_of)
        return self.store.load(aggregate_id, self.kind, version=version)

    def history(
        self, principal: Principal, aggregate_id: UUID, *, after_version: int = 0, limit: int = 100
    ) -> list[RecordedEvent]:
        """Its events with their envelopes and positions (auditors)."""
        authorize(principal, f"{self.context}.history")
        self.store.load(aggregate_id, self.kind)  # 404 for an unknown id or another type
        return self.store.history(aggregate_id, after_version=after_version, limit=limit)
