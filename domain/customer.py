"""Customer 客户 — an individual or an enterprise, and its relationship with us.

Lifecycle (客户生命周期)::

    prospect 潜在 ──first purchase──▶ active 活跃 ──mark at risk──▶ at_risk 流失风险
        │                              ▲   │                          │
        └──────────churn──────────┐    │   └────────churn─────────────┤
                                  ▼    │                              ▼
                             churned 已流失 ──win back──▶ won_back 挽回 ──purchase──▶ active

A purchase on a churned customer is refused: win the customer back first. A purchase by a
customer at risk or won back makes them active again.

VIP membership and loyalty (会员, seed 003), by the declared policy of :mod:`domain.loyalty`:

- **VIP applications** 会员申请: apply for a tier → review 审核 (``in_review``) → grant or reject
  with reasons → notify 通知 the decision. The notification is due within the policy's working
  days (7) of the application on the mainland-China calendar; a later one is recorded late.
- **Tiers** 会员等级: granted on application, upgraded at once by a purchase that qualifies for a
  higher tier, and evaluated at the end of each term (renewed, upgraded, downgraded, lapsed).
  Every move is an event with the policy version and the basis it was decided on.
- **Points** 积分 earned per purchase at the tier held that day, redeemed first from the lots
  that expire first, expired by the scheduler; **coupons** 优惠券 issued, redeemed once, expired.
- **Value-added services** 增值服务 (apply → review → implement) and **growth plans** 成长计划.
- **Relationship health**: prevention tasks 流失预防 (one open at a time), churn with its cause
  流失原因, win-back 挽回 crediting the action or campaign, breakdown 关系破裂 and repair 关系修复.

Every business time is an aware datetime that may not come before the step it follows; a
business day is the date of a time in Asia/Shanghai.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.base import (
    ERASED,
    DomainError,
    KehuAggregate,
    PersonalData,
    PersonalEntries,
    aware,
    choose,
)
from domain.calendar import BusinessCalendar
from domain.calendar import business_day as business_day
from domain.guards import Guards
from domain.loyalty import (
    MOVEMENT_LABELS,
    Basis,
    Movement,
    VipPolicy,
    basis_of,
)
from domain.values import USCC, Email, MobilePhone, Money, ResidentIdNumber

CUSTOMER_NAMESPACE = uuid5(NAMESPACE_URL, "https://kehu.example/customer")


class CustomerKind(StrEnum):
    """个人客户 individual or 企业客户 enterprise."""

    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"


class CustomerStatus(StrEnum):
    PROSPECT = "prospect"  # 潜在
    ACTIVE = "active"  # 活跃
    AT_RISK = "at_risk"  # 流失风险
    CHURNED = "churned"  # 已流失
    WON_BACK = "won_back"  # 挽回


class InteractionKind(StrEnum):
    """客户沟通: visit 拜访, call 电话, email 邮件, feedback 反馈."""

    VISIT = "visit"
    CALL = "call"
    EMAIL = "email"
    FEEDBACK = "feedback"


class ChurnCause(StrEnum):
    """流失原因, for the churn analysis."""

    PRICE = "price"  # 价格
    SERVICE = "service"  # 服务
    QUALITY = "quality"  # 质量
    COMPETITOR = "competitor"  # 竞争对手
    RELOCATION = "relocation"  # 迁移
    NO_NEED = "no_need"  # 无需求
    OTHER = "other"  # 其他


CHURN_CAUSE_LABELS: Mapping[ChurnCause, str] = {
    ChurnCause.PRICE: "价格",
    ChurnCause.SERVICE: "服务",
    ChurnCause.QUALITY: "质量",
    ChurnCause.COMPETITOR: "竞争对手",
    ChurnCause.RELOCATION: "迁移",
    ChurnCause.NO_NEED: "无需求",
    ChurnCause.OTHER: "其他",
}


class VipApplicationStatus(StrEnum):
    PENDING = "pending"  # 待审核
    IN_REVIEW = "in_review"  # 审核中
    GRANTED = "granted"  # 已认定
    REJECTED = "rejected"  # 未通过


OPEN_VIP_STATUSES = frozenset({VipApplicationStatus.PENDING, VipApplicationStatus.IN_REVIEW})


class NotificationChannel(StrEnum):
    """How a VIP decision was notified (认定结果通知)."""

    PHONE = "phone"  # 电话
    SMS = "sms"  # 短信
    EMAIL = "email"  # 邮件
    WECHAT = "wechat"  # 微信
    LETTER = "letter"  # 书面
    IN_PERSON = "in_person"  # 当面
    ONLINE = "online"  # 在线


class CouponStatus(StrEnum):
    ISSUED = "issued"  # 已发放
    REDEEMED = "redeemed"  # 已使用
    EXPIRED = "expired"  # 已过期


class ServiceStatus(StrEnum):
    """增值服务: 客户申请 > 管理部门审核 > 服务实施 (seed 003 §7.2)."""

    APPLIED = "applied"  # 已申请
    APPROVED = "approved"  # 已批准
    REJECTED = "rejected"  # 未批准
    IMPLEMENTED = "implemented"  # 已实施


class GrowthPlanStatus(StrEnum):
    ACTIVE = "active"  # 进行中
    ACHIEVED = "achieved"  # 已达成
    MISSED = "missed"  # 未达成
    CANCELLED = "cancelled"  # 已取消


class GrowthOutcome(StrEnum):
    ACHIEVED = "achieved"
    MISSED = "missed"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class Relationship(StrEnum):
    HEALTHY = "healthy"  # 正常
    BROKEN = "broken"  # 关系破裂


STATUS_LABELS: Mapping[CustomerStatus, str] = {
    CustomerStatus.PROSPECT: "潜在",
    CustomerStatus.ACTIVE: "活跃",
    CustomerStatus.AT_RISK: "流失风险",
    CustomerStatus.CHURNED: "已流失",
    CustomerStatus.WON_BACK: "挽回",
}


# -- errors ---------------------------------------------------------------------------


class CustomerError(DomainError):
    code = "customer.error"


#: The customer's identifying fields: personal data wherever they appear.
IDENTITY_FIELDS = ("name", "phone", "email", "id_number")


class CustomerErased(CustomerError):
    code = "customer.erased"


class AlreadyRestricted(CustomerError):
    code = "customer.already_restricted"


class NotRestricted(CustomerError):
    code = "customer.not_restricted"


class NothingToCorrect(CustomerError):
    code = "customer.nothing_to_correct"
    kind = "invalid"


class CustomerIdentityMissing(CustomerError):
    code = "customer.identity_missing"
    kind = "invalid"


class InvalidCustomerField(CustomerError):
    code = "customer.invalid_field"
    kind = "invalid"


class CustomerChurned(CustomerError):
    code = "customer.churned"


class DuplicateOrder(CustomerError):
    code = "customer.duplicate_order"


class TransitionRefused(CustomerError):
    code = "customer.transition_refused"


class ReviewDateInvalid(CustomerError):
    code = "customer.review_date_invalid"
    kind = "invalid"


class TimeOrderRefused(CustomerError):
    """A business time before the step it follows (or before the customer was registered)."""

    code = "customer.time_before_previous"
    kind = "invalid"


class DuplicateId(CustomerError):
    """An application, redemption, coupon, plan or task id already used on this customer."""

    code = "customer.duplicate_id"


class VipApplicationOpen(CustomerError):
    """One VIP application at a time: an open one (pending or in review) is decided first."""

    code = "customer.vip_application_open"


class VipTierNotHigher(CustomerError):
    """A VIP application or grant is for a tier above the one held."""

    code = "customer.vip_tier_not_higher"


class VipTierAboveRequested(CustomerError):
    """A grant may give the tier applied for or a lower one, never a higher one."""

    code = "customer.vip_tier_above_requested"
    kind = "invalid"


class VipNotQualified(CustomerError):
    """The basis recorded at the application does not meet the tier's qualification."""

    code = "customer.vip_not_qualified"


class VipPolicyMismatch(CustomerError):
    """An application is decided under the policy version it was made under."""

    code = "customer.vip_policy_mismatch"


class UnknownVipApplication(CustomerError):
    code = "customer.unknown_vip_application"
    kind = "invalid"


class VipApplicationStatusRefused(CustomerError):
    """The application is not at the step the command needs (review → decide)."""

    code = "customer.vip_application_status"


class VipNotDecided(CustomerError):
    code = "customer.vip_not_decided"


class VipAlreadyNotified(CustomerError):
    code = "customer.vip_already_notified"


class InsufficientPoints(CustomerError):
    code = "customer.insufficient_points"


class UnknownCoupon(CustomerError):
    code = "customer.unknown_coupon"
    kind = "invalid"


class CouponAlreadyRedeemed(CustomerError):
    code = "customer.coupon_redeemed"


class CouponExpiredError(CustomerError):
    code = "customer.coupon_expired"


class CouponMinSpendNotMet(CustomerError):
    """The order the coupon is redeemed on is recorded and spends less than its minimum."""

    code = "customer.coupon_min_spend_not_met"


class UnknownServiceApplication(CustomerError):
    code = "customer.unknown_service_application"
    kind = "invalid"


class ServiceStatusRefused(CustomerError):
    code = "customer.service_application_status"


class UnknownGrowthPlan(CustomerError):
    code = "customer.unknown_growth_plan"
    kind = "invalid"


class UnknownGrowthMetric(CustomerError):
    code = "customer.unknown_growth_metric"
    kind = "invalid"


class GrowthPlanClosed(CustomerError):
    code = "customer.growth_plan_closed"


