"""``kehu privacy``: a person's PIPL requests from the command line, and master-key rotation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from application.context import CommandContext
from application.settings import Settings
from interfaces.bootstrap import System, build
from interfaces.cli.operator import CLI_OPERATOR, acts
from interfaces.cli.progress import console

privacy_app = typer.Typer(
    help="A person's PIPL requests (copy, erasure) and the master key.", no_args_is_help=True
)


def _system() -> System:
    return build(Settings())


def _ctx() -> CommandContext:
    return CommandContext.for_principal(CLI_OPERATOR)


@privacy_app.command("copy")
@acts("privacy.access")
def copy(
    customer_id: UUID,
    request_id: Annotated[str, typer.Option(help="The person's request, as your records name it")],
    out: Annotated[Path, typer.Option(help="Directory for the JSON and the readable copy")],
) -> None:
    """查阅、复制 (PIPL art. 45): write everything kehu holds about the person, as
    ``<id>.json`` and ``<id>.md``, and record each copy given with its SHA-256."""
    system = _system()
    try:
        system.catch_up()
        out.mkdir(parents=True, exist_ok=True)
        for format, suffix in (("json", "json"), ("markdown", "md")):
            result, content, digest = system.pipl.provide_copy(
                _ctx(), customer_id, request_id, format=format
            )
            (out / f"{customer_id}.{suffix}").write_bytes(content)
            console.print(
                f"[green]{customer_id}.{suffix}[/green] written to {out} (sha256 {digest},"
                f" recorded at position {result.position})"
            )
    finally:
        system.close()


@privacy_app.command("erase")
@acts("privacy.erase")
def erase(
    customer_id: UUID,
    request_id: Annotated[str, typer.Option(help="The person's request")],
    reason: Annotated[str, typer.Option(help="Why (the legal ground)")],
) -> None:
    """删除 (PIPL art. 47): record the erasure and destroy the person's key."""
    system = _system()
    try:
        result = system.pipl.erase(_ctx(), customer_id, request_id, reason)
        system.catch_up()
    finally:
        system.close()
    console.print(f"[green]erased[/green] at position {result.position}")


@privacy_app.command("rotate-master-key")
def rotate_master_key() -> None:
    """Re-wrap every person's key under ``KEHU_MASTER_KEY`` (the old key given in
    ``KEHU_MASTER_KEYS_RETIRED``); afterwards the old key may be dropped."""
    system = _system()
    try:
        started = time.perf_counter()
        with console.status("re-wrapping the data keys …"):
            changed = system.store.keys.rotate()
        elapsed = time.perf_counter() - started
    finally:
        system.close()
    rate = changed / elapsed if elapsed > 0 else 0.0
    console.print(
        f"[green]{changed} key(s) re-wrapped[/green] under master key"
        f" {system.store.keys.master.current_id} in {elapsed:.2f} s ({rate:,.0f} keys/s)"
    )
