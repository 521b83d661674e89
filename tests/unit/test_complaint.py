"""Complaint 投诉: every path of its handling, as events and state, without a database."""

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
from domain.complaint import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    MAX_ESCALATION_LEVEL,
    REOPEN_WINDOW,
    SEVERITY_LABELS,
    STATUS_LABELS,
    Category,
    Channel,
    Complaint,
    ComplaintStatus,
    Severity,
)
from domain.values import Money

SH = ZoneInfo("Asia/Shanghai")
COMPLAINT_ID = UUID("00000000-0000-4000-8000-000000000001")
CUSTOMER_ID = UUID("00000000-0000-4000-8000-0000000000c1")
RECEIVED = datetime(2025, 10, 9, 9, tzinfo=SH)


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, 10, day, hour, minute, tzinfo=SH)


def lodge(**overrides: Any) -> Complaint:
    fields: dict[str, Any] = {
        "new_id": COMPLAINT_ID,
        "customer_id": CUSTOMER_ID,
        "channel": "phone",
        "category": "delivery",
        "severity": "high",
        "description": "快递丢件, 联系电话 13800001111",
        "received_at": RECEIVED,
    } | overrides
    return Complaint.lodge(**fields)


def lodged() -> Complaint:
    """A lodged complaint whose Lodged event was already collected."""
    c = lodge()
    c.collect_events()
    return c


def resolved() -> Complaint:
    c = lodged()
    c.resolve("已补发", at(10))
    c.collect_events()
    return c


def communicated() -> Complaint:
    c = resolved()
    c.communicate_result("已补发", "仓库漏发", "phone", at(10, 11))
    c.collect_events()
    return c


def confirmed() -> Complaint:
    c = communicated()
    c.confirm(5, at(10, 12))
    c.collect_events()
    return c


def closed() -> Complaint:
    c = communicated()
    c.close(at(10, 13))
    c.collect_events()
    return c


def withdrawn() -> Complaint:
    c = lodged()
    c.withdraw("客户撤回", at(9, 11))
    c.collect_events()
    return c


def paused() -> Complaint:
    c = lodged()
    c.pause("等待客户提供照片", at(9, 10))
    c.collect_events()
    return c


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


# -- lodging ------------------------------------------------------------------------------


def test_lodging_a_complaint_emits_lodged_with_its_classification() -> None:
    c = lodge(remedy_sought="  补发  并赔偿 ", vip_tier="gold")
    [lodged_event] = c.collect_events()
    assert isinstance(lodged_event, Complaint.Lodged)
    assert lodged_event.originator_id == COMPLAINT_ID
    assert lodged_event.originator_version == 1
    assert lodged_event.customer_id == CUSTOMER_ID
    assert (lodged_event.channel, lodged_event.category, lodged_event.severity) == (
        "phone",
        "delivery",
        "high",
    )
    assert lodged_event.description == "快递丢件, 联系电话 13800001111"
    assert lodged_event.remedy_sought == "补发 并赔偿"
    assert lodged_event.received_at == RECEIVED
    assert lodged_event.vip_tier == "gold"
    assert c.id == COMPLAINT_ID
    assert c.status == ComplaintStatus.RECEIVED
    assert STATUS_LABELS[c.status] == "已受理"
    assert c.acknowledged_at is None
    assert c.resolved_at is None
    assert c.handler is None
    assert c.escalation_level == 0
    assert c.paused_since is None
    assert c.breaches == []
    assert c.reopen_count == 0


def test_lodging_without_optional_fields_keeps_them_empty() -> None:
    [lodged_event] = lodge(description="  客服  态度差 ").collect_events()
    assert lodged_event.description == "客服 态度差"
    assert lodged_event.remedy_sought is None
    assert lodged_event.vip_tier is None


def test_lodging_in_another_offset_keeps_the_instant() -> None:
    c = lodge(received_at=datetime(2025, 10, 9, 1, tzinfo=ZoneInfo("UTC")))
    assert c.received_at == RECEIVED
    c.collect_events()
    refused(c, "complaint.time_before_previous", lambda: c.acknowledge(at(9, 8, 59)))
    c.acknowledge(at(9, 9))
    assert c.acknowledged_at == RECEIVED


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("channel", "fax", "phone, email, online, wechat, in_person, letter"),
        ("category", "weather", "product_quality, service_attitude, delivery, billing, privacy"),
        ("severity", "urgent", "low, medium, high, critical"),
    ],
)
def test_lodging_with_an_unknown_choice_is_refused_listing_the_allowed_values(
    field: str, value: str, allowed: str
) -> None:
    with pytest.raises(DomainError) as error:
        lodge(**{field: value})
    assert error.value.code == "complaint.invalid_field"
    assert error.value.kind == "invalid"
    assert error.value.details == {"field": field}
    assert allowed in error.value.message
    assert repr(value) in error.value.message


