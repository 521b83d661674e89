"""The contract read models on both stores: terms as of a day before and after an
amendment, amendments with clause diffs, the payment schedule rebuilt by an amendment,
payments due and overdue, the pipeline in exact decimals, the list filters, breaches with
their penalties, the scheduler's candidates, and a rebuild that gives the same rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from application.context import CommandContext, Principal, Role
from domain.contract import Contract, Instalment, Intermediary, Party
from domain.values import Money
from interfaces.bootstrap import System
from projections.contracts import (
    BreachFilter,
    ContractFilter,
    ContractProjection,
    ContractQueries,
)
from tests.unit.test_contract_terms import make_terms

SH = ZoneInfo("Asia/Shanghai")
OPERATOR = Principal(id="test:contracts", role=Role.ADMIN)
CUSTOMER_ID = UUID("00000000-0000-4000-8000-0000000000c1")
OTHER_CUSTOMER_ID = UUID("00000000-0000-4000-8000-0000000000c2")
TABLES = (
    "contract_view",
    "contract_terms",
    "contract_amendment",
    "contract_instalment",
    "contract_payment",
    "contract_breach",
)


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SH)


def cny(amount: str) -> Money:
    return Money.parse(amount)


class Views:
    """The contract view of a system, whether or not bootstrap already includes it."""

    def __init__(self, system: System) -> None:
        self.system = system
        found = [p for p in system.projections if isinstance(p, ContractProjection)]
        if found:
            self.projection = found[0]
        else:
            self.projection = ContractProjection(system.views)
            system.views.create_tables(self.projection.ddl())
        self.queries = ContractQueries(system.views)

    def save(self, *contracts: Contract) -> None:
        ctx = CommandContext.for_principal(OPERATOR)
        self.system.store.record_many(ctx, "contracts.test", list(contracts))
        self.system.projection_worker().catch_up(self.projection)

    def dump(self) -> dict[str, list[tuple[tuple[str, str], ...]]]:
        dumped: dict[str, list[tuple[tuple[str, str], ...]]] = {}
        with self.system.views.transaction(commit=False) as cursor:
            for table in TABLES:
                rows = cursor.execute(f"SELECT * FROM {self.system.views.table(table)}").fetchall()
                dumped[table] = sorted(
                    tuple(sorted((k, str(v)) for k, v in dict(row).items())) for row in rows
                )
        return dumped


@pytest.fixture
def views(system: System) -> Views:
    return Views(system)


def signed(contract: Contract, *, day: int = 10) -> Contract:
    contract.submit_for_review(at(2024, 12, 2))
    contract.approve("legal-01", at(2024, 12, 3), "条款合法")
    contract.sign("a", contract.signatories["a"][0], at(2024, 12, day), "wet_ink")
    contract.sign("b", contract.signatories["b"][0], at(2024, 12, day + 1), "seal")
    if contract.intermediary is not None:
        contract.sign("intermediary", "王五", at(2024, 12, day + 2), "e_signature")
    return contract


def service_contract() -> Contract:
    """HT-2025-001: 120,000 CNY from 2025-01-01, paid 36,000 on instalment 1."""
    c = Contract.draft(
        number="ht-2025-001",
        title="客户关系管理服务合同",
        party_a=Party.customer(CUSTOMER_ID, "张三", ["张三"]),
        party_b=Party.organisation("上海乙方科技有限公司", ["李四"]),
        terms=make_terms(),
        leading_party="a",
        drafted_at=at(2024, 12, 1),
    )
    signed(c)
    c.activate(at(2025, 1, 1, 0))
    c.record_payment(1, cny("36000.00"), date(2025, 1, 10), reference="银行回单 0001")
    # Amendment 1: a higher penalty rate from April.
    c.propose_amendment(
        1, {"penalty_rate": Decimal("0.08")}, date(2025, 4, 1), "提高违约金", at(2025, 3, 1)
    )
    c.sign_amendment(1, "a", "张三", at(2025, 3, 2), "seal")
    c.sign_amendment(1, "b", "李四", at(2025, 3, 3), "e_signature")
    # Breaches before and after amendment 1 takes effect: 5 % then 8 %, half-up to 分.
    c.record_breach("b", "迟延交付", cny("333.33"), at(2025, 3, 10))
    c.reject_delivery(["报表模块缺失"], at(2025, 4, 1))
    c.record_breach("b", "交付不合格", cny("12345.67"), at(2025, 5, 10))
    c.accept_delivery(at(2025, 4, 20), "整改后验收")
    return c


def propose_more_scope(c: Contract) -> None:
    """Amendment 2: 150,000 in three instalments from July, signed by 甲方 only."""
    schedule = (
        Instalment(1, date(2025, 1, 15), cny("36000.00")),
        Instalment(2, date(2025, 6, 30), cny("84000.00")),
        Instalment(3, date(2025, 10, 31), cny("30000.00")),
    )
    c.propose_amendment(
        2,
        {"amount": cny("150000.00"), "payment_schedule": schedule},
        date(2025, 7, 1),
        "增加数据分析服务",
        at(2025, 6, 20),
    )
    c.sign_amendment(2, "a", "张三", at(2025, 6, 21), "seal")


def brokered_contract() -> Contract:
    """HT-2025-002: between two organisations through an intermediary, ending 2025-07-20;
    its one instalment (due 2025-06-15) paid with a payment dated 2025-07-05."""
    c = Contract.draft(
        number="HT-2025-002",
        title="渠道推广服务合同",
        party_a=Party.organisation("杭州甲方贸易有限公司", ["赵六"]),
        party_b=Party.organisation("上海乙方科技有限公司", ["李四"]),
        intermediary=Intermediary(
            "链家中介服务有限公司", cny("1000.00"), cny("5000.00"), ("王五",)
        ),
        terms=make_terms(
            end_date=date(2025, 7, 20),
            amount=cny("50000.00"),
            payment_schedule=(Instalment(1, date(2025, 6, 15), cny("50000.00")),),
        ),
        leading_party="b",
        drafted_at=at(2024, 12, 1),
    )
    signed(c, day=12)
    c.activate(at(2025, 1, 1, 0))
    c.record_breach("intermediary", "未披露重要信息", cny("50000.00"), at(2025, 2, 1))
    c.propose_amendment(
        1, {"penalty_rate": Decimal("0.06")}, date(2025, 5, 1), "调整违约金", at(2025, 4, 1)
    )
    c.withdraw_amendment(1, "双方未能达成一致", at(2025, 4, 2))
    c.record_payment(1, cny("50000.00"), date(2025, 7, 5))
    return c


def usd_draft() -> Contract:
    """HT-2025-003: a draft in US dollars."""
    return Contract.draft(
        number="HT-2025-003",
        title="海外数据服务合同",
        party_a=Party.customer(OTHER_CUSTOMER_ID, "李娜", ["李娜"]),
        party_b=Party.organisation("深圳海外数据有限公司", ["陈七"]),
        terms=make_terms(
            amount=Money.parse("8000.00", "USD"),
            payment_schedule=(Instalment(1, date(2025, 9, 1), Money.parse("8000.00", "USD")),),
        ),
        leading_party="a",
        drafted_at=at(2024, 12, 1),
    )


def ended_contract() -> Contract:
    """HT-2024-009: terminated on 2025-05-01 with 84,000 unpaid, then settled; its data
    hand-over was due on 2025-05-31."""
    c = Contract.draft(
        number="HT-2024-009",
        title="旧版系统维护合同",
        party_a=Party.customer(OTHER_CUSTOMER_ID, "李娜", ["李娜"]),
        party_b=Party.organisation("上海乙方科技有限公司", ["李四"]),
        terms=make_terms(
            start_date=date(2024, 1, 1),
            payment_schedule=(
                Instalment(1, date(2024, 1, 15), cny("36000.00")),
                Instalment(2, date(2024, 6, 30), cny("84000.00")),
            ),
        ),
        leading_party="a",
        drafted_at=at(2023, 12, 1),
    )
    c.submit_for_review(at(2023, 12, 2))
    c.approve("legal-01", at(2023, 12, 3))
    c.sign("a", "李娜", at(2023, 12, 10), "seal")
    c.sign("b", "李四", at(2023, 12, 11), "seal")
    c.activate(at(2024, 1, 1, 0))
    c.record_payment(1, cny("36000.00"), date(2024, 1, 15))
    c.terminate("mutual", at(2025, 5, 1), "业务调整")
    c.settle(at(2025, 5, 10))
    return c


def future_contract() -> Contract:
    """HT-2025-005: signed in December, starting 2025-08-01: nothing due in July."""
    c = Contract.draft(
        number="HT-2025-005",
        title="年度运维合同",
        party_a=Party.organisation("杭州甲方贸易有限公司", ["赵六"]),
        party_b=Party.organisation("北京丙方信息技术有限公司", ["孙八"]),
        terms=make_terms(
            start_date=date(2025, 8, 1),
            end_date=date(2026, 7, 31),
            amount=cny("60000.00"),
            payment_schedule=(Instalment(1, date(2025, 8, 15), cny("60000.00")),),
        ),
        leading_party="a",
        drafted_at=at(2024, 12, 1),
    )
    return signed(c)


# -- terms, amendments and the schedule ----------------------------------------------------


def test_terms_as_of_a_day_are_those_signed_by_everyone_and_in_force_that_day(
    views: Views,
) -> None:
    c = service_contract()
    propose_more_scope(c)
    views.save(c)
    q = views.queries
    cid = c.id

    assert q.terms_as_of(cid, date(2024, 12, 31)) is None  # before the start
    first = q.terms_as_of(cid, date(2025, 3, 31))
    assert first is not None
    assert (first.version, first.effective_date, first.amendment) == (1, date(2025, 1, 1), None)
    assert first.as_terms().penalty_rate == Decimal("0.05")
    second = q.terms_as_of(cid, date(2025, 4, 1))
    assert second is not None
    assert (second.version, second.amendment) == (2, 1)
    assert second.as_terms().penalty_rate == Decimal("0.08")
    # Amendment 2 is signed by 甲方 only: it never counts.
    pending = q.terms_as_of(cid, date(2025, 7, 15))
    assert pending is not None
    assert pending.version == 2
    assert pending.as_terms().amount == cny("120000.00")
    row = q.get(cid)
    assert row is not None
    assert (row.terms_version, row.amount, row.pending_amendment) == (2, Decimal("120000.00"), 2)

    c.sign_amendment(2, "b", "李四", at(2025, 6, 22), "seal")
    views.save(c)

    before = q.terms_as_of(cid, date(2025, 6, 30))
    after = q.terms_as_of(cid, date(2025, 7, 1))
    assert before is not None
    assert after is not None
    assert (before.version, before.as_terms().amount) == (2, cny("120000.00"))
    assert (after.version, after.as_terms().amount) == (3, cny("150000.00"))
    assert after.as_terms() == c.terms_as_of(date(2025, 7, 1))
    assert [v.version for v in q.terms_versions(cid)] == [1, 2, 3]
    row = q.get(str(cid))
    assert row is not None
    assert row.number == "HT-2025-001"
    assert (row.status, row.terms_version, row.pending_amendment) == ("in_force", 3, None)
    assert (row.currency, row.amount, row.end_date) == (
        "CNY",
        Decimal("150000.00"),
        date(2025, 12, 31),
    )
    assert row.status_on(date(2024, 12, 10)) == "signing"
    assert row.status_on(date(2025, 1, 1)) == "in_force"
    assert row.party_a.customer_id == str(CUSTOMER_ID)
    assert row.party_a.customer_name == "张三"  # personal data: the interfaces mask it
    assert row.party_a.name is None
    assert row.party_b.name == "上海乙方科技有限公司"
    assert row.party_b.signature_method == "seal"
    assert row.delivery.status == "accepted"
    assert row.delivery.rectification_due_on == date(2025, 4, 16)
    assert row.delivery.after_rectification_deadline is True

    amendments = q.amendments(cid)
    assert [(a.number, a.status, a.version) for a in amendments] == [
        (1, "in_force", 2),
        (2, "in_force", 3),
    ]
    assert amendments[0].diff == [{"clause": "penalty_rate", "before": "0.05", "after": "0.08"}]
    assert [d["clause"] for d in amendments[1].diff] == ["amount", "payment_schedule"]
    assert amendments[1].diff[0]["after"] == {"amount": "150000.00", "currency": "CNY"}
    assert set(amendments[1].signatures) == {"a", "b"}

    # The schedule is that of the latest terms, with the earlier payment applied again.
    instalments = q.instalments(cid)
    assert [(i.number, i.amount, i.paid, i.outstanding) for i in instalments] == [
        (1, Decimal("36000.00"), Decimal("36000.00"), Decimal("0.00")),
        (2, Decimal("84000.00"), Decimal("0"), Decimal("84000.00")),
        (3, Decimal("30000.00"), Decimal("0"), Decimal("30000.00")),
    ]
    assert [p.reference for p in q.payments(cid)] == ["银行回单 0001"]


def test_a_withdrawn_amendment_makes_no_terms_version(views: Views) -> None:
    c = brokered_contract()
    views.save(c)
    amendments = views.queries.amendments(c.id)
    assert [(a.number, a.status, a.withdrawal_reason) for a in amendments] == [
        (1, "withdrawn", "双方未能达成一致")
    ]
    assert [v.version for v in views.queries.terms_versions(c.id)] == [1]
    row = views.queries.get(c.id)
    assert row is not None
    assert row.pending_amendment is None
    assert row.intermediary is not None
    assert row.intermediary.liability_cap == Decimal("1000.00")
    assert row.intermediary.signature_method == "e_signature"


# -- dashboards --------------------------------------------------------------------------


def test_the_pipeline_sums_current_amounts_per_status_and_currency_exactly(
    views: Views,
) -> None:
    service = service_contract()
    propose_more_scope(service)
    service.sign_amendment(2, "b", "李四", at(2025, 6, 22), "seal")
    views.save(service, brokered_contract(), usd_draft(), ended_contract(), future_contract())

    stages = {s.status: s for s in views.queries.pipeline()}
    assert list(stages) == [
        "draft",
        "in_review",
        "approved",
        "rejected",
        "signing",
        "signed",
        "in_force",
        "terminated",
        "dissolved",
        "settled",
    ]
    assert (stages["in_force"].count, stages["in_force"].totals) == (
        2,
        {"CNY": Decimal("200000.00")},
    )
    assert (stages["draft"].count, stages["draft"].totals) == (1, {"USD": Decimal("8000.00")})
    assert (stages["signed"].count, stages["signed"].totals) == (1, {"CNY": Decimal("60000.00")})
    assert (stages["settled"].count, stages["settled"].totals) == (
        1,
        {"CNY": Decimal("120000.00")},
    )
    assert (stages["terminated"].count, stages["terminated"].totals) == (0, {})

    settled = views.queries.by_number("ht-2024-009")
    assert settled is not None
    assert settled.settlement is not None
    assert settled.settlement.balance == Decimal("84000.00")
    assert (settled.settlement.owed_by, settled.settlement.owed_to) == ("a", "b")
    assert settled.ending is not None
    assert (settled.ending.kind, settled.ending.reason) == ("terminated", "mutual")
    assert settled.hand_over is not None
    assert settled.hand_over.due_on == date(2025, 5, 31)


def test_overdue_and_due_instalments_across_contracts(views: Views) -> None:
    service = service_contract()
    propose_more_scope(service)
    service.sign_amendment(2, "b", "李四", at(2025, 6, 22), "seal")
    views.save(service, brokered_contract(), usd_draft(), ended_contract(), future_contract())
    q = views.queries

    overdue, total = q.overdue_instalments(date(2025, 7, 1))
    assert total == 1
    assert [(o.contract_number, o.instalment, o.due_date, o.outstanding) for o in overdue] == [
        ("HT-2025-001", 2, date(2025, 6, 30), Decimal("84000.00"))
    ]
    due, total = q.payments_due(date(2025, 7, 1), date(2025, 12, 31))
    # Signed contracts collect too; a draft's schedule and a settled contract's do not.
    assert [(d.contract_number, d.instalment, d.due_date) for d in due] == [
        ("HT-2025-005", 1, date(2025, 8, 15)),
        ("HT-2025-001", 3, date(2025, 10, 31)),
    ]
    due, total = q.payments_due(date(2025, 1, 1), date(2025, 12, 31), limit=1)
    assert (len(due), total) == (1, 3)

    service.mark_payment_overdue(2, date(2025, 7, 1))
    views.save(service)
    [second] = [i for i in q.instalments(service.id) if i.number == 2]
    assert second.overdue_recorded_on == date(2025, 7, 1)
    assert second.overdue_on(date(2025, 7, 1))


def test_the_list_filters_combine(views: Views) -> None:
    service = service_contract()
    brokered = brokered_contract()
    views.save(service, brokered, usd_draft(), ended_contract(), future_contract())
    q = views.queries
    today = date(2025, 7, 1)

    def numbers(where: ContractFilter, **kwargs: Any) -> list[str]:
        rows, total = q.page(where, **kwargs)
        assert total == len(rows) or "limit" in kwargs
        return [r.number for r in rows]

    assert numbers(ContractFilter(expiring_within_days=30, today=today)) == ["HT-2025-002"]
    assert numbers(ContractFilter(expiring_within_days=10, today=today)) == []
    assert numbers(ContractFilter(overdue_payments=True, today=today)) == ["HT-2025-001"]
    assert "HT-2025-001" not in numbers(ContractFilter(overdue_payments=False, today=today))
    assert numbers(ContractFilter(customer_id=str(OTHER_CUSTOMER_ID))) == [
        "HT-2024-009",
        "HT-2025-003",
    ]
    assert numbers(ContractFilter(party_name="乙方科技")) == [
        "HT-2024-009",
        "HT-2025-001",
        "HT-2025-002",
    ]
    assert numbers(ContractFilter(party_name="链家")) == ["HT-2025-002"]
    assert numbers(ContractFilter(party_name="张三")) == []  # a person's name is not searched
    assert numbers(ContractFilter(intermediary=True)) == ["HT-2025-002"]
    assert numbers(ContractFilter(statuses=["in_force"], intermediary=False)) == ["HT-2025-001"]
    assert numbers(ContractFilter(), order_by="amount", descending=True, limit=2) == [
        "HT-2024-009",
        "HT-2025-001",
    ]
    with pytest.raises(ValueError, match="today"):
        q.page(ContractFilter(expiring_within_days=30))


def test_breaches_carry_the_penalty_of_the_terms_governing_that_day(views: Views) -> None:
    service = service_contract()
    views.save(service, brokered_contract())
    q = views.queries

    rows, total = q.breaches(BreachFilter(contract_id=str(service.id)))
    assert total == 2
    assert [(b.number, b.base, b.penalty_rate, b.penalty, b.rounding) for b in rows] == [
        (2, Decimal("12345.67"), Decimal("0.08"), Decimal("987.65"), "ROUND_HALF_UP"),
        (1, Decimal("333.33"), Decimal("0.05"), Decimal("16.67"), "ROUND_HALF_UP"),
    ]
    capped, _ = q.breaches(BreachFilter(party="intermediary"))
    assert [(b.contract_number, b.penalty, b.capped) for b in capped] == [
        ("HT-2025-002", Decimal("1000.00"), True)
    ]
    since, total = q.breaches(BreachFilter(since=at(2025, 3, 1), until=at(2025, 4, 1)))
    assert [(b.contract_number, b.number) for b in since] == [("HT-2025-001", 1)]
    row = q.get(service.id)
    assert row is not None
    assert row.penalties == {"b": Decimal("1004.32")}


# -- the scheduler ------------------------------------------------------------------------


def test_the_scheduler_candidates_include_every_contract_with_something_due(
    views: Views,
) -> None:
    service = service_contract()
    propose_more_scope(service)
    service.sign_amendment(2, "b", "李四", at(2025, 6, 22), "seal")
    brokered, draft, ended, future = (
        brokered_contract(),
        usd_draft(),
        ended_contract(),
        future_contract(),
    )
    contracts = [service, brokered, draft, ended, future]
    views.save(*contracts)
    q = views.queries

    days = (date(2025, 6, 1), date(2025, 7, 1), date(2025, 7, 20), date(2025, 7, 21))
    for day in (*days, date(2025, 8, 1), date(2025, 12, 31), date(2026, 1, 1)):
        candidates = set(q.scheduler_candidates(day))
        due = {c.id for c in contracts if c.due_time_events(day)}
        assert due <= candidates, day

    july = set(q.scheduler_candidates(date(2025, 7, 1)))
    # instalment 2 unpaid; paid on 5 July, so unpaid on 1 July; hand-over overdue
    assert july == {service.id, brokered.id, ended.id}
    assert future.id not in july  # starts in August, nothing due
    assert future.id in q.scheduler_candidates(date(2025, 8, 1))  # activation

    service.mark_payment_overdue(2, date(2025, 7, 1))
    brokered.mark_payment_overdue(1, date(2025, 7, 1))
    ended.mark_hand_over_overdue(date(2025, 7, 1))
    views.save(service, brokered, ended)
    assert q.scheduler_candidates(date(2025, 7, 1)) == []
    assert set(q.scheduler_candidates(date(2025, 7, 21))) == {brokered.id}  # expiry


# -- rebuilding --------------------------------------------------------------------------


def test_a_rebuild_from_position_zero_gives_the_same_rows(views: Views) -> None:
    service = service_contract()
    propose_more_scope(service)
    service.sign_amendment(2, "b", "李四", at(2025, 6, 22), "seal")
    service.mark_payment_overdue(2, date(2025, 7, 1))
    brokered = brokered_contract()
    brokered.remove_intermediary("中介服务终止", at(2025, 6, 1))
    brokered.dissolve("mutual", at(2025, 6, 2), note="协商解除")
    brokered.hand_over_data("客户数据包.zip", "ab" * 32, at(2025, 6, 10))
    views.save(service, brokered, usd_draft(), ended_contract(), future_contract())
    before = views.dump()
    assert all(before[table] for table in TABLES)

    views.projection.start_over()
    assert not any(views.dump().values())
    views.system.projection_worker().catch_up(views.projection)
    assert views.dump() == before

    row = views.queries.get(brokered.id)
    assert row is not None
    assert row.intermediary is None
    assert row.intermediary_exit is not None
    assert row.intermediary_exit.removal_reason == "中介服务终止"
    assert row.hand_over is not None
    assert row.hand_over.handed_over_at == at(2025, 6, 10)
    assert row.hand_over.late is False
