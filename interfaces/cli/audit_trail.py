"""``kehu audit trail``: who did what, filtered, as a table or JSON Lines.

Registered on the ``audit`` command group (``interfaces/cli/main.py``). It reads the audit
trail read model after bringing it up to date with the event store, so it answers the
same on a laptop's SQLite file as next to a running server.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from application.context import Role
from application.permissions import authorize
from application.settings import Settings
from domain.calendar import SHANGHAI
from interfaces.bootstrap import System, build, init_storage
from interfaces.cli.operator import CLI_OPERATOR, acts
from interfaces.cli.progress import catch_up
from projections.audit import AuditEntry, AuditFilter, AuditTrailProjection

err = Console(stderr=True)


def parse_moment(text: str, option: str) -> datetime:
    """An ISO date (that day's midnight) or date-time; without an offset it is
    Asia/Shanghai time, the business calendar's zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO date (2025-10-09) or time (2025-10-09T14:00+08:00)",
            param_hint=option,
        ) from None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=SHANGHAI)


def _catch_up(system: System) -> None:
    """Bring the audit trail up to the store's head (with a progress bar)."""
    catch_up(system, [p for p in system.projections if isinstance(p, AuditTrailProjection)])


def as_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "position": entry.position,
        "recorded_at": entry.recorded_at.isoformat(),
        "business_time": entry.business_time.isoformat() if entry.business_time else None,
        "aggregate_type": entry.aggregate_type,
        "aggregate_id": entry.aggregate_id,
        "version": entry.version,
        "type": entry.type,
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "command": entry.command,
        "command_id": entry.command_id,
        "correlation_id": entry.correlation_id,
        "causation_id": entry.causation_id,
        "reason": entry.reason,
    }


def _local(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _table(entries: list[AuditEntry], total: int) -> Table:
    table = Table(
        title="审计轨迹 audit trail",
        caption=f"{len(entries)} of {total} events; times in Asia/Shanghai",
        show_lines=True,
    )
    # Two facts a cell keep the table readable in 100 columns; ids fold rather than hide
    # behind an ellipsis, because an auditor copies them.
    table.add_column("pos", justify="right", no_wrap=True)
    table.add_column("recorded\nbusiness time", no_wrap=True)
    table.add_column("event\naggregate · version", overflow="fold", min_width=12)
    table.add_column("actor\nrole", overflow="fold", min_width=10)
    table.add_column("command\ncommand id", overflow="fold", min_width=12)
    table.add_column("reason", overflow="fold", min_width=8)
    for e in entries:
        table.add_row(
            str(e.position),
            f"{_local(e.recorded_at)}\n{_local(e.business_time) or '—'}",
            f"{e.type}\n{e.aggregate_id} · v{e.version}",
            f"{e.actor_id or ''}\n{e.actor_role or ''}",
            f"{e.command or ''}\n{e.command_id or ''}",
            e.reason or "",
        )
    return table


@acts("audit.trail")
def trail_command(
    actor: Annotated[str | None, typer.Option(help="The principal that acted")] = None,
    role: Annotated[Role | None, typer.Option(help="The role it acted in")] = None,
    aggregate_type: Annotated[
        str | None, typer.Option(help="Customer, Complaint, ServiceRequest, CreditProfile, …")
    ] = None,
    aggregate_id: Annotated[str | None, typer.Option(help="One aggregate's id")] = None,
    event_type: Annotated[
        str | None, typer.Option("--type", help="Event type, e.g. Complaint.Lodged")
    ] = None,
    command: Annotated[str | None, typer.Option(help="Command, e.g. complaints.lodge")] = None,
    command_id: Annotated[str | None, typer.Option(help="One command's id")] = None,
    correlation_id: Annotated[str | None, typer.Option(help="One conversation's id")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="From (inclusive): ISO date or time; no offset means Shanghai time"),
    ] = None,
    until: Annotated[str | None, typer.Option(help="To (exclusive), like --since")] = None,
    business: Annotated[
        bool,
        typer.Option("--business", help="--since/--until select business time, not recorded"),
    ] = False,
    after: Annotated[
        int | None, typer.Option(min=0, help="Only events after this global position")
    ] = None,
    newest_first: Annotated[bool, typer.Option("--newest-first", help="Newest first")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many")] = 50,
    json_lines: Annotated[bool, typer.Option("--json", help="JSON Lines on stdout")] = False,
) -> None:
    """审计轨迹: stored business events — who (actor, role), what (event, aggregate),
    through which command and why, when recorded and when it happened — in recorded order."""
    low = parse_moment(since, "--since") if since else None
    high = parse_moment(until, "--until") if until else None
    where = AuditFilter(
        actor_id=actor,
        actor_role=role.value if role else None,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        event_type=event_type,
        command=command,
        command_id=command_id,
        correlation_id=correlation_id,
        recorded_from=None if business else low,
        recorded_to=None if business else high,
        business_from=low if business else None,
        business_to=high if business else None,
        after_position=after,
    )
    settings = Settings()
    if settings.store == "sqlite":
        init_storage(settings)
    system = build(settings)
    try:
        authorize(CLI_OPERATOR, "audit.trail")
        _catch_up(system)
        entries, total = system.audit_queries.trail(where, 0, limit, descending=newest_first)
    finally:
        system.close()
    if json_lines:
        for entry in entries:
            typer.echo(json.dumps(as_json(entry), ensure_ascii=False))
        err.print(f"{len(entries)} of {total} events", highlight=False)
    else:
        Console().print(_table(entries, total))
    if len(entries) < total and entries and not newest_first:
        err.print(f"more: --after {entries[-1].position}", highlight=False)
