"""Staff training (培训): each programme with its sessions, enrolment, and the
effectiveness (培训效果) recorded on completion; each enrolled staff member's attendance,
assessments (考核) and feedback.

Attendance is kept per staff member and session; a later record of the same session
corrects the earlier one, as in the aggregate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain.training import Training
from projections.base import Cursor, KehuProjection, ViewStore, Where, opt_datetime, opt_decimal


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _in(values: Sequence[Any]) -> str:
    return f"({', '.join('?' for _ in values)})"


@dataclass(frozen=True)
class SessionRow:
    number: int
    starts_at: datetime
    ends_at: datetime
    location: str | None


@dataclass(frozen=True)
class EffectivenessRow:
    """培训效果 as the training recorded it on completion."""

    enrolled: int
    sessions: int
    attendance_rate: Decimal
    passed: int
    pass_rate: Decimal
    average_score: Decimal | None
    improvement: Decimal | None
    satisfaction: Decimal | None


@dataclass(frozen=True)
class TrainingRow:
    id: str
    programme: str
    topic: str
    mode: str
    trainer: str
    sessions: list[SessionRow]
    capacity: int
    pass_score: int
    status: str
    enrolled: int
    scheduled_at: datetime
    first_starts_at: datetime
    last_ends_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    effectiveness: EffectivenessRow | None
    version: int

    @classmethod
    def from_row(cls, row: Any) -> TrainingRow:
        effect = json.loads(row["effectiveness"]) if row["effectiveness"] else None
        return cls(
            id=row["id"],
            programme=row["programme"],
            topic=row["topic"],
            mode=row["mode"],
            trainer=row["trainer"],
            sessions=[
                SessionRow(
                    number=s["number"],
                    starts_at=datetime.fromisoformat(s["starts_at"]),
                    ends_at=datetime.fromisoformat(s["ends_at"]),
                    location=s["location"],
                )
                for s in json.loads(row["sessions"])
            ],
            capacity=row["capacity"],
            pass_score=row["pass_score"],
            status=row["status"],
            enrolled=row["enrolled"],
            scheduled_at=datetime.fromisoformat(row["scheduled_at"]),
            first_starts_at=datetime.fromisoformat(row["first_starts_at"]),
            last_ends_at=datetime.fromisoformat(row["last_ends_at"]),
            completed_at=opt_datetime(row["completed_at"]),
            cancelled_at=opt_datetime(row["cancelled_at"]),
            cancel_reason=row["cancel_reason"],
            effectiveness=(
                EffectivenessRow(
                    enrolled=effect["enrolled"],
                    sessions=effect["sessions"],
                    attendance_rate=Decimal(effect["attendance_rate"]),
                    passed=effect["passed"],
                    pass_rate=Decimal(effect["pass_rate"]),
                    average_score=opt_decimal(effect["average_score"]),
                    improvement=opt_decimal(effect["improvement"]),
                    satisfaction=opt_decimal(effect["satisfaction"]),
                )
                if effect
                else None
            ),
            version=row["version"],
        )


@dataclass(frozen=True)
class TraineeRow:
    """One enrolled staff member (学员): attendance, assessments and feedback."""

    training_id: str
    staff_id: str
    staff_name: str
    role: str | None
    enrolled_at: datetime
    #: Session number → present.
    attendance: dict[int, bool]
    pre_score: int | None
    post_score: int | None
    rating: int | None
    comment: str | None

    @property
    def sessions_attended(self) -> int:
        return sum(1 for present in self.attendance.values() if present)


@dataclass(frozen=True)
class TrainingFilter:
    status: list[str] | None = None
    mode: list[str] | None = None
    programme: str | None = None
    trainer: str | None = None
    #: The training is held (from its first session's start to its last one's end) at
    #: some time in ``[held_from, held_to)``.
    held_from: datetime | None = None
    held_to: datetime | None = None
    #: This staff member is enrolled.
    staff_id: str | None = None


class TrainingProjection(KehuProjection):
    """Keeps ``training_view`` and ``training_trainee``."""

    name = "trainings"

    def ddl(self) -> list[str]:
        view, trainees = self.t("training_view"), self.t("training_trainee")
        return [
            f"CREATE TABLE IF NOT EXISTS {view} ("
            " id TEXT PRIMARY KEY, programme TEXT NOT NULL, topic TEXT NOT NULL,"
            " mode TEXT NOT NULL, trainer TEXT NOT NULL, sessions TEXT NOT NULL,"
            " capacity INTEGER NOT NULL, pass_score INTEGER NOT NULL, status TEXT NOT NULL,"
            " enrolled INTEGER NOT NULL DEFAULT 0, scheduled_at TEXT NOT NULL,"
            " first_starts_at TEXT NOT NULL, last_ends_at TEXT NOT NULL,"
            " completed_at TEXT, cancelled_at TEXT, cancel_reason TEXT, effectiveness TEXT,"
            " version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS training_view_starts ON {view} (first_starts_at)",
            f"CREATE TABLE IF NOT EXISTS {trainees} ("
            " training_id TEXT NOT NULL, staff_id TEXT NOT NULL, staff_name TEXT NOT NULL,"
            " role TEXT, enrolled_at TEXT NOT NULL, attendance TEXT NOT NULL DEFAULT '{}',"
            " pre_score INTEGER, post_score INTEGER, rating INTEGER, comment TEXT,"
            " PRIMARY KEY (training_id, staff_id))",
            f"CREATE INDEX IF NOT EXISTS training_trainee_staff ON {trainees} (staff_id)",
        ]

    def reset(self, cursor: Cursor) -> None:
        for table in ("training_view", "training_trainee"):
            cursor.execute(f"DELETE FROM {self.t(table)}")

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not show change no rows."""

    def _touch(self, cursor: Cursor, event: Any, changes: dict[str, Any]) -> None:
        assignments = "".join(f"{column} = ?, " for column in changes)
        cursor.execute(
            f"UPDATE {self.t('training_view')} SET {assignments}version = ? WHERE id = ?",
            [*changes.values(), event.originator_version, str(event.originator_id)],
        )

    def _trainee(self, cursor: Cursor, event: Any, changes: dict[str, Any]) -> None:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        cursor.execute(
            f"UPDATE {self.t('training_trainee')} SET {assignments}"
            " WHERE training_id = ? AND staff_id = ?",
            [*changes.values(), str(event.originator_id), event.staff_id],
        )

    @apply.register
    def scheduled(self, event: Training.Scheduled, cursor: Cursor) -> None:
        sessions = [
            {
                "number": int(s["number"]),
                "starts_at": _utc(_instant(s["starts_at"])),
                "ends_at": _utc(_instant(s["ends_at"])),
                "location": s.get("location"),
            }
            for s in event.sessions
        ]
        row = {
            "id": str(event.originator_id),
            "programme": event.programme,
            "topic": event.topic,
            "mode": event.mode,
            "trainer": event.trainer,
            "sessions": json.dumps(sessions, ensure_ascii=False),
            "capacity": event.capacity,
            "pass_score": event.pass_score,
            "status": "scheduled",
            "scheduled_at": _utc(event.at),
            "first_starts_at": sessions[0]["starts_at"],
            "last_ends_at": sessions[-1]["ends_at"],
            "version": event.originator_version,
        }
        cursor.execute(
            f"INSERT INTO {self.t('training_view')} ({', '.join(row)}) VALUES {_in(list(row))}",
            list(row.values()),
        )

    @apply.register
    def enrolled(self, event: Training.Enrolled, cursor: Cursor) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('training_trainee')} (training_id, staff_id, staff_name, role,"
            " enrolled_at) VALUES (?, ?, ?, ?, ?)",
            [
                str(event.originator_id),
                event.staff_id,
                event.staff_name,
                event.role,
                _utc(event.at),
            ],
        )
        count = cursor.execute(
            f"SELECT COUNT(*) AS n FROM {self.t('training_trainee')} WHERE training_id = ?",
            [str(event.originator_id)],
        ).fetchone()["n"]
        self._touch(cursor, event, {"enrolled": int(count)})

    @apply.register
    def attendance_recorded(self, event: Training.AttendanceRecorded, cursor: Cursor) -> None:
        row = cursor.execute(
            f"SELECT attendance FROM {self.t('training_trainee')}"
            " WHERE training_id = ? AND staff_id = ?",
            [str(event.originator_id), event.staff_id],
        ).fetchone()
        attendance = json.loads(row["attendance"])
        attendance[str(event.session)] = bool(event.present)
        self._trainee(cursor, event, {"attendance": json.dumps(attendance, sort_keys=True)})
        self._touch(cursor, event, {})

    @apply.register
    def assessment_recorded(self, event: Training.AssessmentRecorded, cursor: Cursor) -> None:
        column = "pre_score" if event.kind == "pre" else "post_score"
        self._trainee(cursor, event, {column: event.score})
        self._touch(cursor, event, {})

    @apply.register
    def feedback_recorded(self, event: Training.FeedbackRecorded, cursor: Cursor) -> None:
        self._trainee(cursor, event, {"rating": event.rating, "comment": event.comment})
        self._touch(cursor, event, {})

    @apply.register
    def completed(self, event: Training.Completed, cursor: Cursor) -> None:
        def text(value: Decimal | None) -> str | None:
            return str(value) if value is not None else None

        effectiveness = {
            "enrolled": event.enrolled,
            "sessions": event.sessions,
            "attendance_rate": str(event.attendance_rate),
            "passed": event.passed,
            "pass_rate": str(event.pass_rate),
            "average_score": text(event.average_score),
            "improvement": text(event.improvement),
            "satisfaction": text(event.satisfaction),
        }
        self._touch(
            cursor,
            event,
            {
                "status": "completed",
                "completed_at": _utc(event.at),
                "effectiveness": json.dumps(effectiveness),
            },
        )

    @apply.register
    def cancelled(self, event: Training.Cancelled, cursor: Cursor) -> None:
        self._touch(
            cursor,
            event,
            {"status": "cancelled", "cancelled_at": _utc(event.at), "cancel_reason": event.reason},
        )


