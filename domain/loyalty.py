"""VIP membership policy (会员等级政策) as data: tiers, their qualification and benefits,
points and the evaluation of a tier at the end of its term.

The policy is declared in ``domain/policy_data/vip_policy.json`` (the application may give
another file through its ``KEHU_VIP_POLICY_FILE`` setting): a list of versions, each in force
from its ``effective_from`` date until the next version's. A decision uses the version in force
on the day it concerns, and records that version.

Qualification (资格认定, seed 003 §2.1: 消费金额、购买频率、产品类别) looks at the rolling
12 months ending on a day — the :class:`Basis`: spend in CNY, the number of purchases and the
distinct product categories. A tier qualifies when all three of its thresholds hold; the
*qualifying tier* is the highest tier that qualifies.

A tier is held for ``term_months``. At the end of the term (:meth:`VipPolicy.outcome_at_term_end`):

- the basis still qualifies for the tier → **renewed** for another term;
- it qualifies for a higher tier → **upgraded**;
- otherwise → **downgraded** by the declared rule, or **lapsed** (no tier) when there is
  nothing below:

  - ``one_step`` (the declared rule): one tier down, whatever the basis — a quiet year costs
    a platinum member one step, to gold, not the whole way down;
  - ``to_qualified`` (the alternative, supported): straight to the qualifying tier, which may
    be none.

Points (积分) are ``floor(amount × points_per_yuan)`` of the tier held, for purchases in CNY
only (the rate is per yuan); they expire ``points_expiry_months`` after they were earned.
``yuan_per_point`` values the points outstanding (the points liability).

Everything here is pure: no clock, no I/O except :func:`load_policy_book` reading the file.
"""

from __future__ import annotations

import calendar as _calendar
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from domain.base import DomainError
from domain.values import Money

POLICY_PACKAGE = "domain.policy_data"
POLICY_FILE = "vip_policy.json"
#: The application setting naming another policy file (read by the application, not here).
POLICY_FILE_SETTING = "KEHU_VIP_POLICY_FILE"
#: Thresholds, spend and points are in yuan (人民币).
POLICY_CURRENCY = "CNY"

_CODE_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_FEN = Decimal("0.01")


# -- errors ---------------------------------------------------------------------------


class InvalidVipPolicy(DomainError):
    """The declared policy is malformed or contradicts itself."""

    code = "customer.invalid_vip_policy"
    kind = "invalid"


class UnknownTier(DomainError):
    """No tier of that code in the policy."""

    code = "customer.unknown_tier"
    kind = "invalid"


class NoVipPolicy(DomainError):
    """No policy version in force on the day asked about (or no version of that name)."""

    code = "customer.no_vip_policy"
    kind = "invalid"


# -- vocabulary -----------------------------------------------------------------------


class Downgrade(StrEnum):
    """What happens to a tier whose holder no longer qualifies at the end of its term."""

    ONE_STEP = "one_step"  # 逐级降级: one tier down
    TO_QUALIFIED = "to_qualified"  # 按实际资格: down to the tier the basis qualifies for


class Movement(StrEnum):
    """How a tier changed (等级变动)."""

    GRANTED = "granted"  # 申请认定
    UPGRADED = "upgraded"  # 升级
    RENEWED = "renewed"  # 续期
    DOWNGRADED = "downgraded"  # 降级
    LAPSED = "lapsed"  # 失效


MOVEMENT_LABELS: Mapping[Movement, str] = {
    Movement.GRANTED: "申请认定",
    Movement.UPGRADED: "升级",
    Movement.RENEWED: "续期",
    Movement.DOWNGRADED: "降级",
    Movement.LAPSED: "失效",
}


