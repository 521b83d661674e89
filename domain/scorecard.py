"""The credit scorecard (信用评分卡): an explainable, versioned model from assessment inputs
to a score of 0–1000 and a rating AAA … D.

Each factor awards points from a published table, so every automated rating can be
explained factor by factor (PIPL art. 24: 个人信息处理者利用个人信息进行自动化决策，应当保证决策的
透明度). The tables are part of the model: changing a threshold is a new
:data:`MODEL_VERSION`, and every assessment event records the version it used.

All ratios are computed in :class:`~decimal.Decimal` and rounded half-up to four places
before they are compared with a threshold, so the same inputs always give the same score.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from domain.base import DomainError, InvalidValueError
from domain.values import Money

MODEL_VERSION = "kehu-scorecard/2026.1"


class Rating(StrEnum):
    """信用等级."""

    AAA = "AAA"  # 信用极好
    AA = "AA"  # 信用优良
    A = "A"  # 信用较好
    B = "B"  # 信用一般
    C = "C"  # 信用较差
    D = "D"  # 信用很差


RATING_LABELS = {
    Rating.AAA: "信用极好",
    Rating.AA: "信用优良",
    Rating.A: "信用较好",
    Rating.B: "信用一般",
    Rating.C: "信用较差",
    Rating.D: "信用很差",
}

#: The lowest score of each rating, best first.
RATING_FLOORS: tuple[tuple[Rating, int], ...] = (
    (Rating.AAA, 900),
    (Rating.AA, 800),
    (Rating.A, 700),
    (Rating.B, 550),
    (Rating.C, 400),
    (Rating.D, 0),
)

#: Rank of each rating, 0 the best, for comparing ratings ("at least A").
RATING_RANK = {rating: rank for rank, (rating, _) in enumerate(RATING_FLOORS)}


class InvalidAssessmentInput(DomainError):
    code = "credit.invalid_assessment_input"
    kind = "invalid"


def rating_for(score: int) -> Rating:
    for rating, floor in RATING_FLOORS:
        if score >= floor:
            return rating
    return Rating.D


@dataclass(frozen=True)
class AssessmentInputs:
    """What an assessment is computed from (信用评估依据).

    Payment history counts invoices paid on time and late; overdue figures cover the last
    twelve months; the financial figures come from the latest statements; the relationship
    length is in whole months.
    """

    invoices_paid_on_time: int
    invoices_paid_late: int
    overdue_count_12m: int
    max_overdue_days: int
    total_assets: Money
    total_liabilities: Money
    current_assets: Money
    current_liabilities: Money
    annual_revenue: Money
    net_profit: Money
    relationship_months: int

    COUNTS = (
        "invoices_paid_on_time",
        "invoices_paid_late",
        "overdue_count_12m",
        "max_overdue_days",
        "relationship_months",
    )
    AMOUNTS = (
        "total_assets",
        "total_liabilities",
        "current_assets",
        "current_liabilities",
        "annual_revenue",
        "net_profit",
    )

    @classmethod
    def parse(cls, raw: dict[str, Any], currency: str = "CNY") -> AssessmentInputs:
        """Inputs from plain data: counts as non-negative integers, amounts as decimal
        text (net profit may be negative, the other amounts may not)."""
        if not isinstance(raw, dict):
            raise InvalidAssessmentInput("the assessment inputs must be an object")
        unknown = set(raw) - set(cls.COUNTS) - set(cls.AMOUNTS)
        if unknown:
            raise InvalidAssessmentInput(
                f"unknown assessment inputs: {', '.join(sorted(unknown))}",
                fields=sorted(unknown),
            )
        values: dict[str, Any] = {}
        for name in cls.COUNTS:
            value = raw.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidAssessmentInput(
                    f"{name} must be a whole number of at least 0; got {value!r}", field=name
                )
            if value > 1_000_000:
                raise InvalidAssessmentInput(f"{name} is implausibly large", field=name)
            values[name] = value
        for name in cls.AMOUNTS:
            if name not in raw:
                raise InvalidAssessmentInput(f"{name} is required", field=name)
            try:
                money = (
                    Money.parse(raw[name], currency)
                    if name == "net_profit"
                    else Money.parse_non_negative(raw[name], currency)
                )
            except InvalidValueError as error:
                raise InvalidAssessmentInput(f"{name}: {error.message}", field=name) from None
            values[name] = money
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the event (amounts as decimal text)."""
        data: dict[str, Any] = {name: getattr(self, name) for name in self.COUNTS}
        for name in self.AMOUNTS:
            data[name] = str(getattr(self, name).amount)
        return data


@dataclass(frozen=True)
class Factor:
    """One line of the scorecard with its explanation."""

    name: str
    label: str
    value: str
    points: int
    max_points: int
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "value": self.value,
            "points": self.points,
            "max_points": self.max_points,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Scorecard:
    score: int
    rating: Rating
    factors: tuple[Factor, ...]
    model_version: str = MODEL_VERSION

    def explanation(self) -> str:
        """A human-readable account of the rating (中文 first, then each factor)."""
        lines = [
            f"评分 {self.score}/1000，信用等级 {self.rating.value}"
            f"（{RATING_LABELS[self.rating]}），模型 {self.model_version}。",
            f"Score {self.score}/1000, rating {self.rating.value} ({self.model_version}):",
        ]
        lines.extend(
            f"- {f.label} ({f.name}): {f.value} → {f.points}/{f.max_points}. {f.explanation}"
            for f in self.factors
        )
        return "\n".join(lines)


