"""Benchmark 1 — commands over HTTP, side by side in one run:

- **kehu**: ``kehu serve`` (uvicorn, one API process, projections and scheduler off) on
  its own schema, every request with a real API key (``kehu keys create``) and a fresh
  Idempotency-Key, so each command writes its events, envelope and receipt;
- **naive**: :mod:`bench.naive_app` served the same way on another schema;
- **raw**: one-row INSERT commits with psycopg into a plain table.

Each with the same concurrent clients in a separate process (:mod:`bench.load`). Then the
command path is profiled in-process (sequential commands under cProfile), to show where a
command's time goes.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

from application.context import CommandContext, Principal, Role
from application.demo import DEMO_ACTOR
from domain.complaint import Complaint
from domain.customer import Customer
from interfaces.bootstrap import build, init_storage

from .common import (
    BIN,
    DATABASE,
    ROOT,
    Row,
    drop_schema,
    dsn_for,
    free_port,
    kehu_cli,
    kehu_env,
    served,
    settings_for,
)
from .naive_app import Thing, Things

WORKLOADS = ("create", "act", "mix")
KEHU, NAIVE, RAW = "cmd_kehu", "cmd_naive", "cmd_raw"


def run(
    *, duration: float, warmup: float, concurrency: int, targets: int
) -> tuple[list[Row], dict[str, Any]]:
    for schema in (KEHU, NAIVE, RAW):
        drop_schema(DATABASE, schema)
    scratch = Path(tempfile.mkdtemp(prefix="kehu-bench-"))
    kehu_targets = scratch / "kehu.json"
    naive_targets = scratch / "naive.json"
    kehu_targets.write_text(json.dumps(_prepare_kehu(targets)))
    naive_targets.write_text(json.dumps(_prepare_naive(targets)))
    token = (
        kehu_cli("keys", "create", "--role", "integrator", "--name", "bench", env=kehu_env(KEHU))
        .strip()
        .splitlines()[-1]
    )
    load = {"duration": duration, "warmup": warmup, "concurrency": concurrency}
    results: dict[str, dict[str, Any]] = {}
    memory: dict[str, float] = {}

    port = free_port()
    with served([str(BIN / "kehu"), "serve", "--port", str(port)], kehu_env(KEHU), port) as server:
        for workload in WORKLOADS:
            results[f"kehu/{workload}"] = _http(
                server.url, "kehu", workload, kehu_targets, token, load
            )
        memory["kehu API (commands)"] = server.peak_rss_mb()

    port = free_port()
    naive_env = _naive_env()
    command = [
        str(BIN / "python"),
        "-m",
        "uvicorn",
        "bench.naive_app:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with served(command, naive_env, port) as server:
        for workload in WORKLOADS:
            results[f"naive/{workload}"] = _http(
                server.url, "naive", workload, naive_targets, "", load
            )
        memory["naive API"] = server.peak_rss_mb()

    _prepare_raw()
    results["raw"] = _load(["sql", "--dsn", dsn_for(DATABASE), "--schema", RAW], load)
    for name, result in results.items():
        print(
            f"  {name:12s} {result['requests_per_second']:8.1f} req/s  p50 {result['p50_ms'] or 0:6.1f} ms  p99 {result['p99_ms'] or 0:6.1f} ms  {result['statuses']}"
        )
    rows = _rows(results, concurrency)
    profile = profile_command_path()
    grouped = group_commit_potential(concurrency)
    rows.append(
        Row(
            f"Group commit potential: {concurrency} registrations per save() vs one per save() (in-process, sequential)",
            grouped["grouped_per_second"],
            "commands/s",
            grouped["single_per_second"],
            "one save() (one transaction, one table lock, one fsync) per command",
            note=f"profile of one command: {profile['ms_per_command']:.1f} ms, of which "
            + ", ".join(f"{name} {ms:.1f} ms" for name, ms in profile["ms_per_part"].items()),
        )
    )
    details = {"http": results, "memory_mb": memory, "profile": profile, "group_commit": grouped}
    return rows, {**details, "load": load}


def _rows(results: dict[str, dict[str, Any]], concurrency: int) -> list[Row]:
    rows: list[Row] = []
    raw = results["raw"]
    for workload in WORKLOADS:
        mine, naive = results[f"kehu/{workload}"], results[f"naive/{workload}"]
        label = f"HTTP commands, {workload} ({concurrency} clients)"
        rows.append(
            Row(
                f"{label}: throughput vs naive endpoint",
                mine["requests_per_second"],
                "req/s",
                naive["requests_per_second"],
                "naive FastAPI + eventsourcing",
                goal=(">=", 3.0),
                goal_on="ratio",
                extra={"kehu": mine, "naive": naive},
            )
        )
        rows.append(
            Row(
                f"{label}: throughput vs raw INSERT commits",
                mine["requests_per_second"],
                "req/s",
                raw["requests_per_second"],
                "psycopg one-row INSERT commits",
                goal=(">=", 1.0),
                goal_on="ratio",
            )
        )
        rows.append(
            Row(
                f"{label}: p99 latency",
                mine["p99_ms"],
                "ms",
                naive["p99_ms"],
                "naive endpoint p99",
                higher_is_better=False,
                goal=("<=", 50.0),
                note=f"p50 {mine['p50_ms'] or 0:.1f} ms (naive {naive['p50_ms'] or 0:.1f} ms, raw {raw['p50_ms'] or 0:.1f} ms)",
            )
        )
    return rows


def _http(
    url: str, target: str, workload: str, targets: Path, token: str, load: dict[str, Any]
) -> dict[str, Any]:
    args = [
        "http",
        "--url",
        url,
        "--target",
        target,
        "--workload",
        workload,
        "--targets",
        str(targets),
    ]
    if token:
        args += ["--token", token]
    return _load(args, load)


def _load(args: list[str], load: dict[str, Any]) -> dict[str, Any]:
    options = [f"--{key}={value}" for key, value in load.items()]
    done = subprocess.run(  # noqa: S603 - our own load generator
        [sys.executable, "-m", "bench.load", *args, *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _prepare_kehu(count: int) -> dict[str, list[str]]:
    """Customers and open (acknowledged) complaints to act on."""
    settings = settings_for(KEHU)
    init_storage(settings)
    system = build(settings)
    try:
        ctx = CommandContext.for_principal(DEMO_ACTOR, reason="bench targets")
        customers: list[Customer] = []
        complaints: list[Complaint] = []
        now = datetime.now(UTC) - timedelta(days=1)
        for n in range(count):
            customer = Customer.register(
                new_id=uuid4(),
                kind="individual",
                name=f"客户{n}",
                phone=f"138{n:08d}",
                registered_on=now.date() - timedelta(days=30),
            )
            complaint = Complaint.lodge(
                new_id=uuid4(),
                customer_id=customer.id,
                channel="phone",
                category="delivery",
                severity="medium",
                description="订单延迟未到货",
                received_at=now,
            )
            complaint.assign("h1", "王磊")
            complaint.acknowledge(now + timedelta(minutes=5))
            customers.append(customer)
            complaints.append(complaint)
        system.store.record_many(ctx, "bench.targets", [*customers, *complaints])
    finally:
        system.close()
    return {
        "customers": [str(c.id) for c in customers],
        "complaints": [str(c.id) for c in complaints],
    }


def _naive_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(settings_for(NAIVE).event_store_env(create_table=True))
    return env


def _prepare_naive(count: int) -> dict[str, list[str]]:
    with psycopg.connect(dsn_for(DATABASE), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{NAIVE}"')
    app = Things(settings_for(NAIVE).event_store_env(create_table=True))
    try:
        things = [Thing(f"thing {n}") for n in range(count)]
        app.save(*things)
    finally:
        app.close()
    return {"things": [str(t.id) for t in things]}


def _prepare_raw() -> None:
    with psycopg.connect(dsn_for(DATABASE), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{RAW}"')
        conn.execute(f'CREATE TABLE "{RAW}".raw_commits (id uuid PRIMARY KEY, data jsonb NOT NULL)')


def group_commit_potential(group: int, commands: int = 640) -> dict[str, float]:
    """Registrations saved one per ``save()``, then ``group`` per ``save()`` (what a group
    commit of concurrent commands would do): commands per second, sequentially."""
    system = build(settings_for(KEHU))
    ctx = CommandContext.for_principal(DEMO_ACTOR, reason="bench group commit")
    rates: dict[str, float] = {}
    try:
        for label, size in (("single_per_second", 1), ("grouped_per_second", group)):
            started = time.perf_counter()
            for first in range(0, commands, size):
                customers = [
                    Customer.register(
                        new_id=uuid4(),
                        kind="individual",
                        name=f"成组{n}",
                        phone=f"137{n:08d}",
                        registered_on=datetime.now(UTC).date(),
                    )
                    for n in range(first, first + size)
                ]
                system.store.record_many(ctx, "bench.group", list(customers))
            rates[label] = commands / (time.perf_counter() - started)
    finally:
        system.close()
    return rates


PROFILED = 300
BENCH_ADMIN = Principal(id="bench:profile", role=Role.INTEGRATOR, name="bench profile")


def profile_command_path(commands: int = PROFILED) -> dict[str, Any]:
    """Sequential registrations with an Idempotency-Key each, in-process under cProfile:
    the milliseconds a command spends in each part of the pipeline."""
    settings = settings_for(KEHU)
    system = build(settings)
    profiler = cProfile.Profile()
    try:
        started = time.perf_counter()
        profiler.enable()
        for n in range(commands):
            ctx = CommandContext.for_principal(
                BENCH_ADMIN, idempotency_key=f"profile-{n}-{time.time_ns()}", request_hash=str(n)
            )
            system.customers.register(ctx, kind="individual", name=f"剖析{n}", phone=f"139{n:08d}")
        profiler.disable()
        elapsed = time.perf_counter() - started
    finally:
        system.close()
    stats = pstats.Stats(profiler)
    parts = {
        "idempotency receipt lookup (Kehu._receipt)": ("application/store.py", "_receipt"),
        "save: encode, insert, commit (Application.save)": ("eventsourcing/application.py", "save"),
        "encode events (Mapper.to_stored_event)": (
            "eventsourcing/persistence.py",
            "to_stored_event",
        ),
        "one transaction: lock table, insert, commit (recorder.insert_events)": (
            "eventsourcing/postgres.py",
            "insert_events",
        ),
        "domain: Customer.register": ("domain/customer.py", "register"),
    }
    breakdown: dict[str, float] = {}
    raw_stats: Any = stats.stats  # type: ignore[attr-defined]
    for label, (where, function) in parts.items():
        total = sum(
            value[3]
            for (filename, _line, name), value in raw_stats.items()
            if name == function and filename.endswith(where)
        )
        breakdown[label] = round(total / commands * 1000, 3)
    return {
        "commands": commands,
        "ms_per_command": round(elapsed / commands * 1000, 3),
        "ms_per_part": breakdown,
    }
