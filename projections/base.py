"""How read models are kept: follow the notification log, write view rows and the
tracking record in one transaction, exactly once.

- :class:`ViewStore` is the read-model database: the library's own tracking recorder
  (SQLite file or PostgreSQL) plus the view tables, with SQL written once (``?``
  placeholders, translated for psycopg) so that each view runs on both stores.
- :class:`KehuProjection` is the library's ``Projection`` with handlers per event type.
  Its ``process_event`` (one event, one transaction) serves the library's own runner;
  :meth:`KehuProjection.process_batch` serves kehu's batched follower.
- :class:`ProjectionWorker` follows the log by polling the recorder's
  ``select_notifications`` after the last tracked position (the SQLite recorder has no
  subscription), a few hundred events per transaction.
- :class:`Where` builds a query's WHERE clause from its optional filters; :func:`utc`,
  :func:`opt_datetime`, :func:`opt_date` and :func:`opt_decimal` write and read values as
  the views store them.

Events a view does not handle still advance its tracking record, so a read-your-writes
wait never hangs on them.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    Mapper,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.projection import Projection
from eventsourcing.utils import Environment

from domain.base import ERASED
from domain.customer import Customer

log = logging.getLogger("kehu.projections")


def reclaim_space(datastore: Any, tables: Sequence[str]) -> None:
    """Make replaced row contents (an erased person's data) leave the database files.

    PostgreSQL keeps old row versions in the table's pages, even after a plain ``VACUUM``:
    ``VACUUM FULL`` rewrites the tables (a short exclusive lock; erasures are rare). SQLite,
    with ``secure_delete`` on, has overwritten them in the database file; the write-ahead
    log may still hold the old pages, so it is checkpointed and truncated."""
    if hasattr(datastore, "schema"):
        with datastore.get_connection() as conn:
            conn.autocommit = True
            try:
                for table in tables:
                    conn.execute(f"VACUUM FULL {table}")
            finally:
                conn.autocommit = False
        return
    with datastore.get_connection(commit=True) as conn:
        cursor = conn.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = cursor.fetchone()
        if busy is not None and busy[0]:
            log.warning("the SQLite write-ahead log was busy; it is truncated at the next erasure")


class ViewStore:
    """The read-model database: view tables and their tracking records."""

    def __init__(self, env: dict[str, str]) -> None:
        self.factory = InfrastructureFactory.construct(Environment("kehu_views", env))
        self.tracking: TrackingRecorder = self.factory.tracking_recorder()
        datastore: Any = self.factory.datastore  # type: ignore[attr-defined]
        self.datastore = datastore
        self.is_postgres = hasattr(datastore, "schema")
        self.schema: str = datastore.schema if self.is_postgres else ""

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"' if self.is_postgres else f'"{name}"'

    def sql(self, statement: str) -> str:
        """Statements are written with ``?`` placeholders; psycopg wants ``%s``."""
        if self.is_postgres:
            return statement.replace("%", "%%").replace("?", "%s")
        return statement

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=commit) as raw:
            if commit and not self.is_postgres:
                # Overwrite what is deleted or replaced (an erased person's data), rather
                # than leaving it in free pages.
                raw.execute("PRAGMA secure_delete = ON")
            yield Cursor(self, raw)

    def insert_tracking(self, cursor: Cursor, tracking: Tracking) -> None:
        self.tracking._insert_tracking(cursor.raw, tracking)  # type: ignore[attr-defined]

    def forget_position(self, cursor: Cursor, name: str) -> None:
        """Drop a view's tracking record (the view then rebuilds from position 0)."""
        table = getattr(self.tracking, "tracking_table_name", "tracking")
        cursor.execute(f"DELETE FROM {self.table(table)} WHERE application_name = ?", [name])

    def max_tracking_id(self, name: str) -> int:
        return self.tracking.max_tracking_id(name) or 0

    def create_tables(self, statements: Sequence[str]) -> None:
        """The tracking table comes from the library's recorder; these are the views'."""
        with self.transaction(commit=True) as cursor:
            for statement in statements:
                cursor.execute(statement)

    def page(
        self,
        table: str,
        clauses: Sequence[str],
        params: Sequence[Any],
        order_by: str,
        *,
        offset: int,
        limit: int,
    ) -> tuple[list[Any], int]:
        """One page of ``table``'s rows matching every clause, and how many match."""
        condition = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.transaction(commit=False) as cursor:
            total = cursor.execute(
                f"SELECT COUNT(*) AS n FROM {table}{condition}", params
            ).fetchone()["n"]
            rows = cursor.execute(
                f"SELECT * FROM {table}{condition} ORDER BY {order_by} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return rows, int(total)

    def close(self) -> None:
        self.factory.close()


class Cursor:
    """A cursor of the view store that takes ``?`` placeholders on both stores."""

    def __init__(self, store: ViewStore, raw: Any) -> None:
        self.store = store
        self.raw = raw

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Cursor:
        self.raw.execute(self.store.sql(statement), tuple(params))
        return self

    def fetchone(self) -> Any:
        return self.raw.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self.raw.fetchall())


# -- values as the views store them, and WHERE clauses over them ------------------------


def utc(moment: datetime) -> str:
    """A business time as stored: UTC ISO-8601 text with microseconds, so that text order
    is time order on both stores."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def opt_datetime(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def opt_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def opt_decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def placeholders(values: Sequence[Any]) -> str:
    """``(?, ?, …)``, one placeholder per value (for ``IN``)."""
    return f"({', '.join('?' for _ in values)})"


def _stored(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class Where:
    """The conditions of a query (joined with AND) and their parameters, in order.

    Each method adds its condition only when its filter is given: not ``None`` (nor an
    empty list for :meth:`within`, nor an empty fragment for :meth:`contains`, which
    every text contains). A filter whose blank string means "any" passes ``value or
    None``. Values are compared as stored: times as :func:`utc` text, dates as ISO dates.
    """

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    @property
    def sql(self) -> str:
        """``" WHERE …"`` to follow a table name, or ``""`` without conditions."""
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""

    def raw(self, clause: str, *params: Any) -> Where:
        self.clauses.append(clause)
        self.params.extend(params)
        return self

    def equal(self, column: str, value: Any) -> Where:
        return self if value is None else self.raw(f"{column} = ?", _stored(value))

    def within(self, column: str, values: Sequence[Any] | None) -> Where:
        if not values:
            return self
        return self.raw(f"{column} IN {placeholders(values)}", *map(_stored, values))

    def at_least(self, column: str, value: Any) -> Where:
        return self if value is None else self.raw(f"{column} >= ?", _stored(value))

    def after(self, column: str, value: Any) -> Where:
        return self if value is None else self.raw(f"{column} > ?", _stored(value))

    def at_most(self, column: str, value: Any) -> Where:
        return self if value is None else self.raw(f"{column} <= ?", _stored(value))

    def before(self, column: str, value: Any) -> Where:
        return self if value is None else self.raw(f"{column} < ?", _stored(value))

    def contains(self, columns: str | Sequence[str], text: str | None) -> Where:
        """Any of ``columns`` contains ``text``, ignoring case (``%`` and ``_`` in it
        match only themselves)."""
        if not text:
            return self
        names = [columns] if isinstance(columns, str) else list(columns)
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        tests = [f"LOWER({name}) LIKE ? ESCAPE '\\'" for name in names]
        clause = tests[0] if len(tests) == 1 else f"({' OR '.join(tests)})"
        return self.raw(clause, *[f"%{escaped.lower()}%"] * len(tests))


_CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS\s+(?:\S+\.)?\"?(\w+)\"?", re.IGNORECASE)


class KehuProjection(Projection[TrackingRecorder]):
    """A read model kept from kehu's events.

    Subclasses register handlers on :meth:`apply` with ``@apply.register`` — one per
    event type, named after it — and declare their tables in :meth:`ddl`.
    """

    name = ""
    #: Tables the view keeps that are not derived from events (left out of a verified
    #: rebuild's comparison and of a reset).
    kept_tables: frozenset[str] = frozenset()
    #: Columns holding a customer's personal data: (table, the column naming the customer,
    #: the personal columns), overwritten with ``[erased]`` when the customer's personal data
    #: is erased (rows rebuilt later read it erased from the events themselves).
    personal_columns: ClassVar[tuple[tuple[str, str, tuple[str, ...]], ...]] = ()

    def __init__(self, views: ViewStore) -> None:
        super().__init__(view=views.tracking)
        self.views = views

    def erase_subject(self, customer_id: UUID, cursor: Cursor) -> None:
        for table, key, columns in self.personal_columns:
            assignments = ", ".join(
                f"{column} = CASE WHEN {column} IS NULL THEN NULL ELSE ? END" for column in columns
            )
            cursor.execute(
                f"UPDATE {self.t(table)} SET {assignments} WHERE {key} = ?",
                [*([ERASED] * len(columns)), str(customer_id)],
            )

    @property
    def tracking_name(self) -> str:
        return f"kehu:{self.name}"

    def ddl(self) -> list[str]:
        """CREATE TABLE / CREATE INDEX statements (IF NOT EXISTS)."""
        return []

    def t(self, name: str) -> str:
        return self.views.table(name)

    def tables(self) -> list[str]:
        """The names of the view's tables, from its DDL."""
        return [
            match.group(1)
            for statement in self.ddl()
            if (match := _CREATE_TABLE.search(statement)) is not None
        ]

    def on(self, views: ViewStore) -> KehuProjection:
        """The same view kept in another read-model store (a shadow for a verified
        rebuild, or a scratch store for a past position)."""
        twin = copy.copy(self)
        twin._view = views.tracking
        twin.views = views
        return twin

    def apply(self, event: Any, cursor: Cursor) -> None:
        """Each view defines its own ``@singledispatchmethod`` here (a dispatcher shared
        by every view would let one view's handler replace another's). Events without
        a handler change no rows; tracking still advances."""
        raise NotImplementedError

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """One event, one transaction: what the library's ProjectionRunner calls."""
        position = tracking.notification_id
        self.process_batch([domain_event], position, positions=[position])

    def process_batch(
        self,
        events: Sequence[Any],
        last_position: int,
        *,
        positions: Sequence[int] | None = None,
    ) -> None:
        """Apply events and record the tracking position in one transaction.

        ``positions`` are the events' own global positions (a view that keeps them, such
        as the audit trail, needs them; the others ignore them)."""
        erased = False
        with self.views.transaction(commit=True) as cursor:
            # Tracking first: it takes the write lock at once (SQLite), and a second
            # worker on the same position fails here before doing any work.
            self.views.insert_tracking(cursor, Tracking(self.tracking_name, last_position))
            for event in events:
                self.apply(event, cursor)
                if self.personal_columns and isinstance(event, Customer.PersonalDataErased):
                    self.erase_subject(event.originator_id, cursor)
                    erased = True
        if erased:
            reclaim_space(self.views.datastore, [self.t(t) for t, _, _ in self.personal_columns])

    def position(self) -> int:
        return self.views.max_tracking_id(self.tracking_name)

    def reset(self, cursor: Cursor) -> None:
        """Empty the view's tables (for a rebuild from position 0)."""

    def start_over(self) -> None:
        """Empty the view and forget its position, in one transaction."""
        with self.views.transaction(commit=True) as cursor:
            self.reset(cursor)
            self.views.forget_position(cursor, self.tracking_name)


class ProjectionWorker:
    """Follows the notification log for a set of projections (one thread each)."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        projections: Sequence[KehuProjection],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.05,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.projections = list(projections)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors: dict[str, str] = {}
        # The projections follow the same log at about the same pace: each event is decoded
        # (and its personal data decrypted) once for all of them, not once per view.
        self._decoded: OrderedDict[int, Any] = OrderedDict()
        self._decoded_lock = threading.Lock()
        self._decoded_capacity = max(batch_size, 1) * 4 * max(len(self.projections), 1)

    def _events(self, notifications: Sequence[Any]) -> list[Any]:
        with self._decoded_lock:
            cached = [self._decoded.get(n.id) for n in notifications]
        missing = [n for n, event in zip(notifications, cached, strict=True) if event is None]
        if not missing:
            return cached
        decoded = {n.id: self.mapper.to_domain_event(n) for n in missing}
        with self._decoded_lock:
            self._decoded.update(decoded)
            while len(self._decoded) > self._decoded_capacity:
                self._decoded.popitem(last=False)
        return [
            e if e is not None else decoded[n.id]
            for n, e in zip(notifications, cached, strict=True)
        ]

    def catch_up(
        self,
        projection: KehuProjection,
        *,
        until: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Process everything after the projection's position; return events seen."""
        seen = 0
        position = projection.position()
        while not self._stop.is_set():
            notifications = self.recorder.select_notifications(
                start=position + 1, limit=self.batch_size, stop=until
            )
            if not notifications:
                break
            events = self._events(notifications)
            position = notifications[-1].id
            projection.process_batch(events, position, positions=[n.id for n in notifications])
            seen += len(notifications)
            if progress is not None:
                progress(len(notifications))
        return seen

    def _run(self, projection: KehuProjection) -> None:
        backoff = self.poll_interval
        while not self._stop.is_set():
            try:
                seen = self.catch_up(projection)
                self.errors.pop(projection.name, None)
                backoff = self.poll_interval
            except Exception as error:  # keep following; report the failure in /readyz
                log.exception("projection %s failed; retrying", projection.name)
                self.errors[projection.name] = f"{type(error).__name__}: {error}"
                seen = 0
                backoff = min(backoff * 2, 5.0)
            if not seen:
                self._stop.wait(backoff)

    def start(self) -> None:
        for projection in self.projections:
            thread = threading.Thread(
                target=self._run, args=(projection,), name=f"projection-{projection.name}"
            )
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()


def wait_for_position(projections: Sequence[KehuProjection], position: int, timeout: float) -> bool:
    """Wait (bounded) until every projection has processed ``position``."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        if all(p.position() >= position for p in projections):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
