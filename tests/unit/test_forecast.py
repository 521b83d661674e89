"""The forecasting helpers, without a database: monthly series, the method chosen for the
history available, error measures, the holdout kept out of training, point-in-time churn
features, the refusal to train on too few churns, scoring from JSON coefficients, and
versions that follow the data."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from application.forecast import (
    ALL_SEGMENTS,
    FEATURES,
    HOLDOUT_MONTHS,
    MIN_CLASS_EXAMPLES,
    NotEnoughData,
    TrainingSet,
    add_months,
    choose_method,
    churn_features,
    churn_score,
    churn_training_set,
    evaluate_series,
    last_complete_month,
    mae,
    mape,
    model_version,
    monthly_totals,
    naive_forecasts,
    smape,
    train_churn,
    train_forecast,
)


@dataclass(frozen=True)
class Buy:
    customer_id: str
    segment: str | None
    amount: Decimal
    occurred_on: date
    currency: str = "CNY"


@dataclass(frozen=True)
class Person:
    customer_id: str
    kind: str = "enterprise"
    segment: str | None = "大客户"
    status: str = "active"
    registered_on: date = date(2024, 1, 1)
    churned: bool = False
    churned_at: datetime | None = None


@dataclass(frozen=True)
class Contact:
    customer_id: str
    received_at: datetime
    kind: str = "complaint"
    rating: int | None = None
    rated_at: datetime | None = None


def series_of(values: list[float], start: date = date(2023, 1, 1)) -> list[tuple[date, Decimal]]:
    return [(add_months(start, i), Decimal(str(v))) for i, v in enumerate(values)]


# -- months and series


def test_months_are_counted_across_years() -> None:
    assert add_months(date(2024, 11, 1), 3) == date(2025, 2, 1)
    assert add_months(date(2025, 1, 1), -1) == date(2024, 12, 1)
    assert last_complete_month(date(2025, 7, 1)) == date(2025, 6, 1)
    assert last_complete_month(date(2025, 7, 31)) == date(2025, 6, 1)


def test_monthly_totals_fill_quiet_months_and_leave_out_the_month_in_progress() -> None:
    purchases = [
        Buy("a", "大客户", Decimal("100.00"), date(2025, 1, 5)),
        Buy("b", "个人客户", Decimal("20.50"), date(2025, 1, 20)),
        Buy("a", "大客户", Decimal("300.00"), date(2025, 3, 2)),
        Buy("c", None, Decimal("7.00"), date(2025, 3, 9)),
        Buy("a", "大客户", Decimal("999.00"), date(2025, 4, 1)),  # the month in progress
        Buy("a", "大客户", Decimal("50.00"), date(2025, 2, 1), currency="USD"),
    ]
    series = monthly_totals(purchases, until=date(2025, 3, 1))
    assert series[ALL_SEGMENTS] == [
        (date(2025, 1, 1), Decimal("120.50")),
        (date(2025, 2, 1), Decimal(0)),
        (date(2025, 3, 1), Decimal("307.00")),
    ]
    assert series["大客户"] == [
        (date(2025, 1, 1), Decimal("100.00")),
        (date(2025, 2, 1), Decimal(0)),
        (date(2025, 3, 1), Decimal("300.00")),
    ]
    assert series["个人客户"][-1] == (date(2025, 3, 1), Decimal(0))


def test_the_method_follows_the_history_available() -> None:
    assert choose_method(24) == "holt_winters"
    assert choose_method(23) == "holt_damped"
    assert choose_method(6) == "holt_damped"
    assert choose_method(5) == "last_value"


# -- error measures and baselines


def test_error_measures() -> None:
    actual, forecast = [100.0, 200.0, 0.0], [110.0, 150.0, 10.0]
    assert mae(actual, forecast) == pytest.approx((10 + 50 + 10) / 3)
    # MAPE skips the month without purchases.
    assert mape(actual, forecast) == pytest.approx(100 * (0.1 + 0.25) / 2)
    assert mape([0.0], [5.0]) is None
    assert smape([0.0, 100.0], [0.0, 100.0]) == 0.0
    assert smape([100.0], [0.0]) == pytest.approx(200.0)


def test_the_seasonal_baseline_needs_a_year_of_history() -> None:
    assert naive_forecasts([1.0, 2.0, 3.0], 2) == {"last_value": [3.0, 3.0]}
    year = [float(m) for m in range(1, 13)]
    baselines = naive_forecasts(year, 3)
    assert baselines["seasonal_naive"] == [1.0, 2.0, 3.0]
    assert baselines["last_value"] == [12.0, 12.0, 12.0]


# -- the holdout


def test_the_held_out_months_do_not_reach_the_fit() -> None:
    values = [1000 + 40 * i + (90 if i % 3 == 0 else 0) for i in range(20)]
    evaluation = evaluate_series(series_of(values))
    wild = values[:-HOLDOUT_MONTHS] + [10.0**7] * HOLDOUT_MONTHS
    changed = evaluate_series(series_of(wild))
    assert evaluation["train_months"] == 20 - HOLDOUT_MONTHS
    assert evaluation["train_to"] == "2024-05"
    assert [h["month"] for h in evaluation["holdout"]] == ["2024-06", "2024-07", "2024-08"]
    # The forecasts of the held-out months are the same whatever those months held.
    assert [h["forecast"] for h in changed["holdout"]] == [
        h["forecast"] for h in evaluation["holdout"]
    ]
    assert changed["mae"] != evaluation["mae"]


def test_a_model_worse_than_the_baseline_says_so() -> None:
    # Flat history, then the held-out months repeat the last month exactly: the naive
    # last-value baseline is perfect and no model can beat it.
    values = [100.0, 300.0, 100.0, 300.0, 100.0, 300.0, 100.0, 300.0, 300.0, 300.0, 300.0]
    evaluation = evaluate_series(series_of(values))
    assert evaluation["baseline"] == "last_value"
    assert evaluation["baseline_mae"] == "0.00"
    assert evaluation["beats_baseline"] is False
    assert evaluation["verdict"].startswith("NOT better than the last_value baseline")


def test_a_short_history_is_not_evaluated_and_falls_back_to_the_last_month() -> None:
    assert evaluate_series(series_of([5.0, 6.0, 7.0]))["evaluated"] is False
    short = evaluate_series(series_of([5.0, 6.0, 7.0, 8.0, 9.0]))
    assert short["method"] == "last_value"
    assert [h["forecast"] for h in short["holdout"]] == ["6.00", "6.00", "6.00"]


def test_the_forecast_model_is_refitted_on_every_month_and_never_goes_below_zero() -> None:
    falling = [
        Buy("a", "大客户", Decimal(str(max(5000 - 600 * i, 1))), date(2024, 1 + i, 10))
        for i in range(10)
    ]
    version, as_of, metrics, parameters = train_forecast(falling, date(2024, 11, 15))
    assert version.startswith("forecast/2024-11-01-")
    assert as_of == date(2024, 11, 1)
    series = parameters["series"]["大客户"]
    assert (series["fit_from"], series["fit_to"], series["fit_months"]) == (
        "2024-01",
        "2024-10",
        10,
    )
    assert series["method"] == metrics["series"]["大客户"]["method"]
    assert [p["month"] for p in series["forecast"][:2]] == ["2024-11", "2024-12"]
    assert all(Decimal(p["amount"]) >= 0 for p in series["forecast"])


def test_no_purchases_means_no_forecast() -> None:
    with pytest.raises(NotEnoughData):
        train_forecast([], date(2025, 1, 1))


# -- churn


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


def test_churn_features_count_nothing_after_the_day_they_describe() -> None:
    person = Person("a", registered_on=date(2024, 1, 1))
    buys = [
        Buy("a", "大客户", Decimal("99.00"), date(2024, 2, 1)),
        Buy("a", "大客户", Decimal("1.00"), date(2024, 6, 1)),
        Buy("a", "大客户", Decimal("500.00"), date(2024, 9, 1)),
    ]
    contacts = [
        Contact("a", at(date(2024, 3, 1)), rating=2, rated_at=at(date(2024, 3, 5))),
        Contact(
            "a",
            at(date(2024, 5, 1)),
            kind="service_request",
            rating=5,
            rated_at=at(date(2024, 5, 2)),
        ),
        Contact("a", at(date(2024, 8, 1)), rating=1, rated_at=at(date(2024, 8, 2))),
    ]
    features = churn_features(person, buys, contacts, date(2024, 7, 1))
    assert list(features) == list(FEATURES)
    assert features["purchase_count"] == 2
    assert features["purchase_total"] == 100.0
    assert features["days_since_last_purchase"] == 30
    assert features["tenure_days"] == (date(2024, 7, 1) - date(2024, 1, 1)).days
    assert features["complaints"] == 1
    assert (features["latest_rating"], features["has_rating"]) == (5.0, 1.0)
    none = churn_features(Person("b"), [], [], date(2024, 7, 1))
    assert none["days_since_last_purchase"] == none["tenure_days"]
    assert (none["latest_rating"], none["has_rating"]) == (3.0, 0.0)


def test_a_churned_customer_is_described_as_of_the_churn() -> None:
    gone = Person("a", churned=True, churned_at=at(date(2024, 3, 1)), status="churned")
    later = Person("b", churned=True, churned_at=at(date(2025, 3, 1)))
    buys = [Buy("a", "大客户", Decimal("10.00"), date(2024, 2, 1))]
    training = churn_training_set([later, gone], buys, [], date(2024, 12, 31))
    assert training.customer_ids == ["a", "b"]
    # Churned by then: described on 2024-03-01. Churned only after as_of: not churned yet.
    assert training.labels == [1, 0]
    days_since = list(FEATURES).index("days_since_last_purchase")
    assert training.rows[0][days_since] == (date(2024, 3, 1) - date(2024, 2, 1)).days


def synthetic(churned: int, retained: int) -> TrainingSet:
    rows, labels = [], []
    for i in range(churned + retained):
        gone = i < churned
        rows.append(
            [
                300.0 + i % 7,
                float(3 + i % 5),
                float(i % 3 if gone else 2 + i % 4),
                1000.0 * (1 + i % 6),
                float(150 + 13 * (i % 9) if gone else 10 + 11 * (i % 8)),
                float(i % 2),
                float(1 + i % 5),
                float(i % 2),
                float(i % 3 == 0),
            ]
        )
        labels.append(1 if gone else 0)
    return TrainingSet([f"c{i:03d}" for i in range(len(labels))], rows, labels)


def test_too_few_churned_customers_are_refused_with_the_counts() -> None:
    with pytest.raises(NotEnoughData) as refused:
        train_churn(synthetic(MIN_CLASS_EXAMPLES - 1, 100), date(2025, 1, 1))
    assert refused.value.details == {"churned": MIN_CLASS_EXAMPLES - 1, "retained": 100}
    assert "at least 10 customers who churned" in refused.value.message


def test_the_churn_model_is_measured_on_customers_it_did_not_see_and_is_repeatable() -> None:
    data = synthetic(30, 120)
    version, _, metrics, parameters = train_churn(data, date(2025, 1, 1))
    assert metrics["train_customers"] + metrics["test_customers"] == 150
    assert metrics["test_churned"] + metrics["train_churned"] == 30
    assert metrics["base_rate"] == 0.2
    assert 0 <= metrics["roc_auc"] <= 1
    assert metrics["roc_auc"] > 0.9  # recency separates the classes by construction
    assert 0 <= metrics["precision"] <= 1
    assert 0 <= metrics["recall"] <= 1
    again = train_churn(data, date(2025, 1, 1))
    assert again[0] == version
    assert again[2] == metrics
    assert again[3] == parameters
    assert train_churn(data, date(2025, 1, 2))[0] != version


def test_a_score_comes_from_the_json_coefficients_with_its_reasons() -> None:
    parameters = {
        "features": ["days_since_last_purchase", "complaints"],
        "descriptions": {"days_since_last_purchase": "quiet days", "complaints": "complaints"},
        "log1p": ["days_since_last_purchase"],
        "mean": [math.log1p(30), 1.0],
        "scale": [1.0, 0.0],  # a constant feature: scale 0 reads as 1
        "coef": [2.0, -0.5],
        "intercept": -1.0,
        "threshold": 0.2,
    }
    score, reasons = churn_score(parameters, {"days_since_last_purchase": 30.0, "complaints": 3.0})
    # log-odds: -1 + 2·0 − 0.5·2 = −2
    assert score == Decimal(str(round(1 / (1 + math.exp(2)), 4)))
    assert [(r.feature, r.contribution) for r in reasons] == [
        ("complaints", -1.0),
        ("days_since_last_purchase", 0.0),
    ]
    extreme, _ = churn_score(
        {**parameters, "intercept": -5000.0}, {"days_since_last_purchase": 0.0, "complaints": 0.0}
    )
    assert extreme == Decimal("0.0000")


def test_a_version_follows_the_data() -> None:
    first = model_version("forecast", date(2025, 7, 1), {"x": [1, 2]}, "spec")
    assert first == model_version("forecast", date(2025, 7, 1), {"x": [1, 2]}, "spec")
    assert first.startswith("forecast/2025-07-01-")
    assert len(first.rsplit("-", 1)[1]) == 12
    assert first != model_version("forecast", date(2025, 7, 1), {"x": [1, 3]}, "spec")
    assert first != model_version("forecast", date(2025, 7, 1), {"x": [1, 2]}, "spec2")
