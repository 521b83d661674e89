"""Staff training in GraphQL: ``training(id)`` and ``trainings`` (a Relay connection),
with sessions, trainees (names masked unless the caller may see personal data) and the
effectiveness (培训效果) recorded on completion."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.types import Info

from application.privacy import mask_value, may_see_personal_data
from interfaces.graphql.acting import acts
from interfaces.graphql.common import (
    Connection,
    Context,
    OrderDirection,
    check_page_size,
    connection,
    guard,
    offset_after,
)
from interfaces.graphql.disclosures import ShowsPersonalData
from projections.trainings import EffectivenessRow, TraineeRow, TrainingRow
from projections.trainings import TrainingFilter as TrainingFilterQuery


@strawberry.enum(description="培训方式 training mode")
class TrainingMode(Enum):
    FACE_TO_FACE = strawberry.enum_value("face_to_face", description="面授 face to face")
    ONLINE = strawberry.enum_value("online", description="线上 online")


@strawberry.enum(description="培训状态 training status")
class TrainingStatus(Enum):
    SCHEDULED = strawberry.enum_value("scheduled", description="已排期 scheduled")
    COMPLETED = strawberry.enum_value("completed", description="已完成 completed")
    CANCELLED = strawberry.enum_value("cancelled", description="已取消 cancelled")


_MODE_LABELS = {"face_to_face": "面授", "online": "线上"}
_STATUS_LABELS = {"scheduled": "已排期", "completed": "已完成", "cancelled": "已取消"}


@strawberry.type(description="One session of a training.")
class TrainingSession:
    number: int
    starts_at: datetime
    ends_at: datetime
    location: str | None


@strawberry.type(description="培训效果, computed by the training when it was completed.")
class TrainingEffectiveness:
    enrolled: int
    sessions: int
    attendance_rate: Decimal = strawberry.field(
        description="Sessions attended ÷ (enrolled × sessions), a fraction to 4 places"
    )
    passed: int
    pass_rate: Decimal = strawberry.field(
        description="Enrolled staff with a post score at or above the pass mark ÷ enrolled"
    )
    average_score: Decimal | None = strawberry.field(description="Mean post score, 2 places")
    improvement: Decimal | None = strawberry.field(
        description="Mean (post − pre) over the staff with both scores, 2 places"
    )
    satisfaction: Decimal | None = strawberry.field(description="Mean feedback rating 1–5")

    @classmethod
    def from_row(cls, row: EffectivenessRow) -> TrainingEffectiveness:
        return cls(
            enrolled=row.enrolled,
            sessions=row.sessions,
            attendance_rate=row.attendance_rate,
            passed=row.passed,
            pass_rate=row.pass_rate,
            average_score=row.average_score,
            improvement=row.improvement,
            satisfaction=row.satisfaction,
        )


@strawberry.type(description="学员: an enrolled staff member's attendance, scores and feedback.")
class Trainee:
    staff_id: str
    staff_name: str = strawberry.field(
        description="Masked unless the caller's role may see personal data",
        extensions=[ShowsPersonalData("staff_id")],
    )
    role: str | None
    enrolled_at: datetime
    sessions_attended: int
    attended_sessions: list[int] = strawberry.field(description="Numbers of sessions attended")
    pre_score: int | None
    post_score: int | None
    rating: int | None
    comment: str | None = strawberry.field(
        description="Masked like the name", extensions=[ShowsPersonalData("staff_id")]
    )

    @classmethod
    def from_row(cls, row: TraineeRow, visible: bool) -> Trainee:
        return cls(
            staff_id=row.staff_id,
            staff_name=row.staff_name if visible else str(mask_value(row.staff_name)),
            role=row.role,
            enrolled_at=row.enrolled_at,
            sessions_attended=row.sessions_attended,
            attended_sessions=sorted(n for n, present in row.attendance.items() if present),
            pre_score=row.pre_score,
            post_score=row.post_score,
            rating=row.rating,
            comment=row.comment if visible else mask_value(row.comment),
        )


@strawberry.type(description="培训: a staff training programme from the training read model.")
class Training:
    id: strawberry.ID
    programme: str
    topic: str
    mode: TrainingMode
    mode_label: str
    trainer: str
    sessions: list[TrainingSession]
    capacity: int
    pass_score: int
    status: TrainingStatus
    status_label: str
    enrolled: int
    scheduled_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    effectiveness: TrainingEffectiveness | None
    version: int

    @classmethod
    def from_row(cls, row: TrainingRow) -> Training:
        return cls(
            id=strawberry.ID(row.id),
            programme=row.programme,
            topic=row.topic,
            mode=TrainingMode(row.mode),
            mode_label=_MODE_LABELS.get(row.mode, row.mode),
            trainer=row.trainer,
            sessions=[
                TrainingSession(
                    number=s.number, starts_at=s.starts_at, ends_at=s.ends_at, location=s.location
                )
                for s in row.sessions
            ],
            capacity=row.capacity,
            pass_score=row.pass_score,
            status=TrainingStatus(row.status),
            status_label=_STATUS_LABELS.get(row.status, row.status),
            enrolled=row.enrolled,
            scheduled_at=row.scheduled_at,
            completed_at=row.completed_at,
            cancelled_at=row.cancelled_at,
            cancel_reason=row.cancel_reason,
            effectiveness=(
                TrainingEffectiveness.from_row(row.effectiveness) if row.effectiveness else None
            ),
            version=row.version,
        )

    @strawberry.field(description="The enrolled staff, in order of enrolment.")
    async def trainees(self, info: Info[Context, None]) -> list[Trainee]:
        system = info.context.system
        visible = may_see_personal_data(info.context.principal.role)
        rows = await to_thread.run_sync(system.training_queries.trainees, str(self.id))
        return [Trainee.from_row(row, visible) for row in rows]


@strawberry.input(description="Filters combine with AND.")
class TrainingFilter:
    status: list[TrainingStatus] | None = None
    mode: list[TrainingMode] | None = None
    programme: str | None = None
    trainer: str | None = None
    held_from: datetime | None = strawberry.field(
        default=None, description="Held (first start to last end) at some time from this"
    )
    held_to: datetime | None = strawberry.field(default=None, description="… and before this")
    staff_id: str | None = strawberry.field(
        default=None, description="This staff member is enrolled"
    )


@strawberry.input
class TrainingOrder:
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="By the first session's start"
    )


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise GraphQLError(
            f"{name} needs a timezone offset", extensions={"code": "validation.naive_datetime"}
        )
    return moment


@strawberry.type
class TrainingQuery:
    @strawberry.field(description="One training by id.", extensions=[acts("trainings.read")])
    async def training(
        self, info: Info[Context, None], id: strawberry.ID, min_position: int | None = None
    ) -> Training | None:
        system = await guard(info, "trainings.read", min_position)
        row = await to_thread.run_sync(system.training_queries.get, str(id))
        return Training.from_row(row) if row else None

    @strawberry.field(
        description="Trainings as a Relay connection, by the first session.",
        extensions=[acts("trainings.read")],
    )
    async def trainings(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: TrainingFilter | None = None,
        order_by: TrainingOrder | None = None,
        min_position: int | None = None,
    ) -> Connection[Training]:
        system = await guard(info, "trainings.read", min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or TrainingFilter()
        query = TrainingFilterQuery(
            status=[str(s.value) for s in where.status] if where.status else None,
            mode=[str(m.value) for m in where.mode] if where.mode else None,
            programme=where.programme,
            trainer=where.trainer,
            held_from=_aware(where.held_from, "heldFrom"),
            held_to=_aware(where.held_to, "heldTo"),
            staff_id=where.staff_id,
        )
        descending = (order_by or TrainingOrder()).direction is OrderDirection.DESC
        rows, total = await to_thread.run_sync(
            lambda: system.training_queries.page(
                query, descending=descending, offset=offset, limit=first
            )
        )
        return connection([Training.from_row(row) for row in rows], offset, total)
