"""Customer 客户 in the domain alone: each command, the events it leaves pending, the
state they build, and the rules that refuse a command without recording anything."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError, personal_fields
from domain.customer import Customer, CustomerStatus, enterprise_customer_id
from domain.values import USCC, Money, uscc_check_character

SH = ZoneInfo("Asia/Shanghai")
REGISTERED_ON = date(2025, 1, 2)
#: Valid codes (check characters verified in tests/unit/test_values.py).
USCC_A = "91350100M000100Y43"
ID_NUMBER = "11010519491231002X"


# -- helpers ------------------------------------------------------------------------------


def individual(**overrides: Any) -> Customer:
    fields: dict[str, Any] = {
        "new_id": uuid4(),
        "kind": "individual",
        "name": "张伟",
        "phone": "13812345678",
        "registered_on": REGISTERED_ON,
    } | overrides
    return Customer.register(**fields)


def enterprise(**overrides: Any) -> Customer:
    fields: dict[str, Any] = {
        "new_id": enterprise_customer_id(USCC.parse(USCC_A)),
        "kind": "enterprise",
        "name": "福州青禾贸易有限公司",
        "email": "contact@qinghe.com.cn",
        "uscc": USCC_A,
        "registered_on": REGISTERED_ON,
    } | overrides
    return Customer.register(**fields)


def collected(customer: Customer) -> list[Any]:
    """The events the customer's commands left pending, now taken away (as if saved)."""
    return list(customer.collect_events())


def fresh(customer: Customer) -> Customer:
    """The customer with its registration already collected (as if saved)."""
    collected(customer)
    return customer


def active() -> Customer:
    customer = fresh(individual())
    customer.record_purchase("SO-1", Money.parse("100.00"), "耗材", date(2025, 1, 3))
    return fresh(customer)


def churned() -> Customer:
    customer = active()
    customer.churn("价格原因转向竞品")
    return fresh(customer)


def state(customer: Customer) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in vars(customer).items() if k != "_pending_events"})


def names(events: list[Any]) -> list[str]:
    return [type(e).__qualname__ for e in events]


def register_refused(code: str, **overrides: Any) -> DomainError:
    with pytest.raises(DomainError) as error:
        individual(**overrides)
    assert error.value.code == code
    return error.value


def assert_refused(customer: Customer, code: str, command: Callable[[], object]) -> DomainError:
    """The command raises ``code``, records nothing and leaves the state as it was."""
    before = state(customer)
    pending = list(customer.pending_events)
    with pytest.raises(DomainError) as error:
        command()
    assert error.value.code == code
    assert list(customer.pending_events) == pending
    assert state(customer) == before
    return error.value


def rebuild(events: list[Any]) -> Customer:
    aggregate: Any = None
    for stored in events:
        aggregate = stored.mutate(aggregate)
    return aggregate


# -- registration -------------------------------------------------------------------------


def test_an_enterprise_is_registered_under_the_id_derived_from_its_uscc() -> None:
    expected_id = enterprise_customer_id(USCC.parse(USCC_A))
    customer = enterprise(uscc=" 91350100m000100y43 ", segment="大客户", source="展会")

    [registered] = collected(customer)

    assert isinstance(registered, Customer.Registered)
    assert registered.originator_id == expected_id
    assert registered.originator_version == 1
    assert registered.kind == "enterprise"
    assert registered.uscc == USCC_A
    assert registered.id_number is None
    assert registered.email == "contact@qinghe.com.cn"
    assert registered.phone is None
    assert registered.segment == "大客户"
    assert registered.source == "展会"
    assert registered.registered_on == REGISTERED_ON
    assert customer.id == expected_id
    assert customer.kind == "enterprise"
    assert customer.status == CustomerStatus.PROSPECT


def test_an_enterprise_under_any_other_id_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        enterprise(new_id=uuid4())
    assert error.value.code == "customer.invalid_field"
    assert error.value.details == {"field": "id"}