_FOUR = Decimal("0.0001")


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(_FOUR, rounding=ROUND_HALF_UP)


def _band(value: Decimal, table: tuple[tuple[Decimal, int], ...], *, higher_is_better: bool) -> int:
    """Points of the first row whose threshold ``value`` reaches (or stays under)."""
    for threshold, points in table:
        if (value >= threshold) if higher_is_better else (value <= threshold):
            return points
    return 0


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def _payment_history(inputs: AssessmentInputs) -> Factor:
    total = inputs.invoices_paid_on_time + inputs.invoices_paid_late
    if total == 0:
        return Factor(
            "payment_history",
            "付款记录",
            "no invoices paid yet",
            150,
            300,
            "No payment history: half the points (neutral).",
        )
    ratio = _ratio(Decimal(inputs.invoices_paid_on_time), Decimal(total))
    assert ratio is not None
    points = _band(
        ratio,
        (
            (Decimal("0.98"), 300),
            (Decimal("0.95"), 250),
            (Decimal("0.90"), 200),
            (Decimal("0.80"), 120),
            (Decimal("0.60"), 60),
        ),
        higher_is_better=True,
    )
    return Factor(
        "payment_history",
        "付款记录",
        f"{_percent(ratio)} of {total} invoices paid on time",
        points,
        300,
        "300 at 98% or more on time, 250 at 95%, 200 at 90%, 120 at 80%, 60 at 60%, else 0.",
    )


def _overdue(inputs: AssessmentInputs) -> Factor:
    count, days = inputs.overdue_count_12m, inputs.max_overdue_days
    if count == 0:
        points = 200
    elif count <= 2 and days <= 30:
        points = 140
    elif count <= 5 and days <= 60:
        points = 80
    elif days <= 90:
        points = 30
    else:
        points = 0
    return Factor(
        "overdue",
        "逾期记录",
        f"{count} overdue in 12 months, longest {days} days",
        points,
        200,
        "200 with none; 140 with at most 2 of at most 30 days; 80 with at most 5 of at most"
        " 60 days; 30 if none exceeded 90 days; else 0.",
    )


def _leverage(inputs: AssessmentInputs) -> Factor:
    ratio = _ratio(inputs.total_liabilities.amount, inputs.total_assets.amount)
    if ratio is None:
        return Factor(
            "leverage", "资产负债率", "no assets reported", 0, 150, "No assets: no points."
        )
    points = _band(
        ratio,
        ((Decimal("0.40"), 150), (Decimal("0.60"), 110), (Decimal("0.75"), 60), (Decimal("1"), 20)),
        higher_is_better=False,
    )
    return Factor(
        "leverage",
        "资产负债率",
        f"liabilities are {_percent(ratio)} of assets",
        points,
        150,
        "150 at 40% or less, 110 at 60%, 60 at 75%, 20 at 100%, else 0.",
    )


def _liquidity(inputs: AssessmentInputs) -> Factor:
    ratio = _ratio(inputs.current_assets.amount, inputs.current_liabilities.amount)
    if ratio is None:
        has_assets = not inputs.current_assets.is_zero()
        return Factor(
            "liquidity",
            "流动比率",
            "no current liabilities",
            100 if has_assets else 0,
            100,
            "No current liabilities: full points if there are current assets.",
        )
    points = _band(
        ratio,
        ((Decimal("2"), 100), (Decimal("1.5"), 80), (Decimal("1"), 50), (Decimal("0.5"), 10)),
        higher_is_better=True,
    )
    return Factor(
        "liquidity",
        "流动比率",
        f"current ratio {ratio}",
        points,
        100,
        "100 at 2.0 or more, 80 at 1.5, 50 at 1.0, 10 at 0.5, else 0.",
    )


def _profitability(inputs: AssessmentInputs) -> Factor:
    ratio = _ratio(inputs.net_profit.amount, inputs.annual_revenue.amount)
    if ratio is None:
        return Factor(
            "profitability", "净利润率", "no revenue reported", 0, 100, "No revenue: no points."
        )
    points = _band(
        ratio,
        ((Decimal("0.10"), 100), (Decimal("0.05"), 70), (Decimal("0"), 40)),
        higher_is_better=True,
    )
    return Factor(
        "profitability",
        "净利润率",
        f"net margin {_percent(ratio)}",
        points,
        100,
        "100 at a 10% margin or more, 70 at 5%, 40 at break-even, 0 at a loss.",
    )


def _relationship(inputs: AssessmentInputs) -> Factor:
    months = inputs.relationship_months
    points = _band(
        Decimal(months),
        (
            (Decimal(60), 150),
            (Decimal(36), 120),
            (Decimal(24), 90),
            (Decimal(12), 60),
            (Decimal(6), 30),
            (Decimal(0), 10),
        ),
        higher_is_better=True,
    )
    return Factor(
        "relationship",
        "合作年限",
        f"{months} months",
        points,
        150,
        "150 at 5 years or more, 120 at 3, 90 at 2, 60 at 1, 30 at 6 months, else 10.",
    )


FACTORS = (_payment_history, _overdue, _leverage, _liquidity, _profitability, _relationship)


def score(inputs: AssessmentInputs) -> Scorecard:
    """Score the inputs with the current model."""
    factors = tuple(factor(inputs) for factor in FACTORS)
    total = sum(f.points for f in factors)
    return Scorecard(score=total, rating=rating_for(total), factors=factors)
