"""The one place kehu reads the clock: business time is Asia/Shanghai."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


def business_today(clock: Clock = utc_now) -> date:
    """Today's date in Asia/Shanghai."""
    return clock().astimezone(SHANGHAI).date()
