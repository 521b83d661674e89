"""A person's PIPL rights end to end on each store: personal data is stored encrypted with
the person's own key; erasure destroys it, after which a byte search of the whole database
(events, keys, read models, audit seals) and of the logs finds none of their name, phone,
email or ID number — and the audit hash chain still verifies."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from application.audit import verify_store
from application.context import Principal, Role
from application.errors import Forbidden, ProcessingRestricted, SubjectErased
from application.settings import Settings
from application.subject_keys import TOKEN_PREFIX
from domain.base import ERASED
from domain.contract import Contract
from domain.customer import Customer, CustomerErased, NothingToCorrect
from interfaces.bootstrap import System, build, init_storage
from tests.conftest import drop_schema, make_settings, postgres_dsn
from tests.support import Clock, as_, at

AUDIT_KEY = "pipl-test-audit-key-0123456789"
ADMIN = Principal(id="user:admin", role=Role.ADMIN, name="admin")
LEGAL = Principal(id="user:legal", role=Role.LEGAL, name="法务")
MARKETING = Principal(id="user:mkt", role=Role.MARKETING, name="营销")

NAME, PHONE, EMAIL, ID_NUMBER = (
    "司马测试员",
    "13987654321",
    "sima.ceshi@example.cn",
    "11010519491231002X",
)
SECRETS = [NAME, PHONE, EMAIL, ID_NUMBER]


@pytest.fixture
def clock() -> Clock:
    return Clock(at(2025, 9, 30, 10, 0))


@pytest.fixture
def pipl_settings(store_kind: str, tmp_path: Path) -> Iterator[Settings]:
    made = make_settings(store_kind, tmp_path / "data", audit_key=AUDIT_KEY)
    try:
        yield made
    finally:
        if made.store == "postgres":
            drop_schema(made.postgres_schema)


@pytest.fixture
def kehu(pipl_settings: Settings, clock: Clock) -> Iterator[System]:
    init_storage(pipl_settings)
    system = build(pipl_settings, clock=clock)
    try:
        yield system
    finally:
        system.close()


def person(kehu: System) -> UUID:
    """A customer whose data reaches several records: interaction, complaint, request."""
    ctx = as_(ADMIN)
    customer = kehu.customers.register(
        ctx, kind="individual", name=NAME, phone=PHONE, email=EMAIL, id_number=ID_NUMBER
    ).id
    kehu.customers.record_interaction(
        ctx, customer, kind="call", summary=f"{NAME} asked about delivery"
    )
    kehu.customers.record_purchase(ctx, customer, order_ref="SO-1", amount="880.00", category="tea")
    kehu.complaints.lodge(
        ctx,
        customer_id=customer,
        channel="phone",
        category="delivery",
        severity="high",
        description=f"late delivery, call {PHONE}",
    )
    kehu.service_requests.open(
        ctx,
        customer_id=customer,
        request_type="consultation",
        channel="phone",
        priority="low",
        description=f"write to {EMAIL}",
    )
    return customer


def database_bytes(kehu: System, settings: Settings) -> bytes:
    """Everything the databases hold, as bytes: on SQLite the files themselves (write-ahead
    log folded in first); on PostgreSQL every row of every table of kehu's schema, as text
    (what a dump holds: old row versions wait in the pages for ``VACUUM FULL``, which kehu
    runs after an erasure but which keeps them while an older transaction may still see
    them — the shared test database has many)."""
    if settings.store == "sqlite":
        chunks = []
        for path in sorted(settings.data_dir.glob("*.sqlite")):
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for path in sorted(settings.data_dir.iterdir()):
            if path.is_file():
                chunks.append(path.read_bytes())
        return b"".join(chunks)
    schema = settings.postgres_schema
    chunks = []
    with psycopg.connect(postgres_dsn()) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [schema],
        ).fetchall()
        for (table,) in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t'):
                chunks.append(row.encode("utf-8"))
    return b"\n".join(chunks)


def found(haystack: bytes) -> list[str]:
    return [s for s in SECRETS if s.encode("utf-8") in haystack]


def test_personal_data_is_stored_encrypted_and_read_back(kehu: System) -> None:
    customer = person(kehu)
    stored = [n.state for n in kehu.store.recorder.select_notifications(start=1, limit=1000)]
    raw = b"".join(bytes(s) for s in stored)
    assert found(raw) == []
    assert TOKEN_PREFIX.encode() in raw
    state = kehu.store.load(customer, Customer)
    assert (state.name, state.phone, state.email, state.id_number) == (
        NAME,
        PHONE,
        EMAIL,
        ID_NUMBER,
    )
    kehu.catch_up()
    row = kehu.customer_queries.get(str(customer))
    assert row is not None
    assert row.name == NAME


def test_erasure_leaves_no_trace_in_the_databases_or_logs_and_the_chain_verifies(
    kehu: System, pipl_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    customer = person(kehu)
    other = kehu.customers.register(
        as_(ADMIN), kind="individual", name="欧阳留存", phone="13711112222"
    ).id
    kehu.catch_up()
    assert found(database_bytes(kehu, pipl_settings)) == [NAME, PHONE, EMAIL]  # read models

    kehu.pipl.erase(as_(LEGAL), customer, "PIPL-2025-001", "the customer asked to be deleted")
    kehu.catch_up()

    assert found(database_bytes(kehu, pipl_settings)) == []
    assert found("\n".join(r.getMessage() for r in caplog.records).encode()) == []
    assert kehu.sealer is not None
    report = verify_store(kehu.sealer.ledger, AUDIT_KEY.encode())
    assert report.ok, [f.describe() for f in report.findings]
    assert report.events == kehu.store.max_position()

    # The aggregate and the read models read erased; the facts stay.
    erased = kehu.store.load(customer, Customer)
    assert (erased.name, erased.phone, erased.email, erased.id_number) == (ERASED,) * 4
    assert erased.privacy == "erased"
    assert erased.purchase_count == 1
    row = kehu.customer_queries.get(str(customer))
    assert row is not None
    assert (row.name, row.phone, row.email) == (ERASED, ERASED, ERASED)
    history = kehu.store.history(customer)
    assert history[1].payload["summary"] == ERASED
    assert history[2].payload["amount"].amount == Decimal("880.00")
    # Someone else's data is untouched.
    assert kehu.store.load(other, Customer).name == "欧阳留存"
    kept = kehu.customer_queries.get(str(other))
    assert kept is not None
    assert kept.name == "欧阳留存"


def test_after_erasure_no_new_personal_data_is_stored_and_a_repeat_is_refused(
    kehu: System,
) -> None:
    customer = person(kehu)
    kehu.pipl.erase(as_(LEGAL), customer, "PIPL-1", "asked")
    head = kehu.store.max_position()
    with pytest.raises(SubjectErased):
        kehu.customers.record_interaction(as_(ADMIN), customer, kind="call", summary="again")
    with pytest.raises(CustomerErased):
        kehu.pipl.erase(as_(LEGAL), customer, "PIPL-2", "asked again")
    assert kehu.store.max_position() == head
    # Facts without personal data still go in (the purchase history stays complete).
    kehu.customers.record_purchase(
        as_(ADMIN), customer, order_ref="SO-2", amount="10.00", category="tea"
    )
    assert kehu.store.max_position() == head + 1


def test_restriction_stops_processing_until_lifted(kehu: System) -> None:
    customer = person(kehu)
    kehu.pipl.restrict(as_(LEGAL), customer, "PIPL-3", "accuracy contested")
    head = kehu.store.max_position()
    with pytest.raises(ProcessingRestricted):
        kehu.customers.record_purchase(
            as_(ADMIN), customer, order_ref="SO-9", amount="1.00", category="tea"
        )
    with pytest.raises(ProcessingRestricted):
        kehu.complaints.lodge(
            as_(ADMIN),
            customer_id=customer,
            channel="phone",
            category="delivery",
            severity="low",
            description="x",
        )
    assert kehu.store.max_position() == head
    kehu.pipl.lift_restriction(as_(LEGAL), customer, "PIPL-3", "resolved")
    kehu.customers.record_purchase(
        as_(ADMIN), customer, order_ref="SO-9", amount="1.00", category="tea"
    )
    assert kehu.store.load(customer, Customer).privacy == "active"


def test_correction_is_a_new_event_and_the_copy_holds_everything(kehu: System) -> None:
    customer = person(kehu)
    kehu.pipl.correct(as_(ADMIN), customer, "PIPL-4", {"name": "司马更正"})
    with pytest.raises(NothingToCorrect):
        kehu.pipl.correct(as_(ADMIN), customer, "PIPL-5", {"name": "司马更正"})
    types = [e.type for e in kehu.store.history(customer)]
    assert types[0] == "Customer.Registered"
    assert "Customer.PersonalDataCorrected" in types
    kehu.catch_up()
    copy = kehu.pipl.copy(LEGAL, customer)
    result, content, digest = kehu.pipl.provide_copy(as_(LEGAL), customer, "PIPL-6")
    assert content == copy.json
    data = json.loads(content)
    kinds = sorted(r["type"] for r in data["records"])
    assert kinds == ["Complaint", "Customer", "ServiceRequest"]
    assert any(e["type"] == "Complaint.Lodged" for e in data["events"])
    assert "司马更正" in copy.document.decode()
    last = kehu.store.history(customer)[-1]
    assert last.type == "Customer.DataCopyProvided"
    assert last.payload["sha256"] == digest == copy.sha256
    assert result.position == kehu.store.max_position()


def test_a_role_without_the_right_is_refused_and_nothing_is_recorded(kehu: System) -> None:
    customer = person(kehu)
    head = kehu.store.max_position()
    for attempt in (
        lambda: kehu.pipl.erase(as_(MARKETING), customer, "x", "y"),
        lambda: kehu.pipl.restrict(as_(MARKETING), customer, "x", "y"),
        lambda: kehu.pipl.provide_copy(as_(MARKETING), customer, "x"),
        lambda: kehu.pipl.correct(as_(MARKETING), customer, "x", {"name": "z"}),
    ):
        with pytest.raises(Forbidden):
            attempt()
    assert kehu.store.max_position() == head


def test_master_key_rotation_rewraps_every_key_and_keeps_data_readable(
    store_kind: str, tmp_path: Path, clock: Clock
) -> None:
    first = make_settings(store_kind, tmp_path / "data", master_key="first-master-key-0123456789")
    try:
        init_storage(first)
        system = build(first, clock=clock)
        customer = person(system)
        system.close()
        rotated = first.model_copy(
            update={
                "master_key": first.master_key.__class__("second-master-key-0123456789"),
                "master_keys_retired": first.master_key,
            }
        )
        system = build(rotated, clock=clock)
        assert system.store.keys.rotate() == 1
        system.close()
        only_new = rotated.model_copy(update={"master_keys_retired": None})
        system = build(only_new, clock=clock)
        assert system.store.load(customer, Customer).name == NAME
        system.close()
    finally:
        if first.store == "postgres":
            drop_schema(first.postgres_schema)


def test_erasure_reaches_the_contracts_the_person_signed(
    kehu: System, pipl_settings: Settings
) -> None:
    from tests.integration.test_contract_store import TERMS

    customer = person(kehu)
    contract = kehu.contracts.draft(
        as_(ADMIN),
        number="HT-PIPL-1",
        title="个人服务合同",
        party_a={"kind": "customer", "customer_id": customer, "signatories": [NAME]},
        party_b={"kind": "organisation", "name": "杭州客乎科技有限公司", "signatories": ["刘建国"]},
        terms=TERMS,
        leading_party="b",
        at=at(2025, 10, 8, 9, 0),
    ).id
    kehu.contracts.submit_for_review(as_(ADMIN), contract, at=at(2025, 10, 9, 9, 0))
    kehu.contracts.approve(as_(LEGAL), contract, comments="ok", at=at(2025, 10, 9, 10, 0))
    kehu.contracts.sign(
        as_(ADMIN), contract, party="a", signatory=NAME, method="seal", signed_at=at(2025, 10, 10)
    )
    kehu.catch_up()
    assert NAME in found(database_bytes(kehu, pipl_settings))

    kehu.pipl.erase(as_(LEGAL), customer, "PIPL-7", "asked")
    kehu.catch_up()

    assert found(database_bytes(kehu, pipl_settings)) == []
    signed = kehu.store.history(contract)[-1]
    assert signed.payload["signatory"] == ERASED
    assert kehu.store.load(contract, Contract).customer_names == {"a": ERASED}
