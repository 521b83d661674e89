"""The audit trail on both stores: one row per stored business event with its envelope,
kehu's bookkeeping left out, filters, paging, recorded and business time ranges, the
causal chain of a command, the scheduler's commands as the system actor, and
``kehu audit trail`` on the command line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
import typer
from typer.testing import CliRunner

from application.context import CommandContext, Principal, Role
from application.settings import Settings
from interfaces.bootstrap import System
from interfaces.cli.audit_trail import trail_command
from projections.audit import AuditEntry, AuditFilter, AuditTrailProjection
from tests.conftest import TEST_MASTER_KEY
from tests.support import SH, Clock, as_, at

CLERK = Principal(id="user:info", role=Role.INFORMATION, name="信息管理科")
HANDLER = Principal(id="user:li", role=Role.COMPLAINTS, name="李娜")
DESK = Principal(id="user:zhao", role=Role.SERVICE, name="赵磊")
MANAGER = Principal(id="user:chen", role=Role.MANAGER, name="陈经理")
OPERATOR = Principal(id="user:admin", role=Role.ADMIN, name="管理员")


@pytest.fixture
def clock() -> Clock:
    return Clock(at(2025, 9, 30, 17, 0))


@dataclass(frozen=True)
class Story:
    customer_id: str
    complaint_id: str
    late_complaint_id: str
    lodge: CommandContext
    acknowledge: CommandContext
    classify: CommandContext
    aside: CommandContext


def tell(kehu: System, clock: Clock) -> Story:
    """A customer registered by the information section; a complaint lodged by the
    complaints section, acknowledged because it was lodged and reclassified by the manager
    because it was acknowledged (one causal chain); an assignment in the same conversation
    that nothing in the chain caused; a second complaint, lodged at the service desk and
    left alone until the scheduler records its missed deadline; an API key at the end."""
    customer = kehu.customers.register(
        as_(CLERK, idempotency_key="register-zhao-min", request_hash="h1"),
        kind="individual",
        name="赵敏",
        phone="13600001234",
    )
    lodge = as_(HANDLER, reason="客户来电")
    lodged = kehu.complaints.lodge(
        lodge,
        customer_id=customer.id,
        channel="phone",
        category="delivery",
        severity="high",
        description="快递丢件",
        received_at=at(2025, 9, 30, 16, 30),
    )
    acknowledge = as_(HANDLER, correlation_id=lodge.correlation_id, causation_id=lodge.command_id)
    kehu.complaints.acknowledge(acknowledge, lodged.id, at=at(2025, 9, 30, 17, 0))
    classify = as_(
        MANAGER,
        correlation_id=lodge.correlation_id,
        causation_id=acknowledge.command_id,
        reason="升级为质量问题",
    )
    kehu.complaints.classify(classify, lodged.id, category="product_quality", severity="high")
    aside = as_(HANDLER, correlation_id=lodge.correlation_id)
    kehu.complaints.assign(aside, lodged.id, handler_id="user:li", handler_name="李娜")
    late = kehu.complaints.lodge(
        as_(DESK),
        customer_id=customer.id,
        channel="in_person",
        category="billing",
        severity="high",
        description="发票金额有误",
        received_at=at(2025, 9, 30, 17, 0),
    )
    kehu.catch_up()
    clock.now = at(2025, 10, 9, 14, 0)  # the late complaint's response was due at 12:00
    assert kehu.scheduler.run_once()["sla-escalation"] >= 1
    kehu.keys.issue(as_(OPERATOR), Role.AUDITOR, "审计")
    kehu.catch_up()
    return Story(
        customer_id=str(customer.id),
        complaint_id=str(lodged.id),
        late_complaint_id=str(late.id),
        lodge=lodge,
        acknowledge=acknowledge,
        classify=classify,
        aside=aside,
    )


def everything(kehu: System, where: AuditFilter | None = None) -> list[AuditEntry]:
    rows, total = kehu.audit_queries.trail(where or AuditFilter(), 0, 10_000)
    assert len(rows) == total
    return rows


def test_every_business_event_has_one_row_and_bookkeeping_has_none(
    kehu: System, clock: Clock
) -> None:
    tell(kehu, clock)
    rows = everything(kehu)
    business = kehu.store.feed(0, 10_000)  # the feed leaves receipts and keys out too
    assert [r.position for r in rows] == [e.position for e in business]
    assert [r.type for r in rows] == [e.type for e in business]
    stored = kehu.store.feed(0, 10_000, include_receipts=True)
    kinds = {e.aggregate_type for e in stored}
    assert {"CommandReceipt", "ApiKey"} <= kinds  # they are in the store …
    assert not {"CommandReceipt", "ApiKey"} & {r.aggregate_type for r in rows}  # … not here
    # The last stored event is the API key: the trail's position still reached it.
    assert stored[-1].aggregate_type == "ApiKey"
    trail = next(p for p in kehu.projections if isinstance(p, AuditTrailProjection))
    assert trail.position() == kehu.store.max_position()


def test_each_row_carries_the_events_envelope(kehu: System, clock: Clock) -> None:
    story = tell(kehu, clock)
    for row, recorded in zip(everything(kehu), kehu.store.feed(0, 10_000), strict=True):
        envelope = recorded.envelope
        assert envelope is not None
        assert (row.aggregate_id, row.version) == (str(recorded.aggregate_id), recorded.version)
        assert row.recorded_at == recorded.recorded_at.astimezone(UTC)
        assert (row.actor_id, row.actor_role, row.command) == (
            envelope.actor_id,
            envelope.actor_role,
            envelope.command,
        )
        assert (row.command_id, row.correlation_id, row.causation_id, row.reason) == (
            envelope.command_id,
            envelope.correlation_id,
            envelope.causation_id,
            envelope.reason,
        )
    [classified] = everything(kehu, AuditFilter(event_type="Complaint.Classified"))
    assert classified.actor_id == "user:chen"
    assert classified.actor_role == "manager"
    assert classified.reason == "升级为质量问题"
    assert classified.causation_id == story.acknowledge.command_id
    assert classified.correlation_id == story.lodge.command_id


def test_the_trail_is_filtered_by_actor_role_aggregate_type_command_and_conversation(
    kehu: System, clock: Clock
) -> None:
    story = tell(kehu, clock)
    by_clerk = everything(kehu, AuditFilter(actor_id="user:info"))
    assert {r.type for r in by_clerk} == {
        r.type for r in everything(kehu, AuditFilter(command="customers.register"))
    }
    assert "Customer.Registered" in {r.type for r in by_clerk}
    assert by_clerk[0].command_id == "register-zhao-min"  # the Idempotency-Key
    assert {r.actor_id for r in everything(kehu, AuditFilter(actor_role="complaints"))} == {
        "user:li"
    }
    desk = everything(kehu, AuditFilter(actor_role="service", aggregate_type="Complaint"))
    assert [(r.type, r.aggregate_id) for r in desk] == [
        ("Complaint.Lodged", story.late_complaint_id)
    ]
    one = everything(kehu, AuditFilter(aggregate_id=story.complaint_id))
    assert [r.version for r in one] == list(range(1, len(one) + 1))
    assert [r.type for r in one] == [
        "Complaint.Lodged",
        "Complaint.Acknowledged",
        "Complaint.Classified",
        "Complaint.Assigned",
    ]
    conversation = everything(kehu, AuditFilter(correlation_id=story.lodge.correlation_id))
    assert [r.command_id for r in conversation] == [
        story.lodge.command_id,
        story.acknowledge.command_id,
        story.classify.command_id,
        story.aside.command_id,
    ]
    assert everything(kehu, AuditFilter(command_id=story.classify.command_id)) == [conversation[2]]
    assert everything(kehu, AuditFilter(causation_id=story.acknowledge.command_id)) == [
        conversation[2]
    ]
    assert everything(kehu, AuditFilter(actor_id="user:nobody")) == []


def test_the_scheduler_acts_as_the_system_actor_with_its_own_command_ids(
    kehu: System, clock: Clock
) -> None:
    story = tell(kehu, clock)
    rows = everything(kehu, AuditFilter(actor_role="system", aggregate_type="Complaint"))
    assert {r.aggregate_id for r in rows} == {story.late_complaint_id}
    assert [r.type for r in rows] == ["Complaint.SlaBreached", "Complaint.Escalated"]
    breach = rows[0]
    assert breach.actor_id == "system"
    assert breach.command == "complaints.record_breach"
    assert breach.reason == "SLA policy"
    assert breach.command_id is not None
    assert breach.command_id.startswith(f"sla-escalation:breach:{story.late_complaint_id}")
    assert breach.business_time == at(2025, 10, 9, 14, 0)  # detected then, not recorded then
    # The breach is its own cause: a root of its own chain.
    assert kehu.audit_queries.causal_chain(breach.command_id) == rows


def test_business_time_comes_from_the_event_and_selects_a_range(kehu: System, clock: Clock) -> None:
    story = tell(kehu, clock)
    rows = {r.type: r for r in everything(kehu, AuditFilter(aggregate_id=story.complaint_id))}
    assert rows["Complaint.Lodged"].business_time == at(2025, 9, 30, 16, 30)  # received_at
    assert rows["Complaint.Acknowledged"].business_time == at(2025, 9, 30, 17, 0)  # at
    assert rows["Complaint.Classified"].business_time is None  # it names no time
    [registered] = everything(kehu, AuditFilter(event_type="Customer.Registered"))
    assert registered.business_time == at(2025, 9, 30, 0, 0)  # registered_on, Shanghai midnight
    late = everything(
        kehu,
        AuditFilter(business_from=at(2025, 10, 9, 0, 0), business_to=at(2025, 10, 10, 0, 0)),
    )
    assert late
    assert all(
        r.business_time is not None and at(2025, 10, 9) <= r.business_time < at(2025, 10, 10)
        for r in late
    )
    assert {"Complaint.SlaBreached", "Complaint.Escalated"} <= {r.type for r in late}
    before = everything(kehu, AuditFilter(business_to=at(2025, 9, 30, 16, 30)))
    assert "Complaint.Lodged" not in {r.type for r in before}  # the end is exclusive
    assert "Customer.Registered" in {r.type for r in before}
    by_business = kehu.audit_queries.trail(AuditFilter(), 0, 10_000, order_by="business_time")[0]
    times = [r.business_time for r in by_business]
    known = [t for t in times if t is not None]
    assert known == sorted(known)
    assert times[len(known) :] == [None] * (len(times) - len(known))  # none last


def test_recorded_time_ranges_are_half_open(kehu: System, clock: Clock) -> None:
    tell(kehu, clock)
    rows = everything(kehu)
    low, high = rows[2].recorded_at, rows[-2].recorded_at
    selected = everything(kehu, AuditFilter(recorded_from=low, recorded_to=high))
    assert [r.position for r in selected] == [
        r.position for r in rows if low <= r.recorded_at < high
    ]
    assert rows[2] in selected
    assert rows[-2] not in selected
    in_shanghai = low.astimezone(SH)  # any offset names the same instant
    assert everything(kehu, AuditFilter(recorded_from=in_shanghai, recorded_to=high)) == selected
    future = datetime.now(UTC) + timedelta(days=1)
    assert everything(kehu, AuditFilter(recorded_from=future)) == []


def test_the_trail_pages_in_global_order_by_offset_or_after_a_position(
    kehu: System, clock: Clock
) -> None:
    tell(kehu, clock)
    rows = everything(kehu)
    assert [r.position for r in rows] == sorted(r.position for r in rows)
    pages: list[AuditEntry] = []
    offset = 0
    while True:
        page, total = kehu.audit_queries.trail(AuditFilter(), offset, 3)
        assert total == len(rows)
        if not page:
            break
        assert len(page) <= 3
        pages.extend(page)
        offset += len(page)
    assert pages == rows
    followed: list[AuditEntry] = []
    after = 0
    while page := kehu.audit_queries.trail(AuditFilter(after_position=after), 0, 4)[0]:
        followed.extend(page)
        after = page[-1].position
    assert followed == rows
    newest, _ = kehu.audit_queries.trail(AuditFilter(), 0, 3, descending=True)
    assert newest == rows[::-1][:3]


def test_the_causal_chain_follows_causation_transitively(kehu: System, clock: Clock) -> None:
    story = tell(kehu, clock)
    chain = kehu.audit_queries.causal_chain(story.lodge.command_id)
    assert [(r.command_id, r.type) for r in chain] == [
        (story.lodge.command_id, "Complaint.Lodged"),
        (story.acknowledge.command_id, "Complaint.Acknowledged"),
        (story.classify.command_id, "Complaint.Classified"),
    ]
    # The assignment shares the conversation but nothing in the chain caused it.
    assert story.aside.command_id not in {r.command_id for r in chain}
    from_acknowledgement = kehu.audit_queries.causal_chain(story.acknowledge.command_id)
    assert [r.type for r in from_acknowledgement] == [
        "Complaint.Acknowledged",
        "Complaint.Classified",
    ]
    page, total = kehu.audit_queries.causal_chain_page(story.lodge.command_id, offset=1, limit=1)
    assert (page, total) == ([chain[1]], 3)
    assert kehu.audit_queries.causal_chain("no-such-command") == []


def test_a_cycle_of_causation_ids_ends(kehu: System, clock: Clock) -> None:
    """Callers choose X-Causation-Id, so two commands may name each other."""
    customer = kehu.customers.register(
        as_(CLERK), kind="individual", name="钱进", phone="13600005678"
    )
    first = as_(CLERK, idempotency_key="cycle-a", request_hash="a", causation_id="cycle-b")
    second = as_(CLERK, idempotency_key="cycle-b", request_hash="b", causation_id="cycle-a")
    kehu.customers.update_profile(first, customer.id, {"segment": "vip"})
    kehu.customers.update_profile(second, customer.id, {"segment": "key_account"})
    kehu.catch_up()
    chain = kehu.audit_queries.causal_chain("cycle-a")
    assert [r.command_id for r in chain] == ["cycle-a", "cycle-b"]


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("KEHU_STORE", settings.store)
    if settings.store == "sqlite":
        monkeypatch.setenv("KEHU_DATA_DIR", str(settings.data_dir))
    else:
        assert settings.database_url is not None
        monkeypatch.setenv("KEHU_DATABASE_URL", settings.database_url.get_secret_value())
        monkeypatch.setenv("KEHU_POSTGRES_SCHEMA", settings.postgres_schema)
        monkeypatch.setenv("KEHU_MASTER_KEY", TEST_MASTER_KEY)


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def audit() -> None:
        """The audit group, as interfaces/cli/main.py registers it."""

    app.command("trail")(trail_command)
    return app


def test_kehu_audit_trail_prints_json_lines_or_a_table(
    kehu: System, clock: Clock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = tell(kehu, clock)
    # Events the CLI's own catch-up must take in (the views have not seen it yet).
    kehu.complaints.escalate(
        as_(HANDLER), UUID(story.complaint_id), reason="客户再次来电", at=at(2025, 10, 9, 15, 0)
    )
    _cli_env(monkeypatch, settings)
    monkeypatch.setenv("COLUMNS", "240")
    runner = CliRunner()
    result = runner.invoke(
        _cli(), ["trail", "--aggregate-id", story.complaint_id, "--role", "complaints", "--json"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["type"] for line in lines] == [
        "Complaint.Lodged",
        "Complaint.Acknowledged",
        "Complaint.Assigned",
        "Complaint.Escalated",
    ]
    assert lines[0]["actor_id"] == "user:li"
    assert lines[0]["business_time"] == "2025-09-30T08:30:00+00:00"
    result = runner.invoke(
        _cli(),
        ["trail", "--type", "Complaint.SlaBreached", "--since", "2025-10-09", "--business"],
    )
    assert result.exit_code == 0, result.output
    assert "Complaint.SlaBreached" in result.stdout
    assert "complaints.record_breach" in result.stdout
    assert "2025-10-09 14:00:00" in result.stdout  # business time, in Shanghai
    assert "1 of 1 events" in result.stdout
    result = runner.invoke(_cli(), ["trail", "--since", "yesterday"])
    assert result.exit_code == 2
