"""The pure part of tamper evidence: the canonical encoding, the chains, signed checkpoints,
and the checker that names what was modified, deleted, inserted or reordered — on made-up
rows, no database."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from application.audit_chain import (
    EVENT_MAGIC,
    GENESIS,
    STREAM_GENESIS,
    Checkpoint,
    Kind,
    Verification,
    VerifyReport,
    chain_next,
    chain_of,
    encode_event,
    encode_field,
    event_digest,
    key_id,
    seal_rows,
    sign_checkpoint,
    split_seals,
)
from application.audit_package import (
    event_from_json,
    event_to_json,
    seal_from_json,
    seal_to_json,
)

KEY = b"unit-test-audit-key-0123456789"
TOPIC = "domain.customer:Customer.Registered"
SEALED_AT = "2026-03-02T02:00:00+00:00"


def aggregate(n: int) -> str:
    return uuid.UUID(int=n + 1).hex


def stored_log(
    count: int, *, streams: int = 3, gaps: tuple[int, ...] = ()
) -> list[tuple[Any, ...]]:
    """Stored rows (position, originator_id, version, topic, state); ``gaps`` are positions
    that never held an event (rolled-back ids)."""
    rows: list[tuple[Any, ...]] = []
    versions: dict[str, int] = {}
    position = 0
    while len(rows) < count:
        position += 1
        if position in gaps:
            continue
        oid = aggregate(len(rows) % streams)
        versions[oid] = versions.get(oid, 0) + 1
        state = f'{{"n":{len(rows)},"name":"客户{len(rows)}"}}'.encode()
        rows.append((position, oid, versions[oid], TOPIC, state))
    return rows


class Sealed:
    """A log with its seals and checkpoints, as the sealer would have written them."""

    def __init__(self, rows: list[tuple[Any, ...]], *, every: int = 4, key: bytes = KEY) -> None:
        self.rows = list(rows)
        self.seals = seal_rows(rows, seq=0, chain=GENESIS, heads={})
        self.checkpoints = [
            sign_checkpoint(
                key, seq=s[1], position=s[0], interval=every, chain=s[6], sealed_at=SEALED_AT
            )
            for s in self.seals
            if s[1] % every == 0 or s is self.seals[-1]
        ]

    def verify(
        self, *, key: bytes | None = KEY, window: int = 1000, anchor: Checkpoint | None = None
    ) -> VerifyReport:
        after = anchor.position if anchor else 0
        check = Verification(
            key=key,
            anchor=anchor,
            sealed_head=self.seals[-1][0] if self.seals else 0,
            default_interval=4,
        )
        rows = sorted((r for r in self.rows if r[0] > after), key=lambda r: r[0])
        seals = sorted((s for s in self.seals if s[0] > after), key=lambda s: s[0])
        cps = [c for c in self.checkpoints if c.position > after]
        positions = sorted({r[0] for r in rows} | {s[0] for s in seals})
        for start in range(0, len(positions), window):
            chunk = positions[start : start + window]
            low, high = chunk[0], chunk[-1]
            if start + window >= len(positions):
                high = max(high, max((c.position for c in cps), default=high))
            hashes, names = split_seals(s for s in seals if low <= s[0] <= high)
            check.feed(
                [r for r in rows if low <= r[0] <= high],
                hashes,
                [c for c in cps if (low if start else 0) <= c.position <= high],
                lambda _after, _upto, names=names: names,
            )
        return check.finish(reached_end=True)

    def at(self, position: int) -> int:
        return next(i for i, r in enumerate(self.rows) if r[0] == position)

    def replace(self, position: int, **changes: Any) -> None:
        i = self.at(position)
        fields = dict(
            zip(
                ("position", "originator_id", "version", "topic", "state"),
                self.rows[i],
                strict=True,
            )
        )
        fields.update(changes)
        self.rows[i] = tuple(fields.values())


def kinds(report: VerifyReport) -> list[tuple[str, int | None]]:
    return [(f.kind.value, f.position) for f in report.findings]


# -- encoding ----------------------------------------------------------------------------------


def test_the_encoding_is_the_documented_byte_layout() -> None:
    encoded = encode_event(7, "ab", 2, "t", b"\x00\x01")
    assert encoded == (
        EVENT_MAGIC
        + b"i" + (7).to_bytes(8, "big")
        + b"t" + (2).to_bytes(4, "big") + b"ab"
        + b"i" + (2).to_bytes(8, "big")
        + b"t" + (1).to_bytes(4, "big") + b"t"
        + b"b" + (2).to_bytes(8, "big") + b"\x00\x01"
    )  # fmt: skip
    assert event_digest(7, "ab", 2, "t", b"\x00\x01") == hashlib.sha256(encoded).digest()


def test_field_boundaries_cannot_be_shifted_between_fields() -> None:
    assert event_digest(1, "ab", 1, "c", b"") != event_digest(1, "a", 1, "bc", b"")
    assert event_digest(1, "a", 1, "t", b"xy") != event_digest(1, "a", 1, "tx", b"y")


def test_a_stored_type_change_changes_the_digest_even_when_the_text_is_the_same() -> None:
    """SQLite keeps whatever type is written: text where bytes were, NULL for empty."""
    as_bytes = event_digest(1, "a", 1, "t", b"{}")
    assert event_digest(1, "a", 1, "t", "{}") != as_bytes
    assert event_digest(1, "a", 1, "t", b"") != event_digest(1, "a", 1, "t", None)
    assert event_digest(1, "a", "1", "t", b"{}") != as_bytes
    assert event_digest(1, b"a", 1, "t", b"{}") != as_bytes
    assert event_digest(1.0, "a", 1, "t", b"{}") != as_bytes


def test_the_fast_and_the_general_encoding_agree() -> None:
    row = (123456789, uuid.uuid4().hex, 42, TOPIC, "状态".encode())
    assert encode_event(*row) == EVENT_MAGIC + b"".join(encode_field(v) for v in row)


def test_rows_of_any_stored_shape_seal_and_verify() -> None:
    """The checker's inlined usual case and the general encoding agree on every shape."""
    rows = [
        (1, aggregate(1), 1, TOPIC, b"{}"),
        (2, aggregate(1), 2, TOPIC, "state stored as text"),
        (3, None, None, None, None),
        (4, b"\x01\x02", 2**70, b"topic", 1.5),
        (5, "\ud800 lone surrogate", -1, "其他:类型", b"\xff"),
        (6, aggregate(1), 3, TOPIC, b'{"n":6}'),
    ]
    assert Sealed(rows).verify().ok