class GrowthGoalsNotMet(CustomerError):
    """A plan is achieved only when every goal's progress has reached its target."""

    code = "customer.growth_goals_not_met"


class GrowthPlanNotMissed(CustomerError):
    """A plan is missed only after its due date, with a goal still short of its target."""

    code = "customer.growth_plan_not_missed"


class UnknownPreventionTask(CustomerError):
    code = "customer.unknown_prevention_task"
    kind = "invalid"


class PreventionTaskOpen(CustomerError):
    """One open prevention task per customer at a time."""

    code = "customer.prevention_task_open"


class PreventionTaskDone(CustomerError):
    code = "customer.prevention_task_done"


class RelationshipBrokenError(CustomerError):
    """The relationship is already broken: repair it first."""

    code = "customer.relationship_broken"


class RelationshipHealthy(CustomerError):
    """The relationship is healthy: there is nothing to repair."""

    code = "customer.relationship_healthy"


# -- identity --------------------------------------------------------------------------


def enterprise_customer_id(uscc: USCC) -> UUID:
    """An enterprise's id follows from its USCC, so the store refuses a second one."""
    return uuid5(CUSTOMER_NAMESPACE, f"uscc:{uscc}")


_check = Guards(InvalidCustomerField)
_clean_text = _check.text
_optional_text = _check.optional_text
_key = _check.reference
_calendar_day = _check.calendar_day
_money = _check.money