@pytest.mark.parametrize("description", ["", "   ", "x" * 5001, None, 42])
def test_lodging_without_a_usable_description_is_refused(description: object) -> None:
    with pytest.raises(DomainError) as error:
        lodge(description=description)
    assert error.value.code == "complaint.invalid_field"


def test_lodging_with_a_naive_received_time_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        lodge(received_at=datetime(2025, 10, 9, 9))
    assert error.value.code == "validation.invalid_value"
    assert error.value.details == {"field": "received_at"}


def test_every_choice_has_a_chinese_label() -> None:
    assert set(CHANNEL_LABELS) == set(Channel)
    assert set(CATEGORY_LABELS) == set(Category)
    assert set(SEVERITY_LABELS) == set(Severity)
    assert set(STATUS_LABELS) == set(ComplaintStatus)
    assert SEVERITY_LABELS[Severity.CRITICAL] == "紧急"
    assert CHANNEL_LABELS[Channel.WECHAT] == "微信"


# -- the happy path -----------------------------------------------------------------------


def test_a_complaint_is_handled_from_lodging_to_closing() -> None:
    c = lodge()
    c.acknowledge(at(9, 10), "已致电客户")
    c.assign("h01", "李娜")
    c.record_investigation("仓库漏发", at(9, 11))
    c.propose_resolution("补发并赔偿", Money.parse("50.00"))
    c.resolve("已补发", at(10))
    c.communicate_result("已补发并赔偿 50 元", "仓库漏发", "wechat", at(10, 11))
    c.confirm(5, at(10, 12), "满意")
    c.close(at(10, 13))
    events = c.collect_events()
    assert names(events) == [
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
    assert [e.originator_version for e in events] == list(range(1, 10))
    (
        _,
        acknowledged,
        assigned,
        investigated,
        proposed,
        resolved_event,
        result,
        confirmed_event,
        closed_event,
    ) = events
    assert (acknowledged.at, acknowledged.note) == (at(9, 10), "已致电客户")
    assert (assigned.handler_id, assigned.handler_name, assigned.section) == (
        "h01",
        "李娜",
        "complaints",
    )
    assert (investigated.findings, investigated.at) == ("仓库漏发", at(9, 11))
    assert proposed.summary == "补发并赔偿"
    assert proposed.compensation == Money.parse("50.00")
    assert (resolved_event.summary, resolved_event.at) == ("已补发", at(10))
    assert (result.explanation, result.reasons, result.channel, result.at) == (
        "已补发并赔偿 50 元",
        "仓库漏发",
        "wechat",
        at(10, 11),
    )
    assert (confirmed_event.rating, confirmed_event.comment, confirmed_event.at) == (
        5,
        "满意",
        at(10, 12),
    )
    assert closed_event.at == at(10, 13)

    assert c.status == ComplaintStatus.CLOSED
    assert c.acknowledged_at == at(9, 10)
    assert c.resolved_at == at(10)
    assert c.result_communicated_at == at(10, 11)
    assert c.handler == {"id": "h01", "name": "李娜", "section": "complaints"}
    assert c.compensation == Money.parse("50.00")
    assert c.rating == 5
    assert c.version == 9
    assert state(replay(events)) == state(c)


def test_each_step_moves_the_status() -> None:
    c = lodge()
    seen = [c.status]
    c.acknowledge(at(9, 10))
    seen.append(c.status)
    c.record_investigation("查看物流", at(9, 11))
    seen.append(c.status)
    c.resolve("已补发", at(10))
    seen.append(c.status)
    c.communicate_result("已补发", "漏发", "phone", at(10, 11))
    seen.append(c.status)
    c.confirm(4, at(10, 12))
    seen.append(c.status)
    c.close(at(10, 13))
    seen.append(c.status)
    assert [STATUS_LABELS[s] for s in seen] == [
        "已受理",
        "已响应",
        "调查中",
        "已处理",
        "已反馈",
        "已确认",
        "已关闭",
    ]


def test_investigating_an_unacknowledged_complaint_starts_the_investigation() -> None:
    c = lodged()
    c.record_investigation("调取录音", at(9, 10))
    assert c.status == ComplaintStatus.INVESTIGATING
    c.acknowledge(at(9, 11))
    assert c.status == ComplaintStatus.INVESTIGATING
    assert c.acknowledged_at == at(9, 11)
    assert names(c.collect_events()) == ["InvestigationRecorded", "Acknowledged"]


def test_a_second_investigation_record_keeps_investigating() -> None:
    c = lodged()
    c.record_investigation("调取录音", at(9, 10))
    c.record_investigation("约谈客服", at(9, 11))
    assert c.status == ComplaintStatus.INVESTIGATING
    assert [e.findings for e in c.collect_events()] == ["调取录音", "约谈客服"]


def test_resolving_an_unacknowledged_complaint_counts_as_its_first_response() -> None:
    c = lodged()
    c.resolve("当场解决", at(9, 10))
    [resolved_event] = c.collect_events()
    assert isinstance(resolved_event, Complaint.Resolved)
    assert c.acknowledged_at == at(9, 10)
    assert c.resolved_at == at(9, 10)
    refused(c, "complaint.already_acknowledged", lambda: c.acknowledge(at(9, 11)))


def test_resolving_keeps_an_earlier_first_response() -> None:
    c = lodged()
    c.acknowledge(at(9, 10))
    c.resolve("已补发", at(10))
    assert c.acknowledged_at == at(9, 10)


def test_acknowledging_twice_is_refused() -> None:
    c = lodged()
    c.acknowledge(at(9, 10))
    c.collect_events()
    error = refused(c, "complaint.already_acknowledged", lambda: c.acknowledge(at(9, 11)))
    assert error.kind == "conflict"


def test_a_complaint_can_be_closed_without_the_customer_confirming() -> None:
    c = communicated()
    c.close(at(11))
    [closed_event] = c.collect_events()
    assert isinstance(closed_event, Complaint.Closed)
    assert c.status == ComplaintStatus.CLOSED
    assert c.rating is None


def test_closing_before_the_result_is_communicated_is_refused() -> None:
    for c in (lodged(), resolved()):
        error = refused(c, "complaint.transition_refused", lambda c=c: c.close(at(11)))
        assert error.details == {"current_status": str(c.status)}
        assert "allowed from: confirmed, result_communicated" in error.message


def test_communicating_the_result_of_an_unresolved_complaint_is_refused() -> None:
    c = lodged()
    refused(
        c,
        "complaint.transition_refused",
        lambda: c.communicate_result("x", "y", "phone", at(9, 10)),
    )


def test_confirming_before_the_result_is_communicated_is_refused() -> None:
    c = resolved()
    refused(c, "complaint.transition_refused", lambda: c.confirm(5, at(10, 12)))


def test_confirming_twice_is_refused() -> None:
    c = confirmed()
    refused(c, "complaint.transition_refused", lambda: c.confirm(4, at(10, 13)))


def test_resolving_twice_is_refused() -> None:
    c = resolved()
    refused(c, "complaint.transition_refused", lambda: c.resolve("again", at(10, 11)))


def test_proposing_a_resolution_without_compensation() -> None:
    c = lodged()
    c.propose_resolution("道歉")
    [proposed] = c.collect_events()
    assert proposed.compensation is None
    assert c.compensation is None


def test_proposing_a_negative_compensation_is_refused() -> None:
    c = lodged()
    error = refused(
        c,
        "complaint.invalid_field",
        lambda: c.propose_resolution("x", Money.parse("-1.00")),
    )
    assert error.details == {"field": "compensation"}


def test_proposing_a_resolution_of_a_resolved_complaint_is_refused() -> None:
    c = resolved()
    refused(
        c,
        "complaint.transition_refused",
        lambda: c.propose_resolution("x", Money.parse("1.00")),
    )


def test_communicating_the_result_through_an_unknown_channel_is_refused() -> None:
    c = resolved()
    error = refused(
        c,
        "complaint.invalid_field",
        lambda: c.communicate_result("x", "y", "pigeon", at(10, 11)),
    )
    assert "phone, email, online, wechat, in_person, letter" in error.message


def test_assigning_again_replaces_the_handler() -> None:
    c = lodged()
    c.assign("h01", "李娜")
    c.assign("h02", " 王 强 ", section="quality")
    assert c.handler == {"id": "h02", "name": "王 强", "section": "quality"}
    assert names(c.collect_events()) == ["Assigned", "Assigned"]


def test_assigning_without_a_handler_is_refused() -> None:
    c = lodged()
    refused(c, "complaint.invalid_field", lambda: c.assign("", "李娜"))
    refused(c, "complaint.invalid_field", lambda: c.assign("h01", "   "))


# -- reopening ----------------------------------------------------------------------------


def test_reopening_within_the_window_clears_the_resolution() -> None:
    c = confirmed()
    c.reopen("仍未收到货", at(12))
    [reopened] = c.collect_events()
    assert isinstance(reopened, Complaint.Reopened)
    assert (reopened.reason, reopened.at) == ("仍未收到货", at(12))
    assert c.status == ComplaintStatus.REOPENED
    assert STATUS_LABELS[c.status] == "重新处理"
    assert c.resolved_at is None
    assert c.rating is None
    assert c.reopen_count == 1
    assert c.acknowledged_at == at(10)


def test_reopening_on_the_last_moment_of_the_window_is_allowed() -> None:
    c = communicated()
    c.reopen("不满意", at(10, 11) + REOPEN_WINDOW)
    assert c.status == ComplaintStatus.REOPENED


def test_reopening_after_the_window_is_refused() -> None:
    c = communicated()
    late = at(10, 11) + REOPEN_WINDOW + timedelta(seconds=1)
    error = refused(c, "complaint.reopen_window_passed", lambda: c.reopen("太晚", late))
    assert "15 days" in error.message


def test_a_reopened_complaint_is_resolved_and_closed_again() -> None:
    c = communicated()
    c.reopen("仍未收到", at(12))
    c.record_investigation("快递退回", at(12, 11))
    c.resolve("重新寄出", at(13))
    c.communicate_result("已重新寄出", "快递退回", "phone", at(13, 11))
    c.confirm(4, at(13, 12))
    c.close(at(13, 13))
    assert names(c.collect_events()) == [
        "Reopened",
        "InvestigationRecorded",
        "Resolved",
        "ResultCommunicated",
        "CustomerConfirmed",
        "Closed",
    ]
    assert c.status == ComplaintStatus.CLOSED
    assert c.resolved_at == at(13)
    assert c.result_communicated_at == at(13, 11)
    assert c.rating == 4
    assert c.reopen_count == 1


def test_investigating_a_reopened_complaint_keeps_it_reopened() -> None:
    c = communicated()
    c.reopen("仍未收到", at(12))
    c.record_investigation("快递退回", at(12, 11))
    assert c.status == ComplaintStatus.REOPENED


def test_the_reopen_window_runs_from_the_latest_communication() -> None:
    c = communicated()
    c.reopen("仍未收到", at(12))
    c.resolve("重新寄出", at(20))
    c.communicate_result("已重新寄出", "快递退回", "phone", at(20, 11))
    c.collect_events()
    c.reopen("又坏了", at(20, 11) + REOPEN_WINDOW)
    assert c.reopen_count == 2
    [reopened] = c.collect_events()
    assert reopened.at == at(20, 11) + REOPEN_WINDOW


def test_reopening_a_complaint_that_was_not_communicated_is_refused() -> None:
    for c in (lodged(), resolved()):
        refused(c, "complaint.transition_refused", lambda c=c: c.reopen("x", at(11)))


def test_reopening_a_closed_complaint_is_refused() -> None:
    c = closed()
    refused(c, "complaint.already_closed", lambda: c.reopen("x", at(11)))


# -- withdrawing --------------------------------------------------------------------------


def test_withdrawing_an_open_complaint() -> None:
    c = lodged()
    c.withdraw("客户撤回", at(9, 11))
    [withdrawn_event] = c.collect_events()
    assert isinstance(withdrawn_event, Complaint.Withdrawn)
    assert (withdrawn_event.reason, withdrawn_event.at) == ("客户撤回", at(9, 11))
    assert c.status == ComplaintStatus.WITHDRAWN
    assert STATUS_LABELS[c.status] == "已撤回"


def test_withdrawing_a_paused_complaint_ends_the_pause() -> None:
    c = paused()
    c.withdraw("客户撤回", at(9, 11))
    assert c.paused_since is None


def test_withdrawing_a_resolved_complaint_is_allowed() -> None:
    c = resolved()
    c.withdraw("客户不再追究", at(10, 11))
    assert c.status == ComplaintStatus.WITHDRAWN


def test_withdrawing_after_the_result_was_communicated_is_refused() -> None:
    c = communicated()
    refused(c, "complaint.transition_refused", lambda: c.withdraw("x", at(11)))


def test_withdrawing_a_closed_complaint_is_refused_as_closed() -> None:
    c = closed()
    refused(c, "complaint.already_closed", lambda: c.withdraw("x", at(11)))


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.acknowledge(at(9, 12)),
        lambda c: c.classify("billing", "low"),
        lambda c: c.assign("h01", "李娜"),
        lambda c: c.escalate("升级", at(9, 12)),
        lambda c: c.record_investigation("x", at(9, 12)),
        lambda c: c.propose_resolution("x"),
        lambda c: c.resolve("x", at(9, 12)),
        lambda c: c.withdraw("again", at(9, 12)),
        lambda c: c.pause("x", at(9, 12)),
        lambda c: c.resume(at(9, 12)),
        lambda c: c.record_sla_breach("response", at(9, 17), at(9, 18), Decimal(1)),
    ],
)
def test_a_withdrawn_complaint_refuses_further_work(command: Callable[[Complaint], None]) -> None:
    c = withdrawn()
    error = refused(c, "complaint.transition_refused", lambda: command(c))
    assert "withdrawn" in error.message


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.acknowledge(at(11)),
        lambda c: c.classify("billing", "low"),
        lambda c: c.assign("h01", "李娜"),
        lambda c: c.escalate("升级", at(11)),
        lambda c: c.record_investigation("x", at(11)),
        lambda c: c.propose_resolution("x"),
        lambda c: c.resolve("x", at(11)),
        lambda c: c.communicate_result("x", "y", "phone", at(11)),
        lambda c: c.confirm(5, at(11)),
        lambda c: c.close(at(11)),
        lambda c: c.pause("x", at(11)),
        lambda c: c.resume(at(11)),
        lambda c: c.record_sla_breach("resolution", at(9, 17), at(11), Decimal(1)),
    ],
)
def test_a_closed_complaint_refuses_further_work(command: Callable[[Complaint], None]) -> None:
    c = closed()
    refused(c, "complaint.already_closed", lambda: command(c))