def test_the_enterprise_id_depends_only_on_the_canonical_uscc() -> None:
    body = "91330100MA27XL123"
    other = body + uscc_check_character(body)
    same = enterprise_customer_id(USCC.parse(USCC_A))
    assert enterprise_customer_id(USCC.parse(" " + USCC_A.lower())) == same
    assert enterprise_customer_id(USCC.parse(other)) != same


def test_an_individual_is_registered_with_normalised_identity_and_contacts() -> None:
    customer = individual(
        name="  张   伟 ",
        phone="+86 138-1234-5678",
        email="Zhang.Wei@Example.COM",
        id_number="110105 19491231002x",
    )

    [registered] = collected(customer)

    assert isinstance(registered, Customer.Registered)
    assert registered.kind == "individual"
    assert registered.name == "张 伟"
    assert registered.phone == "13812345678"
    assert registered.email == "Zhang.Wei@example.com"
    assert registered.id_number == ID_NUMBER
    assert registered.uscc is None
    assert customer.id_number == ID_NUMBER


def test_a_new_customer_is_a_prospect_with_no_activity() -> None:
    customer = individual()
    assert customer.version == 1
    assert customer.status == CustomerStatus.PROSPECT
    assert customer.status_reason is None
    assert customer.purchase_count == 0
    assert customer.interaction_count == 0
    assert customer.last_purchase_on is None
    assert customer.last_interaction_at is None
    assert customer.account_manager is None
    assert customer.next_review_due is None
    assert customer.marketing_consent is False


def test_an_enterprise_without_a_uscc_is_refused() -> None:
    register_refused("customer.identity_missing", kind="enterprise")


def test_an_enterprise_with_a_resident_id_number_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        enterprise(id_number=ID_NUMBER)
    assert error.value.code == "customer.invalid_field"
    assert error.value.details == {"field": "id_number"}


def test_an_individual_with_a_uscc_is_refused() -> None:
    refusal = register_refused("customer.invalid_field", uscc=USCC_A)
    assert refusal.details == {"field": "uscc"}


@pytest.mark.parametrize(
    ("phone", "email"), [(None, None), ("", ""), (None, ""), ("", None)], ids=str
)
def test_a_customer_without_phone_or_email_is_refused(phone: str | None, email: str | None) -> None:
    register_refused("customer.identity_missing", phone=phone, email=email)


