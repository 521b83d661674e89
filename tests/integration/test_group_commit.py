"""Group commit: concurrent commands share a save, every guarantee kept — each gets its own
position and version, conflicting writers lose no update, a reused key records once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from application.context import CommandContext, Principal, Role
from application.errors import IdempotencyKeyReused
from domain.customer import Customer
from interfaces.bootstrap import System

ADMIN = Principal(id="user:admin", role=Role.ADMIN, name="admin")
THREADS = 16


def together(work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(n)`` in THREADS threads released at once; their results or errors."""
    start = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = work(n)
        except Exception as error:
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def ctx(**kwargs: Any) -> CommandContext:
    return CommandContext.for_principal(ADMIN, **kwargs)


def test_concurrent_registrations_share_saves_and_each_gets_its_own_position(
    system: System,
) -> None:
    results = together(
        lambda n: system.customers.register(
            ctx(), kind="individual", name=f"并发{n}", phone=f"1390000{n:04d}"
        )
    )
    assert all(not isinstance(r, Exception) for r in results), results
    positions = sorted(r.position for r in results)
    assert len(set(positions)) == THREADS
    assert system.store.max_position() == positions[-1]
    for result in results:
        customer = system.store.load(result.id, Customer)
        assert system.store.position_of(customer.id, customer.version) == result.position
    # Registrations arriving during a save wait for the next one and are saved together.
    assert system.store.group_commit.largest_group > 1


def test_writers_of_one_customer_lose_no_update_and_one_key_records_once(
    system: System,
) -> None:
    customer = system.customers.register(
        ctx(), kind="individual", name="同一人", phone="13900009999"
    )
    results = together(
        lambda n: system.customers.record_purchase(
            ctx(), customer.id, order_ref=f"SO-{n}", amount="10.00", category="tea"
        )
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert system.store.load(customer.id, Customer).purchase_count == THREADS

    head = system.store.max_position()
    same_key = together(
        lambda n: system.customers.record_purchase(
            ctx(idempotency_key="one-key", request_hash="first"),
            customer.id,
            order_ref="SO-once",
            amount="10.00",
            category="tea",
        )
    )
    assert all(not isinstance(r, Exception) for r in same_key), same_key
    assert len({(r.position, r.version) for r in same_key}) == 1
    assert sum(not r.replayed for r in same_key) == 1
    assert system.store.max_position() == head + 2  # the purchase and its receipt
    reused = together(
        lambda n: system.customers.record_purchase(
            ctx(idempotency_key="one-key", request_hash=f"other-{n}"),
            customer.id,
            order_ref=f"SO-other-{n}",
            amount="10.00",
            category="tea",
        )
    )
    assert all(isinstance(r, IdempotencyKeyReused) for r in reused)
    assert system.store.max_position() == head + 2
