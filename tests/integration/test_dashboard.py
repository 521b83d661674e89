"""The KPI dashboard on both stores, checked against figures recomputed by hand from the
stored events (never from a read model): the demo history plus surveys and campaigns made
through the services. A rating stays with the handler recorded on the survey when the case
is reassigned later; answering a survey moves the dashboard; the survey policies' candidates
come from the read side."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

import pytest

from application.context import CommandContext, Principal, Role
from application.demo import seed
from domain.campaign import Campaign
from domain.complaint import Complaint
from domain.contract import Contract
from domain.credit import CreditProfile
from domain.customer import Customer
from domain.sla import ClockEvent, evaluate
from domain.survey import Survey
from interfaces.bootstrap import System
from projections.campaigns import CampaignFilter
from projections.customers import CustomerFilter
from projections.dashboard import (
    DEFAULT_TARGETS,
    DashboardReport,
    Direction,
    GroupBy,
    KpiStatus,
    Target,
    targets_from_dict,
)
from tests.support import SH, Clock, at

NOW = datetime(2025, 11, 28, 10, 0, tzinfo=SH)
SATISFACTION = Principal(id="user:satisfaction", role=Role.SATISFACTION, name="满意度专员")
MARKETING = Principal(id="user:marketing", role=Role.MARKETING, name="营销专员")
COMPLAINTS = Principal(id="user:complaints", role=Role.COMPLAINTS, name="投诉专员")
CLERK = Principal(id="user:info", role=Role.INFORMATION)
ACTIVE = {"active", "at_risk", "won_back"}


def ctx(principal: Principal) -> CommandContext:
    return CommandContext.for_principal(principal)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SH)


def q(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def share(part: int, whole: int) -> Decimal | None:
    return q(Decimal(part) / whole, "0.0001") if whole else None


def average(values: list[int] | list[Decimal], places: str = "0.01") -> Decimal | None:
    return q(sum(map(Decimal, values), Decimal(0)) / len(values), places) if values else None


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


# -- demo data: the seed, then surveys and campaigns through the services ----------------


def survey_the_resolved_cases(kehu: System, rng: random.Random) -> None:
    """A survey after every resolved demo case, as the policy would ask for it, but dated
    two hours after the resolution; most answered, some expired, some still open."""
    kehu.catch_up()
    # The demo may already survey some cases; the others are surveyed here.
    for case in kehu.survey_queries.cases_without_survey(at(2000, 1, 1), limit=100_000):
        requested = case["resolved_at"] + timedelta(hours=2)
        made = kehu.surveys.request(
            ctx(SATISFACTION),
            customer_id=case["customer_id"],
            kind=case["kind"],
            source_id=case["source_id"],
            channel=rng.choice(["sms", "phone", "wechat", "email"]),
            handler_id=case["handler_id"],
            segment=case["segment"],
            at=requested,
        )
        fate = rng.random()
        answered = requested + timedelta(hours=rng.randint(1, 240))
        if fate < 0.75 and answered < NOW:
            kehu.surveys.answer(
                ctx(SATISFACTION),
                made.id,
                csat=rng.choices([1, 2, 3, 4, 5], weights=(5, 8, 17, 35, 35))[0],
                nps=rng.randint(0, 10) if rng.random() < 0.8 else None,
                ces=rng.randint(1, 7) if rng.random() < 0.6 else None,
                scores={
                    d: rng.randint(1, 5)
                    for d in rng.sample(["product", "service", "after_sales"], rng.randint(1, 3))
                },
                comment="送货及时，态度很好" if rng.random() < 0.3 else None,
                at=answered,
            )
        elif fate < 0.9:
            survey = kehu.store.load(made.id, Survey)
            if survey.respond_by + timedelta(days=1) < NOW.date():
                kehu.surveys.expire(
                    ctx(Principal(id="system:scheduler", role=Role.SYSTEM)),
                    made.id,
                    on=survey.respond_by + timedelta(days=1),
                )


def run_campaigns(kehu: System) -> None:
    """A spring launch event for key accounts (closed and evaluated) and a year-end
    appreciation event for SMEs and individuals (still running)."""
    kehu.catch_up()

    def members(*segments: str) -> list[UUID]:
        rows, _ = kehu.customer_queries.page(CustomerFilter(segment=list(segments)), limit=50)
        return [UUID(r.id) for r in rows]

    spring = kehu.campaigns.plan(
        ctx(MARKETING),
        name="春季新品发布会",
        kind="launch_event",
        budget="50000.00",
        starts_on=date(2025, 3, 1),
        ends_on=date(2025, 5, 31),
        segment_criteria={"segments": ["大客户"]},
        at=at(2025, 2, 20, 10),
    ).id
    kehu.campaigns.launch(ctx(MARKETING), spring, at=at(2025, 3, 1, 9))
    key_accounts = members("大客户")
    for n, customer in enumerate(key_accounts[:6]):
        kehu.campaigns.record_participation(
            ctx(MARKETING), spring, customer_id=customer, channel="in_person", at=at(2025, 3, 3, 10)
        )
        if n < 3:
            kehu.campaigns.record_conversion(
                ctx(MARKETING),
                spring,
                customer_id=customer,
                order_ref=f"SP-{n}",
                revenue=f"{(n + 1) * 12345}.67",
                new_customer=n < 2,
                at=at(2025, 4, 2 + n, 15),
            )
    kehu.campaigns.record_cost(
        ctx(MARKETING), spring, amount="12000.00", description="场地", at=at(2025, 3, 5, 9)
    )
    kehu.campaigns.record_cost(
        ctx(MARKETING), spring, amount="8000.50", description="礼品", at=at(2025, 3, 6, 9)
    )
    kehu.campaigns.close(ctx(MARKETING), spring, at=at(2025, 6, 1, 9))
    kehu.campaigns.evaluate(ctx(MARKETING), spring, at=at(2025, 6, 10, 9))

    year_end = kehu.campaigns.plan(
        ctx(MARKETING),
        name="年终客户答谢会",
        kind="appreciation_event",
        budget="80000.00",
        starts_on=date(2025, 7, 1),
        ends_on=date(2025, 12, 31),
        segment_criteria={"segments": ["中小企业", "个人客户"]},
        at=at(2025, 6, 20, 10),
    ).id
    kehu.campaigns.launch(ctx(MARKETING), year_end, at=at(2025, 7, 1, 9))
    others = members("中小企业", "个人客户")
    for n, customer in enumerate(others[:7]):
        kehu.campaigns.record_participation(
            ctx(MARKETING), year_end, customer_id=customer, channel="wechat", at=at(2025, 7, 8, 10)
        )
        if n % 3 == 0:
            kehu.campaigns.record_conversion(
                ctx(MARKETING),
                year_end,
                customer_id=customer,
                order_ref=f"YE-{n}",
                revenue="2999.00",
                new_customer=n == 0,
                at=at(2025, 8, 1 + n, 11),
            )
    kehu.campaigns.record_cost(
        ctx(MARKETING), year_end, amount="30000.00", description="答谢晚宴", at=at(2025, 7, 15, 9)
    )


def apply_for_vip(kehu: System) -> None:
    """Two customers who qualify for gold apply in November: one decision is overdue by
    NOW (the 7 working days have passed), one is still within its deadline."""
    for n, applied in enumerate((at(2025, 11, 10, 10), at(2025, 11, 26, 10))):
        customer = kehu.customers.register(
            ctx(CLERK),
            kind="individual",
            name=f"孙{'丽' if n else '强'}",
            phone=f"1370000000{n}",
            segment="个人客户",
            registered_on=date(2025, 1, 2),
        ).id
        for k in range(8):
            kehu.customers.record_purchase(
                ctx(CLERK),
                customer,
                order_ref=f"VIP-{n}-{k}",
                amount="30000.00",
                category="工业设备",
                occurred_on=date(2025, 1 + k, 10),
            )
        kehu.membership.apply_for_vip(
            ctx(Principal(id="user:rel", role=Role.RELATIONSHIP)),
            customer,
            requested_tier="gold",
            application_id=f"A{n}",
            at=applied,
        )


def lose_and_win_back(kehu: System) -> None:
    """Three long-standing active customers: two churn, one of them is won back, and one
    is marked at risk. These carry no business time: they count when recorded (now)."""
    kehu.catch_up()
    rows, _ = kehu.customer_queries.page(CustomerFilter(status=["active"]), limit=200)
    old = [UUID(r.id) for r in rows if r.registered_on < date(2025, 1, 1)][:3]
    assert len(old) == 3, "the demo has long-standing active customers"
    relationship = ctx(Principal(id="user:rel", role=Role.RELATIONSHIP))
    kehu.customers.churn(relationship, old[0], "转向竞品", cause="competitor")
    kehu.customers.churn(relationship, old[1], "业务调整", cause="no_need")
    kehu.customers.win_back(relationship, old[1], "专属折扣回访")
    kehu.customers.mark_at_risk(relationship, old[2], "近期投诉增多")


@pytest.fixture
def demo(kehu: System, clock: Clock) -> System:
    seed(kehu.store, customers=60, clock=clock)
    rng = random.Random(7)
    survey_the_resolved_cases(kehu, rng)
    run_campaigns(kehu)
    apply_for_vip(kehu)
    lose_and_win_back(kehu)
    kehu.catch_up()
    return kehu


# -- the figures, by hand from the events --------------------------------------------------


@dataclass
class History:
    """What the events say, gathered without any read model."""

    registered: dict[str, date] = field(default_factory=dict)
    segment: dict[str, str | None] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    lifecycle: dict[str, list[tuple[datetime, int, str]]] = field(default_factory=dict)
    purchases: dict[str, list[tuple[date, Decimal, str]]] = field(default_factory=dict)
    complaints: dict[str, dict[str, Any]] = field(default_factory=dict)
    surveys: dict[str, dict[str, Any]] = field(default_factory=dict)
    campaign_segments: dict[str, list[str]] = field(default_factory=dict)
    participations: list[dict[str, Any]] = field(default_factory=list)
    conversions: list[dict[str, Any]] = field(default_factory=list)
    costs: list[dict[str, Any]] = field(default_factory=list)
    credit: dict[str, dict[str, Any]] = field(default_factory=dict)
    breaches: list[tuple[str, datetime]] = field(default_factory=list)
    contracts: set[str] = field(default_factory=set)
    vip: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def history_of(kehu: System) -> History:
    h = History()
    for notification in kehu.store.iter_notifications(0):
        e = kehu.store.mapper.to_domain_event(notification)
        oid, version = str(e.originator_id), e.originator_version
        if isinstance(e, Customer.Registered):
            h.registered[oid] = e.registered_on
            h.segment[oid] = e.segment
            h.status[oid] = "prospect"
            h.lifecycle[oid] = [(day_start(e.registered_on), version, "prospect")]
        elif isinstance(e, Customer.ProfileUpdated) and "segment" in e.changes:
            h.segment[oid] = e.changes["segment"]
        elif isinstance(
            e, Customer.Activated | Customer.MarkedAtRisk | Customer.Churned | Customer.WonBack
        ):
            status = {
                Customer.Activated: "active",
                Customer.MarkedAtRisk: "at_risk",
                Customer.Churned: "churned",
                Customer.WonBack: "won_back",
            }[type(e)]
            moment = day_start(e.occurred_on) if isinstance(e, Customer.Activated) else e.timestamp
            h.status[oid] = status
            h.lifecycle[oid].append((moment, version, status))
        elif isinstance(e, Customer.PurchaseRecorded):
            h.purchases.setdefault(oid, []).append(
                (e.occurred_on, e.amount.amount, e.amount.currency)
            )
        elif isinstance(e, Customer.VipApplied):
            h.vip[(oid, e.application_id)] = {"notify_by": e.notify_by, "notified": False}
        elif isinstance(e, Customer.VipDecisionNotified):
            h.vip[(oid, e.application_id)]["notified"] = True
        elif isinstance(e, Complaint.Lodged):
            h.complaints[oid] = {
                "customer": str(e.customer_id),
                "received_at": e.received_at,
                "severity": e.severity,
                "tier": e.vip_tier,
                "facts": [],
                "paused": False,
            }
        elif isinstance(e, Complaint.Classified):
            h.complaints[oid]["severity"] = e.severity
        elif isinstance(e, Complaint.Acknowledged):
            h.complaints[oid]["facts"].append(ClockEvent("responded", e.at))
        elif isinstance(e, Complaint.Resolved):
            h.complaints[oid]["facts"].append(ClockEvent("resolved", e.at))
        elif isinstance(e, Complaint.Reopened):
            h.complaints[oid]["facts"].append(ClockEvent("reopened", e.at))
        elif isinstance(e, Complaint.Paused):
            h.complaints[oid]["facts"].append(ClockEvent("paused", e.at))
        elif isinstance(e, Complaint.Resumed):
            h.complaints[oid]["facts"].append(ClockEvent("resumed", e.at))
        elif isinstance(e, Survey.Requested):
            h.surveys[oid] = {
                "segment": e.segment,
                "channel": e.channel,
                "handler": e.handler_id,
                "requested_at": e.requested_at,
                "answered_at": None,
            }
        elif isinstance(e, Survey.Answered):
            h.surveys[oid].update(
                answered_at=e.answered_at,
                csat=e.csat,
                nps=e.nps,
                ces=e.ces,
                scores=dict(e.scores),
                handler=e.handler_id,
                segment=e.segment,
                channel=e.channel,
            )
        elif isinstance(e, Campaign.Planned | Campaign.Revised):
            h.campaign_segments[oid] = list(e.segment_criteria.get("segments") or [])
        elif isinstance(e, Campaign.ParticipationRecorded):
            h.participations.append({"campaign": oid, "customer": str(e.customer_id), "at": e.at})
        elif isinstance(e, Campaign.ConversionRecorded):
            h.conversions.append(
                {"campaign": oid, "customer": str(e.customer_id), "new": e.new_customer, "at": e.at}
            )
        elif isinstance(e, Campaign.CostRecorded):
            h.costs.append({"campaign": oid, "amount": e.amount, "at": e.at})
        elif isinstance(e, CreditProfile.Opened):
            h.credit[oid] = {
                "customer": str(e.customer_id),
                "currency": e.currency,
                "limit": Decimal(0),
                "overdue_invoices": set(),
                "ledger": [],
            }
        elif isinstance(e, CreditProfile.LimitSet):
            profile = h.credit[oid]
            profile["ledger"].append((e.at, "limit", e.limit.amount - profile["limit"]))
            profile["limit"] = e.limit.amount
        elif isinstance(e, CreditProfile.OrderApproved | CreditProfile.BlockedOrderReleased):
            h.credit[oid]["ledger"].append((e.at, "reserved", e.credit_amount.amount))
        elif isinstance(e, CreditProfile.ReservationReleased):
            h.credit[oid]["ledger"].append((e.at, "reserved", -e.amount.amount))
        elif isinstance(e, CreditProfile.Invoiced):
            h.credit[oid]["ledger"] += [
                (e.at, "reserved", -e.amount.amount),
                (e.at, "used", e.amount.amount),
            ]
        elif isinstance(e, CreditProfile.InvoiceOverdue):
            h.credit[oid]["overdue_invoices"].add(e.invoice_id)
            h.credit[oid]["ledger"] += [
                (e.at, "used", -e.amount.amount),
                (e.at, "overdue", e.amount.amount),
            ]
        elif isinstance(e, CreditProfile.PaymentReceived):
            bucket = "overdue" if e.invoice_id in h.credit[oid]["overdue_invoices"] else "used"
            h.credit[oid]["ledger"].append((e.at, bucket, -e.amount.amount))
        elif isinstance(e, Contract.Drafted):
            h.contracts.add(oid)
        elif isinstance(e, Contract.BreachRecorded):
            h.breaches.append((oid, e.at))
    return h


def status_at(changes: list[tuple[datetime, int, str]], moment: datetime) -> str | None:
    before = sorted(c for c in changes if c[0] < moment)
    return before[-1][2] if before else None


def survey_figures(answered: list[dict[str, Any]], offered: list[dict[str, Any]]) -> dict[str, Any]:
    csat = [s["csat"] for s in answered]
    nps = [s["nps"] for s in answered if s["nps"] is not None]
    ces = [s["ces"] for s in answered if s["ces"] is not None]
    promoters = sum(1 for n in nps if n >= 9)
    detractors = sum(1 for n in nps if n <= 6)
    return {
        "satisfaction_rate": share(sum(1 for c in csat if c >= 4), len(csat)),
        "csat": average(csat),
        "nps": q(Decimal(promoters - detractors) * 100 / len(nps), "0.1") if nps else None,
        "ces": average(ces),
        "survey_response_rate": share(
            sum(1 for s in offered if s["answered_at"] is not None), len(offered)
        ),
    }


def by_hand(
    kehu: System, h: History, start: date, end: date, segment: str | None = None
) -> dict[str, Any]:
    """Every dashboard figure for ``[start, end]``, computed from the history alone."""
    begins, ends = day_start(start), day_start(end + timedelta(days=1))
    members = {c for c, s in h.segment.items() if segment is None or s == segment}

    def within(moment: datetime) -> bool:
        return begins <= moment < ends

    answered = [
        s
        for s in h.surveys.values()
        if s["answered_at"] is not None
        and within(s["answered_at"])
        and (segment is None or s["segment"] == segment)
    ]
    offered = [
        s
        for s in h.surveys.values()
        if within(s["requested_at"]) and (segment is None or s["segment"] == segment)
    ]
    figures = survey_figures(answered, offered)

    figures["new_customers"] = sum(1 for c in members if start <= h.registered[c] <= end)
    base = [c for c in members if status_at(h.lifecycle[c], begins) in ACTIVE]
    figures["retention_rate"] = share(
        sum(1 for c in base if status_at(h.lifecycle[c], ends) in ACTIVE), len(base)
    )
    figures["churn_rate"] = share(
        sum(1 for c in base if status_at(h.lifecycle[c], ends) == "churned"), len(base)
    )
    values = [
        sum((amount for on, amount, currency in h.purchases.get(c, []) if currency == "CNY"
             and on <= end), Decimal(0))
        for c in members
        if any(currency == "CNY" and on <= end for on, _, currency in h.purchases.get(c, []))
    ]  # fmt: skip
    figures["lifetime_value_observed"] = average(values)

    received = [
        c for c in h.complaints.values() if within(c["received_at"]) and c["customer"] in members
    ]
    clocks = [
        evaluate(
            kehu.calendar,
            kehu.sla_policy,
            c["received_at"],
            c["severity"],
            c["facts"],
            NOW,
            tier=c["tier"],
        )
        for c in received
    ]
    resolved = [s for s in clocks if s.resolved_at is not None]
    active = sum(1 for c in members if h.status[c] in ACTIVE)
    figures["complaint_rate"] = (
        q(Decimal(len(received)) * 1000 / active, "0.01") if active else None
    )
    figures["complaint_handling_hours"] = (
        q(Decimal(statistics.median([s.resolution_hours for s in resolved])), "0.01")
        if resolved
        else None
    )
    figures["complaint_on_time_rate"] = share(
        sum(1 for s in resolved if not s.breached), len(resolved)
    )

    def targeted(campaign: str) -> bool:
        return segment is None or segment in h.campaign_segments[campaign]

    spent = sum(
        (c["amount"].amount for c in h.costs if within(c["at"]) and targeted(c["campaign"])),
        Decimal(0),
    )
    acquired = {
        c["customer"]
        for c in h.conversions
        if c["new"] and within(c["at"]) and targeted(c["campaign"])
    }
    figures["customer_acquisition_cost"] = q(spent / len(acquired), "0.01") if acquired else None
    joined = [p for p in h.participations if within(p["at"]) and p["customer"] in members]
    converted = {(c["campaign"], c["customer"]) for c in h.conversions}
    figures["campaign_conversion_rate"] = share(
        sum(1 for p in joined if (p["campaign"], p["customer"]) in converted), len(joined)
    )

    sums = dict.fromkeys(("limit", "reserved", "used", "overdue"), Decimal(0))
    for profile in h.credit.values():
        if profile["currency"] != "CNY" or profile["customer"] not in members:
            continue
        for moment, bucket, delta in profile["ledger"]:
            if moment < ends:
                sums[bucket] += delta
    exposure = sums["reserved"] + sums["used"] + sums["overdue"]
    figures["credit_utilisation"] = (
        q(exposure / sums["limit"], "0.0001") if sums["limit"] > 0 else None
    )
    figures["overdue_exposure"] = q(sums["overdue"], "0.01")

    expiring = due = 0
    owed = Decimal(0)
    contracts = [kehu.store.load(UUID(c), Contract) for c in sorted(h.contracts)]
    for contract in contracts:
        parties = {
            str(p.get("customer_id")) for p in contract.parties.values() if p.get("customer_id")
        }
        if segment is not None and not parties & members:
            continue
        terms = contract.current_terms
        if contract.status in ("signed", "in_force") and terms.end_date <= end + timedelta(30):
            expiring += 1
        if contract.status in ("signed", "in_force", "terminated", "dissolved"):
            for item in terms.payment_schedule:
                left = contract.outstanding(item.number).amount
                if start <= item.due_date <= end and left > 0:
                    due += 1
                    owed += left if terms.amount.currency == "CNY" else Decimal(0)
    figures["contracts_expiring"] = expiring
    figures["payments_due"] = due
    figures["payments_due_amount"] = q(owed, "0.01")
    in_segment = {str(c.id) for c in contracts} if segment is None else set()
    for contract in contracts:
        parties = {
            str(p.get("customer_id")) for p in contract.parties.values() if p.get("customer_id")
        }
        if parties & members:
            in_segment.add(str(contract.id))
    figures["contract_breaches"] = sum(
        1 for c, moment in h.breaches if within(moment) and c in in_segment
    )

    pending = [a for (customer, _), a in h.vip.items() if not a["notified"] and customer in members]
    figures["vip_applications_pending"] = len(pending)
    figures["vip_applications_overdue"] = sum(1 for a in pending if a["notify_by"] < NOW)
    return figures


def shown(report: DashboardReport) -> dict[str, Any]:
    return {k.name: k.value for k in report.kpis}


# -- the tests ------------------------------------------------------------------------------


def test_every_dashboard_figure_matches_the_events_recomputed_by_hand(demo: System) -> None:
    h = history_of(demo)
    wall_today = datetime.now(SH).date()  # at risk, churned and won back count when recorded
    for start, end, segment in (
        (date(2025, 1, 1), date(2025, 6, 30), None),
        (date(2025, 7, 1), wall_today, None),
        (date(2024, 1, 1), wall_today, "大客户"),
        (date(2025, 3, 1), date(2025, 9, 30), "中小企业"),
    ):
        report = demo.dashboard_queries.dashboard(start, end, as_of=NOW, segment=segment)
        expected = by_hand(demo, h, start, end, segment)
        assert shown(report) == expected, (start, end, segment)

    rich = shown(demo.dashboard_queries.dashboard(date(2024, 1, 1), wall_today, as_of=NOW))
    # The demo exercises every figure (a None would hide a wrong definition).
    assert all(
        rich[name] is not None
        for name in ("satisfaction_rate", "csat", "nps", "ces", "survey_response_rate")
    )
    assert rich["customer_acquisition_cost"] is not None
    assert rich["credit_utilisation"] is not None
    assert rich["complaint_handling_hours"] is not None
    assert rich["retention_rate"] is not None
    since_july = shown(demo.dashboard_queries.dashboard(date(2025, 7, 1), wall_today, as_of=NOW))
    assert since_july["churn_rate"] > 0
    assert (rich["vip_applications_pending"], rich["vip_applications_overdue"]) == (2, 1)


def test_survey_groups_match_the_events_recomputed_by_hand(demo: System) -> None:
    h = history_of(demo)
    start, end = date(2025, 1, 1), date(2025, 11, 30)
    begins, ends = day_start(start), day_start(end + timedelta(days=1))
    answered = [
        s
        for s in h.surveys.values()
        if s["answered_at"] is not None and begins <= s["answered_at"] < ends
    ]
    offered = [s for s in h.surveys.values() if begins <= s["requested_at"] < ends]

    def month(moment: datetime) -> str:
        return moment.astimezone(SH).strftime("%Y-%m")

    keys: dict[GroupBy, Callable[[dict[str, Any], bool], str]] = {
        GroupBy.PERIOD: lambda s, answer: month(s["answered_at"] if answer else s["requested_at"]),
        GroupBy.HANDLER: lambda s, answer: s["handler"] or "",
        GroupBy.SEGMENT: lambda s, answer: s["segment"] or "",
        GroupBy.CHANNEL: lambda s, answer: s["channel"],
    }
    for group_by, key in keys.items():
        report = demo.dashboard_queries.dashboard(start, end, as_of=NOW, group_by=group_by)
        groups = {g.key: {k.name: k.value for k in g.kpis} for g in report.groups}
        names = {key(s, True) for s in answered} | {key(s, False) for s in offered}
        if group_by is GroupBy.PERIOD:
            names = {f"2025-{m:02d}" for m in range(1, 12)}
        assert set(groups) == names, group_by
        for name in names:
            expected = survey_figures(
                [s for s in answered if key(s, True) == name],
                [s for s in offered if key(s, False) == name],
            )
            assert groups[name] == expected, (group_by, name)

    report = demo.dashboard_queries.dashboard(start, end, as_of=NOW, group_by=GroupBy.DIMENSION)
    for group in report.groups:
        scores = [s["scores"][group.key] for s in answered if group.key in s["scores"]]
        assert {k.name: k.value for k in group.kpis} == {
            "satisfaction_rate": share(sum(1 for v in scores if v >= 4), len(scores)),
            "csat": average(scores),
        }
    assert [g.label for g in report.groups] == ["产品", "服务", "售后"]


def test_complaint_figures_are_the_sla_statistics(demo: System) -> None:
    begins, ends = at(2025, 1, 1), at(2025, 7, 1)
    report = demo.dashboard_queries.dashboard(date(2025, 1, 1), date(2025, 6, 30), as_of=NOW)
    sla = demo.complaint_queries.sla_report(begins, ends, "none", NOW)
    figures = shown(report)
    assert figures["complaint_rate"] == sla.complaint_rate_per_1000
    assert figures["complaint_handling_hours"] == sla.total.median_hours
    assert report.kpi("complaint_on_time_rate").basis == sla.total.resolved  # type: ignore[union-attr]


def lodge_and_resolve(kehu: System, handler: tuple[str, str]) -> tuple[UUID, UUID]:
    customer = kehu.customers.register(
        ctx(CLERK),
        kind="individual",
        name="钱多多",
        phone="13900001111",
        segment="个人客户",
        registered_on=date(2025, 3, 1),
    ).id
    complaint = kehu.complaints.lodge(
        ctx(COMPLAINTS),
        customer_id=customer,
        channel="wechat",
        category="delivery",
        severity="medium",
        description="配送延误",
        received_at=at(2025, 9, 1, 10),
    ).id
    kehu.complaints.assign(
        ctx(COMPLAINTS), complaint, handler_id=handler[0], handler_name=handler[1]
    )
    kehu.complaints.acknowledge(ctx(COMPLAINTS), complaint, at=at(2025, 9, 1, 11))
    kehu.complaints.resolve(ctx(COMPLAINTS), complaint, summary="已补发", at=at(2025, 9, 2, 10))
    return customer, complaint


def run_policy(kehu: System, name: str) -> int:
    policy = next(p for p in kehu.scheduler.policies if p.name == name)
    return policy.run_once()


def test_a_rating_stays_with_the_handler_recorded_when_the_case_is_reassigned(
    kehu: System, clock: Clock
) -> None:
    clock.now = at(2025, 9, 2, 12)
    _, complaint = lodge_and_resolve(kehu, ("h-zhang", "张伟"))
    kehu.catch_up()
    (case,) = kehu.survey_queries.cases_without_survey(at(2025, 9, 1))
    assert case["source_id"] == complaint
    assert case["handler_id"] == "h-zhang"
    assert case["channel"] == "wechat"
    assert case["segment"] == "个人客户"

    assert run_policy(kehu, "survey-on-resolution") == 1  # resolving requests a survey
    kehu.catch_up()
    assert kehu.survey_queries.cases_without_survey(at(2025, 9, 1)) == []
    survey = kehu.surveys.survey_id_for("complaint", complaint)
    kehu.surveys.answer(
        ctx(SATISFACTION), survey, csat=2, scores={"service": 2}, nps=3, at=at(2025, 9, 3, 9)
    )
    kehu.catch_up()

    def september_by_handler() -> dict[str, dict[str, Any]]:
        report = kehu.dashboard_queries.dashboard(
            date(2025, 9, 1), date(2025, 9, 30), as_of=clock.now, group_by=GroupBy.HANDLER
        )
        return {g.key: {k.name: k.value for k in g.kpis} for g in report.groups}

    before = september_by_handler()
    assert before["h-zhang"]["csat"] == Decimal("2.00")
    assert set(before) == {"h-zhang"}

    # In October the case moves to another handler, is reopened and resolved again.
    clock.now = at(2025, 10, 8, 12)
    kehu.complaints.assign(ctx(COMPLAINTS), complaint, handler_id="h-li", handler_name="李娜")
    kehu.complaints.communicate_result(
        ctx(COMPLAINTS),
        complaint,
        explanation="已补发",
        reasons="物流延误",
        channel="phone",
        at=at(2025, 10, 7, 9),
    )
    kehu.complaints.reopen(ctx(COMPLAINTS), complaint, reason="仍未收到", at=at(2025, 10, 8, 9))
    kehu.complaints.resolve(ctx(COMPLAINTS), complaint, summary="已退款", at=at(2025, 10, 8, 11))
    kehu.catch_up()
    assert run_policy(kehu, "survey-on-resolution") == 0  # one survey per case
    kehu.catch_up()

    assert september_by_handler() == before
    row = kehu.survey_queries.get(survey)
    assert row is not None
    assert row.handler_id == "h-zhang"
    assert kehu.complaint_queries.get(str(complaint), clock.now).handler_id == "h-li"  # type: ignore[union-attr]


def test_answering_a_survey_moves_the_dashboard(kehu: System, clock: Clock) -> None:
    clock.now = at(2025, 9, 2, 12)
    customer, complaint = lodge_and_resolve(kehu, ("h-zhang", "张伟"))
    periodic = kehu.surveys.request(
        ctx(SATISFACTION), customer_id=customer, channel="sms", at=at(2025, 9, 2, 9)
    ).id
    kehu.catch_up()
    run_policy(kehu, "survey-on-resolution")
    kehu.surveys.answer(
        ctx(SATISFACTION),
        periodic,
        csat=5,
        nps=10,
        ces=6,
        scores={"product": 5},
        at=at(2025, 9, 2, 11),
    )
    kehu.catch_up()
    window = (date(2025, 9, 1), date(2025, 9, 30))

    def figures() -> dict[str, Any]:
        return shown(kehu.dashboard_queries.dashboard(*window, as_of=clock.now))

    before = figures()
    assert before["csat"] == Decimal("5.00")
    assert before["satisfaction_rate"] == Decimal("1.0000")
    assert before["survey_response_rate"] == Decimal("0.5000")
    assert before["nps"] == Decimal("100.0")

    kehu.surveys.answer(
        ctx(SATISFACTION),
        kehu.surveys.survey_id_for("complaint", complaint),
        csat=1,
        nps=0,
        scores={"service": 1},
        at=at(2025, 9, 3, 9),
    )
    kehu.catch_up()
    after = figures()
    assert after["csat"] == Decimal("3.00")
    assert after["satisfaction_rate"] == Decimal("0.5000")
    assert after["survey_response_rate"] == Decimal("1.0000")
    assert after["nps"] == Decimal("0.0")
    assert after["ces"] == Decimal("6.00")
    report = kehu.dashboard_queries.dashboard(*window, as_of=clock.now)
    assert report.kpi("csat").status is KpiStatus.MISSED  # type: ignore[union-attr]
    assert report.kpi("ces").status is KpiStatus.NO_TARGET  # type: ignore[union-attr]
    assert report.kpi("customer_acquisition_cost").status is KpiStatus.NO_DATA  # type: ignore[union-attr]


def test_unanswered_surveys_past_their_day_are_the_expiry_candidates(
    kehu: System, clock: Clock
) -> None:
    clock.now = at(2025, 9, 2, 12)
    customer, _ = lodge_and_resolve(kehu, ("h-zhang", "张伟"))
    survey = kehu.surveys.request(
        ctx(SATISFACTION),
        customer_id=customer,
        channel="email",
        respond_by=date(2025, 9, 10),
        at=at(2025, 9, 2, 9),
    ).id
    kehu.catch_up()
    assert kehu.survey_queries.unanswered_past_due(date(2025, 9, 10)) == []
    assert kehu.survey_queries.unanswered_past_due(date(2025, 9, 11)) == [survey]
    clock.now = at(2025, 9, 11, 8)
    assert run_policy(kehu, "survey-expiry") == 1
    kehu.catch_up()
    assert kehu.survey_queries.unanswered_past_due(date(2025, 9, 11)) == []
    row = kehu.survey_queries.get(survey)
    assert row is not None
    assert row.status == "expired"
    assert row.expired_on == date(2025, 9, 11)


def test_a_campaign_keeps_its_figures_and_its_evaluation(demo: System) -> None:
    rows, total = demo.campaign_queries.page(CampaignFilter(name_contains="春季新品"))
    assert total == 1
    spring = rows[0]
    assert (spring.status, spring.participants, spring.conversions, spring.acquired) == (
        "evaluated",
        6,
        3,
        2,
    )
    assert spring.cost == Decimal("20000.50")
    assert spring.revenue == Decimal("12345.67") + Decimal("24690.67") + Decimal("37035.67")
    assert spring.evaluation is not None
    assert spring.evaluation.conversion_rate == Decimal("0.5000")
    assert spring.evaluation.cost_per_acquisition == {"amount": "10000.25", "currency": "CNY"}


# -- configuration --------------------------------------------------------------------------


def test_targets_come_from_configuration_over_the_defaults() -> None:
    targets = targets_from_dict(
        {"satisfaction_rate": {"at_least": "0.95"}, "ces": {"at_least": 5}, "nps": None}
    )
    assert targets["satisfaction_rate"] == Target(Decimal("0.95"), Direction.AT_LEAST)
    assert targets["ces"] == Target(Decimal("5"), Direction.AT_LEAST)
    assert "nps" not in targets
    assert targets["complaint_handling_hours"] == DEFAULT_TARGETS["complaint_handling_hours"]
    for wrong in (
        {"happiness": {"at_least": 1}},
        {"csat": {"above": 4}},
        {"csat": {"at_least": "four"}},
        {"csat": {"at_least": 4, "at_most": 5}},
        ["csat"],
    ):
        with pytest.raises(ValueError):  # noqa: PT011 - each message names the problem
            targets_from_dict(wrong)


def test_a_dashboard_range_ends_after_it_starts(kehu: System) -> None:
    with pytest.raises(ValueError, match="before it starts"):
        kehu.dashboard_queries.dashboard(date(2025, 2, 1), date(2025, 1, 1), as_of=NOW)


def test_no_data_is_not_a_missed_target(kehu: System) -> None:
    report = kehu.dashboard_queries.dashboard(date(2025, 1, 1), date(2025, 1, 31), as_of=NOW)
    assert report.kpi("satisfaction_rate").status is KpiStatus.NO_DATA  # type: ignore[union-attr]
    assert report.kpi("new_customers").value == 0  # type: ignore[union-attr]
    assert report.kpi("lifetime_value_predicted") is None  # no model wired
