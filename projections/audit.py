"""The audit trail (审计轨迹): one row per stored business event — who did what, through
which command, why, when it was recorded and when it happened — filtered and paged for
auditors, and the causal chain of a command.

Rows come from each event's audit envelope (:class:`domain.base.Envelope`); the payload
stays in the event store (``/history`` and the event feed show it, masked as the caller's
role requires). kehu's own bookkeeping aggregates (command receipts, API keys) are not
business facts and get no row, but still advance the view's tracking record.

**Business time** (业务时间) is when the fact happened, as the event itself says, where it
says so (:func:`business_time`): the first of the instant fields in
:data:`MOMENT_FIELDS` the event carries, else the first of the day fields in
:data:`DAY_FIELDS`, taken as that day's midnight in Asia/Shanghai; deadlines (``due_at``,
``due_on``, ``review_due_on``, …) never count. Events that carry none (a profile update, a
classification) have no business time. The recorded time is the event's own timestamp.

Times are stored as UTC ISO-8601 text with microseconds, so that text order is time order
on both stores. Time ranges are half-open: ``from`` inclusive, ``to`` exclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from eventsourcing.persistence import Tracking

from domain.calendar import SHANGHAI
from projections.base import Cursor, KehuProjection, ViewStore, Where, opt_datetime

#: kehu's own bookkeeping aggregates (``application.store.INTERNAL``; a test keeps the
#: two equal — projections do not import the application layer).
BOOKKEEPING = frozenset({"CommandReceipt", "ApiKey"})

#: Instant fields that say when the fact happened, in order of preference.
MOMENT_FIELDS = (
    "at",
    "occurred_at",
    "received_at",
    "signed_at",
    "applied_at",
    "drafted_at",
    "requested_at",
    "answered_at",
    "planned_at",
    "detected_at",
)

#: Day fields that say on which day the fact happened, in order of preference (used
#: when the event has no instant field): midnight of that day in Asia/Shanghai.
DAY_FIELDS = (
    "occurred_on",
    "paid_on",
    "invoiced_on",
    "registered_on",
    "reviewed_on",
    "applied_on",
    "earned_on",
    "expired_on",
    "effective_on",
    "as_of",
)

OrderField = Literal["position", "business_time"]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def business_time(event: Any) -> datetime | None:
    """When the fact happened, by the rule in this module's docstring (UTC), or None."""
    state = vars(event)
    for name in MOMENT_FIELDS:
        value = state.get(name)
        if isinstance(value, datetime) and value.utcoffset() is not None:
            return value.astimezone(UTC)
    for name in DAY_FIELDS:
        value = state.get(name)
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(0), tzinfo=SHANGHAI).astimezone(UTC)
    return None


@dataclass(frozen=True)
class AuditEntry:
    """One stored business event as the audit trail shows it (no payload)."""

    position: int
    recorded_at: datetime
    aggregate_type: str
    aggregate_id: str
    version: int
    type: str
    actor_id: str | None
    actor_role: str | None
    command: str | None
    command_id: str | None
    correlation_id: str | None
    causation_id: str | None
    reason: str | None
    business_time: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> AuditEntry:
        return cls(
            position=int(row["position"]),
            recorded_at=datetime.fromisoformat(row["recorded_at"]),
            aggregate_type=row["aggregate_type"],
            aggregate_id=row["aggregate_id"],
            version=int(row["version"]),
            type=row["event_type"],
            actor_id=row["actor_id"],
            actor_role=row["actor_role"],
            command=row["command"],
            command_id=row["command_id"],
            correlation_id=row["correlation_id"],
            causation_id=row["causation_id"],
            reason=row["reason"],
            business_time=opt_datetime(row["business_time"]),
        )


@dataclass(frozen=True)
class AuditFilter:
    """Every given field must match (AND). Ranges are half-open: from ≤ t < to."""

    actor_id: str | None = None
    actor_role: str | None = None
    aggregate_type: str | None = None
    aggregate_id: str | None = None
    event_type: str | None = None
    command: str | None = None
    command_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    business_from: datetime | None = None
    business_to: datetime | None = None
    #: Only events after this global position (keyset paging: pass the last one seen).
    after_position: int | None = None


