"""Staff training (培训): schedule, enrolment, attendance, assessments, feedback, and the
effectiveness (培训效果) computed on completion. Training is the department's own
business: the manager (经理) runs it (and the admin, integrators and kehu itself, as for
every command); no section of its own handles it.

Input arrives as plain data: sessions as ``{number, starts_at, ends_at, location}``
objects with aware times, scores and ratings as whole numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from application.context import CommandContext
from application.permissions import authorize
from application.service import ContextService
from application.store import CommandResult
from domain.training import Training


class TrainingService(ContextService[Training]):
    kind = Training
    context = "trainings"

    def schedule(
        self,
        ctx: CommandContext,
        *,
        programme: str,
        topic: str,
        mode: str,
        trainer: str,
        sessions: Sequence[Mapping[str, Any]],
        capacity: int,
        pass_score: int = 60,
        at: datetime | None = None,
    ) -> CommandResult:
        """培训排期."""
        authorize(ctx.principal, "trainings.schedule")
        moment = self.now(at)
        new_id = uuid4()
        return self._create(
            ctx,
            "trainings.schedule",
            lambda: Training.schedule(
                new_id=new_id,
                programme=programme,
                topic=topic,
                mode=mode,
                trainer=trainer,
                sessions=sessions,
                capacity=capacity,
                pass_score=pass_score,
                at=moment,
            ),
        )

    def enroll(
        self,
        ctx: CommandContext,
        training: UUID,
        *,
        staff_id: str,
        staff_name: str,
        role: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """报名, up to the capacity."""
        moment = self.now(at)
        return self._act(
            ctx,
            "trainings.enroll",
            training,
            lambda t: t.enroll(staff_id, staff_name, moment, role),
        )

    def record_attendance(
        self,
        ctx: CommandContext,
        training: UUID,
        *,
        staff_id: str,
        session: int,
        present: bool,
        at: datetime | None = None,
    ) -> CommandResult:
        """考勤 for a session that has started (a later record corrects an earlier one)."""
        moment = self.now(at)
        return self._act(
            ctx,
            "trainings.record_attendance",
            training,
            lambda t: t.record_attendance(staff_id, session, present, moment),
        )

    def record_assessment(
        self,
        ctx: CommandContext,
        training: UUID,
        *,
        staff_id: str,
        score: int,
        kind: str,
        at: datetime | None = None,
    ) -> CommandResult:
        """考核成绩 0–100, before (pre) or after (post) the training."""
        moment = self.now(at)
        return self._act(
            ctx,
            "trainings.record_assessment",
            training,
            lambda t: t.record_assessment(staff_id, score, kind, moment),
        )

    def record_feedback(
        self,
        ctx: CommandContext,
        training: UUID,
        *,
        staff_id: str,
        rating: int,
        comment: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """培训反馈 1–5, once per staff member."""
        moment = self.now(at)
        return self._act(
            ctx,
            "trainings.record_feedback",
            training,
            lambda t: t.record_feedback(staff_id, rating, moment, comment),
        )

    def complete(
        self, ctx: CommandContext, training: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        """培训完成 after the last session, with its effectiveness."""
        moment = self.now(at)
        return self._act(ctx, "trainings.complete", training, lambda t: t.complete(moment))

    def cancel(
        self, ctx: CommandContext, training: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "trainings.cancel", training, lambda t: t.cancel(reason, moment))
