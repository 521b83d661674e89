"""Customer 客户: commands, the events they record, and the rules that refuse them."""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError, InvalidValueError, personal_fields
from domain.customer import Customer, enterprise_customer_id
from domain.values import USCC, Money

SH = ZoneInfo("Asia/Shanghai")
USCC_A = "91350100M000100Y43"


def person(**overrides: object) -> Customer:
    fields: dict[str, object] = {
        "new_id": uuid4(),
        "kind": "individual",
        "name": "张伟",
        "phone": "13812345678",
        "registered_on": date(2025, 1, 2),
        "tags": ["华东", " 华东 ", "新客"],
    } | overrides
    return Customer.register(**fields)  # type: ignore[arg-type]


def active_person() -> Customer:
    customer = person()
    customer.record_purchase("SO-1", Money.parse("100.00"), "耗材", date(2025, 1, 3))
    customer.collect_events()
    return customer


def events_of(customer: Customer) -> list[str]:
    return [type(e).__name__ for e in customer.collect_events()]


def refused(customer: Customer, code: str, command: object, *args: object) -> None:
    before = copy.deepcopy({k: v for k, v in vars(customer).items() if k != "_pending_events"})
    pending = list(customer.pending_events)
    with pytest.raises(DomainError) as error:
        command(*args)  # type: ignore[operator]
    assert error.value.code == code
    assert customer.pending_events == pending  # nothing new recorded
    assert {k: v for k, v in vars(customer).items() if k != "_pending_events"} == before


def test_registering_an_individual_records_the_profile_with_tags_normalised() -> None:
    customer = person(id_number="11010519491231002x")
    [registered] = customer.collect_events()
    assert isinstance(registered, Customer.Registered)
    assert registered.tags == ["华东", "新客"]
    assert registered.id_number == "11010519491231002X"
    assert customer.status == "prospect"


def test_an_enterprise_is_keyed_by_its_uscc() -> None:
    good = Customer.register(
        new_id=enterprise_customer_id(USCC.parse(USCC_A)),
        kind="enterprise",
        name="青禾公司",
        email="a@qinghe.cn",
        uscc=USCC_A,
        registered_on=date(2025, 1, 2),
    )
    assert good.uscc == USCC_A
    with pytest.raises(DomainError) as error:
        Customer.register(
            new_id=uuid4(),
            kind="enterprise",
            name="青禾公司",
            email="a@qinghe.cn",
            uscc=USCC_A,
            registered_on=date(2025, 1, 2),
        )
    assert error.value.code == "customer.invalid_field"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"kind": "enterprise"}, "customer.identity_missing"),
        ({"uscc": USCC_A}, "customer.invalid_field"),
        ({"phone": None, "email": None}, "customer.identity_missing"),
        ({"phone": "1234"}, "validation.invalid_phone"),
        ({"email": "not-an-email"}, "validation.invalid_email"),
        ({"id_number": "110105194912310021"}, "validation.invalid_id_number"),
        ({"kind": "robot"}, "customer.invalid_field"),
        ({"name": "  "}, "customer.invalid_field"),
    ],
)
def test_registration_refuses_bad_identity(overrides: dict[str, object], code: str) -> None:
    with pytest.raises(DomainError) as error:
        person(**overrides)
    assert error.value.code == code


def test_only_changed_profile_fields_are_recorded() -> None:
    customer = person(segment="大客户")
    customer.collect_events()
    customer.update_profile(segment="大客户", name="张伟", email="zw@example.com")
    [updated] = customer.collect_events()
    assert isinstance(updated, Customer.ProfileUpdated)
    assert updated.changes == {"email": "zw@example.com"}
    customer.update_profile(segment="大客户")
    assert customer.collect_events() == []


def test_a_profile_keeps_a_phone_or_an_email() -> None:
    customer = person()
    customer.collect_events()
    with pytest.raises(DomainError) as error:
        customer.update_profile(phone=None)
    assert error.value.code == "customer.identity_missing"
    with pytest.raises(DomainError) as unknown:
        customer.update_profile(uscc=USCC_A)
    assert unknown.value.code == "customer.invalid_field"


def test_the_first_purchase_activates_a_prospect_once() -> None:
    customer = person()
    customer.collect_events()
    customer.record_purchase("SO-1", Money.parse("1.00"), "耗材", date(2025, 1, 3))
    assert events_of(customer) == ["PurchaseRecorded", "Activated"]
    customer.record_purchase("SO-2", Money.parse("2.00"), "耗材", date(2025, 1, 2))
    assert events_of(customer) == ["PurchaseRecorded"]
    assert customer.purchase_count == 2
    assert customer.last_purchase_on == date(2025, 1, 3)