# -- waiting on the customer --------------------------------------------------------------


def test_pausing_stops_the_clock_and_resuming_starts_it() -> None:
    c = lodged()
    c.pause("等待客户提供照片", at(9, 10))
    assert c.paused_since == at(9, 10)
    c.resume(at(10))
    assert c.paused_since is None
    paused_event, resumed_event = c.collect_events()
    assert isinstance(paused_event, Complaint.Paused)
    assert (paused_event.reason, paused_event.at) == ("等待客户提供照片", at(9, 10))
    assert isinstance(resumed_event, Complaint.Resumed)
    assert resumed_event.at == at(10)
    assert c.status == ComplaintStatus.RECEIVED


def test_pausing_twice_is_refused() -> None:
    c = paused()
    refused(c, "complaint.already_paused", lambda: c.pause("again", at(9, 11)))


def test_resuming_a_complaint_that_is_not_paused_is_refused() -> None:
    c = lodged()
    refused(c, "complaint.not_paused", lambda: c.resume(at(9, 11)))


def test_resuming_before_the_pause_began_is_refused() -> None:
    c = paused()
    error = refused(c, "complaint.time_before_previous", lambda: c.resume(at(9, 9, 30)))
    assert error.kind == "invalid"


def test_resuming_at_the_moment_of_pausing_is_allowed() -> None:
    c = paused()
    c.resume(at(9, 10))
    assert c.paused_since is None


