"""The KPI dashboard in GraphQL: ``dashboard(from, to, segment, groupBy, asOf, minPosition)``.

Every KPI comes with its Chinese label, value (a decimal string, or a whole number as a
string), unit, target, status against the target, and its definition; the definitions are
also the descriptions of the ``KpiName`` values, so the schema documents them. With
``asOf`` the dashboard is the one that was shown at that moment, read from the views
replayed up to it (:mod:`interfaces.asof`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.types import Info

from application.errors import ApplicationError
from interfaces.asof import AsOf
from interfaces.bootstrap import Queries
from interfaces.graphql.acting import acts
from interfaces.graphql.common import Context, graphql_error, guard
from projections.dashboard import (
    KPI_SPECS,
    MAX_RANGE_DAYS,
    DashboardReport,
    GroupBy,
    Kpi,
    KpiGroup,
)


def _about(name: str) -> str:
    spec = KPI_SPECS[name]
    return f"{spec.label} ({spec.unit}): {spec.definition}"


@strawberry.enum(description="The dashboard's KPIs; each value's description is its definition.")
class KpiName(Enum):
    SATISFACTION_RATE = strawberry.enum_value(
        "satisfaction_rate", description=_about("satisfaction_rate")
    )
    CSAT = strawberry.enum_value("csat", description=_about("csat"))
    NPS = strawberry.enum_value("nps", description=_about("nps"))
    CES = strawberry.enum_value("ces", description=_about("ces"))
    SURVEY_RESPONSE_RATE = strawberry.enum_value(
        "survey_response_rate", description=_about("survey_response_rate")
    )
    NEW_CUSTOMERS = strawberry.enum_value("new_customers", description=_about("new_customers"))
    RETENTION_RATE = strawberry.enum_value("retention_rate", description=_about("retention_rate"))
    CHURN_RATE = strawberry.enum_value("churn_rate", description=_about("churn_rate"))
    LIFETIME_VALUE_OBSERVED = strawberry.enum_value(
        "lifetime_value_observed", description=_about("lifetime_value_observed")
    )
    LIFETIME_VALUE_PREDICTED = strawberry.enum_value(
        "lifetime_value_predicted", description=_about("lifetime_value_predicted")
    )
    COMPLAINT_RATE = strawberry.enum_value("complaint_rate", description=_about("complaint_rate"))
    COMPLAINT_HANDLING_HOURS = strawberry.enum_value(
        "complaint_handling_hours", description=_about("complaint_handling_hours")
    )
    COMPLAINT_ON_TIME_RATE = strawberry.enum_value(
        "complaint_on_time_rate", description=_about("complaint_on_time_rate")
    )
    CUSTOMER_ACQUISITION_COST = strawberry.enum_value(
        "customer_acquisition_cost", description=_about("customer_acquisition_cost")
    )
    CAMPAIGN_CONVERSION_RATE = strawberry.enum_value(
        "campaign_conversion_rate", description=_about("campaign_conversion_rate")
    )
    CREDIT_UTILISATION = strawberry.enum_value(
        "credit_utilisation", description=_about("credit_utilisation")
    )
    OVERDUE_EXPOSURE = strawberry.enum_value(
        "overdue_exposure", description=_about("overdue_exposure")
    )
    CONTRACTS_EXPIRING = strawberry.enum_value(
        "contracts_expiring", description=_about("contracts_expiring")
    )
    PAYMENTS_DUE = strawberry.enum_value("payments_due", description=_about("payments_due"))
    PAYMENTS_DUE_AMOUNT = strawberry.enum_value(
        "payments_due_amount", description=_about("payments_due_amount")
    )
    CONTRACT_BREACHES = strawberry.enum_value(
        "contract_breaches", description=_about("contract_breaches")
    )
    VIP_APPLICATIONS_PENDING = strawberry.enum_value(
        "vip_applications_pending", description=_about("vip_applications_pending")
    )
    VIP_APPLICATIONS_OVERDUE = strawberry.enum_value(
        "vip_applications_overdue", description=_about("vip_applications_overdue")
    )


@strawberry.enum(name="KpiStatus", description="A KPI's standing against its target")
class KpiStatusEnum(Enum):
    MET = strawberry.enum_value("met", description="达标 the target is met")
    MISSED = strawberry.enum_value("missed", description="未达标 the target is missed")
    NO_TARGET = strawberry.enum_value("no_target", description="未设目标 no target is set")
    NO_DATA = strawberry.enum_value(
        "no_data", description="无数据 nothing to compute the figure from"
    )


@strawberry.enum(description="Which way a target points")
class TargetDirection(Enum):
    AT_LEAST = strawberry.enum_value("at_least", description="≥ the target")
    AT_MOST = strawberry.enum_value("at_most", description="≤ the target")


@strawberry.enum(
    description="How the survey KPIs (satisfaction rate, CSAT, NPS, CES, response rate) are grouped"
)
class DashboardGroupBy(Enum):
    PERIOD = strawberry.enum_value(
        "period",
        description="By month (Shanghai time): answers by the month answered, the response"
        " rate by the month requested; every month of the range appears",
    )
    SEGMENT = strawberry.enum_value(
        "segment", description="By the customer segment recorded on the survey"
    )
    CHANNEL = strawberry.enum_value("channel", description="By the survey's channel")
    HANDLER = strawberry.enum_value(
        "handler",
        description="By the handler recorded on the survey (the case's handler when it was"
        " resolved; a later reassignment does not move a rating)",
    )
    DIMENSION = strawberry.enum_value(
        "dimension",
        description="By dimension (产品, 服务, 售后): the satisfaction rate and CSAT from the"
        " dimension's 1–5 score",
    )
    NONE = strawberry.enum_value("none", description="No groups")


@strawberry.type(
    name="Kpi", description="One KPI: its figure, target and status, and its definition."
)
class KpiValue:
    name: KpiName
    label: str = strawberry.field(description="The KPI's name in Chinese")
    value: str | None = strawberry.field(
        description="A decimal string (rates are fractions, money in yuan to the fen) or a"
        " whole number; null when there is nothing to compute it from"
    )
    unit: str = strawberry.field(
        description="ratio, score_1_5, score_1_7, points, customers, per_1000_customers,"
        " business_hours, CNY, contracts, instalments, breaches or applications"
    )
    target: str | None = strawberry.field(description="The target (configuration), if any")
    target_direction: TargetDirection | None
    status: KpiStatusEnum
    basis: int | None = strawberry.field(
        description="How many items the figure is computed over (answered surveys, customers"
        " active at the start, resolved complaints, participations, …)"
    )
    definition: str

    @classmethod
    def of(cls, kpi: Kpi) -> KpiValue:
        spec = kpi.spec
        return cls(
            name=KpiName(kpi.name),
            label=spec.label,
            value=None if kpi.value is None else str(kpi.value),
            unit=spec.unit,
            target=str(kpi.target.value) if kpi.target else None,
            target_direction=TargetDirection(kpi.target.direction.value) if kpi.target else None,
            status=KpiStatusEnum(kpi.status.value),
            basis=kpi.basis,
            definition=spec.definition,
        )


@strawberry.type(name="KpiGroup", description="The survey KPIs of one group.")
class KpiGroupValue:
    key: str = strawberry.field(
        description="The month (YYYY-MM), segment, channel, handler id or dimension; empty"
        " for surveys without a segment or handler"
    )
    label: str
    kpis: list[KpiValue]

    @classmethod
    def of(cls, group: KpiGroup) -> KpiGroupValue:
        return cls(key=group.key, label=group.label, kpis=[KpiValue.of(k) for k in group.kpis])


@strawberry.type(description="经营指标看板: KPIs over a range of days (Shanghai), both included.")
class Dashboard:
    from_: date = strawberry.field(name="from")
    to: date
    segment: str | None
    group_by: DashboardGroupBy
    as_of: datetime = strawberry.field(
        description="The moment the dashboard describes: now, or the `asOf` asked for (a"
        " moment in the future is taken as now). Figures that describe a present (contracts"
        " expiring, payments due, VIP applications, complaint clocks) were taken then"
    )
    position: int = strawberry.field(
        description="The global event position the figures reflect: every event up to it"
        " and none after (0 before the first event). Now: the position the read models"
        " had reached; with `asOf`: the last position recorded by that moment"
    )
    kpis: list[KpiValue]
    groups: list[KpiGroupValue]

    @strawberry.field(description="One KPI by name (null if not shown, e.g. no model).")
    def kpi(self, name: KpiName) -> KpiValue | None:
        return next((k for k in self.kpis if k.name is name), None)

    @classmethod
    def of(cls, report: DashboardReport, position: int) -> Dashboard:
        return cls(
            from_=report.start,
            to=report.end,
            segment=report.segment,
            group_by=DashboardGroupBy(report.group_by.value),
            as_of=report.as_of,
            position=position,
            kpis=[KpiValue.of(k) for k in report.kpis],
            groups=[KpiGroupValue.of(g) for g in report.groups],
        )


@strawberry.type
class DashboardQuery:
    @strawberry.field(
        description="KPI dashboard for the days from `from` to `to` (Asia/Shanghai, both"
        " included), optionally for one customer segment, with the survey KPIs grouped by"
        " `groupBy`. Each KPI's definition is in its `definition` and in the KpiName"
        " descriptions. Targets come from configuration (KEHU_KPI_TARGETS_FILE) over the"
        " defaults: satisfaction rate ≥ 0.90, CSAT ≥ 4.0, NPS ≥ 30, retention rate ≥ 0.85,"
        " complaint handling ≤ 24 business hours. Rounding is half up. With a segment,"
        " survey KPIs use the segment recorded on the survey, campaign KPIs the campaigns"
        " whose criteria name it, and the others the customers then in it. `asOf` (with a"
        " timezone offset): the dashboard as it was shown at that moment — the read models"
        " replayed up to the last event recorded by then (the first request for a moment"
        " takes a while; a few recent ones are kept); a moment before the first event gives"
        " an empty dashboard, one in the future today's.",
        extensions=[acts("dashboard.read")],
    )
    async def dashboard(
        self,
        info: Info[Context, None],
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        segment: str | None = None,
        group_by: DashboardGroupBy = DashboardGroupBy.NONE,
        as_of: datetime | None = None,
        min_position: int | None = None,
    ) -> Dashboard:
        system = await guard(info, "dashboard.read", min_position)
        if as_of is not None and as_of.tzinfo is None:
            raise GraphQLError(
                "asOf needs a timezone offset", extensions={"code": "validation.naive_datetime"}
            )
        if to < from_:
            raise GraphQLError(
                f"`to` ({to}) is before `from` ({from_})",
                extensions={"code": "validation.dashboard_range"},
            )
        if (to - from_).days >= MAX_RANGE_DAYS:
            raise GraphQLError(
                f"a dashboard covers at most {MAX_RANGE_DAYS} days",
                extensions={"code": "validation.dashboard_range"},
            )

        def figures(queries: Queries, moment: datetime) -> DashboardReport:
            return queries.dashboard_queries.dashboard(
                from_, to, as_of=moment, segment=segment, group_by=GroupBy(str(group_by.value))
            )

        def read() -> AsOf[DashboardReport]:
            views = system.as_of_views
            if as_of is not None:
                return views.read(as_of, figures)
            # The present the figures describe moves with the clock: the minute is in the key.
            minute = views.clock().replace(second=0, microsecond=0)
            key = (from_, to, segment, group_by, minute)

            def compute() -> tuple[AsOf[DashboardReport], int]:
                answer = views.read(None, figures)
                return answer, answer.position

            return system.dashboard_cache.get(key, views.live_position(), compute)

        try:
            answer = await to_thread.run_sync(read)
        except ApplicationError as error:  # the views did not catch up in time
            raise graphql_error(error) from None
        return Dashboard.of(answer.value, answer.position)
