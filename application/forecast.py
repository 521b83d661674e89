"""Forecasting (需求预测与流失预警): a monthly purchase forecast per segment and a churn-risk
score per customer, learnt from the analytics read models, versioned, evaluated on data
the model did not see, and stored as JSON.

**Purchase forecast** (model ``purchase-forecast``, version ``forecast/<date>-<hash>``).
Per customer segment (客户分群, and for all segments together) the CNY purchase total of
each complete month — the month in progress is left out, a partial month would read as a
fall. The method depends on the history the model is *evaluated* with (all months but the
last :data:`HOLDOUT_MONTHS`), and the same method is then refitted on every month to
forecast the next :data:`HORIZON_MONTHS`:

- 24 months or more: Holt-Winters exponential smoothing (statsmodels), additive damped
  trend and additive yearly seasonality (two full years are needed to estimate it);
- 6 to 23 months: Holt's exponential smoothing with an additive damped trend (damped
  because an undamped trend extrapolated a year ahead overshoots);
- fewer than 6 months: the last month repeated (the fallback: a smoothing model's
  parameters estimated from a handful of points are noise).

Evaluation: fitted on all months but the last three, forecast those three, and compared
with what was actually bought — MAE (in yuan), MAPE (over months with purchases) and
sMAPE — next to the naive baselines' MAE (the last month repeated; the same month a year
earlier when the training months cover a year). The model is compared with the better of
them on those months; when it does no better, the stored verdict says so. A forecast
below zero is shown as zero.

**Churn risk** (model ``churn-risk``, version ``churn/<date>-<hash>``). A logistic
regression (scikit-learn) on standardised features of each customer (:data:`FEATURES`;
durations and money read as ln(1 + x), :data:`LOG_FEATURES`). A customer who churned is
described as they stood the day the churn was recorded (their later silence is the
consequence, not a cause); every other customer as of the training day. The label is "has
churned" (流失, also when won back since).

Evaluated on a stratified holdout (30 %, fixed ``random_state``): ROC AUC, and precision
and recall when customers whose score is above the training base rate are flagged, next
to the base rate (the precision of flagging everyone). A holdout of a few hundred
customers holds few churns, so the ROC AUC of 5-fold stratified cross-validation over
every customer is reported too, with its spread. The holdout is stratified rather than by
time because a churn carries no business date of its own, only the time it was recorded,
and a history loaded at once (such as the demo's) records every churn on the same day.
Fewer than :data:`MIN_CLASS_EXAMPLES` churned (or retained) customers: training is
refused. The model stored is the one evaluated; scoring needs only its JSON coefficients
(no pickle, no scikit-learn at query time).

A version is the data's date and the first 12 hex digits of the SHA-256 of the training
data and the method's settings, so retraining on the same data gives the same version
(and replaces that record), and any change to the data gives a new one.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib import metadata
from typing import Any, Protocol

from application.clock import SHANGHAI, Clock, business_today, utc_now
from application.errors import ApplicationError, NotFound

FORECAST_MODEL = "purchase-forecast"
CHURN_MODEL = "churn-risk"
#: The series of every segment together (a segment's own series is keyed by its name).
ALL_SEGMENTS = "*"
CURRENCY = "CNY"
HOLDOUT_MONTHS = 3
HORIZON_MONTHS = 12
SEASONAL_PERIOD = 12
MIN_SEASONAL_MONTHS = 2 * SEASONAL_PERIOD
MIN_TREND_MONTHS = 6
#: How many months of actuals a forecast record keeps for display.
HISTORY_KEPT = 36
MIN_CLASS_EXAMPLES = 10
TEST_FRACTION = 0.3
RANDOM_STATE = 20250101
RECENT_DAYS = 180
#: Bump when the way a model is built changes, so the same data gets a new version.
FORECAST_SPEC = "ets-v1"
CHURN_SPEC = "logit-v1"

CENT = Decimal("0.01")

#: The churn model's features, in order, with what each means.
FEATURES: dict[str, str] = {
    "tenure_days": "days since the customer registered",
    "purchase_count": "purchases recorded",
    "recent_purchases": f"purchases in the last {RECENT_DAYS} days",
    "purchase_total": "CNY purchase total (yuan)",
    "days_since_last_purchase": "days since the last purchase (since registering if none)",
    "complaints": "complaints lodged",
    "latest_rating": "the latest satisfaction rating 1–5 (3 if none)",
    "has_rating": "1 if the customer ever rated a complaint or service request",
    "is_enterprise": "1 for an enterprise customer, 0 for an individual",
}
#: Features the model reads as ln(1 + value): durations and money are heavily skewed
#: (a few customers silent for years, a few buying millions), and a linear model on the
#: raw values lets those few decide.
LOG_FEATURES = ("tenure_days", "purchase_total", "days_since_last_purchase")


def model_inputs(features: Mapping[str, float], log_features: Iterable[str]) -> list[float]:
    """The features in :data:`FEATURES` order as the model reads them."""
    logged = set(log_features)
    return [math.log1p(features[name]) if name in logged else features[name] for name in FEATURES]


class ForecastError(ApplicationError):
    code = "forecast.error"


class NotEnoughData(ForecastError):
    """Too little history to train a model honestly."""

    code = "forecast.not_enough_data"
    status = 409
    title = "Not enough data to train the model"


class NoModel(ForecastError):
    code = "forecast.no_model"
    status = 404
    title = "No model trained yet"


class UnknownSegment(ForecastError):
    code = "forecast.unknown_segment"
    status = 404
    title = "No forecast for that segment"


class InvalidHorizon(ForecastError):
    code = "validation.forecast_months"
    status = 400
    title = "Invalid number of months"


# -- what the read models give ---------------------------------------------------------


class Purchase(Protocol):
    @property
    def customer_id(self) -> str: ...
    @property
    def segment(self) -> str | None: ...
    @property
    def currency(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def occurred_on(self) -> date: ...


class CustomerRecord(Protocol):
    @property
    def customer_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def segment(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def registered_on(self) -> date: ...
    @property
    def churned(self) -> bool: ...
    @property
    def churned_at(self) -> datetime | None: ...


class Contact(Protocol):
    """A complaint or service request: when received, and the rating that stands on it."""

    @property
    def kind(self) -> str: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def rating(self) -> int | None: ...
    @property
    def rated_at(self) -> datetime | None: ...


class Model(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def trained_at(self) -> datetime: ...
    @property
    def data_as_of(self) -> date: ...
    @property
    def metrics(self) -> dict[str, Any]: ...
    @property
    def parameters(self) -> dict[str, Any]: ...


class AnalyticsSource(Protocol):
    """The analytics read models and the model registry (projections.analytics)."""

    def purchases(self) -> Sequence[Purchase]: ...
    def purchases_of(self, customer_id: str) -> Sequence[Purchase]: ...
    def customers(self) -> Sequence[CustomerRecord]: ...
    def customer(self, customer_id: str) -> CustomerRecord | None: ...
    def touchpoints(self, customer_id: str | None = None) -> Sequence[Contact]: ...
    def models(self, name: str | None = None) -> Sequence[Model]: ...
    def latest_model(self, name: str) -> Model | None: ...
    def save_model(
        self,
        *,
        name: str,
        version: str,
        trained_at: datetime,
        data_as_of: date,
        metrics: dict[str, Any],
        parameters: dict[str, Any],
    ) -> None: ...


# -- months ------------------------------------------------------------------------------


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def last_complete_month(as_of: date) -> date:
    """The month before ``as_of``'s (the month in progress is not yet complete)."""
    return add_months(month_of(as_of), -1)


