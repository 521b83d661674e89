"""Snapshots: every aggregate of the demo data snapshotted holds none of the personal data its
events hold (it is encrypted like theirs), and loads to the state its events replay to."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.context import CommandContext, Principal, Role
from application.demo import seed
from application.store import INTERNAL, SNAPSHOT_INTERVAL, aggregate_state
from domain.base import ERASED, personal_layout
from domain.customer import Customer
from interfaces.bootstrap import System

ADMIN = Principal(id="user:admin", role=Role.ADMIN, name="admin")


def personal_texts(event: Any) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if len(value) >= 4 and value != ERASED:
                found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for name, entries in personal_layout(type(event)).items():
        value = event.__dict__.get(name)
        walk({k: v for k, v in value.items() if k in entries} if entries else value)
    return found


def test_snapshots_hold_no_personal_data_and_load_as_the_events_replay(system: System) -> None:
    seed(system.store, customers=8)
    store = system.store
    assert store.snapshots is not None
    personal: set[str] = set()
    aggregates: set[UUID] = set()
    for notification in store.iter_notifications(0):
        event = store.mapper.to_domain_event(notification)
        if type(event).__qualname__.split(".")[0] not in INTERNAL:
            aggregates.add(event.originator_id)
            personal |= personal_texts(event)
    assert len(personal) > 30

    for aggregate_id in aggregates:
        aggregate: Any = store.repository.get(aggregate_id)
        store.snapshots.put([type(aggregate).Snapshot.take(aggregate)])
    raw = b"".join(
        bytes(s.state)
        for aggregate_id in aggregates
        for s in store.snapshots.recorder.select_events(aggregate_id)
    )
    leaked = sorted(text for text in personal if text.encode("utf-8") in raw)
    assert leaked == []

    for aggregate_id in aggregates:
        from_snapshot = store.repository.get(aggregate_id)
        replayed: Any = None
        for event in store.events.get(aggregate_id):
            replayed = event.mutate(replayed)
        assert aggregate_state(from_snapshot) == aggregate_state(replayed), aggregate_id


def test_a_long_history_is_snapshotted_as_it_grows(system: System) -> None:
    ctx = CommandContext.for_principal(ADMIN)
    customer = system.customers.register(
        ctx, kind="individual", name="长历史", phone="13700002222"
    ).id
    for n in range(SNAPSHOT_INTERVAL + 5):
        system.customers.record_interaction(ctx, customer, kind="call", summary=f"回访 {n}")
    assert system.store.snapshots is not None
    snapshots = system.store.snapshots.recorder.select_events(customer)
    assert [s.originator_version for s in snapshots] == [SNAPSHOT_INTERVAL]
    assert system.store.load(customer, Customer).interaction_count == SNAPSHOT_INTERVAL + 5
