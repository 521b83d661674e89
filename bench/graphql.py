"""Benchmark 5 — GraphQL reads through HTTP against ``kehu serve`` on the large data set
(its read models already caught up): the KPI dashboard over the last year, and one page
of customers filtered and ordered. One client, sequential requests, so the percentiles
are the server's latency and not a queue's. The API process's peak memory is read after.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import httpx

from .common import BIN, Row, free_port, kehu_cli, kehu_env, percentile, served

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


def _timed(client: httpx.Client, query: str, variables: dict[str, Any], count: int) -> list[float]:
    samples = []
    for n in range(count + 3):  # three unmeasured: the first queries warm caches
        started = time.perf_counter()
        response = client.post("/graphql", json={"query": query, "variables": variables})
        elapsed = time.perf_counter() - started
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"GraphQL failed: {response.status_code} {body}")
        if n >= 3:
            samples.append(elapsed * 1000)
    return samples


def run(
    data_schema: str, *, customers: int, events: int, requests: int
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
            )
            page = _timed(client, CUSTOMERS, {}, requests)
        memory = server.peak_rss_mb()
    figures = {
        "dashboard": {"p50_ms": percentile(dashboard, 50), "p95_ms": percentile(dashboard, 95)},
        "customers_page": {"p50_ms": percentile(page, 50), "p95_ms": percentile(page, 95)},
        "requests": requests,
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
            note=f"p50 {figures['dashboard']['p50_ms']:.1f} ms",
        ),
        Row(
            f"GraphQL customers page (20, filtered, by purchase total) p95, {size}",
            figures["customers_page"]["p95_ms"],
            "ms",
            higher_is_better=False,
            goal=("<=", 20.0),
            note=f"p50 {figures['customers_page']['p50_ms']:.1f} ms",
        ),
    ]
    return rows, {"graphql": figures, "memory_mb": {"kehu API (GraphQL on the data set)": memory}}
