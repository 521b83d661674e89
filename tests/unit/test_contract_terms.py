"""Contract 合同 value objects: the contract number, terms, parties and the clause diff."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError
from domain.contract import (
    CLAUSE_LABELS,
    CLAUSES,
    MAX_PENALTY_RATE,
    Delivery,
    DisputeResolution,
    Instalment,
    Intermediary,
    Party,
    Terms,
    contract_id,
    diff_terms,
    normalise_contract_number,
    sha256_hex,
)
from domain.values import Money

SH = ZoneInfo("Asia/Shanghai")
CUSTOMER_ID = UUID("00000000-0000-4000-8000-0000000000c1")


def cny(amount: str) -> Money:
    return Money.parse(amount)


def make_terms(**overrides: Any) -> Terms:
    fields: dict[str, Any] = {
        "start_date": date(2025, 1, 1),
        "end_date": date(2025, 12, 31),
        "amount": cny("120000.00"),
        "payment_schedule": (
            Instalment(1, date(2025, 1, 15), cny("36000.00")),
            Instalment(2, date(2025, 6, 30), cny("84000.00")),
        ),
        "delivery": Delivery("CRM 系统搭建与实施", date(2025, 3, 31)),
        "rectification_days": 15,
        "confidentiality_years": 3,
        "penalty_rate": Decimal("0.05"),
        "dispute_resolution": DisputeResolution.arbitration("上海国际仲裁中心"),
    } | overrides
    return Terms(**fields)


def code_of(command: Any) -> str:
    with pytest.raises(DomainError) as error:
        command()
    return error.value.code


# -- the contract number ------------------------------------------------------------------


def test_the_contract_id_is_the_same_for_the_same_number_however_written() -> None:
    assert contract_id("HT-2025/001") == contract_id("  ht-2025/001 ")
    assert contract_id("HT-2025/001") != contract_id("HT-2025/002")
    assert normalise_contract_number(" ht_2025-001 ") == "HT_2025-001"
    assert contract_id("HT-2025/001").version == 5


@pytest.mark.parametrize("number", ["", "   ", "HT 2025", "合同-001", "HT#1", "A" * 41, 2025001])
def test_a_malformed_contract_number_is_refused(number: Any) -> None:
    assert code_of(lambda: contract_id(number)) == "contract.invalid_number"


def test_a_number_of_forty_characters_is_accepted() -> None:
    assert normalise_contract_number("a" * 40) == "A" * 40


# -- checksums ----------------------------------------------------------------------------


def test_a_sha256_is_64_hex_characters_kept_in_lower_case() -> None:
    digest = "0123456789abcdef" * 4
    assert sha256_hex(digest) == digest
    assert sha256_hex(" " + digest.upper() + " ") == digest


@pytest.mark.parametrize("digest", ["", "abc", "g" * 64, "a" * 63, "a" * 65, None])
def test_a_malformed_sha256_is_refused(digest: Any) -> None:
    assert code_of(lambda: sha256_hex(digest)) == "contract.invalid_checksum"


# -- terms --------------------------------------------------------------------------------


def test_terms_hold_their_clauses_and_normalise_text() -> None:
    terms = make_terms(delivery=Delivery("  CRM   系统 ", date(2025, 3, 31)))
    assert terms.delivery.description == "CRM 系统"
    assert terms.breach_notice_days == 30
    assert terms.hand_over_days == 30
    assert terms.instalment(2) == Instalment(2, date(2025, 6, 30), cny("84000.00"))
    assert terms.instalment(3) is None


def test_terms_round_trip_through_plain_data() -> None:
    terms = make_terms(dispute_resolution=DisputeResolution.court("上海市浦东新区人民法院"))
    data = terms.as_dict()
    assert list(data) == list(CLAUSES)
    assert data["payment_schedule"][0] == {
        "number": 1,
        "due_date": date(2025, 1, 15),
        "amount": cny("36000.00"),
    }
    assert data["dispute_resolution"] == {"method": "court", "body": "上海市浦东新区人民法院"}
    assert Terms.from_dict(data) == terms


def test_a_schedule_given_as_mappings_becomes_instalments() -> None:
    terms = make_terms(
        payment_schedule=[
            {"number": 1, "due_date": date(2025, 1, 15), "amount": cny("120000.00")},
        ]
    )
    assert terms.payment_schedule == (Instalment(1, date(2025, 1, 15), cny("120000.00")),)


def test_a_schedule_that_does_not_add_up_to_the_amount_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        make_terms(amount=cny("120000.01"))
    assert error.value.code == "contract.schedule_does_not_add_up"
    assert error.value.details == {"total": "120000.00", "amount": "120000.01"}


def test_an_instalment_in_another_currency_is_refused() -> None:
    schedule = (
        Instalment(1, date(2025, 1, 15), cny("36000.00")),
        Instalment(2, date(2025, 6, 30), Money.parse("84000.00", "USD")),
    )
    assert code_of(lambda: make_terms(payment_schedule=schedule)) == "contract.currency_mismatch"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end_date": date(2024, 12, 31)}, "end_date"),
        ({"start_date": datetime(2025, 1, 1, tzinfo=SH)}, "start_date"),
        ({"amount": Money.zero()}, "amount"),
        ({"amount": "120000"}, "amount"),
        ({"payment_schedule": ()}, "payment_schedule"),
        (
            {
                "payment_schedule": (
                    Instalment(2, date(2025, 1, 15), cny("36000.00")),
                    Instalment(1, date(2025, 6, 30), cny("84000.00")),
                )
            },
            "payment_schedule",
        ),
        (
            {
                "payment_schedule": (
                    Instalment(1, date(2025, 6, 30), cny("36000.00")),
                    Instalment(2, date(2025, 1, 15), cny("84000.00")),
                )
            },
            "payment_schedule",
        ),
        ({"rectification_days": 0}, "rectification_days"),
        ({"rectification_days": True}, "rectification_days"),
        ({"confidentiality_years": -1}, "confidentiality_years"),
        ({"penalty_rate": 0.05}, "penalty_rate"),
        ({"penalty_rate": Decimal(0)}, "penalty_rate"),
        ({"penalty_rate": Decimal("0.3001")}, "penalty_rate"),
        ({"penalty_rate": Decimal("NaN")}, "penalty_rate"),
        ({"hand_over_days": 0}, "hand_over_days"),
        ({"breach_notice_days": 366}, "breach_notice_days"),
    ],
)
def test_invalid_clauses_are_refused_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(DomainError) as error:
        make_terms(**overrides)
    assert error.value.code == "contract.invalid_field"
    assert error.value.kind == "invalid"
    assert error.value.details["field"] == field


def test_the_penalty_rate_may_be_the_bound_itself() -> None:
    assert make_terms(penalty_rate=MAX_PENALTY_RATE).penalty_rate == Decimal("0.30")


def test_an_instalment_must_be_positive_money() -> None:
    assert code_of(lambda: Instalment(1, date(2025, 1, 1), Money.zero())) == (
        "contract.invalid_field"
    )
    assert code_of(lambda: Instalment(0, date(2025, 1, 1), cny("1.00"))) == (
        "contract.invalid_field"
    )


def test_dispute_resolution_names_the_body_for_arbitration_and_court_only() -> None:
    assert DisputeResolution.negotiation().as_dict() == {"method": "negotiation", "body": None}
    assert DisputeResolution.arbitration(" 上海仲裁委员会 ").body == "上海仲裁委员会"
    assert code_of(lambda: DisputeResolution("arbitration")) == "contract.invalid_field"
    assert code_of(lambda: DisputeResolution("court", "  ")) == "contract.invalid_field"
    assert code_of(lambda: DisputeResolution("negotiation", "某法院")) == "contract.invalid_field"
    assert code_of(lambda: DisputeResolution("mediation")) == "contract.invalid_field"


def test_with_changes_replaces_only_the_named_clauses() -> None:
    terms = make_terms()
    changed = terms.with_changes(
        {
            "penalty_rate": Decimal("0.08"),
            "delivery": {"description": "二期", "due_date": date(2025, 9, 30)},
        }
    )
    assert changed.penalty_rate == Decimal("0.08")
    assert changed.delivery == Delivery("二期", date(2025, 9, 30))
    assert dataclasses.replace(changed, penalty_rate=Decimal("0.05"), delivery=terms.delivery) == (
        terms
    )


def test_with_changes_refuses_an_unknown_clause() -> None:
    with pytest.raises(DomainError) as error:
        make_terms().with_changes({"price": cny("1.00")})
    assert error.value.code == "contract.invalid_field"
    assert error.value.details["field"] == "price"


# -- the clause-level diff ----------------------------------------------------------------


def test_diff_lists_the_changed_clauses_in_contract_order_with_before_and_after() -> None:
    old = make_terms()
    new = old.with_changes(
        {
            "penalty_rate": Decimal("0.08"),
            "amount": cny("150000.00"),
            "payment_schedule": (
                Instalment(1, date(2025, 1, 15), cny("36000.00")),
                Instalment(2, date(2025, 6, 30), cny("114000.00")),
            ),
        }
    )
    diff = diff_terms(old, new)
    assert [d["clause"] for d in diff] == ["amount", "payment_schedule", "penalty_rate"]
    assert diff[0] == {"clause": "amount", "before": cny("120000.00"), "after": cny("150000.00")}
    assert diff[1]["after"][1] == {
        "number": 2,
        "due_date": date(2025, 6, 30),
        "amount": cny("114000.00"),
    }
    assert diff[2] == {
        "clause": "penalty_rate",
        "before": Decimal("0.05"),
        "after": Decimal("0.08"),
    }


def test_diff_of_equal_terms_is_empty_even_when_a_rate_is_written_differently() -> None:
    assert diff_terms(make_terms(), make_terms(penalty_rate=Decimal("0.050"))) == []


def test_every_clause_has_a_chinese_label() -> None:
    assert set(CLAUSE_LABELS) == {f.name for f in dataclasses.fields(Terms)}
    assert CLAUSE_LABELS["penalty_rate"] == "违约金比例"


# -- parties ------------------------------------------------------------------------------


def test_a_customer_party_names_its_customer_and_signatories() -> None:
    party = Party.customer(CUSTOMER_ID, " 张三 ", [" 张三 ", "李娜"])
    assert (party.kind, party.name, party.signatories, party.customer_id) == (
        "customer",
        "张三",
        ("张三", "李娜"),
        CUSTOMER_ID,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: Party("customer", "张三", ("张三",)),
        lambda: Party("organisation", "某公司", ("李四",), CUSTOMER_ID),
        lambda: Party("person", "张三", ("张三",)),
        lambda: Party.organisation("某公司", []),
        lambda: Party.organisation("某公司", ["李四", "李四"]),
        lambda: Party("organisation", "某公司", "李四"),  # type: ignore[arg-type]
        lambda: Party.organisation("", ["李四"]),
        lambda: Intermediary("中介", cny("-1.00"), cny("0.00"), ("王五",)),
        lambda: Intermediary("中介", cny("1.00"), 5000, ("王五",)),
    ],
)
def test_malformed_parties_are_refused(make: Any) -> None:
    assert code_of(make) == "contract.invalid_field"
