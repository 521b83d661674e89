"""防篡改 (tamper evidence) on the event store: the sealer that hash-chains every stored event
as the log grows, the signed checkpoints, and the verifier that reads the store back.

- :class:`AuditLedger` is the audit tables (``audit_seals``, ``audit_streams``,
  ``audit_checkpoints``) in the event store's own database, next to the events, and the raw
  SQL that reads both on SQLite (the rowid is the position) and PostgreSQL
  (``notification_id``).
- :class:`Sealer` follows the notification log like the projection worker does — batches in
  position order after the last seal — and records each event's digest, the global chain, the
  aggregate's stream chain, and an HMAC-signed checkpoint every N events and at the end of a
  pass. It runs where the projections run (``System.start_projections``, ``kehu worker``) and in
  ``System.catch_up``.
- :func:`verify_store` recomputes everything from the stored rows and names what was
  modified, deleted, inserted or reordered (see :class:`application.audit_chain.Verification`).

Sealer and verifier hash the columns exactly as stored, read with one raw query: the
library's ``select_notifications`` turns SQLite's stored originator id into a UUID, and hashing
that would let a rewritten id (which hides the event from its aggregate) pass unnoticed.

Neither the seals nor the checkpoints can stop someone who holds the audit key, nor someone
who deletes the newest events together with their seals and checkpoints; keep a copy of the
latest checkpoint outside the database (``kehu audit verify`` prints it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from queue import Full, Queue
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError

from application.audit_chain import (
    GENESIS,
    Checkpoint,
    Verification,
    VerifyReport,
    seal_rows,
    sign_checkpoint,
)
from application.clock import Clock, utc_now
from application.settings import Settings

log = logging.getLogger("kehu.audit")

T = TypeVar("T")
KEY_FILE = "audit.key"
_MAX_POSITION = 2**63 - 1


class AuditError(Exception):
    """The audit tables contradict themselves in a way the sealer must not paper over."""


# -- the key ------------------------------------------------------------------------------------


def resolve_key(settings: Settings, *, create: bool) -> bytes | None:
    """The checkpoint signing key: ``KEHU_AUDIT_KEY``; on SQLite without it, a key kept in
    ``<data_dir>/audit.key`` (generated when ``create`` — for development and demos only: whoever
    can read the data directory can then forge checkpoints). PostgreSQL has no fallback."""
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().strip().encode("utf-8")
    if settings.store != "sqlite":
        return None
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        if not create:
            return None
        write_new_secret(path)
        log.warning(
            "generated an audit key in %s for signing checkpoints; set KEHU_AUDIT_KEY in"
            " production and keep it away from the database",
            path,
        )
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def write_new_secret(path: Path) -> None:
    """Write a fresh secret atomically: two processes starting at once agree on one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# -- the tables -------------------------------------------------------------------------------------


