"""Forecasting on both stores: on the demo history the purchase forecast and the churn
model are trained from the read models, evaluated on data they did not see (the held-out
months are outside the training range, and their actual totals are what the events say),
stored with a version that retraining on the same data keeps, and answered in GraphQL
with that version and evaluation; the analytics view keeps a purchase's segment as it was;
and with too few churns the churn model is refused, not trained."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.clock import business_today
from application.context import CommandContext, Principal, Role
from application.demo import seed
from application.errors import Unauthenticated
from application.forecast import (
    ALL_SEGMENTS,
    CHURN_MODEL,
    FORECAST_MODEL,
    HOLDOUT_MONTHS,
    ForecastService,
    TrainingOutcome,
    add_months,
    fit_and_forecast,
    last_complete_month,
    money_text,
    month_label,
    month_of,
)
from domain.complaint import Complaint
from domain.customer import Customer
from domain.values import Money
from interfaces.bootstrap import System, build, forecasting, init_storage
from interfaces.graphql.common import Context
from projections.analytics import AnalyticsQueries
from tests.conftest import STORES, drop_schema, make_settings

OPERATOR = Principal(id="test:forecast", role=Role.ADMIN)


@dataclass
class Trained:
    system: System
    service: ForecastService
    as_of: date
    outcomes: dict[str, TrainingOutcome]


@pytest.fixture(scope="module", params=STORES)
def trained(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Trained]:
    """The demo history (200 customers), the read models caught up, both models trained."""
    settings = make_settings(request.param, tmp_path_factory.mktemp("forecast"))
    init_storage(settings)
    system = build(settings)
    try:
        seed(system.store, customers=200)
        system.catch_up()
        as_of = business_today()
        service = forecasting(system)
        outcomes = {o.name: o for o in service.retrain(as_of=as_of)}
        yield Trained(system, service, as_of, outcomes)
    finally:
        system.close()
        if settings.store == "postgres":
            drop_schema(settings.postgres_schema)


@dataclass
class FromEvents:
    """What the event store says, computed by hand."""

    monthly: dict[str, dict[date, Decimal]]
    customers: set[UUID]
    churned: set[UUID]


def from_events(system: System) -> FromEvents:
    segment: dict[UUID, str | None] = {}
    monthly: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    churned: set[UUID] = set()
    for notification in system.store.iter_notifications(0):
        event = system.store.mapper.to_domain_event(notification)
        if isinstance(event, Customer.Registered):
            segment[event.originator_id] = event.segment
        elif isinstance(event, Customer.ProfileUpdated) and "segment" in event.changes:
            segment[event.originator_id] = event.changes["segment"]
        elif isinstance(event, Customer.PurchaseRecorded) and event.amount.currency == "CNY":
            month = month_of(event.occurred_on)
            monthly[ALL_SEGMENTS][month] += event.amount.amount
            if segment[event.originator_id]:
                monthly[str(segment[event.originator_id])][month] += event.amount.amount
        elif isinstance(event, Customer.Churned):
            churned.add(event.originator_id)
    return FromEvents(monthly, set(segment), churned)


def graphql(system: System, query: str, role: Role = Role.ADMIN, **variables: Any) -> Any:
    from interfaces.graphql.schema import schema

    context = Context(system, Principal(id=f"test:{role.value}", role=role), None, None)
    return asyncio.run(
        schema.execute(query, variable_values=variables or None, context_value=context)
    )


# -- the purchase forecast -------------------------------------------------------------------


def test_the_forecast_is_evaluated_on_held_out_months_outside_its_training_range(
    trained: Trained,
) -> None:
    outcome = trained.outcomes[FORECAST_MODEL]
    assert outcome.refused is None
    model = trained.service.models(FORECAST_MODEL)[0]
    assert model.version == outcome.version
    last = last_complete_month(trained.as_of)
    holdout = [month_label(add_months(last, i - HOLDOUT_MONTHS + 1)) for i in range(HOLDOUT_MONTHS)]
    truth = from_events(trained.system)
    assert set(model.metrics["series"]) == set(truth.monthly)
    for key, evaluation in model.metrics["series"].items():
        assert evaluation["evaluated"], key
        assert [h["month"] for h in evaluation["holdout"]] == holdout
        # Trained up to the month before the first held-out one, and no further.
        assert evaluation["train_to"] == month_label(add_months(last, -HOLDOUT_MONTHS))
        fitted = model.parameters["series"][key]
        assert evaluation["train_from"] == fitted["fit_from"]
        assert evaluation["train_months"] == fitted["fit_months"] - HOLDOUT_MONTHS
        assert fitted["fit_to"] == month_label(last)  # the forecast itself uses every month
        # The actual totals are what the events say.
        for held in evaluation["holdout"]:
            month = date.fromisoformat(held["month"] + "-01")
            assert Decimal(held["actual"]) == truth.monthly[key].get(month, Decimal(0))
        for name in ("mae", "baseline_mae"):
            assert Decimal(evaluation[name]) >= 0
        assert evaluation["beats_baseline"] == (
            Decimal(evaluation["mae"]) < Decimal(evaluation["baseline_mae"])
        )


def test_the_held_out_forecasts_come_from_the_training_months_alone(trained: Trained) -> None:
    model = trained.service.models(FORECAST_MODEL)[0]
    evaluation = model.metrics["series"][ALL_SEGMENTS]
    monthly = from_events(trained.system).monthly[ALL_SEGMENTS]
    month = date.fromisoformat(evaluation["train_from"] + "-01")
    values = []
    for _ in range(evaluation["train_months"]):
        values.append(float(monthly.get(month, Decimal(0))))
        month = add_months(month, 1)
    again = fit_and_forecast(values, HOLDOUT_MONTHS, evaluation["method"])
    assert [money_text(v) for v in again.forecast] == [h["forecast"] for h in evaluation["holdout"]]


def test_the_forecast_has_the_months_asked_for_with_its_version_and_evaluation(
    trained: Trained,
) -> None:
    query = """
    query ($segment: String, $months: Int!) {
      purchaseForecast(segment: $segment, months: $months) {
        segment currency modelVersion method
        points { month amount { amount currency } }
        evaluation { evaluated trainTo holdout { month } mae { amount } baseline beatsBaseline verdict }
      }
    }"""
    first = month_of(trained.as_of)
    for segment, months in ((None, 5), ("大客户", 12), ("个人客户", 1)):
        result = graphql(trained.system, query, segment=segment, months=months)
        assert result.errors is None, result.errors
        answer = result.data["purchaseForecast"]
        assert answer["segment"] == segment
        assert answer["modelVersion"] == trained.outcomes[FORECAST_MODEL].version
        assert [p["month"] for p in answer["points"]] == [
            month_label(add_months(first, i)) for i in range(months)
        ]
        assert all(Decimal(p["amount"]["amount"]) >= 0 for p in answer["points"])
        assert {p["amount"]["currency"] for p in answer["points"]} == {"CNY"}
        assert answer["evaluation"]["evaluated"] is True
        assert len(answer["evaluation"]["holdout"]) == HOLDOUT_MONTHS
    refused = graphql(trained.system, query, segment="无此分群", months=3)
    assert refused.errors[0].extensions["code"] == "forecast.unknown_segment"
    too_far = graphql(trained.system, query, segment=None, months=13)
    assert too_far.errors[0].extensions["code"] == "validation.forecast_months"


# -- churn risk ----------------------------------------------------------------------------


def test_the_churn_model_reports_its_holdout_auc_and_the_base_rate_of_the_data(
    trained: Trained,
) -> None:
    outcome = trained.outcomes[CHURN_MODEL]
    assert outcome.refused is None
    metrics = trained.service.models(CHURN_MODEL)[0].metrics
    truth = from_events(trained.system)
    assert metrics["customers"] == len(truth.customers) == 200
    assert metrics["churned"] == len(truth.churned)
    assert metrics["base_rate"] == round(len(truth.churned) / len(truth.customers), 4)
    assert isinstance(metrics["roc_auc"], float)
    assert 0.0 <= metrics["roc_auc"] <= 1.0
    assert metrics["test_customers"] + metrics["train_customers"] == 200
    assert metrics["test_churned"] + metrics["train_churned"] == len(truth.churned)
    assert metrics["test_churned"] > 0
    for name in ("precision", "recall", "test_base_rate", "cv_roc_auc_mean"):
        assert 0.0 <= metrics[name] <= 1.0


def test_every_customer_gets_a_score_between_zero_and_one(trained: Trained) -> None:
    customers = AnalyticsQueries(trained.system.views).customers()
    assert len(customers) == 200
    version = trained.outcomes[CHURN_MODEL].version
    for customer in customers:
        risk = trained.service.churn_risk(customer.customer_id, on=trained.as_of)
        assert Decimal(0) <= risk.score <= Decimal(1)
        assert risk.model.version == version
        assert len(risk.contributions) == len(risk.model.parameters["features"])


def test_churn_risk_in_graphql_names_the_model_and_what_moved_the_score(
    trained: Trained,
) -> None:
    customer = next(
        c for c in AnalyticsQueries(trained.system.views).customers() if c.status == "active"
    )
    query = """
    query ($id: ID!) {
      churnRisk(customerId: $id, top: 2) {
        customerId score flagged threshold status alreadyChurned modelVersion
        topFeatures { feature description value contribution raisesRisk }
        evaluation { rocAuc precision recall baseRate testBaseRate }
      }
      unknown: churnRisk(customerId: "00000000-0000-4000-8000-000000000000") { score }
    }"""
    result = graphql(trained.system, query, id=customer.customer_id)
    assert result.errors is None, result.errors
    risk = result.data["churnRisk"]
    assert risk["modelVersion"] == trained.outcomes[CHURN_MODEL].version
    assert Decimal(0) <= Decimal(risk["score"]) <= Decimal(1)
    assert risk["status"] == "active"
    assert risk["alreadyChurned"] is False
    assert len(risk["topFeatures"]) == 2
    shares = [abs(f["contribution"]) for f in risk["topFeatures"]]
    assert shares == sorted(shares, reverse=True)
    assert 0 <= risk["evaluation"]["rocAuc"] <= 1
    assert result.data["unknown"] is None


# -- versions and the registry ----------------------------------------------------------------


def test_retraining_on_the_same_data_gives_the_same_versions(trained: Trained) -> None:
    again = {o.name: o for o in trained.service.retrain(as_of=trained.as_of)}
    for name, first in trained.outcomes.items():
        assert again[name].version == first.version
        assert again[name].metrics == first.metrics
    # The same version replaces its record: still one model of each.
    assert sorted(m.name for m in trained.service.models()) == [CHURN_MODEL, FORECAST_MODEL]
    result = graphql(
        trained.system,
        "{ models(first: 5) { totalCount edges { node { name version"
        " churnEvaluation { rocAuc } forecastEvaluation { segment evaluation { mae { amount } } } } } } }",
    )
    assert result.errors is None, result.errors
    nodes = [e["node"] for e in result.data["models"]["edges"]]
    assert result.data["models"]["totalCount"] == 2
    assert {n["version"] for n in nodes} == {o.version for o in trained.outcomes.values()}
    forecast = next(n for n in nodes if n["name"] == FORECAST_MODEL)
    assert None in {s["segment"] for s in forecast["forecastEvaluation"]}


def test_forecasts_are_refused_without_credentials(trained: Trained) -> None:
    from interfaces.graphql.schema import schema

    context = Context(trained.system, None, Unauthenticated("no API key given"), None)
    for query in (
        "{ purchaseForecast { modelVersion } }",
        '{ churnRisk(customerId: "x") { score } }',
        "{ models { totalCount } }",
    ):
        result = asyncio.run(schema.execute(query, context_value=context))
        assert result.errors[0].extensions["code"] == "auth.unauthenticated"


# -- the analytics view, and too little data -------------------------------------------------


def customer(name: str, segment: str, registered_on: date) -> Customer:
    return Customer.register(
        new_id=uuid4(),
        kind="individual",
        name=name,
        phone=f"138{abs(hash(name)) % 10**8:08d}",
        segment=segment,
        registered_on=registered_on,
    )


def test_a_purchase_keeps_the_segment_it_was_made_in_and_too_few_churns_are_refused(
    system: System,
) -> None:
    ctx = CommandContext.for_principal(OPERATOR, reason="test")
    moved = customer("张伟", "个人客户", date(2024, 1, 2))
    moved.record_purchase("SO-1", Money.parse("100.00"), "耗材", date(2024, 2, 3))
    moved.update_profile(segment="中小企业")
    moved.record_purchase("SO-2", Money.parse("250.50"), "耗材", date(2024, 3, 4))
    other = customer("李娜", "个人客户", date(2024, 1, 5))
    other.record_purchase("SO-3", Money.parse("80.00"), "耗材", date(2024, 2, 10))
    other.churn("业务调整不再采购", "no_need")
    complaint = Complaint.lodge(
        new_id=uuid4(),
        customer_id=moved.id,
        channel="phone",
        category="delivery",
        severity="low",
        description="订单延迟未到货",
        received_at=datetime(2024, 3, 5, 2, tzinfo=UTC),
    )
    system.store.record_many(ctx, "test", [moved, other, complaint])
    system.catch_up()

    queries = AnalyticsQueries(system.views)
    assert [(p.order_ref, p.segment) for p in queries.purchases()] == [
        ("SO-1", "个人客户"),
        ("SO-3", "个人客户"),
        ("SO-2", "中小企业"),
    ]
    facts = queries.customer(str(moved.id))
    assert facts is not None
    assert (facts.segment, facts.purchase_count, facts.purchase_total) == (
        "中小企业",
        2,
        Decimal("350.50"),
    )
    assert (facts.first_purchase_on, facts.last_purchase_on) == (date(2024, 2, 3), date(2024, 3, 4))
    assert facts.complaint_count == 1
    gone = queries.customer(str(other.id))
    assert gone is not None
    assert gone.churned
    assert gone.churned_at is not None

    service = forecasting(system)
    outcomes = {o.name: o for o in service.retrain(as_of=date(2024, 5, 15))}
    assert outcomes[FORECAST_MODEL].refused is None
    refused = outcomes[CHURN_MODEL]
    assert refused.version is None
    assert refused.refused is not None
    assert "at least 10 customers who churned" in refused.refused
    assert [m.name for m in service.models()] == [FORECAST_MODEL]
    result = graphql(system, '{ churnRisk(customerId: "x") { score } }')
    assert result.errors[0].extensions["code"] == "forecast.no_model"
