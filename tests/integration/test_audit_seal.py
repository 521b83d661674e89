"""Tamper evidence on both stores: the sealer hash-chains what the event store holds, and
`kehu audit verify` names whatever someone changed behind the library's back — one byte of a
stored event, a deleted row, a forged row, two swapped events, a forged checkpoint — straight
in the database with SQL. Packages exported for auditors verify offline and expose an edited
line. (Rates are measured in bench/audit_verify.py, never asserted here.)"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from application.audit import AuditLedger, verify_store
from application.audit_chain import Kind, VerifyReport
from application.audit_package import EVENTS, verify_package
from application.demo import seed
from application.settings import Settings
from interfaces.bootstrap import System, build, init_storage
from interfaces.cli.main import app
from tests.conftest import TEST_MASTER_KEY, drop_schema, make_settings, postgres_dsn

KEY = "integration-audit-key-0123456789"
EVERY = 10  # a checkpoint every 10 events, so a small store has several


@pytest.fixture
def audit_settings(store_kind: str, tmp_path: Path) -> Iterator[Settings]:
    made = make_settings(store_kind, tmp_path / "data", audit_key=KEY, audit_checkpoint_every=EVERY)
    try:
        yield made
    finally:
        if made.store == "postgres":
            drop_schema(made.postgres_schema)


@pytest.fixture
def kehu(audit_settings: Settings) -> Iterator[System]:
    init_storage(audit_settings)
    system = build(audit_settings)
    try:
        seed(system.store, customers=3)
        system.catch_up()  # the read models and the seal
        yield system
    finally:
        system.close()


class RawStore:
    """The event store's tables, reached with SQL and not through the library: what a
    database administrator (or an intruder) could do."""

    def __init__(self, system: System) -> None:
        self.settings = system.settings
        self.postgres = self.settings.store == "postgres"
        table = system.store.recorder.events_table_name  # type: ignore[attr-defined]
        if self.postgres:
            schema = self.settings.postgres_schema
            self.events = f'"{schema}"."{table}"'
            self.checkpoints = f'"{schema}"."audit_checkpoints"'
            self.seals = f'"{schema}"."audit_seals"'
            self.position = "notification_id"
        else:
            self.events, self.checkpoints, self.seals = table, "audit_checkpoints", "audit_seals"
            self.position = "rowid"

    def run(self, statement: str, *params: Any) -> list[Any]:
        if self.postgres:
            with psycopg.connect(postgres_dsn(), autocommit=True) as conn:
                cursor = conn.execute(statement.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(Path(self.settings.data_dir) / "events.sqlite") as conn:
            return conn.execute(statement, params).fetchall()

    def row(self, position: int) -> tuple[Any, ...]:
        """(originator_id, version, topic, state) of the event stored at ``position``."""
        (found,) = self.run(
            f"SELECT originator_id, originator_version, topic, state FROM {self.events}"
            f" WHERE {self.position} = ?",
            position,
        )
        return tuple(found)

    def set_state(self, position: int, state: bytes) -> None:
        self.run(f"UPDATE {self.events} SET state = ? WHERE {self.position} = ?", state, position)

    def flip_byte(self, position: int, index: int = 10) -> None:
        state = bytearray(self.row(position)[3])
        state[index] ^= 0x20
        self.set_state(position, bytes(state))

    def delete(self, position: int) -> None:
        self.run(f"DELETE FROM {self.events} WHERE {self.position} = ?", position)

    def move(self, frm: int, to: int) -> None:
        self.run(f"UPDATE {self.events} SET {self.position} = ? WHERE {self.position} = ?", to, frm)

    def insert(self, position: int, originator_id: uuid.UUID, version: int, state: bytes) -> None:
        topic = self.row(1)[2]
        oid: Any = originator_id if self.postgres else originator_id.hex
        self.run(
            f"INSERT INTO {self.events} (originator_id, originator_version, topic, state,"
            f" {self.position}) VALUES (?, ?, ?, ?, ?)",
            oid,
            version,
            topic,
            state,
            position,
        )

    def shift_up_from(self, position: int) -> None:
        """Make room at ``position`` by moving every later event one position on."""
        big = 10_000_000
        self.run(
            f"UPDATE {self.events} SET {self.position} = {self.position} + {big}"
            f" WHERE {self.position} >= ?",
            position,
        )
        self.run(
            f"UPDATE {self.events} SET {self.position} = {self.position} - {big - 1}"
            f" WHERE {self.position} >= ?",
            big,
        )


def verify(kehu: System, **kwargs: Any) -> VerifyReport:
    assert kehu.sealer is not None
    return verify_store(kehu.sealer.ledger, KEY.encode(), default_interval=EVERY, **kwargs)


def named(report: VerifyReport) -> list[tuple[str, int | None]]:
    return [(f.kind.value, f.position) for f in report.findings]


def test_an_untouched_store_verifies_with_every_checkpoint_signed(kehu: System) -> None:
    head = kehu.store.max_position()
    assert head > 4 * EVERY
    report = verify(kehu)
    assert report.ok, [f.describe() for f in report.findings]
    assert (report.events, report.seals) == (head, head)
    assert report.signatures_checked
    assert report.checkpoints == head // EVERY + (1 if head % EVERY else 0)
    assert report.last_checkpoint is not None
    assert report.last_checkpoint.position == head
    assert report.not_yet_sealed == 0
    assert report.unsigned_tail == 0


def test_one_changed_byte_of_a_stored_event_is_named_modified(kehu: System) -> None:
    raw = RawStore(kehu)
    oid, version, topic, _ = raw.row(23)
    raw.flip_byte(23)
    report = verify(kehu)
    assert named(report) == [("modified", 23)]
    first = report.first
    assert first is not None
    assert first.originator_id == str(uuid.UUID(str(oid)))
    assert first.version == version
    assert first.type == topic.rsplit(":", 1)[-1]
    assert "state changed" in first.message


def test_a_deleted_event_is_named_deleted(kehu: System) -> None:
    raw = RawStore(kehu)
    oid, version, _, _ = raw.row(31)
    raw.delete(31)
    report = verify(kehu)
    assert named(report) == [("deleted", 31)]
    assert report.findings[0].originator_id == str(uuid.UUID(str(oid)))
    assert report.findings[0].version == version


def test_a_forged_event_inserted_inside_the_sealed_range_is_named_inserted(kehu: System) -> None:
    raw = RawStore(kehu)
    head = kehu.store.max_position()
    oid, _, _, state = raw.row(40)
    raw.shift_up_from(40)
    raw.insert(40, uuid.UUID(str(oid)), 999, state)
    report = verify(kehu)
    assert report.first is not None
    assert (report.first.kind, report.first.position) == (Kind.INSERTED, 40)
    moved = report.findings[1:]
    assert {f.kind for f in moved} == {Kind.REORDERED}
    assert [(f.sealed_position, f.position) for f in moved] == [
        (p, p + 1) for p in range(40, head + 1)
    ]


def test_two_events_with_swapped_states_are_named_reordered(kehu: System) -> None:
    raw = RawStore(kehu)
    first, second = raw.row(12)[3], raw.row(27)[3]
    raw.set_state(12, second)
    raw.set_state(27, first)
    report = verify(kehu)
    assert named(report) == [("reordered/swapped", 12), ("reordered/swapped", 27)]
    assert [f.sealed_position for f in report.findings] == [27, 12]


def test_two_events_with_swapped_positions_are_named_reordered(kehu: System) -> None:
    raw = RawStore(kehu)
    raw.move(15, -1)
    raw.move(16, 15)
    raw.move(-1, 16)
    report = verify(kehu)
    assert named(report) == [("reordered/swapped", 15), ("reordered/swapped", 16)]
    assert "sealed at position 16" in report.findings[0].message


def test_an_event_rewritten_together_with_its_seal_is_named_modified(kehu: System) -> None:
    raw = RawStore(kehu)
    raw.flip_byte(19)
    oid, version, topic, state = raw.row(19)
    from application.audit_chain import event_digest

    forged = event_digest(19, str(oid), version, topic, state)
    raw.run(f"UPDATE {raw.seals} SET digest = ? WHERE position = ?", forged, 19)
    report = verify(kehu)
    assert report.first is not None
    assert (report.first.kind, report.first.position) == (Kind.MODIFIED, 19)
    assert "hash chain exposes it" in report.first.message


def test_a_forged_checkpoint_signature_is_detected(kehu: System) -> None:
    raw = RawStore(kehu)
    raw.run(f"UPDATE {raw.checkpoints} SET signature = ? WHERE position = ?", bytes(32), 2 * EVERY)
    report = verify(kehu)
    assert named(report) == [("checkpoint forged", 2 * EVERY)]
    # a checkpoint re-signed by another key is no better
    raw.run(f"UPDATE {raw.checkpoints} SET signature = ? WHERE position = ?", b"\x01" * 32, EVERY)
    assert named(verify(kehu))[0] == ("checkpoint forged", EVERY)


def test_events_after_the_last_seal_are_not_yet_sealed_until_the_sealer_runs(
    kehu: System,
) -> None:
    before = kehu.store.max_position()
    seed(kehu.store, customers=1, seed_value=7)
    added = kehu.store.max_position() - before
    report = verify(kehu)
    assert report.ok
    assert report.not_yet_sealed == added
    kehu.catch_up()
    report = verify(kehu)
    assert report.ok
    assert report.not_yet_sealed == 0
    assert report.seals == before + added


def test_a_range_is_verified_from_the_signed_checkpoint_before_it(kehu: System) -> None:
    raw = RawStore(kehu)
    raw.flip_byte(5)  # before the range: not looked at
    report = verify(kehu, first=25, last=35)
    assert report.ok, report.findings
    assert (report.after, report.through) == (20, 40)
    assert report.events == 20
    raw.delete(33)
    assert named(verify(kehu, first=25, last=35)) == [("deleted", 33)]


def test_the_running_worker_seals_what_commands_store(kehu: System) -> None:
    assert kehu.sealer is not None
    kehu.start_projections()
    seed(kehu.store, customers=1, seed_value=11)
    head = kehu.store.max_position()
    deadline = time.monotonic() + 20
    while verify(kehu).seals < head and time.monotonic() < deadline:
        time.sleep(0.05)
    kehu.sealer.stop()  # stops following and signs what it sealed since its last checkpoint
    report = verify(kehu)
    assert report.ok, report.findings
    assert report.seals == head
    assert report.unsigned_tail == 0


@pytest.mark.postgres
def test_a_gap_in_positions_is_not_a_deletion_but_an_event_forged_into_it_is_inserted(
    tmp_path: Path,
) -> None:
    settings = make_settings("postgres", tmp_path, audit_key=KEY, audit_checkpoint_every=EVERY)
    try:
        init_storage(settings)
        system = build(settings)
        try:
            seed(system.store, customers=1)
            raw = RawStore(system)
            head = system.store.max_position()
            raw.run(  # a rolled-back transaction used up these ids
                f"SELECT nextval(pg_get_serial_sequence('{raw.events}', 'notification_id'))"
                " FROM generate_series(1, 3)"
            )
            seed(system.store, customers=1, seed_value=5)
            system.catch_up()
            report = verify(system)
            assert report.ok, report.findings
            assert report.seals == system.store.max_position() - 3
            oid, _, _, state = raw.row(head)
            raw.insert(head + 2, uuid.UUID(str(oid)), 999, state)
            assert named(verify(system)) == [("inserted", head + 2)]
        finally:
            system.close()
    finally:
        drop_schema(settings.postgres_schema)


# -- the package ---------------------------------------------------------------------------------


def test_an_exported_package_verifies_offline_and_exposes_an_edited_line(
    kehu: System, tmp_path: Path
) -> None:
    from application.audit_package import export_package

    assert kehu.sealer is not None
    out = tmp_path / "package"
    summary = export_package(kehu.sealer.ledger, out, KEY.encode(), default_interval=EVERY)
    head = kehu.store.max_position()
    assert (summary.events, summary.seals, summary.through) == (head, head, head)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["events"] == head
    assert manifest["signature"]
    assert "kehu audit verify --package" in (out / "README.md").read_text(encoding="utf-8")

    report = verify_package(out, KEY.encode())
    assert report.ok, report.findings
    assert report.events == head
    unsigned = verify_package(out, None)
    assert unsigned.ok
    assert not unsigned.signatures_checked

    lines = (out / EVENTS).read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[16])
    event["state"] = event["state"].replace('"', "'", 1)
    lines[16] = json.dumps(event, ensure_ascii=False)
    (out / EVENTS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = verify_package(out, KEY.encode())
    assert ("modified", event["position"]) in named(report)
    assert any(
        f.kind is Kind.PACKAGE_ALTERED and "events.jsonl does not match" in f.message
        for f in report.findings
    )


def test_a_package_of_a_range_starts_from_a_signed_checkpoint(kehu: System, tmp_path: Path) -> None:
    from application.audit_package import export_package

    assert kehu.sealer is not None
    out = tmp_path / "range"
    summary = export_package(
        kehu.sealer.ledger, out, KEY.encode(), first=25, last=35, default_interval=EVERY
    )
    assert (summary.after, summary.through, summary.events) == (20, 40, 20)
    assert verify_package(out, KEY.encode()).ok
    checkpoints = (out / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
    (out / "checkpoints.jsonl").write_text("\n".join(checkpoints[1:]) + "\n", encoding="utf-8")
    report = verify_package(out, KEY.encode())
    assert not report.ok
    assert any("starts from is missing" in f.message for f in report.findings)


# -- the command line ------------------------------------------------------------------------------


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("KEHU_STORE", settings.store)
    monkeypatch.setenv("KEHU_AUDIT_KEY", KEY)
    monkeypatch.setenv("KEHU_AUDIT_CHECKPOINT_EVERY", str(EVERY))
    if settings.store == "sqlite":
        monkeypatch.setenv("KEHU_DATA_DIR", str(settings.data_dir))
    else:
        assert settings.database_url is not None
        monkeypatch.setenv("KEHU_DATABASE_URL", settings.database_url.get_secret_value())
        monkeypatch.setenv("KEHU_POSTGRES_SCHEMA", settings.postgres_schema)
        monkeypatch.setenv("KEHU_MASTER_KEY", TEST_MASTER_KEY)


def test_kehu_audit_verify_exits_non_zero_naming_the_first_tampered_event(
    kehu: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cli_env(monkeypatch, kehu.settings)
    monkeypatch.setenv("COLUMNS", "240")
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    assert "events/s" in result.output
    RawStore(kehu).delete(37)
    RawStore(kehu).flip_byte(44)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert "TAMPERING position 37: deleted" in result.output
    assert "position 44: modified" in result.output
    result = runner.invoke(app, ["audit", "verify", "--json", "--from", "41"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [(f["kind"], f["position"]) for f in report["findings"]] == [("modified", 44)]


def test_kehu_audit_export_then_verify_package_offline(
    kehu: System, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _cli_env(monkeypatch, kehu.settings)
    runner = CliRunner()
    out = tmp_path / "for-the-auditor"
    result = runner.invoke(app, ["audit", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "package written" in result.output
    monkeypatch.delenv("KEHU_AUDIT_KEY")
    monkeypatch.setenv("KEHU_STORE", "postgres")  # no database is needed, or reached
    monkeypatch.setenv("KEHU_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["audit", "verify", "--package", str(out), "--key-file", str(key_file)]
    )
    assert result.exit_code == 0, result.output
    assert "signatures checked" in result.output
    result = runner.invoke(app, ["audit", "verify", "--package", str(out)])
    assert result.exit_code == 0, result.output
    assert "signatures UNCHECKED" in result.output
    lines = (out / EVENTS).read_text(encoding="utf-8").splitlines()
    del lines[5]
    (out / EVENTS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["audit", "verify", "--package", str(out), "--key", KEY])
    assert result.exit_code == 1
    assert "position 6: deleted" in result.output


def test_the_audit_ledger_reads_what_the_library_stored(kehu: System) -> None:
    """The raw reader and the library agree on every position and field."""
    ledger = AuditLedger(kehu.store.recorder)
    with ledger.reading() as reader:
        rows = reader.events(0, None, 10_000)
    notifications = kehu.store.recorder.select_notifications(start=1, limit=10_000)
    assert [r[0] for r in rows] == [n.id for n in notifications]
    for row, n in zip(rows, notifications, strict=True):
        assert uuid.UUID(row[1]) == n.originator_id
        assert (row[2], row[3], row[4]) == (n.originator_version, n.topic, n.state)
