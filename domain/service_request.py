"""Service request 服务请求 — consultation, after-sales, technical support or a value-added
service: received, assigned, responded to, resolved, rated by the customer, closed.

Status (服务请求处理流程)::

    open 已受理 ─respond─▶ responded 已响应 ─resolve─▶ resolved 已处理 ─close─▶ closed 已关闭
      └──────────────resolve──────────────────────────▶ (resolving counts as the first response)
    open / responded ─cancel─▶ cancelled 已取消
    resolved ─rate (once, 1–5)─▶ resolved (the customer's feedback 反馈评价)

It runs on the same SLA engine as complaints (priority instead of severity), with the same
pause while waiting on the customer (``pause`` / ``resume``); a request cannot be resolved
while paused. Breaches found by the scheduler are recorded here once per deadline.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.base import DomainError, KehuAggregate, PersonalData, aware
from domain.complaint import Channel
from domain.guards import Guards
from domain.sla import breach_key, breach_recorded

BREACH_TARGETS = ("response", "resolution")


class RequestType(StrEnum):
    """服务请求类型."""

    CONSULTATION = "consultation"  # 产品咨询
    AFTER_SALES = "after_sales"  # 售后
    TECHNICAL_SUPPORT = "technical_support"  # 技术支持
    VALUE_ADDED = "value_added"  # 增值服务


class Priority(StrEnum):
    """优先级."""

    LOW = "low"  # 低
    MEDIUM = "medium"  # 中
    HIGH = "high"  # 高
    CRITICAL = "critical"  # 紧急


class RequestStatus(StrEnum):
    """服务请求状态."""

    OPEN = "open"  # 已受理
    RESPONDED = "responded"  # 已响应
    RESOLVED = "resolved"  # 已处理
    CLOSED = "closed"  # 已关闭
    CANCELLED = "cancelled"  # 已取消


TYPE_LABELS = {
    RequestType.CONSULTATION: "产品咨询",
    RequestType.AFTER_SALES: "售后",
    RequestType.TECHNICAL_SUPPORT: "技术支持",
    RequestType.VALUE_ADDED: "增值服务",
}
PRIORITY_LABELS = {
    Priority.LOW: "低",
    Priority.MEDIUM: "中",
    Priority.HIGH: "高",
    Priority.CRITICAL: "紧急",
}
STATUS_LABELS = {
    RequestStatus.OPEN: "已受理",
    RequestStatus.RESPONDED: "已响应",
    RequestStatus.RESOLVED: "已处理",
    RequestStatus.CLOSED: "已关闭",
    RequestStatus.CANCELLED: "已取消",
}

#: Statuses in which the request is still being worked on.
OPEN = frozenset({RequestStatus.OPEN, RequestStatus.RESPONDED})
RESOLVED = frozenset({RequestStatus.RESOLVED})
FINISHED = frozenset({RequestStatus.CLOSED, RequestStatus.CANCELLED})


# -- errors ---------------------------------------------------------------------------


class ServiceRequestError(DomainError):
    code = "service_request.error"


class InvalidRequestField(ServiceRequestError):
    code = "service_request.invalid_field"
    kind = "invalid"


class ServiceRequestClosed(ServiceRequestError):
    code = "service_request.already_closed"


class ServiceRequestRefused(ServiceRequestError):
    code = "service_request.transition_refused"


class AlreadyResponded(ServiceRequestError):
    code = "service_request.already_responded"


class AlreadyRated(ServiceRequestError):
    code = "service_request.already_rated"


class RequestPaused(ServiceRequestError):
    code = "service_request.already_paused"


class RequestNotPaused(ServiceRequestError):
    code = "service_request.not_paused"


class RequestBreachRecorded(ServiceRequestError):
    code = "service_request.breach_already_recorded"


class RequestTimeRefused(ServiceRequestError):
    code = "service_request.time_before_previous"
    kind = "invalid"


_check = Guards(InvalidRequestField)
choose = _check.choose
text = _check.text
optional_text = _check.optional_text


class ServiceRequest(KehuAggregate):
    """服务请求: one request of one customer, with every step of its handling."""

    #: State attributes that hold personal data (masked for roles that may not see it).
    PERSONAL_STATE: ClassVar[tuple[str, ...]] = ("description",)

    def data_subject(self, event: object | None = None) -> UUID | None:
        return self.customer_id  # personal data about the customer who raised it

    class Opened(Aggregate.Created):
        """受理."""

        customer_id: UUID
        request_type: str
        channel: str
        priority: str
        description: PersonalData[str]
        received_at: datetime
        vip_tier: str | None

    class Assigned(Aggregate.Event):
        """指派处理人."""

        handler_id: str
        handler_name: str
        section: str

    class Responded(Aggregate.Event):
        """首次响应."""

        at: datetime
        note: str | None

    class Paused(Aggregate.Event):
        """等待客户: the SLA clock stops."""

        reason: str
        at: datetime

    class Resumed(Aggregate.Event):
        at: datetime

    class Resolved(Aggregate.Event):
        """处理完毕."""

        summary: str
        at: datetime

    class FeedbackGiven(Aggregate.Event):
        """反馈评价: the customer's rating 1–5."""

        rating: int
        comment: PersonalData[str | None]
        at: datetime

    class Closed(Aggregate.Event):
        """关闭."""

        at: datetime

    class Cancelled(Aggregate.Event):
        """取消: usually in the customer's own words."""

        reason: PersonalData[str]
        at: datetime

    class SlaBreached(Aggregate.Event):
        """A service-level deadline passed; recorded once per deadline."""

        target: str  # "response" or "resolution"
        due_at: datetime
        detected_at: datetime
        late_by_hours: Decimal

    @event(Opened)
    def __init__(
        self,
        id: UUID,
        customer_id: UUID,
        request_type: str,
        channel: str,
        priority: str,
        description: str,
        received_at: datetime,
        vip_tier: str | None,
    ) -> None:
        self.customer_id = customer_id
        self.request_type = request_type
        self.channel = channel
        self.priority = priority
        self.description = description
        self.received_at = received_at
        self.vip_tier = vip_tier
        self.status = RequestStatus.OPEN
        self.handler: dict[str, str] | None = None
        self.responded_at: datetime | None = None
        self.resolved_at: datetime | None = None
        self.paused_since: datetime | None = None
        self.rating: int | None = None
        self.breaches: list[str] = []

    @classmethod
    def open(
        cls,
        *,
        new_id: UUID,
        customer_id: UUID,
        request_type: str,
        channel: str,
        priority: str,
        description: str,
        received_at: datetime,
        vip_tier: str | None = None,
    ) -> ServiceRequest:
        """受理服务请求: open a request received through a channel at a business time."""
        return cls(
            id=new_id,
            customer_id=customer_id,
            request_type=choose(RequestType, request_type, "request_type").value,
            channel=choose(Channel, channel, "channel").value,
            priority=choose(Priority, priority, "priority").value,
            description=text("description", description, max_length=5000),
            received_at=aware("received_at", received_at),
            vip_tier=optional_text("vip_tier", vip_tier, max_length=40),
        )

    # -- guards ---------------------------------------------------------------------

    def _check_not_finished(self, action: str) -> None:
        if self.status == RequestStatus.CLOSED:
            raise ServiceRequestClosed(f"cannot {action}: the request is closed")
        if self.status == RequestStatus.CANCELLED:
            raise ServiceRequestRefused(
                f"cannot {action}: the request was cancelled", current_status=str(self.status)
            )

    def _check_status(self, action: str, allowed: frozenset[RequestStatus]) -> None:
        self._check_not_finished(action)
        if self.status not in allowed:
            names = ", ".join(sorted(str(s) for s in allowed))
            raise ServiceRequestRefused(
                f"cannot {action} a request that is {self.status}"
                f" ({STATUS_LABELS[RequestStatus(self.status)]}); allowed from: {names}",
                current_status=str(self.status),
            )

    def _check_time(
        self, field: str, at: datetime, *, not_before: datetime | None = None
    ) -> datetime:
        """An aware time, not before the request was received (nor ``not_before``)."""
        aware(field, at)
        if at < self.received_at:
            raise RequestTimeRefused(
                f"{field} ({at.isoformat()}) is before the request was received"
                f" ({self.received_at.isoformat()})",
                field=field,
            )
        if not_before is not None and at < not_before:
            raise RequestTimeRefused(
                f"{field} ({at.isoformat()}) is before {not_before.isoformat()}", field=field
            )
        return at

    def _check_not_paused(self, action: str) -> None:
        if self.paused_since is not None:
            raise ServiceRequestRefused(
                f"cannot {action} while waiting on the customer; resume first"
            )

    # -- handling -------------------------------------------------------------------

    def assign(self, handler_id: str, handler_name: str, section: str = "service") -> None:
        """指派处理人 (服务管理科 by default)."""
        self._check_status("assign", OPEN)
        self._assigned(
            handler_id=text("handler_id", handler_id, max_length=64),
            handler_name=text("handler_name", handler_name, max_length=100),
            section=text("section", section, max_length=40),
        )

    @event(Assigned)
    def _assigned(self, handler_id: str, handler_name: str, section: str) -> None:
        self.handler = {"id": handler_id, "name": handler_name, "section": section}

    def respond(self, at: datetime, note: str | None = None) -> None:
        """首次响应: the first response to the customer, recorded once."""
        self._check_not_finished("respond to")
        if self.responded_at is not None:
            raise AlreadyResponded(
                f"the request was already responded to at {self.responded_at.isoformat()}"
            )
        self._check_status("respond to", OPEN)
        self._responded(
            at=self._check_time("at", at), note=optional_text("note", note, max_length=1000)
        )

    @event(Responded)
    def _responded(self, at: datetime, note: str | None) -> None:
        self.responded_at = at
        self.status = RequestStatus.RESPONDED

    def pause(self, reason: str, at: datetime) -> None:
        """等待客户: stop the service-level clock while waiting on the customer."""
        self._check_status("pause", OPEN)
        if self.paused_since is not None:
            raise RequestPaused("the request is already waiting on the customer")
        self._paused(reason=text("reason", reason, max_length=500), at=self._check_time("at", at))

    @event(Paused)
    def _paused(self, reason: str, at: datetime) -> None:
        self.paused_since = at

    def resume(self, at: datetime) -> None:
        """The customer answered: the service-level clock runs again."""
        self._check_status("resume", OPEN)
        if self.paused_since is None:
            raise RequestNotPaused("the request is not waiting on the customer")
        self._resumed(at=self._check_time("at", at, not_before=self.paused_since))

    @event(Resumed)
    def _resumed(self, at: datetime) -> None:
        self.paused_since = None

    def resolve(self, summary: str, at: datetime) -> None:
        """处理完毕. Resolving counts as the first response if none was recorded."""
        self._check_status("resolve", OPEN)
        self._check_not_paused("resolve")
        self._resolved(
            summary=text("summary", summary, max_length=2000), at=self._check_time("at", at)
        )

    @event(Resolved)
    def _resolved(self, summary: str, at: datetime) -> None:
        self.status = RequestStatus.RESOLVED
        self.resolved_at = at
        if self.responded_at is None:
            self.responded_at = at

    def rate(self, rating: int, at: datetime, comment: str | None = None) -> None:
        """反馈评价: the customer rates the resolved request 1–5, once."""
        self._check_status("rate", RESOLVED)
        if self.rating is not None:
            raise AlreadyRated(f"the request was already rated {self.rating}")
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidRequestField(
                f"rating must be a whole number from 1 to 5, not {rating!r}", field="rating"
            )
        self._feedback_given(
            rating=rating,
            comment=optional_text("comment", comment, max_length=2000),
            at=self._check_time("at", at, not_before=self.resolved_at),
        )

    @event(FeedbackGiven)
    def _feedback_given(self, rating: int, comment: str | None, at: datetime) -> None:
        self.rating = rating

    def close(self, at: datetime) -> None:
        """关闭: after the request was resolved (rated or not)."""
        self._check_status("close", RESOLVED)
        self._closed(at=self._check_time("at", at, not_before=self.resolved_at))

    @event(Closed)
    def _closed(self, at: datetime) -> None:
        self.status = RequestStatus.CLOSED

    def cancel(self, reason: str, at: datetime) -> None:
        """取消: the request is dropped while it is still open."""
        self._check_status("cancel", OPEN)
        self._cancelled(
            reason=text("reason", reason, max_length=500), at=self._check_time("at", at)
        )

    @event(Cancelled)
    def _cancelled(self, reason: str, at: datetime) -> None:
        self.status = RequestStatus.CANCELLED
        self.paused_since = None

    def record_sla_breach(
        self, target: str, due_at: datetime, detected_at: datetime, late_by_hours: Decimal
    ) -> None:
        """违约记录: a deadline passed. Recorded once per (target, deadline)."""
        if target not in BREACH_TARGETS:
            raise InvalidRequestField(
                f"target must be one of {', '.join(BREACH_TARGETS)}, not {target!r}",
                field="target",
            )
        self._check_status("record a breach of", OPEN)
        aware("due_at", due_at)
        if breach_recorded(self.breaches, target, due_at):
            raise RequestBreachRecorded(
                f"the {target} breach due {due_at.isoformat()} is already recorded"
            )
        if (
            not isinstance(late_by_hours, Decimal)
            or not late_by_hours.is_finite()
            or late_by_hours < 0
        ):
            raise InvalidRequestField(
                f"late_by_hours must be a non-negative decimal, not {late_by_hours!r}",
                field="late_by_hours",
            )
        self._sla_breached(
            target=target,
            due_at=due_at,
            detected_at=self._check_time("detected_at", detected_at, not_before=due_at),
            late_by_hours=late_by_hours,
        )

    @event(SlaBreached)
    def _sla_breached(
        self, target: str, due_at: datetime, detected_at: datetime, late_by_hours: Decimal
    ) -> None:
        self.breaches.append(breach_key(target, due_at))