def test_the_digest_binds_the_position() -> None:
    assert event_digest(1, "a", 1, "t", b"s") != event_digest(2, "a", 1, "t", b"s")


# -- chains and checkpoints -----------------------------------------------------------------------


def test_the_global_chain_starts_from_zero_bytes_and_folds_each_digest() -> None:
    digests = [hashlib.sha256(bytes([n])).digest() for n in range(3)]
    expected = GENESIS
    for digest in digests:
        expected = hashlib.sha256(expected + digest).digest()
    assert chain_of(digests) == expected
    assert chain_of(digests[1:], start=chain_next(GENESIS, digests[0])) == expected


def test_each_aggregate_has_its_own_stream_chain() -> None:
    rows = stored_log(6, streams=2)
    seals = seal_rows(rows, seq=0, chain=GENESIS, heads={})
    first_a, first_b, second_a = seals[0], seals[1], seals[2]
    assert first_a[7] == STREAM_GENESIS
    assert first_b[7] == STREAM_GENESIS
    assert second_a[7] == first_a[8]
    assert second_a[8] == chain_next(first_a[8], second_a[5])
    assert [s[1] for s in seals] == [1, 2, 3, 4, 5, 6]
    assert seals[-1][6] == chain_of(s[5] for s in seals)


def test_sealing_in_batches_equals_sealing_at_once() -> None:
    rows = stored_log(10)
    whole = seal_rows(rows, seq=0, chain=GENESIS, heads={})
    heads: dict[Any, bytes] = {}
    first = seal_rows(rows[:4], seq=0, chain=GENESIS, heads=heads)
    rest = seal_rows(rows[4:], seq=first[-1][1], chain=first[-1][6], heads=heads)
    assert first + rest == whole


def test_a_checkpoint_verifies_only_with_its_key_and_unchanged() -> None:
    checkpoint = sign_checkpoint(
        KEY, seq=10, position=12, interval=1000, chain=b"\x01" * 32, sealed_at=SEALED_AT
    )
    assert checkpoint.verifies(KEY)
    assert not checkpoint.verifies(b"another-key-0123456789")
    for change in (
        {"seq": 11},
        {"position": 13},
        {"interval": 5000},
        {"chain": b"\x02" * 32},
        {"sealed_at": "2026-03-03T00:00:00+00:00"},
    ):
        forged = Checkpoint(**{**vars(checkpoint), **change})
        assert not forged.verifies(KEY), change
    assert Checkpoint.from_json(checkpoint.as_json()) == checkpoint


def test_the_key_id_names_a_key_without_revealing_it() -> None:
    assert key_id(KEY) == key_id(KEY)
    assert key_id(KEY) != key_id(b"another-key-0123456789")
    assert KEY.hex()[:16] not in key_id(KEY)


# -- the checker ------------------------------------------------------------------------------------


def test_an_untouched_log_verifies_in_one_window_or_many() -> None:
    log = Sealed(stored_log(25))
    for window in (1000, 7, 1):
        report = log.verify(window=window)
        assert report.ok, report.findings
        assert (report.events, report.seals) == (25, 25)
        assert report.checkpoints == len(log.checkpoints)
        assert report.unsigned_tail == 0