def test_resolving_while_paused_is_refused_until_resumed() -> None:
    c = paused()
    error = refused(c, "complaint.transition_refused", lambda: c.resolve("x", at(9, 11)))
    assert "resume first" in error.message
    c.resume(at(10))
    c.resolve("ok", at(10, 11))
    assert names(c.collect_events()) == ["Resumed", "Resolved"]


def test_a_paused_complaint_can_still_be_acknowledged_and_investigated() -> None:
    c = paused()
    c.acknowledge(at(9, 11))
    c.record_investigation("等待中先查物流", at(9, 12))
    assert names(c.collect_events()) == ["Acknowledged", "InvestigationRecorded"]
    assert c.paused_since == at(9, 10)


def test_pausing_a_resolved_complaint_is_refused() -> None:
    c = resolved()
    refused(c, "complaint.transition_refused", lambda: c.pause("x", at(10, 11)))


def test_a_reopened_complaint_can_pause_again() -> None:
    c = communicated()
    c.reopen("仍未收到", at(12))
    c.pause("等待客户确认地址", at(12, 11))
    assert c.paused_since == at(12, 11)


# -- escalation ---------------------------------------------------------------------------


def test_escalation_climbs_one_level_at_a_time_up_to_three() -> None:
    c = lodged()
    for hour in (10, 11, 12):
        c.escalate("客户情绪激动", at(9, hour))
    events = c.collect_events()
    assert names(events) == ["Escalated"] * 3
    assert [e.level for e in events] == [1, 2, 3]
    assert [e.at for e in events] == [at(9, 10), at(9, 11), at(9, 12)]
    assert {e.reason for e in events} == {"客户情绪激动"}
    assert c.escalation_level == MAX_ESCALATION_LEVEL == 3


