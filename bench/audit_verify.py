"""Measure the audit seal: sealing, `verify` against the store, export, and the offline
package check, on a freshly seeded store (SQLite file or a scratch PostgreSQL schema).

    .venv/bin/python -m bench.audit_verify --store sqlite --customers 3300
    .venv/bin/python -m bench.audit_verify --store postgres --dsn postgresql://postgres@127.0.0.1:5432/test

Rates are printed, never asserted (the machine decides them).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from application.audit import Sealer, verify_store
from application.audit_chain import VerifyReport
from application.audit_package import export_package, verify_package
from application.demo import seed
from application.settings import Settings
from interfaces.bootstrap import build, init_storage

KEY = "bench-audit-key-0123456789abcdef"


def verify_repeatedly(sealer: Sealer, key: str, repeat: int) -> list[VerifyReport]:
    """``kehu audit verify`` against the store, ``repeat`` times; each must pass."""
    reports = []
    for _ in range(repeat):
        report = verify_store(sealer.ledger, key.encode())
        assert report.ok, report.first
        print(
            f"verify (store): {report.events:,} events in {report.elapsed:.2f} s"
            f" ({report.rate:,.0f} events/s)"
        )
        reports.append(report)
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=3300)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="kehu-audit-bench-"))
    schema = f"kehu_bench_{uuid.uuid4().hex[:8]}"
    if args.store == "sqlite":
        settings = Settings(store="sqlite", data_dir=scratch, audit_key=KEY)
    else:
        settings = Settings(
            store="postgres",
            database_url=args.dsn,
            postgres_schema=schema,
            audit_key=KEY,
            master_key=KEY,
        )
    try:
        init_storage(settings)
        system = build(settings)
        try:
            assert system.sealer is not None
            started = time.perf_counter()
            summary = seed(system.store, customers=args.customers)
            print(f"seeded {summary.events:,} events in {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            sealed = system.sealer.seal()
            elapsed = time.perf_counter() - started
            print(f"sealed {sealed:,} events in {elapsed:.2f} s ({sealed / elapsed:,.0f}/s)")
            verify_repeatedly(system.sealer, KEY, args.repeat)
            out = scratch / "package"
            started = time.perf_counter()
            exported = export_package(system.sealer.ledger, out, KEY.encode())
            elapsed = time.perf_counter() - started
            print(
                f"export: {exported.events:,} events in {elapsed:.2f} s ({exported.events / elapsed:,.0f}/s)"
            )
            report = verify_package(out, KEY.encode())
            assert report.ok, report.first
            print(
                f"verify (package): {report.events:,} events in {report.elapsed:.2f} s"
                f" ({report.rate:,.0f} events/s)"
            )
        finally:
            system.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if args.store == "postgres":
            import psycopg

            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
