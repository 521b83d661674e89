"""The command pipeline on in-memory persistence: envelope, idempotency, concurrency,
roles, keys, demo data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from application.context import CommandContext, Principal, Role
from application.customers import CustomerService
from application.demo import seed
from application.errors import (
    AlreadyExists,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    Unauthenticated,
    VersionConflict,
)
from application.keys import ApiKeys
from application.permissions import COMMANDS, authorize
from application.store import Kehu
from domain.base import MissingActorError
from domain.customer import Customer
from domain.values import USCC, Money, ResidentIdNumber

NOW = datetime(2025, 6, 30, 20, 0, tzinfo=UTC)  # 2025-07-01 04:00 in Shanghai
ADMIN = Principal(id="u:admin", role=Role.ADMIN)
OTHER = Principal(id="u:other", role=Role.INTEGRATOR)
USCC_A = "91350100M000100Y43"


@pytest.fixture
def store() -> Kehu:
    return Kehu({"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def customers(store: Kehu) -> CustomerService:
    return CustomerService(store, clock=lambda: NOW)


def ctx(principal: Principal = ADMIN, **kwargs: object) -> CommandContext:
    return CommandContext.for_principal(principal, **kwargs)  # type: ignore[arg-type]


def register(customers: CustomerService, **kwargs: object) -> object:
    return customers.register(ctx(**kwargs), kind="individual", name="张伟", phone="13812345678")


def test_business_dates_default_to_today_in_shanghai(customers: CustomerService) -> None:
    result = register(customers)
    assert customers.get(ADMIN, result.id).registered_on == date(2025, 7, 1)  # type: ignore[attr-defined]


def test_every_event_carries_the_envelope_of_its_command(
    store: Kehu, customers: CustomerService
) -> None:
    result = register(customers, correlation_id="corr-1", reason="新客户")
    [recorded] = store.history(result.id)  # type: ignore[attr-defined]
    assert recorded.envelope is not None
    assert recorded.envelope.actor_id == "u:admin"
    assert recorded.envelope.command == "customers.register"
    assert recorded.envelope.correlation_id == "corr-1"
    assert recorded.envelope.reason == "新客户"
    assert recorded.position == result.position  # type: ignore[attr-defined]


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


def test_the_result_position_is_the_commands_last_event(
    store: Kehu, customers: CustomerService
) -> None:
    created = register(customers)
    bought = customers.record_purchase(
        ctx(), created.id, order_ref="A", amount="1.00", category="x"
    )  # type: ignore[attr-defined]
    assert bought.events == ["Customer.PurchaseRecorded", "Customer.Activated"]
    assert bought.version == 3
    assert bought.position == store.max_position()


def test_a_repeated_key_returns_the_first_result_and_records_nothing(
    store: Kehu, customers: CustomerService
) -> None:
    first = register(customers, idempotency_key="k1", request_hash="h")
    head = store.max_position()
    again = register(customers, idempotency_key="k1", request_hash="h")
    assert again == first
    assert again.replayed  # type: ignore[attr-defined]
    assert store.max_position() == head
    with pytest.raises(IdempotencyKeyReused):
        register(customers, idempotency_key="k1", request_hash="other")
    # Keys belong to the principal that sent them.
    theirs = customers.register(
        ctx(OTHER, idempotency_key="k1", request_hash="h"),
        kind="individual",
        name="王芳",
        phone="13700000000",
    )
    assert theirs.id != first.id  # type: ignore[attr-defined]


def test_a_stale_version_is_a_conflict(store: Kehu, customers: CustomerService) -> None:
    created = register(customers)
    customers.assign_account_manager(ctx(), created.id, "m1", "周敏")  # type: ignore[attr-defined]
    head = store.max_position()
    with pytest.raises(VersionConflict) as conflict:
        customers.churn(ctx(expected_version=1), created.id, "x")  # type: ignore[attr-defined]
    assert conflict.value.details == {"current_version": 2, "expected_version": 1}
    assert store.max_position() == head


def test_a_concurrent_write_is_retried_on_fresh_state(
    store: Kehu, customers: CustomerService
) -> None:
    created = register(customers)
    cid = created.id  # type: ignore[attr-defined]
    interfered = []

    def act(customer: Customer) -> None:
        if not interfered:  # another writer gets in between our load and our save
            interfered.append(True)
            customers.assign_account_manager(ctx(), cid, "m1", "周敏")
        customer.record_purchase("SO-1", Money.parse("5.00"), "x", date(2025, 7, 1))

    result = store.execute(ctx(), "customers.record_purchase", kind=Customer, target=cid, act=act)
    final = store.load(cid, Customer)
    assert final.account_manager == {"id": "m1", "name": "周敏"}
    assert final.purchase_count == 1
    assert result.version == final.version == 4


def test_a_concurrent_write_with_a_pinned_version_is_a_conflict(
    store: Kehu, customers: CustomerService
) -> None:
    created = register(customers)
    cid = created.id  # type: ignore[attr-defined]

    def act(customer: Customer) -> None:
        customers.assign_account_manager(ctx(), cid, "m1", "周敏")
        customer.churn("x")

    with pytest.raises(VersionConflict):
        store.execute(
            ctx(expected_version=1), "customers.churn", kind=Customer, target=cid, act=act
        )
    assert store.load(cid, Customer).status == "prospect"


def test_the_same_uscc_cannot_be_registered_twice(customers: CustomerService) -> None:
    customers.register(ctx(), kind="enterprise", name="青禾", phone="13812345678", uscc=USCC_A)
    with pytest.raises(AlreadyExists):
        customers.register(
            ctx(), kind="enterprise", name="青禾二", phone="13812345679", uscc=USCC_A
        )


def test_unknown_ids_and_past_states(customers: CustomerService) -> None:
    with pytest.raises(NotFound):
        customers.churn(ctx(), uuid4(), "x")
    created = register(customers)
    customers.update_profile(ctx(), created.id, {"segment": "大客户"})  # type: ignore[attr-defined]
    assert customers.get(ADMIN, created.id, version=1).segment is None  # type: ignore[attr-defined]
    assert customers.get(ADMIN, created.id).segment == "大客户"  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        customers.get(ADMIN, created.id, as_of=datetime(2000, 1, 1, tzinfo=UTC))  # type: ignore[attr-defined]


def test_a_role_without_the_command_is_refused_and_nothing_is_stored(
    store: Kehu, customers: CustomerService
) -> None:
    auditor = Principal(id="u:audit", role=Role.AUDITOR)
    with pytest.raises(Forbidden):
        customers.register(ctx(auditor), kind="individual", name="x", phone="13812345678")
    assert store.max_position() == 0
    for command in COMMANDS:
        authorize(ADMIN, command)
        with pytest.raises(Forbidden):
            authorize(auditor, command)


def test_api_keys_are_stored_hashed_and_can_be_revoked(store: Kehu) -> None:
    keys = ApiKeys(store)
    token, _ = keys.issue(ctx(), Role.AUDITOR, "审计员")
    _, key_id, secret = token.split("_", 2)
    assert keys.authenticate(token).role is Role.AUDITOR
    stored = b"".join(n.state for n in store.recorder.select_notifications(1, 100))
    assert secret.encode() not in stored
    for bad in (None, "kehu_x", f"kehu_{key_id}_wrong", "kehu_000000000000_x"):
        with pytest.raises(Unauthenticated):
            keys.authenticate(bad)
    keys.revoke(ctx(), key_id, "离职")
    with pytest.raises(Unauthenticated):
        keys.authenticate(token)
    with pytest.raises(Forbidden):
        keys.issue(ctx(Principal(id="u:x", role=Role.INTEGRATOR)), Role.ADMIN, "x")


def test_demo_data_is_valid_and_repeatable(store: Kehu) -> None:
    summary = seed(store, customers=25, clock=lambda: NOW)
    assert summary.customers == 25
    registered = [e for e in store.feed(0, 10_000) if e.type == "Customer.Registered"]
    assert len(registered) == 25
    for event in registered:
        if event.payload["uscc"]:
            USCC.parse(event.payload["uscc"])
        if event.payload["id_number"]:
            ResidentIdNumber.parse(event.payload["id_number"])
        assert event.envelope is not None
        assert event.envelope.actor_id == "system:demo"
    other = Kehu({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    seed(other, customers=25, clock=lambda: NOW)
    names = [e.payload["name"] for e in other.feed(0, 10_000) if e.type == "Customer.Registered"]
    assert names == [e.payload["name"] for e in registered]
    purchases = [
        e.payload["occurred_on"]
        for e in store.feed(0, 10_000)
        if e.type == "Customer.PurchaseRecorded"
    ]
    assert min(purchases) < date(2024, 1, 1) < max(purchases)
