"""``kehu audit``: tamper evidence (防篡改) — seal, verify, export a package.

``audit_app`` is the ``audit`` command group; other audit commands (the trail) join it.
Exit codes: 0 verified, 1 tampering found (the first finding is named), 2 bad usage.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from eventsourcing.persistence import PersistenceError
from rich.console import Console

from application.audit import AuditError, Span, resolve_key, verify_store
from application.audit_chain import VerifyReport, key_id
from application.audit_package import PackageError, export_package, verify_package
from application.settings import Settings
from interfaces.bootstrap import System, build, init_storage
from interfaces.cli.progress import Rate, progress_bar

audit_app = typer.Typer(
    help="Audit: tamper evidence of the event store (seal, verify, export).",
    no_args_is_help=True,
)
err = Console(stderr=True)


def _system() -> System:
    settings = Settings()
    if settings.store == "sqlite":
        init_storage(settings)  # also creates the audit tables of a store made before them
    return build(settings)


def _key(
    settings: Settings, key: str | None, key_file: Path | None, *, local: bool = True
) -> bytes | None:
    """--key, --key-file, KEHU_AUDIT_KEY or (``local``: checking this machine's own SQLite
    store) the data directory's generated key."""
    if key is not None and key_file is not None:
        raise typer.BadParameter("give --key or --key-file, not both")
    if key_file is not None:
        try:
            return key_file.read_text(encoding="utf-8").strip().encode("utf-8")
        except OSError as error:
            raise typer.BadParameter(str(error), param_hint="--key-file") from None
    if key is not None:
        return key.strip().encode("utf-8")
    if not local:
        audit_key = settings.audit_key
        return audit_key.get_secret_value().strip().encode("utf-8") if audit_key else None
    return resolve_key(settings, create=False)


KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="The audit key (default: KEHU_AUDIT_KEY; on SQLite the data dir's audit.key)",
        show_default=False,
    ),
]
KeyFileOption = Annotated[
    Path | None, typer.Option("--key-file", help="A file holding the audit key")
]
FromOption = Annotated[
    int | None, typer.Option("--from", min=1, help="First global position to check")
]
ToOption = Annotated[int | None, typer.Option("--to", min=1, help="Last global position")]


@audit_app.command("seal")
def seal_command() -> None:
    """Seal every event stored since the last seal and sign a checkpoint (what a running
    `kehu worker` does continuously)."""
    system = _system()
    try:
        sealer = system.sealer
        if sealer is None:
            err.print("[red]this store cannot be sealed[/red]")
            raise typer.Exit(2)
        with sealer.ledger.reading() as reader:
            last = reader.last_seal()
            behind = reader.max_event_position() - (last[0] if last else 0)
        with progress_bar() as bar:
            rate = Rate(bar, bar.add_task("sealing", total=max(behind, 0), rate=""))
            sealed = sealer.seal(progress=lambda n: rate(n, n))
    except (AuditError, PersistenceError) as refused:
        err.print(f"[red]refused[/red]: {refused}")
        raise typer.Exit(1) from None
    finally:
        system.close()
    elapsed = max(time.perf_counter() - rate.started, 1e-9)
    signed = "signed" if sealer.key is not None else "[yellow]NOT signed (no audit key)[/yellow]"
    err.print(
        f"[green]sealed[/green] {sealed:,} events in {elapsed:.1f} s"
        f" ({sealed / elapsed:,.0f} events/s); checkpoint {signed}"
    )


@audit_app.command("verify")
def verify_command(
    first: FromOption = None,
    last: ToOption = None,
    package: Annotated[
        Path | None,
        typer.Option("--package", help="Check an exported package offline instead of the store"),
    ] = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="The report as JSON on stdout")
    ] = False,
) -> None:
    """Check that no stored event was modified, deleted, inserted or reordered since it was
    sealed, and that every checkpoint's signature holds. Exits 1 naming the first finding."""
    settings = Settings()
    audit_key = _key(settings, key, key_file, local=package is None)
    if first is not None and last is not None and last < first:
        raise typer.BadParameter("--to must not be before --from")
    if package is not None:
        if first is not None or last is not None:
            raise typer.BadParameter("--from/--to select positions of the store, not a package")
        report = _verify_package(package, audit_key)
    else:
        try:
            report = _verify_store(settings, audit_key, first, last)
        except PersistenceError as error:
            err.print(f"[red]cannot read the event store[/red]: {error} (run `kehu db init`?)")
            raise typer.Exit(2) from None
    _print(report, json_output)
    if not report.ok:
        raise typer.Exit(1)


