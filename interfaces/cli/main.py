"""The ``kehu`` command-line tool."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from application.clock import utc_now
from application.context import CommandContext, Role
from application.demo import seed
from application.errors import ApplicationError
from application.settings import Settings
from domain.base import DomainError
from interfaces.bootstrap import System, build, init_storage
from interfaces.cli.audit import audit_app
from interfaces.cli.audit_trail import trail_command
from interfaces.cli.models import models_app
from interfaces.cli.operator import CLI_OPERATOR, acts
from interfaces.cli.privacy import privacy_app
from interfaces.cli.progress import Rate, catch_up, console, progress_bar
from interfaces.cli.projections import projections_app
from interfaces.log_redaction import install_log_redaction

app = typer.Typer(help="kehu (客户): event-sourced customer management.", no_args_is_help=True)
db_app = typer.Typer(help="Database set-up.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
contracts_app = typer.Typer(help="Contracts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(contracts_app, name="contracts")
app.add_typer(audit_app, name="audit")
app.add_typer(projections_app, name="projections")
app.add_typer(models_app, name="models")
app.add_typer(privacy_app, name="privacy")
audit_app.command("trail")(trail_command)  # kehu audit trail


def _settings() -> Settings:
    settings = Settings()
    install_log_redaction(settings)  # every command's log lines, the worker's included
    return settings


@app.command()
def config() -> None:
    """Print the effective configuration (secrets hidden)."""
    typer.echo(json.dumps(_settings().public_view(), indent=2, ensure_ascii=False))


@db_app.command("init")
def db_init() -> None:
    """Create every table once (run before starting several workers)."""
    settings = _settings()
    init_storage(settings)
    where = settings.data_dir if settings.store == "sqlite" else settings.postgres_schema
    console.print(f"[green]tables ready[/green] ({settings.store}: {where})")


def _issue_key(
    system: System,
    role: Role,
    name: str,
    scopes: list[str] | None = None,
    expires_in_days: int | None = None,
) -> str:
    ctx = CommandContext.for_principal(CLI_OPERATOR, reason=f"key for {name}")
    expires_at = utc_now() + timedelta(days=expires_in_days) if expires_in_days else None
    token, _ = system.keys.issue(ctx, role, name, scopes=scopes or (), expires_at=expires_at)
    return token


def _refused(refusal: DomainError | ApplicationError) -> typer.Exit:
    console.print(f"[red]refused[/red] ({refusal.code}): {refusal.message}")
    return typer.Exit(1)


@keys_app.command("create")
@acts("keys.manage")
def keys_create(
    role: Annotated[Role, typer.Option(help="The key's role")] = Role.ADMIN,
    name: Annotated[str, typer.Option(help="Who or what the key is for")] = "",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="Limit the key to an action of its role (customers.read) or a context's"
            " (customers.*); repeat for several. None: everything the role may do."
        ),
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="The key stops working after this")
    ] = None,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    settings = _settings()
    if settings.store == "sqlite":
        init_storage(settings)
    system = build(settings)
    try:
        token = _issue_key(system, role, name or role.value, scope, expires_in_days)
    except (DomainError, ApplicationError) as refusal:
        raise _refused(refusal) from None
    finally:
        system.close()
    limits = f", scopes {' '.join(sorted(set(scope)))}" if scope else ""
    limits += f", expires in {expires_in_days} days" if expires_in_days else ""
    console.print(f"[green]API key for role {role.value}[/green]{limits} (shown once):")
    typer.echo(token)


@keys_app.command("revoke")
@acts("keys.manage")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The id part of kehu_<id>_<secret>")],
    reason: Annotated[str, typer.Option()] = "revoked by operator",
) -> None:
    """Revoke an API key (at once in this process; within 5 s in running servers)."""
    system = build(_settings())
    try:
        ctx = CommandContext.for_principal(CLI_OPERATOR, reason=reason)
        system.keys.revoke(ctx, key_id, reason)
    except (DomainError, ApplicationError) as refusal:
        raise _refused(refusal) from None
    finally:
        system.close()
    console.print(f"[yellow]revoked[/yellow] {key_id}")


def _seed_demo(system: System, customers: int) -> None:
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("demo customers", total=customers, rate="")
        summary = seed(system.store, customers=customers, progress=Rate(bar, task, "customers"))
    elapsed = time.perf_counter() - started
    console.print(
        f"[green]demo data[/green]: {summary.customers} customers, {summary.events} events"
        f" in {elapsed:.1f} s ({summary.events / max(elapsed, 1e-9):,.0f} events/s)"
    )
    catch_up(system)


@contracts_app.command("hand-over")
@acts("contracts.read", "contracts.hand_over_data")
def contracts_hand_over(
    number: Annotated[str, typer.Argument(help="The contract number (合同编号)")],
    out: Annotated[Path, typer.Option(help="Directory to write the package to")] = Path("."),
    reason: Annotated[str, typer.Option(help="Why (recorded in the envelope)")] = "data hand-over",
) -> None:
    """客户数据移交: write the package of the contract's customer data and record its
    SHA-256 on the contract. If it was handed over already, write that package again
    (rebuilt from the store and checked against the recorded checksum)."""
    system = build(_settings())
    try:
        catch_up(system)
        contract_id = system.contracts.contract_id(number)
        contract = system.contracts.load(CLI_OPERATOR, contract_id)
        if contract.hand_over is None:
            system.contracts.hand_over_data(
                CommandContext.for_principal(CLI_OPERATOR, reason=reason), contract_id
            )
        package = system.contracts.hand_over_package(CLI_OPERATOR, contract_id)
    except (DomainError, ApplicationError) as refusal:
        raise _refused(refusal) from None
    finally:
        system.close()
    out.mkdir(parents=True, exist_ok=True)
    target = out / package.name
    target.write_bytes(package.content)
    console.print(
        f"[green]handed over[/green] {target} — {package.events} events up to position"
        f" {package.up_to_position}, sha256 {package.sha256}"
    )


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=1, max=100_000)] = 300,
) -> None:
    """Write realistic demo data (Chinese names, valid USCCs and ID numbers, two years of
    purchases and interactions) and bring the read models up to date."""
    settings = _settings()
    if settings.store == "sqlite":
        init_storage(settings)
    system = build(settings)
    try:
        _seed_demo(system, customers)
    finally:
        system.close()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int | None, typer.Option(help="API processes")] = None,
    with_demo: Annotated[
        bool,
        typer.Option("--demo", help="Seed demo data if the store is empty and print an admin key"),
    ] = False,
) -> None:
    """Serve the HTTP API, GraphQL and the projections."""
    import uvicorn

    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    if settings.store == "sqlite" or with_demo:
        init_storage(settings)
    if with_demo:
        system = build(settings)
        try:
            if system.store.max_position() == 0:
                _seed_demo(system, 300)
            token = _issue_key(system, Role.ADMIN, "demo admin")
        finally:
            system.close()
        console.print("\n[bold green]Try the API with this admin key[/bold green] (shown once):")
        typer.echo(token)
        console.print(
            f'  curl -H "Authorization: Bearer {token}" http://{host}:{port}/api/v1/events?limit=3\n',
            soft_wrap=True,
        )
    console.print(
        f"kehu on [bold]http://{host}:{port}[/bold] — API docs: http://{host}:{port}/docs,"
        f" GraphiQL: http://{host}:{port}/graphql ({settings.store} store)",
        soft_wrap=True,
    )
    if workers == 1:
        from interfaces.rest.app import create_app

        uvicorn.run(
            create_app(settings=settings), host=host, port=port, log_level=settings.log_level
        )
        return
    # Several API processes: the tables already exist (created above or by `kehu db init`);
    # the projections run once, here in the supervising process, not in every worker.
    os.environ["KEHU_RUN_PROJECTIONS"] = "false"
    os.environ["KEHU_RUN_SCHEDULER"] = "false"
    system = build(settings)
    if settings.run_projections:
        system.start_projections()
    if settings.run_scheduler:
        system.start_scheduler()
    try:
        uvicorn.run(
            "interfaces.rest.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level,
        )
    finally:
        system.close()


@app.command()
def worker() -> None:
    """Run the projections and the scheduler on their own (set KEHU_RUN_PROJECTIONS=false and
    KEHU_RUN_SCHEDULER=false on the API processes)."""
    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    system = build(settings)
    system.start_projections()
    system.start_scheduler()
    console.print(
        f"projection and policy worker following the {settings.store} event store; Ctrl-C to stop"
    )
    stop = threading.Event()
    try:
        while not stop.wait(5):
            lag = system.projection_lag()
            logging.getLogger("kehu.worker").debug("lag %s", lag)
    except KeyboardInterrupt:
        pass
    finally:
        system.close()


if __name__ == "__main__":  # pragma: no cover
    app()