def monthly_totals(
    purchases: Iterable[Purchase], *, until: date, currency: str = CURRENCY
) -> dict[str, list[tuple[date, Decimal]]]:
    """Each segment's (and :data:`ALL_SEGMENTS`') purchase total per month, from its first
    month with a purchase to ``until`` (a month), months without purchases as zero.
    Purchases in other currencies, and after ``until``, are left out."""
    sums: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for purchase in purchases:
        month = month_of(purchase.occurred_on)
        if purchase.currency != currency or month > until:
            continue
        sums[ALL_SEGMENTS][month] += purchase.amount
        if purchase.segment:
            sums[purchase.segment][month] += purchase.amount
    series: dict[str, list[tuple[date, Decimal]]] = {}
    for key in sorted(sums):
        months = sums[key]
        month, rows = min(months), []
        while month <= until:
            rows.append((month, months.get(month, Decimal(0))))
            month = add_months(month, 1)
        series[key] = rows
    return series


# -- the purchase forecast ---------------------------------------------------------------


def choose_method(training_months: int) -> str:
    """The forecasting method for a series of ``training_months`` months."""
    if training_months >= MIN_SEASONAL_MONTHS:
        return "holt_winters"
    if training_months >= MIN_TREND_MONTHS:
        return "holt_damped"
    return "last_value"


