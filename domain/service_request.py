"""Service request 服务请求 — consultation, after-sales, technical support or a value-added
service: received, assigned, responded to, resolved, rated by the customer, closed.

It runs on the same SLA engine as complaints (priority instead of severity), with the same
pause while waiting on the customer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.base import DomainError, KehuAggregate, PersonalData, aware, clean_text
from domain.base import choose as base_choose
from domain.complaint import Channel

E = TypeVar("E", bound=StrEnum)


class RequestType(StrEnum):
    CONSULTATION = "consultation"  # 产品咨询
    AFTER_SALES = "after_sales"  # 售后
    TECHNICAL_SUPPORT = "technical_support"  # 技术支持
    VALUE_ADDED = "value_added"  # 增值服务


class Priority(StrEnum):
    LOW = "low"  # 低
    MEDIUM = "medium"  # 中
    HIGH = "high"  # 高
    CRITICAL = "critical"  # 紧急


class RequestStatus(StrEnum):
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
_OPEN = frozenset({RequestStatus.OPEN, RequestStatus.RESPONDED})


class ServiceRequestError(DomainError):
    code = "service_request.error"


class ServiceRequestRefused(ServiceRequestError):
    code = "service_request.transition_refused"


class ServiceRequestClosed(ServiceRequestError):
    code = "service_request.already_closed"


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


class InvalidRequestField(ServiceRequestError):
    code = "service_request.invalid_field"
    kind = "invalid"


class RequestTimeRefused(ServiceRequestError):
    code = "service_request.time_before_previous"
    kind = "invalid"


def choose(enum: type[E], value: str, field: str) -> E:
    return base_choose(enum, value, field, InvalidRequestField)


def text(field: str, value: str | None, *, max_length: int) -> str:
    return clean_text(field, value, max_length=max_length, error=InvalidRequestField)


class ServiceRequest(KehuAggregate):
    """服务请求: one request of one customer."""

    PERSONAL_STATE: ClassVar[tuple[str, ...]] = ("description",)

    class Opened(Aggregate.Created):
        customer_id: UUID
        request_type: str
        channel: str
        priority: str
        description: PersonalData[str]
        received_at: datetime
        vip_tier: str | None

    class Assigned(Aggregate.Event):
        handler_id: str
        handler_name: str
        section: str

    class Responded(Aggregate.Event):
        at: datetime
        note: str | None

    class Paused(Aggregate.Event):
        reason: str
        at: datetime

    class Resumed(Aggregate.Event):
        at: datetime

    class Resolved(Aggregate.Event):
        summary: str
        at: datetime

    class FeedbackGiven(Aggregate.Event):
        rating: int
        comment: PersonalData[str | None]
        at: datetime

    class Closed(Aggregate.Event):
        at: datetime

    class Cancelled(Aggregate.Event):
        reason: str
        at: datetime

    class SlaBreached(Aggregate.Event):
        target: str
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
        """受理服务请求."""
        return cls(
            id=new_id,
            customer_id=customer_id,
            request_type=choose(RequestType, request_type, "request_type").value,
            channel=choose(Channel, channel, "channel").value,
            priority=choose(Priority, priority, "priority").value,
            description=text("description", description, max_length=5000),
            received_at=aware("received_at", received_at),
            vip_tier=text("vip_tier", vip_tier, max_length=40) if vip_tier else None,
        )

    def _check(self, action: str, allowed: frozenset[RequestStatus]) -> None:
        if self.status == RequestStatus.CLOSED:
            raise ServiceRequestClosed(f"cannot {action}: the request is closed")
        if self.status not in allowed:
            raise ServiceRequestRefused(
                f"cannot {action} a request that is {self.status}"
                f" ({STATUS_LABELS[RequestStatus(self.status)]})",
                current_status=str(self.status),
            )

    def _time(self, field: str, at: datetime) -> datetime:
        aware(field, at)
        if at < self.received_at:
            raise RequestTimeRefused(
                f"{field} ({at.isoformat()}) is before the request was received"
                f" ({self.received_at.isoformat()})"
            )
        return at

    def assign(self, handler_id: str, handler_name: str, section: str = "service") -> None:
        self._check("assign", _OPEN)
        self._assigned(
            handler_id=text("handler_id", handler_id, max_length=64),
            handler_name=text("handler_name", handler_name, max_length=100),
            section=text("section", section, max_length=40),
        )

    @event(Assigned)
    def _assigned(self, handler_id: str, handler_name: str, section: str) -> None:
        self.handler = {"id": handler_id, "name": handler_name, "section": section}

    def respond(self, at: datetime, note: str | None = None) -> None:
        """首次响应."""
        self._check("respond to", _OPEN)
        if self.responded_at is not None:
            raise AlreadyResponded("the request was already responded to")
        self._responded(
            at=self._time("at", at), note=text("note", note, max_length=1000) if note else None
        )

    @event(Responded)
    def _responded(self, at: datetime, note: str | None) -> None:
        self.responded_at = at
        self.status = RequestStatus.RESPONDED

    def pause(self, reason: str, at: datetime) -> None:
        """等待客户: the SLA clock stops."""
        self._check("pause", _OPEN)
        if self.paused_since is not None:
            raise RequestPaused("the request is already waiting on the customer")
        self._paused(reason=text("reason", reason, max_length=500), at=self._time("at", at))

    @event(Paused)
    def _paused(self, reason: str, at: datetime) -> None:
        self.paused_since = at

    def resume(self, at: datetime) -> None:
        self._check("resume", _OPEN)
        if self.paused_since is None:
            raise RequestNotPaused("the request is not waiting on the customer")
        aware("at", at)
        if at < self.paused_since:
            raise RequestTimeRefused("a request cannot resume before it was paused")
        self._resumed(at=at)

    @event(Resumed)
    def _resumed(self, at: datetime) -> None:
        self.paused_since = None

    def resolve(self, summary: str, at: datetime) -> None:
        """处理完毕; counts as the first response if none was recorded."""
        self._check("resolve", _OPEN)
        if self.paused_since is not None:
            raise ServiceRequestRefused(
                "cannot resolve while waiting on the customer; resume first"
            )
        self._resolved(summary=text("summary", summary, max_length=2000), at=self._time("at", at))

    @event(Resolved)
    def _resolved(self, summary: str, at: datetime) -> None:
        self.status = RequestStatus.RESOLVED
        self.resolved_at = at
        if self.responded_at is None:
            self.responded_at = at

    def rate(self, rating: int, at: datetime, comment: str | None = None) -> None:
        """The customer's feedback (反馈评价), 1–5, once."""
        self._check("rate", frozenset({RequestStatus.RESOLVED}))
        if self.rating is not None:
            raise AlreadyRated("the request was already rated")
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidRequestField(f"rating must be 1 to 5, not {rating!r}", field="rating")
        self._feedback_given(
            rating=rating,
            comment=text("comment", comment, max_length=2000) if comment else None,
            at=self._time("at", at),
        )

    @event(FeedbackGiven)
    def _feedback_given(self, rating: int, comment: str | None, at: datetime) -> None:
        self.rating = rating

    def close(self, at: datetime) -> None:
        self._check("close", frozenset({RequestStatus.RESOLVED}))
        self._closed(at=self._time("at", at))

    @event(Closed)
    def _closed(self, at: datetime) -> None:
        self.status = RequestStatus.CLOSED

    def cancel(self, reason: str, at: datetime) -> None:
        self._check("cancel", _OPEN)
        self._cancelled(reason=text("reason", reason, max_length=500), at=self._time("at", at))

    @event(Cancelled)
    def _cancelled(self, reason: str, at: datetime) -> None:
        self.status = RequestStatus.CANCELLED
        self.paused_since = None

    def record_sla_breach(
        self, target: str, due_at: datetime, detected_at: datetime, late_by_hours: Decimal
    ) -> None:
        """A deadline passed: recorded once per (target, deadline)."""
        if target not in ("response", "resolution"):
            raise InvalidRequestField("target is response or resolution", field="target")
        key = f"{target}@{aware('due_at', due_at).isoformat()}"
        if key in self.breaches:
            raise RequestBreachRecorded(f"the {target} breach due {due_at.isoformat()} is recorded")
        self._check("record a breach of", _OPEN)
        self._sla_breached(
            target=target,
            due_at=due_at,
            detected_at=aware("detected_at", detected_at),
            late_by_hours=late_by_hours,
        )

    @event(SlaBreached)
    def _sla_breached(
        self, target: str, due_at: datetime, detected_at: datetime, late_by_hours: Decimal
    ) -> None:
        self.breaches.append(f"{target}@{due_at.isoformat()}")
