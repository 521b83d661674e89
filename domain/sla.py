"""Service-level agreements (服务标准): targets, and clocks derived from status facts.

One engine for complaints, service requests and any other deadline counted in business
time. A clock is never stored: :func:`evaluate` recomputes it from the facts (received,
responded, paused, resumed, resolved, reopened) as of any moment, so history can be replayed
under the calendar and policy that applied.

- Waiting on the customer (``paused`` … ``resumed``) stops both clocks.
- Between ``resolved`` and ``reopened`` the resolution clock stands still; reopening resumes
  it from where it stopped.
- The deadline is the moment the running business time reaches the target; while a pause is
  ongoing it is shown as if the clock restarted now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from domain.base import InvalidValueError
from domain.calendar import BusinessCalendar, shanghai

ClockKind = Literal["responded", "paused", "resumed", "resolved", "reopened"]
_KINDS = frozenset({"responded", "paused", "resumed", "resolved", "reopened"})


@dataclass(frozen=True)
class Targets:
    """Business hours to first response and to resolution."""

    response_hours: Decimal
    resolution_hours: Decimal


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority (or severity), optionally tighter per VIP tier.

    Resolution targets are in business days of ``hours_per_day`` business hours."""

    name: str
    version: str
    response_hours: Mapping[str, Decimal]
    resolution_days: Mapping[str, Decimal]
    hours_per_day: Decimal = Decimal(8)
    tier_overrides: Mapping[str, Mapping[str, Targets]] = field(default_factory=dict)

    def targets(self, priority: str, tier: str | None = None) -> Targets:
        if tier is not None:
            tighter = self.tier_overrides.get(tier, {}).get(priority)
            if tighter is not None:
                return tighter
        if priority not in self.response_hours:
            raise InvalidValueError(
                f"the {self.name} policy has no targets for priority {priority!r}",
                priority=priority,
            )
        return Targets(
            response_hours=self.response_hours[priority],
            resolution_hours=self.resolution_days[priority] * self.hours_per_day,
        )