@dataclass(frozen=True)
class Fitted:
    forecast: list[float]
    parameters: dict[str, float | None]
    notes: list[str] = field(default_factory=list)


def fit_and_forecast(values: Sequence[float], horizon: int, method: str) -> Fitted:
    """Fit ``method`` to ``values`` (monthly, oldest first) and forecast ``horizon`` months."""
    if not values:
        raise NotEnoughData("a forecast needs at least one month of history")
    if method == "last_value":
        return Fitted([float(values[-1])] * horizon, {})
    # Imported here: statsmodels is slow to import, and only training needs it.
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = method == "holt_winters"
    model = ExponentialSmoothing(
        np.asarray(values, dtype=float),
        trend="add",
        damped_trend=True,
        seasonal="add" if seasonal else None,
        seasonal_periods=SEASONAL_PERIOD if seasonal else None,
        initialization_method="estimated",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit()
    names = (
        "smoothing_level",
        "smoothing_trend",
        "damping_trend",
        "smoothing_seasonal",
        "initial_level",
        "initial_trend",
    )
    parameters: dict[str, float | None] = {}
    for name in names:
        value = result.params.get(name)
        number = float(value) if value is not None else math.nan
        parameters[name] = None if math.isnan(number) else round(number, 6)
    notes = sorted({f"{type(w.message).__name__}: {w.message}" for w in caught})
    return Fitted([float(v) for v in result.forecast(horizon)], parameters, notes)


def naive_forecasts(values: Sequence[float], horizon: int) -> dict[str, list[float]]:
    """The naive baselines: the last month repeated (``last_value``) and, with a year of
    history, the same month a year earlier (``seasonal_naive``)."""
    found = {"last_value": [float(values[-1])] * horizon}
    if len(values) >= SEASONAL_PERIOD:
        found["seasonal_naive"] = [
            float(values[len(values) - SEASONAL_PERIOD + (h % SEASONAL_PERIOD)])
            for h in range(horizon)
        ]
    return found


def mae(actual: Sequence[float], forecast: Sequence[float]) -> float:
    return sum(abs(a - f) for a, f in zip(actual, forecast, strict=True)) / len(actual)


def mape(actual: Sequence[float], forecast: Sequence[float]) -> float | None:
    """Mean absolute percentage error over the months with purchases (None if none had)."""
    errors = [abs(a - f) / abs(a) for a, f in zip(actual, forecast, strict=True) if a != 0]
    return 100 * sum(errors) / len(errors) if errors else None


def smape(actual: Sequence[float], forecast: Sequence[float]) -> float:
    """Symmetric MAPE, 0–200 %; a month where both are zero counts as no error."""
    total = 0.0
    for a, f in zip(actual, forecast, strict=True):
        denominator = abs(a) + abs(f)
        total += 2 * abs(a - f) / denominator if denominator else 0.0
    return 100 * total / len(actual)


def money_text(value: float) -> str:
    """A forecast amount as decimal text in yuan, never below zero."""
    return str(Decimal(repr(max(value, 0.0))).quantize(CENT, rounding=ROUND_HALF_UP))


def evaluate_series(series: Sequence[tuple[date, Decimal]]) -> dict[str, Any]:
    """Fit on all months but the last :data:`HOLDOUT_MONTHS`, forecast those, and compare
    with the actual totals and with the naive baselines.

    The model is measured against the *better* baseline on those months (chosen in
    hindsight, so the comparison can only flatter the baseline, never the model)."""
    months = [m for m, _ in series]
    values = [float(v) for _, v in series]
    training = len(values) - HOLDOUT_MONTHS
    if training < 1:
        return {
            "evaluated": False,
            "reason": f"{len(values)} months of history; evaluation holds out the last"
            f" {HOLDOUT_MONTHS} and needs at least one more to train on",
        }
    method = choose_method(training)
    fitted = fit_and_forecast(values[:training], HOLDOUT_MONTHS, method)
    predicted = [max(v, 0.0) for v in fitted.forecast]
    actual = values[training:]
    baselines = naive_forecasts(values[:training], HOLDOUT_MONTHS)
    errors = {name: mae(actual, naive) for name, naive in baselines.items()}
    baseline = min(errors, key=lambda name: (errors[name], name))
    naive, baseline_mae = baselines[baseline], errors[baseline]
    model_mae = mae(actual, predicted)
    model_mape = mape(actual, predicted)
    beats = model_mae < baseline_mae
    verdict = (
        f"better than the {baseline} baseline: MAE {money_text(model_mae)} against"
        f" {money_text(baseline_mae)}"
        if beats
        else f"NOT better than the {baseline} baseline: MAE {money_text(model_mae)} against"
        f" {money_text(baseline_mae)}; prefer the baseline for this series"
    )
    return {
        "evaluated": True,
        "method": method,
        "train_from": month_label(months[0]),
        "train_to": month_label(months[training - 1]),
        "train_months": training,
        "holdout": [
            {
                "month": month_label(months[training + i]),
                "actual": money_text(actual[i]),
                "forecast": money_text(predicted[i]),
                "baseline": money_text(naive[i]),
            }
            for i in range(HOLDOUT_MONTHS)
        ],
        "mae": money_text(model_mae),
        "mape": round(model_mape, 2) if model_mape is not None else None,
        "smape": round(smape(actual, predicted), 2),
        "baseline": baseline,
        "baseline_mae": money_text(baseline_mae),
        "baseline_mape": _round(mape(actual, naive)),
        "baselines_mae": {name: money_text(error) for name, error in sorted(errors.items())},
        "beats_baseline": beats,
        "verdict": verdict,
        "notes": fitted.notes,
    }


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def train_forecast(
    purchases: Iterable[Purchase], as_of: date
) -> tuple[str, date, dict[str, Any], dict[str, Any]]:
    """The purchase-forecast model: its version, the data's date, metrics and parameters."""
    until = last_complete_month(as_of)
    series = monthly_totals(purchases, until=until)
    if not series:
        raise NotEnoughData(
            f"no {CURRENCY} purchases recorded before {month_label(add_months(until, 1))};"
            " there is nothing to forecast from"
        )
    # The data runs to the end of ``until``; the version's date is the day after, so the
    # same data gives the same version whenever it is trained.
    data_as_of = add_months(until, 1)
    data = {key: [[month_label(m), str(v)] for m, v in rows] for key, rows in series.items()}
    version = model_version("forecast", data_as_of, data, FORECAST_SPEC)
    metrics: dict[str, Any] = {"holdout_months": HOLDOUT_MONTHS, "series": {}}
    parameters: dict[str, Any] = {
        "currency": CURRENCY,
        "holdout_months": HOLDOUT_MONTHS,
        "horizon_months": HORIZON_MONTHS,
        "last_month": month_label(until),
        "spec": FORECAST_SPEC,
        "libraries": _libraries("statsmodels", "numpy"),
        "series": {},
    }
    for key, rows in series.items():
        evaluation = evaluate_series(rows)
        # The method evaluated is the method used: refitted on every month.
        method = evaluation.get("method") or choose_method(len(rows))
        fitted = fit_and_forecast([float(v) for _, v in rows], HORIZON_MONTHS, method)
        metrics["series"][key] = evaluation
        parameters["series"][key] = {
            "method": method,
            "fit_from": month_label(rows[0][0]),
            "fit_to": month_label(rows[-1][0]),
            "fit_months": len(rows),
            "fit": fitted.parameters,
            "notes": fitted.notes,
            "history": [
                {"month": month_label(m), "amount": str(v)} for m, v in rows[-HISTORY_KEPT:]
            ],
            "forecast": [
                {"month": month_label(add_months(until, h + 1)), "amount": money_text(v)}
                for h, v in enumerate(fitted.forecast)
            ],
        }
    evaluated = [m for m in metrics["series"].values() if m["evaluated"]]
    metrics["series_evaluated"] = len(evaluated)
    metrics["series_beating_baseline"] = sum(1 for m in evaluated if m["beats_baseline"])
    return version, data_as_of, metrics, parameters


# -- churn risk --------------------------------------------------------------------------


def churned_by(customer: CustomerRecord, as_of: date) -> bool:
    """Whether the customer's (first) churn was recorded on or before ``as_of``."""
    return (
        customer.churned
        and customer.churned_at is not None
        and customer.churned_at.astimezone(SHANGHAI).date() <= as_of
    )


def reference_day(customer: CustomerRecord, as_of: date) -> date:
    """The day a customer is described as of: the day the churn was recorded (in
    Shanghai) for a customer who had churned by ``as_of``, else ``as_of``."""
    if churned_by(customer, as_of) and customer.churned_at is not None:
        return customer.churned_at.astimezone(SHANGHAI).date()
    return as_of


def churn_features(
    customer: CustomerRecord,
    purchases: Sequence[Purchase],
    contacts: Sequence[Contact],
    on: date,
) -> dict[str, float]:
    """The customer's :data:`FEATURES` as they stood on ``on`` (nothing later counts)."""
    days = [p.occurred_on for p in purchases if p.occurred_on <= on]
    total = sum(
        (p.amount for p in purchases if p.occurred_on <= on and p.currency == CURRENCY),
        Decimal(0),
    )
    tenure = max((on - customer.registered_on).days, 0)
    complaints = sum(
        1
        for c in contacts
        if c.kind == "complaint" and c.received_at.astimezone(SHANGHAI).date() <= on
    )
    ratings = sorted(
        (c.rated_at, c.rating)
        for c in contacts
        if c.rating is not None
        and c.rated_at is not None
        and c.rated_at.astimezone(SHANGHAI).date() <= on
    )
    return {
        "tenure_days": float(tenure),
        "purchase_count": float(len(days)),
        "recent_purchases": float(sum(1 for d in days if (on - d).days < RECENT_DAYS)),
        "purchase_total": float(total),
        "days_since_last_purchase": float((on - max(days)).days if days else tenure),
        "complaints": float(complaints),
        "latest_rating": float(ratings[-1][1]) if ratings else 3.0,
        "has_rating": 1.0 if ratings else 0.0,
        "is_enterprise": 1.0 if customer.kind == "enterprise" else 0.0,
    }


@dataclass(frozen=True)
class TrainingSet:
    customer_ids: list[str]
    rows: list[list[float]]
    labels: list[int]


def churn_training_set(
    customers: Sequence[CustomerRecord],
    purchases: Iterable[Purchase],
    contacts: Iterable[Contact],
    as_of: date,
) -> TrainingSet:
    """Every customer registered by ``as_of``, described as of their reference day."""
    by_customer: dict[str, list[Purchase]] = defaultdict(list)
    for purchase in purchases:
        by_customer[purchase.customer_id].append(purchase)
    contacts_of: dict[str, list[Contact]] = defaultdict(list)
    for contact in contacts:
        contacts_of[contact.customer_id].append(contact)
    ids, rows, labels = [], [], []
    for customer in sorted(customers, key=lambda c: c.customer_id):
        if customer.registered_on > as_of:
            continue
        on = reference_day(customer, as_of)
        features = churn_features(
            customer, by_customer[customer.customer_id], contacts_of[customer.customer_id], on
        )
        ids.append(customer.customer_id)
        rows.append([features[name] for name in FEATURES])
        labels.append(1 if churned_by(customer, as_of) else 0)
    return TrainingSet(ids, rows, labels)


def train_churn(
    training: TrainingSet, as_of: date
) -> tuple[str, date, dict[str, Any], dict[str, Any]]:
    """The churn-risk model: its version, the data's date, metrics and parameters."""
    churned = sum(training.labels)
    retained = len(training.labels) - churned
    if churned < MIN_CLASS_EXAMPLES or retained < MIN_CLASS_EXAMPLES:
        raise NotEnoughData(
            f"the churn model needs at least {MIN_CLASS_EXAMPLES} customers who churned and"
            f" {MIN_CLASS_EXAMPLES} who did not; the read models hold {churned} churned and"
            f" {retained} retained",
            churned=churned,
            retained=retained,
        )
    # Imported here: scikit-learn is slow to import, and only training needs it.
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import precision_score, recall_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(
        [
            model_inputs(dict(zip(FEATURES, row, strict=True)), LOG_FEATURES)
            for row in training.rows
        ],
        dtype=float,
    )
    y = np.asarray(training.labels, dtype=int)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, stratify=y, random_state=RANDOM_STATE
    )
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(max_iter=1000, random_state=RANDOM_STATE)
    model.fit(scaler.transform(x_train), y_train)
    scores = model.predict_proba(scaler.transform(x_test))[:, 1]
    threshold = float(y_train.mean())
    flagged = (scores >= threshold).astype(int)
    # A holdout of a few hundred customers holds few churns, so its AUC is noisy: the
    # cross-validated AUC (5 stratified folds over every customer) shows how noisy.
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=RANDOM_STATE)
    pipeline = make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000, random_state=RANDOM_STATE)
    )
    cv_auc = cross_val_score(pipeline, x, y, cv=folds, scoring="roc_auc")
    metrics = {
        "evaluation": "stratified holdout",
        "test_fraction": TEST_FRACTION,
        "random_state": RANDOM_STATE,
        "customers": len(training.labels),
        "churned": churned,
        "base_rate": round(churned / len(training.labels), 4),
        "train_customers": len(y_train),
        "train_churned": int(y_train.sum()),
        "test_customers": len(y_test),
        "test_churned": int(y_test.sum()),
        "test_base_rate": round(float(y_test.mean()), 4),
        "roc_auc": round(float(roc_auc_score(y_test, scores)), 4),
        "threshold": round(threshold, 4),
        "precision": round(float(precision_score(y_test, flagged, zero_division=0)), 4),
        "recall": round(float(recall_score(y_test, flagged, zero_division=0)), 4),
        "flagged": int(flagged.sum()),
        "cv_roc_auc_mean": round(float(cv_auc.mean()), 4),
        "cv_roc_auc_std": round(float(cv_auc.std()), 4),
    }
    parameters = {
        "features": list(FEATURES),
        "descriptions": FEATURES,
        "log1p": list(LOG_FEATURES),
        "mean": [round(float(v), 8) for v in scaler.mean_],
        "scale": [round(float(v), 8) for v in scaler.scale_],
        "coef": [round(float(v), 8) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 8),
        "threshold": round(threshold, 6),
        "as_of": as_of.isoformat(),
        "spec": CHURN_SPEC,
        "libraries": _libraries("scikit-learn", "numpy"),
    }
    data = {
        "as_of": as_of.isoformat(),
        "ids": training.customer_ids,
        "x": training.rows,
        "y": training.labels,
    }
    version = model_version("churn", as_of, data, CHURN_SPEC)
    return version, as_of, metrics, parameters