class TrainingQueries:
    """Read-side queries over the training views (never the event store)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def t(self, name: str) -> str:
        return self.views.table(name)

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.views.transaction(commit=False) as cursor:
            return cursor.execute(statement, params).fetchall()

    def get(self, training_id: str | UUID) -> TrainingRow | None:
        rows = self._all(
            f"SELECT * FROM {self.t('training_view')} WHERE id = ?", [str(training_id)]
        )
        return TrainingRow.from_row(rows[0]) if rows else None

    def trainees(self, training_id: str | UUID) -> list[TraineeRow]:
        rows = self._all(
            f"SELECT * FROM {self.t('training_trainee')} WHERE training_id = ?"
            " ORDER BY enrolled_at, staff_id",
            [str(training_id)],
        )
        return [
            TraineeRow(
                training_id=r["training_id"],
                staff_id=r["staff_id"],
                staff_name=r["staff_name"],
                role=r["role"],
                enrolled_at=datetime.fromisoformat(r["enrolled_at"]),
                attendance={int(k): bool(v) for k, v in json.loads(r["attendance"]).items()},
                pre_score=r["pre_score"],
                post_score=r["post_score"],
                rating=r["rating"],
                comment=r["comment"],
            )
            for r in rows
        ]

    def page(
        self,
        where: TrainingFilter,
        *,
        descending: bool = True,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[TrainingRow], int]:
        """Trainings matching every filter, the latest first session first (or earliest)."""
        condition = (
            Where()
            .within("status", where.status)
            .within("mode", where.mode)
            .equal("programme", where.programme or None)
            .equal("trainer", where.trainer or None)
            .after("last_ends_at", where.held_from)
            .before("first_starts_at", where.held_to)
        )
        if where.staff_id:
            condition.raw(
                f"id IN (SELECT training_id FROM {self.t('training_trainee')} WHERE staff_id = ?)",
                where.staff_id,
            )
        direction = "DESC" if descending else "ASC"
        rows, total = self.views.page(
            self.t("training_view"),
            condition.clauses,
            condition.params,
            f"first_starts_at {direction}, id ASC",
            offset=offset,
            limit=limit,
        )
        return [TrainingRow.from_row(r) for r in rows], total