def policy_from_dict(data: Mapping[str, Any]) -> SlaPolicy:
    """A policy from configuration data (JSON), e.g.::

    {"name": "ours", "version": "2026.1",
     "response_hours": {"critical": "1", "high": "4", "medium": "8", "low": "16"},
     "resolution_days": {"critical": "1", "high": "2", "medium": "5", "low": "10"},
     "hours_per_day": "8",
     "tier_overrides": {"gold": {"high": {"response_hours": "2", "resolution_hours": "8"}}}}
    """
    try:
        response = {str(k): Decimal(str(v)) for k, v in dict(data["response_hours"]).items()}
        resolution = {str(k): Decimal(str(v)) for k, v in dict(data["resolution_days"]).items()}
        overrides = {
            str(tier): {
                str(priority): Targets(
                    Decimal(str(t["response_hours"])), Decimal(str(t["resolution_hours"]))
                )
                for priority, t in dict(targets).items()
            }
            for tier, targets in dict(data.get("tier_overrides", {})).items()
        }
        policy = SlaPolicy(
            name=str(data["name"]),
            version=str(data["version"]),
            response_hours=response,
            resolution_days=resolution,
            hours_per_day=Decimal(str(data.get("hours_per_day", 8))),
            tier_overrides=overrides,
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise InvalidValueError(f"the SLA policy is not valid: {error!r}") from None
    if set(response) != set(resolution) or any(
        v <= 0 for v in [*response.values(), *resolution.values()]
    ):
        raise InvalidValueError("the SLA policy needs positive targets for the same priorities")
    return policy


def default_policy() -> SlaPolicy:
    """First response within 2 / 4 / 8 / 16 business hours and resolution within
    1 / 3 / 5 / 10 business days of 8 hours, for critical / high / medium / low;
    VIP tiers ``gold`` and ``platinum`` get half the time."""
    response = {
        "critical": Decimal(2),
        "high": Decimal(4),
        "medium": Decimal(8),
        "low": Decimal(16),
    }
    resolution = {
        "critical": Decimal(1),
        "high": Decimal(3),
        "medium": Decimal(5),
        "low": Decimal(10),
    }
    vip = {key: Targets(response[key] / 2, resolution[key] * 8 / 2) for key in response}
    return SlaPolicy(
        name="default",
        version="2025.1",
        response_hours=response,
        resolution_days=resolution,
        tier_overrides={"gold": vip, "platinum": vip},
    )


@dataclass(frozen=True)
class ClockEvent:
    """A status fact the clock is derived from."""

    kind: str
    at: datetime

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InvalidValueError(f"unknown clock event {self.kind!r}")
        shanghai(self.at, "at")


@dataclass(frozen=True)
class SlaStatus:
    """A clock as of one moment. Hours are business hours."""

    as_of: datetime
    targets: Targets
    response_due_at: datetime
    resolution_due_at: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    paused: bool
    response_hours: Decimal
    resolution_hours: Decimal
    response_breached: bool
    resolution_breached: bool
    response_late_by: Decimal
    resolution_late_by: Decimal

    @property
    def breached(self) -> bool:
        return self.response_breached or self.resolution_breached

    @property
    def remaining(self) -> Decimal | None:
        """Business hours left to the next unmet deadline (negative once late)."""
        if self.responded_at is None:
            return self.targets.response_hours - self.response_hours
        if self.resolved_at is None:
            return self.targets.resolution_hours - self.resolution_hours
        return None


def _stops(
    events: Sequence[ClockEvent], until: datetime, *, with_resolution: bool
) -> list[tuple[datetime, datetime]]:
    """Intervals during which a clock stands still, up to ``until``."""
    stops: list[tuple[datetime, datetime]] = []
    paused_at: datetime | None = None
    resolved_at: datetime | None = None
    for fact in events:
        if fact.kind == "paused" and paused_at is None:
            paused_at = fact.at
        elif fact.kind == "resumed" and paused_at is not None:
            stops.append((paused_at, fact.at))
            paused_at = None
        elif fact.kind == "resolved" and with_resolution:
            resolved_at = fact.at
        elif fact.kind == "reopened" and resolved_at is not None:
            stops.append((resolved_at, fact.at))
            resolved_at = None
    if paused_at is not None:
        stops.append((paused_at, until))
    return stops


def _before(
    stops: list[tuple[datetime, datetime]], end: datetime | None
) -> list[tuple[datetime, datetime]]:
    """The stops up to ``end`` (all of them when the clock still runs)."""
    if end is None:
        return stops
    return [(a, min(b, end)) for a, b in stops if a < end]


def _due(
    calendar: BusinessCalendar,
    start: datetime,
    target: Decimal,
    stops: list[tuple[datetime, datetime]],
) -> datetime:
    """When running business time (outside ``stops``) from ``start`` reaches ``target``."""
    remaining = target
    cursor = start
    for stop_from, stop_to in sorted(stops):
        if stop_to <= cursor:
            continue
        segment_end = max(stop_from, cursor)
        available = calendar.business_hours_between(cursor, segment_end)
        if remaining <= available:
            return calendar.add_business_hours(cursor, remaining)
        remaining -= available
        cursor = max(cursor, stop_to)
    return calendar.add_business_hours(cursor, remaining)


def _running(
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
    stops: list[tuple[datetime, datetime]],
) -> Decimal:
    total = calendar.business_hours_between(start, end)
    stopped = calendar.hours_in((max(a, start), min(b, end)) for a, b in stops if b > start)
    return total - stopped


def evaluate(
    calendar: BusinessCalendar,
    policy: SlaPolicy,
    received_at: datetime,
    priority: str,
    events: Sequence[ClockEvent],
    as_of: datetime,
    tier: str | None = None,
) -> SlaStatus:
    """The clock of one item as of ``as_of``, from its status facts."""
    start = shanghai(received_at, "received_at")
    now = shanghai(as_of, "as_of")
    facts = sorted((e for e in events if e.at <= now), key=lambda e: e.at)
    targets = policy.targets(priority, tier)

    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    paused = False
    for fact in facts:
        if fact.kind in ("responded", "resolved") and responded_at is None:
            responded_at = shanghai(fact.at)
        if fact.kind == "resolved":
            resolved_at = shanghai(fact.at)
        elif fact.kind == "reopened":
            resolved_at = None
        elif fact.kind == "paused":
            paused = True
        elif fact.kind == "resumed":
            paused = False

    # A clock that has stopped for good is not moved by what happens afterwards.
    response_stops = _before(_stops(facts, now, with_resolution=False), responded_at)
    resolution_stops = _before(_stops(facts, now, with_resolution=True), resolved_at)
    response_due = _due(calendar, start, targets.response_hours, response_stops)
    resolution_due = _due(calendar, start, targets.resolution_hours, resolution_stops)
    response_hours = _running(calendar, start, responded_at or now, response_stops)
    resolution_hours = _running(calendar, start, resolved_at or now, resolution_stops)
    response_late = max(Decimal(0), response_hours - targets.response_hours)
    resolution_late = max(Decimal(0), resolution_hours - targets.resolution_hours)
    return SlaStatus(
        as_of=now,
        targets=targets,
        response_due_at=response_due,
        resolution_due_at=resolution_due,
        responded_at=responded_at,
        resolved_at=resolved_at,
        paused=paused,
        response_hours=response_hours,
        resolution_hours=resolution_hours,
        response_breached=response_late > 0,
        resolution_breached=resolution_late > 0,
        response_late_by=response_late,
        resolution_late_by=resolution_late,
    )