def test_an_email_alone_is_enough_to_register() -> None:
    customer = individual(phone=None, email="li.na@163.com")
    assert customer.phone is None
    assert customer.email == "li.na@163.com"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"phone": "1234"}, "validation.invalid_phone"),
        ({"phone": "12812345678"}, "validation.invalid_phone"),
        ({"phone": "138123456789"}, "validation.invalid_phone"),
        ({"email": "not-an-email"}, "validation.invalid_email"),
        ({"email": "a@b@c.cn"}, "validation.invalid_email"),
        ({"email": "a@localhost"}, "validation.invalid_email"),
        ({"kind": "enterprise", "uscc": "91350100M000100Y44"}, "validation.invalid_uscc"),
        ({"kind": "enterprise", "uscc": "91350100M000100Y4"}, "validation.invalid_uscc"),
        ({"kind": "enterprise", "uscc": "91350100I000100Y43"}, "validation.invalid_uscc"),
        ({"id_number": "110105194912310021"}, "validation.invalid_id_number"),
        ({"id_number": "11010519491331002X"}, "validation.invalid_id_number"),
        ({"id_number": "1101051949123100"}, "validation.invalid_id_number"),
        ({"kind": "robot"}, "customer.invalid_field"),
        ({"name": "   "}, "customer.invalid_field"),
        ({"name": "名" * 201}, "customer.invalid_field"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_registration_with_an_invalid_value_is_refused_with_its_code(
    overrides: dict[str, Any], code: str
) -> None:
    register_refused(code, **overrides)


def test_tags_are_trimmed_deduplicated_and_sorted() -> None:
    customer = individual(tags=[" 重点跟进", "华东", "华东 ", "重点跟进", "长期  合作"])
    [registered] = collected(customer)
    assert registered.tags == sorted(["华东", "重点跟进", "长期 合作"])
    assert customer.tags == registered.tags


def test_more_than_thirty_distinct_tags_are_refused() -> None:
    individual(tags=[f"t{n}" for n in range(30)])
    register_refused("customer.invalid_field", tags=[f"t{n}" for n in range(31)])


def test_an_empty_tag_is_refused() -> None:
    register_refused("customer.invalid_field", tags=["华东", "  "])


def test_tags_given_as_one_text_are_refused_at_registration() -> None:
    register_refused("customer.invalid_field", tags="华东")


def test_a_non_boolean_marketing_consent_is_refused_at_registration() -> None:
    register_refused("customer.invalid_field", marketing_consent="no")


def test_registered_personal_fields_are_marked_but_the_uscc_is_not() -> None:
    fields = personal_fields(Customer.Registered)
    assert {"name", "phone", "email", "id_number"} <= fields
    assert "uscc" not in fields
    assert "kind" not in fields
    assert "changes" in personal_fields(Customer.ProfileUpdated)
    assert "summary" in personal_fields(Customer.InteractionRecorded)


# -- profile ------------------------------------------------------------------------------


def test_a_profile_update_records_only_the_fields_that_change() -> None:
    customer = fresh(individual(segment="个人客户", tags=["华东"]))

    customer.update_profile(
        name=" 张伟 ",
        phone="+86 13812345678",
        segment="大客户",
        tags=["华东"],
        email="ZW@Example.com",
    )

    [updated] = collected(customer)
    assert isinstance(updated, Customer.ProfileUpdated)
    assert updated.originator_version == 2
    assert updated.changes == {"segment": "大客户", "email": "ZW@example.com"}
    assert customer.segment == "大客户"
    assert customer.email == "ZW@example.com"
    assert customer.version == 2


def test_a_profile_update_that_changes_nothing_records_nothing() -> None:
    customer = fresh(individual(segment="大客户", tags=["华东", "新客"]))
    before = state(customer)

    customer.update_profile(segment="大客户", tags=["新客", "华东", " 新客"], name="张伟")
    customer.update_profile()

    assert collected(customer) == []
    assert state(customer) == before


def test_updated_tags_and_consent_are_recorded() -> None:
    customer = fresh(individual(tags=["华东"]))
    customer.update_profile(tags=["华南", " 华南", "新客"], marketing_consent=True)
    [updated] = collected(customer)
    assert updated.changes == {"tags": ["华南", "新客"], "marketing_consent": True}
    assert customer.tags == ["华南", "新客"]
    assert customer.marketing_consent is True


@pytest.mark.parametrize("field", ["id_number", "uscc", "status", "kind", "registered_on"])
def test_a_profile_update_of_a_field_outside_the_profile_is_refused(field: str) -> None:
    customer = fresh(individual())
    error = assert_refused(
        customer,
        "customer.invalid_field",
        lambda: customer.update_profile(**{field: "x", "segment": "大客户"}),
    )
    assert error.details == {"field": field}


def test_removing_both_phone_and_email_is_refused() -> None:
    customer = fresh(individual(email="zw@example.com"))
    assert_refused(
        customer,
        "customer.identity_missing",
        lambda: customer.update_profile(phone=None, email=""),
    )


def test_removing_the_only_contact_is_refused() -> None:
    customer = fresh(individual())
    assert_refused(customer, "customer.identity_missing", lambda: customer.update_profile(phone=""))


def test_one_contact_may_be_removed_while_the_other_stays() -> None:
    customer = fresh(individual(email="zw@example.com"))
    customer.update_profile(phone=None)
    [updated] = collected(customer)
    assert updated.changes == {"phone": None}
    assert customer.phone is None
    assert customer.email == "zw@example.com"


def test_swapping_the_phone_for_an_email_in_one_update_is_accepted() -> None:
    customer = fresh(individual())
    customer.update_profile(phone=None, email="zw@example.com")
    [updated] = collected(customer)
    assert updated.changes == {"phone": None, "email": "zw@example.com"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": ""}, "customer.invalid_field"),
        ({"phone": "000"}, "validation.invalid_phone"),
        ({"email": "nobody"}, "validation.invalid_email"),
        ({"tags": "华东"}, "customer.invalid_field"),
        ({"tags": 5}, "customer.invalid_field"),
        ({"marketing_consent": "yes"}, "customer.invalid_field"),
        ({"segment": "段" * 61}, "customer.invalid_field"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_an_invalid_profile_value_is_refused(changes: dict[str, Any], code: str) -> None:
    customer = fresh(individual())
    assert_refused(customer, code, lambda: customer.update_profile(**changes))


# -- account manager ----------------------------------------------------------------------


def test_assigning_an_account_manager_is_recorded_once() -> None:
    customer = fresh(individual())
    customer.assign_account_manager(" m001 ", "周敏")
    customer.assign_account_manager("m001", "周敏")
    [assigned] = collected(customer)
    assert isinstance(assigned, Customer.AccountManagerAssigned)
    assert (assigned.manager_id, assigned.manager_name) == ("m001", "周敏")
    assert customer.account_manager == {"id": "m001", "name": "周敏"}


# -- purchases ----------------------------------------------------------------------------


def test_the_first_purchase_records_the_purchase_then_activates_the_customer() -> None:
    customer = fresh(individual())

    customer.record_purchase(" SO-1 ", Money.parse("1200.50"), "  工业  设备 ", date(2025, 1, 3))

    purchase, activated = collected(customer)
    assert isinstance(purchase, Customer.PurchaseRecorded)
    assert isinstance(activated, Customer.Activated)
    assert purchase.order_ref == "SO-1"
    assert purchase.amount == Money(Decimal("1200.50"), "CNY")
    assert purchase.category == "工业 设备"
    assert purchase.occurred_on == date(2025, 1, 3)
    assert activated.occurred_on == date(2025, 1, 3)
    assert (purchase.originator_version, activated.originator_version) == (2, 3)
    assert customer.status == CustomerStatus.ACTIVE
    assert customer.purchase_count == 1
    assert customer.last_purchase_on == date(2025, 1, 3)
    assert customer.order_refs == {"SO-1"}


def test_later_purchases_do_not_activate_again() -> None:
    customer = active()
    customer.record_purchase("SO-2", Money.parse("5.00"), "耗材", date(2025, 2, 1))
    customer.record_purchase("SO-3", Money.parse("7.00", "USD"), "耗材", date(2025, 3, 1))
    assert names(collected(customer)) == [
        "Customer.PurchaseRecorded",
        "Customer.PurchaseRecorded",
    ]
    assert customer.purchase_count == 3
    assert customer.status == CustomerStatus.ACTIVE


def test_the_last_purchase_date_keeps_the_latest_business_date() -> None:
    customer = active()  # bought on 2025-01-03
    customer.record_purchase("SO-2", Money.parse("5.00"), "耗材", date(2025, 3, 1))
    customer.record_purchase("SO-3", Money.parse("5.00"), "耗材", date(2025, 2, 1))
    assert customer.last_purchase_on == date(2025, 3, 1)
    assert customer.purchase_count == 3


@pytest.mark.parametrize("order_ref", ["SO-1", " SO-1 "])
def test_a_duplicate_order_ref_is_refused(order_ref: str) -> None:
    customer = active()
    assert_refused(
        customer,
        "customer.duplicate_order",
        lambda: customer.record_purchase(order_ref, Money.parse("1.00"), "耗材", date(2025, 2, 1)),
    )


@pytest.mark.parametrize("amount", ["0", "0.00", "-0.01", "-100"])
def test_a_purchase_of_zero_or_less_is_refused(amount: str) -> None:
    customer = fresh(individual())
    error = assert_refused(
        customer,
        "customer.invalid_field",
        lambda: customer.record_purchase("SO-1", Money.parse(amount), "耗材", date(2025, 2, 1)),
    )
    assert error.details == {"field": "amount"}
    assert customer.status == CustomerStatus.PROSPECT


def test_a_purchase_without_an_order_ref_or_category_is_refused() -> None:
    customer = fresh(individual())
    assert_refused(
        customer,
        "customer.invalid_field",
        lambda: customer.record_purchase(" ", Money.parse("1.00"), "耗材", date(2025, 2, 1)),
    )
    assert_refused(
        customer,
        "customer.invalid_field",
        lambda: customer.record_purchase("SO-1", Money.parse("1.00"), "", date(2025, 2, 1)),
    )


def test_a_purchase_on_a_churned_customer_is_refused() -> None:
    customer = churned()
    error = assert_refused(
        customer,
        "customer.churned",
        lambda: customer.record_purchase("SO-2", Money.parse("1.00"), "耗材", date(2025, 2, 1)),
    )
    assert error.details == {"current_status": "churned"}


# -- lifecycle ----------------------------------------------------------------------------


def test_marking_a_prospect_at_risk_is_refused() -> None:
    customer = fresh(individual())
    error = assert_refused(
        customer, "customer.transition_refused", lambda: customer.mark_at_risk("无订单")
    )
    assert error.details == {"current_status": "prospect"}


def test_an_active_customer_can_be_marked_at_risk_with_a_reason() -> None:
    customer = active()
    customer.mark_at_risk(" 超过90天未下单 ")
    [marked] = collected(customer)
    assert isinstance(marked, Customer.MarkedAtRisk)
    assert marked.reason == "超过90天未下单"
    assert customer.status == CustomerStatus.AT_RISK
    assert customer.status_reason == "超过90天未下单"


def test_a_customer_already_at_risk_cannot_be_marked_again() -> None:
    customer = active()
    customer.mark_at_risk("近期投诉增多")
    fresh(customer)
    assert_refused(customer, "customer.transition_refused", lambda: customer.mark_at_risk("x"))


def test_a_churned_customer_cannot_be_marked_at_risk() -> None:
    customer = churned()
    assert_refused(customer, "customer.transition_refused", lambda: customer.mark_at_risk("x"))


def test_a_customer_at_risk_can_churn_with_its_cause() -> None:
    customer = active()
    customer.mark_at_risk("近期投诉增多")
    customer.churn("服务响应不及时")
    assert names(collected(customer)) == ["Customer.MarkedAtRisk", "Customer.Churned"]
    assert customer.status == CustomerStatus.CHURNED
    assert customer.status_reason == "服务响应不及时"


def test_a_prospect_can_churn() -> None:
    customer = fresh(individual())
    customer.churn("业务调整不再采购")
    [churn] = collected(customer)
    assert isinstance(churn, Customer.Churned)
    assert churn.reason == "业务调整不再采购"
    assert customer.status == CustomerStatus.CHURNED


def test_churning_twice_is_refused() -> None:
    customer = churned()
    error = assert_refused(customer, "customer.transition_refused", lambda: customer.churn("again"))
    assert error.details == {"current_status": "churned"}


def test_a_churn_without_a_reason_is_refused() -> None:
    customer = active()
    assert_refused(customer, "customer.invalid_field", lambda: customer.churn("  "))


@pytest.mark.parametrize("make", [lambda: fresh(individual()), active], ids=["prospect", "active"])
def test_only_a_churned_customer_can_be_won_back(make: Callable[[], Customer]) -> None:
    customer = make()
    assert_refused(customer, "customer.transition_refused", lambda: customer.win_back("折扣"))


def test_winning_back_a_churned_customer_credits_the_action() -> None:
    customer = churned()
    customer.win_back("大客户回访与专属折扣")
    [won] = collected(customer)
    assert isinstance(won, Customer.WonBack)
    assert won.action == "大客户回访与专属折扣"
    assert customer.status == CustomerStatus.WON_BACK
    assert customer.status_reason == "大客户回访与专属折扣"


def test_winning_back_twice_is_refused() -> None:
    customer = churned()
    customer.win_back("专属折扣")
    fresh(customer)
    assert_refused(customer, "customer.transition_refused", lambda: customer.win_back("again"))


def test_a_purchase_after_win_back_activates_the_customer_again() -> None:
    customer = churned()
    customer.win_back("专属折扣")
    fresh(customer)

    customer.record_purchase("SO-2", Money.parse("9.90"), "耗材", date(2025, 5, 1))

    purchase, activated = collected(customer)
    assert isinstance(purchase, Customer.PurchaseRecorded)
    assert isinstance(activated, Customer.Activated)
    assert activated.occurred_on == date(2025, 5, 1)
    assert customer.status == CustomerStatus.ACTIVE
    assert customer.status_reason is None


def test_a_won_back_customer_can_be_marked_at_risk() -> None:
    customer = churned()
    customer.win_back("专属折扣")
    customer.mark_at_risk("仍无订单")
    assert customer.status == CustomerStatus.AT_RISK


# -- interactions -------------------------------------------------------------------------


def test_an_interaction_is_recorded_at_its_business_time() -> None:
    customer = fresh(individual())
    at = datetime(2025, 3, 2, 10, 30, tzinfo=SH)
    customer.record_interaction("visit", " 上门拜访，了解 年度采购计划 ", at, staff="周敏")
    [recorded] = collected(customer)
    assert isinstance(recorded, Customer.InteractionRecorded)
    assert recorded.kind == "visit"
    assert recorded.summary == "上门拜访，了解 年度采购计划"
    assert recorded.occurred_at == at
    assert recorded.staff == "周敏"
    assert customer.interaction_count == 1
    assert customer.last_interaction_at == at


def test_an_interaction_with_a_naive_time_is_refused() -> None:
    customer = fresh(individual())
    assert_refused(
        customer,
        "validation.invalid_value",
        lambda: customer.record_interaction("call", "电话回访", datetime(2025, 3, 2, 10, 0)),
    )


def test_an_interaction_of_an_unknown_kind_is_refused() -> None:
    customer = fresh(individual())
    assert_refused(
        customer,
        "customer.invalid_field",
        lambda: customer.record_interaction("fax", "传真", datetime(2025, 3, 2, tzinfo=SH)),
    )


def test_the_last_interaction_keeps_the_latest_moment_across_offsets() -> None:
    customer = fresh(individual())
    latest = datetime(2025, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
    customer.record_interaction("call", "电话回访", latest)
    # Later on the wall clock in Shanghai, earlier as an instant.
    customer.record_interaction("visit", "上门拜访", datetime(2025, 3, 2, 10, 59, tzinfo=SH))
    customer.record_interaction("email", "邮件", latest - timedelta(days=30))
    assert customer.last_interaction_at == latest
    assert customer.interaction_count == 3
    assert len(collected(customer)) == 3


# -- information review -------------------------------------------------------------------


def test_a_review_records_when_the_next_one_is_due() -> None:
    customer = fresh(individual())
    customer.confirm_info_reviewed(date(2025, 6, 1), date(2026, 6, 1))
    [reviewed] = collected(customer)
    assert isinstance(reviewed, Customer.InfoReviewed)
    assert (reviewed.reviewed_on, reviewed.next_review_due) == (date(2025, 6, 1), date(2026, 6, 1))
    assert customer.last_reviewed_on == date(2025, 6, 1)
    assert customer.next_review_due == date(2026, 6, 1)


@pytest.mark.parametrize("next_due", [date(2025, 6, 1), date(2025, 5, 31)], ids=str)
def test_a_next_review_not_after_this_one_is_refused(next_due: date) -> None:
    customer = fresh(individual())
    assert_refused(
        customer,
        "customer.review_date_invalid",
        lambda: customer.confirm_info_reviewed(date(2025, 6, 1), next_due),
    )


def test_a_review_earlier_than_the_last_one_is_refused() -> None:
    customer = fresh(individual())
    customer.confirm_info_reviewed(date(2025, 6, 1), date(2026, 6, 1))
    fresh(customer)
    assert_refused(
        customer,
        "customer.review_date_invalid",
        lambda: customer.confirm_info_reviewed(date(2025, 5, 31), date(2026, 5, 31)),
    )


def test_a_later_review_moves_the_due_date() -> None:
    customer = fresh(individual())
    customer.confirm_info_reviewed(date(2025, 6, 1), date(2026, 6, 1))
    customer.confirm_info_reviewed(date(2025, 9, 1), date(2025, 12, 1))
    assert customer.last_reviewed_on == date(2025, 9, 1)
    assert customer.next_review_due == date(2025, 12, 1)


# -- replay -------------------------------------------------------------------------------


def a_whole_story() -> tuple[Customer, list[Any]]:
    customer = individual(email="zw@example.com", tags=["华东"], id_number=ID_NUMBER)
    customer.update_profile(segment="大客户", tags=["华东", "重点跟进"])
    customer.assign_account_manager("m001", "周敏")
    customer.record_interaction("call", "电话回访", datetime(2025, 1, 5, 9, tzinfo=SH))
    customer.record_purchase("SO-1", Money.parse("100.00"), "耗材", date(2025, 1, 6))
    customer.record_purchase("SO-2", Money.parse("80.00"), "耗材", date(2025, 2, 6))
    customer.mark_at_risk("超过90天未下单")
    customer.churn("价格原因转向竞品")
    customer.win_back("专属折扣")
    customer.record_purchase("SO-3", Money.parse("60.00"), "培训服务", date(2025, 8, 1))
    customer.confirm_info_reviewed(date(2025, 8, 2), date(2026, 8, 2))
    return customer, list(collected(customer))


def test_replaying_the_events_rebuilds_an_equal_customer() -> None:
    customer, events = a_whole_story()

    rebuilt = rebuild(events)

    assert isinstance(rebuilt, Customer)
    assert rebuilt is not customer
    assert state(rebuilt) == state(customer)
    assert rebuilt.version == len(events) == 13
    assert rebuilt.status == CustomerStatus.ACTIVE
    assert rebuilt.order_refs == {"SO-1", "SO-2", "SO-3"}


def test_replaying_a_prefix_gives_the_state_at_that_version() -> None:
    _, events = a_whole_story()
    at_churn = next(n for n, e in enumerate(events) if isinstance(e, Customer.Churned))
    past = rebuild(events[: at_churn + 1])
    assert past.version == at_churn + 1
    assert past.status == CustomerStatus.CHURNED
    assert past.purchase_count == 2


def test_event_versions_count_up_from_one_without_gaps() -> None:
    _, events = a_whole_story()
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert len({e.originator_id for e in events}) == 1


def test_refused_commands_leave_a_busy_customer_untouched() -> None:
    customer, _ = a_whole_story()
    customer.record_interaction("call", "还在待保存", datetime(2025, 8, 3, 9, tzinfo=SH))
    assert len(customer.pending_events) == 1
    refusals: list[tuple[str, Callable[[], object]]] = [
        (
            "customer.duplicate_order",
            lambda: customer.record_purchase("SO-1", Money.parse("1.00"), "耗材", date(2025, 9, 1)),
        ),
        ("customer.transition_refused", lambda: customer.win_back("again")),
        ("customer.identity_missing", lambda: customer.update_profile(phone=None, email=None)),
        ("customer.invalid_field", lambda: customer.update_profile(status="churned")),
        (
            "customer.review_date_invalid",
            lambda: customer.confirm_info_reviewed(date(2025, 8, 1), date(2026, 8, 1)),
        ),
        (
            "validation.invalid_value",
            lambda: customer.record_interaction("call", "x", datetime(2025, 9, 1)),
        ),
    ]
    for code, command in refusals:
        assert_refused(customer, code, command)
    assert names(collected(customer)) == ["Customer.InteractionRecorded"]
