"""Views of items with a service-level clock (complaints, service requests).

A row keeps its clock facts as JSON (``[[kind, at], …]``); the deadlines stored with it
are those in force after its last event; every read recomputes the clock as of the moment
asked, with the SLA engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from domain.calendar import BusinessCalendar
from domain.sla import ClockEvent, SlaPolicy, SlaStatus, evaluate
from projections.base import Cursor, KehuProjection, ViewStore


def utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def clock_of(
    raw: Any,
    calendar: BusinessCalendar,
    policy: SlaPolicy,
    priority_column: str,
    as_of: datetime,
) -> SlaStatus:
    """The clock of a stored row as of ``as_of``."""
    facts = [ClockEvent(kind, datetime.fromisoformat(at)) for kind, at in json.loads(raw["clock"])]
    return evaluate(
        calendar,
        policy,
        datetime.fromisoformat(raw["received_at"]),
        raw[priority_column],
        facts,
        as_of,
        tier=raw["vip_tier"],
    )


def late_clause(open_statuses: Sequence[str]) -> str:
    """SQL: the row missed a deadline as of the first two parameters (the moment, twice),
    followed by ``open_statuses``. A running clock's stored deadlines are exact; a paused
    clock cannot breach while it stands still, so only recorded breaches count for it."""
    return (
        "(breaches <> '[]' OR (paused = 0 AND ("
        " (responded_at IS NULL AND response_due_at < ?) OR responded_at > response_due_at"
        " OR (resolved_at IS NULL AND resolution_due_at < ?"
        f" AND status IN ({', '.join('?' for _ in open_statuses)}))"
        " OR resolved_at > resolution_due_at)))"
    )


def open_running_sql(table: str, open_statuses: Sequence[str]) -> str:
    """SQL: open rows whose clock runs, earliest next deadline first (``?`` = limit)."""
    return (
        f"SELECT * FROM {table} WHERE paused = 0"
        f" AND status IN ({', '.join('?' for _ in open_statuses)})"
        " ORDER BY CASE WHEN responded_at IS NULL THEN response_due_at"
        " ELSE resolution_due_at END LIMIT ?"
    )


class ClockedProjection(KehuProjection):
    """A view whose rows carry clock facts and the deadlines in force."""

    table: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    priority_column: ClassVar[str]

    def __init__(self, views: ViewStore, calendar: BusinessCalendar, policy: SlaPolicy) -> None:
        super().__init__(views)
        self.calendar = calendar
        self.policy = policy

    def reset(self, cursor: Cursor) -> None:
        cursor.execute(f"DELETE FROM {self.t(self.table)}")

    def _insert(self, cursor: Cursor, row: dict[str, Any], event: Any, as_of: datetime) -> None:
        row.setdefault("clock", "[]")
        row.setdefault("breaches", "[]")
        row.setdefault("response_due_at", "")
        row.setdefault("resolution_due_at", "")
        row.setdefault("paused", 0)
        cursor.execute(
            f"INSERT INTO {self.t(self.table)} ({', '.join(self.columns)})"
            f" VALUES ({', '.join('?' for _ in self.columns)})",
            [row[c] for c in self.columns],
        )
        self._save(cursor, row, event, as_of)

    def _load(self, cursor: Cursor, item_id: Any) -> dict[str, Any]:
        row = cursor.execute(
            f"SELECT * FROM {self.t(self.table)} WHERE id = ?", [str(item_id)]
        ).fetchone()
        return {name: row[name] for name in self.columns}

    def _save(self, cursor: Cursor, row: dict[str, Any], event: Any, as_of: datetime) -> None:
        status = clock_of(row, self.calendar, self.policy, self.priority_column, as_of)
        row["response_due_at"] = utc(status.response_due_at)
        row["resolution_due_at"] = utc(status.resolution_due_at)
        row["paused"] = int(status.paused)
        row["version"] = event.originator_version
        columns = [c for c in self.columns if c != "id"]
        cursor.execute(
            f"UPDATE {self.t(self.table)} SET {', '.join(f'{c} = ?' for c in columns)}"
            " WHERE id = ?",
            [*(row[c] for c in columns), row["id"]],
        )

    def _change(
        self, cursor: Cursor, event: Any, as_of: datetime, change: Callable[[dict[str, Any]], None]
    ) -> None:
        row = self._load(cursor, event.originator_id)
        change(row)
        self._save(cursor, row, event, as_of)

    @staticmethod
    def _fact(row: dict[str, Any], kind: str, at: datetime) -> None:
        facts = json.loads(row["clock"])
        facts.append([kind, at.isoformat()])
        row["clock"] = json.dumps(facts)

    @staticmethod
    def _breach(row: dict[str, Any], event: Any) -> None:
        breaches = json.loads(row["breaches"])
        breaches.append(
            {
                "target": event.target,
                "due_at": event.due_at.isoformat(),
                "detected_at": event.detected_at.isoformat(),
                "late_by_hours": str(event.late_by_hours),
            }
        )
        row["breaches"] = json.dumps(breaches)
