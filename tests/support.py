"""What the integration tests share: a clock the test sets, Shanghai business times and
command contexts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from application.context import CommandContext, Principal

SH = ZoneInfo("Asia/Shanghai")


class Clock:
    """kehu's clock, set by the test (``clock.now = …``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A business time in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


def as_(principal: Principal, **kwargs: Any) -> CommandContext:
    """A command context for ``principal`` (idempotency key, reason, … as keywords)."""
    return CommandContext.for_principal(principal, **kwargs)