class LedgerReader:
    """Reads of one transaction (a consistent snapshot) of the event store's database."""

    def __init__(self, ledger: AuditLedger, run: Callable[[str, Sequence[Any]], list[Any]]):
        self.ledger = ledger
        self.run = run

    def events(self, after: int, upto: int | None, limit: int) -> list[tuple[Any, ...]]:
        """Stored events after ``after`` up to ``upto`` in position order, as
        (position, originator_id, originator_version, topic, state)."""
        return self.run(self.ledger.select_events, (after, _upto(upto), limit))

    def seals(self, after: int, upto: int | None, limit: int) -> list[tuple[Any, ...]]:
        """Seal rows in position order, all columns (:data:`~application.audit_chain.SEAL_COLUMNS`)."""
        return self.run(self.ledger.select_seals, (after, _upto(upto), limit))

    def seal_hashes(self, after: int, upto: int | None, limit: int) -> list[tuple[Any, ...]]:
        """Seals as the checker reads them (:data:`~application.audit_chain.HASH_COLUMNS`)."""
        return self.run(self.ledger.select_seal_hashes, (after, _upto(upto), limit))

    def names(self, after: int, upto: int) -> dict[int, tuple[Any, Any, Any]]:
        """What the seals after ``after`` up to ``upto`` name: (originator id, version,
        topic) by position."""
        rows = self.run(self.ledger.select_names, (after, upto))
        return {int(p): (oid, version, topic) for p, oid, version, topic in rows}

    def checkpoints(self, after: int, upto: int | None) -> list[Checkpoint]:
        return [
            _checkpoint(row)
            for row in self.run(self.ledger.select_checkpoints, (after, _upto(upto)))
        ]

    def last_seal(self) -> tuple[int, int, bytes] | None:
        """(position, seq, chain) of the newest seal."""
        rows = self.run(self.ledger.select_last_seal, ())
        return (int(rows[0][0]), int(rows[0][1]), bytes(rows[0][2])) if rows else None

    def last_checkpoint(self) -> Checkpoint | None:
        rows = self.run(self.ledger.select_last_checkpoint, ())
        return _checkpoint(rows[0]) if rows else None

    def checkpoint_before(self, position: int) -> Checkpoint | None:
        rows = self.run(self.ledger.select_checkpoint_before, (position,))
        return _checkpoint(rows[0]) if rows else None

    def checkpoint_from(self, position: int) -> Checkpoint | None:
        rows = self.run(self.ledger.select_checkpoint_from, (position,))
        return _checkpoint(rows[0]) if rows else None

    def max_event_position(self) -> int:
        rows = self.run(self.ledger.select_max_event, ())
        return int(rows[0][0] or 0) if rows else 0


def _upto(upto: int | None) -> int:
    return _MAX_POSITION if upto is None else upto


def _checkpoint(row: Sequence[Any]) -> Checkpoint:
    seq, position, interval, chain, sealed_at, signer, signature = row
    return Checkpoint(
        seq=int(seq),
        position=int(position),
        interval=int(interval),
        chain=bytes(chain),
        sealed_at=str(sealed_at),
        key_id=str(signer),
        signature=bytes(signature),
    )


