"""Service-level agreements (服务水平协议 / 服务标准): targets, and clocks derived from facts.

One engine for complaints (投诉), service requests (服务请求), VIP notification deadlines and
any other deadline counted in business time on the :mod:`domain.calendar`.

A :class:`SlaPolicy` sets, per priority key (``critical``/``high``/``medium``/``low`` by
default — severity for complaints, priority for service requests), a first-response target
(首次响应) in business hours and a resolution target (解决时限) in business days of
``hours_per_day`` business hours, optionally tighter per VIP tier (客户等级).

A clock is never stored: :func:`evaluate` recomputes it from the status facts
(:class:`ClockEvent`: responded, paused, resumed, resolved, reopened) as of any moment, so a
view can show it for any ``as_of`` and history can be replayed under the calendar and policy
that applied. Its rules:

- Both clocks start when the item is received (``received_at``) and count business hours
  only (working days, business-hour windows).
- The response clock stops for good at the first response; resolving counts as the first
  response when none came before.
- Waiting on the customer (等待客户: ``paused`` … ``resumed``) stops both clocks, so each
  deadline moves back by the business time spent paused. While a pause goes on, the
  deadlines are shown as if the clock restarted at ``as_of``.
- The resolution clock stops at ``resolved``; ``reopened`` (重新处理) resumes it from where it
  stopped — the time between does not count. Resolving also ends a pause.
- A deadline is the moment the running business time reaches the target; a clock that has
  stopped for good is not moved by later facts. Lateness is the running business time beyond
  the target (business hours, :class:`~decimal.Decimal`).
- Facts after ``as_of`` are ignored; facts dated before ``received_at`` count from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from domain.base import InvalidValueError
from domain.calendar import (
    DEFAULT_WINDOWS,
    BusinessCalendar,
    InvalidBusinessHours,
    business_windows,
    shanghai,
)

ClockKind = Literal["responded", "paused", "resumed", "resolved", "reopened"]
CLOCK_KINDS: frozenset[str] = frozenset({"responded", "paused", "resumed", "resolved", "reopened"})


class UnknownPriority(InvalidValueError):
    """The policy sets no targets for this priority."""

    code = "sla.unknown_priority"


class InvalidPolicy(InvalidValueError):
    """A policy whose targets are missing, not positive, or looser for a VIP tier."""

    code = "sla.invalid_policy"


class UnknownClockEvent(InvalidValueError):
    """A status fact the clock does not know."""

    code = "sla.unknown_clock_event"


@dataclass(frozen=True)
class Targets:
    """Business hours to the first response and to resolution."""

    response_hours: Decimal
    resolution_hours: Decimal


def _positive(value: object, what: str) -> Decimal:
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise InvalidPolicy(f"{what} must be a number, not {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise InvalidPolicy(f"{what} must be a positive number, not {value!r}")
    return number


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority, optionally tighter per VIP tier.

    ``response_hours`` are business hours; ``resolution_days`` are business days of
    ``hours_per_day`` business hours. ``tier_overrides`` maps a VIP tier to per-priority
    :class:`Targets` (both in hours) that must be no looser than the base targets; a tier
    without an override for a priority, or an unknown tier, gets the base targets.
    ``business_hours`` are the service hours the clocks count (see
    :meth:`BusinessCalendar.with_windows`)."""

    name: str
    version: str
    response_hours: Mapping[str, Decimal]
    resolution_days: Mapping[str, Decimal]
    hours_per_day: Decimal = Decimal(8)
    tier_overrides: Mapping[str, Mapping[str, Targets]] = field(default_factory=dict)
    business_hours: tuple[tuple[time, time], ...] = DEFAULT_WINDOWS

    def __post_init__(self) -> None:
        if not self.name or not self.version:
            raise InvalidPolicy("an SLA policy needs a name and a version")
        if not self.response_hours or set(self.response_hours) != set(self.resolution_days):
            raise InvalidPolicy(
                f"the {self.name} policy needs response and resolution targets for the same"
                " priorities"
            )
        object.__setattr__(
            self,
            "response_hours",
            {k: _positive(v, f"response hours for {k}") for k, v in self.response_hours.items()},
        )
        object.__setattr__(
            self,
            "resolution_days",
            {k: _positive(v, f"resolution days for {k}") for k, v in self.resolution_days.items()},
        )
        object.__setattr__(self, "hours_per_day", _positive(self.hours_per_day, "hours per day"))
        try:
            object.__setattr__(self, "business_hours", business_windows(self.business_hours))
        except InvalidBusinessHours as error:
            raise InvalidPolicy(f"the {self.name} policy's business hours: {error}") from None
        for tier, overrides in self.tier_overrides.items():
            for priority, tighter in overrides.items():
                if priority not in self.response_hours:
                    raise InvalidPolicy(f"tier {tier!r} overrides unknown priority {priority!r}")
                base = self.targets(priority)
                if (
                    _positive(tighter.response_hours, "a tier's response hours")
                    > base.response_hours
                    or _positive(tighter.resolution_hours, "a tier's resolution hours")
                    > base.resolution_hours
                ):
                    raise InvalidPolicy(
                        f"tier {tier!r} must not have looser targets for {priority!r} than"
                        f" the {self.name} policy's own"
                    )

    @property
    def priorities(self) -> list[str]:
        return list(self.response_hours)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def targets(self, priority: str, tier: str | None = None) -> Targets:
        """The targets for a priority (and VIP tier); ``sla.unknown_priority`` if none."""
        if priority not in self.response_hours:
            known = ", ".join(self.response_hours)
            raise UnknownPriority(
                f"the {self.name} policy has no targets for priority {priority!r} (it has {known})",
                priority=priority,
            )
        if tier is not None:
            tighter = self.tier_overrides.get(tier, {}).get(priority)
            if tighter is not None:
                return tighter
        return Targets(
            response_hours=self.response_hours[priority],
            resolution_hours=self.resolution_days[priority] * self.hours_per_day,
        )


