"""The KPI dashboard (经营指标看板, seed 004): every figure computed from the read models,
each with its definition, its target and its status against the target.

The dashboard keeps two tables of its own, because no other view holds their history:

- ``customer_lifecycle``: every lifecycle status a customer entered and when (so the
  customers active at any past moment can be counted for retention and churn);
- ``customer_purchase``: every purchase with its business date (so the value a customer
  brought up to any past day can be summed).

Everything else is read from the views that own it (surveys, campaigns, complaints and
their SLA statistics, credit, contracts, VIP applications). A range is two calendar days
in Asia/Shanghai, both included: ``[from 00:00, to + 1 day 00:00)``.

A dashboard describes one moment: the ``as_of`` it is given, over read models that hold
the events recorded up to it. Live, that is now and the live views; as of a past moment,
that moment and scratch views replayed up to the last position recorded by then
(:mod:`interfaces.asof`) — so "now", "so far" and "current" in the definitions mean the
dashboard's moment, and nothing here reads the clock.

Rounding is ROUND_HALF_UP throughout: rates are fractions to 4 places, means of scores to
2, NPS to 1, business hours to 2, money to the fen (2 places, CNY).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

from eventsourcing.dispatch import singledispatchmethod

from domain.calendar import SHANGHAI
from domain.customer import Customer
from domain.survey import CHANNEL_LABELS
from projections.base import Cursor, KehuProjection, ViewStore
from projections.campaigns import CampaignQueries
from projections.complaints import ACTIVE_CUSTOMER_STATUSES, ComplaintFilter, ComplaintQueries
from projections.contracts import BreachFilter, ContractFilter, ContractQueries
from projections.membership import MembershipQueries
from projections.satisfaction import DIMENSIONS, SurveyQueries, SurveyRow

RATE: Final = Decimal("0.0001")
MEAN: Final = Decimal("0.01")
NPS_PLACES: Final = Decimal("0.1")
MONEY: Final = Decimal("0.01")
#: Contracts whose end date falls within this many days of ``to`` count as expiring.
EXPIRING_WITHIN_DAYS: Final = 30
#: The longest range a dashboard covers (about five years).
MAX_RANGE_DAYS: Final = 1830
#: Statuses in which a customer counts as active (as for the complaint rate).
ACTIVE: Final = frozenset(ACTIVE_CUSTOMER_STATUSES)
_ALL: Final = 10_000_000
#: The views (projection names) the dashboard's figures are read from: what a dashboard
#: as of a past position replays (tests/integration/test_dashboard_as_of.py reads every
#: figure and group from such a replay, so a view missing here fails there).
VIEWS_READ: Final = frozenset(
    {
        "customers",
        "complaints",
        "service_requests",  # handler names for groupBy: HANDLER
        "credit",
        "contracts",
        "membership",
        "surveys",
        "campaigns",
        "dashboard",
    }
)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def start_of(day: date) -> datetime:
    """00:00 in Shanghai at the start of ``day``."""
    return datetime.combine(day, time(0), SHANGHAI)


def ratio(part: int, whole: int) -> Decimal | None:
    """``part ÷ whole`` as a fraction to 4 places (``None`` when ``whole`` is 0)."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP)


def mean_of(values: Sequence[int | Decimal], places: Decimal = MEAN) -> Decimal | None:
    if not values:
        return None
    total = sum((Decimal(v) for v in values), Decimal(0))
    return (total / len(values)).quantize(places, rounding=ROUND_HALF_UP)


