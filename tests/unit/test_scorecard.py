"""The credit scorecard 信用评分卡: every factor's bands at and around each threshold, the
rating floors, the explanation, and the refusals of :meth:`AssessmentInputs.parse`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.base import DomainError
from domain.scorecard import (
    MODEL_VERSION,
    RATING_FLOORS,
    RATING_LABELS,
    RATING_RANK,
    AssessmentInputs,
    Factor,
    Rating,
    Scorecard,
    rating_for,
    score,
)
from domain.values import Money

INVALID = "credit.invalid_assessment_input"

#: Inputs that earn every factor its full points (1000 in all).
PERFECT: dict[str, Any] = {
    "invoices_paid_on_time": 100,
    "invoices_paid_late": 0,
    "overdue_count_12m": 0,
    "max_overdue_days": 0,
    "total_assets": "1000.00",
    "total_liabilities": "0.00",
    "current_assets": "200.00",
    "current_liabilities": "100.00",
    "annual_revenue": "1000.00",
    "net_profit": "100.00",
    "relationship_months": 60,
}


def inputs(**overrides: Any) -> AssessmentInputs:
    return AssessmentInputs.parse(PERFECT | overrides)


def factor(card: Scorecard, name: str) -> Factor:
    [found] = [f for f in card.factors if f.name == name]
    return found


def points(name: str, **overrides: Any) -> int:
    return factor(score(inputs(**overrides)), name).points


def refusal(raw: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as error:
        AssessmentInputs.parse(raw, **kwargs)
    assert error.value.code == INVALID, error.value.message
    assert error.value.kind == "invalid"
    return error.value


# -- the whole card -------------------------------------------------------------------


def test_perfect_inputs_score_a_thousand_with_every_factor_at_its_maximum() -> None:
    card = score(inputs())
    assert card.score == 1000
    assert card.rating is Rating.AAA
    assert [f.name for f in card.factors] == [
        "payment_history",
        "overdue",
        "leverage",
        "liquidity",
        "profitability",
        "relationship",
    ]
    assert [(f.points, f.max_points) for f in card.factors] == [
        (300, 300),
        (200, 200),
        (150, 150),
        (100, 100),
        (100, 100),
        (150, 150),
    ]
    assert sum(f.max_points for f in card.factors) == 1000


def test_the_score_is_the_sum_of_the_factor_points() -> None:
    card = score(
        inputs(
            invoices_paid_on_time=95,
            invoices_paid_late=5,  # 95%: 250
            overdue_count_12m=1,
            max_overdue_days=10,  # 140
            total_liabilities="500.00",  # 50%: 110
            current_assets="150.00",  # 1.5: 80
            net_profit="50.00",  # 5%: 70
            relationship_months=24,  # 90
        )
    )
    assert [f.points for f in card.factors] == [250, 140, 110, 80, 70, 90]
    assert card.score == 740
    assert card.rating is Rating.A


def test_the_worst_inputs_keep_the_relationship_floor_and_rate_d() -> None:
    card = score(
        inputs(
            invoices_paid_on_time=0,
            invoices_paid_late=10,
            overdue_count_12m=9,
            max_overdue_days=120,
            total_assets="0.00",
            total_liabilities="100.00",
            current_assets="0.00",
            current_liabilities="0.00",
            annual_revenue="0.00",
            net_profit="-10.00",
            relationship_months=0,
        )
    )
    assert [f.points for f in card.factors] == [0, 0, 0, 0, 0, 10]
    assert card.score == 10
    assert card.rating is Rating.D


def test_the_same_inputs_always_give_the_same_card() -> None:
    raw = PERFECT | {"invoices_paid_on_time": 19599, "invoices_paid_late": 401}
    assert score(AssessmentInputs.parse(raw)) == score(AssessmentInputs.parse(dict(raw)))


def test_the_model_version_is_recorded_on_the_card() -> None:
    card = score(inputs())
    assert card.model_version == MODEL_VERSION == "kehu-scorecard/2026.1"
    assert MODEL_VERSION in card.explanation()


# -- payment history (付款记录, 300) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("on_time", "expected"),
    [
        (10000, 300),
        (9800, 300),  # exactly 0.98
        (9799, 250),  # 0.9799
        (9500, 250),
        (9499, 200),
        (9000, 200),
        (8999, 120),
        (8000, 120),
        (7999, 60),
        (6000, 60),
        (5999, 0),
        (0, 0),
    ],
)
def test_payment_history_bands(on_time: int, expected: int) -> None:
    assert (
        points(
            "payment_history",
            invoices_paid_on_time=on_time,
            invoices_paid_late=10000 - on_time,
        )
        == expected
    )


def test_payment_history_ratio_is_rounded_half_up_to_four_places_before_the_band() -> None:
    # 19599 / 20000 = 0.97995 → 0.9800 (half up) → the top band
    assert points("payment_history", invoices_paid_on_time=19599, invoices_paid_late=401) == 300
    # 19598 / 20000 = 0.9799 → the next band
    assert points("payment_history", invoices_paid_on_time=19598, invoices_paid_late=402) == 250


def test_payment_history_without_invoices_is_neutral() -> None:
    f = factor(score(inputs(invoices_paid_on_time=0, invoices_paid_late=0)), "payment_history")
    assert (f.points, f.max_points) == (150, 300)
    assert f.value == "no invoices paid yet"
    assert "neutral" in f.explanation


def test_payment_history_value_shows_the_percentage_and_count() -> None:
    f = factor(score(inputs(invoices_paid_on_time=2, invoices_paid_late=1)), "payment_history")
    assert f.value == "66.67% of 3 invoices paid on time"
    assert f.points == 60  # 0.6667 ≥ 0.60


# -- overdue (逾期记录, 200) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "days", "expected"),
    [
        (0, 0, 200),
        (0, 99, 200),  # no overdue in 12 months: the longest days do not count
        (1, 1, 140),
        (2, 30, 140),
        (3, 30, 80),
        (2, 31, 80),
        (5, 60, 80),
        (6, 60, 30),
        (5, 61, 30),
        (100, 90, 30),
        (1, 91, 0),
        (9, 365, 0),
    ],
)
def test_overdue_bands(count: int, days: int, expected: int) -> None:
    assert points("overdue", overdue_count_12m=count, max_overdue_days=days) == expected


def test_overdue_value_names_count_and_longest() -> None:
    f = factor(score(inputs(overdue_count_12m=3, max_overdue_days=45)), "overdue")
    assert f.value == "3 overdue in 12 months, longest 45 days"
    assert f.max_points == 200


# -- leverage (资产负债率, 150) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("liabilities", "expected"),
    [
        ("0.00", 150),
        ("4000.00", 150),  # exactly 0.40
        ("4001.00", 110),  # 0.4001
        ("6000.00", 110),
        ("6001.00", 60),
        ("7500.00", 60),
        ("7501.00", 20),
        ("10000.00", 20),  # exactly 1
        ("10001.00", 0),
        ("50000.00", 0),
    ],
)
def test_leverage_bands(liabilities: str, expected: int) -> None:
    assert points("leverage", total_assets="10000.00", total_liabilities=liabilities) == expected


def test_leverage_ratio_is_rounded_half_up_to_four_places() -> None:
    # 40004 / 100000 = 0.40004 → 0.4000: still at most 40%
    assert points("leverage", total_assets="100000.00", total_liabilities="40004.00") == 150
    # 40005 / 100000 = 0.40005 → 0.4001 (half up): over 40%
    assert points("leverage", total_assets="100000.00", total_liabilities="40005.00") == 110


@pytest.mark.parametrize("liabilities", ["0.00", "500.00"])
def test_leverage_without_assets_earns_nothing(liabilities: str) -> None:
    f = factor(
        score(inputs(total_assets="0.00", total_liabilities=liabilities)),
        "leverage",
    )
    assert (f.points, f.value) == (0, "no assets reported")


def test_leverage_value_shows_the_percentage() -> None:
    f = factor(score(inputs(total_assets="3.00", total_liabilities="1.00")), "leverage")
    assert f.value == "liabilities are 33.33% of assets"


# -- liquidity (流动比率, 100) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("current_assets", "expected"),
    [
        ("20000.00", 100),  # exactly 2
        ("19999.00", 80),  # 1.9999
        ("15000.00", 80),
        ("14999.00", 50),
        ("10000.00", 50),
        ("9999.00", 10),
        ("5000.00", 10),
        ("4999.00", 0),
        ("0.00", 0),
    ],
)
def test_liquidity_bands(current_assets: str, expected: int) -> None:
    assert (
        points(
            "liquidity",
            current_assets=current_assets,
            current_liabilities="10000.00",
        )
        == expected
    )


def test_liquidity_ratio_is_rounded_half_up_to_four_places() -> None:
    # 199995 / 100000 = 1.99995 → 2.0000 (half up)
    assert points("liquidity", current_assets="199995.00", current_liabilities="100000.00") == 100
    # 199994 / 100000 = 1.99994 → 1.9999
    assert points("liquidity", current_assets="199994.00", current_liabilities="100000.00") == 80


def test_liquidity_without_current_liabilities_depends_on_current_assets() -> None:
    with_assets = factor(
        score(inputs(current_assets="0.01", current_liabilities="0.00")), "liquidity"
    )
    without = factor(score(inputs(current_assets="0.00", current_liabilities="0.00")), "liquidity")
    assert (with_assets.points, with_assets.value) == (100, "no current liabilities")
    assert (without.points, without.value) == (0, "no current liabilities")


def test_liquidity_value_shows_the_ratio() -> None:
    f = factor(
        score(inputs(current_assets="150.00", current_liabilities="100.00")),
        "liquidity",
    )
    assert f.value == "current ratio 1.5000"


# -- profitability (净利润率, 100) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("profit", "expected"),
    [
        ("5000.00", 100),
        ("1000.00", 100),  # exactly 10%
        ("999.00", 70),
        ("500.00", 70),  # exactly 5%
        ("499.00", 40),
        ("0.00", 40),  # break-even
        ("-1.00", 0),  # -0.0001: a loss
        ("-0.01", 40),  # -0.000001 rounds to -0.0000, which equals 0: break-even
    ],
)
def test_profitability_bands(profit: str, expected: int) -> None:
    assert points("profitability", annual_revenue="10000.00", net_profit=profit) == expected


def test_profitability_ratio_is_rounded_half_up_to_four_places() -> None:
    # 99950 / 1000000 = 0.09995 → 0.1000 (half up)
    assert points("profitability", annual_revenue="1000000.00", net_profit="99950.00") == 100
    # 99949 / 1000000 = 0.099949 → 0.0999
    assert points("profitability", annual_revenue="1000000.00", net_profit="99949.00") == 70
    # a loss of -0.00005 of revenue rounds (half up, away from zero) to -0.0001: a loss
    assert points("profitability", annual_revenue="1000000.00", net_profit="-50.00") == 0
    assert points("profitability", annual_revenue="1000000.00", net_profit="-49.00") == 40


@pytest.mark.parametrize("profit", ["100.00", "-100.00", "0.00"])
def test_profitability_without_revenue_earns_nothing(profit: str) -> None:
    f = factor(score(inputs(annual_revenue="0.00", net_profit=profit)), "profitability")
    assert (f.points, f.value) == (0, "no revenue reported")


def test_profitability_value_shows_the_margin() -> None:
    f = factor(score(inputs(annual_revenue="800.00", net_profit="-20.00")), "profitability")
    assert f.value == "net margin -2.50%"
    assert f.points == 0


# -- relationship (合作年限, 150) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "expected"),
    [
        (120, 150),
        (60, 150),
        (59, 120),
        (36, 120),
        (35, 90),
        (24, 90),
        (23, 60),
        (12, 60),
        (11, 30),
        (6, 30),
        (5, 10),
        (0, 10),
    ],
)
def test_relationship_bands(months: int, expected: int) -> None:
    f = factor(score(inputs(relationship_months=months)), "relationship")
    assert f.points == expected
    assert f.value == f"{months} months"


# -- ratings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1000, Rating.AAA),
        (900, Rating.AAA),
        (899, Rating.AA),
        (800, Rating.AA),
        (799, Rating.A),
        (700, Rating.A),
        (699, Rating.B),
        (550, Rating.B),
        (549, Rating.C),
        (400, Rating.C),
        (399, Rating.D),
        (0, Rating.D),
    ],
)
def test_rating_floors(value: int, expected: Rating) -> None:
    assert rating_for(value) is expected


def test_rating_floors_run_from_best_to_worst() -> None:
    assert [rating for rating, _ in RATING_FLOORS] == list(Rating)
    floors = [floor for _, floor in RATING_FLOORS]
    assert floors == sorted(floors, reverse=True)
    assert floors[-1] == 0
    assert RATING_RANK[Rating.AAA] == 0
    assert RATING_RANK[Rating.D] == 5
    assert set(RATING_LABELS) == set(Rating)
    assert RATING_LABELS[Rating.AAA] == "信用极好"


def test_a_card_at_nine_hundred_is_aaa_and_below_it_aa() -> None:
    at_900 = score(
        inputs(
            invoices_paid_on_time=95,
            invoices_paid_late=5,  # 250 (-50)
            current_assets="150.00",  # 80 (-20)
            relationship_months=36,  # 120 (-30)
        )
    )
    assert (at_900.score, at_900.rating) == (900, Rating.AAA)
    at_870 = score(
        inputs(
            invoices_paid_on_time=95,
            invoices_paid_late=5,
            current_assets="150.00",
            relationship_months=36,
            net_profit="99.00",  # 9.9%: 70 (-30)
        )
    )
    assert (at_870.score, at_870.rating) == (870, Rating.AA)


# -- explanation ------------------------------------------------------------------------


def test_the_explanation_names_every_factor_with_its_points() -> None:
    card = score(
        inputs(
            invoices_paid_on_time=95,
            invoices_paid_late=5,
            overdue_count_12m=1,
            max_overdue_days=10,
            total_liabilities="500.00",
            current_assets="150.00",
            net_profit="50.00",
            relationship_months=24,
        )
    )
    text = card.explanation()
    lines = text.splitlines()
    assert lines[0] == f"评分 740/1000，信用等级 A（信用较好），模型 {MODEL_VERSION}。"
    assert lines[1] == f"Score 740/1000, rating A ({MODEL_VERSION}):"
    assert len(lines) == 2 + len(card.factors)
    for line, f in zip(lines[2:], card.factors, strict=True):
        assert f"{f.label} ({f.name})" in line
        assert f"→ {f.points}/{f.max_points}." in line
        assert f.value in line
        assert f.explanation in line
    assert "→ 250/300." in text
    assert "→ 140/200." in text
    assert "→ 110/150." in text
    assert "→ 80/100." in text
    assert "→ 70/100." in text
    assert "→ 90/150." in text


def test_factor_as_dict_carries_every_field() -> None:
    f = factor(score(inputs()), "overdue")
    assert f.as_dict() == {
        "name": "overdue",
        "label": "逾期记录",
        "value": "0 overdue in 12 months, longest 0 days",
        "points": 200,
        "max_points": 200,
        "explanation": f.explanation,
    }


# -- parsing ----------------------------------------------------------------------------


def test_parse_reads_counts_and_amounts() -> None:
    parsed = inputs(total_assets=" 1234.50 ", net_profit=Decimal("-7.5"), current_assets=200)
    assert parsed.total_assets == Money(Decimal("1234.50"))
    assert parsed.net_profit == Money(Decimal("-7.50"))
    assert parsed.current_assets == Money(Decimal("200.00"))
    assert parsed.invoices_paid_on_time == 100
    assert parsed.total_assets.currency == "CNY"


def test_parse_in_another_currency() -> None:
    parsed = AssessmentInputs.parse(PERFECT, currency="USD")
    assert {getattr(parsed, name).currency for name in AssessmentInputs.AMOUNTS} == {"USD"}


def test_as_dict_gives_plain_data_that_parses_back_to_the_same_inputs() -> None:
    parsed = inputs(net_profit="-3.10")
    data = parsed.as_dict()
    assert data["net_profit"] == "-3.10"
    assert data["total_assets"] == "1000.00"
    assert data["relationship_months"] == 60
    assert set(data) == set(AssessmentInputs.COUNTS) | set(AssessmentInputs.AMOUNTS)
    assert AssessmentInputs.parse(data) == parsed


def test_parse_refuses_anything_but_an_object() -> None:
    refusal([("invoices_paid_on_time", 1)])


def test_parse_refuses_unknown_inputs_naming_them() -> None:
    error = refusal(PERFECT | {"credit_score": 700, "age": 3})
    assert error.details == {"fields": ["age", "credit_score"]}
    assert "age, credit_score" in error.message


@pytest.mark.parametrize("name", AssessmentInputs.COUNTS)
@pytest.mark.parametrize("value", [-1, True, False, 1.0, "3", None, Decimal(3)])
def test_parse_refuses_counts_that_are_not_non_negative_integers(name: str, value: Any) -> None:
    error = refusal(PERFECT | {name: value})
    assert error.details == {"field": name}


@pytest.mark.parametrize("name", AssessmentInputs.COUNTS)
def test_parse_requires_every_count(name: str) -> None:
    raw = {k: v for k, v in PERFECT.items() if k != name}
    assert refusal(raw).details == {"field": name}


def test_parse_refuses_implausibly_large_counts() -> None:
    assert inputs(relationship_months=1_000_000).relationship_months == 1_000_000
    error = refusal(PERFECT | {"relationship_months": 1_000_001})
    assert error.details == {"field": "relationship_months"}
    assert "implausibly large" in error.message


@pytest.mark.parametrize("name", AssessmentInputs.AMOUNTS)
def test_parse_refuses_float_amounts(name: str) -> None:
    error = refusal(PERFECT | {name: 100.5})
    assert error.details == {"field": name}
    assert "float" in error.message


@pytest.mark.parametrize("name", [n for n in AssessmentInputs.AMOUNTS if n != "net_profit"])
def test_parse_refuses_negative_amounts_except_net_profit(name: str) -> None:
    error = refusal(PERFECT | {name: "-0.01"})
    assert error.details == {"field": name}
    assert "negative" in error.message


def test_parse_accepts_a_negative_net_profit() -> None:
    assert inputs(net_profit="-0.01").net_profit == Money(Decimal("-0.01"))


@pytest.mark.parametrize("name", AssessmentInputs.AMOUNTS)
def test_parse_requires_every_amount(name: str) -> None:
    raw = {k: v for k, v in PERFECT.items() if k != name}
    error = refusal(raw)
    assert error.details == {"field": name}
    assert f"{name} is required" == error.message


@pytest.mark.parametrize("value", ["1.005", "abc", "1e3", "NaN", "", None, [1]])
def test_parse_refuses_malformed_amounts(value: Any) -> None:
    assert refusal(PERFECT | {"total_assets": value}).details == {"field": "total_assets"}


def test_parse_refuses_an_invalid_currency() -> None:
    assert refusal(PERFECT, currency="yuan").details == {"field": "total_assets"}