def _clock_time(text: object) -> time:
    try:
        return time.fromisoformat(str(text))
    except ValueError:
        raise InvalidPolicy(f"business hours are HH:MM times, not {text!r}") from None


def policy_from_dict(data: Mapping[str, Any]) -> SlaPolicy:
    """A policy from configuration data (JSON), e.g.::

        {"name": "ours", "version": "2026.1",
         "response_hours": {"critical": "1", "high": "4", "medium": "8", "low": "16"},
         "resolution_days": {"critical": "1", "high": "2", "medium": "5", "low": "10"},
         "hours_per_day": "8",
         "business_hours": [["09:00", "12:00"], ["13:00", "18:00"]],
         "tier_overrides": {"gold": {"high": {"response_hours": "2", "resolution_days": "1"}}}}

    A tier override gives ``response_hours`` and ``resolution_hours`` or ``resolution_days``;
    what it leaves out is the base target. Anything malformed is ``sla.invalid_policy``."""
    try:
        hours_per_day = _positive(data.get("hours_per_day", 8), "hours per day")
        response = {
            str(k): _positive(v, f"response hours for {k}")
            for k, v in dict(data["response_hours"]).items()
        }
        resolution = {
            str(k): _positive(v, f"resolution days for {k}")
            for k, v in dict(data["resolution_days"]).items()
        }
        overrides: dict[str, dict[str, Targets]] = {}
        for tier, per_priority in dict(data.get("tier_overrides", {})).items():
            overrides[str(tier)] = {}
            for priority, given in dict(per_priority).items():
                key = str(priority)
                if key not in response:
                    raise InvalidPolicy(f"tier {tier!r} overrides unknown priority {key!r}")
                if "resolution_hours" in given:
                    resolution_hours = _positive(given["resolution_hours"], "resolution hours")
                elif "resolution_days" in given:
                    days = _positive(given["resolution_days"], "resolution days")
                    resolution_hours = days * hours_per_day
                else:
                    resolution_hours = resolution.get(key, Decimal(0)) * hours_per_day
                overrides[str(tier)][key] = Targets(
                    response_hours=_positive(
                        given.get("response_hours", response[key]), "response hours"
                    ),
                    resolution_hours=resolution_hours,
                )
        windows = DEFAULT_WINDOWS
        if "business_hours" in data:
            windows = tuple(
                (_clock_time(start), _clock_time(end)) for start, end in data["business_hours"]
            )
        return SlaPolicy(
            name=str(data["name"]),
            version=str(data["version"]),
            response_hours=response,
            resolution_days=resolution,
            hours_per_day=hours_per_day,
            tier_overrides=overrides,
            business_hours=windows,
        )
    except InvalidPolicy:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as error:
        raise InvalidPolicy(f"the SLA policy is not valid: {error!r}") from None