class AuditTrailProjection(KehuProjection):
    """Keeps ``audit_trail``: one row per stored business event, keyed by its position."""

    name = "audit_trail"

    def ddl(self) -> list[str]:
        table = self.t("audit_trail")
        indexes = {
            # Each filter, then position: a filtered page in global order reads in index order.
            "actor": "actor_id, position",
            "role": "actor_role, position",
            "aggregate": "aggregate_id, position",
            "aggregate_type": "aggregate_type, position",
            "event_type": "event_type, position",
            "command": "command, position",
            "command_id": "command_id, position",
            "correlation": "correlation_id, position",
            "causation": "causation_id, command_id",
            "recorded": "recorded_at",
            "business": "business_time",
        }
        return [
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " position BIGINT PRIMARY KEY, recorded_at TEXT NOT NULL,"
            " aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL,"
            " version INTEGER NOT NULL, event_type TEXT NOT NULL, actor_id TEXT,"
            " actor_role TEXT, command TEXT, command_id TEXT, correlation_id TEXT,"
            " causation_id TEXT, reason TEXT, business_time TEXT)",
            *(
                f"CREATE INDEX IF NOT EXISTS audit_trail_{name} ON {table} ({columns})"
                for name, columns in indexes.items()
            ),
        ]

    def reset(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t('audit_trail')}")

    def apply(self, event: Any, cursor: Cursor) -> None:
        raise TypeError("the audit trail keeps each event's position: use process_batch")

    def process_batch(
        self,
        events: Sequence[Any],
        last_position: int,
        *,
        positions: Sequence[int] | None = None,
    ) -> None:
        """Write the batch's rows and the tracking record in one transaction."""
        if positions is None or len(positions) != len(events):
            raise ValueError("the audit trail needs the global position of every event")
        rows = [
            self.row(event, position)
            for event, position in zip(events, positions, strict=True)
            if type(event).__qualname__.split(".")[0] not in BOOKKEEPING
        ]
        with self.views.transaction(commit=True) as cursor:
            # Tracking first, as in KehuProjection.process_batch (write lock, no double work).
            self.views.insert_tracking(cursor, Tracking(self.tracking_name, last_position))
            if rows:
                cursor.raw.executemany(
                    self.views.sql(
                        f"INSERT INTO {self.t('audit_trail')} (position, recorded_at,"
                        " aggregate_type, aggregate_id, version, event_type, actor_id,"
                        " actor_role, command, command_id, correlation_id, causation_id,"
                        " reason, business_time)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    ),
                    rows,
                )

    @staticmethod
    def row(event: Any, position: int) -> tuple[Any, ...]:
        qualname = type(event).__qualname__
        envelope = vars(event).get("envelope")
        moment = business_time(event)
        return (
            position,
            _utc(event.timestamp),
            qualname.split(".")[0],
            str(event.originator_id),
            event.originator_version,
            qualname,
            getattr(envelope, "actor_id", None),
            getattr(envelope, "actor_role", None),
            getattr(envelope, "command", None),
            getattr(envelope, "command_id", None),
            getattr(envelope, "correlation_id", None),
            getattr(envelope, "causation_id", None),
            getattr(envelope, "reason", None),
            _utc(moment) if moment is not None else None,
        )


class AuditQueries:
    """Read-side queries over the audit trail (never the event store)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views
        self.table = views.table("audit_trail")

    def trail(
        self,
        where: AuditFilter,
        offset: int = 0,
        limit: int = 50,
        *,
        order_by: OrderField = "position",
        descending: bool = False,
    ) -> tuple[list[AuditEntry], int]:
        """One page of the trail matching ``where``, and how many events match."""
        condition = self._where(where)
        direction = "DESC" if descending else "ASC"
        order = f"position {direction}"
        if order_by == "business_time":
            order = f"business_time {direction} NULLS LAST, {order}"
        rows, total = self.views.page(
            self.table, condition.clauses, condition.params, order, offset=offset, limit=limit
        )
        return [AuditEntry.from_row(row) for row in rows], total

    def first_recorded_after(self, moment: datetime) -> int | None:
        """The lowest global position of a business event recorded after ``moment``
        (``None`` when the trail holds none yet). An event's timestamp precedes its commit
        and positions follow commit order, so everything from this position on was
        committed after ``moment``: the log before it is what the read models held then."""
        with self.views.transaction(commit=False) as cursor:
            row = cursor.execute(
                f"SELECT MIN(position) AS p FROM {self.table} WHERE recorded_at > ?",
                [_utc(moment)],
            ).fetchone()
        return None if row["p"] is None else int(row["p"])

    def causal_chain(self, command_id: str) -> list[AuditEntry]:
        """Every event recorded by the command and by the commands it caused (their
        ``causation_id`` names a command of the chain, transitively), in global order."""
        rows, _ = self.causal_chain_page(command_id, offset=0, limit=None)
        return rows

    def causal_chain_page(
        self, command_id: str, *, offset: int = 0, limit: int | None = 100
    ) -> tuple[list[AuditEntry], int]:
        """A page of :meth:`causal_chain` and the chain's number of events."""
        # UNION (not UNION ALL) drops commands already in the chain, so a cycle of
        # causation ids (possible: callers send X-Causation-Id) still terminates.
        chain = (
            "WITH RECURSIVE chain(command_id) AS ("
            " SELECT CAST(? AS TEXT)"
            f" UNION SELECT t.command_id FROM {self.table} t"
            " JOIN chain c ON t.causation_id = c.command_id"
            " WHERE t.command_id IS NOT NULL)"
        )
        condition = f" FROM {self.table} WHERE command_id IN (SELECT command_id FROM chain)"
        page = " LIMIT ? OFFSET ?" if limit is not None else ""
        extra = [limit, offset] if limit is not None else []
        with self.views.transaction(commit=False) as cursor:
            total = cursor.execute(
                f"{chain} SELECT COUNT(*) AS n{condition}", [command_id]
            ).fetchone()["n"]
            rows = cursor.execute(
                f"{chain} SELECT *{condition} ORDER BY position{page}", [command_id, *extra]
            ).fetchall()
        return [AuditEntry.from_row(row) for row in rows], int(total)

    def _where(self, where: AuditFilter) -> Where:
        return (
            Where()
            .equal("actor_id", where.actor_id)
            .equal("actor_role", where.actor_role)
            .equal("aggregate_type", where.aggregate_type)
            .equal("aggregate_id", where.aggregate_id)
            .equal("event_type", where.event_type)
            .equal("command", where.command)
            .equal("command_id", where.command_id)
            .equal("correlation_id", where.correlation_id)
            .equal("causation_id", where.causation_id)
            .at_least("recorded_at", where.recorded_from)
            .before("recorded_at", where.recorded_to)
            .at_least("business_time", where.business_from)
            .before("business_time", where.business_to)
            .after("position", where.after_position)
        )
