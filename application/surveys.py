"""Satisfaction surveys (满意度调查): request, answer, expiry and improvement actions.

The satisfaction section (满意度管理科) requests periodic surveys and follows up with
improvement actions; answers arrive from the sections that talk to the customer and from
other systems (integrators); kehu itself requests a survey when a complaint or service
request is resolved (:class:`application.policies.SurveyOnResolution`) and records the
expiry of unanswered ones.

Input arrives as plain data (scores as whole numbers, dates as :class:`~datetime.date`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Final
from uuid import UUID, uuid4

from application.context import CommandContext
from application.permissions import authorize
from application.service import ContextService
from application.store import CommandResult
from domain.complaint import Complaint
from domain.customer import Customer
from domain.service_request import ServiceRequest
from domain.survey import (
    InvalidSurveyField,
    Survey,
    SurveyKind,
    business_day,
    choose,
    survey_id_for,
)

#: Unless the caller says otherwise, answers are due this many days after the request.
DEFAULT_RESPONSE_DAYS: Final = 14


class SurveyService(ContextService[Survey]):
    kind = Survey
    context = "surveys"

    @staticmethod
    def survey_id_for(kind: str, source_id: UUID) -> UUID:
        """The one survey of a resolved complaint or service request."""
        return survey_id_for(kind, source_id)

    def request(
        self,
        ctx: CommandContext,
        *,
        customer_id: UUID,
        channel: str,
        kind: str = SurveyKind.PERIODIC.value,
        source_id: UUID | None = None,
        respond_by: date | None = None,
        handler_id: str | None = None,
        segment: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """发起满意度调查. A periodic survey takes the customer's segment as it stands unless
        one is given; a complaint's or service request's survey names its case, which must
        be the customer's, and is requested once per case (a second request is refused, or
        replayed under the same Idempotency-Key)."""
        authorize(ctx.principal, "surveys.request")
        customer = self.store.load(customer_id, Customer)  # it must exist (404 otherwise)
        chosen = choose(SurveyKind, kind, "kind")
        if chosen == SurveyKind.COMPLAINT and source_id is not None:
            self._check_case(self.store.load(source_id, Complaint).customer_id, customer_id)
        elif chosen == SurveyKind.SERVICE_REQUEST and source_id is not None:
            self._check_case(self.store.load(source_id, ServiceRequest).customer_id, customer_id)
        moment = self.now(at)
        deadline = respond_by or business_day(moment) + timedelta(days=DEFAULT_RESPONSE_DAYS)
        new_id = uuid4() if chosen == SurveyKind.PERIODIC else None
        # A case's survey carries the segment the read side recorded at the resolution
        # (perhaps none); a periodic one the customer's segment as it stands.
        attributed_segment = (
            customer.segment if segment is None and chosen == SurveyKind.PERIODIC else segment
        )
        return self._create(
            ctx,
            "surveys.request",
            lambda: Survey.request(
                customer_id=customer_id,
                kind=chosen.value,
                channel=channel,
                requested_at=moment,
                respond_by=deadline,
                source_id=source_id,
                new_id=new_id,
                handler_id=handler_id,
                segment=attributed_segment,
            ),
        )

    @staticmethod
    def _check_case(case_customer: UUID, customer_id: UUID) -> None:
        if case_customer != customer_id:
            raise InvalidSurveyField(
                "the case belongs to another customer than the survey names",
                field="source_id",
            )

    def answer(
        self,
        ctx: CommandContext,
        survey: UUID,
        *,
        csat: int,
        scores: Mapping[str, int],
        nps: int | None = None,
        ces: int | None = None,
        comment: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """客户回复: once, on or before the survey's ``respond_by`` day."""
        moment = self.now(at)
        return self._act(
            ctx,
            "surveys.answer",
            survey,
            lambda s: s.answer(
                csat=csat, scores=scores, answered_at=moment, nps=nps, ces=ces, comment=comment
            ),
        )

    def expire(self, ctx: CommandContext, survey: UUID, *, on: date | None = None) -> CommandResult:
        """逾期未回复 (the scheduler): on a day after ``respond_by``, once."""
        day = on or business_day(self.clock())
        return self._act(ctx, "surveys.expire", survey, lambda s: s.expire(day))

    def add_action(
        self,
        ctx: CommandContext,
        survey: UUID,
        *,
        action_id: str,
        description: str,
        owner: str,
        due_on: date,
        at: datetime | None = None,
    ) -> CommandResult:
        """改进措施 following an answer."""
        moment = self.now(at)
        return self._act(
            ctx,
            "surveys.manage_actions",
            survey,
            lambda s: s.add_action(
                action_id=action_id, description=description, owner=owner, due_on=due_on, at=moment
            ),
        )

    def update_action(
        self,
        ctx: CommandContext,
        survey: UUID,
        *,
        action_id: str,
        status: str,
        note: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """An improvement action moves on (open → in progress → done), or records progress."""
        moment = self.now(at)
        return self._act(
            ctx,
            "surveys.manage_actions",
            survey,
            lambda s: s.update_action(action_id=action_id, status=status, note=note, at=moment),
        )
