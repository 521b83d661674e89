"""Benchmark 4 — loading an aggregate against the length of its history.

kehu today loads every aggregate by replaying all of its events (``Kehu.load``: the
library's repository, no snapshot store configured). The library can snapshot: with
``IS_SNAPSHOTTING_ENABLED`` the repository starts from the latest snapshot and replays only
the events after it. Both are measured on kehu's own Customer aggregate — a customer with
100, 1,000 and 10,000 recorded interactions — the second by ``Application.take_snapshot``
on the same store, so the table shows the curve kehu has and the one it could have.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from application.context import CommandContext
from application.demo import DEMO_ACTOR
from application.store import Kehu
from domain.customer import Customer

from .common import DATABASE, Row, drop_schema, ensure_schema, kehu_store, median

SCHEMA = "agg_load"


def _history(store: Kehu, length: int) -> UUID:
    """A customer with ``length`` events: registered, then interactions."""
    ctx = CommandContext.for_principal(DEMO_ACTOR, reason="bench history")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    customer = Customer.register(
        new_id=uuid4(),
        kind="individual",
        name="历史客户",
        phone="13800000000",
        registered_on=start.date(),
    )
    for n in range(length - 1):
        customer.record_interaction(
            "call", "电话回访，确认到货情况", start + timedelta(minutes=n), "周敏"
        )
        if len(customer.pending_events) >= 1000:
            store.record_many(ctx, "bench.history", [customer])
    store.record_many(ctx, "bench.history", [customer])
    assert customer.version == length
    return customer.id


def _time_loads(load: Any, repeat: int) -> float:
    load()  # warm: connections, code paths
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        load()
        samples.append(time.perf_counter() - started)
    return median(samples) * 1000


def run(lengths: tuple[int, ...]) -> tuple[list[Row], dict[str, Any]]:
    drop_schema(DATABASE, SCHEMA)
    ensure_schema(DATABASE, SCHEMA)
    store = kehu_store(SCHEMA, create_table=True)
    later = datetime(2100, 1, 1, tzinfo=UTC)
    curve: list[dict[str, Any]] = []
    try:
        for length in lengths:
            customer_id = _history(store, length)
            repeat = max(5, min(50, 20_000 // length))
            # ``load_as_of`` replays every event (time travel reads never use snapshots).
            replay = _time_loads(
                lambda: store.load_as_of(customer_id, Customer, later),  # noqa: B023
                repeat,
            )
            snapshot = _time_loads(lambda: store.load(customer_id, Customer), repeat)  # noqa: B023
            assert store.load(customer_id, Customer).version == length
            curve.append({"events": length, "replay_ms": replay, "snapshot_ms": snapshot})
            print(
                f"  {length:>6,} events: replay {replay:8.2f} ms, from kehu's snapshot"
                f" {snapshot:6.2f} ms"
            )
    finally:
        store.factory.close()
    last = curve[-1]
    rows = [
        Row(
            f"Aggregate load, {last['events']:,} events, kehu (its snapshot every 100 events)",
            last["snapshot_ms"],
            "ms",
            last["replay_ms"],
            "replaying every event",
            higher_is_better=False,
            goal=("<=", 3.0),
            note=", ".join(f"{p['events']:,}: {p['snapshot_ms']:.2f} ms" for p in curve),
        ),
        Row(
            f"Aggregate load, {last['events']:,} events, replaying every event (as `asOf` does)",
            last["replay_ms"],
            "ms",
            higher_is_better=False,
            note=", ".join(f"{p['events']:,}: {p['replay_ms']:.2f} ms" for p in curve)
            + f"; {last['replay_ms'] / last['events'] * 1000:.0f} µs per event replayed",
        ),
    ]
    return rows, {"curve": curve}