def test_every_event_and_seal_is_counted_once_whichever_path_checks_it() -> None:
    from application import audit_chain

    log = Sealed(stored_log(30))
    log.rows[4] = (5, *log.rows[4][1:4], "stored as text")  # the general path, and modified
    audit_chain._TOPIC_FIELDS.clear()  # a fresh process has seen no topic yet
    report = log.verify(window=7)
    assert (report.events, report.seals) == (30, 30)
    assert kinds(report) == [("modified", 5)]


def test_a_changed_byte_is_named_modified_with_its_aggregate() -> None:
    log = Sealed(stored_log(20))
    state = bytearray(log.rows[9][4])
    state[3] ^= 0x01
    log.replace(10, state=bytes(state))
    report = log.verify()
    assert kinds(report) == [("modified", 10)]
    first = report.first
    assert first is not None
    assert first.originator_id == str(uuid.UUID(log.rows[9][1]))
    assert first.version == log.rows[9][2]
    assert first.type == "Customer.Registered"
    assert "state changed" in first.message


def test_a_changed_version_or_aggregate_id_is_named_modified() -> None:
    log = Sealed(stored_log(10))
    log.replace(4, version=99)
    log.replace(6, originator_id=str(uuid.UUID(log.rows[5][1])))  # same id, other spelling
    report = log.verify()
    assert kinds(report) == [("modified", 4), ("modified", 6)]
    assert "version changed" in report.findings[0].message
    assert "aggregate id changed" in report.findings[1].message


def test_a_deleted_event_is_named_deleted() -> None:
    log = Sealed(stored_log(12))
    del log.rows[log.at(5)]
    report = log.verify()
    assert kinds(report) == [("deleted", 5)]


def test_an_event_deleted_with_its_seal_is_caught_by_the_sequence() -> None:
    log = Sealed(stored_log(12))
    del log.rows[log.at(6)]
    log.seals = [s for s in log.seals if s[0] != 6]
    report = log.verify()
    assert report.first is not None
    assert (report.first.kind, report.first.position) == (Kind.DELETED, 7)
    assert "seal #6" in report.first.message


def test_a_gap_that_was_never_sealed_is_not_a_deletion_but_an_event_forged_into_it_is_inserted() -> (
    None
):
    log = Sealed(stored_log(12, gaps=(4, 9)))
    assert log.verify().ok
    log.rows.append((9, aggregate(0), 50, TOPIC, b'{"forged":true}'))
    report = log.verify()
    assert kinds(report) == [("inserted", 9)]


def test_swapped_states_are_named_reordered_on_both_positions() -> None:
    log = Sealed(stored_log(12))
    a, b = log.rows[log.at(3)], log.rows[log.at(8)]
    log.replace(3, state=b[4])
    log.replace(8, state=a[4])
    report = log.verify()
    assert kinds(report) == [("reordered/swapped", 3), ("reordered/swapped", 8)]
    assert report.findings[0].sealed_position == 8
    assert "state sealed at position 8" in report.findings[0].message


def test_swapped_positions_are_named_reordered() -> None:
    log = Sealed(stored_log(12))
    a, b = log.at(2), log.at(11)
    log.rows[a] = (11, *log.rows[a][1:])
    log.rows[b] = (2, *log.rows[b][1:])
    report = log.verify()
    assert kinds(report) == [("reordered/swapped", 2), ("reordered/swapped", 11)]
    assert report.findings[0].sealed_position == 11


def test_an_event_inserted_by_shifting_the_later_ones_is_named_inserted_first() -> None:
    log = Sealed(stored_log(10))
    log.rows = [(r[0] + 1, *r[1:]) if r[0] >= 6 else r for r in log.rows]
    log.rows.append((6, aggregate(1), 77, TOPIC, b'{"forged":true}'))
    report = log.verify()
    assert report.first is not None
    assert (report.first.kind, report.first.position) == (Kind.INSERTED, 6)
    assert all(f.kind is Kind.REORDERED for f in report.findings[1:])
    assert [f.position for f in report.findings[1:]] == [7, 8, 9, 10, 11]
    assert report.not_yet_sealed == 0  # position 11 holds the moved event sealed at 10


def test_an_event_rewritten_with_its_seal_is_exposed_by_the_chain() -> None:
    log = Sealed(stored_log(12))
    log.replace(5, state=b'{"n":4,"name":"someone else"}')
    i = next(i for i, s in enumerate(log.seals) if s[0] == 5)
    seal = log.seals[i]
    log.seals[i] = (*seal[:5], event_digest(*log.rows[log.at(5)]), *seal[6:])
    report = log.verify()
    assert report.first is not None
    assert (report.first.kind, report.first.position) == (Kind.MODIFIED, 5)
    assert "seal's digest rewritten" in report.first.message