def test_escalating_beyond_level_three_is_refused() -> None:
    c = lodged()
    c.escalate("直接上报", at(9, 10), level=3)
    c.collect_events()
    refused(c, "complaint.escalation_refused", lambda: c.escalate("再升级", at(9, 11)))
    refused(c, "complaint.escalation_refused", lambda: c.escalate("再升级", at(9, 11), level=4))


def test_escalating_straight_to_a_higher_level() -> None:
    c = lodged()
    c.escalate("媒体曝光风险", at(9, 10), level=2)
    [escalated] = c.collect_events()
    assert escalated.level == 2
    assert c.escalation_level == 2


@pytest.mark.parametrize("level", [0, 1, 4])
def test_escalating_to_the_same_a_lower_or_an_unknown_level_is_refused(level: int) -> None:
    c = lodged()
    c.escalate("升级", at(9, 10))
    c.collect_events()
    error = refused(
        c, "complaint.escalation_refused", lambda: c.escalate("x", at(9, 11), level=level)
    )
    assert "between 2 and 3" in error.message


def test_escalating_a_closed_complaint_is_refused() -> None:
    c = closed()
    refused(c, "complaint.already_closed", lambda: c.escalate("再升级", at(11)))


def test_escalating_a_resolved_complaint_is_refused() -> None:
    c = resolved()
    refused(c, "complaint.transition_refused", lambda: c.escalate("x", at(10, 11)))


