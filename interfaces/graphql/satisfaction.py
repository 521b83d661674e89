"""Satisfaction surveys in GraphQL: ``survey(id)`` and ``surveys`` (a Relay connection),
each with its scores per dimension and its improvement actions (改进措施).

The handler, segment and channel of a survey are those recorded when it was requested
(the handler of the complaint or service request at its resolution); the comment is
personal data, masked unless the caller's role may see it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.types import Info

from application.context import Principal
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
from projections.satisfaction import DIMENSIONS, ImprovementActionRow, SurveyRow
from projections.satisfaction import SurveyFilter as SurveyFilterQuery


@strawberry.enum(description="调查类型 survey kind")
class SurveyKind(Enum):
    PERIODIC = strawberry.enum_value("periodic", description="定期调查 periodic survey")
    COMPLAINT = strawberry.enum_value("complaint", description="投诉回访 after a complaint")
    SERVICE_REQUEST = strawberry.enum_value(
        "service_request", description="服务回访 after a service request"
    )


@strawberry.enum(description="调查渠道 survey channel")
class SurveyChannel(Enum):
    SMS = strawberry.enum_value("sms", description="短信 SMS")
    EMAIL = strawberry.enum_value("email", description="邮件 email")
    PHONE = strawberry.enum_value("phone", description="电话 phone")
    WECHAT = strawberry.enum_value("wechat", description="微信 WeChat")
    ONLINE = strawberry.enum_value("online", description="在线 online")
    IN_PERSON = strawberry.enum_value("in_person", description="现场 in person")


@strawberry.enum(description="调查状态 survey status")
class SurveyStatus(Enum):
    REQUESTED = strawberry.enum_value("requested", description="待回复 awaiting an answer")
    ANSWERED = strawberry.enum_value("answered", description="已回复 answered")
    EXPIRED = strawberry.enum_value("expired", description="已过期 expired unanswered")


@strawberry.enum(description="满意度维度 satisfaction dimension")
class SatisfactionDimension(Enum):
    PRODUCT = strawberry.enum_value("product", description="产品 product")
    SERVICE = strawberry.enum_value("service", description="服务 service")
    AFTER_SALES = strawberry.enum_value("after_sales", description="售后 after-sales")


@strawberry.enum(description="改进措施状态 improvement action status")
class ImprovementActionStatus(Enum):
    OPEN = strawberry.enum_value("open", description="待处理 open")
    IN_PROGRESS = strawberry.enum_value("in_progress", description="进行中 in progress")
    DONE = strawberry.enum_value("done", description="已完成 done")


_KIND_LABELS = {"periodic": "定期调查", "complaint": "投诉回访", "service_request": "服务回访"}
_STATUS_LABELS = {"requested": "待回复", "answered": "已回复", "expired": "已过期"}
_ACTION_LABELS = {"open": "待处理", "in_progress": "进行中", "done": "已完成"}


@strawberry.type(description="One dimension's score (1–5).")
class DimensionScore:
    dimension: SatisfactionDimension
    label: str = strawberry.field(description="The dimension in Chinese: 产品, 服务 or 售后")
    score: int


@strawberry.type(description="改进措施: an improvement action on what a survey revealed.")
class ImprovementAction:
    action_id: str
    description: str
    owner: str
    due_on: date
    status: ImprovementActionStatus
    status_label: str
    note: str | None
    added_at: datetime
    updated_at: datetime | None

    @classmethod
    def from_row(cls, row: ImprovementActionRow) -> ImprovementAction:
        return cls(
            action_id=row.action_id,
            description=row.description,
            owner=row.owner,
            due_on=row.due_on,
            status=ImprovementActionStatus(row.status),
            status_label=_ACTION_LABELS.get(row.status, row.status),
            note=row.note,
            added_at=row.added_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="满意度调查: a survey from the survey read model.")
class Survey:
    id: strawberry.ID
    customer_id: strawberry.ID
    kind: SurveyKind
    kind_label: str
    source_id: strawberry.ID | None = strawberry.field(
        description="The complaint or service request the survey follows up (none if periodic)"
    )
    channel: SurveyChannel
    handler_id: str | None = strawberry.field(
        description="The handler the rating is attributed to: the case's handler when it"
        " was resolved (a later reassignment does not change it)"
    )
    segment: str | None = strawberry.field(
        description="The customer's segment when the survey was requested"
    )
    status: SurveyStatus
    status_label: str
    requested_at: datetime
    respond_by: date = strawberry.field(description="Answers are accepted up to this day")
    answered_at: datetime | None
    csat: int | None = strawberry.field(description="CSAT 1–5")
    nps: int | None = strawberry.field(description="How likely to recommend, 0–10")
    ces: int | None = strawberry.field(description="Customer effort score 1–7")
    scores: list[DimensionScore]
    comment: str | None = strawberry.field(
        description="Masked unless the caller's role may see personal data",
        extensions=[ShowsPersonalData("customer_id")],
    )
    expired_on: date | None
    actions: list[ImprovementAction]
    version: int

    @classmethod
    def from_row(cls, row: SurveyRow, principal: Principal) -> Survey:
        comment = row.comment if may_see_personal_data(principal.role) else mask_value(row.comment)
        return cls(
            id=strawberry.ID(row.id),
            customer_id=strawberry.ID(row.customer_id),
            kind=SurveyKind(row.kind),
            kind_label=_KIND_LABELS.get(row.kind, row.kind),
            source_id=strawberry.ID(row.source_id) if row.source_id else None,
            channel=SurveyChannel(row.channel),
            handler_id=row.handler_id,
            segment=row.segment,
            status=SurveyStatus(row.status),
            status_label=_STATUS_LABELS.get(row.status, row.status),
            requested_at=row.requested_at,
            respond_by=row.respond_by,
            answered_at=row.answered_at,
            csat=row.csat,
            nps=row.nps,
            ces=row.ces,
            scores=[
                DimensionScore(
                    dimension=SatisfactionDimension(name),
                    label=DIMENSIONS.get(name, name),
                    score=value,
                )
                for name, value in row.scores.items()
            ],
            comment=comment,
            expired_on=row.expired_on,
            actions=[ImprovementAction.from_row(a) for a in row.actions],
            version=row.version,
        )


@strawberry.input(description="Filters combine with AND; time bounds are [from, to).")
class SurveyFilter:
    status: list[SurveyStatus] | None = None
    kind: list[SurveyKind] | None = None
    channel: list[SurveyChannel] | None = None
    customer_id: strawberry.ID | None = None
    handler_id: str | None = None
    segment: str | None = None
    source_id: strawberry.ID | None = None
    requested_from: datetime | None = None
    requested_to: datetime | None = None
    answered_from: datetime | None = None
    answered_to: datetime | None = None
    open_actions: bool | None = strawberry.field(
        default=None, description="Has (true) or has not (false) an action not yet done"
    )


@strawberry.input
class SurveyOrder:
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="By the time requested"
    )


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise GraphQLError(
            f"{name} needs a timezone offset", extensions={"code": "validation.naive_datetime"}
        )
    return moment


def _values(items: list[Enum] | None) -> list[str] | None:
    return [str(item.value) for item in items] if items else None


@strawberry.type
class SurveyQuery:
    @strawberry.field(
        description="One satisfaction survey by id.", extensions=[acts("surveys.read")]
    )
    async def survey(
        self, info: Info[Context, None], id: strawberry.ID, min_position: int | None = None
    ) -> Survey | None:
        system = await guard(info, "surveys.read", min_position)
        row = await to_thread.run_sync(system.survey_queries.get, str(id))
        return Survey.from_row(row, info.context.principal) if row else None

    @strawberry.field(
        description="Satisfaction surveys as a Relay connection, by time requested.",
        extensions=[acts("surveys.read")],
    )
    async def surveys(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: SurveyFilter | None = None,
        order_by: SurveyOrder | None = None,
        min_position: int | None = None,
    ) -> Connection[Survey]:
        system = await guard(info, "surveys.read", min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or SurveyFilter()
        query = SurveyFilterQuery(
            status=_values(where.status),  # type: ignore[arg-type]
            kind=_values(where.kind),  # type: ignore[arg-type]
            channel=_values(where.channel),  # type: ignore[arg-type]
            customer_id=str(where.customer_id) if where.customer_id else None,
            handler_id=where.handler_id,
            segment=where.segment,
            source_id=str(where.source_id) if where.source_id else None,
            requested_from=_aware(where.requested_from, "requestedFrom"),
            requested_to=_aware(where.requested_to, "requestedTo"),
            answered_from=_aware(where.answered_from, "answeredFrom"),
            answered_to=_aware(where.answered_to, "answeredTo"),
            open_actions=where.open_actions,
        )
        descending = (order_by or SurveyOrder()).direction is OrderDirection.DESC
        rows, total = await to_thread.run_sync(
            lambda: system.survey_queries.page(
                query, descending=descending, offset=offset, limit=first
            )
        )
        principal = info.context.principal
        return connection([Survey.from_row(row, principal) for row in rows], offset, total)
