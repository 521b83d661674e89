"""Complaint 投诉 — received through a channel, classified, assigned, investigated, resolved,
the result and its reasons fed back to the customer, who confirms or reopens.

Status (投诉处理流程)::

    received 已受理 ─acknowledge─▶ acknowledged 已响应 ─investigate─▶ investigating 调查中
        └──────────────────────────────┴──────────resolve──────────────┴─▶ resolved 已处理
    resolved ─communicate result─▶ result_communicated 已反馈 ─confirm─▶ confirmed 已确认 ─close─▶ closed
    result_communicated / confirmed ─reopen (within the window)─▶ reopened 重新处理 ─resolve─▶ …
    any open status ─withdraw─▶ withdrawn 已撤回

Waiting on the customer pauses the service-level clock (``pause`` / ``resume``). The clock
itself is derived from these events by :mod:`domain.sla`, so it can be recomputed as of any
time; breaches found by the scheduler are recorded here once per deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.base import DomainError, KehuAggregate, PersonalData, aware
from domain.guards import Guards
from domain.sla import breach_key, breach_recorded
from domain.values import Money

#: A customer may reopen within this many days of the result being communicated.
REOPEN_WINDOW = timedelta(days=15)
MAX_ESCALATION_LEVEL = 3


class Channel(StrEnum):
    """投诉渠道."""

    PHONE = "phone"  # 电话
    EMAIL = "email"  # 邮箱
    ONLINE = "online"  # 在线客服
    WECHAT = "wechat"  # 微信
    IN_PERSON = "in_person"  # 现场
    LETTER = "letter"  # 信函


class Category(StrEnum):
    """投诉分类."""

    PRODUCT_QUALITY = "product_quality"  # 产品质量
    SERVICE_ATTITUDE = "service_attitude"  # 服务态度
    DELIVERY = "delivery"  # 交付
    BILLING = "billing"  # 账单
    PRIVACY = "privacy"  # 隐私
    OTHER = "other"  # 其他


class Severity(StrEnum):
    """严重程度."""

    LOW = "low"  # 低
    MEDIUM = "medium"  # 中
    HIGH = "high"  # 高
    CRITICAL = "critical"  # 紧急


class ComplaintStatus(StrEnum):
    RECEIVED = "received"  # 已受理
    ACKNOWLEDGED = "acknowledged"  # 已响应
    INVESTIGATING = "investigating"  # 调查中
    RESOLVED = "resolved"  # 已处理
    RESULT_COMMUNICATED = "result_communicated"  # 已反馈
    CONFIRMED = "confirmed"  # 已确认
    REOPENED = "reopened"  # 重新处理
    CLOSED = "closed"  # 已关闭
    WITHDRAWN = "withdrawn"  # 已撤回


CHANNEL_LABELS = {
    Channel.PHONE: "电话",
    Channel.EMAIL: "邮箱",
    Channel.ONLINE: "在线客服",
    Channel.WECHAT: "微信",
    Channel.IN_PERSON: "现场",
    Channel.LETTER: "信函",
}
CATEGORY_LABELS = {
    Category.PRODUCT_QUALITY: "产品质量",
    Category.SERVICE_ATTITUDE: "服务态度",
    Category.DELIVERY: "交付",
    Category.BILLING: "账单",
    Category.PRIVACY: "隐私",
    Category.OTHER: "其他",
}
SEVERITY_LABELS = {
    Severity.LOW: "低",
    Severity.MEDIUM: "中",
    Severity.HIGH: "高",
    Severity.CRITICAL: "紧急",
}
STATUS_LABELS = {
    ComplaintStatus.RECEIVED: "已受理",
    ComplaintStatus.ACKNOWLEDGED: "已响应",
    ComplaintStatus.INVESTIGATING: "调查中",
    ComplaintStatus.RESOLVED: "已处理",
    ComplaintStatus.RESULT_COMMUNICATED: "已反馈",
    ComplaintStatus.CONFIRMED: "已确认",
    ComplaintStatus.REOPENED: "重新处理",
    ComplaintStatus.CLOSED: "已关闭",
    ComplaintStatus.WITHDRAWN: "已撤回",
}

OPEN = frozenset(
    {
        ComplaintStatus.RECEIVED,
        ComplaintStatus.ACKNOWLEDGED,
        ComplaintStatus.INVESTIGATING,
        ComplaintStatus.REOPENED,
    }
)
FINISHED = frozenset({ComplaintStatus.CLOSED, ComplaintStatus.WITHDRAWN})


# -- errors ---------------------------------------------------------------------------


class ComplaintError(DomainError):
    code = "complaint.error"


class InvalidComplaintField(ComplaintError):
    code = "complaint.invalid_field"
    kind = "invalid"


class ComplaintAlreadyClosed(ComplaintError):
    code = "complaint.already_closed"


class ComplaintTransitionRefused(ComplaintError):
    code = "complaint.transition_refused"


class AlreadyAcknowledged(ComplaintError):
    code = "complaint.already_acknowledged"


class ReopenWindowPassed(ComplaintError):
    code = "complaint.reopen_window_passed"


class NotPaused(ComplaintError):
    code = "complaint.not_paused"


class AlreadyPaused(ComplaintError):
    code = "complaint.already_paused"


class EscalationRefused(ComplaintError):
    code = "complaint.escalation_refused"


class BreachAlreadyRecorded(ComplaintError):
    code = "complaint.breach_already_recorded"


class TimeOrderRefused(ComplaintError):
    code = "complaint.time_before_previous"
    kind = "invalid"


_check = Guards(InvalidComplaintField)
choose = _check.choose
text = _check.text
optional_text = _check.optional_text


class Complaint(KehuAggregate):
    """投诉: one complaint of one customer, with every step of its handling."""

    #: State attributes that hold personal data (masked for roles that may not see it).
    PERSONAL_STATE: ClassVar[tuple[str, ...]] = ("description", "remedy_sought")

    def data_subject(self, event: object | None = None) -> UUID | None:
        return self.customer_id  # personal data about the customer who raised it

    class Lodged(Aggregate.Created):
        customer_id: UUID
        channel: str
        category: str
        severity: str
        description: PersonalData[str]
        remedy_sought: PersonalData[str | None]
        received_at: datetime
        vip_tier: str | None

    class Acknowledged(Aggregate.Event):
        """First response 首次响应."""

        at: datetime
        note: str | None

    class Classified(Aggregate.Event):
        category: str
        severity: str
        reason: str | None

    class Assigned(Aggregate.Event):
        handler_id: str
        handler_name: str
        section: str

    class Escalated(Aggregate.Event):
        """升级."""

        level: int
        reason: str
        at: datetime

    class InvestigationRecorded(Aggregate.Event):
        """调查."""

        findings: PersonalData[str]
        at: datetime

    class ResolutionProposed(Aggregate.Event):
        summary: str
        compensation: Money | None

    class Resolved(Aggregate.Event):
        """处理完毕."""

        summary: str
        at: datetime

    class ResultCommunicated(Aggregate.Event):
        """结果反馈: the result and its reasons explained to the customer."""

        explanation: str
        reasons: str
        channel: str
        at: datetime

    class CustomerConfirmed(Aggregate.Event):
        """The customer confirms satisfaction with a rating."""

        rating: int
        comment: PersonalData[str | None]
        at: datetime

    class Reopened(Aggregate.Event):
        reason: PersonalData[str]
        at: datetime

    class Closed(Aggregate.Event):
        at: datetime

    class Withdrawn(Aggregate.Event):
        reason: PersonalData[str]
        at: datetime

    class Paused(Aggregate.Event):
        """Waiting on the customer: the SLA clock stops."""

        reason: str
        at: datetime

    class Resumed(Aggregate.Event):
        at: datetime

    class SlaBreached(Aggregate.Event):
        """A service-level deadline passed; recorded once per deadline."""

        target: str  # "response" or "resolution"
        due_at: datetime
        detected_at: datetime
        late_by_hours: Decimal

    @event(Lodged)
    def __init__(
        self,
        id: UUID,
        customer_id: UUID,
        channel: str,
        category: str,
        severity: str,
        description: str,
        remedy_sought: str | None,
        received_at: datetime,
        vip_tier: str | None,
    ) -> None:
        self.customer_id = customer_id
        self.channel = channel
        self.category = category
        self.severity = severity
        self.description = description
        self.remedy_sought = remedy_sought
        self.received_at = received_at
        self.vip_tier = vip_tier
        self.status = ComplaintStatus.RECEIVED
        self.acknowledged_at: datetime | None = None
        self.resolved_at: datetime | None = None
        self.result_communicated_at: datetime | None = None
        self.handler: dict[str, str] | None = None
        self.escalation_level = 0
        self.paused_since: datetime | None = None
        self.compensation: Money | None = None
        self.rating: int | None = None
        self.breaches: list[str] = []
        self.reopen_count = 0

    @classmethod
    def lodge(
        cls,
        *,
        new_id: UUID,
        customer_id: UUID,
        channel: str,
        category: str,
        severity: str,
        description: str,
        received_at: datetime,
        remedy_sought: str | None = None,
        vip_tier: str | None = None,
    ) -> Complaint:
        """受理投诉: lodge a complaint received through a channel at a business time."""
        return cls(
            id=new_id,
            customer_id=customer_id,
            channel=choose(Channel, channel, "channel").value,
            category=choose(Category, category, "category").value,
            severity=choose(Severity, severity, "severity").value,
            description=text("description", description, max_length=5000),
            remedy_sought=(optional_text("remedy_sought", remedy_sought, max_length=1000)),
            received_at=aware("received_at", received_at),
            vip_tier=optional_text("vip_tier", vip_tier, max_length=40),
        )

    # -- guards ---------------------------------------------------------------------

    def _check_not_finished(self, action: str) -> None:
        if self.status == ComplaintStatus.CLOSED:
            raise ComplaintAlreadyClosed(f"cannot {action}: the complaint is closed")
        if self.status == ComplaintStatus.WITHDRAWN:
            raise ComplaintTransitionRefused(f"cannot {action}: the complaint was withdrawn")

    def _check_status(self, action: str, allowed: frozenset[ComplaintStatus]) -> None:
        self._check_not_finished(action)
        if self.status not in allowed:
            names = ", ".join(sorted(str(s) for s in allowed))
            raise ComplaintTransitionRefused(
                f"cannot {action} a complaint that is {self.status}"
                f" ({STATUS_LABELS[ComplaintStatus(self.status)]}); allowed from: {names}",
                current_status=str(self.status),
            )

    def _check_time(
        self, field: str, at: datetime, *, not_before: datetime | None = None, what: str = ""
    ) -> datetime:
        aware(field, at)
        if at < self.received_at:
            raise TimeOrderRefused(
                f"{field} ({at.isoformat()}) is before the complaint was received"
                f" ({self.received_at.isoformat()})"
            )
        if not_before is not None and at < not_before:
            raise TimeOrderRefused(
                f"{field} ({at.isoformat()}) is before {what} ({not_before.isoformat()})"
            )
        return at

    def _check_not_paused(self, action: str) -> None:
        if self.paused_since is not None:
            raise ComplaintTransitionRefused(
                f"cannot {action} while waiting on the customer; resume first"
            )

    # -- handling -------------------------------------------------------------------

    def acknowledge(self, at: datetime, note: str | None = None) -> None:
        """首次响应: the first response to the customer."""
        self._check_not_finished("acknowledge")
        if self.acknowledged_at is not None:
            raise AlreadyAcknowledged("the complaint was already acknowledged")
        self._acknowledged(
            at=self._check_time("at", at),
            note=optional_text("note", note, max_length=1000),
        )

    @event(Acknowledged)
    def _acknowledged(self, at: datetime, note: str | None) -> None:
        self.acknowledged_at = at
        if self.status == ComplaintStatus.RECEIVED:
            self.status = ComplaintStatus.ACKNOWLEDGED

    def classify(self, category: str, severity: str, reason: str | None = None) -> None:
        """分类 / 重新分类: changing the severity changes the service-level targets."""
        self._check_status("classify", OPEN)
        new_category = choose(Category, category, "category").value
        new_severity = choose(Severity, severity, "severity").value
        if (new_category, new_severity) == (self.category, self.severity):
            return
        self._classified(
            category=new_category,
            severity=new_severity,
            reason=optional_text("reason", reason, max_length=500),
        )

    @event(Classified)
    def _classified(self, category: str, severity: str, reason: str | None) -> None:
        self.category = category
        self.severity = severity

    def assign(self, handler_id: str, handler_name: str, section: str = "complaints") -> None:
        """指派处理人."""
        self._check_not_finished("assign")
        self._assigned(
            handler_id=text("handler_id", handler_id, max_length=64),
            handler_name=text("handler_name", handler_name, max_length=100),
            section=text("section", section, max_length=40),
        )

    @event(Assigned)
    def _assigned(self, handler_id: str, handler_name: str, section: str) -> None:
        self.handler = {"id": handler_id, "name": handler_name, "section": section}

    def escalate(self, reason: str, at: datetime, level: int | None = None) -> None:
        """升级: to the next level (or a given higher one), up to level 3."""
        self._check_status("escalate", OPEN)
        target = self.escalation_level + 1 if level is None else level
        if isinstance(target, bool) or not isinstance(target, int):
            raise InvalidComplaintField(
                f"level must be a whole number, not {level!r}", field="level"
            )
        if target <= self.escalation_level or target > MAX_ESCALATION_LEVEL:
            raise EscalationRefused(
                f"a complaint at escalation level {self.escalation_level} can go to a level"
                f" between {self.escalation_level + 1} and {MAX_ESCALATION_LEVEL}, not {target}"
            )
        self._escalated(
            level=target,
            reason=text("reason", reason, max_length=500),
            at=self._check_time("at", at),
        )

    @event(Escalated)
    def _escalated(self, level: int, reason: str, at: datetime) -> None:
        self.escalation_level = level

    def record_investigation(self, findings: str, at: datetime) -> None:
        """调查: findings of the investigation."""
        self._check_status("record an investigation of", OPEN)
        self._investigation_recorded(
            findings=text("findings", findings, max_length=5000),
            at=self._check_time("at", at),
        )

    @event(InvestigationRecorded)
    def _investigation_recorded(self, findings: str, at: datetime) -> None:
        if self.status in (ComplaintStatus.RECEIVED, ComplaintStatus.ACKNOWLEDGED):
            self.status = ComplaintStatus.INVESTIGATING

    def propose_resolution(self, summary: str, compensation: Money | None = None) -> None:
        """处理方案, with compensation (赔偿) as money."""
        self._check_status("propose a resolution for", OPEN)
        if compensation is not None and not isinstance(compensation, Money):
            raise InvalidComplaintField(
                "compensation must be money with a currency", field="compensation"
            )
        if compensation is not None and compensation.is_negative():
            raise InvalidComplaintField("compensation cannot be negative", field="compensation")
        self._resolution_proposed(
            summary=text("summary", summary, max_length=2000), compensation=compensation
        )

    @event(ResolutionProposed)
    def _resolution_proposed(self, summary: str, compensation: Money | None) -> None:
        self.compensation = compensation

    def resolve(self, summary: str, at: datetime) -> None:
        """处理完毕. Resolving counts as the first response if none was recorded."""
        self._check_status("resolve", OPEN)
        self._check_not_paused("resolve")
        self._resolved(
            summary=text("summary", summary, max_length=2000), at=self._check_time("at", at)
        )

    @event(Resolved)
    def _resolved(self, summary: str, at: datetime) -> None:
        self.status = ComplaintStatus.RESOLVED
        self.resolved_at = at
        if self.acknowledged_at is None:
            self.acknowledged_at = at

    def communicate_result(
        self, explanation: str, reasons: str, channel: str, at: datetime
    ) -> None:
        """结果反馈: tell the customer the result and its reasons."""
        self._check_status("communicate the result of", frozenset({ComplaintStatus.RESOLVED}))
        self._result_communicated(
            explanation=text("explanation", explanation, max_length=2000),
            reasons=text("reasons", reasons, max_length=2000),
            channel=choose(Channel, channel, "channel").value,
            at=self._check_time("at", at, not_before=self.resolved_at, what="the resolution"),
        )

    @event(ResultCommunicated)
    def _result_communicated(
        self, explanation: str, reasons: str, channel: str, at: datetime
    ) -> None:
        self.status = ComplaintStatus.RESULT_COMMUNICATED
        self.result_communicated_at = at

    def confirm(self, rating: int, at: datetime, comment: str | None = None) -> None:
        """The customer confirms satisfaction (满意度确认) with a rating 1–5."""
        self._check_status("confirm", frozenset({ComplaintStatus.RESULT_COMMUNICATED}))
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidComplaintField(f"rating must be 1 to 5, not {rating!r}", field="rating")
        self._customer_confirmed(
            rating=rating,
            comment=optional_text("comment", comment, max_length=2000),
            at=self._check_time("at", at),
        )

    @event(CustomerConfirmed)
    def _customer_confirmed(self, rating: int, comment: str | None, at: datetime) -> None:
        self.status = ComplaintStatus.CONFIRMED
        self.rating = rating

    def reopen(self, reason: str, at: datetime) -> None:
        """重新处理: the customer is not satisfied, within the reopen window."""
        self._check_status(
            "reopen",
            frozenset({ComplaintStatus.RESULT_COMMUNICATED, ComplaintStatus.CONFIRMED}),
        )
        assert self.result_communicated_at is not None
        self._check_time(
            "at", at, not_before=self.result_communicated_at, what="the result was communicated"
        )
        if at > self.result_communicated_at + REOPEN_WINDOW:
            raise ReopenWindowPassed(
                f"a complaint can be reopened within {REOPEN_WINDOW.days} days of the result"
                f" being communicated ({self.result_communicated_at.isoformat()})"
            )
        self._reopened(reason=text("reason", reason, max_length=2000), at=at)

    @event(Reopened)
    def _reopened(self, reason: str, at: datetime) -> None:
        self.status = ComplaintStatus.REOPENED
        self.resolved_at = None
        self.rating = None
        self.reopen_count += 1

    def close(self, at: datetime) -> None:
        """归档关闭: after the result was communicated (and perhaps confirmed)."""
        self._check_status(
            "close",
            frozenset({ComplaintStatus.RESULT_COMMUNICATED, ComplaintStatus.CONFIRMED}),
        )
        self._closed(at=self._check_time("at", at))

    @event(Closed)
    def _closed(self, at: datetime) -> None:
        self.status = ComplaintStatus.CLOSED

    def withdraw(self, reason: str, at: datetime) -> None:
        """撤回: the customer withdraws the complaint."""
        self._check_status("withdraw", OPEN | {ComplaintStatus.RESOLVED})
        self._withdrawn(
            reason=text("reason", reason, max_length=500), at=self._check_time("at", at)
        )

    @event(Withdrawn)
    def _withdrawn(self, reason: str, at: datetime) -> None:
        self.status = ComplaintStatus.WITHDRAWN
        self.paused_since = None

    def pause(self, reason: str, at: datetime) -> None:
        """等待客户: stop the service-level clock while waiting on the customer."""
        self._check_status("pause", OPEN)
        if self.paused_since is not None:
            raise AlreadyPaused("the complaint is already waiting on the customer")
        self._paused(reason=text("reason", reason, max_length=500), at=self._check_time("at", at))

    @event(Paused)
    def _paused(self, reason: str, at: datetime) -> None:
        self.paused_since = at

    def resume(self, at: datetime) -> None:
        self._check_not_finished("resume")
        if self.paused_since is None:
            raise NotPaused("the complaint is not waiting on the customer")
        aware("at", at)
        if at < self.paused_since:
            raise TimeOrderRefused("a complaint cannot resume before it was paused")
        self._resumed(at=at)

    @event(Resumed)
    def _resumed(self, at: datetime) -> None:
        self.paused_since = None

    def record_sla_breach(
        self, target: str, due_at: datetime, detected_at: datetime, late_by_hours: Decimal
    ) -> None:
        """违约记录: a deadline passed. Recorded once per (target, deadline)."""
        if target not in ("response", "resolution"):
            raise InvalidComplaintField("target is response or resolution", field="target")
        self._check_not_finished("record a breach of")
        aware("due_at", due_at)
        if breach_recorded(self.breaches, target, due_at):
            raise BreachAlreadyRecorded(f"the {target} breach due {due_at.isoformat()} is recorded")
        if (
            not isinstance(late_by_hours, Decimal)
            or not late_by_hours.is_finite()
            or late_by_hours < 0
        ):
            raise InvalidComplaintField(
                f"late_by_hours must be a non-negative decimal, not {late_by_hours!r}",
                field="late_by_hours",
            )
        self._sla_breached(
            target=target,
            due_at=due_at,
            detected_at=self._check_time(
                "detected_at", detected_at, not_before=due_at, what="the deadline"
            ),
            late_by_hours=late_by_hours,
        )

    def escalate_for_breach(
        self, target: str, due_at: datetime, detected_at: datetime, late_by_hours: Decimal
    ) -> None:
        """Record a passed deadline and, if the complaint can go higher, escalate it."""
        self.record_sla_breach(target, due_at, detected_at, late_by_hours)
        if self.status in OPEN and self.escalation_level < MAX_ESCALATION_LEVEL:
            label = "首次响应" if target == "response" else "处理"
            self._escalated(
                level=self.escalation_level + 1,
                reason=f"{label}超时 {late_by_hours} 小时 ({target} deadline {due_at.isoformat()} passed)",
                at=detected_at,
            )

    @event(SlaBreached)
    def _sla_breached(
        self, target: str, due_at: datetime, detected_at: datetime, late_by_hours: Decimal
    ) -> None:
        self.breaches.append(breach_key(target, due_at))
