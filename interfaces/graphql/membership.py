"""Membership and relationship health in GraphQL (会员与客户关系): ``customer360(id)`` —
profile, tier and its benefits, points, open complaints, credit, contracts, the latest
satisfaction, VIP applications, coupons, prevention tasks, value-added services and
growth plans; ``vipApplications`` against their notification deadline; the tier
distribution and movements; the points liability; the at-risk list with its reasons;
churn causes.

Everything is answered from read models (``projections.membership`` and the customer,
complaint, credit and contract views), never by replaying the event store. Tier codes
and their labels and benefits are policy data (the declared VIP policy), so a tier is an
object (``code``, ``label``) rather than an enum. Days are calendar days in Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, TypeVar

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.types import Info

from application.clock import business_today, utc_now
from domain.calendar import SHANGHAI
from domain.customer import CHURN_CAUSE_LABELS, ChurnCause
from domain.loyalty import MOVEMENT_LABELS, Movement, VipPolicy, VipPolicyBook
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
from interfaces.graphql.credit import CreditProfile
from interfaces.graphql.customers import Customer
from projections.contracts import ContractFilter
from projections.membership import (
    AtRiskRow,
    CouponRow,
    GrowthPlanRow,
    MemberRow,
    PointsLotRow,
    PreventionTaskRow,
    SatisfactionRow,
    ServiceApplicationRow,
    TierMovementRow,
    VipApplicationRow,
)

READ = "customers.read"

E = TypeVar("E", bound=Enum)


# -- enums -------------------------------------------------------------------------------


@strawberry.enum(description="会员申请状态 a VIP application's status")
class VipApplicationStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="待审核 waiting for review")
    IN_REVIEW = strawberry.enum_value("in_review", description="审核中 under review")
    GRANTED = strawberry.enum_value("granted", description="已认定 granted")
    REJECTED = strawberry.enum_value("rejected", description="未通过 rejected")


@strawberry.enum(description="等级变动 how a tier changed")
class TierMovementKind(Enum):
    GRANTED = strawberry.enum_value("granted", description="申请认定 granted on application")
    UPGRADED = strawberry.enum_value("upgraded", description="升级 upgraded")
    RENEWED = strawberry.enum_value("renewed", description="续期 renewed for another term")
    DOWNGRADED = strawberry.enum_value("downgraded", description="降级 downgraded")
    LAPSED = strawberry.enum_value("lapsed", description="失效 lapsed (no tier)")


@strawberry.enum(description="认定结果通知方式 how a VIP decision was notified")
class NotificationChannel(Enum):
    PHONE = strawberry.enum_value("phone", description="电话 phone")
    SMS = strawberry.enum_value("sms", description="短信 SMS")
    EMAIL = strawberry.enum_value("email", description="邮件 email")
    WECHAT = strawberry.enum_value("wechat", description="微信 WeChat")
    LETTER = strawberry.enum_value("letter", description="书面 letter")
    IN_PERSON = strawberry.enum_value("in_person", description="当面 in person")
    ONLINE = strawberry.enum_value("online", description="在线 online")


@strawberry.enum(description="优惠券状态 a coupon's status")
class CouponStatus(Enum):
    ISSUED = strawberry.enum_value("issued", description="已发放 issued")
    REDEEMED = strawberry.enum_value("redeemed", description="已使用 redeemed")
    EXPIRED = strawberry.enum_value("expired", description="已过期 expired")


@strawberry.enum(description="流失预防任务状态 a prevention task's status")
class PreventionTaskStatus(Enum):
    OPEN = strawberry.enum_value("open", description="待处理 open")
    DONE = strawberry.enum_value("done", description="已完成 done")


@strawberry.enum(description="增值服务申请状态 a value-added service application's status")
class ServiceApplicationStatus(Enum):
    APPLIED = strawberry.enum_value("applied", description="已申请 applied")
    APPROVED = strawberry.enum_value("approved", description="已批准 approved")
    REJECTED = strawberry.enum_value("rejected", description="未批准 rejected")
    IMPLEMENTED = strawberry.enum_value("implemented", description="已实施 implemented")


@strawberry.enum(description="成长计划状态 a growth plan's status")
class GrowthPlanStatus(Enum):
    ACTIVE = strawberry.enum_value("active", description="进行中 active")
    ACHIEVED = strawberry.enum_value("achieved", description="已达成 achieved")
    MISSED = strawberry.enum_value("missed", description="未达成 missed")
    CANCELLED = strawberry.enum_value("cancelled", description="已取消 cancelled")


@strawberry.enum(description="客户关系 the state of the relationship")
class RelationshipState(Enum):
    HEALTHY = strawberry.enum_value("healthy", description="正常 healthy")
    BROKEN = strawberry.enum_value("broken", description="关系破裂 broken")


@strawberry.enum(description="流失原因 why a customer churned")
class ChurnCauseKind(Enum):
    PRICE = strawberry.enum_value("price", description="价格 price")
    SERVICE = strawberry.enum_value("service", description="服务 service")
    QUALITY = strawberry.enum_value("quality", description="质量 quality")
    COMPETITOR = strawberry.enum_value("competitor", description="竞争对手 a competitor")
    RELOCATION = strawberry.enum_value("relocation", description="迁移 relocation")
    NO_NEED = strawberry.enum_value("no_need", description="无需求 no longer needed")
    OTHER = strawberry.enum_value("other", description="其他 other")


@strawberry.enum(description="满意度来源 where a rating was given")
class SatisfactionSource(Enum):
    SERVICE_REQUEST = strawberry.enum_value(
        "service_request", description="服务请求反馈评价 a service request's rating"
    )
    COMPLAINT = strawberry.enum_value(
        "complaint", description="投诉满意度确认 a complaint result's confirmation"
    )


def _enum(kind: type[E], value: str | None) -> E | None:
    """The enum member of a stored value; ``None`` for a value this API does not know."""
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        return None


# -- types -------------------------------------------------------------------------------


def _money(amount: Decimal, currency: str = "CNY") -> Money:
    return Money(amount=str(amount), currency=currency)


@strawberry.type(description="会员等级 a tier of the declared VIP policy")
class Tier:
    code: str = strawberry.field(description="silver, gold, platinum, … (policy data)")
    label: str = strawberry.field(description="The tier in Chinese, e.g. 金卡")
    rank: int | None = strawberry.field(description="1 = lowest; null if the policy lost it")


def _tier(policy: VipPolicy, code: str | None) -> Tier | None:
    if code is None:
        return None
    if policy.has_tier(code):
        rule = policy.tier(code)
        return Tier(code=code, label=rule.label, rank=rule.rank)
    return Tier(code=code, label=code, rank=None)


def _policy(book: VipPolicyBook, day: date) -> VipPolicy:
    return book.in_force_or_none(day) or book.versions[0]


@strawberry.type(description="会员权益 the benefits of a tier under the policy in force")
class TierBenefits:
    discount_rate: str = strawberry.field(description="专属优惠: a decimal fraction, e.g. 0.08")
    priority_service: bool = strawberry.field(
        description="优先服务: complaints and service requests run on the SLA's VIP targets"
    )
    birthday_gift: bool = strawberry.field(description="生日礼物")
    dedicated_manager: bool = strawberry.field(
        description="专属客户经理: a dedicated account manager is required"
    )


@strawberry.type(description="The tier a customer holds (会员等级), its term and benefits.")
class MemberTier:
    tier: Tier
    since: date | None = strawberry.field(description="Held since (renewals keep the day)")
    expires_on: date | None = strawberry.field(
        description="The end of the term: the first day it is no longer held unless evaluated"
    )
    policy_version: str | None = strawberry.field(description="The policy that decided it")
    benefits: TierBenefits | None = strawberry.field(
        description="Under the policy in force today (null if it no longer has the tier)"
    )


@strawberry.type(description="积分批次: points earned on one order and what is left of them")
class PointsLot:
    lot: str = strawberry.field(description="The order reference that earned them")
    points: int
    remaining: int
    earned_on: date
    expires_on: date

    @classmethod
    def from_row(cls, row: PointsLotRow) -> PointsLot:
        return cls(
            lot=row.lot,
            points=row.points,
            remaining=row.remaining,
            earned_on=row.earned_on,
            expires_on=row.expires_on,
        )


@strawberry.type(description="积分: the balance, what expires next, and the totals")
class Points:
    balance: int
    value: Money = strawberry.field(
        description="The balance at the policy's yuan per point, half-up to the fen"
    )
    next_expiry: date | None = strawberry.field(
        description="The earliest expiry of a lot with points left"
    )
    earned_total: int
    redeemed_total: int
    expired_total: int
    customer_id: strawberry.Private[str]

    @strawberry.field(description="Lots with points left, those that expire first first")
    async def lots(self, info: Info[Context, None]) -> list[PointsLot]:
        queries = info.context.system.membership_queries
        rows = await to_thread.run_sync(queries.points_lots, self.customer_id)
        return [PointsLot.from_row(row) for row in rows]


@strawberry.type(description="What qualification looked at: the rolling 12 months")
class QualificationBasis:
    spend_12m: Money | None = strawberry.field(description="Spend in the 12 months (CNY)")
    purchases_12m: int | None
    categories: list[str]
    window_start: date | None
    window_end: date | None


def _basis(data: dict[str, object]) -> QualificationBasis:
    spend = data.get("spend_12m")
    purchases = data.get("purchases_12m")
    start, end = data.get("window_start"), data.get("window_end")
    categories = data.get("categories")
    return QualificationBasis(
        spend_12m=(
            Money(amount=str(spend["amount"]), currency=str(spend["currency"]))
            if isinstance(spend, dict)
            else None
        ),
        purchases_12m=int(purchases) if isinstance(purchases, int) else None,
        categories=[str(c) for c in categories] if isinstance(categories, list) else [],
        window_start=date.fromisoformat(start) if isinstance(start, str) else None,
        window_end=date.fromisoformat(end) if isinstance(end, str) else None,
    )


@strawberry.type(
    description="会员申请: the decision must be notified within the policy's working days"
    " (7) of the application, on the mainland-China calendar."
)
class VipApplication:
    customer_id: strawberry.ID
    application_id: str
    requested_tier: Tier
    applied_at: datetime
    notify_by: datetime = strawberry.field(
        description="The notification deadline (7 working days from the application)"
    )
    policy_version: str | None
    basis: QualificationBasis
    status: VipApplicationStatus
    reviewer_id: str | None
    decided_at: datetime | None
    granted_tier: Tier | None
    reasons: list[str]
    notified_at: datetime | None
    channel: NotificationChannel | None
    late: bool | None = strawberry.field(description="Notified after the deadline")
    pending: bool = strawberry.field(description="The customer has not been told yet")
    overdue: bool = strawberry.field(
        description="Not notified and past the deadline now, or notified late"
    )

    @classmethod
    def from_row(cls, row: VipApplicationRow, policy: VipPolicy, as_of: datetime) -> VipApplication:
        requested = _tier(policy, row.requested_tier)
        assert requested is not None
        return cls(
            customer_id=strawberry.ID(row.customer_id),
            application_id=row.application_id,
            requested_tier=requested,
            applied_at=row.applied_at,
            notify_by=row.notify_by.astimezone(SHANGHAI),  # a deadline: Shanghai time
            policy_version=row.policy_version,
            basis=_basis(row.basis),
            status=VipApplicationStatus(row.status),
            reviewer_id=row.reviewer_id,
            decided_at=row.decided_at,
            granted_tier=_tier(policy, row.granted_tier),
            reasons=row.reasons,
            notified_at=row.notified_at,
            channel=_enum(NotificationChannel, row.channel),
            late=row.late,
            pending=row.pending,
            overdue=row.overdue(as_of),
        )


@strawberry.type(description="One tier move (等级变动)")
class TierMovement:
    customer_id: strawberry.ID
    effective_on: date
    recorded_at: datetime
    from_tier: Tier | None
    to_tier: Tier | None = strawberry.field(description="Null when the tier lapsed")
    movement: TierMovementKind
    movement_label: str = strawberry.field(description="The movement in Chinese, e.g. 降级")
    policy_version: str | None
    expires_on: date | None = strawberry.field(description="The end of the new term")
    reason: str | None

    @classmethod
    def from_row(cls, row: TierMovementRow, policy: VipPolicy) -> TierMovement:
        return cls(
            customer_id=strawberry.ID(row.customer_id),
            effective_on=row.effective_on,
            recorded_at=row.recorded_at,
            from_tier=_tier(policy, row.from_tier),
            to_tier=_tier(policy, row.to_tier),
            movement=TierMovementKind(row.movement),
            movement_label=MOVEMENT_LABELS[Movement(row.movement)],
            policy_version=row.policy_version,
            expires_on=row.expires_on,
            reason=row.reason,
        )


@strawberry.type(description="优惠券: a fixed value or a discount rate, redeemed once")
class Coupon:
    coupon_id: str
    description: str
    value: Money | None
    discount_rate: str | None = strawberry.field(description="A decimal fraction, e.g. 0.1")
    min_spend: Money | None
    issued_at: datetime
    valid_until: date
    status: CouponStatus
    reason: str | None
    order_ref: str | None
    redeemed_at: datetime | None
    expired_on: date | None

    @classmethod
    def from_row(cls, row: CouponRow) -> Coupon:
        currency = row.currency or "CNY"
        return cls(
            coupon_id=row.coupon_id,
            description=row.description,
            value=_money(row.value, currency) if row.value is not None else None,
            discount_rate=str(row.discount_rate) if row.discount_rate is not None else None,
            min_spend=_money(row.min_spend, currency) if row.min_spend is not None else None,
            issued_at=row.issued_at,
            valid_until=row.valid_until,
            status=CouponStatus(row.status),
            reason=row.reason,
            order_ref=row.order_ref,
            redeemed_at=row.redeemed_at,
            expired_on=row.expired_on,
        )


@strawberry.type(description="流失预防任务 with the reasons the customer looked at risk")
class PreventionTask:
    task_id: str
    reasons: list[str] = strawberry.field(
        description="e.g. no_purchase_180d, complaints_3_in_90d, low_satisfaction_2"
    )
    owner: str | None
    due_on: date
    status: PreventionTaskStatus
    raised_at: datetime
    outcome: str | None
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: PreventionTaskRow) -> PreventionTask:
        return cls(
            task_id=row.task_id,
            reasons=row.reasons,
            owner=row.owner,
            due_on=row.due_on,
            status=PreventionTaskStatus(row.status),
            raised_at=row.raised_at,
            outcome=row.outcome,
            completed_at=row.completed_at,
        )


@strawberry.type(description="增值服务申请: apply → review → implement")
class ServiceApplication:
    application_id: str
    service: str
    status: ServiceApplicationStatus
    reviewer_id: str | None
    reasons: list[str]
    applied_at: datetime
    decided_at: datetime | None
    implemented_at: datetime | None

    @classmethod
    def from_row(cls, row: ServiceApplicationRow) -> ServiceApplication:
        return cls(
            application_id=row.application_id,
            service=row.service,
            status=ServiceApplicationStatus(row.status),
            reviewer_id=row.reviewer_id,
            reasons=row.reasons,
            applied_at=row.applied_at,
            decided_at=row.decided_at,
            implemented_at=row.implemented_at,
        )


@strawberry.type(description="One goal of a growth plan and its progress")
class GrowthGoal:
    metric: str
    target: str = strawberry.field(description="Decimal text")
    progress: str = strawberry.field(description="Decimal text: the progress now")


@strawberry.type(description="成长计划: goals with their progress, due on a day")
class GrowthPlan:
    plan_id: str
    goals: list[GrowthGoal]
    due_on: date
    status: GrowthPlanStatus
    started_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_row(cls, row: GrowthPlanRow) -> GrowthPlan:
        return cls(
            plan_id=row.plan_id,
            goals=[
                GrowthGoal(metric=g.metric, target=str(g.target), progress=str(g.progress))
                for g in row.goals
            ],
            due_on=row.due_on,
            status=GrowthPlanStatus(row.status),
            started_at=row.started_at,
            closed_at=row.closed_at,
        )


@strawberry.type(description="满意度: the latest rating the customer gave (1–5)")
class Satisfaction:
    rating: int
    source: SatisfactionSource
    subject_id: strawberry.ID = strawberry.field(
        description="The service request or complaint rated"
    )
    rated_at: datetime

    @classmethod
    def from_row(cls, row: SatisfactionRow) -> Satisfaction:
        return cls(
            rating=row.rating,
            source=SatisfactionSource(row.source),
            subject_id=strawberry.ID(row.subject_id),
            rated_at=row.rated_at,
        )


@strawberry.type(description="The customer's contracts (合同) in brief")
class ContractSummary:
    total: int = strawberry.field(description="Contracts the customer is a party to")
    in_force: int = strawberry.field(description="生效 contracts")
    in_force_value: list[Money] = strawberry.field(
        description="The current amounts of the contracts in force, per currency"
    )


@strawberry.type(
    description="客户360视图: one customer's profile, membership, service and commercial"
    " standing, from the read models."
)
class Customer360:
    id: strawberry.ID
    customer: Customer | None = strawberry.field(
        description="The profile (personal data masked unless the role may see it)"
    )
    tier: MemberTier | None = strawberry.field(description="Null: no tier (普通客户)")
    points: Points
    relationship: RelationshipState
    relationship_since: datetime | None
    churn_cause: ChurnCauseKind | None
    win_back_action: str | None
    win_back_campaign_id: str | None
    open_prevention_task_id: str | None
    version: int = strawberry.field(description="The customer's version the view reflects")
    member: strawberry.Private[MemberRow]
    policy: strawberry.Private[VipPolicy]

    @classmethod
    def of(cls, member: MemberRow, customer: Customer | None, book: VipPolicyBook) -> Customer360:
        policy = _policy(book, business_today())
        tier: MemberTier | None = None
        label = _tier(policy, member.tier)
        if label is not None:
            if label.rank is None and member.tier_label:
                label = Tier(code=label.code, label=member.tier_label, rank=None)
            rule = policy.tier(label.code) if policy.has_tier(label.code) else None
            tier = MemberTier(
                tier=label,
                since=member.tier_since,
                expires_on=member.tier_expires_on,
                policy_version=member.policy_version,
                benefits=(
                    TierBenefits(
                        discount_rate=str(rule.discount_rate),
                        priority_service=rule.priority_service,
                        birthday_gift=rule.birthday_gift,
                        dedicated_manager=rule.dedicated_manager,
                    )
                    if rule
                    else None
                ),
            )
        value = policy.points_value(member.points_balance)
        return cls(
            id=strawberry.ID(member.customer_id),
            customer=customer,
            tier=tier,
            points=Points(
                balance=member.points_balance,
                value=_money(value.amount, value.currency),
                next_expiry=member.points_next_expiry,
                earned_total=member.points_earned_total,
                redeemed_total=member.points_redeemed_total,
                expired_total=member.points_expired_total,
                customer_id=member.customer_id,
            ),
            relationship=RelationshipState(member.relationship),
            relationship_since=member.relationship_since,
            churn_cause=_enum(ChurnCauseKind, member.churn_cause),
            win_back_action=member.win_back_action,
            win_back_campaign_id=member.win_back_campaign_id,
            open_prevention_task_id=member.open_prevention_task,
            version=member.version,
            member=member,
            policy=policy,
        )

    @strawberry.field(
        description="Complaints still being handled (from the complaint view)",
        extensions=[acts("complaints.read")],
    )
    async def open_complaints(self, info: Info[Context, None]) -> int:
        queries = info.context.system.membership_queries
        return await to_thread.run_sync(queries.open_complaints, self.member.customer_id)

    @strawberry.field(
        description="信用: limit, exposure, available and rating (null: none)",
        extensions=[acts("credit.read")],
    )
    async def credit(self, info: Info[Context, None]) -> CreditProfile | None:
        queries = info.context.system.credit_queries
        row = await to_thread.run_sync(queries.by_customer, self.member.customer_id)
        return CreditProfile.from_row(row) if row else None

    @strawberry.field(
        description="合同: how many, how many in force and their value",
        extensions=[acts("contracts.read")],
    )
    async def contracts(self, info: Info[Context, None]) -> ContractSummary:
        queries = info.context.system.contract_queries
        customer_id = self.member.customer_id

        def summary() -> ContractSummary:
            _, total = queries.page(ContractFilter(customer_id=customer_id), limit=0)
            values: dict[str, Decimal] = {}
            in_force = offset = 0
            while True:
                rows, count = queries.page(
                    ContractFilter(customer_id=customer_id, statuses=["in_force"]),
                    offset=offset,
                    limit=200,
                )
                for row in rows:
                    values[row.currency] = values.get(row.currency, Decimal(0)) + row.amount
                in_force = count
                offset += len(rows)
                if not rows or offset >= count:
                    break
            return ContractSummary(
                total=total,
                in_force=in_force,
                in_force_value=[_money(v, k) for k, v in sorted(values.items())],
            )

        return await to_thread.run_sync(summary)

    @strawberry.field(
        description="最近满意度: the latest rating given to a service request (反馈评价) or to"
        " a complaint's result (满意度确认); null if none"
    )
    async def latest_satisfaction(self, info: Info[Context, None]) -> Satisfaction | None:
        queries = info.context.system.membership_queries
        row = await to_thread.run_sync(queries.latest_satisfaction, self.member.customer_id)
        return Satisfaction.from_row(row) if row else None

    @strawberry.field(description="VIP applications, the latest first")
    async def vip_applications(self, info: Info[Context, None]) -> list[VipApplication]:
        queries = info.context.system.membership_queries
        rows, _ = await to_thread.run_sync(
            lambda: queries.vip_applications(customer_id=self.member.customer_id, limit=200)
        )
        now = utc_now()
        found = [VipApplication.from_row(row, self.policy, now) for row in rows]
        return sorted(found, key=lambda a: a.applied_at, reverse=True)

    @strawberry.field(description="Every tier move, oldest first")
    async def tier_history(self, info: Info[Context, None]) -> list[TierMovement]:
        queries = info.context.system.membership_queries
        rows = await to_thread.run_sync(queries.tier_history, self.member.customer_id)
        return [TierMovement.from_row(row, self.policy) for row in rows]

    @strawberry.field(description="Coupons, the latest issued first")
    async def coupons(self, info: Info[Context, None]) -> list[Coupon]:
        queries = info.context.system.membership_queries
        rows = await to_thread.run_sync(queries.coupons, self.member.customer_id)
        return [Coupon.from_row(row) for row in rows]

    @strawberry.field(description="Prevention tasks, the latest raised first")
    async def prevention_tasks(self, info: Info[Context, None]) -> list[PreventionTask]:
        queries = info.context.system.membership_queries
        rows = await to_thread.run_sync(queries.prevention_tasks, self.member.customer_id)
        return [PreventionTask.from_row(row) for row in rows]

    @strawberry.field(description="Value-added service applications, the latest first")
    async def service_applications(self, info: Info[Context, None]) -> list[ServiceApplication]:
        queries = info.context.system.membership_queries
        rows = await to_thread.run_sync(queries.service_applications, self.member.customer_id)
        return [ServiceApplication.from_row(row) for row in rows]

    @strawberry.field(description="Growth plans, the latest started first")
    async def growth_plans(self, info: Info[Context, None]) -> list[GrowthPlan]:
        queries = info.context.system.membership_queries
        rows = await to_thread.run_sync(queries.growth_plans, self.member.customer_id)
        return [GrowthPlan.from_row(row) for row in rows]


@strawberry.input(description="Filters combine with AND.")
class VipApplicationFilter:
    pending_only: bool = strawberry.field(
        default=False, description="Only those whose decision was not yet notified"
    )
    overdue: bool | None = strawberry.field(
        default=None,
        description="true: only those overdue at asOf (not notified and past the deadline, or"
        " notified late); false: only those not overdue; null: both",
    )
    as_of: datetime | None = strawberry.field(
        default=None, description="The moment overdue is judged at (now if absent)"
    )
    customer_id: strawberry.ID | None = None


@strawberry.type(description="Members per tier")
class TierCount:
    tier: Tier | None = strawberry.field(description="Null: customers without a tier")
    label: str = strawberry.field(description="The tier in Chinese; 普通客户 without one")
    count: int


@strawberry.type(description="积分负债: points outstanding and what they are worth")
class PointsLiability:
    points: int = strawberry.field(description="Earned and neither redeemed nor expired")
    value: Money = strawberry.field(description="points × yuanPerPoint, half-up to the fen")
    yuan_per_point: str = strawberry.field(description="From the policy in force on asOf")
    policy_version: str
    members: int = strawberry.field(description="Customers holding points")
    past_expiry_points: int = strawberry.field(
        description="Of the points, those past their expiry date but not yet expired"
    )
    as_of: date


@strawberry.type(description="A customer at risk (流失风险) with the reasons")
class AtRiskCustomer:
    customer_id: strawberry.ID
    tier: Tier | None
    last_purchase_on: date | None
    reasons: list[str] = strawberry.field(
        description="The open prevention task's reasons (empty if no task is open)"
    )
    prevention_task: PreventionTask | None

    @strawberry.field(description="The profile (personal data masked unless the role may)")
    async def customer(self, info: Info[Context, None]) -> Customer | None:
        queries = info.context.system.customer_queries
        row = await to_thread.run_sync(queries.get, str(self.customer_id))
        return Customer.from_row(row, info.context.principal) if row else None

    @classmethod
    def from_row(cls, row: AtRiskRow, policy: VipPolicy) -> AtRiskCustomer:
        task = PreventionTask.from_row(row.task) if row.task else None
        return cls(
            customer_id=strawberry.ID(row.member.customer_id),
            tier=_tier(policy, row.member.tier),
            last_purchase_on=row.member.last_purchase_on,
            reasons=task.reasons if task else [],
            prevention_task=task,
        )


@strawberry.type(description="Churns with one cause (流失原因)")
class ChurnCauseCount:
    cause: ChurnCauseKind
    label: str = strawberry.field(description="The cause in Chinese, e.g. 价格")
    count: int


def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
        raise GraphQLError(
            f"{name} needs a timezone offset", extensions={"code": "validation.naive_datetime"}
        )
    return moment


def _range(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise GraphQLError(
            "from must not come after to", extensions={"code": "validation.invalid_range"}
        )


def _codes(policy: VipPolicy, found: Sequence[str | None]) -> list[str | None]:
    """Every tier of the policy, lowest first, then any other code found, then none."""
    codes: list[str | None] = list(policy.codes)
    codes += sorted({c for c in found if c is not None and c not in policy.codes})
    return [*codes, None]


@strawberry.type
class MembershipQuery:
    @strawberry.field(
        description="客户360视图 of one customer (null if unknown): profile, tier and benefits,"
        " points, open complaints, credit, contracts, latest satisfaction, VIP applications,"
        " coupons, prevention tasks, services and growth plans.",
        extensions=[acts(READ)],
    )
    async def customer360(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        min_position: int | None = None,
    ) -> Customer360 | None:
        system = await guard(info, READ, min_position)
        member = await to_thread.run_sync(system.membership_queries.get, str(id))
        if member is None:
            return None
        row = await to_thread.run_sync(system.customer_queries.get, str(id))
        customer = Customer.from_row(row, info.context.principal) if row else None
        return Customer360.of(member, customer, system.vip_policies)

    @strawberry.field(
        description="会员申请 against their notification deadline (7 working days), the"
        " earliest deadline first.",
        extensions=[acts(READ)],
    )
    async def vip_applications(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: VipApplicationFilter | None = None,
        min_position: int | None = None,
    ) -> Connection[VipApplication]:
        system = await guard(info, READ, min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or VipApplicationFilter()
        as_of = _aware("asOf", where.as_of) or utc_now()
        queries = system.membership_queries
        rows, total = await to_thread.run_sync(
            lambda: queries.vip_applications(
                pending_only=where.pending_only,
                overdue_on=as_of if where.overdue is True else None,
                on_time_on=as_of if where.overdue is False else None,
                customer_id=str(where.customer_id) if where.customer_id else None,
                offset=offset,
                limit=first,
            )
        )
        policy = _policy(system.vip_policies, business_today())
        return connection(
            [VipApplication.from_row(row, policy, as_of) for row in rows], offset, total
        )

    @strawberry.field(
        description="会员等级分布: customers per tier, lowest first, none last",
        extensions=[acts(READ)],
    )
    async def tier_distribution(
        self, info: Info[Context, None], min_position: int | None = None
    ) -> list[TierCount]:
        system = await guard(info, READ, min_position)
        counts = await to_thread.run_sync(system.membership_queries.tier_distribution)
        by_tier = {c.tier: c.count for c in counts}
        policy = _policy(system.vip_policies, business_today())
        result: list[TierCount] = []
        for code in _codes(policy, list(by_tier)):
            tier = _tier(policy, code)
            result.append(
                TierCount(
                    tier=tier,
                    label=tier.label if tier else "普通客户",
                    count=by_tier.get(code, 0),
                )
            )
        return result

    @strawberry.field(
        description="等级变动: tier moves effective from `from` to `to` (days, both included),"
        " in order of effect.",
        extensions=[acts(READ)],
    )
    async def tier_movements(
        self,
        info: Info[Context, None],
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        first: int = 50,
        after: str | None = None,
        min_position: int | None = None,
    ) -> Connection[TierMovement]:
        system = await guard(info, READ, min_position)
        check_page_size(first)
        _range(from_, to)
        offset = offset_after(after)
        queries = system.membership_queries
        rows, total = await to_thread.run_sync(
            lambda: queries.tier_movements(from_, to, offset=offset, limit=first)
        )
        policy = _policy(system.vip_policies, business_today())
        return connection([TierMovement.from_row(row, policy) for row in rows], offset, total)

    @strawberry.field(
        description="积分负债: the points outstanding and their value at the yuan per point of"
        " the policy in force on asOf (today in Shanghai if absent).",
        extensions=[acts(READ)],
    )
    async def points_liability(
        self,
        info: Info[Context, None],
        as_of: date | None = None,
        min_position: int | None = None,
    ) -> PointsLiability:
        system = await guard(info, READ, min_position)
        day = as_of or business_today()
        policy = _policy(system.vip_policies, day)
        queries = system.membership_queries
        figures = await to_thread.run_sync(
            lambda: queries.points_liability(policy.yuan_per_point, day)
        )
        value = policy.points_value(figures.points)
        return PointsLiability(
            points=figures.points,
            value=_money(value.amount, value.currency),
            yuan_per_point=str(policy.yuan_per_point),
            policy_version=policy.version,
            members=figures.members,
            past_expiry_points=figures.past_expiry,
            as_of=day,
        )

    @strawberry.field(
        description="流失风险: customers at risk, each with the reasons of the open prevention"
        " task (no purchase for N days, repeated complaints, low satisfaction).",
        extensions=[acts(READ)],
    )
    async def at_risk_customers(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        min_position: int | None = None,
    ) -> Connection[AtRiskCustomer]:
        system = await guard(info, READ, min_position)
        check_page_size(first)
        offset = offset_after(after)
        queries = system.membership_queries
        rows, total = await to_thread.run_sync(lambda: queries.at_risk(offset=offset, limit=first))
        policy = _policy(system.vip_policies, business_today())
        return connection([AtRiskCustomer.from_row(row, policy) for row in rows], offset, total)

    @strawberry.field(
        description="流失原因分析: churns recorded from `from` (included) to `to` (excluded) per"
        " cause, every cause listed.",
        extensions=[acts(READ)],
    )
    async def churn_causes(
        self,
        info: Info[Context, None],
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        min_position: int | None = None,
    ) -> list[ChurnCauseCount]:
        system = await guard(info, READ, min_position)
        since, until = _aware("from", from_), _aware("to", to)
        _range(since, until)
        queries = system.membership_queries
        counts = await to_thread.run_sync(lambda: queries.churn_causes(since, until))
        by_cause = {c.cause: c.count for c in counts}
        return [
            ChurnCauseCount(
                cause=ChurnCauseKind(cause.value),
                label=CHURN_CAUSE_LABELS[cause],
                count=by_cause.get(cause.value, 0),
            )
            for cause in ChurnCause
        ]