def net_promoter_score(scores: Sequence[int]) -> Decimal | None:
    """% promoters (9–10) − % detractors (0–6), −100 to 100, to 1 place."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return (Decimal(promoters - detractors) * 100 / len(scores)).quantize(
        NPS_PLACES, rounding=ROUND_HALF_UP
    )


def month_of(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def months_between(start: date, end: date) -> list[str]:
    """``YYYY-MM`` of every month the range touches, in order."""
    months: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# -- KPI vocabulary ---------------------------------------------------------------------


class KpiStatus(StrEnum):
    MET = "met"  # 达标
    MISSED = "missed"  # 未达标
    NO_TARGET = "no_target"  # 未设目标
    NO_DATA = "no_data"  # 无数据


class Direction(StrEnum):
    AT_LEAST = "at_least"  # ≥ target
    AT_MOST = "at_most"  # ≤ target


class GroupBy(StrEnum):
    PERIOD = "period"
    SEGMENT = "segment"
    CHANNEL = "channel"
    HANDLER = "handler"
    DIMENSION = "dimension"
    NONE = "none"


@dataclass(frozen=True)
class KpiSpec:
    name: str
    label: str
    unit: str
    definition: str


KPIS: Final[tuple[KpiSpec, ...]] = (
    KpiSpec(
        "satisfaction_rate",
        "满意度",
        "ratio",
        "Surveys answered in the range (by the time of the answer) with a CSAT of 4 or 5,"
        " divided by all surveys answered in the range; a fraction to 4 places. Segment,"
        " channel and handler are those recorded on the survey.",
    ),
    KpiSpec(
        "csat",
        "客户满意度评分(CSAT)",
        "score_1_5",
        "Mean CSAT (1–5) of the surveys answered in the range, to 2 places.",
    ),
    KpiSpec(
        "nps",
        "净推荐值(NPS)",
        "points",
        "Over the surveys answered in the range that gave an NPS score (0–10): the"
        " percentage of promoters (9–10) minus the percentage of detractors (0–6),"
        " from −100 to 100, to 1 place.",
    ),
    KpiSpec(
        "ces",
        "客户费力度(CES)",
        "score_1_7",
        "Mean CES (1–7, higher is easier) of the surveys answered in the range that gave"
        " one, to 2 places.",
    ),
    KpiSpec(
        "survey_response_rate",
        "问卷回复率",
        "ratio",
        "Surveys requested in the range that have been answered (so far), divided by all"
        " surveys requested in the range (answered, awaiting an answer or expired); a"
        " fraction to 4 places.",
    ),
    KpiSpec(
        "new_customers",
        "新增客户",
        "customers",
        "Customers whose registration date falls in the range (both days included).",
    ),
    KpiSpec(
        "retention_rate",
        "客户保留率",
        "ratio",
        "Customers active at the start of the range (活跃 active, 流失风险 at risk or 挽回"
        " won back at 00:00 Shanghai time on `from`) who are still in one of those"
        " statuses at its end (24:00 on `to`), divided by those active at the start; a"
        " fraction to 4 places. A status counts from its business time: prospect from the"
        " registration day, active from the purchase day that activated the customer; at"
        " risk, churned and won back (which carry no business time) from when they were"
        " recorded. The segment is the customer's current segment.",
    ),
    KpiSpec(
        "churn_rate",
        "客户流失率",
        "ratio",
        "Customers active at the start of the range (as for the retention rate) who are"
        " churned (已流失) at its end, divided by those active at the start (so retention"
        " rate + churn rate = 1); a fraction to 4 places.",
    ),
    KpiSpec(
        "lifetime_value_observed",
        "客户终身价值(实际)",
        "CNY",
        "Observed customer lifetime value: the mean, over the customers with at least one"
        " CNY purchase dated on or before `to`, of their CNY purchases dated on or before"
        " `to`; to the fen. The segment is the customer's current segment.",
    ),
    KpiSpec(
        "lifetime_value_predicted",
        "客户终身价值(预测)",
        "CNY",
        "Predicted customer lifetime value from the forecasting model (shown only when a"
        " model is available); to the fen.",
    ),
    KpiSpec(
        "complaint_rate",
        "投诉率",
        "per_1000_customers",
        "Complaints received in the range per 1,000 customers active (active, at risk or"
        " won back) at the dashboard's moment (now, or `asOf`), to 2 places; without a"
        " segment it is slaStatistics' complaintRatePer1000 for the same range.",
    ),
    KpiSpec(
        "complaint_handling_hours",
        "投诉处理时长",
        "business_hours",
        "Median handling time, in business hours on the mainland-China calendar (pauses"
        " waiting on the customer excluded), from receipt to resolution of the complaints"
        " received in the range and resolved; to 2 places (slaStatistics' medianHours).",
    ),
    KpiSpec(
        "complaint_on_time_rate",
        "投诉按时处理率",
        "ratio",
        "Complaints received in the range and resolved without missing their response or"
        " resolution deadline, divided by those resolved; a fraction to 4 places.",
    ),
    KpiSpec(
        "customer_acquisition_cost",
        "获客成本",
        "CNY",
        "Campaign costs recorded in the range (CNY), divided by the customers acquired as"
        " new customers by campaign conversions recorded in the range (each customer"
        " counted once); to the fen. With a segment: only the campaigns whose segment"
        " criteria name it (a campaign for every segment is not split between them).",
    ),
    KpiSpec(
        "campaign_conversion_rate",
        "营销转化率",
        "ratio",
        "Campaign participations recorded in the range whose customer has a converting"
        " order in the same campaign (so far), divided by those participations; a fraction"
        " to 4 places. With a segment: the participations of the segment's customers.",
    ),
    KpiSpec(
        "credit_utilisation",
        "信用额度使用率",
        "ratio",
        "Over the CNY credit profiles: the exposure (reserved + used + overdue) divided by"
        " the credit limits, both as at the end of the range by business time (the"
        " exposure ledger); a fraction to 4 places. No data when no limit is set.",
    ),
    KpiSpec(
        "overdue_exposure",
        "逾期敞口",
        "CNY",
        "The overdue amounts of the CNY credit profiles as at the end of the range by"
        " business time; to the fen.",
    ),
    KpiSpec(
        "contracts_expiring",
        "即将到期合同",
        "contracts",
        f"Contracts signed or in force whose current end date is on or before `to` +"
        f" {EXPIRING_WITHIN_DAYS} days (those past their end date and not yet terminated"
        " included), as the contracts stand at the dashboard's moment (now, or `asOf`)."
        " With a segment: contracts with a party that is a customer of the segment.",
    ),
    KpiSpec(
        "payments_due",
        "到期应收款",
        "instalments",
        "Contract instalments due in the range (both days included) with something still"
        " unpaid by the payments recorded, of contracts whose accounts are open (signed to"
        " ended, not settled), as they stand at the dashboard's moment (now, or `asOf`).",
    ),
    KpiSpec(
        "payments_due_amount",
        "到期应收金额",
        "CNY",
        "The unpaid amounts of those instalments (CNY contracts); to the fen.",
    ),
    KpiSpec(
        "contract_breaches",
        "合同违约",
        "breaches",
        "Contract breaches (违约) recorded with a business time in the range.",
    ),
    KpiSpec(
        "vip_applications_pending",
        "待通知会员申请",
        "applications",
        "VIP applications whose decision has not yet been notified to the customer, at the"
        " dashboard's moment (now, or `asOf`).",
    ),
    KpiSpec(
        "vip_applications_overdue",
        "逾期会员申请",
        "applications",
        "VIP applications not yet notified whose 7-working-day notification deadline has"
        " passed, at the dashboard's moment (now, or `asOf`).",
    ),
)
KPI_SPECS: Final[dict[str, KpiSpec]] = {spec.name: spec for spec in KPIS}


# -- targets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    value: Decimal
    direction: Direction

    def met_by(self, value: Decimal | int) -> bool:
        if self.direction is Direction.AT_LEAST:
            return value >= self.value
        return value <= self.value


#: Seed 004's targets: satisfaction ≥ 90 %, complaints handled within 24 business hours,
#: retention ≥ 85 %, NPS ≥ 30, CSAT ≥ 4.0.
DEFAULT_TARGETS: Final[Mapping[str, Target]] = {
    "satisfaction_rate": Target(Decimal("0.90"), Direction.AT_LEAST),
    "complaint_handling_hours": Target(Decimal("24"), Direction.AT_MOST),
    "retention_rate": Target(Decimal("0.85"), Direction.AT_LEAST),
    "nps": Target(Decimal("30"), Direction.AT_LEAST),
    "csat": Target(Decimal("4.0"), Direction.AT_LEAST),
}


def targets_from_dict(data: Any) -> dict[str, Target]:
    """KPI targets from configuration (``KEHU_KPI_TARGETS_FILE``), over the defaults.

    ``{"satisfaction_rate": {"at_least": "0.92"}, "complaint_handling_hours":
    {"at_most": 16}, "ces": {"at_least": "5"}, "nps": null}`` — each entry names one
    direction and a decimal; ``null`` removes a default target."""
    if not isinstance(data, Mapping):
        raise ValueError("KPI targets are a JSON object: {kpi name: {at_least|at_most: value}}")
    targets = dict(DEFAULT_TARGETS)
    for name, entry in data.items():
        if name not in KPI_SPECS:
            known = ", ".join(sorted(KPI_SPECS))
            raise ValueError(f"unknown KPI {name!r} in the targets; known: {known}")
        if entry is None:
            targets.pop(name, None)
            continue
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise ValueError(f"the target of {name} names one of at_least or at_most")
        ((direction, raw),) = entry.items()
        if direction not in {d.value for d in Direction}:
            raise ValueError(f"the target of {name} is at_least or at_most, not {direction!r}")
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError(f"the target of {name} is a number, not {raw!r}")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError(f"the target of {name} is a number, not {raw!r}") from None
        if not value.is_finite():
            raise ValueError(f"the target of {name} is a finite number")
        targets[name] = Target(value, Direction(direction))
    return targets


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    name: str
    value: Decimal | int | None
    target: Target | None
    status: KpiStatus
    #: How many items the figure is computed over (answered surveys, customers active at
    #: the start, resolved complaints, …); ``None`` where it is a plain count or sum.
    basis: int | None = None

    @property
    def spec(self) -> KpiSpec:
        return KPI_SPECS[self.name]


@dataclass(frozen=True)
class KpiGroup:
    key: str
    label: str
    kpis: list[Kpi]


@dataclass(frozen=True)
class DashboardReport:
    start: date
    end: date
    segment: str | None
    group_by: GroupBy
    as_of: datetime
    kpis: list[Kpi]
    groups: list[KpiGroup] = field(default_factory=list)

    def kpi(self, name: str) -> Kpi | None:
        return next((k for k in self.kpis if k.name == name), None)


def survey_kpis(
    answered: Sequence[SurveyRow],
    offered: Sequence[SurveyRow],
    *,
    dimension: str | None = None,
) -> dict[str, tuple[Decimal | None, int]]:
    """The survey figures (value, basis) over answered and offered surveys; by a
    dimension, the satisfaction rate and CSAT from that dimension's score."""
    if dimension is not None:
        scores = [s.scores[dimension] for s in answered if dimension in s.scores]
        return {
            "satisfaction_rate": (
                ratio(sum(1 for v in scores if v >= 4), len(scores)),
                len(scores),
            ),
            "csat": (mean_of(scores), len(scores)),
        }
    csat = [s.csat for s in answered if s.csat is not None]
    nps = [s.nps for s in answered if s.nps is not None]
    ces = [s.ces for s in answered if s.ces is not None]
    replied = sum(1 for s in offered if s.status == "answered")
    return {
        "satisfaction_rate": (ratio(sum(1 for v in csat if v >= 4), len(csat)), len(csat)),
        "csat": (mean_of(csat), len(csat)),
        "nps": (net_promoter_score(nps), len(nps)),
        "ces": (mean_of(ces), len(ces)),
        "survey_response_rate": (ratio(replied, len(offered)), len(offered)),
    }