def _texts(field: str, values: object, *, required: bool = True, most: int = 20) -> list[str]:
    """A list of reasons or actions: each 1–500 characters, at most ``most``."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise InvalidCustomerField(f"{field} must be a list of text", field=field)
    cleaned = [_clean_text(field, value, max_length=500) for value in values]
    if required and not cleaned:
        raise InvalidCustomerField(f"give at least one of {field}", field=field)
    if len(cleaned) > most:
        raise InvalidCustomerField(f"at most {most} {field} are allowed", field=field)
    return cleaned


def _decimal(field: str, value: object) -> Decimal:
    """A decimal given as Decimal, int or decimal text; never a float."""
    if isinstance(value, float | bool):
        raise InvalidCustomerField(f"{field} must be a decimal, never {value!r}", field=field)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidCustomerField(
            f"{field} must be a decimal, not {value!r}", field=field
        ) from None
    if not number.is_finite():
        raise InvalidCustomerField(f"{field} must be a finite decimal", field=field)
    return number


def _tag_list(tags: object) -> Iterable[str]:
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise InvalidCustomerField("tags must be a list of text", field="tags")
    return tags


def _consent(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidCustomerField(
            "marketing_consent must be true or false", field="marketing_consent"
        )
    return value


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        value = _clean_text("tag", tag, max_length=40)
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > 30:
        raise InvalidCustomerField("a customer carries at most 30 tags", field="tags")
    return sorted(cleaned)


# -- the aggregate ---------------------------------------------------------------------


class Customer(KehuAggregate):
    """客户: profile and contacts, lifecycle, interactions and purchases."""

    #: State attributes that hold personal data (masked for roles that may not see it).
    PERSONAL_STATE: ClassVar[tuple[str, ...]] = ("name", "phone", "email", "id_number")

    def data_subject(self, event: object | None = None) -> UUID | None:
        return self.id

    EDITABLE_FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "phone",
        "email",
        "segment",
        "source",
        "tags",
        "marketing_consent",
    )

    class Registered(Aggregate.Created):
        kind: str
        name: PersonalData[str]
        phone: PersonalData[str | None]
        email: PersonalData[str | None]
        uscc: str | None
        id_number: PersonalData[str | None]
        source: str | None
        segment: str | None
        tags: list[str]
        marketing_consent: bool
        registered_on: date

    class ProfileUpdated(Aggregate.Event):
        """Only the changed fields are recorded."""

        changes: Annotated[dict[str, Any], PersonalEntries(*IDENTITY_FIELDS)]

    # -- PIPL requests (个人信息保护法 arts. 44–47): the person's rights, each recorded -----

    class DataCopyProvided(Aggregate.Event):
        """查阅、复制 (art. 45): a copy of everything kehu holds about the person was given."""

        request_id: str
        format: str
        sha256: str
        at: datetime

    class PersonalDataCorrected(Aggregate.Event):
        """更正 (art. 46): new values, recorded as new facts; nothing is rewritten."""

        request_id: str
        changes: Annotated[dict[str, Any], PersonalEntries(*IDENTITY_FIELDS)]
        at: datetime

    class ProcessingRestricted(Aggregate.Event):
        """限制处理 (art. 44): the data is only stored until the restriction is lifted."""

        request_id: str
        reason: str
        at: datetime

    class RestrictionLifted(Aggregate.Event):
        request_id: str
        reason: str
        at: datetime

    class PersonalDataErased(Aggregate.Event):
        """删除 (art. 47): the person's key is destroyed after this is recorded, so every
        personal value about them reads as erased; the facts (amounts, dates, ratings) stay."""

        request_id: str
        reason: str
        at: datetime

    class AccountManagerAssigned(Aggregate.Event):
        manager_id: str
        manager_name: str

    class InteractionRecorded(Aggregate.Event):
        kind: str
        summary: PersonalData[str]
        occurred_at: datetime
        staff: str | None

    class PurchaseRecorded(Aggregate.Event):
        order_ref: str
        amount: Money
        category: str
        occurred_on: date

    class Activated(Aggregate.Event):
        """→ 活跃 on a purchase by a prospect, a customer at risk or one won back."""

        occurred_on: date

    class MarkedAtRisk(Aggregate.Event):
        reason: str

    class Churned(Aggregate.Event):
        """已流失. Version 2 added the cause (流失原因); a stored version 1 event reads as
        cause ``other``."""

        class_version = 2

        reason: str
        cause: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["cause"] = ChurnCause.OTHER.value

    class WonBack(Aggregate.Event):
        """挽回. Version 2 added the campaign credited (营销活动); a stored version 1 event
        credits none."""

        class_version = 2

        action: str
        campaign_id: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["campaign_id"] = None

    class InfoReviewed(Aggregate.Event):
        """定期审核: the profile was checked, and when it is next due."""

        reviewed_on: date
        next_review_due: date

    # -- VIP membership and loyalty events

    class VipApplied(Aggregate.Event):
        """会员申请, with the basis as of the day applied and the notification deadline."""

        application_id: str
        requested_tier: str
        applied_at: datetime
        notify_by: datetime
        basis: dict[str, Any]
        policy_version: str

    class VipReviewStarted(Aggregate.Event):
        application_id: str
        reviewer_id: str
        at: datetime

    class VipGranted(Aggregate.Event):
        """会员认定: the tier is held from ``effective_on`` until ``expires_on``."""

        application_id: str
        tier: str
        reasons: list[str]
        effective_on: date
        expires_on: date
        policy_version: str
        at: datetime

    class VipRejected(Aggregate.Event):
        application_id: str
        reasons: list[str]
        at: datetime

    class VipDecisionNotified(Aggregate.Event):
        """认定结果通知; ``late`` when after the deadline."""

        application_id: str
        channel: str
        at: datetime
        notify_by: datetime
        late: bool

    class TierChanged(Aggregate.Event):
        """A tier upgraded by a purchase, or renewed, upgraded, downgraded or lapsed at the
        end of its term (``to_tier`` ``None`` and no ``expires_on`` when lapsed)."""

        from_tier: str | None
        to_tier: str | None
        movement: str
        policy_version: str
        effective_on: date
        expires_on: date | None
        basis: dict[str, Any]
        reason: str

    class PointsEarned(Aggregate.Event):
        order_ref: str
        points: int
        tier: str
        points_per_yuan: Decimal
        earned_on: date
        expires_on: date

    class PointsRedeemed(Aggregate.Event):
        """积分兑换; ``lots`` ({lot, points}) are the lots drawn on, earliest expiry first."""

        redemption_id: str
        points: int
        purpose: str
        at: datetime
        lots: list[dict[str, Any]]

    class PointsExpired(Aggregate.Event):
        points: int
        lots: list[str]
        expired_on: date

    class CouponIssued(Aggregate.Event):
        """优惠券: a fixed ``value`` or a ``discount_rate``, never both."""

        coupon_id: str
        description: str
        value: Money | None
        discount_rate: Decimal | None
        min_spend: Money | None
        valid_until: date
        reason: str
        at: datetime

    class CouponRedeemed(Aggregate.Event):
        coupon_id: str
        order_ref: str
        at: datetime

    class CouponExpired(Aggregate.Event):
        coupon_id: str
        expired_on: date

    class ServiceApplied(Aggregate.Event):
        """增值服务申请."""

        application_id: str
        service: str
        note: str | None
        at: datetime

    class ServiceReviewed(Aggregate.Event):
        application_id: str
        approved: bool
        reasons: list[str]
        reviewer_id: str
        at: datetime

    class ServiceImplemented(Aggregate.Event):
        application_id: str
        note: str | None
        at: datetime

    class GrowthPlanStarted(Aggregate.Event):
        """成长计划: goals ({metric, target}) due on a day."""

        plan_id: str
        goals: list[dict[str, Any]]
        due_on: date
        at: datetime

    class GrowthProgressRecorded(Aggregate.Event):
        """The progress of one goal now (absolute, not an increment)."""

        plan_id: str
        metric: str
        value: Decimal
        at: datetime

    class GrowthPlanClosed(Aggregate.Event):
        plan_id: str
        outcome: str
        at: datetime

    class PreventionTaskRaised(Aggregate.Event):
        """流失预防: a task with the reasons the customer looks at risk."""

        task_id: str
        reasons: list[str]
        owner: str | None
        due_on: date
        at: datetime

    class PreventionTaskCompleted(Aggregate.Event):
        task_id: str
        outcome: str
        at: datetime

    class RelationshipBroken(Aggregate.Event):
        """关系破裂."""

        reason: str
        at: datetime

    class RelationshipRepaired(Aggregate.Event):
        """关系修复, with the actions that repaired it."""

        actions: list[str]
        at: datetime

    # -- creation --------------------------------------------------------------------

    @event(Registered)
    def __init__(
        self,
        id: UUID,
        kind: str,
        name: str,
        phone: str | None,
        email: str | None,
        uscc: str | None,
        id_number: str | None,
        source: str | None,
        segment: str | None,
        tags: list[str],
        marketing_consent: bool,
        registered_on: date,
    ) -> None:
        self.kind = CustomerKind(kind)
        self.name = name
        self.phone = phone
        self.email = email
        self.uscc = uscc
        self.id_number = id_number
        self.source = source
        self.segment = segment
        self.tags = list(tags)
        self.marketing_consent = marketing_consent
        self.registered_on = registered_on
        self.status = CustomerStatus.PROSPECT
        self.account_manager: dict[str, str] | None = None
        self.order_refs: set[str] = set()
        self.purchase_count = 0
        self.interaction_count = 0
        self.last_purchase_on: date | None = None
        self.last_interaction_at: datetime | None = None
        self.last_reviewed_on: date | None = None
        self.next_review_due: date | None = None
        self.status_reason: str | None = None
        # Purchases as plain data, for the VIP basis (rolling 12 months).
        self.purchases: list[dict[str, Any]] = []
        # VIP membership.
        self.tier: str | None = None
        self.tier_since: date | None = None
        self.tier_expires_on: date | None = None
        self.tier_policy_version: str | None = None
        self.tier_history: list[dict[str, Any]] = []
        self.vip_applications: dict[str, dict[str, Any]] = {}
        # Points lots, earliest expiry first; redemptions by id.
        self.points_lots: list[dict[str, Any]] = []
        self.points_redemptions: dict[str, dict[str, Any]] = {}
        self.coupons: dict[str, dict[str, Any]] = {}
        self.service_applications: dict[str, dict[str, Any]] = {}
        self.growth_plans: dict[str, dict[str, Any]] = {}
        # Relationship health.
        self.prevention_tasks: dict[str, dict[str, Any]] = {}
        self.churn_cause: str | None = None
        self.win_back_credit: dict[str, Any] | None = None
        self.relationship: str = Relationship.HEALTHY.value
        self.relationship_history: list[dict[str, Any]] = []

    @classmethod
    def register(
        cls,
        *,
        new_id: UUID,
        kind: str,
        name: str,
        registered_on: date,
        phone: str | None = None,
        email: str | None = None,
        uscc: str | None = None,
        id_number: str | None = None,
        source: str | None = None,
        segment: str | None = None,
        tags: Iterable[str] = (),
        marketing_consent: bool = False,
    ) -> Customer:
        """Register a customer. Enterprises are identified by their USCC, whose id is
        derived from it; individuals may give a resident ID number."""
        try:
            customer_kind = CustomerKind(kind)
        except ValueError:
            raise InvalidCustomerField(
                f"kind must be 'individual' or 'enterprise', not {kind!r}", field="kind"
            ) from None
        clean_name = _clean_text("name", name, max_length=200)
        clean_phone = str(MobilePhone.parse(phone)) if phone else None
        clean_email = str(Email.parse(email)) if email else None
        clean_uscc = str(USCC.parse(uscc)) if uscc else None
        clean_id = str(ResidentIdNumber.parse(id_number)) if id_number else None
        if customer_kind is CustomerKind.ENTERPRISE:
            if clean_uscc is None:
                raise CustomerIdentityMissing(
                    "an enterprise customer is registered with its Unified Social Credit Code"
                    " (统一社会信用代码)"
                )
            if clean_id is not None:
                raise InvalidCustomerField(
                    "an enterprise has a USCC, not a resident ID number", field="id_number"
                )
            expected = enterprise_customer_id(USCC.parse(clean_uscc))
            if new_id != expected:
                raise InvalidCustomerField(
                    "an enterprise's id is derived from its USCC", field="id"
                )
        elif clean_uscc is not None:
            raise InvalidCustomerField(
                "an individual has a resident ID number, not a USCC", field="uscc"
            )
        if clean_phone is None and clean_email is None:
            raise CustomerIdentityMissing("a customer needs a mobile phone or an email")
        return cls(
            id=new_id,
            kind=customer_kind.value,
            name=clean_name,
            phone=clean_phone,
            email=clean_email,
            uscc=clean_uscc,
            id_number=clean_id,
            source=_clean_text("source", source, max_length=60) if source else None,
            segment=_clean_text("segment", segment, max_length=60) if segment else None,
            tags=_clean_tags(_tag_list(tags)),
            marketing_consent=_consent(marketing_consent),
            registered_on=registered_on,
        )

    # -- profile ---------------------------------------------------------------------

    def update_profile(self, **fields: Any) -> None:
        """Change profile fields; only fields whose value really changes are recorded.
        Nothing changed means no event."""
        unknown = sorted(set(fields) - set(self.EDITABLE_FIELDS))
        if unknown:
            raise InvalidCustomerField(
                f"these fields cannot be updated: {', '.join(unknown)}", field=unknown[0]
            )
        normalised = {name: self._normalise(name, value) for name, value in fields.items()}
        changes = {
            name: value for name, value in normalised.items() if getattr(self, name) != value
        }
        if changes.get("phone", self.phone) is None and changes.get("email", self.email) is None:
            raise CustomerIdentityMissing("a customer keeps a mobile phone or an email")
        if changes:
            self._profile_updated(changes=changes)

    def _normalise(self, name: str, value: Any) -> Any:
        if name == "name":
            return _clean_text("name", value, max_length=200)
        if name == "phone":
            return str(MobilePhone.parse(value)) if value else None
        if name == "email":
            return str(Email.parse(value)) if value else None
        if name in ("segment", "source"):
            return _clean_text(name, value, max_length=60) if value else None
        if name == "tags":
            return _clean_tags(_tag_list(value))
        if name == "marketing_consent":
            return _consent(value)
        raise InvalidCustomerField(f"unknown field {name}", field=name)  # pragma: no cover

    @event(ProfileUpdated)
    def _profile_updated(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, list(value) if name == "tags" else value)

    # -- PIPL requests -----------------------------------------------------------------

    #: ``active``, ``restricted`` (storage only) or ``erased``.
    privacy: str = "active"

    def _not_erased(self) -> None:
        if self.privacy == "erased":
            raise CustomerErased(f"the personal data of customer {self.id} was erased")

    def provide_data_copy(self, request_id: str, format: str, sha256: str, at: datetime) -> None:
        rid = _clean_text("request_id", request_id, max_length=64)
        if format not in ("json", "markdown", "zip"):
            raise InvalidCustomerField("format must be json, markdown or zip", field="format")
        digest = _clean_text("sha256", sha256, max_length=64)
        self._data_copy_provided(
            request_id=rid, format=format, sha256=digest, at=self._moment("at", at)
        )

    @event(DataCopyProvided)
    def _data_copy_provided(self, request_id: str, format: str, sha256: str, at: datetime) -> None:
        """A fact about the person's rights, not their state: nothing changes."""

    def correct_personal_data(self, request_id: str, at: datetime, **fields: Any) -> None:
        """Correct identifying fields at the person's request (PIPL art. 46)."""
        self._not_erased()
        rid = _clean_text("request_id", request_id, max_length=64)
        unknown = sorted(set(fields) - set(IDENTITY_FIELDS))
        if unknown:
            raise InvalidCustomerField(
                f"only {', '.join(IDENTITY_FIELDS)} are corrected this way", field=unknown[0]
            )
        normalised = {
            name: (
                (str(ResidentIdNumber.parse(value)) if value else None)
                if name == "id_number"
                else self._normalise(name, value)
            )
            for name, value in fields.items()
        }
        if normalised.get("id_number") and self.kind == CustomerKind.ENTERPRISE:
            raise InvalidCustomerField(
                "an enterprise has a USCC, not a resident ID number", field="id_number"
            )
        changes = {k: v for k, v in normalised.items() if getattr(self, k) != v}
        if not changes:
            raise NothingToCorrect("the corrected values equal the recorded ones")
        if changes.get("phone", self.phone) is None and changes.get("email", self.email) is None:
            raise CustomerIdentityMissing("a customer keeps a mobile phone or an email")
        self._personal_data_corrected(request_id=rid, changes=changes, at=self._moment("at", at))

    @event(PersonalDataCorrected)
    def _personal_data_corrected(
        self, request_id: str, changes: dict[str, Any], at: datetime
    ) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def _request(self, request_id: str, reason: str, at: datetime) -> dict[str, Any]:
        """A PIPL request's fields, cleaned: the request's own id, why, and when."""
        return {
            "request_id": _clean_text("request_id", request_id, max_length=64),
            "reason": _clean_text("reason", reason, max_length=500),
            "at": self._moment("at", at),
        }

    def restrict_processing(self, request_id: str, reason: str, at: datetime) -> None:
        self._not_erased()
        if self.privacy == "restricted":
            raise AlreadyRestricted(f"processing of customer {self.id} is already restricted")
        self._processing_restricted(**self._request(request_id, reason, at))

    @event(ProcessingRestricted)
    def _processing_restricted(self, request_id: str, reason: str, at: datetime) -> None:
        self.privacy = "restricted"

    def lift_restriction(self, request_id: str, reason: str, at: datetime) -> None:
        if self.privacy != "restricted":
            raise NotRestricted(f"processing of customer {self.id} is not restricted")
        self._restriction_lifted(**self._request(request_id, reason, at))

    @event(RestrictionLifted)
    def _restriction_lifted(self, request_id: str, reason: str, at: datetime) -> None:
        self.privacy = "active"

    def erase_personal_data(self, request_id: str, reason: str, at: datetime) -> None:
        self._not_erased()
        self._personal_data_erased(**self._request(request_id, reason, at))

    @event(PersonalDataErased)
    def _personal_data_erased(self, request_id: str, reason: str, at: datetime) -> None:
        self.privacy = "erased"
        for name in IDENTITY_FIELDS:
            if getattr(self, name, None) is not None:
                setattr(self, name, ERASED)

    # -- relationship ----------------------------------------------------------------

    def assign_account_manager(self, manager_id: str, manager_name: str) -> None:
        """专属客户经理."""
        mid = _clean_text("manager_id", manager_id, max_length=64)
        mname = _clean_text("manager_name", manager_name, max_length=100)
        if self.account_manager == {"id": mid, "name": mname}:
            return
        self._account_manager_assigned(manager_id=mid, manager_name=mname)

    @event(AccountManagerAssigned)
    def _account_manager_assigned(self, manager_id: str, manager_name: str) -> None:
        self.account_manager = {"id": manager_id, "name": manager_name}

    def record_interaction(
        self, kind: str, summary: str, occurred_at: datetime, staff: str | None = None
    ) -> None:
        """客户沟通: a visit, call, email or feedback, at its business time."""
        try:
            interaction = InteractionKind(kind)
        except ValueError:
            raise InvalidCustomerField(
                f"interaction kind must be one of {', '.join(k.value for k in InteractionKind)}",
                field="kind",
            ) from None
        aware("occurred_at", occurred_at)
        self._interaction_recorded(
            kind=interaction.value,
            summary=_clean_text("summary", summary, max_length=2000),
            occurred_at=occurred_at,
            staff=_clean_text("staff", staff, max_length=100) if staff else None,
        )

    @event(InteractionRecorded)
    def _interaction_recorded(
        self, kind: str, summary: str, occurred_at: datetime, staff: str | None
    ) -> None:
        self.interaction_count += 1
        if self.last_interaction_at is None or occurred_at > self.last_interaction_at:
            self.last_interaction_at = occurred_at

    def record_purchase(
        self,
        order_ref: str,
        amount: Money,
        category: str,
        occurred_on: date,
        policy: VipPolicy | None = None,
    ) -> None:
        """交易记录. The first purchase makes a prospect active.

        With the VIP ``policy`` (the version in force on ``occurred_on``), the purchase also
        earns points at the tier held that day (积分, none without a tier), and a member whose
        basis now qualifies for a higher tier is upgraded at once, from ``occurred_on`` for a
        new term. A purchase dated before the last tier move upgrades nothing: tier moves
        follow each other in time."""
        ref = _clean_text("order_ref", order_ref, max_length=64)
        if self.status == CustomerStatus.CHURNED:
            raise CustomerChurned(
                "a churned customer cannot make purchases; win the customer back first",
                current_status=str(self.status),
            )
        if ref in self.order_refs:
            raise DuplicateOrder(f"order {ref} is already recorded for this customer")
        if not isinstance(amount, Money) or amount.is_negative() or amount.is_zero():
            raise InvalidCustomerField("a purchase amount must be positive", field="amount")
        day = _calendar_day("occurred_on", occurred_on)
        clean_category = _clean_text("category", category, max_length=60)
        self._purchase_recorded(
            order_ref=ref, amount=amount, category=clean_category, occurred_on=day
        )
        # A purchase shows the customer is active: a prospect, a customer won back and
        # one at risk all become active again.
        if self.status in (
            CustomerStatus.PROSPECT,
            CustomerStatus.WON_BACK,
            CustomerStatus.AT_RISK,
        ):
            self._activated(occurred_on=day)
        if policy is not None:
            self._earn_and_upgrade(ref, amount, day, policy)

    def _earn_and_upgrade(self, ref: str, amount: Money, day: date, policy: VipPolicy) -> None:
        # Points at the tier held on the day of the purchase (the upgrade it may bring
        # applies from then on, to later purchases).
        held = self.tier_on(day)
        if held is not None and policy.has_tier(held):
            points = policy.points_for(held, amount)
            if points > 0:
                self._points_earned(
                    order_ref=ref,
                    points=points,
                    tier=held,
                    points_per_yuan=policy.tier(held).points_per_yuan,
                    earned_on=day,
                    expires_on=policy.points_expire_on(day),
                )
        last_move = self.tier_history[-1]["effective_on"] if self.tier_history else None
        if not policy.has_tier(self.tier) or (last_move is not None and day < last_move):
            return
        basis = self.basis(day)
        reached = policy.qualifying_tier(basis)
        if reached is not None and policy.rank(reached) > policy.rank(self.tier):
            self._tier_changed(
                from_tier=self.tier,
                to_tier=reached,
                movement=Movement.UPGRADED.value,
                policy_version=policy.version,
                effective_on=day,
                expires_on=policy.term_ends_on(day),
                basis=basis.as_dict(),
                reason=f"订单 {ref} 后{_basis_text(basis)}，符合"
                f"{policy.tier(reached).label}条件，即时升级 (policy {policy.version})",
            )

    @event(PurchaseRecorded)
    def _purchase_recorded(
        self, order_ref: str, amount: Money, category: str, occurred_on: date
    ) -> None:
        self.order_refs.add(order_ref)
        self.purchase_count += 1
        if self.last_purchase_on is None or occurred_on > self.last_purchase_on:
            self.last_purchase_on = occurred_on
        self.purchases.append(
            {
                "order_ref": order_ref,
                "amount": amount,
                "category": category,
                "occurred_on": occurred_on,
            }
        )

    @event(Activated)
    def _activated(self, occurred_on: date) -> None:
        self.status = CustomerStatus.ACTIVE
        self.status_reason = None

    # -- lifecycle -------------------------------------------------------------------

    def mark_at_risk(self, reason: str) -> None:
        """流失风险: only an active or won-back customer can be at risk."""
        self._check_status("mark at risk", {CustomerStatus.ACTIVE, CustomerStatus.WON_BACK})
        self._marked_at_risk(reason=_clean_text("reason", reason, max_length=500))

    @event(MarkedAtRisk)
    def _marked_at_risk(self, reason: str) -> None:
        self.status = CustomerStatus.AT_RISK
        self.status_reason = reason

    def churn(self, reason: str, cause: str = ChurnCause.OTHER.value) -> None:
        """已流失, with the reason in words and its cause (流失原因: price 价格, service 服务,
        quality 质量, competitor 竞争对手, relocation 迁移, no_need 无需求, other 其他)."""
        if self.status == CustomerStatus.CHURNED:
            raise TransitionRefused(
                "the customer has already churned", current_status=str(self.status)
            )
        clean_reason = _clean_text("reason", reason, max_length=500)
        clean_cause = choose(ChurnCause, cause, "cause", InvalidCustomerField)
        self._churned(reason=clean_reason, cause=clean_cause.value)

    @event(Churned)
    def _churned(self, reason: str, cause: str) -> None:
        self.status = CustomerStatus.CHURNED
        self.status_reason = reason
        self.churn_cause = cause

    def win_back(self, action: str, campaign_id: str | None = None) -> None:
        """挽回: credit the action, and the campaign (营销活动) if one won the customer back."""
        self._check_status("win back", {CustomerStatus.CHURNED})
        clean_action = _clean_text("action", action, max_length=500)
        campaign = _key("campaign_id", campaign_id) if campaign_id is not None else None
        self._won_back(action=clean_action, campaign_id=campaign)

    @event(WonBack)
    def _won_back(self, action: str, campaign_id: str | None) -> None:
        self.status = CustomerStatus.WON_BACK
        self.status_reason = action
        self.win_back_credit = {"action": action, "campaign_id": campaign_id}

    def confirm_info_reviewed(self, reviewed_on: date, next_review_due: date) -> None:
        """定期审核: the information was reviewed; the next review is due then."""
        if next_review_due <= reviewed_on:
            raise ReviewDateInvalid(
                f"the next review ({next_review_due}) must come after this one ({reviewed_on})"
            )
        if self.last_reviewed_on is not None and reviewed_on < self.last_reviewed_on:
            raise ReviewDateInvalid(
                f"a review on {reviewed_on} is earlier than the last one ({self.last_reviewed_on})"
            )
        self._info_reviewed(reviewed_on=reviewed_on, next_review_due=next_review_due)

    @event(InfoReviewed)
    def _info_reviewed(self, reviewed_on: date, next_review_due: date) -> None:
        self.last_reviewed_on = reviewed_on
        self.next_review_due = next_review_due

    def _check_status(self, action: str, allowed: set[CustomerStatus]) -> None:
        if self.status not in allowed:
            allowed_names = ", ".join(sorted(s.value for s in allowed))
            raise TransitionRefused(
                f"cannot {action} a customer who is {self.status}"
                f" ({STATUS_LABELS[self.status]}); allowed from: {allowed_names}",
                current_status=str(self.status),
            )

    # -- business time -----------------------------------------------------------------

    def _moment(
        self,
        field: str,
        value: object,
        *,
        not_before: datetime | None = None,
        what: str = "the previous step",
    ) -> datetime:
        """An aware business time, not before the customer was registered nor before
        ``not_before`` (``what`` names that step in the refusal)."""
        if not isinstance(value, datetime):
            raise InvalidCustomerField(f"{field} must be a date and time", field=field)
        moment = aware(field, value)
        if business_day(moment) < self.registered_on:
            raise TimeOrderRefused(
                f"{field} ({moment.isoformat()}) is before the customer was registered"
                f" ({self.registered_on})",
                field=field,
            )
        if not_before is not None and moment < not_before:
            raise TimeOrderRefused(
                f"{field} ({moment.isoformat()}) is before {what} ({not_before.isoformat()})",
                field=field,
            )
        return moment

    # -- VIP applications 会员申请 ----------------------------------------------------------

    def apply_for_vip(
        self,
        application_id: str,
        requested_tier: str,
        applied_at: datetime,
        policy: VipPolicy,
        calendar: BusinessCalendar,
    ) -> None:
        """会员申请 for a tier above the one held. The basis (rolling 12 months to the day
        applied) is recorded, and the decision must be notified within the policy's working
        days of the application (认定结果通知: 7 working days, holidays and adjusted working
        days of mainland China counted by ``calendar``)."""
        app_id = _key("application_id", application_id)
        self._check_status(
            "apply for VIP membership", {CustomerStatus.ACTIVE, CustomerStatus.WON_BACK}
        )
        if app_id in self.vip_applications:
            raise DuplicateId(f"VIP application {app_id} already exists", field="application_id")
        open_one = self.open_vip_application
        if open_one is not None:
            raise VipApplicationOpen(
                f"VIP application {open_one['id']} is still {open_one['status']};"
                " decide it before applying again",
                application_id=open_one["id"],
            )
        tier = policy.tier(_clean_text("requested_tier", requested_tier, max_length=32))
        if tier.rank <= policy.rank(self.tier):
            raise VipTierNotHigher(
                f"the customer already holds {self.tier}; apply for a tier above it,"
                f" not {tier.code}",
                current_tier=self.tier,
                requested_tier=tier.code,
            )
        earlier = [a["applied_at"] for a in self.vip_applications.values()]
        moment = self._moment(
            "applied_at",
            applied_at,
            not_before=max(earlier) if earlier else None,
            what="the previous VIP application",
        )
        notify_by = calendar.working_days_deadline(moment, policy.notification_working_days)
        self._vip_applied(
            application_id=app_id,
            requested_tier=tier.code,
            applied_at=moment,
            notify_by=notify_by,
            basis=self.basis(business_day(moment)).as_dict(),
            policy_version=policy.version,
        )

    @event(VipApplied)
    def _vip_applied(
        self,
        application_id: str,
        requested_tier: str,
        applied_at: datetime,
        notify_by: datetime,
        basis: dict[str, Any],
        policy_version: str,
    ) -> None:
        self.vip_applications[application_id] = {
            "id": application_id,
            "requested_tier": requested_tier,
            "applied_at": applied_at,
            "notify_by": notify_by,
            "basis": copy.deepcopy(basis),
            "policy_version": policy_version,
            "status": VipApplicationStatus.PENDING.value,
            "reviewer_id": None,
            "review_started_at": None,
            "decided_at": None,
            "granted_tier": None,
            "reasons": [],
            "notified_at": None,
            "channel": None,
            "late": None,
        }

    def _vip_application(self, application_id: str) -> dict[str, Any]:
        app_id = _key("application_id", application_id)
        found = self.vip_applications.get(app_id)
        if found is None:
            raise UnknownVipApplication(
                f"no VIP application {app_id} for this customer", application_id=app_id
            )
        return found

    @staticmethod
    def _check_vip_status(
        application: dict[str, Any], action: str, allowed: VipApplicationStatus
    ) -> None:
        if application["status"] != allowed:
            raise VipApplicationStatusRefused(
                f"cannot {action} VIP application {application['id']}: it is"
                f" {application['status']}, and this needs {allowed.value}",
                application_id=application["id"],
                current_status=application["status"],
            )

    def start_vip_review(self, application_id: str, reviewer_id: str, at: datetime) -> None:
        """审核: a reviewer takes up a pending application."""
        application = self._vip_application(application_id)
        self._check_vip_status(application, "start reviewing", VipApplicationStatus.PENDING)
        reviewer = _key("reviewer_id", reviewer_id)
        moment = self._moment(
            "at", at, not_before=application["applied_at"], what="the application"
        )
        self._vip_review_started(application_id=application["id"], reviewer_id=reviewer, at=moment)

    @event(VipReviewStarted)
    def _vip_review_started(self, application_id: str, reviewer_id: str, at: datetime) -> None:
        application = self.vip_applications[application_id]
        application["status"] = VipApplicationStatus.IN_REVIEW.value
        application["reviewer_id"] = reviewer_id
        application["review_started_at"] = at

    def grant_vip(
        self,
        application_id: str,
        tier: str,
        reasons: list[str],
        at: datetime,
        policy: VipPolicy,
    ) -> None:
        """认定: grant the tier applied for, or a lower one, that the basis recorded at the
        application qualifies for. The application is decided under the policy version it
        was made under; the tier is held from the day granted for the policy's term."""
        application = self._vip_application(application_id)
        self._check_vip_status(application, "grant", VipApplicationStatus.IN_REVIEW)
        if policy.version != application["policy_version"]:
            raise VipPolicyMismatch(
                f"VIP application {application['id']} was made under policy"
                f" {application['policy_version']} and is decided under it, not under"
                f" {policy.version}",
                policy_version=application["policy_version"],
            )
        rule = policy.tier(_clean_text("tier", tier, max_length=32))
        if rule.rank > policy.rank(application["requested_tier"]):
            raise VipTierAboveRequested(
                f"{rule.code} is above the tier applied for ({application['requested_tier']})",
                field="tier",
            )
        if rule.rank <= policy.rank(self.tier):
            raise VipTierNotHigher(
                f"the customer already holds {self.tier}; grant a tier above it, not {rule.code}",
                current_tier=self.tier,
                requested_tier=rule.code,
            )
        basis = Basis.from_dict(application["basis"])
        if not rule.qualifies(basis):
            raise VipNotQualified(
                f"the basis at the application ({_basis_text(basis)}) does not meet {rule.label}"
                f" ({rule.code}): spend {rule.min_spend_12m}, {rule.min_purchases_12m}"
                f" purchases and {rule.min_categories} categories in 12 months",
                tier=rule.code,
            )
        clean_reasons = _texts("reasons", reasons)
        moment = self._moment(
            "at", at, not_before=application["review_started_at"], what="the review started"
        )
        effective_on = business_day(moment)
        self._check_tier_move_on(effective_on)
        self._vip_granted(
            application_id=application["id"],
            tier=rule.code,
            reasons=clean_reasons,
            effective_on=effective_on,
            expires_on=policy.term_ends_on(effective_on),
            policy_version=policy.version,
            at=moment,
        )

    def _check_tier_move_on(self, day: date) -> None:
        if self.tier_history and day < self.tier_history[-1]["effective_on"]:
            last = self.tier_history[-1]
            raise TimeOrderRefused(
                f"a tier move on {day} would come before the last one"
                f" ({last['movement']} on {last['effective_on']})",
                field="at",
            )

    @event(VipGranted)
    def _vip_granted(
        self,
        application_id: str,
        tier: str,
        reasons: list[str],
        effective_on: date,
        expires_on: date,
        policy_version: str,
        at: datetime,
    ) -> None:
        application = self.vip_applications[application_id]
        application["status"] = VipApplicationStatus.GRANTED.value
        application["granted_tier"] = tier
        application["reasons"] = list(reasons)
        application["decided_at"] = at
        self._move_tier(
            {
                "movement": Movement.GRANTED.value,
                "from_tier": self.tier,
                "to_tier": tier,
                "effective_on": effective_on,
                "expires_on": expires_on,
                "policy_version": policy_version,
                "reason": "; ".join(reasons),
                "basis": copy.deepcopy(application["basis"]),
                "application_id": application_id,
            }
        )

    def reject_vip(self, application_id: str, reasons: list[str], at: datetime) -> None:
        """Not granted, with the reasons the customer is told."""
        application = self._vip_application(application_id)
        self._check_vip_status(application, "reject", VipApplicationStatus.IN_REVIEW)
        clean_reasons = _texts("reasons", reasons)
        moment = self._moment(
            "at", at, not_before=application["review_started_at"], what="the review started"
        )
        self._vip_rejected(application_id=application["id"], reasons=clean_reasons, at=moment)

    @event(VipRejected)
    def _vip_rejected(self, application_id: str, reasons: list[str], at: datetime) -> None:
        application = self.vip_applications[application_id]
        application["status"] = VipApplicationStatus.REJECTED.value
        application["reasons"] = list(reasons)
        application["decided_at"] = at

    def notify_vip_decision(self, application_id: str, channel: str, at: datetime) -> None:
        """认定结果通知, once, after the decision; late when after ``notify_by``."""
        application = self._vip_application(application_id)
        if application["status"] in OPEN_VIP_STATUSES:
            raise VipNotDecided(
                f"VIP application {application['id']} is {application['status']};"
                " it is notified once decided",
                application_id=application["id"],
            )
        if application["notified_at"] is not None:
            raise VipAlreadyNotified(
                f"the decision on VIP application {application['id']} was notified on"
                f" {application['notified_at'].isoformat()}",
                application_id=application["id"],
            )
        how = choose(NotificationChannel, channel, "channel", InvalidCustomerField)
        moment = self._moment("at", at, not_before=application["decided_at"], what="the decision")
        self._vip_decision_notified(
            application_id=application["id"],
            channel=how.value,
            at=moment,
            notify_by=application["notify_by"],
            late=moment > application["notify_by"],
        )

    @event(VipDecisionNotified)
    def _vip_decision_notified(
        self, application_id: str, channel: str, at: datetime, notify_by: datetime, late: bool
    ) -> None:
        application = self.vip_applications[application_id]
        application["notified_at"] = at
        application["channel"] = channel
        application["late"] = late

    @property
    def open_vip_application(self) -> dict[str, Any] | None:
        """The application pending or in review, if any."""
        for application in self.vip_applications.values():
            if application["status"] in OPEN_VIP_STATUSES:
                return application
        return None

    def vip_notifications_overdue(self, as_of: datetime) -> list[str]:
        """Ids of applications whose decision is not notified and whose deadline has
        passed at ``as_of`` (decided or not)."""
        moment = aware("as_of", as_of)
        return [
            a["id"]
            for a in self.vip_applications.values()
            if a["notified_at"] is None and a["notify_by"] < moment
        ]

    # -- tiers 会员等级 -------------------------------------------------------------------

    def tier_due(self, on: date) -> bool:
        """A tier whose term has ended on or before ``on`` waits for its evaluation."""
        return self.tier_expires_on is not None and self.tier_expires_on <= on

    def tier_on(self, day: date) -> str | None:
        """The tier held on ``day``, from the tier moves."""
        held: str | None = None
        for move in self.tier_history:
            if move["effective_on"] <= day:
                held = move["to_tier"]
        return held

    def evaluate_tier(self, on: date, policy: VipPolicy) -> None:
        """At the end of a tier's term (定期评估): renewed, upgraded, downgraded or lapsed by
        the declared policy, judged on the 12 months up to the term's last day and taking
        effect from the day the term ended, however late the evaluation runs. Nothing is
        recorded when no term has ended by ``on``; a term that ended more than once over
        (the evaluation fell far behind) needs one evaluation per term."""
        day = _calendar_day("on", on)
        current, ended = self.tier, self.tier_expires_on
        if current is None or ended is None or ended > day:
            return
        basis = self.basis(ended - timedelta(days=1))
        outcome = policy.outcome_at_term_end(current, basis)
        label = policy.tier(current).label
        after = policy.tier(outcome.to_tier).label if outcome.to_tier else "无等级"
        self._tier_changed(
            from_tier=current,
            to_tier=outcome.to_tier,
            movement=outcome.movement.value,
            policy_version=policy.version,
            effective_on=ended,
            expires_on=policy.term_ends_on(ended) if outcome.to_tier else None,
            basis=basis.as_dict(),
            reason=f"{label}任期于 {ended} 届满；{_basis_text(basis)}；"
            f"按政策 {policy.version} ({policy.downgrade})"
            f"{MOVEMENT_LABELS[outcome.movement]}为{after}",
        )

    @event(TierChanged)
    def _tier_changed(
        self,
        from_tier: str | None,
        to_tier: str | None,
        movement: str,
        policy_version: str,
        effective_on: date,
        expires_on: date | None,
        basis: dict[str, Any],
        reason: str,
    ) -> None:
        self._move_tier(
            {
                "movement": movement,
                "from_tier": from_tier,
                "to_tier": to_tier,
                "effective_on": effective_on,
                "expires_on": expires_on,
                "policy_version": policy_version,
                "reason": reason,
                "basis": copy.deepcopy(basis),
                "application_id": None,
            }
        )

    def _move_tier(self, move: dict[str, Any]) -> None:
        to_tier = move["to_tier"]
        if to_tier is None:
            self.tier_since = None
            self.tier_policy_version = None
        else:
            if to_tier != self.tier:
                self.tier_since = move["effective_on"]
            self.tier_policy_version = move["policy_version"]
        self.tier = to_tier
        self.tier_expires_on = move["expires_on"]
        self.tier_history.append(move)

    def basis(self, on: date) -> Basis:
        """The qualification basis: the rolling 12 months ending on ``on``."""
        return basis_of(self.purchases, _calendar_day("on", on))

    def benefits(self, policy: VipPolicy) -> dict[str, Any] | None:
        """The current tier's benefits (会员权益) under ``policy``; ``None`` without a tier."""
        if self.tier is None:
            return None
        rule = policy.tier(self.tier)
        return {
            "tier": rule.code,
            "label": rule.label,
            **rule.benefits(),
            "points_per_yuan": rule.points_per_yuan,
        }

    def needs_account_manager(self, policy: VipPolicy) -> bool:
        """The tier requires a dedicated account manager (专属客户经理) and none is assigned."""
        benefits = self.benefits(policy)
        return bool(benefits and benefits["dedicated_manager"] and self.account_manager is None)

    # -- points 积分 ------------------------------------------------------------------------

    @event(PointsEarned)
    def _points_earned(
        self,
        order_ref: str,
        points: int,
        tier: str,
        points_per_yuan: Decimal,
        earned_on: date,
        expires_on: date,
    ) -> None:
        self.points_lots.append(
            {
                "lot": order_ref,
                "points": points,
                "remaining": points,
                "expired": 0,
                "earned_on": earned_on,
                "expires_on": expires_on,
            }
        )
        self.points_lots.sort(key=lambda lot: (lot["expires_on"], lot["earned_on"], lot["lot"]))

    @property
    def points_balance(self) -> int:
        """Points not redeemed nor expired (lots past their expiry count until the
        scheduler expires them; :meth:`points_usable` leaves them out)."""
        return sum(lot["remaining"] for lot in self.points_lots)

    def points_usable(self, on: date) -> int:
        """Points that can be redeemed on ``on``: earned by then and not yet expired."""
        return sum(lot["remaining"] for lot in self._usable_lots(on))

    def points_expiring(self, on: date) -> int:
        """Points that :meth:`expire_points` would expire on ``on`` (lots whose last day is
        before ``on``); ask with a later day to see what expires soon."""
        return sum(lot["remaining"] for lot in self.points_lots if lot["expires_on"] < on)

    def _usable_lots(self, on: date) -> list[dict[str, Any]]:
        return [
            lot
            for lot in self.points_lots
            if lot["remaining"] > 0 and lot["earned_on"] <= on <= lot["expires_on"]
        ]

    def redeem_points(self, redemption_id: str, points: int, purpose: str, at: datetime) -> None:
        """积分兑换, drawn first from the lots that expire first (FIFO)."""
        rid = _key("redemption_id", redemption_id)
        if rid in self.points_redemptions:
            raise DuplicateId(f"redemption {rid} is already recorded", field="redemption_id")
        if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= 10**9:
            raise InvalidCustomerField(
                f"points must be a whole number from 1 to {10**9}, not {points!r}",
                field="points",
            )
        clean_purpose = _clean_text("purpose", purpose, max_length=200)
        earlier = [r["at"] for r in self.points_redemptions.values()]
        moment = self._moment(
            "at", at, not_before=max(earlier) if earlier else None, what="the last redemption"
        )
        day = business_day(moment)
        usable = self._usable_lots(day)
        available = sum(lot["remaining"] for lot in usable)
        if available < points:
            raise InsufficientPoints(
                f"{points} points asked, but only {available} can be redeemed on {day}",
                available=available,
                requested=points,
            )
        drawn: list[dict[str, Any]] = []
        left = points
        for lot in usable:
            take = min(left, lot["remaining"])
            drawn.append({"lot": lot["lot"], "points": take})
            left -= take
            if left == 0:
                break
        self._points_redeemed(
            redemption_id=rid, points=points, purpose=clean_purpose, at=moment, lots=drawn
        )

    @event(PointsRedeemed)
    def _points_redeemed(
        self,
        redemption_id: str,
        points: int,
        purpose: str,
        at: datetime,
        lots: list[dict[str, Any]],
    ) -> None:
        by_lot = {lot["lot"]: lot for lot in self.points_lots}
        for drawn in lots:
            by_lot[drawn["lot"]]["remaining"] -= drawn["points"]
        self.points_redemptions[redemption_id] = {
            "id": redemption_id,
            "points": points,
            "purpose": purpose,
            "at": at,
            "lots": copy.deepcopy(lots),
        }

    def expire_points(self, on: date) -> None:
        """积分过期 (the scheduler): every lot whose last day is before ``on`` loses what it
        has left, in one event; nothing when there is none."""
        day = _calendar_day("on", on)
        due = [lot for lot in self.points_lots if lot["expires_on"] < day and lot["remaining"] > 0]
        if not due:
            return
        self._points_expired(
            points=sum(lot["remaining"] for lot in due),
            lots=[lot["lot"] for lot in due],
            expired_on=day,
        )

    @event(PointsExpired)
    def _points_expired(self, points: int, lots: list[str], expired_on: date) -> None:
        names = set(lots)
        for lot in self.points_lots:
            if lot["lot"] in names:
                lot["expired"] += lot["remaining"]
                lot["remaining"] = 0

    # -- coupons 优惠券 ---------------------------------------------------------------------

    def issue_coupon(
        self,
        coupon_id: str,
        description: str,
        valid_until: date,
        reason: str,
        at: datetime,
        value: Money | None = None,
        discount_rate: Decimal | None = None,
        min_spend: Money | None = None,
    ) -> None:
        """发放优惠券: a fixed ``value`` or a ``discount_rate`` (0 < rate < 1), never both,
        optionally for orders of at least ``min_spend``, valid through ``valid_until``."""
        cid = _key("coupon_id", coupon_id)
        if cid in self.coupons:
            raise DuplicateId(f"coupon {cid} is already issued", field="coupon_id")
        if (value is None) == (discount_rate is None):
            raise InvalidCustomerField(
                "a coupon has either a value or a discount rate, and only one", field="value"
            )
        amount = _money("value", value, positive=True) if value is not None else None
        rate = None
        if discount_rate is not None:
            rate = _decimal("discount_rate", discount_rate)
            if not Decimal(0) < rate < Decimal(1):
                raise InvalidCustomerField(
                    f"a discount rate is above 0 and below 1, not {rate}", field="discount_rate"
                )
        floor = _money("min_spend", min_spend, positive=False) if min_spend is not None else None
        if amount is not None and floor is not None and floor.currency != amount.currency:
            raise InvalidCustomerField(
                "a coupon's minimum spend is in the currency of its value", field="min_spend"
            )
        clean_description = _clean_text("description", description, max_length=200)
        clean_reason = _clean_text("reason", reason, max_length=500)
        last_day = _calendar_day("valid_until", valid_until)
        moment = self._moment("at", at)
        if last_day < business_day(moment):
            raise InvalidCustomerField(
                f"a coupon valid until {last_day} would be expired when issued", field="valid_until"
            )
        self._coupon_issued(
            coupon_id=cid,
            description=clean_description,
            value=amount,
            discount_rate=rate,
            min_spend=floor,
            valid_until=last_day,
            reason=clean_reason,
            at=moment,
        )

    @event(CouponIssued)
    def _coupon_issued(
        self,
        coupon_id: str,
        description: str,
        value: Money | None,
        discount_rate: Decimal | None,
        min_spend: Money | None,
        valid_until: date,
        reason: str,
        at: datetime,
    ) -> None:
        self.coupons[coupon_id] = {
            "id": coupon_id,
            "description": description,
            "value": value,
            "discount_rate": discount_rate,
            "min_spend": min_spend,
            "issued_on": business_day(at),
            "issued_at": at,
            "valid_until": valid_until,
            "status": CouponStatus.ISSUED.value,
            "order_ref": None,
            "redeemed_at": None,
            "expired_on": None,
            "reason": reason,
        }

    def _coupon(self, coupon_id: str) -> dict[str, Any]:
        cid = _key("coupon_id", coupon_id)
        found = self.coupons.get(cid)
        if found is None:
            raise UnknownCoupon(f"no coupon {cid} for this customer", coupon_id=cid)
        return found

    def redeem_coupon(self, coupon_id: str, order_ref: str, at: datetime) -> None:
        """使用优惠券 on an order, once, through its last valid day. When the order is
        already recorded, it must reach the coupon's minimum spend."""
        coupon = self._coupon(coupon_id)
        if coupon["status"] == CouponStatus.REDEEMED:
            raise CouponAlreadyRedeemed(
                f"coupon {coupon['id']} was redeemed on order {coupon['order_ref']}",
                coupon_id=coupon["id"],
            )
        ref = _key("order_ref", order_ref)
        moment = self._moment(
            "at", at, not_before=coupon["issued_at"], what="the coupon was issued"
        )
        if coupon["status"] == CouponStatus.EXPIRED or business_day(moment) > coupon["valid_until"]:
            raise CouponExpiredError(
                f"coupon {coupon['id']} was valid until {coupon['valid_until']}",
                coupon_id=coupon["id"],
            )
        floor: Money | None = coupon["min_spend"]
        order = next((p for p in self.purchases if p["order_ref"] == ref), None)
        if floor is not None and order is not None:
            spent: Money = order["amount"]
            if spent.currency != floor.currency or spent < floor:
                raise CouponMinSpendNotMet(
                    f"order {ref} spends {spent}; coupon {coupon['id']} needs at least {floor}",
                    coupon_id=coupon["id"],
                )
        self._coupon_redeemed(coupon_id=coupon["id"], order_ref=ref, at=moment)

    @event(CouponRedeemed)
    def _coupon_redeemed(self, coupon_id: str, order_ref: str, at: datetime) -> None:
        coupon = self.coupons[coupon_id]
        coupon["status"] = CouponStatus.REDEEMED.value
        coupon["order_ref"] = order_ref
        coupon["redeemed_at"] = at

    def expire_coupons(self, on: date) -> None:
        """优惠券过期 (the scheduler): one event per coupon still issued whose last valid day
        is before ``on``."""
        day = _calendar_day("on", on)
        for coupon in list(self.coupons.values()):
            if coupon["status"] == CouponStatus.ISSUED and coupon["valid_until"] < day:
                self._coupon_expired(coupon_id=coupon["id"], expired_on=day)

    @event(CouponExpired)
    def _coupon_expired(self, coupon_id: str, expired_on: date) -> None:
        coupon = self.coupons[coupon_id]
        coupon["status"] = CouponStatus.EXPIRED.value
        coupon["expired_on"] = expired_on

    # -- value-added services 增值服务 -------------------------------------------------------

    def apply_for_service(
        self, application_id: str, service: str, note: str | None, at: datetime
    ) -> None:
        """增值服务申请 (个性化定制、专属活动邀请、产品试用 …): 申请 > 审核 > 实施."""
        app_id = _key("application_id", application_id)
        self._check_not_churned("apply for a value-added service")
        if app_id in self.service_applications:
            raise DuplicateId(
                f"service application {app_id} already exists", field="application_id"
            )
        clean_service = _clean_text("service", service, max_length=100)
        clean_note = _optional_text("note", note, max_length=2000)
        moment = self._moment("at", at)
        self._service_applied(
            application_id=app_id, service=clean_service, note=clean_note, at=moment
        )

    @event(ServiceApplied)
    def _service_applied(
        self, application_id: str, service: str, note: str | None, at: datetime
    ) -> None:
        self.service_applications[application_id] = {
            "id": application_id,
            "service": service,
            "note": note,
            "status": ServiceStatus.APPLIED.value,
            "reviewer_id": None,
            "reasons": [],
            "applied_at": at,
            "decided_at": None,
            "implemented_at": None,
            "implementation_note": None,
        }

    def _service_application(
        self, application_id: str, action: str, allowed: ServiceStatus
    ) -> dict[str, Any]:
        app_id = _key("application_id", application_id)
        found = self.service_applications.get(app_id)
        if found is None:
            raise UnknownServiceApplication(
                f"no service application {app_id} for this customer", application_id=app_id
            )
        if found["status"] != allowed:
            raise ServiceStatusRefused(
                f"cannot {action} service application {app_id}: it is {found['status']},"
                f" and this needs {allowed.value}",
                application_id=app_id,
                current_status=found["status"],
            )
        return found

    def review_service(
        self,
        application_id: str,
        approved: bool,
        reasons: list[str],
        reviewer_id: str,
        at: datetime,
    ) -> None:
        """审核: approve, or reject with at least one reason."""
        application = self._service_application(application_id, "review", ServiceStatus.APPLIED)
        if not isinstance(approved, bool):
            raise InvalidCustomerField("approved must be true or false", field="approved")
        clean_reasons = _texts("reasons", reasons, required=not approved)
        reviewer = _key("reviewer_id", reviewer_id)
        moment = self._moment(
            "at", at, not_before=application["applied_at"], what="the application"
        )
        self._service_reviewed(
            application_id=application["id"],
            approved=approved,
            reasons=clean_reasons,
            reviewer_id=reviewer,
            at=moment,
        )

    @event(ServiceReviewed)
    def _service_reviewed(
        self,
        application_id: str,
        approved: bool,
        reasons: list[str],
        reviewer_id: str,
        at: datetime,
    ) -> None:
        application = self.service_applications[application_id]
        application["status"] = (
            ServiceStatus.APPROVED if approved else ServiceStatus.REJECTED
        ).value
        application["reasons"] = list(reasons)
        application["reviewer_id"] = reviewer_id
        application["decided_at"] = at

    def implement_service(self, application_id: str, note: str | None, at: datetime) -> None:
        """服务实施 of an approved application."""
        application = self._service_application(application_id, "implement", ServiceStatus.APPROVED)
        clean_note = _optional_text("note", note, max_length=2000)
        moment = self._moment("at", at, not_before=application["decided_at"], what="the approval")
        self._service_implemented(application_id=application["id"], note=clean_note, at=moment)

    @event(ServiceImplemented)
    def _service_implemented(self, application_id: str, note: str | None, at: datetime) -> None:
        application = self.service_applications[application_id]
        application["status"] = ServiceStatus.IMPLEMENTED.value
        application["implemented_at"] = at
        application["implementation_note"] = note

    # -- growth plans 成长计划 ----------------------------------------------------------------

    def start_growth_plan(
        self, plan_id: str, goals: list[dict[str, Any]], due_on: date, at: datetime
    ) -> None:
        """成长计划: 1–10 goals, each a metric (named once) with a target above zero, due on
        a day after the plan starts."""
        pid = _key("plan_id", plan_id)
        self._check_not_churned("start a growth plan for")
        if pid in self.growth_plans:
            raise DuplicateId(f"growth plan {pid} already exists", field="plan_id")
        if isinstance(goals, str | bytes | Mapping) or not isinstance(goals, Iterable):
            raise InvalidCustomerField("goals must be a list of {metric, target}", field="goals")
        clean_goals: list[dict[str, Any]] = []
        for goal in goals:
            if not isinstance(goal, Mapping):
                raise InvalidCustomerField("each goal is {metric, target}", field="goals")
            metric = _clean_text("metric", goal.get("metric"), max_length=60)
            if any(g["metric"] == metric for g in clean_goals):
                raise InvalidCustomerField(f"goal {metric} is given twice", field="goals")
            target = _decimal("target", goal.get("target"))
            if target <= 0:
                raise InvalidCustomerField(
                    f"the target of {metric} must be above zero, not {target}", field="target"
                )
            clean_goals.append({"metric": metric, "target": target})
        if not 1 <= len(clean_goals) <= 10:
            raise InvalidCustomerField("a growth plan has 1 to 10 goals", field="goals")
        last_day = _calendar_day("due_on", due_on)
        moment = self._moment("at", at)
        if last_day <= business_day(moment):
            raise InvalidCustomerField(
                f"a growth plan is due after it starts ({business_day(moment)}), not on {last_day}",
                field="due_on",
            )
        self._growth_plan_started(plan_id=pid, goals=clean_goals, due_on=last_day, at=moment)

    @event(GrowthPlanStarted)
    def _growth_plan_started(
        self, plan_id: str, goals: list[dict[str, Any]], due_on: date, at: datetime
    ) -> None:
        self.growth_plans[plan_id] = {
            "id": plan_id,
            "goals": [
                {"metric": g["metric"], "target": g["target"], "progress": Decimal(0)}
                for g in goals
            ],
            "due_on": due_on,
            "status": GrowthPlanStatus.ACTIVE.value,
            "started_at": at,
            "updated_at": at,
            "closed_at": None,
        }

    def _active_plan(self, plan_id: str) -> dict[str, Any]:
        pid = _key("plan_id", plan_id)
        plan = self.growth_plans.get(pid)
        if plan is None:
            raise UnknownGrowthPlan(f"no growth plan {pid} for this customer", plan_id=pid)
        if plan["status"] != GrowthPlanStatus.ACTIVE:
            raise GrowthPlanClosed(f"growth plan {pid} is {plan['status']}", plan_id=pid)
        return plan

    def record_growth_progress(
        self, plan_id: str, metric: str, value: Decimal, at: datetime
    ) -> None:
        """The progress of a goal as it stands now (not an increment), zero or more."""
        plan = self._active_plan(plan_id)
        name = _clean_text("metric", metric, max_length=60)
        if not any(g["metric"] == name for g in plan["goals"]):
            raise UnknownGrowthMetric(
                f"growth plan {plan['id']} has no goal {name}", plan_id=plan["id"], metric=name
            )
        number = _decimal("value", value)
        if number < 0:
            raise InvalidCustomerField(f"progress is zero or more, not {number}", field="value")
        moment = self._moment(
            "at", at, not_before=plan["updated_at"], what="the plan's last update"
        )
        self._growth_progress_recorded(plan_id=plan["id"], metric=name, value=number, at=moment)

    @event(GrowthProgressRecorded)
    def _growth_progress_recorded(
        self, plan_id: str, metric: str, value: Decimal, at: datetime
    ) -> None:
        plan = self.growth_plans[plan_id]
        for goal in plan["goals"]:
            if goal["metric"] == metric:
                goal["progress"] = value
        plan["updated_at"] = at

    def close_growth_plan(self, plan_id: str, outcome: str, at: datetime) -> None:
        """Achieved (every goal reached), missed (after the due date, a goal short) or
        cancelled."""
        plan = self._active_plan(plan_id)
        result = choose(GrowthOutcome, outcome, "outcome", InvalidCustomerField)
        moment = self._moment(
            "at", at, not_before=plan["updated_at"], what="the plan's last update"
        )
        all_met = all(g["progress"] >= g["target"] for g in plan["goals"])
        if result == GrowthOutcome.ACHIEVED and not all_met:
            short = [g["metric"] for g in plan["goals"] if g["progress"] < g["target"]]
            raise GrowthGoalsNotMet(
                f"growth plan {plan['id']} has goals short of their targets: {', '.join(short)}",
                plan_id=plan["id"],
            )
        if result == GrowthOutcome.MISSED and (all_met or business_day(moment) <= plan["due_on"]):
            raise GrowthPlanNotMissed(
                f"growth plan {plan['id']} is missed only after {plan['due_on']} with a goal"
                " short of its target",
                plan_id=plan["id"],
            )
        self._growth_plan_closed(plan_id=plan["id"], outcome=result.value, at=moment)

    @event(GrowthPlanClosed)
    def _growth_plan_closed(self, plan_id: str, outcome: str, at: datetime) -> None:
        plan = self.growth_plans[plan_id]
        plan["status"] = outcome
        plan["closed_at"] = at
        plan["updated_at"] = at

    # -- churn prevention 流失预防 ------------------------------------------------------------

    @property
    def open_prevention_task(self) -> dict[str, Any] | None:
        for task in self.prevention_tasks.values():
            if task["status"] == TaskStatus.OPEN:
                return task
        return None

    def raise_prevention_task(
        self,
        task_id: str,
        reasons: list[str],
        owner: str | None,
        due_on: date,
        at: datetime,
    ) -> None:
        """流失预防措施: a task with the reasons the customer looks at risk, one open at a
        time, due on or after the day raised."""
        tid = _key("task_id", task_id)
        self._check_not_churned("raise a prevention task for")
        if tid in self.prevention_tasks:
            raise DuplicateId(f"prevention task {tid} already exists", field="task_id")
        open_task = self.open_prevention_task
        if open_task is not None:
            raise PreventionTaskOpen(
                f"prevention task {open_task['id']} is still open; complete it first",
                task_id=open_task["id"],
            )
        clean_reasons = _texts("reasons", reasons)
        clean_owner = _optional_text("owner", owner, max_length=100)
        last_day = _calendar_day("due_on", due_on)
        earlier = [t["raised_at"] for t in self.prevention_tasks.values()]
        moment = self._moment(
            "at", at, not_before=max(earlier) if earlier else None, what="the last prevention task"
        )
        if last_day < business_day(moment):
            raise InvalidCustomerField(
                f"a task raised on {business_day(moment)} cannot be due on {last_day}",
                field="due_on",
            )
        self._prevention_task_raised(
            task_id=tid, reasons=clean_reasons, owner=clean_owner, due_on=last_day, at=moment
        )

    @event(PreventionTaskRaised)
    def _prevention_task_raised(
        self, task_id: str, reasons: list[str], owner: str | None, due_on: date, at: datetime
    ) -> None:
        self.prevention_tasks[task_id] = {
            "id": task_id,
            "reasons": list(reasons),
            "owner": owner,
            "due_on": due_on,
            "status": TaskStatus.OPEN.value,
            "raised_at": at,
            "outcome": None,
            "completed_at": None,
        }

    def complete_prevention_task(self, task_id: str, outcome: str, at: datetime) -> None:
        tid = _key("task_id", task_id)
        task = self.prevention_tasks.get(tid)
        if task is None:
            raise UnknownPreventionTask(f"no prevention task {tid} for this customer", task_id=tid)
        if task["status"] == TaskStatus.DONE:
            raise PreventionTaskDone(f"prevention task {tid} is already done", task_id=tid)
        clean_outcome = _clean_text("outcome", outcome, max_length=500)
        moment = self._moment("at", at, not_before=task["raised_at"], what="the task was raised")
        self._prevention_task_completed(task_id=tid, outcome=clean_outcome, at=moment)

    @event(PreventionTaskCompleted)
    def _prevention_task_completed(self, task_id: str, outcome: str, at: datetime) -> None:
        task = self.prevention_tasks[task_id]
        task["status"] = TaskStatus.DONE.value
        task["outcome"] = outcome
        task["completed_at"] = at

    def _check_not_churned(self, action: str) -> None:
        if self.status == CustomerStatus.CHURNED:
            raise CustomerChurned(
                f"cannot {action} a churned customer; win the customer back first",
                current_status=str(self.status),
            )

    # -- relationship breakdown and repair 关系破裂与修复 --------------------------------------

    def _last_relationship_at(self) -> datetime | None:
        return self.relationship_history[-1]["at"] if self.relationship_history else None

    def break_relationship(self, reason: str, at: datetime) -> None:
        """关系破裂, from a healthy relationship."""
        if self.relationship == Relationship.BROKEN:
            raise RelationshipBrokenError(
                "the relationship is already broken; repair it first", relationship="broken"
            )
        clean_reason = _clean_text("reason", reason, max_length=500)
        moment = self._moment(
            "at", at, not_before=self._last_relationship_at(), what="the last repair"
        )
        self._relationship_broken(reason=clean_reason, at=moment)

    @event(RelationshipBroken)
    def _relationship_broken(self, reason: str, at: datetime) -> None:
        self.relationship = Relationship.BROKEN.value
        self.relationship_history.append(
            {"relationship": Relationship.BROKEN.value, "reason": reason, "actions": [], "at": at}
        )

    def repair_relationship(self, actions: list[str], at: datetime) -> None:
        """关系修复 of a broken relationship, with the actions taken."""
        if self.relationship != Relationship.BROKEN:
            raise RelationshipHealthy(
                "the relationship is healthy; there is nothing to repair",
                relationship=self.relationship,
            )
        clean_actions = _texts("actions", actions)
        moment = self._moment(
            "at", at, not_before=self._last_relationship_at(), what="the breakdown"
        )
        self._relationship_repaired(actions=clean_actions, at=moment)

    @event(RelationshipRepaired)
    def _relationship_repaired(self, actions: list[str], at: datetime) -> None:
        self.relationship = Relationship.HEALTHY.value
        self.relationship_history.append(
            {
                "relationship": Relationship.HEALTHY.value,
                "reason": None,
                "actions": list(actions),
                "at": at,
            }
        )


def _basis_text(basis: Basis) -> str:
    """The basis in words, for reasons and refusals."""
    return (
        f"近12个月({basis.window_start}至{basis.window_end})消费 {basis.spend_12m}、"
        f"购买 {basis.purchases_12m} 次、品类 {len(basis.categories)} 个"
    )
