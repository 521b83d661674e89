"""Forecasting in GraphQL: ``purchaseForecast(segment, months)``, ``churnRisk(customerId)``
and ``models`` — every answer names the model version it comes from and that model's
evaluation on data it was not trained on. Models are trained by ``kehu models retrain``;
these fields only read them (readers need ``customers.read``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from anyio import to_thread
from strawberry.scalars import JSON
from strawberry.types import Info

from application.errors import ApplicationError, NotFound
from application.forecast import (
    ALL_SEGMENTS,
    CHURN_MODEL,
    FORECAST_MODEL,
    HOLDOUT_MONTHS,
    HORIZON_MONTHS,
)
from application.forecast import ChurnRisk as ChurnRiskAnswer
from application.forecast import Model as StoredModel
from application.forecast import SegmentForecast as ForecastAnswer
from interfaces.bootstrap import forecasting
from interfaces.graphql.acting import acts
from interfaces.graphql.common import (
    Connection,
    Context,
    Money,
    check_page_size,
    connection,
    graphql_error,
    guard,
    offset_after,
)


def _money(amount: str | Decimal, currency: str) -> Money:
    return Money(amount=str(amount), currency=currency)


@strawberry.type(description="One month's purchase total (actual or forecast).")
class ForecastPoint:
    month: str = strawberry.field(description="The calendar month, ISO 8601 (YYYY-MM)")
    amount: Money


@strawberry.type(
    description="A held-out month: what was bought, what the model forecast"
    " without seeing it, and what the naive baseline forecast."
)
class HoldoutMonth:
    month: str
    actual: Money
    forecast: Money
    baseline: Money


@strawberry.type(
    description=f"How a series' forecast did on its last {HOLDOUT_MONTHS} complete months,"
    " held out: the method was fitted on the months before them only, and compared with"
    " the better of two naive baselines (last month repeated; same month a year earlier)."
)
class ForecastEvaluation:
    evaluated: bool
    reason: str | None = strawberry.field(description="Why it was not evaluated")
    method: str | None = strawberry.field(
        description="holt_winters (damped trend + yearly seasonality), holt_damped (damped"
        " trend) or last_value (fewer than 6 months: the last month repeated)"
    )
    train_from: str | None = strawberry.field(description="First month fitted (YYYY-MM)")
    train_to: str | None = strawberry.field(description="Last month fitted (YYYY-MM)")
    train_months: int | None
    holdout: list[HoldoutMonth]
    mae: Money | None = strawberry.field(description="Mean absolute error over the held-out months")
    mape: float | None = strawberry.field(
        description="Mean absolute percentage error (%) over held-out months with purchases"
    )
    smape: float | None = strawberry.field(description="Symmetric MAPE (%), 0–200")
    baseline: str | None = strawberry.field(
        description="The naive baseline compared with: last_value or seasonal_naive"
    )
    baseline_mae: Money | None
    beats_baseline: bool | None = strawberry.field(
        description="false: the model did no better than the naive baseline on the held-out"
        " months — prefer the baseline for this series"
    )
    verdict: str | None

    @classmethod
    def of(cls, m: dict[str, Any], currency: str) -> ForecastEvaluation:
        if not m["evaluated"]:
            return cls(
                evaluated=False,
                reason=m["reason"],
                method=None,
                train_from=None,
                train_to=None,
                train_months=None,
                holdout=[],
                mae=None,
                mape=None,
                smape=None,
                baseline=None,
                baseline_mae=None,
                beats_baseline=None,
                verdict=None,
            )
        return cls(
            evaluated=True,
            reason=None,
            method=m["method"],
            train_from=m["train_from"],
            train_to=m["train_to"],
            train_months=m["train_months"],
            holdout=[
                HoldoutMonth(
                    month=h["month"],
                    actual=_money(h["actual"], currency),
                    forecast=_money(h["forecast"], currency),
                    baseline=_money(h["baseline"], currency),
                )
                for h in m["holdout"]
            ],
            mae=_money(m["mae"], currency),
            mape=m["mape"],
            smape=m["smape"],
            baseline=m["baseline"],
            baseline_mae=_money(m["baseline_mae"], currency),
            beats_baseline=m["beats_baseline"],
            verdict=m["verdict"],
        )


@strawberry.type(description="需求预测: the monthly purchase forecast of one segment.")
class PurchaseForecast:
    segment: str | None = strawberry.field(description="The segment; null: all segments")
    currency: str
    model_version: str
    trained_at: datetime
    method: str = strawberry.field(description="The method evaluated and used (see evaluation)")
    points: list[ForecastPoint] = strawberry.field(
        description="The next months after the last complete month, in order; never below 0"
    )
    history: list[ForecastPoint] = strawberry.field(
        description="The actual monthly totals the model was fitted on (at most 36)"
    )
    evaluation: ForecastEvaluation

    @classmethod
    def of(cls, answer: ForecastAnswer) -> PurchaseForecast:
        currency = answer.currency
        return cls(
            segment=answer.segment,
            currency=currency,
            model_version=answer.model.version,
            trained_at=answer.model.trained_at,
            method=answer.method,
            points=[
                ForecastPoint(month=p.month, amount=_money(p.amount, currency))
                for p in answer.points
            ],
            history=[
                ForecastPoint(month=p.month, amount=_money(p.amount, currency))
                for p in answer.history
            ],
            evaluation=ForecastEvaluation.of(answer.evaluation, currency),
        )


@strawberry.type(
    description="How the churn model did on customers it was not trained on (a stratified"
    " holdout), and the base rate to read it against."
)
class ChurnEvaluation:
    evaluation: str
    test_fraction: float
    customers: int = strawberry.field(description="Customers in the training data")
    churned: int = strawberry.field(description="Of them, customers who churned")
    base_rate: float = strawberry.field(description="churned ÷ customers")
    test_customers: int
    test_churned: int
    test_base_rate: float = strawberry.field(
        description="The holdout's share of churned customers: the precision of flagging all"
    )
    roc_auc: float = strawberry.field(
        description="ROC AUC on the holdout (0.5: no better than chance)"
    )
    threshold: float = strawberry.field(
        description="Scores at or above this (the training base rate) are flagged"
    )
    precision: float = strawberry.field(
        description="Of the flagged holdout customers, the share who churned"
    )
    recall: float = strawberry.field(
        description="Of the holdout's churned customers, the share flagged"
    )
    cv_roc_auc_mean: float | None = strawberry.field(
        description="ROC AUC averaged over 5 stratified folds of every customer (its spread:"
        " cvRocAucStd) — a holdout with few churns is noisy"
    )
    cv_roc_auc_std: float | None

    @classmethod
    def of(cls, m: dict[str, Any]) -> ChurnEvaluation:
        return cls(
            evaluation=m["evaluation"],
            test_fraction=m["test_fraction"],
            customers=m["customers"],
            churned=m["churned"],
            base_rate=m["base_rate"],
            test_customers=m["test_customers"],
            test_churned=m["test_churned"],
            test_base_rate=m["test_base_rate"],
            roc_auc=m["roc_auc"],
            threshold=m["threshold"],
            precision=m["precision"],
            recall=m["recall"],
            cv_roc_auc_mean=m.get("cv_roc_auc_mean"),
            cv_roc_auc_std=m.get("cv_roc_auc_std"),
        )


@strawberry.type(description="One feature's part in a churn-risk score.")
class FeatureContribution:
    feature: str
    description: str
    value: float = strawberry.field(description="The customer's value of the feature")
    contribution: float = strawberry.field(
        description="Its share of the score's log-odds (coefficient × standardised value):"
        " positive raises the risk, negative lowers it"
    )
    raises_risk: bool


@strawberry.type(description="流失预警: a customer's churn-risk score under the latest model.")
class ChurnRisk:
    customer_id: strawberry.ID
    score: str = strawberry.field(
        description="The estimated probability of churn, 0–1, as decimal text (4 places)"
    )
    flagged: bool = strawberry.field(description="score ≥ the model's threshold")
    threshold: str
    scored_on: date = strawberry.field(description="The day the features were taken (Shanghai)")
    status: str = strawberry.field(description="The customer's lifecycle status now")
    already_churned: bool = strawberry.field(
        description="The customer has churned (the score then describes them as they are now)"
    )
    model_version: str
    trained_at: datetime
    top_features: list[FeatureContribution] = strawberry.field(
        description="The features that moved the score most, largest first"
    )
    evaluation: ChurnEvaluation

    @classmethod
    def of(cls, answer: ChurnRiskAnswer, top: int) -> ChurnRisk:
        return cls(
            customer_id=strawberry.ID(answer.customer_id),
            score=str(answer.score),
            flagged=answer.flagged,
            threshold=str(answer.model.parameters["threshold"]),
            scored_on=answer.scored_on,
            status=answer.status,
            already_churned=answer.churned,
            model_version=answer.model.version,
            trained_at=answer.model.trained_at,
            top_features=[
                FeatureContribution(
                    feature=c.feature,
                    description=c.description,
                    value=c.value,
                    contribution=c.contribution,
                    raises_risk=c.contribution > 0,
                )
                for c in answer.contributions[:top]
            ],
            evaluation=ChurnEvaluation.of(answer.model.metrics),
        )


@strawberry.type(description="A segment's forecast evaluation.")
class SegmentEvaluation:
    segment: str | None = strawberry.field(description="null: all segments together")
    evaluation: ForecastEvaluation


@strawberry.type(description="A trained model, with its evaluation on held-out data.")
class TrainedModel:
    name: str = strawberry.field(description=f"{FORECAST_MODEL} or {CHURN_MODEL}")
    version: str = strawberry.field(
        description="<forecast|churn>/<date>-<hash of the training data>: the same data, the"
        " same version"
    )
    trained_at: datetime
    data_as_of: date = strawberry.field(
        description="The day after the data: the first day of the month after the last"
        " complete month (forecast), the day features were taken (churn)"
    )
    metrics: JSON = strawberry.field(description="Every metric recorded at training, as stored")
    forecast_evaluation: list[SegmentEvaluation] | None = strawberry.field(
        description="Per segment (purchase forecast only)"
    )
    churn_evaluation: ChurnEvaluation | None = strawberry.field(description="Churn model only")

    @classmethod
    def of(cls, model: StoredModel) -> TrainedModel:
        forecast = None
        churn = None
        if model.name == FORECAST_MODEL:
            currency = model.parameters.get("currency", "CNY")
            forecast = [
                SegmentEvaluation(
                    segment=None if key == ALL_SEGMENTS else key,
                    evaluation=ForecastEvaluation.of(m, currency),
                )
                for key, m in sorted(model.metrics["series"].items())
            ]
        elif model.name == CHURN_MODEL:
            churn = ChurnEvaluation.of(model.metrics)
        return cls(
            name=model.name,
            version=model.version,
            trained_at=model.trained_at,
            data_as_of=model.data_as_of,
            metrics=JSON(model.metrics),
            forecast_evaluation=forecast,
            churn_evaluation=churn,
        )


@strawberry.input(description="Filters combine with AND.")
class ModelFilter:
    name: str | None = strawberry.field(
        default=None, description=f"{FORECAST_MODEL} or {CHURN_MODEL}"
    )


@strawberry.type
class ForecastQuery:
    @strawberry.field(
        description="The monthly purchase forecast (CNY) of a segment, or of all segments"
        f" when segment is null, for the next `months` months (1–{HORIZON_MONTHS}) after the"
        " last complete month, from the latest purchase-forecast model, with its holdout"
        " evaluation.",
        extensions=[acts("customers.read")],
    )
    async def purchase_forecast(
        self,
        info: Info[Context, None],
        segment: str | None = None,
        months: int = 3,
        min_position: int | None = None,
    ) -> PurchaseForecast:
        system = await guard(info, "customers.read", min_position)
        try:
            answer = await to_thread.run_sync(
                lambda: forecasting(system).purchase_forecast(segment, months)
            )
        except ApplicationError as error:
            raise graphql_error(error) from None
        return PurchaseForecast.of(answer)

    @strawberry.field(
        description="A customer's churn-risk score today under the latest churn-risk model,"
        " with the features that moved it most and the model's holdout evaluation (null for"
        " an unknown customer).",
        extensions=[acts("customers.read")],
    )
    async def churn_risk(
        self,
        info: Info[Context, None],
        customer_id: strawberry.ID,
        top: int = 3,
        min_position: int | None = None,
    ) -> ChurnRisk | None:
        system = await guard(info, "customers.read", min_position)
        try:
            answer = await to_thread.run_sync(
                lambda: forecasting(system).churn_risk(str(customer_id))
            )
        except NotFound:
            return None
        except ApplicationError as error:
            raise graphql_error(error) from None
        return ChurnRisk.of(answer, max(0, min(top, len(answer.contributions))))

    @strawberry.field(
        description="The trained models, newest first, with their evaluations.",
        extensions=[acts("customers.read")],
    )
    async def models(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: ModelFilter | None = None,
        min_position: int | None = None,
    ) -> Connection[TrainedModel]:
        system = await guard(info, "customers.read", min_position)
        check_page_size(first)
        offset = offset_after(after)
        name = filter.name if filter else None
        found = await to_thread.run_sync(lambda: forecasting(system).models(name))
        page = found[offset : offset + first]
        return connection([TrainedModel.of(m) for m in page], offset, len(found))