def default_policy() -> SlaPolicy:
    """The default policy (``default 2025.1``), business hours 09:00–12:00 and 13:00–18:00:

    ========  ====================  ==========================================
    priority  first response        resolution
    ========  ====================  ==========================================
    critical  2 business hours      1 business day (8 business hours)
    high      4 business hours      3 business days (24)
    medium    8 business hours      5 business days (40)
    low       16 business hours     10 business days (80)
    ========  ====================  ==========================================

    VIP tiers ``gold`` and ``platinum`` get half of each target."""
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
        hours_per_day=Decimal(8),
        tier_overrides={"gold": vip, "platinum": vip},
        business_hours=DEFAULT_WINDOWS,
    )


@dataclass(frozen=True)
class ClockEvent:
    """A status fact a clock is derived from: ``kind`` happened ``at`` (aware)."""

    kind: str
    at: datetime

    def __post_init__(self) -> None:
        if self.kind not in CLOCK_KINDS:
            known = ", ".join(sorted(CLOCK_KINDS))
            raise UnknownClockEvent(f"unknown clock event {self.kind!r} (known: {known})")
        shanghai(self.at, "at")


@dataclass(frozen=True)
class SlaStatus:
    """A clock as of one moment. Hours are business hours (Decimal); times are in Shanghai.

    ``response_hours`` and ``resolution_hours`` are the running business time of each clock
    (pauses, and for resolution the time between resolved and reopened, excluded), up to the
    response / resolution or to ``as_of``."""

    as_of: datetime
    priority: str
    tier: str | None
    policy: str
    calendar: str
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
    def business_hours_elapsed(self) -> Decimal:
        """Business hours the item has run (its resolution clock), pauses excluded."""
        return self.resolution_hours

    @property
    def next_due_at(self) -> datetime | None:
        """The first unmet deadline: response, else resolution; none once resolved."""
        if self.responded_at is None:
            return self.response_due_at
        if self.resolved_at is None:
            return self.resolution_due_at
        return None

    @property
    def remaining(self) -> Decimal | None:
        """Business hours left to :attr:`next_due_at` (negative once late; none once resolved)."""
        if self.responded_at is None:
            return self.targets.response_hours - self.response_hours
        if self.resolved_at is None:
            return self.targets.resolution_hours - self.resolution_hours
        return None


Interval = tuple[datetime, datetime]