def _verify_store(
    settings: Settings, key: bytes | None, first: int | None, last: int | None
) -> VerifyReport:
    system = _system()
    try:
        if system.sealer is None:
            err.print("[red]this store has no audit seal[/red]")
            raise typer.Exit(2)
        with progress_bar() as bar:
            task = bar.add_task("verifying", total=None, rate="")
            rate = Rate(bar, task)

            def started(covered: Span) -> None:
                bar.update(task, total=max(covered.through - covered.after, 0))
                err.print(
                    f"checking positions {covered.after + 1}–{covered.through} of the"
                    f" {settings.store} event store"
                    + (
                        f" (from the checkpoint at {covered.after})"
                        if covered.anchor is not None
                        else ""
                    ),
                    highlight=False,
                )

            return verify_store(
                system.sealer.ledger,
                key,
                first=first,
                last=last,
                default_interval=settings.audit_checkpoint_every,
                progress=rate,
                on_span=started,
            )
    finally:
        system.close()


def _verify_package(path: Path, key: bytes | None) -> VerifyReport:
    try:
        with progress_bar() as bar:
            task = bar.add_task("verifying package", total=None, rate="")
            return verify_package(
                path,
                key,
                progress=Rate(bar, task),
                on_span=lambda after, through: bar.update(task, total=max(through - after, 0)),
            )
    except PackageError as broken:
        err.print(f"[red]cannot verify[/red]: {broken}")
        raise typer.Exit(1) from None


def _print(report: VerifyReport, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    rate = f"{report.events:,} events in {report.elapsed:.2f} s ({report.rate:,.0f} events/s)"
    for warning in report.warnings:
        err.print(f"[yellow]warning[/yellow]: {warning}", highlight=False)
    if report.ok:
        err.print(
            f"[green]verified[/green]: {rate}; {report.seals:,} seals,"
            f" {report.checkpoints:,} checkpoints"
            + (" (signatures checked)" if report.signatures_checked else " (signatures UNCHECKED)"),
            highlight=False,
        )
    else:
        first = report.first
        assert first is not None
        err.print(
            f"[bold red]TAMPERING[/bold red] {first.describe()}", highlight=False, soft_wrap=True
        )
        shown = report.findings[:20]
        more = len(report.findings) - len(shown)
        err.print(
            f"{len(report.findings)}{'+' if report.findings_truncated else ''} finding(s)"
            f" — checked {rate}:",
            highlight=False,
        )
        for finding in shown:
            err.print(f"  {finding.describe()}", highlight=False, soft_wrap=True)
        if more > 0:
            err.print(f"  … and {more} more (--json lists them all)")
    if report.not_yet_sealed:
        err.print(
            f"{report.not_yet_sealed:,} events after position {report.through} are not yet"
            " sealed (not a failure; the worker seals them)",
            highlight=False,
        )
    last = report.last_checkpoint
    if last is not None:
        err.print(
            f"last checkpoint: position {last.position}, #{last.seq}, chain"
            f" {last.chain.hex()}, signed {last.sealed_at} by key {last.key_id}"
            " — keep a copy outside the database to detect a truncated log",
            highlight=False,
            soft_wrap=True,
        )


@audit_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="An empty or new directory")],
    first: FromOption = None,
    last: ToOption = None,
    seal: Annotated[
        bool,
        typer.Option("--seal/--no-seal", help="Seal new events first, so the package is current"),
    ] = True,
) -> None:
    """Write an audit package: the events as JSON Lines with their seals and signed
    checkpoints, a manifest with checksums and a README; `kehu audit verify --package`
    checks it offline."""
    settings = Settings()
    system = _system()
    try:
        sealer = system.sealer
        if sealer is None:
            err.print("[red]this store has no audit seal[/red]")
            raise typer.Exit(2)
        if seal:
            sealer.seal()
        with progress_bar() as bar:
            task = bar.add_task("exporting", total=None, rate="")

            def started(after: int, through: int) -> None:
                bar.update(task, total=max(through - after, 0))

            summary = export_package(
                sealer.ledger,
                out,
                sealer.key,
                first=first,
                last=last,
                default_interval=settings.audit_checkpoint_every,
                progress=Rate(bar, task),
                on_span=started,
            )
    except (AuditError, PackageError, PersistenceError) as refused:
        err.print(f"[red]refused[/red]: {refused}")
        raise typer.Exit(1) from None
    finally:
        system.close()
    err.print(
        f"[green]package written[/green] to {summary.path}: positions {summary.after + 1}–"
        f"{summary.through}, {summary.events:,} events, {summary.seals:,} seals,"
        f" {summary.checkpoints:,} checkpoints in {summary.elapsed:.1f} s"
        + (
            f"; manifest signed by key {key_id(sealer.key)}"
            if sealer.key is not None
            else "; [yellow]unsigned (no audit key)[/yellow]"
        ),
        highlight=False,
    )
    if summary.not_exported_unsealed:
        err.print(
            f"about {summary.not_exported_unsealed:,} newer positions are not sealed yet and"
            " not in the package",
            highlight=False,
        )
