"""Personal data is stored under its subject's key: in events and in snapshots, entry by
entry where only some entries of a mapping are personal; destroying the key erases it."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag

from application.context import CommandContext
from application.privacy import mask_event_payload
from application.store import Kehu, PersonalDataWithoutSubject
from application.subject_keys import (
    KeyStoreError,
    MasterKeys,
    MemoryKeyTable,
    SubjectKeys,
    parse_token,
)
from domain.base import ERASED, Envelope
from domain.customer import Customer
from tests.application.conftest import ADMIN, ID_NUMBER, SHANGHAI_TODAY

NAME, PHONE = "欧阳数据", "13700001111"


def stored_states(store: Kehu, recorder: Any, originator: Any) -> bytes:
    return b"".join(bytes(e.state) for e in recorder.select_events(originator))


def register(store: Kehu) -> Customer:
    customer = Customer.register(
        new_id=uuid4(),
        kind="individual",
        name=NAME,
        phone=PHONE,
        id_number=ID_NUMBER,
        registered_on=SHANGHAI_TODAY,
    )
    store.record_many(CommandContext.for_principal(ADMIN), "customers.register", [customer])
    return customer


def test_events_hold_tokens_and_read_back_as_given() -> None:
    store = Kehu({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    customer = register(store)
    raw = stored_states(store, store.recorder, customer.id)
    assert NAME.encode() not in raw
    assert PHONE.encode() not in raw
    assert b"kehu-pii:1:" + customer.id.hex.encode() in raw
    loaded = store.load(customer.id, Customer)
    assert (loaded.name, loaded.phone, loaded.id_number) == (NAME, PHONE, ID_NUMBER)


def test_only_the_personal_entries_of_a_profile_change_are_sealed_and_masked() -> None:
    store = Kehu({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    customer = register(store)
    customer.update_profile(name="欧阳改名", segment="大客户")
    store.record_many(CommandContext.for_principal(ADMIN), "customers.update_profile", [customer])
    raw = stored_states(store, store.recorder, customer.id)
    assert "大客户".encode() in raw
    assert "欧阳改名".encode() not in raw
    changed = store.history(customer.id)[-1]
    assert changed.payload["changes"] == {"name": "欧阳改名", "segment": "大客户"}
    masked = mask_event_payload(Customer.ProfileUpdated, changed.payload)
    assert masked["changes"]["segment"] == "大客户"
    assert masked["changes"]["name"] != "欧阳改名"


def test_snapshots_are_sealed_and_erased_like_events() -> None:
    store = Kehu({"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"})
    customer = register(store)
    store.take_snapshot(customer.id)
    assert store.snapshots is not None
    raw = stored_states(store, store.snapshots.recorder, customer.id)
    assert raw
    assert NAME.encode() not in raw
    assert PHONE.encode() not in raw
    assert store.repository.get(customer.id).name == NAME
    store.keys.destroy(customer.id)
    erased = store.repository.get(customer.id)
    assert (erased.name, erased.phone, erased.id_number) == (ERASED, ERASED, ERASED)
    assert erased.kind == "individual"


def test_an_event_with_personal_data_and_no_subject_is_not_stored() -> None:
    store = Kehu({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    customer = Customer.register(
        new_id=uuid4(), kind="individual", name=NAME, phone=PHONE, registered_on=SHANGHAI_TODAY
    )
    pending = list(customer.collect_events())
    envelope = Envelope("a", "admin", "customers.register", "c", "c", "c")
    for event in pending:
        object.__setattr__(event, "envelope", envelope)
    with pytest.raises(PersonalDataWithoutSubject):
        store.save(*pending)
    assert store.recorder.select_events(customer.id) == []


def test_a_changed_token_is_refused_and_a_wrong_master_key_is_named() -> None:
    master = MasterKeys.from_secrets("first-master-key-0123456789")
    keys = SubjectKeys(MemoryKeyTable(), master)
    subject = uuid4()
    token = keys.encrypt(subject, "秘密".encode())
    assert keys.decrypt(token) == "秘密".encode()
    _, sealed = parse_token(token)
    forged = token[: -len("AAAA")] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises((InvalidTag, ValueError)):
        keys.decrypt(forged)
    assert len(sealed) > 28  # nonce and tag around the ciphertext
    other = SubjectKeys(keys.table, MasterKeys.from_secrets("another-master-key-0123456"))
    with pytest.raises(KeyStoreError, match="not configured"):
        other.decrypt(token)
    keys.destroy(subject)
    assert keys.decrypt(token) is None