def _merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Intervals sorted, with overlapping or touching ones joined and empty ones dropped."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class _Clock:
    """Business time running from ``start``, standing still during ``stops``, and stopped
    for good at ``end`` (if it has ended)."""

    calendar: BusinessCalendar
    start: datetime
    stops: list[Interval]
    end: datetime | None

    def _stops_before(self, limit: datetime | None) -> list[Interval]:
        if limit is None:
            return self.stops
        return [(a, min(b, limit)) for a, b in self.stops if a < limit]

    def used(self, now: datetime) -> Decimal:
        """Running business hours up to the end, or to ``now`` while the clock runs."""
        until = self.end if self.end is not None else now
        if until <= self.start:
            return Decimal(0)
        running = self.calendar.business_hours_between(self.start, until)
        stopped = self.calendar.hours_in(self._stops_before(until))
        return running - stopped

    def due(self, target: Decimal) -> datetime:
        """The moment the running business time reaches ``target``."""
        remaining = target
        cursor = self.start
        for stop_from, stop_to in self._stops_before(self.end):
            if stop_from > cursor:
                available = self.calendar.business_hours_between(cursor, stop_from)
                if remaining <= available:
                    return self.calendar.add_business_hours(cursor, remaining)
                remaining -= available
            cursor = max(cursor, stop_to)
        return self.calendar.add_business_hours(cursor, remaining)


def evaluate(
    calendar: BusinessCalendar,
    policy: SlaPolicy,
    received_at: datetime,
    priority: str,
    events: Sequence[ClockEvent],
    as_of: datetime,
    tier: str | None = None,
) -> SlaStatus:
    """The clock of one item as of ``as_of``, from its status facts.

    ``calendar`` gives the working days; the business hours counted are the policy's."""
    start = shanghai(received_at, "received_at")
    now = shanghai(as_of, "as_of")
    targets = policy.targets(priority, tier)
    hours = calendar.with_windows(policy.business_hours)
    facts = sorted(
        ((e.kind, max(shanghai(e.at, "at"), start)) for e in events if e.at <= now),
        key=lambda fact: fact[1],
    )

    responded_at: datetime | None = None
    paused_since: datetime | None = None
    resolved_since: datetime | None = None
    pauses: list[Interval] = []
    resolved_spans: list[Interval] = []
    for kind, at in facts:
        if kind in ("responded", "resolved") and responded_at is None:
            responded_at = at
        if kind == "paused" and paused_since is None and resolved_since is None:
            paused_since = at
        elif kind in ("resumed", "resolved") and paused_since is not None:
            pauses.append((paused_since, at))
            paused_since = None
        if kind == "resolved" and resolved_since is None:
            resolved_since = at
        elif kind == "reopened" and resolved_since is not None:
            resolved_spans.append((resolved_since, at))
            resolved_since = None
    if paused_since is not None:
        pauses.append((paused_since, max(now, paused_since)))

    response = _Clock(hours, start, _merged(pauses), responded_at)
    resolution = _Clock(hours, start, _merged([*pauses, *resolved_spans]), resolved_since)
    response_used = response.used(now)
    resolution_used = resolution.used(now)
    response_late = max(Decimal(0), response_used - targets.response_hours)
    resolution_late = max(Decimal(0), resolution_used - targets.resolution_hours)
    return SlaStatus(
        as_of=now,
        priority=priority,
        tier=tier,
        policy=policy.label,
        calendar=calendar.version,
        targets=targets,
        response_due_at=response.due(targets.response_hours),
        resolution_due_at=resolution.due(targets.resolution_hours),
        responded_at=responded_at,
        resolved_at=resolved_since,
        paused=paused_since is not None,
        response_hours=response_used,
        resolution_hours=resolution_used,
        response_breached=response_late > 0,
        resolution_breached=resolution_late > 0,
        response_late_by=response_late,
        resolution_late_by=resolution_late,
    )


def breach_key(target: str, due_at: datetime) -> str:
    """``response@2025-10-09T17:00:00+08:00`` — how a recorded breach is kept in state."""
    return f"{target}@{due_at.isoformat()}"


def breach_recorded(keys: Iterable[str], target: str, due_at: datetime) -> bool:
    """Whether a deadline's breach is among ``keys`` (the same instant in any offset)."""
    for key in keys:
        recorded_target, _, recorded_due = key.partition("@")
        if recorded_target == target and datetime.fromisoformat(recorded_due) == due_at:
            return True
    return False
