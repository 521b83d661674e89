"""Demo data: valid Chinese identities, two years of history, repeatable, and every event
recorded by the demo actor."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from application.demo import DEMO_ACTOR, DemoSummary, seed
from application.store import Kehu, RecordedEvent
from domain.customer import Customer, enterprise_customer_id
from domain.values import USCC, Email, MobilePhone, ResidentIdNumber
from tests.application.conftest import SHANGHAI_TODAY, fixed_clock, new_store

CUSTOMERS = 30


@pytest.fixture(scope="module")
def demo() -> tuple[Kehu, DemoSummary]:
    store = new_store()
    summary = seed(store, customers=CUSTOMERS, clock=fixed_clock, batch=7)
    return store, summary


def feed(store: Kehu) -> list[RecordedEvent]:
    return store.feed(0, 100_000, include_receipts=True)


def of_type(store: Kehu, name: str) -> list[RecordedEvent]:
    return [e for e in feed(store) if e.type == name]


def test_the_demo_registers_the_requested_customers(demo: tuple[Kehu, DemoSummary]) -> None:
    store, summary = demo
    registered = of_type(store, "Customer.Registered")
    assert summary.customers == CUSTOMERS
    assert len(registered) == CUSTOMERS
    assert len({e.aggregate_id for e in registered}) == CUSTOMERS
    assert summary.events == len(feed(store))
    assert summary.last_position == store.max_position()


def test_every_registered_identity_is_valid_and_canonical(
    demo: tuple[Kehu, DemoSummary],
) -> None:
    store, _ = demo
    kinds: Counter[str] = Counter()
    for event in of_type(store, "Customer.Registered"):
        payload: dict[str, Any] = event.payload
        kinds[payload["kind"]] += 1
        assert str(MobilePhone.parse(payload["phone"])) == payload["phone"]
        assert str(Email.parse(payload["email"])) == payload["email"]
        if payload["kind"] == "enterprise":
            uscc = USCC.parse(payload["uscc"])
            assert str(uscc) == payload["uscc"]
            assert payload["id_number"] is None
            assert event.aggregate_id == enterprise_customer_id(uscc)
        else:
            assert payload["uscc"] is None
            resident = ResidentIdNumber.parse(payload["id_number"])
            assert str(resident) == payload["id_number"]
            assert resident.birth_date < SHANGHAI_TODAY - timedelta(days=18 * 365)
    assert kinds["enterprise"] > 0
    assert kinds["individual"] > 0


def test_customers_were_registered_within_the_last_two_years(
    demo: tuple[Kehu, DemoSummary],
) -> None:
    store, _ = demo
    dates = [e.payload["registered_on"] for e in of_type(store, "Customer.Registered")]
    assert all(SHANGHAI_TODAY - timedelta(days=730) <= d < SHANGHAI_TODAY for d in dates)


def test_purchases_are_spread_over_about_two_years(demo: tuple[Kehu, DemoSummary]) -> None:
    store, _ = demo
    purchases = of_type(store, "Customer.PurchaseRecorded")
    days = sorted(e.payload["occurred_on"] for e in purchases)
    assert len(purchases) >= CUSTOMERS
    assert days[0] >= SHANGHAI_TODAY - timedelta(days=730)
    assert days[-1] <= SHANGHAI_TODAY
    assert (days[-1] - days[0]).days >= 365
    # Not bunched up: every half year of the last eighteen months has purchases.
    for months_back in (0, 6, 12):
        end = SHANGHAI_TODAY - timedelta(days=30 * months_back)
        start = end - timedelta(days=180)
        assert any(start < d <= end for d in days), (start, end)
    for event in purchases:
        assert event.payload["amount"].amount > 0


def test_every_purchase_falls_on_or_after_its_customers_registration(
    demo: tuple[Kehu, DemoSummary],
) -> None:
    store, _ = demo
    registered_on = {
        e.aggregate_id: e.payload["registered_on"] for e in of_type(store, "Customer.Registered")
    }
    for event in of_type(store, "Customer.PurchaseRecorded"):
        assert event.payload["occurred_on"] >= registered_on[event.aggregate_id]


def test_every_demo_event_names_the_demo_actor(demo: tuple[Kehu, DemoSummary]) -> None:
    store, _ = demo
    events = feed(store)
    assert events
    for event in events:
        assert event.envelope is not None
        assert event.envelope.actor_id == DEMO_ACTOR.id == "system:demo"
        assert event.envelope.actor_role == "system"
        assert event.envelope.command == "demo.seed"
        assert event.envelope.reason == "demo data"
    assert len({e.envelope.command_id for e in events if e.envelope}) == 1


def test_the_stored_demo_history_replays_into_its_customers(
    demo: tuple[Kehu, DemoSummary],
) -> None:
    store, _ = demo
    purchases = Counter(e.aggregate_id for e in of_type(store, "Customer.PurchaseRecorded"))
    for event in of_type(store, "Customer.Registered"):
        customer = store.load(event.aggregate_id, Customer)
        assert customer.purchase_count == purchases[event.aggregate_id]
        if customer.purchase_count == 0:
            assert customer.status in ("prospect", "churned")


def test_the_same_seed_gives_the_same_customers(demo: tuple[Kehu, DemoSummary]) -> None:
    store, _ = demo
    other = new_store()
    seed(other, customers=CUSTOMERS, clock=fixed_clock)

    def roster(s: Kehu) -> list[tuple[Any, ...]]:
        return [
            (e.aggregate_id, e.payload["name"], e.payload["phone"], e.payload["registered_on"])
            for e in of_type(s, "Customer.Registered")
        ]

    assert roster(other) == roster(store)
    assert [e.type for e in feed(other)] == [e.type for e in feed(store)]


def test_another_seed_gives_other_customers(demo: tuple[Kehu, DemoSummary]) -> None:
    store, _ = demo
    other = new_store()
    seed(other, customers=CUSTOMERS, clock=fixed_clock, seed_value=7)

    def names(s: Kehu) -> list[str]:
        return [e.payload["name"] for e in of_type(s, "Customer.Registered")]

    assert names(other) != names(store)
