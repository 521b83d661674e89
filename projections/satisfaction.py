"""Satisfaction surveys (满意度调查): every survey with its scores, its improvement actions
(改进措施), and the resolved cases that still wait for a survey.

``survey_view`` keeps what each survey recorded *as it was recorded*: the handler, the
customer's segment and the channel come from the survey's own events (the handler of the
complaint or service request when the survey was requested), so a later reassignment of the
case never moves a past rating to another handler.

``survey_case`` keeps every resolved complaint and service request with the handler on the
case when it was resolved; :meth:`SurveyQueries.cases_without_survey` lists those with no
survey yet for the policy that requests one. Both tables live in this one projection, so
"resolved" and "survey requested" are always read at the same position.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain.complaint import Complaint
from domain.service_request import ServiceRequest
from domain.survey import Survey, survey_id_for
from projections.base import Cursor, KehuProjection, ViewStore, Where, opt_date, opt_datetime

#: Satisfaction dimensions (评价维度) and their labels.
DIMENSIONS: dict[str, str] = {"product": "产品", "service": "服务", "after_sales": "售后"}

_SURVEY_COLUMNS = (
    "id", "customer_id", "kind", "source_id", "channel", "handler_id", "segment", "status",
    "requested_at", "respond_by", "answered_at", "csat", "nps", "ces", "scores", "comment",
    "expired_on", "version",
)  # fmt: skip


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _in(values: Sequence[Any]) -> str:
    return f"({', '.join('?' for _ in values)})"


# -- rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImprovementActionRow:
    """改进措施: an action taken on what a survey revealed, with its owner and status."""

    survey_id: str
    action_id: str
    description: str
    owner: str
    due_on: date
    status: str
    note: str | None
    added_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True)
class SurveyRow:
    """One survey as the read model has it."""

    id: str
    customer_id: str
    kind: str
    source_id: str | None
    channel: str
    handler_id: str | None
    segment: str | None
    status: str
    requested_at: datetime
    respond_by: date
    answered_at: datetime | None
    csat: int | None
    nps: int | None
    ces: int | None
    #: Scores per dimension, in the order product, service, after-sales.
    scores: dict[str, int]
    comment: str | None
    expired_on: date | None
    version: int
    actions: tuple[ImprovementActionRow, ...] = ()

    @classmethod
    def from_row(cls, row: Any, actions: Sequence[ImprovementActionRow] = ()) -> SurveyRow:
        stored = json.loads(row["scores"])
        return cls(
            id=row["id"],
            customer_id=row["customer_id"],
            kind=row["kind"],
            source_id=row["source_id"],
            channel=row["channel"],
            handler_id=row["handler_id"],
            segment=row["segment"],
            status=row["status"],
            requested_at=datetime.fromisoformat(row["requested_at"]),
            respond_by=date.fromisoformat(row["respond_by"]),
            answered_at=opt_datetime(row["answered_at"]),
            csat=row["csat"],
            nps=row["nps"],
            ces=row["ces"],
            scores={d: int(v) for d in DIMENSIONS if (v := stored.get(d)) is not None},
            comment=row["comment"],
            expired_on=opt_date(row["expired_on"]),
            version=row["version"],
            actions=tuple(actions),
        )


@dataclass(frozen=True)
class SurveyFilter:
    """Filters combine with AND; times are half-open ``[from, to)``."""

    status: list[str] | None = None
    kind: list[str] | None = None
    channel: list[str] | None = None
    customer_id: str | None = None
    handler_id: str | None = None
    segment: str | None = None
    source_id: str | None = None
    requested_from: datetime | None = None
    requested_to: datetime | None = None
    answered_from: datetime | None = None
    answered_to: datetime | None = None
    #: Has (true) or has not (false) an improvement action not yet done.
    open_actions: bool | None = None


# -- the projection ----------------------------------------------------------------------


class SurveyProjection(KehuProjection):
    """Keeps ``survey_view``, ``survey_action`` and ``survey_case``."""

    name = "surveys"
    personal_columns = (("survey_view", "customer_id", ("comment",)),)

    def ddl(self) -> list[str]:
        view, actions, cases = self.t("survey_view"), self.t("survey_action"), self.t("survey_case")
        return [
            f"CREATE TABLE IF NOT EXISTS {view} ("
            " id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, kind TEXT NOT NULL,"
            " source_id TEXT, channel TEXT NOT NULL, handler_id TEXT, segment TEXT,"
            " status TEXT NOT NULL, requested_at TEXT NOT NULL, respond_by TEXT NOT NULL,"
            " answered_at TEXT, csat INTEGER, nps INTEGER, ces INTEGER,"
            " scores TEXT NOT NULL, comment TEXT, expired_on TEXT,"
            " open_actions INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS survey_view_source ON {view} (source_id)",
            f"CREATE INDEX IF NOT EXISTS survey_view_requested ON {view} (requested_at)",
            f"CREATE INDEX IF NOT EXISTS survey_view_answered ON {view} (answered_at)",
            f"CREATE INDEX IF NOT EXISTS survey_view_due ON {view} (status, respond_by)",
            f"CREATE INDEX IF NOT EXISTS survey_view_customer ON {view} (customer_id)",
            f"CREATE TABLE IF NOT EXISTS {actions} ("
            " survey_id TEXT NOT NULL, action_id TEXT NOT NULL, description TEXT NOT NULL,"
            " owner TEXT NOT NULL, due_on TEXT NOT NULL, status TEXT NOT NULL, note TEXT,"
            " added_at TEXT NOT NULL, updated_at TEXT, PRIMARY KEY (survey_id, action_id))",
            f"CREATE TABLE IF NOT EXISTS {cases} ("
            " source_id TEXT PRIMARY KEY, kind TEXT NOT NULL, customer_id TEXT NOT NULL,"
            " channel TEXT NOT NULL, handler_id TEXT, resolved_handler_id TEXT,"
            " resolved_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS survey_case_resolved ON {cases} (resolved_at)",
        ]

    def reset(self, cursor: Cursor) -> None:
        for table in ("survey_view", "survey_action", "survey_case"):
            cursor.execute(f"DELETE FROM {self.t(table)}")

    @singledispatchmethod
    def apply(self, event: Any, cursor: Cursor) -> None:
        """Events this view does not show change no rows."""

    # -- helpers ----------------------------------------------------------------------

    def _touch(self, cursor: Cursor, event: Any, changes: dict[str, Any]) -> None:
        assignments = "".join(f"{column} = ?, " for column in changes)
        cursor.execute(
            f"UPDATE {self.t('survey_view')} SET {assignments}version = ? WHERE id = ?",
            [*changes.values(), event.originator_version, str(event.originator_id)],
        )

    def _count_open_actions(self, cursor: Cursor, survey_id: str) -> int:
        row = cursor.execute(
            f"SELECT COUNT(*) AS n FROM {self.t('survey_action')}"
            " WHERE survey_id = ? AND status <> 'done'",
            [survey_id],
        ).fetchone()
        return int(row["n"])

    # -- surveys ----------------------------------------------------------------------

    @apply.register
    def requested(self, event: Survey.Requested, cursor: Cursor) -> None:
        row: dict[str, Any] = dict.fromkeys(_SURVEY_COLUMNS)
        row.update(
            id=str(event.originator_id),
            customer_id=str(event.customer_id),
            kind=event.kind,
            source_id=str(event.source_id) if event.source_id else None,
            channel=event.channel,
            handler_id=event.handler_id,
            segment=event.segment,
            status="requested",
            requested_at=_utc(event.requested_at),
            respond_by=event.respond_by.isoformat(),
            scores="{}",
            version=event.originator_version,
        )
        cursor.execute(
            f"INSERT INTO {self.t('survey_view')} ({', '.join(_SURVEY_COLUMNS)})"
            f" VALUES {_in(_SURVEY_COLUMNS)}",
            [row[c] for c in _SURVEY_COLUMNS],
        )

    @apply.register
    def answered(self, event: Survey.Answered, cursor: Cursor) -> None:
        # The answer carries the handler, segment and channel as recorded at the request.
        self._touch(
            cursor,
            event,
            {
                "status": "answered",
                "answered_at": _utc(event.answered_at),
                "csat": event.csat,
                "nps": event.nps,
                "ces": event.ces,
                "scores": json.dumps(dict(event.scores), sort_keys=True),
                "comment": event.comment,
                "handler_id": event.handler_id,
                "segment": event.segment,
                "channel": event.channel,
            },
        )

    @apply.register
    def expired(self, event: Survey.Expired, cursor: Cursor) -> None:
        self._touch(
            cursor, event, {"status": "expired", "expired_on": event.expired_on.isoformat()}
        )

    @apply.register
    def action_added(self, event: Survey.ActionAdded, cursor: Cursor) -> None:
        survey_id = str(event.originator_id)
        cursor.execute(
            f"INSERT INTO {self.t('survey_action')} (survey_id, action_id, description, owner,"
            " due_on, status, added_at) VALUES (?, ?, ?, ?, ?, 'open', ?)",
            [
                survey_id,
                str(event.action_id),
                event.description,
                event.owner,
                event.due_on.isoformat(),
                _utc(event.at),
            ],
        )
        self._touch(cursor, event, {"open_actions": self._count_open_actions(cursor, survey_id)})

    @apply.register
    def action_updated(self, event: Survey.ActionUpdated, cursor: Cursor) -> None:
        survey_id = str(event.originator_id)
        cursor.execute(
            f"UPDATE {self.t('survey_action')} SET status = ?, note = ?, updated_at = ?"
            " WHERE survey_id = ? AND action_id = ?",
            [event.status, event.note, _utc(event.at), survey_id, str(event.action_id)],
        )
        self._touch(cursor, event, {"open_actions": self._count_open_actions(cursor, survey_id)})

    # -- cases that call for a survey (投诉回访, 服务回访) ------------------------------

    def _case_opened(self, cursor: Cursor, event: Any, kind: str) -> None:
        cursor.execute(
            f"INSERT INTO {self.t('survey_case')} (source_id, kind, customer_id, channel)"
            " VALUES (?, ?, ?, ?)",
            [str(event.originator_id), kind, str(event.customer_id), event.channel],
        )

    def _case(self, cursor: Cursor, event: Any, assignments: str, params: list[Any]) -> None:
        cursor.execute(
            f"UPDATE {self.t('survey_case')} SET {assignments} WHERE source_id = ?",
            [*params, str(event.originator_id)],
        )

    @apply.register
    def complaint_lodged(self, event: Complaint.Lodged, cursor: Cursor) -> None:
        self._case_opened(cursor, event, "complaint")

    @apply.register
    def complaint_assigned(self, event: Complaint.Assigned, cursor: Cursor) -> None:
        self._case(cursor, event, "handler_id = ?", [event.handler_id])

    @apply.register
    def complaint_resolved(self, event: Complaint.Resolved, cursor: Cursor) -> None:
        # The handler on the case when it was resolved: the one the survey will credit.
        self._case(
            cursor, event, "resolved_at = ?, resolved_handler_id = handler_id", [_utc(event.at)]
        )

    @apply.register
    def complaint_reopened(self, event: Complaint.Reopened, cursor: Cursor) -> None:
        self._case(cursor, event, "resolved_at = NULL, resolved_handler_id = NULL", [])

    @apply.register
    def service_request_opened(self, event: ServiceRequest.Opened, cursor: Cursor) -> None:
        self._case_opened(cursor, event, "service_request")

    @apply.register
    def service_request_assigned(self, event: ServiceRequest.Assigned, cursor: Cursor) -> None:
        self._case(cursor, event, "handler_id = ?", [event.handler_id])

    @apply.register
    def service_request_resolved(self, event: ServiceRequest.Resolved, cursor: Cursor) -> None:
        self._case(
            cursor, event, "resolved_at = ?, resolved_handler_id = handler_id", [_utc(event.at)]
        )


# -- queries ------------------------------------------------------------------------------


class SurveyQueries:
    """Read-side queries over the survey views (never the event store)."""

    def __init__(self, views: ViewStore) -> None:
        self.views = views

    def t(self, name: str) -> str:
        return self.views.table(name)

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.views.transaction(commit=False) as cursor:
            return cursor.execute(statement, params).fetchall()

    def _actions(self, survey_ids: Sequence[str]) -> dict[str, list[ImprovementActionRow]]:
        found: dict[str, list[ImprovementActionRow]] = {}
        if not survey_ids:
            return found
        rows = self._all(
            f"SELECT * FROM {self.t('survey_action')} WHERE survey_id IN {_in(survey_ids)}"
            " ORDER BY due_on, added_at, action_id",
            list(survey_ids),
        )
        for r in rows:
            found.setdefault(r["survey_id"], []).append(
                ImprovementActionRow(
                    survey_id=r["survey_id"],
                    action_id=r["action_id"],
                    description=r["description"],
                    owner=r["owner"],
                    due_on=date.fromisoformat(r["due_on"]),
                    status=r["status"],
                    note=r["note"],
                    added_at=datetime.fromisoformat(r["added_at"]),
                    updated_at=opt_datetime(r["updated_at"]),
                )
            )
        return found

    def get(self, survey_id: str | UUID) -> SurveyRow | None:
        rows = self._all(f"SELECT * FROM {self.t('survey_view')} WHERE id = ?", [str(survey_id)])
        if not rows:
            return None
        return SurveyRow.from_row(rows[0], self._actions([rows[0]["id"]]).get(rows[0]["id"], []))

    def page(
        self,
        where: SurveyFilter,
        *,
        descending: bool = True,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[SurveyRow], int]:
        """Surveys matching every filter, the latest requested first (or the earliest)."""
        condition = self._where(where)
        direction = "DESC" if descending else "ASC"
        rows, total = self.views.page(
            self.t("survey_view"),
            condition.clauses,
            condition.params,
            f"requested_at {direction}, id ASC",
            offset=offset,
            limit=limit,
        )
        actions = self._actions([r["id"] for r in rows])
        return [SurveyRow.from_row(r, actions.get(r["id"], [])) for r in rows], total

    def _where(self, where: SurveyFilter) -> Where:
        condition = (
            Where()
            .within("status", where.status)
            .within("kind", where.kind)
            .within("channel", where.channel)
            .equal("customer_id", where.customer_id or None)
            .equal("handler_id", where.handler_id or None)
            .equal("segment", where.segment or None)
            .equal("source_id", where.source_id or None)
            .at_least("requested_at", where.requested_from)
            .before("requested_at", where.requested_to)
            .at_least("answered_at", where.answered_from)
            .before("answered_at", where.answered_to)
        )
        if where.open_actions is not None:
            condition.raw("open_actions > 0" if where.open_actions else "open_actions = 0")
        return condition

    def between(
        self,
        column: str,
        start: datetime,
        end: datetime,
        *,
        segment: str | None = None,
    ) -> list[SurveyRow]:
        """Surveys whose ``requested_at`` or ``answered_at`` falls in ``[start, end)``
        (for the dashboard), without their actions."""
        if column not in ("requested_at", "answered_at"):
            raise ValueError(f"surveys are not dated by {column}")
        condition = Where().at_least(column, start).before(column, end).equal("segment", segment)
        rows = self._all(
            f"SELECT * FROM {self.t('survey_view')}{condition.sql} ORDER BY {column}, id",
            condition.params,
        )
        return [SurveyRow.from_row(r) for r in rows]

    # -- for the policies ----------------------------------------------------------------

    def cases_without_survey(self, since: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Complaints and service requests resolved at or after ``since`` (and not reopened
        since) for which no survey has been requested: ``{kind, source_id, customer_id,
        channel, handler_id, segment, resolved_at}``, the earliest resolved first.
        ``channel`` is the case's (the policy uses it when a survey can); ``handler_id``
        the handler on the case when it was resolved; ``segment`` the customer's segment
        now (from the customer read model)."""
        cases, surveys = self.t("survey_case"), self.t("survey_view")
        customers = self.t("customer_view")
        rows = self._all(
            "SELECT c.kind, c.source_id, c.customer_id, c.channel, c.resolved_handler_id,"
            f" c.resolved_at, cv.segment FROM {cases} c LEFT JOIN {customers} cv ON cv.id = c.customer_id"
            " WHERE c.resolved_at IS NOT NULL AND c.resolved_at >= ?"
            f" AND NOT EXISTS (SELECT 1 FROM {surveys} s WHERE s.source_id = c.source_id)"
            " ORDER BY c.resolved_at, c.source_id LIMIT ?",
            [_utc(since), limit],
        )
        candidates = [
            {
                "kind": r["kind"],
                "source_id": UUID(r["source_id"]),
                "customer_id": UUID(r["customer_id"]),
                "channel": r["channel"],
                "handler_id": r["resolved_handler_id"],
                "segment": r["segment"],
                "resolved_at": datetime.fromisoformat(r["resolved_at"]),
            }
            for r in rows
        ]
        # A survey under the case's deterministic id counts too (e.g. requested by hand).
        wanted = {str(survey_id_for(c["kind"], c["source_id"])): c for c in candidates}
        taken: set[str] = set()
        keys = list(wanted)
        for start in range(0, len(keys), 200):
            chunk = keys[start : start + 200]
            taken |= {
                r["id"]
                for r in self._all(f"SELECT id FROM {surveys} WHERE id IN {_in(chunk)}", chunk)
            }
        return [c for key, c in wanted.items() if key not in taken]

    def unanswered_past_due(self, today: date, limit: int = 500) -> list[UUID]:
        """Surveys neither answered nor expired whose answer was due before ``today``
        (the expiry policy's candidates)."""
        rows = self._all(
            f"SELECT id FROM {self.t('survey_view')} WHERE status = 'requested'"
            " AND respond_by < ? ORDER BY respond_by, id LIMIT ?",
            [today.isoformat(), limit],
        )
        return [UUID(r["id"]) for r in rows]
