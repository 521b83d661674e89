"""Who looked at whom (个人信息查阅记录): one row per recorded disclosure, and one per data
subject it names, so that "who looked at this person" and "whom did this person look at"
are each one indexed query.

Rows come from :class:`domain.disclosure.Disclosure.Recorded` and its audit envelope (who
looked, in which role, through which command and conversation). Times are stored as UTC
ISO-8601 text with microseconds, so text order is time order on both stores; ranges are
half-open, ``since`` ≤ t < ``until``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any

from domain.disclosure import Disclosure
from projections.base import Cursor, KehuProjection, ViewStore, Where, utc


@dataclass(frozen=True)
class DisclosureRow:
    """One recorded disclosure."""

    id: str
    recorded_at: datetime
    actor_id: str
    actor_role: str
    via: str
    fields: list[str]
    subjects: list[str]
    command_id: str
    correlation_id: str

    @classmethod
    def from_row(cls, row: Any) -> DisclosureRow:
        return cls(
            id=row["id"],
            recorded_at=datetime.fromisoformat(row["recorded_at"]),
            actor_id=row["actor_id"],
            actor_role=row["actor_role"],
            via=row["via"],
            fields=list(json.loads(row["fields"])),
            subjects=list(json.loads(row["subjects"])),
            command_id=row["command_id"],
            correlation_id=row["correlation_id"],
        )


@dataclass(frozen=True)
class DisclosureFilter:
    """Every given field must match (AND)."""

    subject_id: str | None = None
    actor_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class DisclosureProjection(KehuProjection):
    """Keeps ``disclosure_view`` and ``disclosure_subject``."""

    name = "disclosures"

    def ddl(self) -> list[str]:
        view, subjects = self.t("disclosure_view"), self.t("disclosure_subject")
        return [
            f"CREATE TABLE IF NOT EXISTS {view} ("
            " id TEXT PRIMARY KEY, recorded_at TEXT NOT NULL, actor_id TEXT NOT NULL,"
            " actor_role TEXT NOT NULL, via TEXT NOT NULL, fields TEXT NOT NULL,"
            " subjects TEXT NOT NULL, command_id TEXT NOT NULL, correlation_id TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS disclosure_view_recorded ON {view} (recorded_at, id)",
            f"CREATE INDEX IF NOT EXISTS disclosure_view_actor ON {view} (actor_id, recorded_at)",
            f"CREATE TABLE IF NOT EXISTS {subjects} ("
            " subject_id TEXT NOT NULL, disclosure_id TEXT NOT NULL,"
            " PRIMARY KEY (subject_id, disclosure_id))",
        ]

    def reset(self, cursor: Cursor) -> None:
        for table in ("disclosure_view", "disclosure_subject"):
            cursor.execute(f"DELETE FROM {self.t(table)}")

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events other than disclosures change no rows."""

    @apply.register
    def recorded(self, event: Disclosure.Recorded, cursor: Cursor) -> None:
        envelope = vars(event)["envelope"]
        disclosure_id = str(event.originator_id)
        cursor.execute(
            f"INSERT INTO {self.t('disclosure_view')} (id, recorded_at, actor_id, actor_role,"
            " via, fields, subjects, command_id, correlation_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                disclosure_id,
                utc(event.timestamp),
                envelope.actor_id,
                envelope.actor_role,
                event.via,
                json.dumps(event.fields, ensure_ascii=False),
                json.dumps(event.subjects, ensure_ascii=False),
                envelope.command_id,
                envelope.correlation_id,
            ],
        )
        for subject in event.subjects:
            cursor.execute(
                f"INSERT INTO {self.t('disclosure_subject')} (subject_id, disclosure_id)"
                " VALUES (?, ?)",
                [subject, disclosure_id],
            )


class DisclosureQueries:
    """Read-side queries over the disclosures (never the event store)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def page(
        self, where: DisclosureFilter, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[DisclosureRow], int]:
        """Disclosures matching every filter, the latest first, and how many match."""
        condition = (
            Where()
            .equal("actor_id", where.actor_id)
            .at_least("recorded_at", where.since)
            .before("recorded_at", where.until)
        )
        if where.subject_id is not None:
            condition.raw(
                f"id IN (SELECT disclosure_id FROM {self.views.table('disclosure_subject')}"
                " WHERE subject_id = ?)",
                where.subject_id,
            )
        rows, total = self.views.page(
            self.views.table("disclosure_view"),
            condition.clauses,
            condition.params,
            "recorded_at DESC, id",
            offset=offset,
            limit=limit,
        )
        return [DisclosureRow.from_row(row) for row in rows], total