# -- helpers --------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier, when negative), or the last day of that
    month when it is shorter: 2024-02-29 − 12 months is 2023-02-28."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, float | bool):
        raise InvalidVipPolicy(f"{what} must be decimal text, never {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidVipPolicy(f"{what} must be a decimal number, not {value!r}") from None
    if not number.is_finite():
        raise InvalidVipPolicy(f"{what} must be a finite number, not {value!r}")
    return number


def _whole(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidVipPolicy(f"{what} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidVipPolicy(f"{what} must be true or false, not {value!r}")
    return value


def _day(value: object, what: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InvalidVipPolicy(f"{what} must be an ISO date, not {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidVipPolicy(f"{what} is not an ISO date: {value!r}") from None


def _text(value: object, what: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidVipPolicy(f"{what} must be text of 1 to {max_length} characters")
    return value.strip()


# -- the basis of qualification -----------------------------------------------------------


@dataclass(frozen=True)
class Basis:
    """What qualification looks at: the rolling 12 months from ``window_start`` through
    ``window_end`` (both included) — spend in CNY, number of purchases (any currency) and the
    distinct product categories bought, sorted."""

    spend_12m: Money
    purchases_12m: int
    categories: tuple[str, ...]
    window_start: date
    window_end: date

    def as_dict(self) -> dict[str, Any]:
        """The basis as event data (lists, not tuples: events are stored as JSON)."""
        return {
            "spend_12m": self.spend_12m,
            "purchases_12m": self.purchases_12m,
            "categories": list(self.categories),
            "window_start": self.window_start,
            "window_end": self.window_end,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Basis:
        return cls(
            spend_12m=data["spend_12m"],
            purchases_12m=int(data["purchases_12m"]),
            categories=tuple(data["categories"]),
            window_start=data["window_start"],
            window_end=data["window_end"],
        )


def basis_of(purchases: Iterable[Mapping[str, Any]], on: date) -> Basis:
    """The basis as of ``on``: purchases with ``occurred_on`` in (on − 12 months, on].

    Each purchase is a mapping with ``amount`` (Money), ``category`` and ``occurred_on``.
    Only amounts in CNY add to the spend (the thresholds are in yuan); purchases in another
    currency still count as purchases and for their category."""
    start = add_months(on, -12) + timedelta(days=1)
    spend = Money.zero(POLICY_CURRENCY)
    count = 0
    categories: set[str] = set()
    for purchase in purchases:
        day = purchase["occurred_on"]
        if not start <= day <= on:
            continue
        count += 1
        categories.add(purchase["category"])
        amount: Money = purchase["amount"]
        if amount.currency == POLICY_CURRENCY:
            spend = spend + amount
    return Basis(
        spend_12m=spend,
        purchases_12m=count,
        categories=tuple(sorted(categories)),
        window_start=start,
        window_end=on,
    )


# -- tiers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierRule:
    """One tier (会员等级): its qualification (all three must hold) and its benefits."""

    code: str
    label: str
    rank: int
    min_spend_12m: Money
    min_purchases_12m: int
    min_categories: int
    #: 专属优惠: the discount on purchases, 0 ≤ rate < 1.
    discount_rate: Decimal
    #: 优先服务: the SLA policy's VIP targets apply.
    priority_service: bool
    #: 生日礼物.
    birthday_gift: bool
    #: 专属客户经理: a dedicated account manager is required.
    dedicated_manager: bool
    points_per_yuan: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE_RE.fullmatch(self.code):
            raise InvalidVipPolicy(
                f"a tier code is lower-case letters, digits and _, not {self.code!r}"
            )
        _text(self.label, f"the label of tier {self.code}", 20)
        _whole(self.rank, f"the rank of tier {self.code}", 1, 99)
        if not isinstance(self.min_spend_12m, Money) or self.min_spend_12m.currency != (
            POLICY_CURRENCY
        ):
            raise InvalidVipPolicy(f"the minimum spend of tier {self.code} must be yuan (CNY)")
        if self.min_spend_12m.is_negative():
            raise InvalidVipPolicy(f"the minimum spend of tier {self.code} must not be negative")
        _whole(self.min_purchases_12m, f"the minimum purchases of tier {self.code}", 0, 100_000)
        _whole(self.min_categories, f"the minimum categories of tier {self.code}", 0, 1_000)
        rate = _decimal(self.discount_rate, f"the discount rate of tier {self.code}")
        if not Decimal(0) <= rate < Decimal(1):
            raise InvalidVipPolicy(
                f"the discount rate of tier {self.code} must be at least 0 and below 1, not {rate}"
            )
        per_yuan = _decimal(self.points_per_yuan, f"the points per yuan of tier {self.code}")
        if per_yuan < 0:
            raise InvalidVipPolicy(f"the points per yuan of tier {self.code} must not be negative")
        object.__setattr__(self, "discount_rate", rate)
        object.__setattr__(self, "points_per_yuan", per_yuan)
        for name in ("priority_service", "birthday_gift", "dedicated_manager"):
            _flag(getattr(self, name), f"{name} of tier {self.code}")

    def qualifies(self, basis: Basis) -> bool:
        """All three thresholds hold."""
        return (
            basis.spend_12m >= self.min_spend_12m
            and basis.purchases_12m >= self.min_purchases_12m
            and len(basis.categories) >= self.min_categories
        )

    def benefits(self) -> dict[str, Any]:
        return {
            "discount_rate": self.discount_rate,
            "priority_service": self.priority_service,
            "birthday_gift": self.birthday_gift,
            "dedicated_manager": self.dedicated_manager,
        }

    def as_dict(self) -> dict[str, Any]:
        """The tier as in the policy file (decimals as text)."""
        return {
            "code": self.code,
            "label": self.label,
            "rank": self.rank,
            "qualification": {
                "min_spend_12m": str(self.min_spend_12m.amount),
                "min_purchases_12m": self.min_purchases_12m,
                "min_categories": self.min_categories,
            },
            "benefits": {
                "discount_rate": str(self.discount_rate),
                "priority_service": self.priority_service,
                "birthday_gift": self.birthday_gift,
                "dedicated_manager": self.dedicated_manager,
            },
            "points_per_yuan": str(self.points_per_yuan),
        }


@dataclass(frozen=True)
class TierOutcome:
    """Where a tier goes at the end of its term."""

    to_tier: str | None
    movement: Movement


@dataclass(frozen=True)
class VipPolicy:
    """One version of the declared VIP policy (会员等级政策), in force from ``effective_from``.

    ``tiers`` go from the lowest up, ranked 1..n; a higher tier asks no less than the one
    below it in any threshold and more in at least one, so whoever qualifies for a tier
    qualifies for every tier below it."""

    version: str
    effective_from: date
    tiers: tuple[TierRule, ...]
    points_expiry_months: int
    yuan_per_point: Decimal
    term_months: int
    downgrade: str
    notification_working_days: int
    notice: str = ""

    def __post_init__(self) -> None:
        _text(self.version, "the policy version", 40)
        if not isinstance(self.effective_from, date) or isinstance(self.effective_from, datetime):
            raise InvalidVipPolicy(f"policy {self.version}: effective_from must be a date")
        object.__setattr__(self, "tiers", tuple(self.tiers))
        if not self.tiers:
            raise InvalidVipPolicy(f"policy {self.version} declares no tiers")
        codes = [tier.code for tier in self.tiers]
        if len(set(codes)) != len(codes):
            raise InvalidVipPolicy(f"policy {self.version} declares a tier code twice: {codes}")
        ranks = [tier.rank for tier in self.tiers]
        if ranks != list(range(1, len(self.tiers) + 1)):
            raise InvalidVipPolicy(
                f"policy {self.version}: tiers are listed lowest first and ranked 1..n, not {ranks}"
            )
        for lower, higher in zip(self.tiers, self.tiers[1:], strict=False):
            pairs = (
                (lower.min_spend_12m.amount, higher.min_spend_12m.amount),
                (Decimal(lower.min_purchases_12m), Decimal(higher.min_purchases_12m)),
                (Decimal(lower.min_categories), Decimal(higher.min_categories)),
            )
            if any(high < low for low, high in pairs) or all(high == low for low, high in pairs):
                raise InvalidVipPolicy(
                    f"policy {self.version}: tier {higher.code} must ask no less than"
                    f" {lower.code} in every threshold and more in at least one"
                )
        _whole(self.points_expiry_months, "points expiry_months", 1, 120)
        per_point = _decimal(self.yuan_per_point, "points yuan_per_point")
        if per_point <= 0:
            raise InvalidVipPolicy("points yuan_per_point must be more than 0")
        object.__setattr__(self, "yuan_per_point", per_point)
        _whole(self.term_months, "evaluation term_months", 1, 60)
        try:
            Downgrade(self.downgrade)
        except ValueError:
            allowed = ", ".join(d.value for d in Downgrade)
            raise InvalidVipPolicy(
                f"evaluation downgrade must be one of {allowed}, not {self.downgrade!r}"
            ) from None
        _whole(self.notification_working_days, "notification_working_days", 1, 60)
        if not isinstance(self.notice, str):
            raise InvalidVipPolicy("the policy notice must be text")

    # -- tiers

    @property
    def codes(self) -> tuple[str, ...]:
        """Tier codes, lowest first."""
        return tuple(tier.code for tier in self.tiers)

    def has_tier(self, code: str | None) -> bool:
        return code is not None and code in self.codes

    def tier(self, code: str) -> TierRule:
        """The tier of that code (``customer.unknown_tier`` if none)."""
        for tier in self.tiers:
            if tier.code == code:
                return tier
        raise UnknownTier(
            f"policy {self.version} has no tier {code!r} (it has {', '.join(self.codes)})",
            tier=str(code),
        )

    def rank(self, code: str | None) -> int:
        """A tier's rank; no tier is 0."""
        return 0 if code is None else self.tier(code).rank

    def tier_below(self, code: str) -> str | None:
        """The tier one step down; none below the lowest."""
        rank = self.rank(code)
        return None if rank == 1 else self.tiers[rank - 2].code

    def qualifying_tier(self, basis: Basis) -> str | None:
        """The highest tier whose qualification holds on the basis, or ``None``."""
        found = None
        for tier in self.tiers:
            if tier.qualifies(basis):
                found = tier.code
        return found

    def outcome_at_term_end(self, current: str, basis: Basis) -> TierOutcome:
        """Renewed, upgraded, downgraded or lapsed, by :attr:`downgrade`."""
        qualified = self.qualifying_tier(basis)
        held, reached = self.rank(current), self.rank(qualified)
        if reached > held:
            return TierOutcome(qualified, Movement.UPGRADED)
        if reached == held:
            return TierOutcome(current, Movement.RENEWED)
        target = self.tier_below(current) if self.downgrade == Downgrade.ONE_STEP else qualified
        return TierOutcome(target, Movement.DOWNGRADED if target else Movement.LAPSED)

    # -- points

    def points_for(self, tier: str | None, amount: Money) -> int:
        """Points a purchase earns: ``floor(amount × points_per_yuan)`` of the tier; none
        without a tier, and none for an amount in another currency than yuan."""
        if tier is None or amount.currency != POLICY_CURRENCY or amount.is_negative():
            return 0
        earned = amount.amount * self.tier(tier).points_per_yuan
        return int(earned.to_integral_value(rounding=ROUND_FLOOR))

    def points_value(self, points: int) -> Money:
        """What points are worth (the liability), rounded half up to the fen."""
        value = (Decimal(points) * self.yuan_per_point).quantize(_FEN, rounding=ROUND_HALF_UP)
        return Money(value, POLICY_CURRENCY)

    def points_expire_on(self, earned_on: date) -> date:
        return add_months(earned_on, self.points_expiry_months)

    def term_ends_on(self, start: date) -> date:
        """The day a term started on ``start`` ends (the first day it is no longer held)."""
        return add_months(start, self.term_months)

    def as_dict(self) -> dict[str, Any]:
        """The version as in the policy file."""
        return {
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "notice": self.notice,
            "tiers": [tier.as_dict() for tier in self.tiers],
            "points": {
                "expiry_months": self.points_expiry_months,
                "yuan_per_point": str(self.yuan_per_point),
            },
            "evaluation": {"term_months": self.term_months, "downgrade": str(self.downgrade)},
            "notification_working_days": self.notification_working_days,
        }


def _tier_from_dict(data: Mapping[str, Any]) -> TierRule:
    qualification = data["qualification"]
    benefits = data["benefits"]
    code = data["code"]
    return TierRule(
        code=code,
        label=data["label"],
        rank=data["rank"],
        min_spend_12m=Money(
            _decimal(qualification["min_spend_12m"], f"the minimum spend of tier {code}"),
            POLICY_CURRENCY,
        ),
        min_purchases_12m=qualification["min_purchases_12m"],
        min_categories=qualification["min_categories"],
        discount_rate=_decimal(benefits["discount_rate"], f"the discount rate of tier {code}"),
        priority_service=benefits["priority_service"],
        birthday_gift=benefits["birthday_gift"],
        dedicated_manager=benefits["dedicated_manager"],
        points_per_yuan=_decimal(data["points_per_yuan"], f"the points per yuan of tier {code}"),
    )


def policy_from_dict(data: Mapping[str, Any]) -> VipPolicy:
    """One policy version from its JSON record (``customer.invalid_vip_policy`` if it is
    malformed)::

        {"version": "2025.1", "effective_from": "2025-01-01", "notice": "…",
         "tiers": [{"code": "silver", "label": "银卡", "rank": 1,
                    "qualification": {"min_spend_12m": "50000", "min_purchases_12m": 4,
                                      "min_categories": 1},
                    "benefits": {"discount_rate": "0.05", "priority_service": false,
                                 "birthday_gift": true, "dedicated_manager": false},
                    "points_per_yuan": "1"}, …],
         "points": {"expiry_months": 24, "yuan_per_point": "0.01"},
         "evaluation": {"term_months": 12, "downgrade": "one_step"},
         "notification_working_days": 7}
    """
    try:
        points = data["points"]
        evaluation = data["evaluation"]
        return VipPolicy(
            version=data["version"],
            effective_from=_day(data["effective_from"], "effective_from"),
            notice=data.get("notice", ""),
            tiers=tuple(_tier_from_dict(tier) for tier in data["tiers"]),
            points_expiry_months=points["expiry_months"],
            yuan_per_point=_decimal(points["yuan_per_point"], "points yuan_per_point"),
            term_months=evaluation["term_months"],
            downgrade=evaluation["downgrade"],
            notification_working_days=data["notification_working_days"],
        )
    except InvalidVipPolicy:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, DomainError) as error:
        raise InvalidVipPolicy(f"the VIP policy is not valid: {error!r}") from None


# -- the versions ------------------------------------------------------------------------


@dataclass(frozen=True)
class VipPolicyBook:
    """Every version of the policy, oldest first; each is in force from its effective date
    until the next one's. A later version keeps every tier code of the earlier ones (it
    may add tiers), so a tier once granted is always known to the policy in force."""

    versions: tuple[VipPolicy, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "versions", tuple(self.versions))
        if not self.versions:
            raise InvalidVipPolicy("the VIP policy has no version")
        names = [v.version for v in self.versions]
        if len(set(names)) != len(names):
            raise InvalidVipPolicy(f"a VIP policy version is declared twice: {names}")
        for earlier, later in zip(self.versions, self.versions[1:], strict=False):
            if later.effective_from <= earlier.effective_from:
                raise InvalidVipPolicy(
                    f"VIP policy versions are listed in order of their effective dates:"
                    f" {later.version} ({later.effective_from}) does not follow"
                    f" {earlier.version} ({earlier.effective_from})"
                )
            dropped = sorted(set(earlier.codes) - set(later.codes))
            if dropped:
                raise InvalidVipPolicy(
                    f"VIP policy {later.version} drops tier(s) {', '.join(dropped)}"
                    f" of {earlier.version}; a later version keeps every tier code"
                )

    @property
    def latest(self) -> VipPolicy:
        return self.versions[-1]

    def in_force_or_none(self, day: date) -> VipPolicy | None:
        """The version in force on ``day``, or ``None`` before the first one."""
        found = None
        for version in self.versions:
            if version.effective_from <= day:
                found = version
        return found

    def in_force(self, day: date) -> VipPolicy:
        """The version in force on ``day`` (``customer.no_vip_policy`` before the first)."""
        found = self.in_force_or_none(day)
        if found is None:
            first = self.versions[0]
            raise NoVipPolicy(
                f"no VIP policy was in force on {day}; the first ({first.version}) took effect"
                f" on {first.effective_from}",
                day=day.isoformat(),
            )
        return found

    def version(self, name: str) -> VipPolicy:
        """The version of that name (``customer.no_vip_policy`` if none)."""
        for version in self.versions:
            if version.version == name:
                return version
        raise NoVipPolicy(f"no VIP policy version {name!r} is on record", version=str(name))

    def as_list(self) -> list[dict[str, Any]]:
        return [version.as_dict() for version in self.versions]


def policy_book_from_list(data: object) -> VipPolicyBook:
    """The versions from the policy file's JSON data (a list of version records)."""
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise InvalidVipPolicy("the VIP policy file holds a list of policy versions")
    return VipPolicyBook(tuple(policy_from_dict(item) for item in data))


def load_policy_book(path: Path | None = None) -> VipPolicyBook:
    """The policy versions from ``path``, or from the file packaged with kehu."""
    try:
        if path is None:
            text = resources.files(POLICY_PACKAGE).joinpath(POLICY_FILE).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as error:
        where = path or f"{POLICY_PACKAGE}/{POLICY_FILE}"
        raise InvalidVipPolicy(f"the VIP policy file {where} is unreadable: {error}") from None
    return policy_book_from_list(data)


@cache
def default_policy_book() -> VipPolicyBook:
    """The policy packaged with kehu (read once)."""
    return load_policy_book()
