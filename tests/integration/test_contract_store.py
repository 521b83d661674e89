"""Contracts on both stores: the whole life of a contract through the application
service — legal review by another role, signatures, the scheduler's calendar facts
(activation, overdue instalments, expiry, a missed hand-over), an amendment that changes
the terms from its date, a penalty in exact Decimal, settlement, and the customer-data
hand-over package whose checksum is recorded and reproducible. Bad input changes
nothing."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application.context import Principal, Role
from application.errors import AlreadyExists, Forbidden, NotFound
from domain.base import DomainError
from interfaces.bootstrap import System
from tests.support import Clock, as_, at

CLERK = Principal(id="user:info", role=Role.INFORMATION)
SALES = Principal(id="user:li", role=Role.RELATIONSHIP, name="李娜")
LEGAL = Principal(id="user:fa", role=Role.LEGAL, name="法务赵")
MARKETING = Principal(id="user:ma", role=Role.MARKETING)


TERMS: dict[str, Any] = {
    "start_date": date(2026, 1, 1),
    "end_date": date(2026, 6, 30),
    "amount": "300000.00",
    "payment_schedule": [
        {"number": 1, "due_date": date(2026, 1, 10), "amount": "90000.00"},
        {"number": 2, "due_date": date(2026, 3, 31), "amount": "120000.00"},
        {"number": 3, "due_date": date(2026, 6, 30), "amount": "90000.00"},
    ],
    "delivery": {"description": "设备交付及安装", "due_date": date(2026, 2, 28)},
    "rectification_days": 15,
    "confidentiality_years": 3,
    "penalty_rate": "0.05",
    "dispute_resolution": {"method": "arbitration", "body": "杭州仲裁委员会"},
    "hand_over_days": 30,
}


@pytest.fixture
def clock() -> Clock:
    return Clock(at(2025, 12, 1, 9, 0))


def customer(kehu: System) -> UUID:
    return kehu.customers.register(
        as_(CLERK),
        kind="enterprise",
        name="杭州云杉贸易有限公司",
        uscc="91330106MA2H3UWK08",
        email="finance@yunshan.example.cn",
    ).id


def draft(kehu: System, customer_id: UUID, number: str = "HT-2026-001") -> UUID:
    return kehu.contracts.draft(
        as_(SALES),
        number=number,
        title="设备年度供货合同",
        party_a={"kind": "customer", "customer_id": customer_id, "signatories": ["张伟"]},
        party_b={"kind": "organisation", "name": "杭州客乎科技有限公司", "signatories": ["刘建国"]},
        terms=TERMS,
        leading_party="b",
        at=at(2025, 12, 1, 9, 0),
    ).id


def signed(kehu: System, customer_id: UUID) -> UUID:
    contract = draft(kehu, customer_id)
    kehu.contracts.submit_for_review(as_(SALES), contract, at=at(2025, 12, 2, 9, 0))
    kehu.contracts.approve(as_(LEGAL), contract, comments="符合范本", at=at(2025, 12, 3, 9, 0))
    kehu.contracts.sign(
        as_(SALES),
        contract,
        party="b",
        signatory="刘建国",
        method="seal",
        signed_at=at(2025, 12, 5, 10, 0),
    )
    kehu.contracts.sign(
        as_(SALES),
        contract,
        party="a",
        signatory="张伟",
        method="e_signature",
        signed_at=at(2025, 12, 6, 15, 0),
    )
    return contract


def test_a_contract_from_draft_to_hand_over_with_the_scheduler_recording_its_calendar(
    kehu: System, clock: Clock
) -> None:
    customer_id = customer(kehu)
    contract = signed(kehu, customer_id)
    state = kehu.contracts.load(SALES, contract)
    assert state.status == "signed"
    [approval] = state.reviews
    assert approval["reviewer_id"] == LEGAL.id

    # The start date arrives: the scheduler records activation once.
    clock.now = at(2026, 1, 1, 8, 0)
    kehu.catch_up()
    assert kehu.scheduler.run_once()["contract-deadlines"] == 1
    kehu.catch_up()
    assert kehu.scheduler.run_once()["contract-deadlines"] == 0
    assert kehu.contracts.load(SALES, contract).status == "in_force"

    # Instalment 1 is paid on time; instalment 2 is not: the scheduler records it overdue.
    kehu.contracts.record_payment(
        as_(SALES), contract, instalment=1, amount="90000.00", paid_on=date(2026, 1, 9)
    )
    kehu.contracts.propose_amendment(
        as_(SALES),
        contract,
        number=1,
        changes={"penalty_rate": "0.08", "rectification_days": 20},
        effective_date=date(2026, 3, 1),
        reason="双方协商提高违约金比例",
        at=at(2026, 2, 20, 10, 0),
    )
    for party, who, when in (("a", "张伟", 21), ("b", "刘建国", 22)):
        kehu.contracts.sign_amendment(
            as_(SALES),
            contract,
            number=1,
            party=party,
            signatory=who,
            method="seal",
            signed_at=at(2026, 2, when, 10, 0),
        )
    amended = kehu.contracts.load(SALES, contract)
    assert amended.terms_as_of(date(2026, 2, 28)).penalty_rate == Decimal("0.05")
    assert amended.terms_as_of(date(2026, 3, 1)).penalty_rate == Decimal("0.08")

    clock.now = at(2026, 4, 1, 8, 0)
    kehu.catch_up()
    assert kehu.scheduler.run_once()["contract-deadlines"] == 1
    overdue = kehu.store.history(contract)[-1]
    assert overdue.type == "Contract.PaymentOverdue"
    assert overdue.payload["instalment"] == 2
    assert overdue.envelope is not None
    assert overdue.envelope.actor_role == "system"

    # A breach after the amendment: 8 % of the base, rounded half up to the fen.
    kehu.contracts.record_breach(
        as_(SALES),
        contract,
        party="a",
        description="第二期款逾期",
        base="120000.05",
        at=at(2026, 4, 2, 10, 0),
    )
    breach = kehu.store.history(contract)[-1].payload
    assert breach["penalty"].amount == Decimal("9600.00")  # 9600.004 → 9600.00
    assert breach["penalty_rate"] == Decimal("0.08")

    # The end date passes: expired the next day, ending on the end date itself.
    kehu.contracts.record_payment(
        as_(SALES), contract, instalment=2, amount="120000.00", paid_on=date(2026, 4, 10)
    )
    clock.now = at(2026, 7, 2, 8, 0)
    kehu.catch_up()
    kehu.scheduler.run_once()
    ended = kehu.contracts.load(SALES, contract)
    assert ended.status == "terminated"
    assert ended.ending is not None
    assert ended.ending["on"] == date(2026, 6, 30)
    assert ended.hand_over_due_on == date(2026, 7, 30)
    assert "3" in ended.overdue_recorded  # instalment 3 was due on the end date, unpaid

    kehu.contracts.settle(as_(SALES), contract, at=at(2026, 7, 3, 10, 0))
    settlement = kehu.contracts.load(SALES, contract).settlement
    assert settlement is not None
    # due 300,000 − paid 210,000 + the payer's penalty 9,600 = 99,600 owed by 甲方.
    assert settlement["balance"].amount == Decimal("99600.00")
    assert settlement["owed_by"] == "a"

    # The hand-over deadline passes: recorded once; a late hand-over is marked late.
    clock.now = at(2026, 7, 31, 8, 0)
    kehu.catch_up()
    assert kehu.scheduler.run_once()["contract-deadlines"] == 1
    complaint = kehu.complaints.lodge(
        as_(CLERK),
        customer_id=customer_id,
        channel="phone",
        category="product_quality",
        severity="medium",
        description="设备噪音偏大",
        received_at=at(2026, 7, 31, 9, 0),
    ).id
    kehu.catch_up()
    result = kehu.contracts.hand_over_data(as_(SALES), contract, at=at(2026, 7, 31, 10, 0))
    handed = kehu.store.history(contract)[-1]
    assert handed.type == "Contract.DataHandedOver"
    assert handed.position == result.position
    assert handed.payload["late"] is True

    package = kehu.contracts.hand_over_package(SALES, contract)
    assert package.sha256 == hashlib.sha256(package.content).hexdigest()
    assert package.sha256 == handed.payload["sha256"]
    assert package.name == handed.payload["package_name"]
    assert package.up_to_position == result.position - 1
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        lines = archive.read("events.jsonl").decode().splitlines()
    assert manifest["customers"] == [str(customer_id)]
    assert manifest["files"]["events.jsonl"]["events"] == len(lines)
    records = [json.loads(line) for line in lines]
    covered = {r["aggregate_id"] for r in records}
    assert {str(customer_id), str(contract), str(complaint)} <= covered
    assert all(r["position"] <= package.up_to_position for r in records)
    assert [r["position"] for r in records] == sorted(r["position"] for r in records)
    # The customer's own data is handed over unmasked.
    registered = next(r for r in records if r["type"] == "Customer.Registered")
    assert registered["payload"]["email"] == "finance@yunshan.example.cn"

    # Later events do not change the package that was handed over.
    kehu.customers.update_profile(as_(CLERK), customer_id, {"email": "ap@yunshan.example.cn"})
    kehu.catch_up()
    assert kehu.contracts.hand_over_package(SALES, contract).content == package.content


def test_only_legal_or_the_manager_approve_and_refusals_record_nothing(kehu: System) -> None:
    customer_id = customer(kehu)
    contract = draft(kehu, customer_id)
    kehu.contracts.submit_for_review(as_(SALES), contract, at=at(2025, 12, 2, 9, 0))
    before = kehu.store.max_position()
    with pytest.raises(Forbidden):
        kehu.contracts.approve(as_(SALES), contract, at=at(2025, 12, 3, 9, 0))
    with pytest.raises(Forbidden):
        kehu.contracts.draft(
            as_(MARKETING),
            number="HT-X",
            title="x",
            party_a={"kind": "customer", "customer_id": customer_id, "signatories": ["张伟"]},
            party_b={"kind": "organisation", "name": "乙方", "signatories": ["刘建国"]},
            terms=TERMS,
            leading_party="a",
        )
    with pytest.raises(Forbidden):  # a calendar fact is the scheduler's
        kehu.contracts.activate(as_(SALES), contract)
    # Signing before the legal approval is refused by the aggregate.
    with pytest.raises(DomainError) as refused:
        kehu.contracts.sign(as_(SALES), contract, party="a", signatory="张伟", method="seal")
    assert refused.value.code == "contract.transition_refused"
    assert kehu.store.max_position() == before


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": "300000.01"}, "contract.schedule_does_not_add_up"),
        ({"penalty_rate": "0.31"}, "contract.invalid_field"),
        ({"penalty_rate": "abc"}, "contract.invalid_field"),
        ({"amount": "1.001"}, "validation.invalid_amount"),
        ({"end_date": date(2025, 12, 31)}, "contract.invalid_field"),
        (
            {"dispute_resolution": {"method": "arbitration", "body": None}},
            "contract.invalid_field",
        ),
    ],
)
def test_bad_terms_are_refused_with_a_stable_code_and_record_nothing(
    kehu: System, change: dict[str, Any], code: str
) -> None:
    customer_id = customer(kehu)
    before = kehu.store.max_position()
    with pytest.raises(DomainError) as refused:
        kehu.contracts.draft(
            as_(SALES),
            number="HT-BAD",
            title="坏条款",
            party_a={"kind": "customer", "customer_id": customer_id, "signatories": ["张伟"]},
            party_b={"kind": "organisation", "name": "乙方公司", "signatories": ["刘建国"]},
            terms={**TERMS, **change},
            leading_party="a",
        )
    assert refused.value.code == code
    assert kehu.store.max_position() == before


def test_a_number_is_used_once_and_an_unknown_customer_is_not_a_party(kehu: System) -> None:
    customer_id = customer(kehu)
    draft(kehu, customer_id, number="ht-2026-007")
    before = kehu.store.max_position()
    with pytest.raises(AlreadyExists):  # the same number, written differently
        draft(kehu, customer_id, number="HT-2026-007")
    with pytest.raises(NotFound):
        draft(kehu, UUID(int=7), number="HT-2026-008")
    assert kehu.store.max_position() == before
    assert kehu.contracts.contract_id("ht-2026-007") == kehu.contracts.contract_id("HT-2026-007")


def test_a_package_is_refused_before_the_hand_over_and_the_hand_over_before_the_end(
    kehu: System,
) -> None:
    contract = signed(kehu, customer(kehu))
    before = kehu.store.max_position()
    with pytest.raises(DomainError) as early:
        kehu.contracts.hand_over_data(as_(SALES), contract, at=at(2025, 12, 7, 9, 0))
    assert early.value.code == "contract.transition_refused"
    with pytest.raises(DomainError) as none:
        kehu.contracts.hand_over_package(SALES, contract)
    assert none.value.code == "contract.not_handed_over"
    assert kehu.store.max_position() == before
