"""The dashboard as it stood at a past moment (issue 8, time travel) on both stores.

``dashboard(asOf: D)`` must equal the dashboard computed when D was now: kept at D, then
compared after more is recorded — answers back-dated to before D, new customers (one
registered with an earlier day), a reassignment, churn, a purchase, a complaint, a VIP
application and campaign figures dated before D. A filter on business time would count
those; a replay up to the position recorded by D does not. Past states are cached by
position, bounded (the least recently used scratch store is dropped); a moment in the
future is today's dashboard.

The events' recorded time is the wall clock (the library's timestamps), so the moments
here are real ones and the controllable clock is set to them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest

from application.context import CommandContext, Principal, Role
from application.demo import seed
from application.settings import Settings
from interfaces.bootstrap import Queries, System, build, init_storage
from interfaces.graphql.common import Context
from projections.customers import CustomerFilter
from projections.dashboard import VIEWS_READ
from tests.conftest import postgres_dsn

SH = ZoneInfo("Asia/Shanghai")
CLERK = Principal(id="user:info", role=Role.INFORMATION)
COMPLAINTS = Principal(id="user:complaints", role=Role.COMPLAINTS)
SATISFACTION = Principal(id="user:satisfaction", role=Role.SATISFACTION, name="满意度专员")
MARKETING = Principal(id="user:marketing", role=Role.MARKETING, name="营销专员")
RELATIONSHIP = Principal(id="user:rel", role=Role.RELATIONSHIP)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def ctx(principal: Principal) -> CommandContext:
    return CommandContext.for_principal(principal)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture
def kehu(settings: Settings, clock: Clock) -> Iterator[System]:
    init_storage(settings)
    system = build(settings, clock=clock)
    try:
        yield system
    finally:
        system.close()


def moment_now(clock: Clock) -> datetime:
    """A real moment that every event so far was recorded before and every later one
    after; the clock is set to it."""
    time.sleep(0.005)
    clock.now = datetime.now(UTC)
    time.sleep(0.005)
    return clock.now


# -- GraphQL ------------------------------------------------------------------------------

DASHBOARD = """
query ($from: Date!, $to: Date!, $segment: String, $groupBy: DashboardGroupBy!,
       $asOf: DateTime) {
  dashboard(from: $from, to: $to, segment: $segment, groupBy: $groupBy, asOf: $asOf) {
    from to segment groupBy asOf position
    kpis { name label value unit target targetDirection status basis }
    groups { key label kpis { name value status basis } }
  }
}"""


def execute(system: System, query: str, **variables: Any) -> Any:
    from interfaces.graphql.schema import schema

    context = Context(system, Principal(id="test:manager", role=Role.MANAGER), None, None)
    return asyncio.run(schema.execute(query, variable_values=variables, context_value=context))


def dashboard(system: System, view: dict[str, Any], as_of: datetime | None = None) -> Any:
    result = execute(system, DASHBOARD, **view, asOf=None if as_of is None else as_of.isoformat())
    assert result.errors is None, result.errors
    return result.data["dashboard"]


def views_of(day: date) -> dict[str, dict[str, Any]]:
    """The dashboards compared: a year, by handler, a segment by month, by dimension."""
    year = {"from": (day - timedelta(days=365)).isoformat(), "to": day.isoformat()}
    return {
        "year": {**year, "groupBy": "NONE"},
        "handlers": {**year, "groupBy": "HANDLER"},
        "key accounts": {**year, "segment": "大客户", "groupBy": "PERIOD"},
        "dimensions": {
            "from": (day - timedelta(days=30)).isoformat(),
            "to": day.isoformat(),
            "groupBy": "DIMENSION",
        },
    }


def values(answer: Any) -> dict[str, str | None]:
    return {k["name"]: k["value"] for k in answer["kpis"]}


# -- activity -----------------------------------------------------------------------------


@pytest.fixture
def before(kehu: System, clock: Clock) -> dict[str, Any]:
    """The history up to D: the demo, surveys of its resolved cases (some answered),
    periodic surveys still open, a complaint handled by 张伟 and rated, a campaign and a
    VIP application."""
    start = clock.now
    seed(kehu.store, customers=40, clock=clock)
    kehu.catch_up()
    rng = random.Random(11)
    for case in kehu.survey_queries.cases_without_survey(start - timedelta(days=3650), 100_000):
        requested = case["resolved_at"] + timedelta(hours=2)
        if requested >= start:
            continue
        made = kehu.surveys.request(
            ctx(SATISFACTION),
            customer_id=case["customer_id"],
            kind=case["kind"],
            source_id=case["source_id"],
            channel=rng.choice(["sms", "phone", "wechat"]),
            handler_id=case["handler_id"],
            segment=case["segment"],
            at=requested,
        )
        answered = requested + timedelta(hours=rng.randint(1, 48))
        if rng.random() < 0.7 and answered < start:
            kehu.surveys.answer(
                ctx(SATISFACTION),
                made.id,
                csat=rng.choice([2, 3, 4, 5, 5]),
                nps=rng.randint(0, 10),
                ces=rng.randint(1, 7),
                scores={"service": rng.randint(1, 5), "product": rng.randint(1, 5)},
                at=answered,
            )
    rows, _ = kehu.customer_queries.page(CustomerFilter(status=["active"]), limit=200)
    rows.sort(key=lambda r: r.registered_on)  # the longest-standing first (they churn)
    active = [UUID(r.id) for r in rows]
    key_accounts = [UUID(r.id) for r in rows if r.segment == "大客户"]
    assert len(active) >= 8, "the demo has active customers"
    assert key_accounts, "the demo has key accounts"
    open_surveys = [
        kehu.surveys.request(
            ctx(SATISFACTION),
            customer_id=customer,
            channel="sms",
            at=start - timedelta(days=2),
        ).id
        for customer in [*key_accounts[:2], *active[:2]]
    ]

    customer = kehu.customers.register(
        ctx(CLERK),
        kind="individual",
        name="钱多多",
        phone="13900001111",
        segment="个人客户",
        registered_on=(start - timedelta(days=20)).astimezone(SH).date(),
    ).id
    complaint = kehu.complaints.lodge(
        ctx(COMPLAINTS),
        customer_id=customer,
        channel="wechat",
        category="delivery",
        severity="medium",
        description="配送延误",
        received_at=start - timedelta(days=6),
    ).id
    kehu.complaints.assign(ctx(COMPLAINTS), complaint, handler_id="h-zhang", handler_name="张伟")
    kehu.complaints.acknowledge(ctx(COMPLAINTS), complaint, at=start - timedelta(days=6, hours=-1))
    kehu.complaints.resolve(
        ctx(COMPLAINTS), complaint, summary="已补发", at=start - timedelta(days=5)
    )
    rated = kehu.surveys.request(
        ctx(SATISFACTION),
        customer_id=customer,
        kind="complaint",
        source_id=complaint,
        channel="wechat",
        handler_id="h-zhang",
        at=start - timedelta(days=5) + timedelta(hours=2),
    ).id
    kehu.surveys.answer(
        ctx(SATISFACTION), rated, csat=4, nps=8, scores={"service": 4}, at=start - timedelta(days=4)
    )

    campaign = kehu.campaigns.plan(
        ctx(MARKETING),
        name="年终客户答谢会",
        kind="appreciation_event",
        budget="80000.00",
        starts_on=(start - timedelta(days=60)).astimezone(SH).date(),
        ends_on=(start + timedelta(days=30)).astimezone(SH).date(),
        segment_criteria={"segments": ["大客户", "个人客户"]},
        at=start - timedelta(days=70),
    ).id
    kehu.campaigns.launch(ctx(MARKETING), campaign, at=start - timedelta(days=60))
    for n, member in enumerate(active[:4]):
        kehu.campaigns.record_participation(
            ctx(MARKETING),
            campaign,
            customer_id=member,
            channel="wechat",
            at=start - timedelta(days=50 - n),
        )
    kehu.campaigns.record_conversion(
        ctx(MARKETING),
        campaign,
        customer_id=active[0],
        order_ref="YE-0",
        revenue="2999.00",
        new_customer=True,
        at=start - timedelta(days=40),
    )
    kehu.campaigns.record_cost(
        ctx(MARKETING),
        campaign,
        amount="30000.00",
        description="答谢晚宴",
        at=start - timedelta(days=45),
    )
    applicants = [vip_candidate(kehu, start, n) for n in range(2)]
    kehu.membership.apply_for_vip(
        ctx(RELATIONSHIP),
        applicants[0],
        requested_tier="gold",
        application_id="A0",
        at=start - timedelta(days=20),
    )
    kehu.catch_up()
    return {
        "start": start,
        "active": active,
        "open_surveys": open_surveys,
        "complaint": complaint,
        "campaign": campaign,
        "applicants": applicants,
    }


def vip_candidate(kehu: System, start: datetime, n: int) -> UUID:
    """A customer whose purchases over the past year qualify for gold."""
    today = start.astimezone(SH).date()
    customer = kehu.customers.register(
        ctx(CLERK),
        kind="individual",
        name=f"孙{'丽强'[n]}",
        phone=f"1370000000{n}",
        segment="个人客户",
        registered_on=today - timedelta(days=330),
    ).id
    for k in range(8):
        kehu.customers.record_purchase(
            ctx(CLERK),
            customer,
            order_ref=f"VIP-{n}-{k}",
            amount="30000.00",
            category="工业设备",
            occurred_on=today - timedelta(days=300 - 30 * k),
        )
    return customer


def record_after(kehu: System, clock: Clock, d: datetime, known: dict[str, Any]) -> None:
    """What is recorded after D, most of it dated before D."""
    clock.now = datetime.now(UTC)
    for survey in known["open_surveys"]:  # low ratings, back-dated to before D
        kehu.surveys.answer(
            ctx(SATISFACTION),
            survey,
            csat=1,
            nps=0,
            ces=2,
            scores={"service": 1, "product": 2},
            at=d - timedelta(hours=1),
        )
    day = d.astimezone(SH).date()
    for n, registered in enumerate((day, day, day - timedelta(days=10))):
        kehu.customers.register(
            ctx(CLERK),
            kind="individual",
            name=f"新客户{n}",
            phone=f"1360000000{n}",
            segment="大客户" if n == 0 else "个人客户",
            registered_on=registered,
        )
    kehu.complaints.assign(
        ctx(COMPLAINTS), known["complaint"], handler_id="h-li", handler_name="李娜"
    )
    active: list[UUID] = known["active"]
    kehu.customers.churn(ctx(RELATIONSHIP), active[0], "转向竞品", cause="competitor")
    kehu.customers.churn(ctx(RELATIONSHIP), active[1], "业务调整", cause="no_need")
    kehu.customers.mark_at_risk(ctx(RELATIONSHIP), active[2], "近期投诉增多")
    kehu.customers.record_purchase(
        ctx(CLERK),
        active[7],
        order_ref="LATE-1",
        amount="123456.78",
        category="工业设备",
        occurred_on=day - timedelta(days=5),
    )
    kehu.complaints.lodge(
        ctx(COMPLAINTS),
        customer_id=active[4],
        channel="phone",
        category="product_quality",
        severity="high",
        description="设备故障",
        received_at=d - timedelta(days=1),
    )
    kehu.membership.apply_for_vip(
        ctx(RELATIONSHIP),
        known["applicants"][1],
        requested_tier="gold",
        application_id="A1",
        at=d - timedelta(days=1),
    )
    kehu.campaigns.record_cost(
        ctx(MARKETING),
        known["campaign"],
        amount="5000.00",
        description="补充礼品",
        at=d - timedelta(days=3),
    )
    kehu.campaigns.record_conversion(
        ctx(MARKETING),
        known["campaign"],
        customer_id=active[3],
        order_ref="YE-1",
        revenue="1999.00",
        new_customer=True,
        at=d - timedelta(days=2),
    )
    kehu.catch_up()


# -- the tests ------------------------------------------------------------------------------


def test_the_dashboard_as_of_a_past_moment_is_the_one_shown_then(
    kehu: System, clock: Clock, before: dict[str, Any]
) -> None:
    d = moment_now(clock)
    views = views_of(d.astimezone(SH).date())
    kept = {name: dashboard(kehu, view) for name, view in views.items()}
    assert kept["year"]["asOf"] == d.isoformat()
    assert kept["year"]["position"] == kehu.store.max_position()
    shown = values(kept["year"])
    assert all(  # the history exercises the figures compared (a None would hide a change)
        shown[name] is not None
        for name in (
            "CSAT",
            "NPS",
            "CES",
            "RETENTION_RATE",
            "COMPLAINT_RATE",
            "CUSTOMER_ACQUISITION_COST",
            "CREDIT_UTILISATION",
        )
    )
    assert (shown["VIP_APPLICATIONS_PENDING"], shown["VIP_APPLICATIONS_OVERDUE"]) == ("1", "1")

    record_after(kehu, clock, d, before)

    now = {name: dashboard(kehu, view) for name, view in views.items()}
    changed = {
        name
        for name in values(kept["year"])
        if values(kept["year"])[name] != values(now["year"])[name]
    }
    # What came after D moves today's dashboard (most of it dated before D) ...
    assert {
        "CSAT",
        "SATISFACTION_RATE",
        "NPS",
        "SURVEY_RESPONSE_RATE",
        "NEW_CUSTOMERS",
        "CHURN_RATE",
        "RETENTION_RATE",
        "LIFETIME_VALUE_OBSERVED",
        "COMPLAINT_RATE",
        "CUSTOMER_ACQUISITION_COST",
        "VIP_APPLICATIONS_PENDING",
    } <= changed
    handlers = {g["key"]: g["label"] for g in now["handlers"]["groups"]}
    assert handlers["h-zhang"] == "h-zhang"  # 张伟 handles no case any more
    # ... but not the dashboard as of D: it is the one shown at D, exactly.
    for name, view in views.items():
        assert dashboard(kehu, view, as_of=d) == kept[name], name
    assert {g["key"]: g["label"] for g in kept["handlers"]["groups"]}["h-zhang"] == "张伟"
    # The same moment in another offset is the same moment.
    assert dashboard(kehu, views["year"], as_of=d.astimezone(SH))["kpis"] == kept["year"]["kpis"]
    assert len(kehu.as_of_views.cached()) == 1
    assert kehu.as_of_views.builds == 1


def test_a_moment_in_the_future_or_after_the_last_event_is_todays_dashboard(
    kehu: System, clock: Clock
) -> None:
    seed(kehu.store, customers=10, clock=clock)
    kehu.catch_up()
    view = views_of(clock.now.astimezone(SH).date())["year"]
    live = dashboard(kehu, view)
    assert dashboard(kehu, view, as_of=clock.now + timedelta(days=3)) == live
    quiet = moment_now(clock)  # after the last event, before now
    clock.now = quiet + timedelta(hours=1)
    since = dashboard(kehu, view, as_of=quiet)
    assert since["asOf"] == quiet.isoformat()
    assert since["position"] == kehu.store.max_position()
    assert kehu.as_of_views.cached() == []  # the live views answered


def scratch_exists(settings: Settings, label: str) -> bool:
    if settings.store == "sqlite":
        return (settings.data_dir / f"readmodels-{label}.sqlite").exists()
    with psycopg.connect(postgres_dsn()) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s",
            [f"{settings.postgres_schema}_{label}"],
        ).fetchone()
    return found is not None


def test_past_states_are_cached_by_position_and_the_least_recently_used_is_dropped(
    kehu: System, clock: Clock, settings: Settings
) -> None:
    assert settings.asof_cache_size == 2
    first = moment_now(clock)  # before any event
    seed(kehu.store, customers=8, clock=clock)
    kehu.catch_up()
    second = moment_now(clock)
    kehu.customers.register(
        ctx(CLERK), kind="individual", name="赵一", phone="13500000001", segment="个人客户"
    )
    kehu.catch_up()
    third = moment_now(clock)
    kehu.customers.register(
        ctx(CLERK), kind="individual", name="赵二", phone="13500000002", segment="个人客户"
    )
    kehu.catch_up()
    view = views_of(clock.now.astimezone(SH).date())["year"]
    past = kehu.as_of_views

    empty = dashboard(kehu, view, as_of=first)
    assert empty["position"] == 0
    assert values(empty)["NEW_CUSTOMERS"] == "0"
    assert {k["status"] for k in empty["kpis"]} <= {"NO_DATA", "NO_TARGET"}
    at_second = dashboard(kehu, view, as_of=second)
    assert [p for p, _ in past.cached()] == [0, at_second["position"]]
    labels = dict(past.cached())
    assert all(scratch_exists(settings, label) for label in labels.values())

    at_third = dashboard(kehu, view, as_of=third)
    assert at_third["position"] > at_second["position"]
    assert int(values(at_third)["NEW_CUSTOMERS"]) == int(values(at_second)["NEW_CUSTOMERS"]) + 1
    assert [p for p, _ in past.cached()] == [at_second["position"], at_third["position"]]
    assert not scratch_exists(settings, labels[0])  # the first state was dropped
    assert past.builds == 3

    # Reading a state keeps it: the next new one drops the least recently used.
    assert dashboard(kehu, view, as_of=second) == at_second
    assert past.builds == 3
    assert dashboard(kehu, view, as_of=first) == empty
    assert [p for p, _ in past.cached()] == [at_second["position"], 0]
    assert past.builds == 4

    kept = [label for _, label in past.cached()]
    kehu.as_of_views.close()
    assert past.cached() == []
    assert not any(scratch_exists(settings, label) for label in kept)


def test_two_requests_for_the_same_past_moment_replay_once(kehu: System, clock: Clock) -> None:
    seed(kehu.store, customers=8, clock=clock)
    kehu.catch_up()
    moment = moment_now(clock)
    kehu.customers.register(
        ctx(CLERK), kind="individual", name="赵三", phone="13500000003", segment="个人客户"
    )
    kehu.catch_up()

    def customers(queries: Queries, when: datetime) -> int:
        return queries.customer_queries.page(CustomerFilter(), limit=1)[1]

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: kehu.as_of_views.read(moment, customers), range(4)))
    assert kehu.as_of_views.builds == 1
    assert {a.value for a in answers} == {customers(kehu.as_of_views.live, moment) - 1}
    assert {a.position for a in answers} == {kehu.as_of_views.position_at(moment)}
    assert not any(a.live for a in answers)


def test_a_past_state_replays_only_the_views_the_dashboard_reads(kehu: System) -> None:
    # The first test reads every figure and group from such a store: a view the
    # dashboard reads and VIEWS_READ left out would fail there, on a missing table.
    replayed = {p.name for p in kehu.as_of_views.projections}
    assert replayed == set(VIEWS_READ)
    assert {p.name for p in kehu.projections} - replayed == {
        "audit_trail",
        "analytics",
        "trainings",
        "disclosures",
    }


def test_a_naive_as_of_is_refused(kehu: System) -> None:
    result = execute(
        kehu,
        DASHBOARD,
        **{"from": "2025-01-01", "to": "2025-01-31", "groupBy": "NONE"},
        asOf="2025-01-31T12:00:00",
    )
    assert result.errors is not None
    assert result.errors[0].extensions["code"] == "validation.naive_datetime"
