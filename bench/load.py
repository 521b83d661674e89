"""The load generator: concurrent clients in their own process, so that the server measured
does not share an interpreter with them. Prints one JSON object: requests per second, the
latency percentiles of the successful requests and the count of each status.

    python -m bench.load http --url URL --target kehu --workload create --targets FILE
    python -m bench.load sql --dsn DSN --schema S

``http`` sends kehu's commands with a real API key and a fresh Idempotency-Key each (or the
naive endpoint's requests); ``sql`` commits one-row INSERTs with psycopg, one transaction
each. Both run ``--concurrency`` clients for ``--warmup`` seconds unmeasured, then
``--duration`` seconds measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx

from application.demo import CITIES, make_phone, make_resident_id, person_name
from bench.common import percentile

Request = tuple[str, dict[str, Any]]


class Recorder:
    """Latencies and statuses of the requests that finished inside the measured window."""

    def __init__(self, warmup: float, duration: float) -> None:
        now = time.perf_counter()
        self.start = now + warmup
        self.stop = self.start + duration
        self.duration = duration
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()

    def running(self) -> bool:
        return time.perf_counter() < self.stop

    def record(self, began: float, status: str, ok: bool) -> None:
        ended = time.perf_counter()
        if began < self.start or ended > self.stop:
            return
        self.statuses[status] += 1
        if ok:
            self.latencies.append(ended - began)

    def summary(self) -> dict[str, Any]:
        ok = len(self.latencies)
        return {
            "requests_per_second": ok / self.duration,
            "ok": ok,
            "statuses": dict(self.statuses),
            "p50_ms": percentile(self.latencies, 50) * 1000 if ok else None,
            "p99_ms": percentile(self.latencies, 99) * 1000 if ok else None,
        }


def _individuals(rng: random.Random, count: int) -> list[dict[str, Any]]:
    today = date.today()  # noqa: DTZ011 - a birth date range, not a stored time
    bodies = []
    for _ in range(count):
        _, division = rng.choice(CITIES)
        bodies.append(
            {
                "kind": "individual",
                "name": person_name(rng),
                "phone": make_phone(rng),
                "id_number": make_resident_id(rng, division, today),
                "segment": "个人客户",
                "source": "官网",
            }
        )
    return bodies


def kehu_requests(workload: str, targets: dict[str, list[str]]) -> Callable[[], Request]:
    """kehu's commands: register a customer, record an investigation on an open complaint,
    or a mix of those with an interaction on an existing customer."""
    rng = random.Random()  # noqa: S311 - load shape, not security
    bodies = _individuals(rng, 2000)
    complaints, customers = targets["complaints"], targets["customers"]

    def create() -> Request:
        return "/api/v1/customers", rng.choice(bodies)

    def act() -> Request:
        return (
            f"/api/v1/complaints/{rng.choice(complaints)}/record-investigation",
            {"findings": "核实订单与物流记录，已联系承运方"},
        )

    def interact() -> Request:
        return (
            f"/api/v1/customers/{rng.choice(customers)}/record-interaction",
            {"kind": "call", "summary": "电话回访，确认到货情况", "staff": "周敏"},
        )

    return _workload(rng, workload, create, act, interact)


def naive_requests(workload: str, targets: dict[str, list[str]]) -> Callable[[], Request]:
    """The naive endpoint's equivalents: create a thing, act on an existing thing."""
    rng = random.Random()  # noqa: S311
    things = targets["things"]

    def create() -> Request:
        return "/things", {"name": person_name(rng)}

    def act() -> Request:
        return f"/things/{rng.choice(things)}/act", {"note": "核实订单与物流记录，已联系承运方"}

    return _workload(rng, workload, create, act, act)


def _workload(
    rng: random.Random,
    workload: str,
    create: Callable[[], Request],
    act: Callable[[], Request],
    other: Callable[[], Request],
) -> Callable[[], Request]:
    if workload == "create":
        return create
    if workload == "act":
        return act

    def mix() -> Request:  # 30 % creates, 40 % complaint actions, 30 % interactions
        draw = rng.random()
        return create() if draw < 0.3 else act() if draw < 0.7 else other()

    return mix


async def run_http(args: argparse.Namespace) -> dict[str, Any]:
    with open(args.targets, encoding="utf-8") as file:
        targets = json.load(file)
    make = (kehu_requests if args.target == "kehu" else naive_requests)(args.workload, targets)
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    recorder = Recorder(args.warmup, args.duration)
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=60) as client:

        async def client_loop() -> None:
            while recorder.running():
                path, body = make()
                sent = dict(headers)
                if args.target == "kehu":
                    sent["Idempotency-Key"] = uuid.uuid4().hex
                began = time.perf_counter()
                try:
                    response = await client.post(path, json=body, headers=sent)
                except httpx.HTTPError as error:
                    recorder.record(began, type(error).__name__, False)
                    continue
                recorder.record(began, str(response.status_code), response.is_success)

        await _together(args.concurrency, client_loop)
    return recorder.summary()


async def run_sql(args: argparse.Namespace) -> dict[str, Any]:
    import psycopg

    recorder = Recorder(args.warmup, args.duration)
    payload = json.dumps(
        {"name": "王伟", "phone": "13812345678", "segment": "个人客户", "source": "官网"},
        ensure_ascii=False,
    )
    statement = f'INSERT INTO "{args.schema}".raw_commits (id, data) VALUES (%s, %s)'

    async def client_loop() -> None:
        async with await psycopg.AsyncConnection.connect(args.dsn, autocommit=True) as conn:
            while recorder.running():
                began = time.perf_counter()
                await conn.execute(statement, (uuid.uuid4(), payload))
                recorder.record(began, "committed", True)

    await _together(args.concurrency, client_loop)
    return recorder.summary()


async def _together(count: int, loop: Callable[[], Awaitable[None]]) -> None:
    await asyncio.gather(*(loop() for _ in range(count)))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["http", "sql"])
    parser.add_argument("--url")
    parser.add_argument("--target", choices=["kehu", "naive"], default="kehu")
    parser.add_argument("--workload", choices=["create", "act", "mix"], default="create")
    parser.add_argument("--targets", help="JSON file of ids to act on")
    parser.add_argument("--token", default="")
    parser.add_argument("--dsn")
    parser.add_argument("--schema")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args(argv)
    result = asyncio.run(run_http(args) if args.mode == "http" else run_sql(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