def test_a_breach_is_recorded_and_escalates_one_level() -> None:
    c = lodged()
    c.escalate_for_breach("response", at(9, 17), at(9, 18), Decimal("1.5"))
    breached, escalated = c.collect_events()
    assert isinstance(breached, Complaint.SlaBreached)
    assert (breached.target, breached.due_at, breached.detected_at, breached.late_by_hours) == (
        "response",
        at(9, 17),
        at(9, 18),
        Decimal("1.5"),
    )
    assert isinstance(escalated, Complaint.Escalated)
    assert escalated.level == 1
    assert escalated.at == at(9, 18)
    assert escalated.reason.startswith("首次响应超时 1.5 小时")
    assert c.escalation_level == 1
    assert c.breaches == [f"response@{at(9, 17).isoformat()}"]


def test_a_resolution_breach_names_the_resolution_in_its_escalation() -> None:
    c = lodged()
    c.escalate_for_breach("resolution", at(10, 17), at(10, 18), Decimal(1))
    _, escalated = c.collect_events()
    assert escalated.reason.startswith("处理超时 1 小时")


def test_a_breach_at_the_top_level_is_recorded_without_escalating() -> None:
    c = lodged()
    c.escalate("直接上报", at(9, 10), level=3)
    c.collect_events()
    c.escalate_for_breach("response", at(9, 17), at(9, 18), Decimal(1))
    assert names(c.collect_events()) == ["SlaBreached"]
    assert c.escalation_level == 3


def test_a_breach_already_recorded_is_neither_recorded_nor_escalated_again() -> None:
    c = lodged()
    c.escalate_for_breach("response", at(9, 17), at(9, 18), Decimal(1))
    c.collect_events()
    refused(
        c,
        "complaint.breach_already_recorded",
        lambda: c.escalate_for_breach("response", at(9, 17), at(9, 19), Decimal(2)),
    )


# -- classification -----------------------------------------------------------------------


def test_reclassifying_with_unchanged_values_emits_nothing() -> None:
    c = lodged()
    c.classify("delivery", "high", "复核")
    assert c.collect_events() == []
    assert (c.category, c.severity) == ("delivery", "high")


def test_reclassifying_changes_category_and_severity() -> None:
    c = lodged()
    c.classify("product_quality", "critical", " 涉及 安全 ")
    [classified] = c.collect_events()
    assert isinstance(classified, Complaint.Classified)
    assert (classified.category, classified.severity, classified.reason) == (
        "product_quality",
        "critical",
        "涉及 安全",
    )
    assert (c.category, c.severity) == ("product_quality", "critical")