# -- the dashboard's own history ---------------------------------------------------------


class DashboardProjection(KehuProjection):
    """Keeps ``customer_lifecycle`` and ``customer_purchase``."""

    name = "dashboard"

    def ddl(self) -> list[str]:
        lifecycle, purchases = self.t("customer_lifecycle"), self.t("customer_purchase")
        return [
            f"CREATE TABLE IF NOT EXISTS {lifecycle} ("
            " customer_id TEXT NOT NULL, version INTEGER NOT NULL, at TEXT NOT NULL,"
            " status TEXT NOT NULL, PRIMARY KEY (customer_id, version))",
            f"CREATE INDEX IF NOT EXISTS customer_lifecycle_at ON {lifecycle} (at)",
            f"CREATE TABLE IF NOT EXISTS {purchases} ("
            " customer_id TEXT NOT NULL, version INTEGER NOT NULL, occurred_on TEXT NOT NULL,"
            " amount TEXT NOT NULL, currency TEXT NOT NULL,"
            " PRIMARY KEY (customer_id, version))",
            f"CREATE INDEX IF NOT EXISTS customer_purchase_on ON {purchases} (occurred_on)",
        ]

    def reset(self, cursor: Cursor) -> None:
        for table in ("customer_lifecycle", "customer_purchase"):
            cursor.execute(f"DELETE FROM {self.t(table)}")

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not keep change no rows."""

    def _status(self, cursor: Cursor, event: Any, status: str, at: datetime) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('customer_lifecycle')} (customer_id, version, at, status)"
            " VALUES (?, ?, ?, ?)",
            [str(event.originator_id), event.originator_version, _utc(at), status],
        )

    @apply.register
    def registered(self, event: Customer.Registered, cursor: Cursor) -> None:
        self._status(cursor, event, "prospect", start_of(event.registered_on))

    @apply.register
    def activated(self, event: Customer.Activated, cursor: Cursor) -> None:
        self._status(cursor, event, "active", start_of(event.occurred_on))

    # At risk, churned and won back carry no business time: they count when recorded.

    @apply.register
    def marked_at_risk(self, event: Customer.MarkedAtRisk, cursor: Cursor) -> None:
        self._status(cursor, event, "at_risk", event.timestamp)

    @apply.register
    def churned(self, event: Customer.Churned, cursor: Cursor) -> None:
        self._status(cursor, event, "churned", event.timestamp)

    @apply.register
    def won_back(self, event: Customer.WonBack, cursor: Cursor) -> None:
        self._status(cursor, event, "won_back", event.timestamp)

    @apply.register
    def purchase_recorded(self, event: Customer.PurchaseRecorded, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('customer_purchase')} (customer_id, version, occurred_on,"
            " amount, currency) VALUES (?, ?, ?, ?, ?)",
            [
                str(event.originator_id),
                event.originator_version,
                event.occurred_on.isoformat(),
                str(event.amount.amount),
                event.amount.currency,
            ],
        )


# -- the queries --------------------------------------------------------------------------

#: Given a segment (or none), the predicted lifetime value and the customers it is over,
#: or ``None`` when no model is available.
PredictedValue = Callable[[str | None], tuple[Decimal, int] | None]


class DashboardQueries:
    """KPI figures over the read models (never the event store)."""

    def __init__(
        self,
        views: ViewStore,
        *,
        surveys: SurveyQueries,
        campaigns: CampaignQueries,
        complaints: ComplaintQueries,
        contracts: ContractQueries,
        membership: MembershipQueries,
        targets: Mapping[str, Target] | None = None,
        predicted_ltv: PredictedValue | None = None,
    ) -> None:
        self.views = views
        self.surveys = surveys
        self.campaigns = campaigns
        self.complaints = complaints
        self.contracts = contracts
        self.membership = membership
        self.targets: Mapping[str, Target] = DEFAULT_TARGETS if targets is None else targets
        #: Set by whoever wires a forecasting model (see :mod:`interfaces.bootstrap`).
        self.predicted_ltv = predicted_ltv

    def t(self, name: str) -> str:
        return self.views.table(name)

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.views.transaction(commit=False) as cursor:
            return cursor.execute(statement, params).fetchall()

    def _kpi(self, name: str, value: Decimal | int | None, basis: int | None = None) -> Kpi:
        target = self.targets.get(name)
        if value is None:
            status = KpiStatus.NO_DATA
        elif target is None:
            status = KpiStatus.NO_TARGET
        else:
            status = KpiStatus.MET if target.met_by(value) else KpiStatus.MISSED
        return Kpi(name=name, value=value, target=target, status=status, basis=basis)

    # -- the whole dashboard ---------------------------------------------------------

    def dashboard(
        self,
        start: date,
        end: date,
        *,
        as_of: datetime,
        segment: str | None = None,
        group_by: GroupBy = GroupBy.NONE,
    ) -> DashboardReport:
        """Every KPI for ``[start, end]`` (calendar days in Shanghai, both included), and
        the survey KPIs per group, as they stand at ``as_of`` over these views. Figures
        that describe a present (contracts expiring, payments due, VIP applications,
        complaint clocks) are taken at ``as_of``; the views must hold the events recorded
        up to it and none after (the live views for now, a replay for a past moment)."""
        if end < start:
            raise ValueError(f"the range ends ({end}) before it starts ({start})")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise ValueError(f"a dashboard covers at most {MAX_RANGE_DAYS} days")
        segment = (segment.strip() or None) if segment is not None else None
        begins, ends = start_of(start), start_of(end + timedelta(days=1))
        answered = self.surveys.between("answered_at", begins, ends, segment=segment)
        offered = self.surveys.between("requested_at", begins, ends, segment=segment)
        members = self._segment_members(segment)
        figures: dict[str, tuple[Decimal | int | None, int | None]] = {}
        figures.update(survey_kpis(answered, offered))
        figures.update(self._customers(start, end, begins, ends, segment))
        predicted = self.predicted_ltv(segment) if self.predicted_ltv is not None else None
        figures.update(self._complaints(begins, ends, as_of, members))
        figures.update(self._marketing(begins, ends, segment, members))
        figures.update(self._credit(ends, segment))
        figures.update(self._contracts(start, end, begins, ends, members))
        figures.update(self._vip(as_of, members))
        kpis = []
        for spec in KPIS:
            if spec.name == "lifetime_value_predicted":
                if predicted is not None:
                    amount, customers = predicted
                    kpis.append(
                        self._kpi(spec.name, amount.quantize(MONEY, ROUND_HALF_UP), customers)
                    )
                continue
            value, basis = figures[spec.name]
            kpis.append(self._kpi(spec.name, value, basis))
        return DashboardReport(
            start=start,
            end=end,
            segment=segment,
            group_by=group_by,
            as_of=as_of,
            kpis=kpis,
            groups=self._groups(group_by, start, end, answered, offered),
        )

    # -- groups (the survey KPIs) ------------------------------------------------------

    def _groups(
        self,
        group_by: GroupBy,
        start: date,
        end: date,
        answered: Sequence[SurveyRow],
        offered: Sequence[SurveyRow],
    ) -> list[KpiGroup]:
        if group_by is GroupBy.NONE:
            return []
        if group_by is GroupBy.DIMENSION:
            return [
                KpiGroup(
                    key=name,
                    label=label,
                    kpis=[
                        self._kpi(kpi, *figure)
                        for kpi, figure in survey_kpis(answered, [], dimension=name).items()
                    ],
                )
                for name, label in DIMENSIONS.items()
            ]
        key_of: Callable[[SurveyRow, bool], str]
        labels: dict[str, str] = {}
        keys: list[str] = []
        if group_by is GroupBy.PERIOD:
            keys = months_between(start, end)

            def key_of(survey: SurveyRow, by_answer: bool) -> str:
                moment = survey.answered_at if by_answer else survey.requested_at
                assert moment is not None
                return month_of(moment)

        elif group_by is GroupBy.SEGMENT:

            def key_of(survey: SurveyRow, by_answer: bool) -> str:
                return survey.segment or ""

            labels[""] = "未分类"
        elif group_by is GroupBy.CHANNEL:

            def key_of(survey: SurveyRow, by_answer: bool) -> str:
                return survey.channel

            labels.update({str(k): v for k, v in CHANNEL_LABELS.items()})
        else:

            def key_of(survey: SurveyRow, by_answer: bool) -> str:
                return survey.handler_id or ""

            labels[""] = "未指定处理人"
            labels.update(self._handler_names())
        by_answer: dict[str, list[SurveyRow]] = {}
        by_request: dict[str, list[SurveyRow]] = {}
        for survey in answered:
            by_answer.setdefault(key_of(survey, True), []).append(survey)
        for survey in offered:
            by_request.setdefault(key_of(survey, False), []).append(survey)
        every = keys or sorted(set(by_answer) | set(by_request))
        return [
            KpiGroup(
                key=key,
                label=labels.get(key, key),
                kpis=[
                    self._kpi(kpi, *figure)
                    for kpi, figure in survey_kpis(
                        by_answer.get(key, []), by_request.get(key, [])
                    ).items()
                ],
            )
            for key in every
        ]

    def _handler_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for table in ("complaint_view", "service_request_view"):
            for r in self._all(
                f"SELECT DISTINCT handler_id, handler_name FROM {self.t(table)}"
                " WHERE handler_id IS NOT NULL AND handler_name IS NOT NULL"
            ):
                names.setdefault(r["handler_id"], r["handler_name"])
        return names

    # -- customers ----------------------------------------------------------------------

    def _segment_members(self, segment: str | None) -> set[str] | None:
        """The ids of the segment's customers (``None``: no segment, everyone)."""
        if segment is None:
            return None
        rows = self._all(f"SELECT id FROM {self.t('customer_view')} WHERE segment = ?", [segment])
        return {r["id"] for r in rows}

    def _segment_join(self, segment: str | None, column: str) -> tuple[str, list[Any]]:
        if segment is None:
            return "", []
        return (
            f" AND {column} IN (SELECT id FROM {self.t('customer_view')} WHERE segment = ?)",
            [segment],
        )

    def _customers(
        self, start: date, end: date, begins: datetime, ends: datetime, segment: str | None
    ) -> dict[str, tuple[Decimal | int | None, int | None]]:
        condition, params = self._segment_join(segment, "id")
        registered = self._all(
            f"SELECT COUNT(*) AS n FROM {self.t('customer_view')}"
            f" WHERE registered_on >= ? AND registered_on <= ?{condition}",
            [start.isoformat(), end.isoformat(), *params],
        )[0]["n"]
        condition, params = self._segment_join(segment, "customer_id")
        changes = self._all(
            f"SELECT customer_id, version, at, status FROM {self.t('customer_lifecycle')}"
            f" WHERE at < ?{condition} ORDER BY customer_id, at, version",
            [_utc(ends), *params],
        )
        at_start: dict[str, str] = {}
        at_end: dict[str, str] = {}
        cut = _utc(begins)
        for r in changes:  # ordered by time, so the last one seen is the status then
            at_end[r["customer_id"]] = r["status"]
            if r["at"] < cut:
                at_start[r["customer_id"]] = r["status"]
        base = [c for c, status in at_start.items() if status in ACTIVE]
        retained = sum(1 for c in base if at_end[c] in ACTIVE)
        churned = sum(1 for c in base if at_end[c] == "churned")
        purchases = self._all(
            f"SELECT customer_id, amount FROM {self.t('customer_purchase')}"
            f" WHERE currency = 'CNY' AND occurred_on <= ?{condition}",
            [end.isoformat(), *params],
        )
        totals: dict[str, Decimal] = {}
        for r in purchases:
            totals[r["customer_id"]] = totals.get(r["customer_id"], Decimal(0)) + Decimal(
                r["amount"]
            )
        return {
            "new_customers": (int(registered), None),
            "retention_rate": (ratio(retained, len(base)), len(base)),
            "churn_rate": (ratio(churned, len(base)), len(base)),
            "lifetime_value_observed": (mean_of(list(totals.values()), MONEY), len(totals)),
        }

    # -- complaints (the SLA statistics of the complaint view) --------------------------

    def _complaints(
        self, begins: datetime, ends: datetime, as_of: datetime, members: set[str] | None
    ) -> dict[str, tuple[Decimal | int | None, int | None]]:
        rate: Decimal | None
        active: int
        if members is None:
            report = self.complaints.sla_report(begins, ends, "none", as_of)
            total, rate = report.total, report.complaint_rate_per_1000
            active = report.active_customers
        else:
            rows, _ = self.complaints.page(
                ComplaintFilter(received_from=begins, received_to=ends), as_of, limit=_ALL
            )
            chosen = [r for r in rows if r.customer_id in members]
            total = ComplaintQueries._group("total", chosen)
            active = self._active_customers(members)
            rate = (
                (Decimal(len(chosen)) * 1000 / active).quantize(MONEY, rounding=ROUND_HALF_UP)
                if active
                else None
            )
        return {
            "complaint_rate": (rate, active),
            "complaint_handling_hours": (total.median_hours, total.resolved),
            "complaint_on_time_rate": (ratio(total.on_time, total.resolved), total.resolved),
        }

    def _active_customers(self, members: set[str]) -> int:
        rows = self._all(
            f"SELECT id FROM {self.t('customer_view')}"
            f" WHERE status IN ({', '.join('?' for _ in ACTIVE_CUSTOMER_STATUSES)})",
            list(ACTIVE_CUSTOMER_STATUSES),
        )
        return sum(1 for r in rows if r["id"] in members)

    # -- marketing ----------------------------------------------------------------------

    def _marketing(
        self, begins: datetime, ends: datetime, segment: str | None, members: set[str] | None
    ) -> dict[str, tuple[Decimal | int | None, int | None]]:
        costs = self.campaigns.costs(begins, ends, segment=segment)
        spent = sum((c.amount for c in costs if c.currency == "CNY"), Decimal(0))
        acquired = {
            c.customer_id
            for c in self.campaigns.conversions(begins, ends, segment=segment)
            if c.new_customer
        }
        cost_per = (spent / len(acquired)).quantize(MONEY, ROUND_HALF_UP) if acquired else None
        participations = [
            p
            for p in self.campaigns.participations(begins, ends)
            if members is None or p.customer_id in members
        ]
        converted = sum(1 for p in participations if p.converted)
        return {
            "customer_acquisition_cost": (cost_per, len(acquired)),
            "campaign_conversion_rate": (
                ratio(converted, len(participations)),
                len(participations),
            ),
        }

    # -- credit (totals over the exposure ledger) ---------------------------------------

    def credit_totals(self, as_of: datetime, segment: str | None = None) -> dict[str, Decimal]:
        """Σ limit, reserved, used and overdue of the CNY credit profiles as at ``as_of``
        (business time, exclusive), and how many profiles there are."""
        condition, params = self._segment_join(segment, "p.customer_id")
        rows = self._all(
            f"SELECT l.bucket, l.delta FROM {self.t('credit_ledger')} l"
            f" JOIN {self.t('credit_profile_view')} p ON p.id = l.profile_id"
            f" WHERE p.currency = 'CNY' AND l.at < ?{condition}",
            [_utc(as_of), *params],
        )
        sums = dict.fromkeys(("limit", "reserved", "used", "overdue"), Decimal(0))
        for r in rows:
            sums[r["bucket"]] += Decimal(r["delta"])
        profiles = self._all(
            f"SELECT COUNT(*) AS n FROM {self.t('credit_profile_view')} p"
            f" WHERE p.currency = 'CNY'{condition}",
            params,
        )[0]["n"]
        sums["profiles"] = Decimal(profiles)
        return sums

    def _credit(
        self, ends: datetime, segment: str | None
    ) -> dict[str, tuple[Decimal | int | None, int | None]]:
        sums = self.credit_totals(ends, segment)
        exposure = sums["reserved"] + sums["used"] + sums["overdue"]
        profiles = int(sums["profiles"])
        utilisation = (
            (exposure / sums["limit"]).quantize(RATE, ROUND_HALF_UP) if sums["limit"] > 0 else None
        )
        return {
            "credit_utilisation": (utilisation, profiles),
            "overdue_exposure": (sums["overdue"].quantize(MONEY, ROUND_HALF_UP), profiles),
        }

    # -- contracts ------------------------------------------------------------------------

    def _contract_parties(self) -> dict[str, set[str]]:
        rows = self._all(
            f"SELECT id, party_a_customer_id, party_b_customer_id FROM {self.t('contract_view')}"
        )
        return {
            r["id"]: {c for c in (r["party_a_customer_id"], r["party_b_customer_id"]) if c}
            for r in rows
        }

    def _contracts(
        self, start: date, end: date, begins: datetime, ends: datetime, members: set[str] | None
    ) -> dict[str, tuple[Decimal | int | None, int | None]]:
        expiring, _ = self.contracts.page(
            ContractFilter(expiring_within_days=EXPIRING_WITHIN_DAYS, today=end), limit=_ALL
        )
        due, _ = self.contracts.payments_due(start, end, limit=_ALL)
        breaches, _ = self.contracts.breaches(BreachFilter(since=begins, until=ends), limit=_ALL)
        if members is not None:
            parties = self._contract_parties()

            def ours(contract_id: str) -> bool:
                return bool(parties.get(contract_id, set()) & members)

            expiring = [c for c in expiring if ours(c.id)]
            due = [d for d in due if ours(d.contract_id)]
            breaches = [b for b in breaches if ours(b.contract_id)]
        outstanding = sum((d.outstanding for d in due if d.currency == "CNY"), Decimal(0))
        return {
            "contracts_expiring": (len(expiring), None),
            "payments_due": (len(due), None),
            "payments_due_amount": (outstanding.quantize(MONEY, ROUND_HALF_UP), len(due)),
            "contract_breaches": (len(breaches), None),
        }

    # -- VIP applications -------------------------------------------------------------------

    def _vip(
        self, as_of: datetime, members: set[str] | None
    ) -> dict[str, tuple[Decimal | int | None, int | None]]:
        pending, _ = self.membership.vip_applications(pending_only=True, limit=_ALL)
        if members is not None:
            pending = [a for a in pending if a.customer_id in members]
        overdue = [a for a in pending if a.overdue(as_of)]
        return {
            "vip_applications_pending": (len(pending), None),
            "vip_applications_overdue": (len(overdue), None),
        }
