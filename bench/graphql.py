"""Benchmark 5 — GraphQL reads through HTTP against ``kehu serve`` on the large data set
(its read models already caught up): the KPI dashboard over the last year, and one page
of customers filtered and ordered. One client, sequential requests, so the percentiles
are the server's latency and not a queue's. The API process's peak memory is read after.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from interfaces.bootstrap import build

from .catchup import counting_statements
from .common import BIN, Row, free_port, kehu_cli, kehu_env, percentile, served, settings_for

DASHBOARD = """query ($from: Date!, $to: Date!) {
  dashboard(from: $from, to: $to) {
    from to asOf
    kpis { name label value unit target status basis }
  }
}"""

CUSTOMERS = """{
  customers(first: 20, filter: {status: [ACTIVE]},
            orderBy: {field: PURCHASE_TOTAL, direction: DESC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name status statusLabel purchaseCount
                          purchaseTotal { amount currency } lastInteractionAt } }
  }
}"""


def _timed(
    client: httpx.Client, query: str, variables: dict[str, Any], count: int, budget: float
) -> list[float]:
    """Latencies (ms) of ``count`` requests, or of as many as ``budget`` seconds allow
    (at least ten), after three unmeasured ones that warm caches."""
    samples: list[float] = []
    began = time.perf_counter()
    for n in range(count + 3):
        if n >= 13 and time.perf_counter() - began > budget:
            break
        started = time.perf_counter()
        response = client.post("/graphql", json={"query": query, "variables": variables})
        elapsed = time.perf_counter() - started
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"GraphQL failed: {response.status_code} {body}")
        if n >= 3:
            samples.append(elapsed * 1000)
    return samples


def dashboard_profile(data_schema: str, start: date, end: date, calls: int = 3) -> dict[str, Any]:
    """Where a dashboard's time goes, in-process (no HTTP, no GraphQL): milliseconds per
    call in the dashboard's own functions, and the SQL statements it runs."""
    system = build(settings_for(data_schema))
    profiler = cProfile.Profile()
    try:
        query = system.dashboard_queries
        query.dashboard(start, end, as_of=datetime.now(UTC))  # warm
        with counting_statements() as statements:
            began = time.perf_counter()
            profiler.enable()
            for _ in range(calls):
                query.dashboard(start, end, as_of=datetime.now(UTC))
            profiler.disable()
            elapsed = time.perf_counter() - began
    finally:
        system.close()
    raw: Any = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    own = [
        (f"{Path(filename).name}:{name}", value[3] / calls * 1000)
        for (filename, _line, name), value in raw.items()
        if "/projections/" in filename and not name.startswith("<")
    ]
    own.sort(key=lambda item: item[1], reverse=True)
    sql = sum(
        value[3]
        for (filename, _line, name), value in raw.items()
        if name == "execute" and "psycopg" in filename
    )
    return {
        "ms_per_dashboard": elapsed / calls * 1000,
        "sql_statements_per_dashboard": statements[0] / calls,
        "ms_in_sql_execute": sql / calls * 1000,
        "slowest_functions_ms": dict(own[:8]),
    }


def run(
    data_schema: str, *, customers: int, events: int, requests: int, budget: float
) -> tuple[list[Row], dict[str, Any]]:
    env = kehu_env(data_schema)
    token = (
        kehu_cli("keys", "create", "--role", "manager", "--name", "bench graphql", env=env)
        .strip()
        .splitlines()[-1]
    )
    today = date.today()  # noqa: DTZ011 - the server's business date is near enough
    port = free_port()
    with served([str(BIN / "kehu"), "serve", "--port", str(port)], env, port) as server:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            dashboard = _timed(
                client,
                DASHBOARD,
                {"from": str(today - timedelta(days=364)), "to": str(today)},
                requests,
                budget,
            )
            page = _timed(client, CUSTOMERS, {}, requests, budget)
        memory = server.peak_rss_mb()
    profile = dashboard_profile(data_schema, today - timedelta(days=364), today)
    figures: dict[str, Any] = {
        "dashboard": {"p50_ms": percentile(dashboard, 50), "p95_ms": percentile(dashboard, 95)},
        "customers_page": {"p50_ms": percentile(page, 50), "p95_ms": percentile(page, 95)},
        "requests": {"dashboard": len(dashboard), "customers_page": len(page)},
        "dashboard_profile": profile,
    }
    print(
        f"  dashboard p95 {figures['dashboard']['p95_ms']:.1f} ms, customers page p95 {figures['customers_page']['p95_ms']:.1f} ms"
    )
    size = f"{customers:,} customers, {events:,} events"
    rows = [
        Row(
            f"GraphQL dashboard (last 365 days) p95, {size}",
            figures["dashboard"]["p95_ms"],
            "ms",
            higher_is_better=False,
            goal=("<=", 50.0),
            note=f"{len(dashboard)} requests, p50 {figures['dashboard']['p50_ms']:.1f} ms; in-process"
            f" {profile['ms_per_dashboard']:.0f} ms, {profile['sql_statements_per_dashboard']:.0f} SQL"
            f" statements taking {profile['ms_in_sql_execute']:.0f} ms",
        ),
        Row(
            f"GraphQL customers page (20, filtered, by purchase total) p95, {size}",
            figures["customers_page"]["p95_ms"],
            "ms",
            higher_is_better=False,
            goal=("<=", 20.0),
            note=f"{len(page)} requests, p50 {figures['customers_page']['p50_ms']:.1f} ms",
        ),
    ]
    return rows, {"graphql": figures, "memory_mb": {"kehu API (GraphQL on the data set)": memory}}