def test_changing_only_the_severity_is_a_reclassification() -> None:
    c = lodged()
    c.classify("delivery", "low")
    [classified] = c.collect_events()
    assert (classified.category, classified.severity, classified.reason) == (
        "delivery",
        "low",
        None,
    )


def test_reclassifying_a_resolved_complaint_is_refused() -> None:
    c = resolved()
    refused(c, "complaint.transition_refused", lambda: c.classify("billing", "low"))


@pytest.mark.parametrize(
    ("category", "severity", "allowed"),
    [
        ("weather", "high", "product_quality, service_attitude, delivery, billing, privacy, other"),
        ("delivery", "extreme", "low, medium, high, critical"),
    ],
)
def test_reclassifying_to_an_unknown_value_is_refused(
    category: str, severity: str, allowed: str
) -> None:
    c = lodged()
    error = refused(c, "complaint.invalid_field", lambda: c.classify(category, severity))
    assert allowed in error.message


# -- breaches -----------------------------------------------------------------------------


def test_a_breach_is_recorded_once_per_deadline() -> None:
    c = lodged()
    c.record_sla_breach("response", at(9, 17), at(9, 18), Decimal("1.25"))
    [breached] = c.collect_events()
    assert isinstance(breached, Complaint.SlaBreached)
    assert breached.late_by_hours == Decimal("1.25")
    error = refused(
        c,
        "complaint.breach_already_recorded",
        lambda: c.record_sla_breach("response", at(9, 17), at(9, 19), Decimal(2)),
    )
    assert error.kind == "conflict"
    c.record_sla_breach("resolution", at(9, 17), at(9, 19), Decimal(2))
    c.record_sla_breach("response", at(10, 17), at(10, 18), Decimal(1))
    assert names(c.collect_events()) == ["SlaBreached", "SlaBreached"]
    assert c.breaches == [
        f"response@{at(9, 17).isoformat()}",
        f"resolution@{at(9, 17).isoformat()}",
        f"response@{at(10, 17).isoformat()}",
    ]
    assert c.escalation_level == 0


def test_a_breach_of_an_unknown_target_is_refused() -> None:
    c = lodged()
    error = refused(
        c,
        "complaint.invalid_field",
        lambda: c.record_sla_breach("lunch", at(9, 17), at(9, 18), Decimal(1)),
    )
    assert error.details == {"field": "target"}


def test_a_breach_of_a_resolved_complaint_can_still_be_recorded() -> None:
    c = resolved()
    c.record_sla_breach("resolution", at(9, 17), at(10, 11), Decimal(1))
    assert names(c.collect_events()) == ["SlaBreached"]


# -- business times -----------------------------------------------------------------------

BEFORE_RECEIVED = RECEIVED - timedelta(seconds=1)

TIMED_COMMANDS: list[tuple[str, Callable[[], Complaint], Callable[[Complaint, datetime], None]]] = [
    ("acknowledge", lodged, lambda c, t: c.acknowledge(t)),
    ("escalate", lodged, lambda c, t: c.escalate("升级", t)),
    ("record_investigation", lodged, lambda c, t: c.record_investigation("x", t)),
    ("resolve", lodged, lambda c, t: c.resolve("x", t)),
    ("communicate_result", resolved, lambda c, t: c.communicate_result("x", "y", "phone", t)),
    ("confirm", communicated, lambda c, t: c.confirm(5, t)),
    ("reopen", communicated, lambda c, t: c.reopen("x", t)),
    ("close", communicated, lambda c, t: c.close(t)),
    ("withdraw", lodged, lambda c, t: c.withdraw("x", t)),
    ("pause", lodged, lambda c, t: c.pause("x", t)),
    ("resume", paused, lambda c, t: c.resume(t)),
]


@pytest.mark.parametrize(
    ("setup", "command"), [t[1:] for t in TIMED_COMMANDS], ids=[t[0] for t in TIMED_COMMANDS]
)
def test_a_time_before_the_complaint_was_received_is_refused(
    setup: Callable[[], Complaint], command: Callable[[Complaint, datetime], None]
) -> None:
    c = setup()
    error = refused(c, "complaint.time_before_previous", lambda: command(c, BEFORE_RECEIVED))
    assert error.kind == "invalid"


@pytest.mark.parametrize(
    ("setup", "command"), [t[1:] for t in TIMED_COMMANDS], ids=[t[0] for t in TIMED_COMMANDS]
)
def test_a_naive_time_is_refused(
    setup: Callable[[], Complaint], command: Callable[[Complaint, datetime], None]
) -> None:
    c = setup()
    error = refused(c, "validation.invalid_value", lambda: command(c, datetime(2025, 10, 11)))
    assert error.details == {"field": "at"}