def test_purchase_rules() -> None:
    customer = active_person()
    refused(
        customer,
        "customer.duplicate_order",
        customer.record_purchase,
        "SO-1",
        Money.parse("1.00"),
        "耗材",
        date(2025, 2, 1),
    )
    refused(
        customer,
        "customer.invalid_field",
        customer.record_purchase,
        "SO-9",
        Money.parse("0"),
        "耗材",
        date(2025, 2, 1),
    )
    customer.churn("转向竞品")
    customer.collect_events()
    refused(
        customer,
        "customer.churned",
        customer.record_purchase,
        "SO-9",
        Money.parse("5.00"),
        "耗材",
        date(2025, 2, 1),
    )


def test_the_lifecycle_moves_through_risk_churn_and_win_back() -> None:
    customer = person()
    refused(customer, "customer.transition_refused", customer.mark_at_risk, "no orders")
    customer.collect_events()
    customer.record_purchase("SO-1", Money.parse("9.90"), "耗材", date(2025, 1, 3))
    customer.mark_at_risk("90天未下单")
    customer.churn("价格原因")
    refused(customer, "customer.transition_refused", customer.churn, "again")
    customer.win_back("专属折扣")
    customer.record_purchase("SO-2", Money.parse("9.90"), "耗材", date(2025, 5, 1))
    assert events_of(customer) == [
        "PurchaseRecorded",
        "Activated",
        "MarkedAtRisk",
        "Churned",
        "WonBack",
        "PurchaseRecorded",
        "Activated",
    ]
    assert customer.status == "active"
    refused(customer, "customer.transition_refused", customer.win_back, "again")


def test_interactions_need_an_aware_time_and_keep_the_latest() -> None:
    customer = person()
    customer.record_interaction("call", "电话回访", datetime(2025, 3, 2, 10, tzinfo=SH))
    customer.record_interaction("visit", "上门拜访", datetime(2025, 3, 1, 10, tzinfo=SH))
    assert customer.last_interaction_at == datetime(2025, 3, 2, 10, tzinfo=SH)
    customer.collect_events()
    with pytest.raises(InvalidValueError):
        customer.record_interaction("call", "x", datetime(2025, 3, 3, 10))
    refused(
        customer,
        "customer.invalid_field",
        customer.record_interaction,
        "fax",
        "x",
        datetime(2025, 3, 3, tzinfo=SH),
    )


def test_info_reviews_move_forward() -> None:
    customer = person()
    customer.confirm_info_reviewed(date(2025, 6, 1), date(2026, 6, 1))
    customer.collect_events()
    refused(
        customer,
        "customer.review_date_invalid",
        customer.confirm_info_reviewed,
        date(2025, 7, 1),
        date(2025, 7, 1),
    )
    refused(
        customer,
        "customer.review_date_invalid",
        customer.confirm_info_reviewed,
        date(2025, 5, 1),
        date(2026, 5, 1),
    )


def test_replaying_the_events_rebuilds_the_same_customer() -> None:
    customer = person()
    customer.assign_account_manager("m1", "周敏")
    customer.record_purchase("SO-1", Money.parse("1234.56"), "软件服务", date(2025, 1, 3))
    customer.record_interaction("email", "邮件确认", datetime(2025, 1, 4, 9, tzinfo=SH))
    events = customer.collect_events()
    rebuilt = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    assert rebuilt == customer
    assert rebuilt.account_manager == {"id": "m1", "name": "周敏"}


def test_personal_fields_are_marked_but_the_uscc_is_not() -> None:
    marked = personal_fields(Customer.Registered)
    assert {"name", "phone", "email", "id_number"} <= marked
    assert "uscc" not in marked
    assert "amount" not in personal_fields(Customer.PurchaseRecorded)
    assert Decimal("1234.56") == Money.parse("1234.56").amount


def test_a_purchase_by_a_customer_at_risk_makes_them_active_again() -> None:
    customer = active_person()
    customer.mark_at_risk("90天未下单")
    customer.collect_events()
    customer.record_purchase("SO-2", Money.parse("8.00"), "耗材", date(2025, 4, 1))
    assert events_of(customer) == ["PurchaseRecorded", "Activated"]
    assert customer.status == "active"
