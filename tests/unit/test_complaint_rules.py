"""Complaint 投诉 and service request 服务请求: lifecycle rules, no database."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError
from domain.complaint import Complaint
from domain.service_request import ServiceRequest
from domain.values import Money

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 10, day, hour, tzinfo=SH)


def complaint(**overrides: Any) -> Complaint:
    fields: dict[str, Any] = {
        "new_id": uuid4(),
        "customer_id": uuid4(),
        "channel": "phone",
        "category": "delivery",
        "severity": "high",
        "description": "快递丢件",
        "received_at": at(9, 9),
    } | overrides
    return Complaint.lodge(**fields)


def names(aggregate: Any) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]


def refused(aggregate: Any, code: str, command: Any, *args: Any, **kwargs: Any) -> None:
    state = copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})
    pending = list(aggregate.pending_events)
    with pytest.raises(DomainError) as error:
        command(*args, **kwargs)
    assert error.value.code == code
    assert aggregate.pending_events == pending
    assert {k: v for k, v in vars(aggregate).items() if k != "_pending_events"} == state


def test_a_complaint_goes_from_lodging_to_closing() -> None:
    c = complaint()
    c.acknowledge(at(9, 10))
    c.assign("h1", "李娜")
    c.record_investigation("仓库漏发", at(9, 11))
    c.propose_resolution("补发并赔偿", Money.parse("50.00"))
    c.resolve("已补发", at(10))
    c.communicate_result("已补发", "仓库漏发", "phone", at(10, 11))
    c.confirm(5, at(10, 12), "满意")
    c.close(at(10, 13))
    assert names(c) == [
        "Lodged",
        "Acknowledged",
        "Assigned",
        "InvestigationRecorded",
        "ResolutionProposed",
        "Resolved",
        "ResultCommunicated",
        "CustomerConfirmed",
        "Closed",
    ]
    assert c.status == "closed"
    assert c.compensation == Money.parse("50.00")
    refused(c, "complaint.already_closed", c.escalate, "again", at(11))


def test_refusals_name_the_rule() -> None:
    c = complaint()
    c.collect_events()
    refused(c, "complaint.transition_refused", c.communicate_result, "x", "y", "phone", at(9, 10))
    refused(c, "complaint.time_before_previous", c.acknowledge, at(1))
    refused(c, "complaint.invalid_field", c.classify, "weather", "high")
    refused(c, "complaint.invalid_field", c.propose_resolution, "x", Money.parse("-1.00"))
    with pytest.raises(DomainError) as error:
        complaint(channel="fax")
    assert "phone, email, online, wechat, in_person, letter" in error.value.message
    with pytest.raises(DomainError) as naive:
        complaint(received_at=datetime(2025, 10, 9, 9))
    assert naive.value.code == "validation.invalid_value"


def test_acknowledging_twice_and_reclassifying_to_the_same_values() -> None:
    c = complaint()
    c.acknowledge(at(9, 10))
    c.collect_events()
    refused(c, "complaint.already_acknowledged", c.acknowledge, at(9, 11))
    c.classify("delivery", "high")
    assert names(c) == []
    c.classify("delivery", "critical", "客户升级投诉")
    assert names(c) == ["Classified"]


def test_reopening_only_within_the_window_then_resolving_again() -> None:
    c = complaint()
    c.resolve("已补发", at(10))
    c.communicate_result("已补发", "漏发", "phone", at(10, 11))
    c.collect_events()
    refused(
        c, "complaint.reopen_window_passed", c.reopen, "太晚", datetime(2025, 10, 26, tzinfo=SH)
    )
    c.reopen("仍未收到", at(12))
    c.resolve("加急", at(13))
    assert names(c) == ["Reopened", "Resolved"]
    assert c.reopen_count == 1


def test_pausing_stops_resolution_until_resumed() -> None:
    c = complaint()
    c.pause("等待客户", at(9, 10))
    c.collect_events()
    refused(c, "complaint.already_paused", c.pause, "again", at(9, 11))
    refused(c, "complaint.transition_refused", c.resolve, "x", at(9, 11))
    c.resume(at(10))
    refused(c, "complaint.not_paused", c.resume, at(10, 11))
    c.resolve("ok", at(10, 11))
    assert names(c) == ["Resumed", "Resolved"]


def test_escalation_climbs_to_three_and_breaches_are_recorded_once() -> None:
    c = complaint()
    for _ in range(3):
        c.escalate("升级", at(9, 10))
    refused(c, "complaint.escalation_refused", c.escalate, "升级", at(9, 10))
    c.record_sla_breach("response", at(9, 12), at(9, 14), Decimal(1))
    refused(
        c,
        "complaint.breach_already_recorded",
        c.record_sla_breach,
        "response",
        at(9, 12),
        at(9, 15),
        Decimal(2),
    )


def test_a_breach_escalates_one_level() -> None:
    c = complaint()
    c.collect_events()
    c.escalate_for_breach("response", at(9, 12), at(9, 14), Decimal(1))
    assert names(c) == ["SlaBreached", "Escalated"]
    assert c.escalation_level == 1


def test_ratings_are_whole_numbers_from_one_to_five() -> None:
    c = complaint()
    c.resolve("ok", at(10))
    c.communicate_result("ok", "ok", "email", at(10, 11))
    c.collect_events()
    for bad in (0, 6, True):
        refused(c, "complaint.invalid_field", c.confirm, bad, at(10, 12))


def test_replaying_a_complaint_rebuilds_it() -> None:
    c = complaint()
    c.acknowledge(at(9, 10))
    c.pause("等待", at(9, 11))
    c.resume(at(10))
    c.resolve("ok", at(10, 11))
    rebuilt = None
    for event in c.collect_events():
        rebuilt = event.mutate(rebuilt)
    assert rebuilt == c


def request(**overrides: Any) -> ServiceRequest:
    fields: dict[str, Any] = {
        "new_id": uuid4(),
        "customer_id": uuid4(),
        "request_type": "after_sales",
        "channel": "online",
        "priority": "medium",
        "description": "设备故障",
        "received_at": at(9, 9),
    } | overrides
    return ServiceRequest.open(**fields)


def test_a_service_request_lifecycle_and_its_refusals() -> None:
    r = request()
    r.respond(at(9, 10))
    r.collect_events()
    refused(r, "service_request.already_responded", r.respond, at(9, 11))
    refused(r, "service_request.transition_refused", r.rate, 5, at(9, 11))
    r.resolve("已维修", at(10))
    r.rate(4, at(10, 11))
    refused(r, "service_request.already_rated", r.rate, 5, at(10, 12))
    r.close(at(10, 12))
    refused(r, "service_request.already_closed", r.cancel, "x", at(10, 13))
    assert names(r) == ["Resolved", "FeedbackGiven", "Closed"]
    with pytest.raises(DomainError) as error:
        request(request_type="repair")
    assert error.value.code == "service_request.invalid_field"


def test_the_same_deadline_in_another_offset_is_the_same_breach() -> None:
    c = complaint()
    c.escalate_for_breach("response", at(9, 17), at(9, 18), Decimal(1))
    same_instant = datetime(2025, 10, 9, 9, 0, tzinfo=ZoneInfo("UTC"))  # 17:00 in Shanghai
    refused(
        c,
        "complaint.breach_already_recorded",
        c.escalate_for_breach,
        "response",
        same_instant,
        at(9, 18),
        Decimal(1),
    )
    assert c.escalation_level == 1


def test_a_breach_on_a_resolved_complaint_is_recorded_without_escalating() -> None:
    c = complaint()
    c.resolve("ok", at(12))
    c.collect_events()
    c.escalate_for_breach("resolution", at(10, 17), at(12, 9), Decimal(3))
    assert names(c) == ["SlaBreached"]
    assert c.escalation_level == 0


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("response", at(9, 17), at(9, 16), Decimal(1)), "complaint.time_before_previous"),
        (("response", at(9, 17), at(9, 18), Decimal(-1)), "complaint.invalid_field"),
        (("response", at(9, 17), at(9, 18), 1.5), "complaint.invalid_field"),
    ],
    ids=["detected-before-due", "negative-lateness", "float-lateness"],
)
def test_a_breach_needs_a_sound_time_and_lateness(args: tuple[Any, ...], code: str) -> None:
    c = complaint()
    c.collect_events()
    refused(c, code, c.record_sla_breach, *args)


def test_escalation_levels_are_whole_numbers_and_compensation_is_money() -> None:
    c = complaint()
    c.collect_events()
    for level in (2.5, True):
        refused(c, "complaint.invalid_field", c.escalate, "x", at(9, 10), level)
    refused(c, "complaint.invalid_field", c.propose_resolution, "x", Decimal("5.00"))


def test_blank_optional_text_is_absent_and_times_follow_the_steps() -> None:
    c = complaint(remedy_sought="   ")
    assert c.remedy_sought is None
    c.acknowledge(at(9, 10), note="  ")
    c.resolve("ok", at(10, 11))
    c.collect_events()
    refused(
        c, "complaint.time_before_previous", c.communicate_result, "ok", "ok", "phone", at(10, 10)
    )
    c.communicate_result("ok", "ok", "phone", at(10, 12))
    c.collect_events()
    refused(c, "complaint.time_before_previous", c.reopen, "no", at(10, 11))
