"""The foundation on real stores: SQLite file and PostgreSQL, the same tests on each."""

from __future__ import annotations

import multiprocessing
from datetime import date
from decimal import Decimal

import pytest
from eventsourcing.persistence import IntegrityError

from application.context import CommandContext, Principal, Role
from application.demo import seed
from application.errors import IdempotencyKeyReused, VersionConflict
from application.settings import Settings
from domain.base import Envelope
from domain.values import InvalidUSCC
from interfaces.bootstrap import System, build
from projections.customers import CustomerFilter

ADMIN = Principal(id="user:admin", role=Role.ADMIN, name="admin")
USCC_A = "91350100M000100Y43"


def ctx(**kwargs: object) -> CommandContext:
    return CommandContext.for_principal(ADMIN, **kwargs)  # type: ignore[arg-type]


def register_enterprise(system: System, **kwargs: object) -> object:
    fields = {
        "kind": "enterprise",
        "name": "福州青禾贸易有限公司",
        "phone": "13812345678",
        "uscc": USCC_A,
        "segment": "大客户",
        "tags": ["华东", "重点跟进"],
    } | kwargs
    return system.customers.register(ctx(), **fields)  # type: ignore[arg-type]


def test_every_stored_event_names_its_actor_and_command(system: System) -> None:
    created = register_enterprise(system)
    system.customers.record_purchase(
        ctx(reason="首单"),
        created.id,
        order_ref="SO-1",
        amount="1200.50",
        category="耗材",
        occurred_on=date(2025, 3, 1),
    )
    events = system.store.feed(0, 100, include_receipts=True)
    assert [e.type for e in events] == [
        "Customer.Registered",
        "Customer.PurchaseRecorded",
        "Customer.Activated",
    ]
    for recorded in events:
        assert isinstance(recorded.envelope, Envelope)
        assert recorded.envelope.actor_id == "user:admin"
        assert recorded.envelope.actor_role == "admin"
        assert recorded.envelope.command.startswith("customers.")
        assert recorded.envelope.command_id
    assert events[1].envelope is not None
    assert events[1].envelope.reason == "首单"


def test_the_customer_read_model_sums_purchases_exactly(system: System) -> None:
    created = register_enterprise(system)
    for n, amount in enumerate(["0.10", "0.20", "1234.57"]):
        system.customers.record_purchase(
            ctx(),
            created.id,
            order_ref=f"SO-{n}",
            amount=amount,
            category="耗材",
            occurred_on=date(2025, 3, n + 1),
        )
    system.customers.record_interaction(ctx(), created.id, kind="visit", summary="上门拜访")
    system.catch_up()
    row = system.customer_queries.get(str(created.id))
    assert row is not None
    assert row.purchase_count == 3
    assert row.purchase_totals == {"CNY": Decimal("1234.87")}
    assert row.status == "active"
    assert row.last_purchase_on == date(2025, 3, 3)
    assert row.interaction_count == 1
    assert row.last_interaction_kind == "visit"
    assert row.tags == ["华东", "重点跟进"]


def test_a_projection_applies_each_event_exactly_once(system: System) -> None:
    created = register_enterprise(system)
    system.customers.record_purchase(
        ctx(), created.id, order_ref="SO-1", amount="10.00", category="耗材"
    )
    system.catch_up()
    assert system.catch_up() == 0  # nothing left to do
    projection = system.projections[0]
    old_events = list(system.store.feed(0, 10, include_receipts=True))
    with pytest.raises(IntegrityError):
        # Replaying an already-tracked batch is refused by the tracking record, and the
        # view rows written before the refusal are rolled back with it.
        projection.process_batch([e.event for e in old_events], old_events[-1].position or 0)
    row = system.customer_queries.get(str(created.id))
    assert row is not None
    assert row.purchase_count == 1


def test_read_models_rebuild_from_position_zero_to_the_same_rows(system: System) -> None:
    seed(system.store, customers=20)
    system.catch_up()
    before, total = system.customer_queries.page(CustomerFilter(), limit=100)
    projection = system.projections[0]
    projection.start_over()
    assert projection.position() == 0
    system.catch_up()
    after, total_after = system.customer_queries.page(CustomerFilter(), limit=100)
    assert total_after == total == 20
    assert after == before


def test_an_idempotent_command_survives_a_restart(settings: Settings, system: System) -> None:
    first = system.customers.register(
        ctx(idempotency_key="key-1", request_hash="h1"),
        kind="individual",
        name="张伟",
        phone="13912345678",
    )
    head = system.store.max_position()
    system.close()
    again = build(settings)
    try:
        replay = again.customers.register(
            ctx(idempotency_key="key-1", request_hash="h1"),
            kind="individual",
            name="张伟",
            phone="13912345678",
        )
        assert replay == first
        assert again.store.max_position() == head
        with pytest.raises(IdempotencyKeyReused):
            again.customers.register(
                ctx(idempotency_key="key-1", request_hash="other"),
                kind="individual",
                name="李娜",
                phone="13912345679",
            )
        assert again.store.max_position() == head
    finally:
        again.close()


def test_a_stale_expected_version_is_a_conflict_and_records_nothing(system: System) -> None:
    created = register_enterprise(system)
    system.customers.assign_account_manager(ctx(), created.id, "m1", "周敏")
    head = system.store.max_position()
    with pytest.raises(VersionConflict) as refused:
        system.customers.churn(ctx(expected_version=1), created.id, "业务调整")
    assert refused.value.details["current_version"] == 2
    assert system.store.max_position() == head


def test_invalid_input_records_nothing(system: System) -> None:
    head = system.store.max_position()
    with pytest.raises(InvalidUSCC):
        register_enterprise(system, uscc="91350100M000100Y44")
    assert system.store.max_position() == head


def _purchase_many(settings_json: str, customer_id: str, prefix: str, count: int) -> None:
    settings = Settings.model_validate_json(settings_json)
    system = build(settings)
    try:
        from uuid import UUID

        for n in range(count):
            system.customers.record_purchase(
                CommandContext.for_principal(Principal(id=f"proc:{prefix}", role=Role.INTEGRATOR)),
                UUID(customer_id),
                order_ref=f"{prefix}-{n}",
                amount="1.00",
                category="耗材",
            )
    finally:
        system.close()


def _settings_json(settings: Settings) -> str:
    data = settings.model_dump(mode="json")
    for secret in ("database_url", "master_key"):
        value = getattr(settings, secret)
        if value is not None:
            data[secret] = value.get_secret_value()
    import json

    return json.dumps(data)


def test_two_processes_updating_one_customer_lose_no_update(
    settings: Settings, system: System
) -> None:
    created = register_enterprise(system)
    per_process = 25
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(
            target=_purchase_many,
            args=(_settings_json(settings), str(created.id), prefix, per_process),
        )
        for prefix in ("A", "B")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    customer = system.customers.get(ADMIN, created.id)
    assert customer.purchase_count == 2 * per_process
    # Registered, Activated and one event per purchase: every write is there, in order.
    assert customer.version == 2 + 2 * per_process
    system.catch_up()
    row = system.customer_queries.get(str(created.id))
    assert row is not None
    assert row.purchase_count == 2 * per_process
    assert row.purchase_totals == {"CNY": Decimal("50.00")}
