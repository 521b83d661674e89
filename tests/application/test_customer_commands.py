"""Customer commands through the shared pipeline, on in-memory persistence: business
dates, audit envelopes, results, idempotency, optimistic concurrency, time travel, the
event feed and roles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from application.context import CommandContext, Principal, Role
from application.customers import CustomerService
from application.errors import (
    AlreadyExists,
    ConcurrencyExhausted,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    VersionConflict,
)
from application.store import CommandResult, Kehu
from domain.base import DomainError, Envelope, MissingActorError
from domain.customer import Customer, enterprise_customer_id
from domain.values import USCC, Money
from tests.application.conftest import (
    ADMIN,
    AUDITOR,
    FIXED_NOW,
    INFORMATION,
    INTEGRATOR,
    SHANGHAI_TODAY,
    USCC_A,
    ctx,
    fixed_clock,
)

Register = Callable[..., CommandResult]


def positions(store: Kehu) -> list[int]:
    return [n.id for n in store.iter_notifications(0)]


# -- business dates -----------------------------------------------------------------------


def test_registered_on_defaults_to_the_date_in_shanghai(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    assert FIXED_NOW.date() == date(2025, 6, 30)  # still June in UTC

    created = register_person()

    assert customers.get(ADMIN, created.id).registered_on == SHANGHAI_TODAY
    [registered] = store.history(created.id)
    assert registered.payload["registered_on"] == SHANGHAI_TODAY


def test_a_given_registration_date_is_kept(customers: CustomerService, register_person: Register):
    created = register_person(registered_on=date(2024, 12, 31))
    assert customers.get(ADMIN, created.id).registered_on == date(2024, 12, 31)


def test_purchases_and_reviews_without_a_date_happen_today_in_shanghai(
    customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    customers.record_purchase(ctx(), created.id, order_ref="SO-1", amount="10.00", category="耗材")
    customers.confirm_info_reviewed(ctx(), created.id, next_review_due=date(2026, 7, 1))

    state = customers.get(ADMIN, created.id)
    assert state.last_purchase_on == SHANGHAI_TODAY
    assert state.last_reviewed_on == SHANGHAI_TODAY


def test_an_interaction_without_a_time_happens_at_the_clocks_now(
    customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    customers.record_interaction(ctx(), created.id, kind="call", summary="电话回访")
    assert customers.get(ADMIN, created.id).last_interaction_at == FIXED_NOW


# -- audit envelopes ----------------------------------------------------------------------


def test_every_stored_event_carries_the_envelope_of_its_command(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    registering = ctx(ADMIN, correlation_id="req-1", reason="新客户")
    created = register_person(registering)
    buying = ctx(INFORMATION, reason="首单")
    customers.record_purchase(buying, created.id, order_ref="SO-1", amount="99.00", category="耗材")

    history = store.history(created.id)

    assert [e.type for e in history] == [
        "Customer.Registered",
        "Customer.PurchaseRecorded",
        "Customer.Activated",
    ]
    assert history[0].envelope == Envelope(
        actor_id="user:admin",
        actor_role="admin",
        command="customers.register",
        command_id=registering.command_id,
        correlation_id="req-1",
        causation_id=registering.command_id,
        reason="新客户",
    )
    for recorded in history[1:]:
        assert recorded.envelope is not None
        assert recorded.envelope.actor_id == "user:info"
        assert recorded.envelope.actor_role == "information"
        assert recorded.envelope.command == "customers.record_purchase"
        assert recorded.envelope.command_id == buying.command_id
        assert recorded.envelope.reason == "首单"
    assert registering.command_id != buying.command_id


def test_the_feed_shows_the_same_envelopes_as_the_history(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    customers.assign_account_manager(ctx(INTEGRATOR), created.id, "m001", "周敏")

    feed = store.feed(0, 100)

    assert [(e.position, e.envelope) for e in feed] == [
        (e.position, e.envelope) for e in store.history(created.id)
    ]
    assert [e.envelope.command for e in feed if e.envelope] == [
        "customers.register",
        "customers.assign_account_manager",
    ]
    assert feed[1].envelope is not None
    assert (feed[1].envelope.actor_id, feed[1].envelope.actor_role) == ("machine:erp", "integrator")


def test_an_idempotency_key_becomes_the_command_id_of_every_event_and_the_receipt(
    store: Kehu, register_person: Register
) -> None:
    register_person(ctx(idempotency_key="key-7", request_hash="h"))
    stored = store.feed(0, 100, include_receipts=True)
    assert [e.type for e in stored] == ["CommandReceipt.Recorded", "Customer.Registered"]
    for recorded in stored:
        assert recorded.envelope is not None
        assert recorded.envelope.command_id == "key-7"
        assert recorded.envelope.command == "customers.register"


def test_an_event_without_an_envelope_cannot_be_stored(store: Kehu) -> None:
    customer = Customer.register(
        new_id=uuid4(),
        kind="individual",
        name="李娜",
        phone="13900000000",
        registered_on=date(2025, 1, 1),
    )
    with pytest.raises(MissingActorError):
        store.save(customer)
    assert store.max_position() == 0
    assert not store.exists(customer.id)


def test_a_principal_without_an_id_cannot_record_anything(store: Kehu, customers: CustomerService):
    nobody = Principal(id="", role=Role.ADMIN)
    with pytest.raises(MissingActorError):
        customers.register(ctx(nobody), kind="individual", name="张伟", phone="13812345678")
    assert store.max_position() == 0


# -- results ------------------------------------------------------------------------------


def test_the_result_names_the_aggregate_its_version_and_the_position_of_its_last_event(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    assert created.created
    assert (created.version, created.position) == (1, store.max_position())

    bought = customers.record_purchase(
        ctx(), created.id, order_ref="SO-1", amount="5.00", category="耗材"
    )

    assert bought.as_json() == {
        "id": str(created.id),
        "version": 3,
        "position": store.max_position(),
        "events": ["Customer.PurchaseRecorded", "Customer.Activated"],
    }
    assert not bought.created
    assert store.load(created.id, Customer).version == bought.version
    assert store.history(created.id)[-1].position == bought.position
    assert store.position_of(created.id, 3) == bought.position


def test_a_command_that_changes_nothing_points_at_the_customers_last_event(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person(segment="大客户")
    register_person(phone="13900000000")  # someone else's event comes later
    head = store.max_position()

    unchanged = customers.update_profile(ctx(), created.id, {"segment": "大客户"})

    assert unchanged.events == []
    assert (unchanged.version, unchanged.position) == (1, created.position)
    assert store.max_position() == head


# -- idempotency --------------------------------------------------------------------------


def test_a_repeated_key_with_the_same_request_returns_the_first_result_and_stores_nothing(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    first = register_person(ctx(idempotency_key="reg-1", request_hash="h1"))
    head = store.max_position()

    again = register_person(ctx(idempotency_key="reg-1", request_hash="h1"))

    assert again == first
    assert again.replayed
    assert not first.replayed
    assert store.max_position() == head
    assert len([e for e in store.feed(0, 100) if e.type == "Customer.Registered"]) == 1


def test_a_repeated_purchase_is_recorded_once(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()

    def buy() -> CommandResult:
        return customers.record_purchase(
            ctx(INTEGRATOR, idempotency_key="SO-1", request_hash="h"),
            created.id,
            order_ref="SO-1",
            amount="5.00",
            category="耗材",
        )

    first = buy()
    head = store.max_position()
    customers.assign_account_manager(ctx(), created.id, "m001", "周敏")  # the customer moves on
    again = buy()

    assert again == first
    assert again.version == 3
    assert again.position == first.position
    assert store.max_position() == head + 1
    assert customers.get(ADMIN, created.id).purchase_count == 1


def test_a_repeated_key_with_another_request_is_refused_and_stores_nothing(
    store: Kehu, register_person: Register
) -> None:
    register_person(ctx(idempotency_key="reg-1", request_hash="h1"))
    head = store.max_position()

    with pytest.raises(IdempotencyKeyReused) as refused:
        register_person(ctx(idempotency_key="reg-1", request_hash="h2"), name="李娜")

    assert refused.value.details == {"first_command": "customers.register"}
    assert store.max_position() == head


def test_a_key_reused_for_another_command_is_refused(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person(ctx(idempotency_key="k", request_hash="h"))
    head = store.max_position()
    with pytest.raises(IdempotencyKeyReused):
        customers.churn(ctx(idempotency_key="k", request_hash="h"), created.id, "x")
    assert store.max_position() == head
    assert customers.get(ADMIN, created.id).status == "prospect"


def test_idempotency_keys_are_scoped_to_the_principal(
    store: Kehu, register_person: Register
) -> None:
    mine = register_person(ctx(ADMIN, idempotency_key="k", request_hash="h"))
    theirs = register_person(ctx(INTEGRATOR, idempotency_key="k", request_hash="h"))

    assert not theirs.replayed
    assert theirs.id != mine.id
    assert len([e for e in store.feed(0, 100) if e.type == "Customer.Registered"]) == 2


def test_without_a_key_the_same_request_is_recorded_twice(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    customers.record_interaction(ctx(), created.id, kind="call", summary="回访")
    customers.record_interaction(ctx(), created.id, kind="call", summary="回访")
    assert customers.get(ADMIN, created.id).interaction_count == 2


def test_a_refused_command_leaves_its_key_free(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    with pytest.raises(DomainError, match="positive"):
        customers.record_purchase(
            ctx(idempotency_key="k", request_hash="h"),
            created.id,
            order_ref="SO-1",
            amount="0",
            category="耗材",
        )
    assert store.max_position() == created.position
    bought = customers.record_purchase(
        ctx(idempotency_key="k", request_hash="h"),
        created.id,
        order_ref="SO-1",
        amount="1.00",
        category="耗材",
    )
    assert not bought.replayed
    assert bought.version == 3


# -- optimistic concurrency ---------------------------------------------------------------


def test_a_stale_expected_version_is_a_conflict_and_stores_nothing(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    customers.assign_account_manager(ctx(), created.id, "m001", "周敏")
    head = store.max_position()

    with pytest.raises(VersionConflict) as conflict:
        customers.churn(ctx(expected_version=1), created.id, "价格原因")

    assert conflict.value.details == {"current_version": 2, "expected_version": 1}
    assert store.max_position() == head
    assert customers.get(ADMIN, created.id).status == "prospect"


def test_the_current_expected_version_is_accepted(
    customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    churned = customers.churn(ctx(expected_version=1), created.id, "价格原因")
    assert churned.version == 2
    assert customers.get(ADMIN, created.id).status == "churned"


def test_a_concurrent_write_is_retried_without_losing_either_change(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    attempts: list[int] = []

    def act(customer: Customer) -> None:
        attempts.append(customer.version)
        if len(attempts) == 1:  # another writer saves between our load and our save
            customers.assign_account_manager(ctx(), created.id, "m001", "周敏")
        customer.record_purchase("SO-1", Money.parse("5.00"), "耗材", SHANGHAI_TODAY)

    result = store.execute(
        ctx(), "customers.record_purchase", kind=Customer, target=created.id, act=act
    )

    assert attempts == [1, 2]  # the second attempt saw the other writer's change
    final = store.load(created.id, Customer)
    assert final.account_manager == {"id": "m001", "name": "周敏"}
    assert final.purchase_count == 1
    assert final.status == "active"
    assert result.version == final.version == 4
    assert result.position == store.max_position()
    assert [e.type for e in store.history(created.id)] == [
        "Customer.Registered",
        "Customer.AccountManagerAssigned",
        "Customer.PurchaseRecorded",
        "Customer.Activated",
    ]


def test_a_retried_idempotent_command_stores_one_receipt(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    interfered: list[bool] = []

    def act(customer: Customer) -> None:
        if not interfered:
            interfered.append(True)
            customers.record_interaction(ctx(), created.id, kind="call", summary="回访")
        customer.churn("价格原因")

    context = ctx(idempotency_key="churn-1", request_hash="h")
    result = store.execute(context, "customers.churn", kind=Customer, target=created.id, act=act)
    replay = store.execute(context, "customers.churn", kind=Customer, target=created.id, act=act)

    receipts = [
        e for e in store.feed(0, 100, include_receipts=True) if e.type.startswith("Command")
    ]
    assert len(receipts) == 1
    assert replay == result
    assert replay.replayed
    assert result.version == 3


def test_a_concurrent_write_against_a_pinned_version_is_a_conflict(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    calls: list[int] = []

    def act(customer: Customer) -> None:
        calls.append(1)
        customers.assign_account_manager(ctx(), created.id, "m001", "周敏")
        customer.churn("价格原因")

    with pytest.raises(VersionConflict) as conflict:
        store.execute(
            ctx(expected_version=1), "customers.churn", kind=Customer, target=created.id, act=act
        )

    assert calls == [1]  # not retried
    assert conflict.value.details == {"current_version": 2, "expected_version": 1}
    final = store.load(created.id, Customer)
    assert final.status == "prospect"
    assert final.version == 2


def test_a_command_that_keeps_losing_races_gives_up() -> None:
    store = Kehu({"PERSISTENCE_MODULE": "eventsourcing.popo"}, command_retries=2)
    customers = CustomerService(store, clock=fixed_clock)
    created = customers.register(ctx(), kind="individual", name="张伟", phone="13812345678")
    calls: list[int] = []

    def act(customer: Customer) -> None:
        calls.append(1)
        customers.record_interaction(ctx(), created.id, kind="call", summary="抢先一步")
        customer.churn("价格原因")

    with pytest.raises(ConcurrencyExhausted):
        store.execute(ctx(), "customers.churn", kind=Customer, target=created.id, act=act)

    assert len(calls) == 3
    final = store.load(created.id, Customer)
    assert final.status == "prospect"
    assert final.interaction_count == 3


# -- identity and existence ---------------------------------------------------------------


def test_registering_the_same_uscc_twice_is_refused(
    store: Kehu, customers: CustomerService
) -> None:
    first = customers.register(
        ctx(), kind="enterprise", name="福州青禾贸易有限公司", phone="13812345678", uscc=USCC_A
    )
    assert first.id == enterprise_customer_id(USCC.parse(USCC_A))
    head = store.max_position()

    with pytest.raises(AlreadyExists) as refused:
        customers.register(
            ctx(),
            kind="enterprise",
            name="青禾贸易",
            email="a@qinghe.cn",
            uscc=" " + USCC_A.lower(),
        )

    assert refused.value.details == {"id": str(first.id)}
    assert store.max_position() == head
    assert customers.get(ADMIN, first.id).name == "福州青禾贸易有限公司"


def test_an_unknown_customer_is_not_found(store: Kehu, customers: CustomerService) -> None:
    unknown = uuid4()
    with pytest.raises(NotFound):
        customers.churn(ctx(), unknown, "x")
    with pytest.raises(NotFound):
        customers.get(ADMIN, unknown)
    with pytest.raises(NotFound):
        customers.history(ADMIN, unknown)
    assert store.max_position() == 0


def test_an_api_key_is_not_found_as_a_customer(store: Kehu, customers: CustomerService) -> None:
    from application.keys import ApiKeys

    _, issued = ApiKeys(store).issue(ctx(), Role.AUDITOR, "审计员")
    with pytest.raises(NotFound):
        customers.get(ADMIN, issued.id)
    with pytest.raises(NotFound):
        customers.churn(ctx(), issued.id, "x")


# -- past states --------------------------------------------------------------------------


def test_a_past_version_shows_the_customer_as_it_was(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    customers.update_profile(ctx(), created.id, {"segment": "大客户"})
    customers.churn(ctx(), created.id, "价格原因")

    first = customers.get(ADMIN, created.id, version=1)
    second = store.load(created.id, Customer, version=2)

    assert (first.version, first.segment, first.status) == (1, None, "prospect")
    assert (second.version, second.segment, second.status) == (2, "大客户", "prospect")
    assert customers.get(ADMIN, created.id).status == "churned"
    with pytest.raises(NotFound) as missing:
        store.load(created.id, Customer, version=4)
    assert missing.value.details == {"latest": 3}


def test_the_state_as_of_a_recorded_time_shows_what_was_stored_by_then(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    customers.update_profile(ctx(), created.id, {"segment": "大客户"})
    customers.churn(ctx(), created.id, "价格原因")
    registered, updated, churned = store.history(created.id)

    at_registration = customers.get(ADMIN, created.id, as_of=registered.recorded_at)
    at_update = store.load_as_of(created.id, Customer, updated.recorded_at)
    now = store.load_as_of(created.id, Customer, churned.recorded_at + timedelta(days=1))

    assert (at_registration.version, at_registration.segment) == (1, None)
    assert (at_update.version, at_update.segment, at_update.status) == (2, "大客户", "prospect")
    assert (now.version, now.status) == (3, "churned")
    with pytest.raises(NotFound):
        store.load_as_of(created.id, Customer, registered.recorded_at - timedelta(microseconds=1))
    with pytest.raises(NotFound):
        store.load_as_of(uuid4(), Customer, datetime(2030, 1, 1, tzinfo=UTC))


def test_the_state_as_of_a_time_never_splits_one_command(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    customers.record_purchase(ctx(), created.id, order_ref="SO-1", amount="5.00", category="耗材")
    _, purchase, _ = store.history(created.id)  # the activation has a later timestamp

    between = store.load_as_of(created.id, Customer, purchase.recorded_at)

    assert between.version in (1, 3)


# -- the feed -----------------------------------------------------------------------------


def test_the_feed_leaves_out_receipts_and_keys_unless_asked(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    from application.keys import ApiKeys

    created = register_person(ctx(idempotency_key="k1", request_hash="h"))
    ApiKeys(store).issue(ctx(), Role.INTEGRATOR, "ERP")
    customers.churn(ctx(idempotency_key="k2", request_hash="h"), created.id, "x")

    assert [e.type for e in store.feed(0, 100)] == ["Customer.Registered", "Customer.Churned"]
    assert [e.type for e in store.feed(0, 100, include_receipts=True)] == [
        "CommandReceipt.Recorded",
        "Customer.Registered",
        "ApiKey.Issued",
        "CommandReceipt.Recorded",
        "Customer.Churned",
    ]


def test_the_feed_pages_in_global_order(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    for n in range(3):
        created = register_person(
            ctx(idempotency_key=f"r{n}", request_hash="h"), phone=f"1381234567{n}"
        )
        customers.record_purchase(
            ctx(idempotency_key=f"p{n}", request_hash="h"),
            created.id,
            order_ref=f"SO-{n}",
            amount="1.00",
            category="耗材",
        )
    everything = store.feed(0, 100)
    assert len(everything) == 9  # 3 x (Registered, PurchaseRecorded, Activated)

    pages: list[list[Any]] = []
    after = 0
    while page := store.feed(after, 2):
        assert len(page) <= 2
        pages.append(page)
        assert page[-1].position is not None
        after = page[-1].position
    assert [len(p) for p in pages] == [2, 2, 2, 2, 1]
    assert [e.position for p in pages for e in p] == [e.position for e in everything]

    # A page is filled past the receipts that sit between business events.
    first_three = store.feed(0, 3)
    assert len(first_three) == 3
    assert [e.position for e in first_three] == [2, 4, 5]
    assert store.feed(store.max_position(), 10) == []
    positions_seen = [e.position or 0 for e in everything]
    assert positions_seen == sorted(positions_seen)
    assert set(positions_seen) < set(positions(store))


def test_the_feed_after_a_position_starts_just_after_it(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    customers.assign_account_manager(ctx(), created.id, "m001", "周敏")
    customers.churn(ctx(), created.id, "x")
    assert [(e.position, e.version) for e in store.feed(1, 100)] == [(2, 2), (3, 3)]
    assert [e.type for e in store.feed(2, 1)] == ["Customer.Churned"]
    assert store.feed(0, 0) == []


# -- roles --------------------------------------------------------------------------------


def test_an_auditor_cannot_register_and_nothing_is_stored(
    store: Kehu, customers: CustomerService
) -> None:
    with pytest.raises(Forbidden) as refused:
        customers.register(ctx(AUDITOR), kind="individual", name="张伟", phone="13812345678")
    assert refused.value.details == {"role": "auditor", "action": "customers.register"}
    assert store.max_position() == 0


def test_an_auditor_reads_but_cannot_change_a_customer(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    created = register_person()
    assert customers.get(AUDITOR, created.id).name == "张伟"
    assert [e.type for e in customers.history(AUDITOR, created.id)] == ["Customer.Registered"]
    with pytest.raises(Forbidden):
        customers.churn(ctx(AUDITOR), created.id, "x")
    with pytest.raises(Forbidden):
        customers.update_profile(ctx(AUDITOR), created.id, {"segment": "大客户"})
    assert store.max_position() == created.position


def test_a_section_runs_only_its_own_commands(
    store: Kehu, customers: CustomerService, register_person: Register
) -> None:
    relationship = Principal(id="user:rel", role=Role.RELATIONSHIP)
    created = register_person(ctx(INFORMATION))
    customers.assign_account_manager(ctx(relationship), created.id, "m001", "周敏")
    head = store.max_position()
    with pytest.raises(Forbidden):
        customers.assign_account_manager(ctx(INFORMATION), created.id, "m002", "陈涛")
    with pytest.raises(Forbidden):
        register_person(ctx(relationship), phone="13900000000")
    with pytest.raises(Forbidden):
        customers.history(INFORMATION, created.id)
    assert store.max_position() == head


def test_a_context_names_its_own_command_id_when_no_key_is_given() -> None:
    one = CommandContext.for_principal(ADMIN)
    two = CommandContext.for_principal(ADMIN)
    assert one.command_id != two.command_id
    assert not one.idempotent
    assert one.correlation_id == one.causation_id == one.command_id