def test_history_rewritten_with_every_later_seal_is_caught_by_the_signed_checkpoint() -> None:
    log = Sealed(stored_log(12), every=4)
    log.replace(5, state=b'{"rewritten":true}')
    forged = Sealed(log.rows, key=b"the-attackers-own-key-000")
    log.seals = forged.seals  # every seal recomputed; the checkpoints cannot be re-signed
    report = log.verify()
    assert report.first is not None
    assert report.first.kind is Kind.HISTORY_REWRITTEN
    assert report.first.position == 8
    assert "after position 4" in report.first.message
    assert len([f for f in report.findings if f.kind is Kind.HISTORY_REWRITTEN]) == 1


def test_a_forged_checkpoint_signature_is_detected() -> None:
    log = Sealed(stored_log(12))
    cp = log.checkpoints[1]
    log.checkpoints[1] = Checkpoint(**{**vars(cp), "signature": bytes(32)})
    report = log.verify()
    assert kinds(report) == [("checkpoint forged", cp.position)]


def test_a_checkpoint_signed_with_another_key_is_forged() -> None:
    log = Sealed(stored_log(8), key=b"some-other-key-0123456789")
    report = log.verify(key=KEY)
    assert {f.kind for f in report.findings} == {Kind.CHECKPOINT_FORGED}


def test_deleted_checkpoints_are_missed() -> None:
    log = Sealed(stored_log(20), every=4)
    log.checkpoints = [c for c in log.checkpoints if c.position not in (8, 12)]
    report = log.verify()
    assert kinds(report) == [("checkpoints missing", 16)]
    log.checkpoints = log.checkpoints[:1]  # and the newest ones too
    report = log.verify()
    assert kinds(report) == [("checkpoints missing", 4)]


def test_without_a_key_the_chains_are_checked_but_signatures_are_not() -> None:
    log = Sealed(stored_log(8), key=b"some-other-key-0123456789")
    report = log.verify(key=None)
    assert report.ok
    assert not report.signatures_checked
    assert any("unchecked" in w for w in report.warnings)
    del log.rows[2]
    assert kinds(log.verify(key=None)) == [("deleted", 3)]


def test_events_after_the_last_seal_are_not_yet_sealed_not_a_failure() -> None:
    rows = stored_log(15)
    log = Sealed(rows[:10])
    log.rows = rows
    report = log.verify()
    assert report.ok
    assert report.not_yet_sealed == 5


def test_sealed_but_not_yet_signed_events_are_a_warning_within_the_interval() -> None:
    log = Sealed(stored_log(10), every=4)
    log.checkpoints = log.checkpoints[:-1]  # the end-of-pass checkpoint is not written yet
    report = log.verify()
    assert report.ok
    assert report.unsigned_tail == 2
    assert any("not yet covered by a signature" in w for w in report.warnings)


def test_an_edited_seal_is_named_seal_altered() -> None:
    log = Sealed(stored_log(10))
    seal = log.seals[6]
    log.seals[6] = (*seal[:8], bytes(32))  # its stream chain value
    report = log.verify()
    assert kinds(report)[0] == ("seal altered", seal[0])


def test_a_range_starts_from_a_signed_checkpoint() -> None:
    log = Sealed(stored_log(20), every=4)
    anchor = next(c for c in log.checkpoints if c.position == 8)
    report = log.verify(anchor=anchor)
    assert report.ok
    assert report.events == 12
    del log.rows[log.at(15)]
    assert kinds(log.verify(anchor=anchor)) == [("deleted", 15)]
    forged = Checkpoint(**{**vars(anchor), "chain": bytes(32)})
    report = log.verify(anchor=forged)
    assert report.first is not None
    assert report.first.kind is Kind.CHECKPOINT_FORGED


# -- package lines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row",
    [
        (1, aggregate(1), 1, TOPIC, b'{"name":"\xe5\xbc\xa0\xe4\xb8\x89"}'),
        (2, aggregate(2), 3, TOPIC, b"\xff\x00 not utf-8"),
        (3, None, "7", b"topic as bytes", "state as text"),
        (4, str(uuid.uuid4()), 2**70, None, None),
    ],
    ids=["json-state", "binary-state", "odd-types", "nulls"],
)
def test_a_package_line_gives_back_exactly_the_stored_values(row: tuple[Any, ...]) -> None:
    import json

    line = json.loads(json.dumps(event_to_json(row)))
    assert event_from_json(line) == row
    assert event_digest(*event_from_json(line)) == event_digest(*row)
    seal = seal_rows([row], seq=0, chain=GENESIS, heads={})[0]
    assert seal_from_json(json.loads(json.dumps(seal_to_json(seal)))) == seal