@pytest.mark.parametrize(
    "command",
    [t[2] for t in TIMED_COMMANDS if t[1] is lodged],
    ids=[t[0] for t in TIMED_COMMANDS if t[1] is lodged],
)
def test_the_moment_of_receipt_itself_is_accepted(
    command: Callable[[Complaint, datetime], None],
) -> None:
    c = lodged()
    command(c, RECEIVED)
    assert len(c.collect_events()) == 1


@pytest.mark.parametrize("field", ["due_at", "detected_at"])
def test_a_breach_with_a_naive_time_is_refused(field: str) -> None:
    c = lodged()
    times = {"due_at": at(9, 17), "detected_at": at(9, 18)} | {field: datetime(2025, 10, 9, 17)}
    error = refused(
        c,
        "validation.invalid_value",
        lambda: c.record_sla_breach("response", late_by_hours=Decimal(1), **times),
    )
    assert error.details == {"field": field}


# -- ratings ------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [1, 3, 5])
def test_the_customer_confirms_with_a_rating_from_one_to_five(rating: int) -> None:
    c = communicated()
    c.confirm(rating, at(11))
    [confirmed_event] = c.collect_events()
    assert confirmed_event.rating == rating
    assert confirmed_event.comment is None
    assert c.rating == rating
    assert c.status == ComplaintStatus.CONFIRMED


@pytest.mark.parametrize("rating", [0, 6, -1, True, False, 4.5, "5", None])
def test_a_rating_outside_one_to_five_or_a_bool_is_refused(rating: Any) -> None:
    c = communicated()
    error = refused(c, "complaint.invalid_field", lambda: c.confirm(rating, at(11)))
    assert error.details == {"field": "rating"}
    assert repr(rating) in error.message


# -- personal data ------------------------------------------------------------------------


def test_free_text_about_the_customer_is_marked_personal() -> None:
    assert personal_fields(Complaint.Lodged) == {"description", "remedy_sought"}
    assert personal_fields(Complaint.InvestigationRecorded) == {"findings"}
    assert personal_fields(Complaint.CustomerConfirmed) == {"comment"}
    assert personal_fields(Complaint.Reopened) == {"reason"}
    assert personal_fields(Complaint.Escalated) == frozenset()
    assert Complaint.PERSONAL_STATE == ("description", "remedy_sought")


# -- replay -------------------------------------------------------------------------------


def test_replaying_the_events_reproduces_the_state() -> None:
    c = lodge(remedy_sought="赔偿", vip_tier="gold")
    c.acknowledge(at(9, 10))
    c.assign("h01", "李娜")
    c.classify("product_quality", "critical", "涉及安全")
    c.escalate_for_breach("response", at(9, 9, 30), at(9, 9, 45), Decimal("0.25"))
    c.pause("等待客户", at(9, 11))
    c.resume(at(10))
    c.record_investigation("批次问题", at(10, 11))
    c.propose_resolution("退货退款", Money.parse("199.00"))
    c.resolve("已退款", at(11))
    c.communicate_result("已退款", "批次问题", "email", at(11, 11))
    c.confirm(2, at(11, 12), "太慢")
    c.reopen("要求赔偿", at(12))
    c.escalate("客户不满", at(12, 11))
    c.resolve("追加赔偿", at(13))
    c.communicate_result("已追加赔偿", "补偿", "phone", at(13, 11))
    c.close(at(13, 12))
    events = c.collect_events()
    assert len(events) == c.version == 18

    rebuilt = replay(events)
    assert isinstance(rebuilt, Complaint)
    assert state(rebuilt) == state(c)
    assert rebuilt.status == ComplaintStatus.CLOSED
    assert rebuilt.escalation_level == 2
    assert rebuilt.reopen_count == 1
    assert rebuilt.breaches == [f"response@{at(9, 9, 30).isoformat()}"]
    assert rebuilt.compensation == Money.parse("199.00")


def test_replaying_part_of_the_events_gives_the_state_at_that_version() -> None:
    c = lodge()
    c.acknowledge(at(9, 10))
    c.pause("等待客户", at(9, 11))
    c.resume(at(10))
    c.resolve("ok", at(10, 11))
    events = c.collect_events()
    halfway = replay(events[:3])
    assert halfway.version == 3
    assert halfway.status == ComplaintStatus.ACKNOWLEDGED
    assert halfway.paused_since == at(9, 11)
    assert halfway.resolved_at is None
