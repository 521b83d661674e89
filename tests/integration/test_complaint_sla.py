"""Complaint SLA on both stores: deadlines on the mainland-China calendar, the escalation
policy acting once per deadline, and the statistics."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import pytest

from application.context import CommandContext, Principal, Role
from interfaces.bootstrap import System
from projections.complaints import ComplaintFilter
from tests.support import SH, Clock, at

HANDLER = Principal(id="user:li", role=Role.COMPLAINTS, name="李娜")
CLERK = Principal(id="user:info", role=Role.INFORMATION)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 9, 30, 17, 0, tzinfo=SH))


def lodge(kehu: System, severity: str = "high", **kwargs: object) -> str:
    customer = kehu.customers.register(
        CommandContext.for_principal(CLERK), kind="individual", name="赵敏", phone="13600001234"
    )
    lodged = kehu.complaints.lodge(
        CommandContext.for_principal(HANDLER),
        customer_id=customer.id,
        channel="phone",
        category="delivery",
        severity=severity,
        description="快递丢件",
        received_at=at(2025, 9, 30, 17, 0),
        **kwargs,  # type: ignore[arg-type]
    )
    return str(lodged.id)


def test_a_high_complaint_before_national_day_is_due_after_the_holiday(kehu: System) -> None:
    complaint_id = lodge(kehu)
    kehu.catch_up()
    row = kehu.complaint_queries.get(complaint_id, at(2025, 9, 30, 18, 0))
    assert row is not None
    assert row.sla.response_due_at == at(2025, 10, 9, 12, 0)
    assert row.sla.resolution_due_at == at(2025, 10, 11, 17, 0)
    assert row.sla.resolution_hours == Decimal(1)


def test_a_passed_deadline_is_recorded_and_escalated_once(kehu: System, clock: Clock) -> None:
    complaint_id = lodge(kehu)
    kehu.catch_up()
    clock.now = at(2025, 10, 9, 14, 0)  # response was due at 12:00: one business hour late
    assert kehu.scheduler.run_once()["sla-escalation"] == 1
    history = kehu.store.history(UUID(complaint_id))
    breach, escalation = history[-2], history[-1]
    assert breach.type == "Complaint.SlaBreached"
    assert breach.payload["target"] == "response"
    assert breach.payload["late_by_hours"] == Decimal(1)
    assert escalation.type == "Complaint.Escalated"
    assert escalation.payload["level"] == 1
    assert breach.envelope is not None
    assert breach.envelope.actor_role == "system"
    assert breach.envelope.command == "complaints.record_breach"
    # A second run (and a run before the view caught up) records nothing new.
    head = kehu.store.max_position()
    assert kehu.scheduler.run_once()["sla-escalation"] == 0
    kehu.catch_up()
    assert kehu.scheduler.run_once()["sla-escalation"] == 0
    assert kehu.store.max_position() == head
    row = kehu.complaint_queries.get(complaint_id, clock.now)
    assert row is not None
    assert row.escalation_level == 1
    assert row.breaches[0]["target"] == "response"
    breached, total = kehu.complaint_queries.page(ComplaintFilter(breached=True), clock.now)
    assert total == 1
    assert breached[0].id == complaint_id


def test_a_near_deadline_escalates_once_before_it_passes(kehu: System, clock: Clock) -> None:
    lodge(kehu)
    kehu.catch_up()
    clock.now = at(2025, 10, 9, 11, 30)  # half an hour of four left
    assert kehu.scheduler.run_once()["sla-escalation"] == 1
    kehu.catch_up()
    assert kehu.scheduler.run_once()["sla-escalation"] == 0


def test_a_paused_complaint_is_not_escalated(kehu: System, clock: Clock) -> None:
    complaint_id = lodge(kehu)
    kehu.complaints.pause(
        CommandContext.for_principal(HANDLER),
        UUID(complaint_id),
        reason="等待客户提供单号",
        at=at(2025, 10, 9, 9, 30),
    )
    kehu.catch_up()
    clock.now = at(2025, 10, 20, 9, 0)
    head = kehu.store.max_position()
    assert kehu.scheduler.run_once()["sla-escalation"] == 0
    assert kehu.store.max_position() == head


def test_sla_statistics_count_on_time_and_breached_complaints(kehu: System, clock: Clock) -> None:
    on_time = UUID(lodge(kehu))
    late = UUID(lodge(kehu, severity="critical"))
    ctx = CommandContext.for_principal(HANDLER)
    kehu.complaints.acknowledge(ctx, on_time, at=at(2025, 10, 9, 10, 0))
    kehu.complaints.resolve(
        ctx, on_time, summary="补发", at=at(2025, 10, 10, 10, 0)
    )  # 1 + 8 + 1 = 10 h
    kehu.complaints.resolve(
        ctx, late, summary="补发", at=at(2025, 10, 13, 10, 0)
    )  # 1 + 8 + 8 + 8 (Sat 10-11) + 1 = 26 h > 8
    kehu.catch_up()
    report = kehu.complaint_queries.sla_report(
        at(2025, 9, 1, 0, 0), at(2025, 10, 1, 0, 0), "severity", at(2025, 10, 20, 0, 0)
    )
    assert report.total.complaints == 2
    assert report.total.resolved == 2
    assert report.total.on_time == 1
    assert report.total.breached == 1
    assert report.total.on_time_rate == Decimal("50.0")
    assert report.total.median_hours == Decimal("18.00")
    assert report.total.p90_hours == Decimal(26)
    assert [g.key for g in report.groups] == ["critical", "high"]
    assert report.active_customers == 0
    assert report.complaint_rate_per_1000 is None
