"""Service request 服务请求: every path of its handling, as events and state, without a database."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError, personal_fields
from domain.complaint import Channel
from domain.service_request import (
    PRIORITY_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    Priority,
    RequestStatus,
    RequestType,
    ServiceRequest,
)

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
REQUEST_ID = UUID("00000000-0000-4000-8000-000000000002")
CUSTOMER_ID = UUID("00000000-0000-4000-8000-0000000000c2")
RECEIVED = datetime(2025, 10, 9, 9, tzinfo=SH)
BEFORE_RECEIVED = RECEIVED - timedelta(seconds=1)


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, 10, day, hour, minute, tzinfo=SH)


def open_request(**overrides: Any) -> ServiceRequest:
    fields: dict[str, Any] = {
        "new_id": REQUEST_ID,
        "customer_id": CUSTOMER_ID,
        "request_type": "after_sales",
        "channel": "online",
        "priority": "medium",
        "description": "洗衣机不脱水, 地址 上海市徐汇区",
        "received_at": RECEIVED,
    } | overrides
    return ServiceRequest.open(**fields)


def opened() -> ServiceRequest:
    """An open request whose Opened event was already collected."""
    r = open_request()
    r.collect_events()
    return r


def responded() -> ServiceRequest:
    r = opened()
    r.respond(at(9, 10))
    r.collect_events()
    return r


def paused() -> ServiceRequest:
    r = responded()
    r.pause("等待客户提供型号", at(9, 11))
    r.collect_events()
    return r


def resolved() -> ServiceRequest:
    r = responded()
    r.resolve("上门维修", at(10))
    r.collect_events()
    return r


def rated() -> ServiceRequest:
    r = resolved()
    r.rate(5, at(10, 12))
    r.collect_events()
    return r


def closed() -> ServiceRequest:
    r = resolved()
    r.close(at(10, 13))
    r.collect_events()
    return r


def cancelled() -> ServiceRequest:
    r = opened()
    r.cancel("客户自行解决", at(9, 11))
    r.collect_events()
    return r


def names(events: Sequence[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def replay(events: Sequence[Any]) -> Any:
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def refused(aggregate: Any, code: str, command: Callable[[], object]) -> DomainError:
    """The command is refused with ``code`` and leaves neither events nor state behind."""
    before = copy.deepcopy(state(aggregate))
    pending = list(aggregate.pending_events)
    with pytest.raises(DomainError) as error:
        command()
    assert error.value.code == code, error.value.message
    assert list(aggregate.pending_events) == pending == []
    assert state(aggregate) == before
    return error.value


# -- opening ------------------------------------------------------------------------------


def test_opening_a_request_emits_opened_with_its_type_and_priority() -> None:
    r = open_request(vip_tier=" gold ")
    [opened_event] = r.collect_events()
    assert isinstance(opened_event, ServiceRequest.Opened)
    assert opened_event.originator_id == REQUEST_ID
    assert opened_event.originator_version == 1
    assert opened_event.customer_id == CUSTOMER_ID
    assert (opened_event.request_type, opened_event.channel, opened_event.priority) == (
        "after_sales",
        "online",
        "medium",
    )
    assert opened_event.description == "洗衣机不脱水, 地址 上海市徐汇区"
    assert opened_event.received_at == RECEIVED
    assert opened_event.vip_tier == "gold"
    assert r.id == REQUEST_ID
    assert r.status == RequestStatus.OPEN
    assert STATUS_LABELS[r.status] == "已受理"
    assert TYPE_LABELS[RequestType(r.request_type)] == "售后"
    assert PRIORITY_LABELS[Priority(r.priority)] == "中"
    assert r.handler is None
    assert r.responded_at is None
    assert r.resolved_at is None
    assert r.paused_since is None
    assert r.rating is None
    assert r.breaches == []


@pytest.mark.parametrize("vip_tier", [None, "", "   "])
def test_opening_without_a_vip_tier_keeps_it_empty(vip_tier: str | None) -> None:
    [opened_event] = open_request(vip_tier=vip_tier, description=" 咨询  套餐 ").collect_events()
    assert opened_event.vip_tier is None
    assert opened_event.description == "咨询 套餐"


@pytest.mark.parametrize("request_type", [t.value for t in RequestType])
def test_every_request_type_can_be_opened(request_type: str) -> None:
    assert open_request(request_type=request_type).request_type == request_type


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("request_type", "repair", "consultation, after_sales, technical_support, value_added"),
        ("channel", "fax", "phone, email, online, wechat, in_person, letter"),
        ("priority", "urgent", "low, medium, high, critical"),
    ],
)
def test_opening_with_an_unknown_choice_is_refused_listing_the_allowed_values(
    field: str, value: str, allowed: str
) -> None:
    with pytest.raises(DomainError) as error:
        open_request(**{field: value})
    assert error.value.code == "service_request.invalid_field"
    assert error.value.kind == "invalid"
    assert error.value.details == {"field": field}
    assert allowed in error.value.message
    assert repr(value) in error.value.message


@pytest.mark.parametrize("description", ["", "   ", "x" * 5001, None, 42])
def test_opening_without_a_usable_description_is_refused(description: object) -> None:
    with pytest.raises(DomainError) as error:
        open_request(description=description)
    assert error.value.code == "service_request.invalid_field"
    assert error.value.details == {"field": "description"}


def test_opening_with_a_vip_tier_too_long_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        open_request(vip_tier="x" * 41)
    assert error.value.code == "service_request.invalid_field"


def test_opening_with_a_naive_received_time_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        open_request(received_at=datetime(2025, 10, 9, 9))
    assert error.value.code == "validation.invalid_value"
    assert error.value.details == {"field": "received_at"}


def test_every_choice_has_a_chinese_label() -> None:
    assert TYPE_LABELS == {
        RequestType.CONSULTATION: "产品咨询",
        RequestType.AFTER_SALES: "售后",
        RequestType.TECHNICAL_SUPPORT: "技术支持",
        RequestType.VALUE_ADDED: "增值服务",
    }
    assert PRIORITY_LABELS == {
        Priority.LOW: "低",
        Priority.MEDIUM: "中",
        Priority.HIGH: "高",
        Priority.CRITICAL: "紧急",
    }
    assert STATUS_LABELS == {
        RequestStatus.OPEN: "已受理",
        RequestStatus.RESPONDED: "已响应",
        RequestStatus.RESOLVED: "已处理",
        RequestStatus.CLOSED: "已关闭",
        RequestStatus.CANCELLED: "已取消",
    }


def test_the_channel_is_the_complaint_channel() -> None:
    for channel in Channel:
        assert open_request(channel=channel.value).channel == channel.value


# -- the happy path -----------------------------------------------------------------------


def test_a_request_is_opened_assigned_answered_resolved_rated_and_closed() -> None:
    r = open_request()
    r.assign("s01", "周杰")
    r.respond(at(9, 10), "已电话联系")
    r.pause("等待客户提供型号", at(9, 11))
    r.resume(at(10, 9))
    r.resolve("上门更换皮带", at(10, 15))
    r.rate(5, at(10, 16), "  师傅 很专业 ")
    r.close(at(10, 17))
    events = r.collect_events()
    assert names(events) == [
        "Opened",
        "Assigned",
        "Responded",
        "Paused",
        "Resumed",
        "Resolved",
        "FeedbackGiven",
        "Closed",
    ]
    assert [e.originator_version for e in events] == list(range(1, 9))
    _, assigned, answered, paused_event, resumed, resolved_event, feedback, closed_event = events
    assert (assigned.handler_id, assigned.handler_name, assigned.section) == (
        "s01",
        "周杰",
        "service",
    )
    assert (answered.at, answered.note) == (at(9, 10), "已电话联系")
    assert (paused_event.reason, paused_event.at) == ("等待客户提供型号", at(9, 11))
    assert resumed.at == at(10, 9)
    assert (resolved_event.summary, resolved_event.at) == ("上门更换皮带", at(10, 15))
    assert (feedback.rating, feedback.comment, feedback.at) == (5, "师傅 很专业", at(10, 16))
    assert closed_event.at == at(10, 17)

    assert r.status == RequestStatus.CLOSED
    assert r.handler == {"id": "s01", "name": "周杰", "section": "service"}
    assert r.responded_at == at(9, 10)
    assert r.resolved_at == at(10, 15)
    assert r.paused_since is None
    assert r.rating == 5
    assert r.version == 8
    assert state(replay(events)) == state(r)


def test_each_step_moves_the_status() -> None:
    r = open_request()
    seen = [r.status]
    r.respond(at(9, 10))
    seen.append(r.status)
    r.resolve("已解答", at(9, 11))
    seen.append(r.status)
    r.rate(4, at(9, 12))
    seen.append(r.status)
    r.close(at(9, 13))
    seen.append(r.status)
    assert [STATUS_LABELS[s] for s in seen] == ["已受理", "已响应", "已处理", "已处理", "已关闭"]


def test_assigning_uses_the_service_section_by_default_and_can_be_changed() -> None:
    r = opened()
    r.assign("s01", "周杰")
    r.assign("s02", " 王  芳 ", section="technical")
    first, second = r.collect_events()
    assert first.section == "service"
    assert (second.handler_id, second.handler_name, second.section) == (
        "s02",
        "王 芳",
        "technical",
    )
    assert r.handler == {"id": "s02", "name": "王 芳", "section": "technical"}


def test_a_responded_request_can_be_assigned() -> None:
    r = responded()
    r.assign("s01", "周杰")
    assert names(r.collect_events()) == ["Assigned"]


@pytest.mark.parametrize(
    ("handler_id", "handler_name", "section"),
    [
        ("", "周杰", "service"),
        ("s01", "   ", "service"),
        ("s01", "周杰", ""),
        ("x" * 65, "周杰", "s"),
    ],
)
def test_assigning_without_a_usable_handler_is_refused(
    handler_id: str, handler_name: str, section: str
) -> None:
    r = opened()
    refused(
        r,
        "service_request.invalid_field",
        lambda: r.assign(handler_id, handler_name, section),
    )


def test_assigning_a_resolved_request_is_refused() -> None:
    r = resolved()
    error = refused(r, "service_request.transition_refused", lambda: r.assign("s01", "周杰"))
    assert error.details == {"current_status": "resolved"}
    assert "已处理" in error.message
    assert "allowed from: open, responded" in error.message


# -- the first response -------------------------------------------------------------------


def test_responding_records_the_first_response() -> None:
    r = opened()
    r.respond(at(9, 10))
    [answered] = r.collect_events()
    assert isinstance(answered, ServiceRequest.Responded)
    assert (answered.at, answered.note) == (at(9, 10), None)
    assert r.responded_at == at(9, 10)
    assert r.status == RequestStatus.RESPONDED


def test_a_blank_note_is_no_note() -> None:
    r = opened()
    r.respond(at(9, 10), "   ")
    [answered] = r.collect_events()
    assert answered.note is None


def test_responding_twice_is_refused() -> None:
    r = responded()
    error = refused(r, "service_request.already_responded", lambda: r.respond(at(9, 11)))
    assert error.kind == "conflict"


def test_resolving_an_unanswered_request_counts_as_its_first_response() -> None:
    r = opened()
    r.resolve("当场解答", at(9, 10))
    [resolved_event] = r.collect_events()
    assert isinstance(resolved_event, ServiceRequest.Resolved)
    assert r.responded_at == at(9, 10)
    assert r.resolved_at == at(9, 10)
    assert r.status == RequestStatus.RESOLVED
    refused(r, "service_request.already_responded", lambda: r.respond(at(9, 11)))


def test_resolving_keeps_an_earlier_first_response() -> None:
    r = responded()
    r.resolve("上门维修", at(10))
    assert r.responded_at == at(9, 10)


def test_responding_while_paused_is_allowed() -> None:
    r = opened()
    r.pause("等待客户", at(9, 10))
    r.respond(at(9, 11))
    assert names(r.collect_events()) == ["Paused", "Responded"]
    assert r.paused_since == at(9, 10)


def test_responding_to_a_cancelled_request_is_refused() -> None:
    r = cancelled()
    error = refused(r, "service_request.transition_refused", lambda: r.respond(at(9, 12)))
    assert "cancelled" in error.message


def test_responding_with_a_note_too_long_is_refused() -> None:
    r = opened()
    refused(r, "service_request.invalid_field", lambda: r.respond(at(9, 10), "x" * 1001))


# -- waiting on the customer --------------------------------------------------------------


def test_pausing_stops_the_clock_and_resuming_starts_it() -> None:
    r = responded()
    r.pause("等待客户提供型号", at(9, 11))
    assert r.paused_since == at(9, 11)
    r.resume(at(10, 9))
    assert r.paused_since is None
    paused_event, resumed = r.collect_events()
    assert isinstance(paused_event, ServiceRequest.Paused)
    assert (paused_event.reason, paused_event.at) == ("等待客户提供型号", at(9, 11))
    assert isinstance(resumed, ServiceRequest.Resumed)
    assert resumed.at == at(10, 9)
    assert r.status == RequestStatus.RESPONDED


def test_pausing_twice_is_refused() -> None:
    r = paused()
    refused(r, "service_request.already_paused", lambda: r.pause("again", at(9, 12)))


def test_resuming_a_request_that_is_not_paused_is_refused() -> None:
    r = responded()
    refused(r, "service_request.not_paused", lambda: r.resume(at(9, 12)))


def test_resuming_before_the_pause_began_is_refused() -> None:
    r = paused()
    error = refused(r, "service_request.time_before_previous", lambda: r.resume(at(9, 10, 30)))
    assert error.kind == "invalid"


def test_resuming_at_the_moment_of_pausing_is_allowed() -> None:
    r = paused()
    r.resume(at(9, 11))
    assert r.paused_since is None


def test_resolving_while_paused_is_refused_until_resumed() -> None:
    r = paused()
    error = refused(r, "service_request.transition_refused", lambda: r.resolve("x", at(9, 12)))
    assert "resume first" in error.message
    r.resume(at(10))
    r.resolve("已解决", at(10, 11))
    assert names(r.collect_events()) == ["Resumed", "Resolved"]
    assert r.status == RequestStatus.RESOLVED


def test_a_request_can_pause_again_after_resuming() -> None:
    r = paused()
    r.resume(at(10))
    r.pause("再次等待客户", at(10, 11))
    assert r.paused_since == at(10, 11)
    assert names(r.collect_events()) == ["Resumed", "Paused"]


def test_pausing_a_resolved_request_is_refused() -> None:
    r = resolved()
    refused(r, "service_request.transition_refused", lambda: r.pause("x", at(10, 11)))


def test_pausing_without_a_reason_is_refused() -> None:
    r = responded()
    refused(r, "service_request.invalid_field", lambda: r.pause("  ", at(9, 11)))


# -- resolving ----------------------------------------------------------------------------


def test_resolving_twice_is_refused() -> None:
    r = resolved()
    refused(r, "service_request.transition_refused", lambda: r.resolve("again", at(10, 11)))


def test_resolving_without_a_summary_is_refused() -> None:
    r = responded()
    refused(r, "service_request.invalid_field", lambda: r.resolve("", at(10)))


# -- feedback -----------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_the_customer_rates_a_resolved_request_from_one_to_five(rating: int) -> None:
    r = resolved()
    r.rate(rating, at(10, 12))
    [feedback] = r.collect_events()
    assert isinstance(feedback, ServiceRequest.FeedbackGiven)
    assert (feedback.rating, feedback.comment, feedback.at) == (rating, None, at(10, 12))
    assert r.rating == rating
    assert r.status == RequestStatus.RESOLVED


@pytest.mark.parametrize("rating", [0, 6, -1, True, False, 4.5, "5", None])
def test_a_rating_outside_one_to_five_or_a_bool_is_refused(rating: Any) -> None:
    r = resolved()
    error = refused(r, "service_request.invalid_field", lambda: r.rate(rating, at(10, 12)))
    assert error.details == {"field": "rating"}
    assert repr(rating) in error.message


def test_rating_before_the_request_is_resolved_is_refused() -> None:
    for r in (opened(), responded()):
        refused(r, "service_request.transition_refused", lambda r=r: r.rate(5, at(10, 12)))


def test_rating_twice_is_refused() -> None:
    r = rated()
    error = refused(r, "service_request.already_rated", lambda: r.rate(4, at(10, 13)))
    assert error.kind == "conflict"


def test_rating_a_closed_request_is_refused() -> None:
    r = closed()
    refused(r, "service_request.already_closed", lambda: r.rate(5, at(11)))


def test_rating_before_the_resolution_time_is_refused() -> None:
    r = resolved()
    refused(r, "service_request.time_before_previous", lambda: r.rate(5, at(9, 12)))


# -- closing ------------------------------------------------------------------------------


def test_a_resolved_request_can_be_closed_without_a_rating() -> None:
    r = resolved()
    r.close(at(11))
    [closed_event] = r.collect_events()
    assert isinstance(closed_event, ServiceRequest.Closed)
    assert closed_event.at == at(11)
    assert r.status == RequestStatus.CLOSED
    assert r.rating is None


def test_a_rated_request_can_be_closed() -> None:
    r = rated()
    r.close(at(11))
    assert r.status == RequestStatus.CLOSED
    assert r.rating == 5


def test_closing_an_unresolved_request_is_refused() -> None:
    for r in (opened(), responded()):
        error = refused(r, "service_request.transition_refused", lambda r=r: r.close(at(11)))
        assert "allowed from: resolved" in error.message


def test_closing_before_the_resolution_time_is_refused() -> None:
    r = resolved()
    refused(r, "service_request.time_before_previous", lambda: r.close(at(9, 12)))


def test_closing_twice_is_refused() -> None:
    r = closed()
    refused(r, "service_request.already_closed", lambda: r.close(at(11)))


@pytest.mark.parametrize(
    "command",
    [
        lambda r: r.assign("s01", "周杰"),
        lambda r: r.respond(at(11)),
        lambda r: r.pause("x", at(11)),
        lambda r: r.resume(at(11)),
        lambda r: r.resolve("x", at(11)),
        lambda r: r.rate(5, at(11)),
        lambda r: r.close(at(11)),
        lambda r: r.cancel("x", at(11)),
        lambda r: r.record_sla_breach("resolution", at(10, 17), at(11), Decimal(1)),
    ],
)
def test_a_closed_request_refuses_further_work(
    command: Callable[[ServiceRequest], None],
) -> None:
    r = closed()
    error = refused(r, "service_request.already_closed", lambda: command(r))
    assert "closed" in error.message


# -- cancelling ---------------------------------------------------------------------------


def test_cancelling_an_open_request() -> None:
    r = opened()
    r.cancel("客户自行解决", at(9, 11))
    [cancelled_event] = r.collect_events()
    assert isinstance(cancelled_event, ServiceRequest.Cancelled)
    assert (cancelled_event.reason, cancelled_event.at) == ("客户自行解决", at(9, 11))
    assert r.status == RequestStatus.CANCELLED
    assert STATUS_LABELS[r.status] == "已取消"


def test_cancelling_a_responded_request() -> None:
    r = responded()
    r.cancel("重复提交", at(9, 11))
    assert r.status == RequestStatus.CANCELLED


def test_cancelling_a_paused_request_ends_the_pause() -> None:
    r = paused()
    r.cancel("客户不再需要", at(9, 12))
    assert r.paused_since is None
    assert r.status == RequestStatus.CANCELLED


def test_cancelling_a_resolved_request_is_refused() -> None:
    r = resolved()
    refused(r, "service_request.transition_refused", lambda: r.cancel("x", at(11)))


def test_cancelling_without_a_reason_is_refused() -> None:
    r = opened()
    refused(r, "service_request.invalid_field", lambda: r.cancel("", at(9, 11)))


@pytest.mark.parametrize(
    "command",
    [
        lambda r: r.assign("s01", "周杰"),
        lambda r: r.respond(at(9, 12)),
        lambda r: r.pause("x", at(9, 12)),
        lambda r: r.resume(at(9, 12)),
        lambda r: r.resolve("x", at(9, 12)),
        lambda r: r.rate(5, at(9, 12)),
        lambda r: r.close(at(9, 12)),
        lambda r: r.cancel("again", at(9, 12)),
        lambda r: r.record_sla_breach("response", at(9, 10), at(9, 12), Decimal(1)),
    ],
)
def test_a_cancelled_request_refuses_further_work(
    command: Callable[[ServiceRequest], None],
) -> None:
    r = cancelled()
    error = refused(r, "service_request.transition_refused", lambda: command(r))
    assert error.details == {"current_status": "cancelled"}


# -- breaches -----------------------------------------------------------------------------


def test_a_breach_is_recorded_once_per_deadline() -> None:
    r = opened()
    r.record_sla_breach("response", at(9, 17), at(9, 18), Decimal("1.25"))
    [breached] = r.collect_events()
    assert isinstance(breached, ServiceRequest.SlaBreached)
    assert (breached.target, breached.due_at, breached.detected_at, breached.late_by_hours) == (
        "response",
        at(9, 17),
        at(9, 18),
        Decimal("1.25"),
    )
    error = refused(
        r,
        "service_request.breach_already_recorded",
        lambda: r.record_sla_breach("response", at(9, 17), at(9, 19), Decimal(2)),
    )
    assert error.kind == "conflict"
    r.record_sla_breach("resolution", at(9, 17), at(9, 19), Decimal(2))
    r.record_sla_breach("response", at(10, 17), at(10, 18), Decimal(1))
    assert names(r.collect_events()) == ["SlaBreached", "SlaBreached"]
    assert r.breaches == [
        f"response@{at(9, 17).isoformat()}",
        f"resolution@{at(9, 17).isoformat()}",
        f"response@{at(10, 17).isoformat()}",
    ]


def test_the_same_deadline_in_another_offset_is_the_same_breach() -> None:
    r = opened()
    r.record_sla_breach("response", at(9, 17), at(9, 18), Decimal(1))
    r.collect_events()
    in_utc = datetime(2025, 10, 9, 9, tzinfo=UTC)
    assert in_utc == at(9, 17)
    refused(
        r,
        "service_request.breach_already_recorded",
        lambda: r.record_sla_breach("response", in_utc, at(9, 19), Decimal(2)),
    )


def test_a_breach_while_paused_is_recorded() -> None:
    r = paused()
    r.record_sla_breach("resolution", at(9, 11, 30), at(9, 12), Decimal("0.5"))
    assert names(r.collect_events()) == ["SlaBreached"]
    assert r.paused_since == at(9, 11)


def test_a_breach_of_an_unknown_target_is_refused() -> None:
    r = opened()
    error = refused(
        r,
        "service_request.invalid_field",
        lambda: r.record_sla_breach("lunch", at(9, 17), at(9, 18), Decimal(1)),
    )
    assert error.details == {"field": "target"}
    assert "response, resolution" in error.message


@pytest.mark.parametrize(
    "late_by_hours", [Decimal(-1), Decimal("NaN"), Decimal("Infinity"), 1.5, 1, "1"]
)
def test_a_breach_late_by_a_negative_or_non_decimal_amount_is_refused(late_by_hours: Any) -> None:
    r = opened()
    error = refused(
        r,
        "service_request.invalid_field",
        lambda: r.record_sla_breach("response", at(9, 17), at(9, 18), late_by_hours),
    )
    assert error.details == {"field": "late_by_hours"}


def test_a_breach_detected_before_its_deadline_is_refused() -> None:
    r = opened()
    refused(
        r,
        "service_request.time_before_previous",
        lambda: r.record_sla_breach("response", at(9, 17), at(9, 16), Decimal(1)),
    )


def test_a_breach_detected_before_the_request_was_received_is_refused() -> None:
    r = opened()
    refused(
        r,
        "service_request.time_before_previous",
        lambda: r.record_sla_breach("response", at(8, 17), at(8, 18), Decimal(1)),
    )


@pytest.mark.parametrize("field", ["due_at", "detected_at"])
def test_a_breach_with_a_naive_time_is_refused(field: str) -> None:
    r = opened()
    times = {"due_at": at(9, 17), "detected_at": at(9, 18)} | {field: datetime(2025, 10, 9, 17)}
    error = refused(
        r,
        "validation.invalid_value",
        lambda: r.record_sla_breach("response", late_by_hours=Decimal(1), **times),
    )
    assert error.details == {"field": field}


def test_a_breach_of_a_resolved_request_is_refused() -> None:
    r = resolved()
    refused(
        r,
        "service_request.transition_refused",
        lambda: r.record_sla_breach("resolution", at(9, 17), at(10, 11), Decimal(1)),
    )


# -- business times -----------------------------------------------------------------------

TIMED_COMMANDS: list[
    tuple[str, Callable[[], ServiceRequest], Callable[[ServiceRequest, datetime], None]]
] = [
    ("respond", opened, lambda r, t: r.respond(t)),
    ("pause", opened, lambda r, t: r.pause("x", t)),
    ("resolve", opened, lambda r, t: r.resolve("x", t)),
    ("cancel", opened, lambda r, t: r.cancel("x", t)),
    ("resume", paused, lambda r, t: r.resume(t)),
    ("rate", resolved, lambda r, t: r.rate(5, t)),
    ("close", resolved, lambda r, t: r.close(t)),
]


@pytest.mark.parametrize(
    ("setup", "command"), [t[1:] for t in TIMED_COMMANDS], ids=[t[0] for t in TIMED_COMMANDS]
)
def test_a_time_before_the_request_was_received_is_refused(
    setup: Callable[[], ServiceRequest], command: Callable[[ServiceRequest, datetime], None]
) -> None:
    r = setup()
    error = refused(r, "service_request.time_before_previous", lambda: command(r, BEFORE_RECEIVED))
    assert error.kind == "invalid"
    assert error.details == {"field": "at"}


@pytest.mark.parametrize(
    ("setup", "command"), [t[1:] for t in TIMED_COMMANDS], ids=[t[0] for t in TIMED_COMMANDS]
)
def test_a_naive_time_is_refused(
    setup: Callable[[], ServiceRequest], command: Callable[[ServiceRequest, datetime], None]
) -> None:
    r = setup()
    error = refused(r, "validation.invalid_value", lambda: command(r, datetime(2025, 10, 11)))
    assert error.details == {"field": "at"}


@pytest.mark.parametrize(
    "command",
    [t[2] for t in TIMED_COMMANDS if t[1] is opened],
    ids=[t[0] for t in TIMED_COMMANDS if t[1] is opened],
)
def test_the_moment_of_receipt_itself_is_accepted(
    command: Callable[[ServiceRequest, datetime], None],
) -> None:
    r = opened()
    command(r, RECEIVED)
    assert len(r.collect_events()) == 1


def test_a_time_in_another_offset_is_compared_as_an_instant() -> None:
    r = opened()
    r.respond(datetime(2025, 10, 9, 1, tzinfo=UTC))
    assert r.responded_at == RECEIVED
    r.collect_events()
    refused(
        r,
        "service_request.time_before_previous",
        lambda: r.pause("x", datetime(2025, 10, 9, 0, 59, tzinfo=UTC)),
    )


# -- personal data ------------------------------------------------------------------------


def test_free_text_from_or_about_the_customer_is_marked_personal() -> None:
    assert personal_fields(ServiceRequest.Opened) == {"description"}
    assert personal_fields(ServiceRequest.FeedbackGiven) == {"comment"}
    assert personal_fields(ServiceRequest.Cancelled) == {"reason"}
    assert personal_fields(ServiceRequest.Assigned) == frozenset()
    assert personal_fields(ServiceRequest.SlaBreached) == frozenset()
    assert ServiceRequest.PERSONAL_STATE == ("description",)


def test_the_event_names_are_listed() -> None:
    assert set(ServiceRequest.event_names()) >= {
        "ServiceRequest.Opened",
        "ServiceRequest.Assigned",
        "ServiceRequest.Responded",
        "ServiceRequest.Paused",
        "ServiceRequest.Resumed",
        "ServiceRequest.Resolved",
        "ServiceRequest.FeedbackGiven",
        "ServiceRequest.Closed",
        "ServiceRequest.Cancelled",
        "ServiceRequest.SlaBreached",
    }


# -- replay -------------------------------------------------------------------------------


def test_replaying_the_events_reproduces_the_state() -> None:
    r = open_request(vip_tier="platinum", priority="critical")
    r.assign("s01", "周杰")
    r.record_sla_breach("response", at(9, 9, 30), at(9, 9, 45), Decimal("0.25"))
    r.respond(at(9, 10))
    r.pause("等待客户", at(9, 11))
    r.resume(at(10))
    r.assign("s02", "王芳", section="technical")
    r.resolve("远程修复", at(10, 11))
    r.rate(3, at(10, 12), "有点慢")
    r.close(at(10, 13))
    events = r.collect_events()
    assert len(events) == r.version == 10

    rebuilt = replay(events)
    assert isinstance(rebuilt, ServiceRequest)
    assert state(rebuilt) == state(r)
    assert rebuilt.status == RequestStatus.CLOSED
    assert rebuilt.handler == {"id": "s02", "name": "王芳", "section": "technical"}
    assert rebuilt.breaches == [f"response@{at(9, 9, 30).isoformat()}"]
    assert rebuilt.rating == 3


def test_replaying_a_cancelled_request_reproduces_it() -> None:
    r = open_request()
    r.pause("等待客户", at(9, 10))
    r.cancel("客户取消", at(9, 11))
    events = r.collect_events()
    rebuilt = replay(events)
    assert state(rebuilt) == state(r)
    assert rebuilt.status == RequestStatus.CANCELLED
    assert rebuilt.paused_since is None


def test_replaying_part_of_the_events_gives_the_state_at_that_version() -> None:
    r = open_request()
    r.respond(at(9, 10))
    r.pause("等待客户", at(9, 11))
    r.resume(at(10))
    r.resolve("ok", at(10, 11))
    events = r.collect_events()
    halfway = replay(events[:3])
    assert halfway.version == 3
    assert halfway.status == RequestStatus.RESPONDED
    assert halfway.paused_since == at(9, 11)
    assert halfway.resolved_at is None