class AuditLedger:
    """The audit tables next to the events, and raw reads of both."""

    SEALS = "audit_seals"
    STREAMS = "audit_streams"
    CHECKPOINTS = "audit_checkpoints"

    def __init__(self, recorder: Any) -> None:
        datastore = getattr(recorder, "datastore", None)
        if datastore is None:
            raise AuditError("the audit seal needs a SQL event store (SQLite or PostgreSQL)")
        self.datastore: Any = datastore
        self.is_postgres = hasattr(datastore, "schema")
        self.kind = "postgres" if self.is_postgres else "sqlite"
        schema = datastore.schema if self.is_postgres else ""
        events = self.table(recorder.events_table_name, schema)
        seals = self.table(self.SEALS, schema)
        self.streams_table = self.table(self.STREAMS, schema)
        checkpoints = self.table(self.CHECKPOINTS, schema)
        if self.is_postgres:
            position, oid = "notification_id", "originator_id::text"
            blob, integer = "bytea", "bigint"
        else:
            position, oid = "rowid", "originator_id"
            blob, integer = "BLOB", "INTEGER"
        self.ddl = [
            f"CREATE TABLE IF NOT EXISTS {seals} (position {integer} PRIMARY KEY,"
            f" seq {integer} NOT NULL, originator_id TEXT, originator_version {integer},"
            f" topic TEXT, digest {blob} NOT NULL, chain {blob} NOT NULL,"
            f" stream_prev {blob} NOT NULL, stream_chain {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.streams_table} (originator_id TEXT PRIMARY KEY,"
            f" position {integer} NOT NULL, chain {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {checkpoints} (position {integer} PRIMARY KEY,"
            f" seq {integer} NOT NULL, interval_events {integer} NOT NULL,"
            f" chain {blob} NOT NULL, sealed_at TEXT NOT NULL, key_id TEXT NOT NULL,"
            f" signature {blob} NOT NULL)",
        ]
        cp_columns = "seq, position, interval_events, chain, sealed_at, key_id, signature"
        self.select_events = self.sql(
            f"SELECT {position}, {oid}, originator_version, topic, state FROM {events}"
            f" WHERE {position} > ? AND {position} <= ? ORDER BY {position} LIMIT ?"
        )
        self.select_max_event = self.sql(f"SELECT MAX({position}) FROM {events}")
        self.select_seals = self.sql(
            "SELECT position, seq, originator_id, originator_version, topic, digest, chain,"
            f" stream_prev, stream_chain FROM {seals}"
            " WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
        )
        self.select_seal_hashes = self.sql(
            "SELECT position, seq, digest, chain, stream_prev, stream_chain FROM"
            f" {seals} WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
        )
        self.select_names = self.sql(
            f"SELECT position, originator_id, originator_version, topic FROM {seals}"
            " WHERE position > ? AND position <= ? ORDER BY position"
        )
        self.select_last_seal = self.sql(
            f"SELECT position, seq, chain FROM {seals} ORDER BY position DESC LIMIT 1"
        )
        self.select_checkpoints = self.sql(
            f"SELECT {cp_columns} FROM {checkpoints}"
            " WHERE position > ? AND position <= ? ORDER BY position"
        )
        self.select_last_checkpoint = self.sql(
            f"SELECT {cp_columns} FROM {checkpoints} ORDER BY position DESC LIMIT 1"
        )
        self.select_checkpoint_before = self.sql(
            f"SELECT {cp_columns} FROM {checkpoints} WHERE position < ?"
            " ORDER BY position DESC LIMIT 1"
        )
        self.select_checkpoint_from = self.sql(
            f"SELECT {cp_columns} FROM {checkpoints} WHERE position >= ? ORDER BY position LIMIT 1"
        )
        upsert = (
            " ON CONFLICT (originator_id) DO UPDATE"
            " SET position = excluded.position, chain = excluded.chain"
        )
        if self.is_postgres:  # one statement per batch: arrays of columns, sent binary
            self.insert_seal = (
                f"INSERT INTO {seals} SELECT * FROM unnest(%b::bigint[], %b::bigint[],"
                " %b::text[], %b::bigint[], %b::text[], %b::bytea[], %b::bytea[], %b::bytea[],"
                " %b::bytea[])"
            )
            self.upsert_stream = (
                f"INSERT INTO {self.streams_table} (originator_id, position, chain)"
                f" SELECT * FROM unnest(%b::text[], %b::bigint[], %b::bytea[]){upsert}"
            )
        else:
            self.insert_seal = f"INSERT INTO {seals} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            self.upsert_stream = (
                f"INSERT INTO {self.streams_table} (originator_id, position, chain)"
                f" VALUES (?, ?, ?){upsert}"
            )
        self.insert_checkpoint = self.sql(
            f"INSERT INTO {checkpoints} (position, seq, interval_events, chain, sealed_at,"
            " key_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )

    def table(self, name: str, schema: str) -> str:
        return f'"{schema}"."{name}"' if self.is_postgres else f'"{name}"'

    def sql(self, statement: str) -> str:
        """Statements are written with ``?`` placeholders; psycopg wants ``%s``."""
        return statement.replace("?", "%s") if self.is_postgres else statement

    def create_tables(self) -> None:
        """Create the audit tables (``kehu db init``; never concurrently on PostgreSQL)."""
        with self.datastore.transaction(commit=True) as cursor:
            for statement in self.ddl:
                cursor.execute(statement)

    # -- reading ----------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[LedgerReader]:
        """One read-only transaction: every read inside sees the same snapshot."""
        if self.is_postgres:
            from psycopg.rows import tuple_row

            with self.datastore.get_connection() as conn, conn.transaction(force_rollback=True):
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                # Every read here walks a primary-key range in order. On tables that were
                # never analysed the planner otherwise sorts the whole rest of the table on
                # disk for each batch (300 ms instead of 15 ms per 20,000 events).
                conn.execute("SET LOCAL enable_sort = off")
                conn.execute("SET LOCAL enable_bitmapscan = off")

                def run_pg(statement: str, params: Sequence[Any]) -> list[Any]:
                    # A cursor per read: the checker may ask for names while the reading
                    # thread fetches the next window (the connection serialises them).
                    with conn.cursor(row_factory=tuple_row, binary=True) as cursor:
                        cursor.execute(statement, params)
                        return cursor.fetchall()

                yield LedgerReader(self, run_pg)
        else:
            with self.datastore.transaction(commit=False) as wrapped:
                raw = wrapped.sqlite_cursor
                raw.row_factory = None  # plain tuples: much faster than sqlite3.Row

                def run_sqlite(statement: str, params: Sequence[Any]) -> list[Any]:
                    raw.execute(statement, params)
                    return raw.fetchall()

                yield LedgerReader(self, run_sqlite)

    def overlapped(self, items: Iterator[T]) -> Iterator[T]:
        """Reads overlapped with the caller's work on PostgreSQL, where the driver waits for
        the server without the GIL; on SQLite the second thread only fights for the GIL
        (measured: 30 % slower), so there it reads inline."""
        return prefetched(items) if self.is_postgres else items

    def stream_heads(self, originator_ids: Iterable[Any]) -> dict[Any, bytes]:
        """The stream chain of each aggregate's newest sealed event."""
        ids = list(originator_ids)
        heads: dict[Any, bytes] = {}
        with self.reading() as reader:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                statement = self.sql(
                    f"SELECT originator_id, chain FROM {self.streams_table}"
                    f" WHERE originator_id IN ({marks})"
                )
                heads.update((oid, bytes(chain)) for oid, chain in reader.run(statement, chunk))
        return heads

    # -- writing ----------------------------------------------------------------------------

    def record(
        self,
        seals: Sequence[tuple[Any, ...]],
        heads: Sequence[tuple[Any, int, bytes]],
        checkpoints: Sequence[Checkpoint],
    ) -> None:
        """Seals, stream heads and checkpoints in one transaction. A seal for a position
        already sealed (another sealer was first) raises ``IntegrityError``."""
        with self.datastore.transaction(commit=True) as cursor:
            if self.is_postgres:
                if seals:
                    cursor.execute(self.insert_seal, _columns(seals))
                if heads:
                    cursor.execute(self.upsert_stream, _columns(heads))
            else:
                if seals:
                    cursor.executemany(self.insert_seal, seals)
                if heads:
                    cursor.executemany(self.upsert_stream, heads)
            if checkpoints:
                cursor.executemany(
                    self.insert_checkpoint,
                    [
                        (c.position, c.seq, c.interval, c.chain, c.sealed_at, c.key_id, c.signature)
                        for c in checkpoints
                    ],
                )


def _columns(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows as one list per column (PostgreSQL takes a batch as arrays)."""
    return [list(column) for column in zip(*rows, strict=True)]


# -- the sealer ---------------------------------------------------------------------------------------


@dataclass
class _Standing:
    """Where sealing stands: the newest seal and the newest checkpoint."""

    seq: int
    position: int
    chain: bytes
    checkpoint_seq: int
    checkpoint_interval: int


class Sealer:
    """Seals every stored event in notification order and signs checkpoints."""

    def __init__(
        self,
        ledger: AuditLedger,
        key: bytes | None,
        *,
        batch_size: int = 1000,
        checkpoint_every: int = 1000,
        checkpoint_seconds: float = 5.0,
        poll_interval: float = 0.05,
        clock: Clock = utc_now,
    ) -> None:
        self.ledger = ledger
        self.key = key
        self.batch_size = batch_size
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self.poll_interval = poll_interval
        self.clock = clock
        self.error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_signed = -float("inf")
        self._highest_seq = 0

    # -- one pass ---------------------------------------------------------------------------

    def seal(
        self,
        *,
        until: int | None = None,
        progress: Callable[[int], None] | None = None,
        checkpoint: bool = True,
    ) -> int:
        """Seal every stored event after the newest seal (up to ``until``); sign a checkpoint
        every ``checkpoint_every`` events and, when ``checkpoint``, at the end of the pass.
        Returns how many events were sealed."""
        with self._lock:
            standing = self._standing()
            sealed = 0
            while not self._stop.is_set():
                with self.ledger.reading() as reader:
                    rows = reader.events(standing.position, until, self.batch_size)
                if not rows:
                    break
                try:
                    standing = self._seal_batch(rows, standing)
                except IntegrityError:
                    log.info("another sealer sealed position %s first", rows[0][0])
                    return sealed
                sealed += len(rows)
                if progress is not None:
                    progress(len(rows))
            if checkpoint and self.key is not None and standing.seq > standing.checkpoint_seq:
                with contextlib.suppress(IntegrityError):  # another sealer signed it
                    self.ledger.record(
                        (), (), [self._sign(standing.seq, standing.position, standing.chain)]
                    )
            return sealed

    def _standing(self) -> _Standing:
        with self.ledger.reading() as reader:
            last = reader.last_seal()
            signed = reader.last_checkpoint()
        position, seq, chain = last or (0, 0, GENESIS)
        if signed is not None and (signed.position > position or signed.seq > seq):
            raise AuditError(
                f"the newest checkpoint vouches for position {signed.position} (#{signed.seq})"
                f" but the newest seal is at position {position} (#{seq}): seals were deleted."
                " Sealing stops; run `kehu audit verify`"
            )
        if seq < self._highest_seq:
            raise AuditError(
                f"this sealer sealed #{self._highest_seq}, but the newest seal is now #{seq}:"
                " seals were deleted. Sealing stops; run `kehu audit verify`"
            )
        return _Standing(
            seq=seq,
            position=position,
            chain=chain,
            checkpoint_seq=signed.seq if signed else 0,
            checkpoint_interval=signed.interval if signed else self.checkpoint_every,
        )

    def _seal_batch(self, rows: Sequence[tuple[Any, ...]], standing: _Standing) -> _Standing:
        heads = self.ledger.stream_heads({row[1] for row in rows})
        seals = seal_rows(rows, seq=standing.seq, chain=standing.chain, heads=heads)
        checkpoint_seq, interval = standing.checkpoint_seq, standing.checkpoint_interval
        checkpoints: list[Checkpoint] = []
        newest: dict[Any, tuple[int, bytes]] = {}
        for position, seq, oid, _v, _t, _d, chain, _p, stream in seals:
            newest[oid] = (position, stream)
            if self.key is not None and seq - checkpoint_seq >= interval:
                checkpoints.append(self._sign(seq, position, chain))
                checkpoint_seq, interval = seq, self.checkpoint_every
        self.ledger.record(
            seals, [(oid, pos, value) for oid, (pos, value) in newest.items()], checkpoints
        )
        last = seals[-1]
        self._highest_seq = last[1]
        return _Standing(last[1], last[0], last[6], checkpoint_seq, interval)

    def _sign(self, seq: int, position: int, chain: bytes) -> Checkpoint:
        assert self.key is not None
        self._last_signed = time.monotonic()
        return sign_checkpoint(
            self.key,
            seq=seq,
            position=position,
            interval=self.checkpoint_every,
            chain=chain,
            sealed_at=self.clock().astimezone(UTC).isoformat(),
        )

    # -- following the log ----------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.poll_interval
        while not self._stop.is_set():
            try:
                due = time.monotonic() - self._last_signed >= self.checkpoint_seconds
                sealed = self.seal(checkpoint=due)
                self.error = None
                backoff = self.poll_interval
            except Exception as error:  # keep following; the error is visible on the sealer
                log.exception("sealing failed; retrying")
                self.error = f"{type(error).__name__}: {error}"
                sealed = 0
                backoff = min(backoff * 2, 5.0)
            if not sealed:
                self._stop.wait(backoff)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop following; sign what the running sealer sealed since its last checkpoint."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=10)
        self._stop.clear()
        try:
            self.seal(until=0)  # seals nothing; signs the tail
        except Exception:
            log.exception("could not sign the last checkpoint on stopping")


def sealer_for(
    recorder: Any, settings: Settings, *, create_tables: bool, clock: Clock = utc_now
) -> Sealer | None:
    """The sealer of a SQL event store (none for in-memory stores)."""
    if getattr(recorder, "datastore", None) is None:
        return None
    ledger = AuditLedger(recorder)
    if create_tables:
        ledger.create_tables()
    key = resolve_key(settings, create=True)
    if key is None:
        log.warning(
            "KEHU_AUDIT_KEY is not set: stored events are hash-chained but no checkpoint is"
            " signed, so the chain proves nothing against someone who can rewrite it"
        )
    return Sealer(
        ledger,
        key,
        batch_size=settings.audit_batch_size,
        checkpoint_every=settings.audit_checkpoint_every,
        checkpoint_seconds=settings.audit_checkpoint_seconds,
        poll_interval=settings.projection_poll_interval,
        clock=clock,
    )


# -- verification ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """The positions a verification or an export covers: ``after`` (exclusive; the
    checkpoint there, if any, anchors the chain) through ``through``."""

    anchor: Checkpoint | None
    through: int
    reached_end: bool
    sealed_head: int
    event_head: int

    @property
    def after(self) -> int:
        return self.anchor.position if self.anchor else 0


def span(reader: LedgerReader, first: int | None, last: int | None) -> Span:
    """Widen ``first``..``last`` to checkpoints, so that the chain starts from a signed value
    and ends at one: from the newest checkpoint before ``first`` to the oldest at or after
    ``last`` (or the end of the log)."""
    sealed = reader.last_seal()
    sealed_head = sealed[0] if sealed else 0
    event_head = reader.max_event_position()
    anchor = reader.checkpoint_before(first) if first is not None and first > 1 else None
    end = reader.checkpoint_from(last) if last is not None else None
    if end is not None:
        through = end.position
    elif last is not None:
        through = max(last, sealed_head)
    else:
        through = max(event_head, sealed_head)
    reached_end = through >= max(event_head, sealed_head)
    return Span(anchor, through, reached_end, sealed_head, event_head)


def windows(
    reader: LedgerReader, after: int, through: int, batch: int, *, hashes_only: bool = False
) -> Iterator[tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]], list[Checkpoint]]]:
    """(upto, events, seals, checkpoints) for consecutive windows of positions, each read in
    big batches: events and seals are merged by position, so either may be missing. With
    ``hashes_only`` the seals are read as the checker takes them."""
    read_seals = reader.seal_hashes if hashes_only else reader.seals
    cursor = after
    while cursor < through:
        events = reader.events(cursor, through, batch)
        seals = read_seals(cursor, through, batch)
        upto = through
        if len(events) == batch:
            upto = min(upto, events[-1][0])
        if len(seals) == batch:
            upto = min(upto, seals[-1][0])
        while events and events[-1][0] > upto:
            events.pop()
        while seals and seals[-1][0] > upto:
            seals.pop()
        yield upto, events, seals, reader.checkpoints(cursor, upto)
        cursor = upto


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


def prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items`` produced by a background thread while the caller works on the previous
    ones: the database drivers read without holding the GIL for part of the time, so reading
    and hashing overlap on two cores. The caller's connection is used by that thread alone
    until the iteration ends."""
    queue: Queue[Any] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failed(error))

    thread = threading.Thread(target=produce, name="audit-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


def verify_store(
    ledger: AuditLedger,
    key: bytes | None,
    *,
    first: int | None = None,
    last: int | None = None,
    default_interval: int = 1000,
    batch_size: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
    on_span: Callable[[Span], None] | None = None,
) -> VerifyReport:
    """Check the whole store, or ``first``..``last`` widened to checkpoints, in one
    consistent snapshot. ``progress(positions, events)`` is called after each batch."""
    started = time.perf_counter()
    with ledger.reading() as reader:
        covered = span(reader, first, last)
        if on_span is not None:
            on_span(covered)
        check = Verification(
            key=key,
            anchor=covered.anchor,
            sealed_head=covered.sealed_head,
            default_interval=default_interval,
        )
        cursor = covered.after
        for upto, events, seals, checkpoints in ledger.overlapped(
            windows(reader, covered.after, covered.through, batch_size, hashes_only=True)
        ):
            check.feed(events, seals, checkpoints, reader.names)
            if progress is not None:
                progress(upto - cursor, len(events))
            cursor = upto
    report = check.finish(reached_end=covered.reached_end, elapsed=time.perf_counter() - started)
    report.after, report.through = covered.after, covered.through
    return report
