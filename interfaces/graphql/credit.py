"""Credit in GraphQL: ``creditProfile(customerId)`` with exposure (now and as of any past
time), overdue ageing and the rating's explanation; the rating distribution; credit
decisions (blocked orders); reviews due; the risk register."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.types import Info

from application.clock import utc_now
from domain.credit import business_day
from domain.scorecard import RATING_LABELS, Rating
from interfaces.graphql.acting import acts
from interfaces.graphql.common import (
    Connection,
    Context,
    Money,
    check_page_size,
    connection,
    guard,
    offset_after,
)
from projections.credit import (
    CreditProfileRow,
    DecisionFilter,
    DecisionRow,
    RiskFilter,
    RiskRow,
)
from projections.credit import (
    Exposure as ExposureFigures,
)


@strawberry.enum(description="信用等级 credit rating")
class CreditRating(Enum):
    AAA = strawberry.enum_value("AAA", description="信用极好 excellent")
    AA = strawberry.enum_value("AA", description="信用优良 very good")
    A = strawberry.enum_value("A", description="信用较好 good")
    B = strawberry.enum_value("B", description="信用一般 fair")
    C = strawberry.enum_value("C", description="信用较差 poor")
    D = strawberry.enum_value("D", description="信用很差 very poor")


@strawberry.enum(description="信用检查结论 a credit check's decision")
class CreditDecision(Enum):
    APPROVED = strawberry.enum_value("approved", description="通过 approved")
    BLOCKED_BY_LIMIT = strawberry.enum_value(
        "blocked_by_limit", description="超出信用额度 over the available amount"
    )
    BLOCKED_BY_OVERDUE = strawberry.enum_value(
        "blocked_by_overdue", description="存在逾期 overdue invoices"
    )
    BLOCKED_MANUALLY = strawberry.enum_value(
        "blocked_manually", description="人工冻结 the profile is blocked"
    )
    RELEASED_BY_OVERRIDE = strawberry.enum_value(
        "released_by_override", description="人工放行 a manager released a blocked order"
    )


@strawberry.enum(description="风险维度 risk dimension")
class RiskDimension(Enum):
    FINANCIAL = strawberry.enum_value("financial", description="财务风险 financial")
    MARKET = strawberry.enum_value("market", description="市场风险 market")
    CREDIT = strawberry.enum_value("credit", description="信用风险 credit")


@strawberry.enum(description="风险等级 risk level (likelihood × impact)")
class RiskLevel(Enum):
    LOW = strawberry.enum_value("low", description="低 low (1–4)")
    MEDIUM = strawberry.enum_value("medium", description="中 medium (5–9)")
    HIGH = strawberry.enum_value("high", description="高 high (10–16)")
    SEVERE = strawberry.enum_value("severe", description="严重 severe (17–25)")


@strawberry.enum(description="风险应对 risk response")
class RiskResponse(Enum):
    DIVERSIFY = strawberry.enum_value("diversify", description="分散 diversify")
    TRANSFER = strawberry.enum_value("transfer", description="转移 transfer")
    AVOID = strawberry.enum_value("avoid", description="规避 avoid")
    ACCEPT = strawberry.enum_value("accept", description="接受 accept")


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=str(amount), currency=currency)


@strawberry.type(description="信用占用 at one moment: exposure = reserved + used + overdue.")
class Exposure:
    as_of: datetime
    limit: Money
    reserved: Money = strawberry.field(description="Approved orders not yet invoiced")
    used: Money = strawberry.field(description="Invoiced, unpaid, not recorded overdue")
    overdue: Money = strawberry.field(description="Invoiced, unpaid and recorded overdue")
    exposure: Money
    available: Money = strawberry.field(description="limit − exposure (negative: over limit)")
    utilisation_percent: str | None = strawberry.field(
        description="exposure ÷ limit × 100, two places, half-up; null without a limit"
    )

    @classmethod
    def of(cls, figures: ExposureFigures) -> Exposure:
        currency = figures.currency
        utilisation = figures.utilisation_percent
        return cls(
            as_of=figures.as_of,
            limit=_money(figures.limit, currency),
            reserved=_money(figures.reserved, currency),
            used=_money(figures.used, currency),
            overdue=_money(figures.overdue, currency),
            exposure=_money(figures.exposure, currency),
            available=_money(figures.available, currency),
            utilisation_percent=str(utilisation) if utilisation is not None else None,
        )


@strawberry.type(description="One line of the scorecard, with its explanation.")
class ScoreFactor:
    name: str
    label: str
    value: str
    points: int
    max_points: int
    explanation: str


@strawberry.type(description="账龄: recorded-overdue unpaid invoices by days past due.")
class AgeingBucket:
    bucket: str = strawberry.field(description="0-30, 31-60, 61-90 or 90+ days past due")
    amount: Money
    invoices: int


@strawberry.type(description="A limit change waiting for a second person's approval.")
class PendingLimitChange:
    request_id: str
    limit: Money
    term_days: int
    prepayment_ratio: str
    reason: str
    requested_by: str
    requested_at: datetime


@strawberry.type(description="A contested automated rating (PIPL art. 24).")
class RatingContest:
    contest_id: str
    assessment_id: str
    status: str = strawberry.field(description="contested, under_review, upheld or overturned")
    reviewer: str | None
    explanation: str | None


@strawberry.type(description="信用修复计划")
class RepairPlan:
    plan_id: str
    actions: list[str]
    done: list[bool]
    target_rating: CreditRating
    due_on: date
    status: str = strawberry.field(description="active, met or not_met")
    progress: int = strawberry.field(description="Percentage of actions done")
    result_rating: CreditRating | None


@strawberry.type(description="信用档案 of one customer, from the credit read model.")
class CreditProfile:
    id: strawberry.ID
    customer_id: strawberry.ID
    currency: str
    limit: Money
    term_days: int = strawberry.field(description="信用期限: invoices fall due after this")
    prepayment_ratio: str = strawberry.field(description="预付款比例, 0 to 1")
    reserved: Money
    used: Money
    overdue: Money
    exposure: Money
    available: Money
    utilisation_percent: str | None
    score: int | None
    rating: CreditRating | None
    rating_source: str | None = strawberry.field(
        description="scorecard (automated) or manual_review (a reviewer overturned it)"
    )
    model_version: str | None
    explanation: str | None = strawberry.field(
        description="Why this rating: the score and every factor's points, in words"
    )
    factors: list[ScoreFactor]
    assessed_at: datetime | None
    review_due_on: date | None
    blocked: bool
    blocked_reason: str | None
    pending_limit_change: PendingLimitChange | None
    contests: list[RatingContest]
    repair_plans: list[RepairPlan]
    version: int
    row: strawberry.Private[CreditProfileRow]

    @classmethod
    def from_row(cls, row: CreditProfileRow) -> CreditProfile:
        now = Exposure.of(row.current(utc_now()))
        pending = row.pending_request
        return cls(
            id=strawberry.ID(row.id),
            customer_id=strawberry.ID(row.customer_id),
            currency=row.currency,
            limit=now.limit,
            term_days=row.term_days,
            prepayment_ratio=str(row.prepayment_ratio),
            reserved=now.reserved,
            used=now.used,
            overdue=now.overdue,
            exposure=now.exposure,
            available=now.available,
            utilisation_percent=now.utilisation_percent,
            score=row.score,
            rating=CreditRating(row.rating) if row.rating else None,
            rating_source=row.rating_source,
            model_version=row.model_version,
            explanation=row.explanation,
            factors=[ScoreFactor(**f) for f in row.factors],
            assessed_at=row.assessed_at,
            review_due_on=row.review_due_on,
            blocked=row.blocked_reason is not None,
            blocked_reason=row.blocked_reason,
            pending_limit_change=(
                PendingLimitChange(
                    request_id=pending["request_id"],
                    limit=_money(Decimal(pending["limit"]), row.currency),
                    term_days=pending["term_days"],
                    prepayment_ratio=pending["prepayment_ratio"],
                    reason=pending["reason"],
                    requested_by=pending["requested_by"],
                    requested_at=datetime.fromisoformat(pending["requested_at"]),
                )
                if pending
                else None
            ),
            contests=[
                RatingContest(
                    contest_id=c["contest_id"],
                    assessment_id=c["assessment_id"],
                    status=c["status"],
                    reviewer=c.get("reviewer"),
                    explanation=c.get("explanation"),
                )
                for c in row.contests
            ],
            repair_plans=[
                RepairPlan(
                    plan_id=p["plan_id"],
                    actions=p["actions"],
                    done=p["done"],
                    target_rating=CreditRating(p["target_rating"]),
                    due_on=date.fromisoformat(p["due_on"]),
                    status=p["status"],
                    progress=p["progress"],
                    result_rating=CreditRating(p["result_rating"])
                    if p.get("result_rating")
                    else None,
                )
                for p in row.repair_plans
            ],
            version=row.version,
            row=row,
        )

    @strawberry.field(
        description="The exposure as it stood at a past (business) time: every reservation,"
        " invoice, payment, overdue record and limit change up to then, summed exactly."
    )
    async def exposure_as_of(self, info: Info[Context, None], as_of: datetime) -> Exposure:
        if as_of.tzinfo is None or as_of.utcoffset() is None:
            raise GraphQLError(
                "asOf needs a timezone offset", extensions={"code": "validation.naive_datetime"}
            )
        queries = info.context.system.credit_queries
        figures = await to_thread.run_sync(queries.exposure_as_of, self.row, as_of)
        return Exposure.of(figures)

    @strawberry.field(
        description="Overdue ageing on a day (today in Shanghai if absent): 0-30, 31-60,"
        " 61-90 and 90+ days past due."
    )
    async def ageing(self, info: Info[Context, None], on: date | None = None) -> list[AgeingBucket]:
        day = on or business_day(utc_now())
        queries = info.context.system.credit_queries
        buckets = await to_thread.run_sync(queries.ageing, self.row.id, day)
        return [
            AgeingBucket(
                bucket=b.bucket, amount=_money(b.amount, self.currency), invoices=b.invoices
            )
            for b in buckets
        ]


@strawberry.type(description="One credit check and its recorded decision.")
class CreditCheck:
    profile_id: strawberry.ID
    customer_id: strawberry.ID
    version: int = strawberry.field(description="The profile's version that recorded it")
    order_id: str
    decision: CreditDecision
    detail: str
    order_amount: Money
    credit_amount: Money = strawberry.field(description="The order less its prepayment")
    limit: Money
    exposure: Money
    available: Money
    at: datetime

    @classmethod
    def from_row(cls, row: DecisionRow) -> CreditCheck:
        currency = row.currency
        return cls(
            profile_id=strawberry.ID(row.profile_id),
            customer_id=strawberry.ID(row.customer_id),
            version=row.version,
            order_id=row.order_id,
            decision=CreditDecision(row.decision),
            detail=row.detail,
            order_amount=_money(row.order_amount, currency),
            credit_amount=_money(row.credit_amount, currency),
            limit=_money(row.limit, currency),
            exposure=_money(row.exposure, currency),
            available=_money(row.available, currency),
            at=row.at,
        )


@strawberry.input(description="Filters combine with AND.")
class CreditCheckFilter:
    decision: list[CreditDecision] | None = None
    blocked: bool | None = strawberry.field(
        default=None, description="true: only blocked orders; false: only approved ones"
    )
    customer_id: strawberry.ID | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type(description="风险登记: one risk of one customer.")
class Risk:
    profile_id: strawberry.ID
    customer_id: strawberry.ID
    risk_id: str
    dimension: RiskDimension
    description: str
    likelihood: int
    impact: int
    level: RiskLevel
    response: RiskResponse
    owner: str
    review_on: date
    status: str = strawberry.field(description="open or closed")
    assessed_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_row(cls, row: RiskRow) -> Risk:
        return cls(
            profile_id=strawberry.ID(row.profile_id),
            customer_id=strawberry.ID(row.customer_id),
            risk_id=row.risk_id,
            dimension=RiskDimension(row.dimension),
            description=row.description,
            likelihood=row.likelihood,
            impact=row.impact,
            level=RiskLevel(row.level),
            response=RiskResponse(row.response),
            owner=row.owner,
            review_on=row.review_on,
            status=row.status,
            assessed_at=row.assessed_at,
            closed_at=row.closed_at,
        )


@strawberry.input(description="Filters combine with AND.")
class RiskFilterInput:
    level: list[RiskLevel] | None = None
    dimension: list[RiskDimension] | None = None
    status: str | None = strawberry.field(
        default="open", description="open (default), closed, or null for both"
    )
    customer_id: strawberry.ID | None = None
    review_on_or_before: date | None = None


@strawberry.type(description="How many profiles hold a rating (null: not yet assessed).")
class RatingCount:
    rating: CreditRating | None
    label: str
    count: int


def _value(member: Enum) -> str:
    return str(member.value)


def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
        raise GraphQLError(
            f"{name} needs a timezone offset", extensions={"code": "validation.naive_datetime"}
        )
    return moment


@strawberry.type
class CreditQuery:
    @strawberry.field(
        description="A customer's credit profile (null if none was opened).",
        extensions=[acts("credit.read")],
    )
    async def credit_profile(
        self,
        info: Info[Context, None],
        customer_id: strawberry.ID,
        min_position: int | None = None,
    ) -> CreditProfile | None:
        system = await guard(info, "credit.read", min_position)
        row = await to_thread.run_sync(system.credit_queries.by_customer, str(customer_id))
        return CreditProfile.from_row(row) if row else None

    @strawberry.field(
        description="Profiles per rating, best first, unrated last.",
        extensions=[acts("credit.read")],
    )
    async def credit_rating_distribution(
        self, info: Info[Context, None], min_position: int | None = None
    ) -> list[RatingCount]:
        system = await guard(info, "credit.read", min_position)
        counts = dict(await to_thread.run_sync(system.credit_queries.rating_distribution))
        order: list[str | None] = [_value(r) for r in CreditRating]
        return [
            RatingCount(
                rating=CreditRating(rating) if rating else None,
                label=RATING_LABELS[Rating(rating)] if rating else "未评级",
                count=counts.get(rating, 0),
            )
            for rating in [*order, None]
        ]

    @strawberry.field(
        description="Credit checks with their decisions; filter blocked: true.",
        extensions=[acts("credit.read")],
    )
    async def credit_checks(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: CreditCheckFilter | None = None,
        min_position: int | None = None,
    ) -> Connection[CreditCheck]:
        system = await guard(info, "credit.read", min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or CreditCheckFilter()
        wanted = [_value(d) for d in where.decision] if where.decision else None
        if where.blocked is not None:
            kinds = [
                _value(d) for d in CreditDecision if (_value(d) != "approved") == where.blocked
            ]
            wanted = [d for d in (wanted or kinds) if d in kinds]
            if not wanted:
                wanted = ["-none-"]
        query = DecisionFilter(
            decisions=wanted,
            customer_id=str(where.customer_id) if where.customer_id else None,
            since=_aware("since", where.since),
            until=_aware("until", where.until),
        )
        rows, total = await to_thread.run_sync(
            lambda: system.credit_queries.decisions(query, offset=offset, limit=first)
        )
        return connection([CreditCheck.from_row(row) for row in rows], offset, total)

    @strawberry.field(
        description="Profiles whose credit review is due on or before a day.",
        extensions=[acts("credit.read")],
    )
    async def credit_reviews_due(
        self,
        info: Info[Context, None],
        on_or_before: date | None = None,
        first: int = 50,
        min_position: int | None = None,
    ) -> list[CreditProfile]:
        system = await guard(info, "credit.read", min_position)
        check_page_size(first)
        day = on_or_before or business_day(utc_now())
        rows = await to_thread.run_sync(lambda: system.credit_queries.reviews_due(day, limit=first))
        return [CreditProfile.from_row(row) for row in rows]

    @strawberry.field(
        description="风险登记簿: the risk register, most severe first.",
        extensions=[acts("credit.read")],
    )
    async def risk_register(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: RiskFilterInput | None = None,
        min_position: int | None = None,
    ) -> Connection[Risk]:
        system = await guard(info, "credit.read", min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or RiskFilterInput()
        query = RiskFilter(
            levels=[_value(level) for level in where.level] if where.level else None,
            dimensions=[_value(d) for d in where.dimension] if where.dimension else None,
            status=where.status,
            customer_id=str(where.customer_id) if where.customer_id else None,
            review_before=where.review_on_or_before,
        )
        rows, total = await to_thread.run_sync(
            lambda: system.credit_queries.risks(query, offset=offset, limit=first)
        )
        return connection([Risk.from_row(row) for row in rows], offset, total)