@dataclass(frozen=True)
class Contribution:
    feature: str
    description: str
    value: float
    contribution: float
    """Its share of the log-odds: positive raises the risk, negative lowers it."""


def churn_score(
    parameters: Mapping[str, Any], features: Mapping[str, float]
) -> tuple[Decimal, list[Contribution]]:
    """The risk (0–1) from the stored coefficients, and each feature's contribution to
    the log-odds (coefficient × standardised value), largest first. ``features`` are the
    raw values (:func:`churn_features`); the model's transforms are in ``parameters``."""
    contributions = []
    logit = float(parameters["intercept"])
    logged = set(parameters["log1p"])
    for name, mean, scale, coef in zip(
        parameters["features"],
        parameters["mean"],
        parameters["scale"],
        parameters["coef"],
        strict=True,
    ):
        value = features[name]
        read = math.log1p(value) if name in logged else value
        share = coef * (read - mean) / (scale or 1.0)
        logit += share
        contributions.append(
            Contribution(name, parameters["descriptions"][name], value, round(share, 4))
        )
    probability = 1 / (1 + math.exp(-logit)) if logit > -700 else 0.0
    score = Decimal(repr(probability)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    contributions.sort(key=lambda c: (-abs(c.contribution), c.feature))
    return score, contributions


# -- versions ----------------------------------------------------------------------------


def model_version(prefix: str, day: date, data: Any, spec: str) -> str:
    """``<prefix>/<day>-<hash>``: the hash of the canonical JSON of the data and spec."""
    canonical = json.dumps(
        {"spec": spec, "data": data}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
    return f"{prefix}/{day.isoformat()}-{digest}"


def _libraries(*names: str) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - installed with kehu
            found[name] = "unknown"
    return found


# -- the service -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingOutcome:
    name: str
    version: str | None
    seconds: float
    metrics: dict[str, Any]
    refused: str | None = None


@dataclass(frozen=True)
class ForecastPoint:
    month: str
    amount: Decimal


@dataclass(frozen=True)
class SegmentForecast:
    segment: str | None
    currency: str
    model: Model
    method: str
    points: list[ForecastPoint]
    history: list[ForecastPoint]
    evaluation: dict[str, Any]


@dataclass(frozen=True)
class ChurnRisk:
    customer_id: str
    score: Decimal
    scored_on: date
    status: str
    churned: bool
    flagged: bool
    model: Model
    contributions: list[Contribution]


Progress = Callable[[str], None]


class ForecastService:
    """Trains, stores and answers from the forecasting models."""

    def __init__(self, source: AnalyticsSource, clock: Clock = utc_now) -> None:
        self.source = source
        self.clock = clock

    def retrain(
        self, *, as_of: date | None = None, progress: Progress | None = None
    ) -> list[TrainingOutcome]:
        """Train both models on the read models as of ``as_of`` (today in Shanghai) and
        store them. A model refused for want of data is reported, not raised."""
        day = as_of or business_today(self.clock)
        say = progress or (lambda _: None)
        outcomes = []
        started = time.perf_counter()
        say("reading purchases")
        purchases = self.source.purchases()
        say(f"read {len(purchases)} purchases in {time.perf_counter() - started:.2f} s")
        outcomes.append(self._train(FORECAST_MODEL, lambda: train_forecast(purchases, day), say))

        def churn() -> tuple[str, date, dict[str, Any], dict[str, Any]]:
            t0 = time.perf_counter()
            customers = self.source.customers()
            contacts = self.source.touchpoints()
            training = churn_training_set(customers, purchases, contacts, day)
            say(
                f"built features of {len(training.labels)} customers"
                f" in {time.perf_counter() - t0:.2f} s"
            )
            return train_churn(training, day)

        outcomes.append(self._train(CHURN_MODEL, churn, say))
        return outcomes

    def _train(
        self,
        name: str,
        train: Callable[[], tuple[str, date, dict[str, Any], dict[str, Any]]],
        say: Progress,
    ) -> TrainingOutcome:
        say(f"training {name}")
        started = time.perf_counter()
        try:
            version, data_as_of, metrics, parameters = train()
        except NotEnoughData as refused:
            seconds = time.perf_counter() - started
            say(f"{name}: refused — {refused.message}")
            return TrainingOutcome(name, None, seconds, {}, refused.message)
        self.source.save_model(
            name=name,
            version=version,
            trained_at=self.clock(),
            data_as_of=data_as_of,
            metrics=metrics,
            parameters=parameters,
        )
        seconds = time.perf_counter() - started
        say(f"{name}: stored {version} in {seconds:.2f} s")
        return TrainingOutcome(name, version, seconds, metrics)

    def models(self, name: str | None = None) -> list[Model]:
        return list(self.source.models(name))

    def _latest(self, name: str) -> Model:
        model = self.source.latest_model(name)
        if model is None:
            raise NoModel(f"no {name} model has been trained yet; run `kehu models retrain`")
        return model

    def purchase_forecast(self, segment: str | None, months: int) -> SegmentForecast:
        """The latest model's forecast of the next ``months`` months for ``segment``
        (None: every segment together)."""
        if not 1 <= months <= HORIZON_MONTHS:
            raise InvalidHorizon(f"months must be between 1 and {HORIZON_MONTHS}, not {months}")
        model = self._latest(FORECAST_MODEL)
        key = segment if segment is not None else ALL_SEGMENTS
        series = model.parameters["series"].get(key)
        if series is None:
            known = sorted(k for k in model.parameters["series"] if k != ALL_SEGMENTS)
            raise UnknownSegment(
                f"model {model.version} has no forecast for segment {segment!r};"
                f" it has {', '.join(known) or 'none'}",
                segment=segment,
            )
        return SegmentForecast(
            segment=segment,
            currency=model.parameters["currency"],
            model=model,
            method=series["method"],
            points=[
                ForecastPoint(p["month"], Decimal(p["amount"])) for p in series["forecast"][:months]
            ],
            history=[ForecastPoint(p["month"], Decimal(p["amount"])) for p in series["history"]],
            evaluation=model.metrics["series"][key],
        )

    def churn_risk(self, customer_id: str, *, on: date | None = None) -> ChurnRisk:
        """The customer's churn risk now (or as of ``on``) under the latest churn model."""
        model = self._latest(CHURN_MODEL)
        if model.parameters.get("spec") != CHURN_SPEC:
            raise NoModel(
                f"the latest churn model ({model.version}) was built by another version of"
                " kehu; run `kehu models retrain`"
            )
        customer = self.source.customer(customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}", customer_id=customer_id)
        day = on or business_today(self.clock)
        features = churn_features(
            customer,
            self.source.purchases_of(customer_id),
            self.source.touchpoints(customer_id),
            day,
        )
        score, contributions = churn_score(model.parameters, features)
        return ChurnRisk(
            customer_id=customer_id,
            score=score,
            scored_on=day,
            status=customer.status,
            churned=customer.churned,
            flagged=score >= Decimal(str(model.parameters["threshold"])),
            model=model,
            contributions=contributions,
        )
