"""Run the benchmark suite: ``python3 dev.py bench`` (or ``.venv/bin/python -m bench``).

    python3 dev.py bench            # the issue's sizes: 100,000 customers, ~1M events
    python3 dev.py bench --quick    # a small smoke run (minutes)
    python3 dev.py bench --only commands,graphql
    python3 dev.py bench --readme   # only regenerate the README block from latest.md

Needs PostgreSQL at ``KEHU_BENCH_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); see :mod:`bench.common`. Writes
``bench/results/`` and the README's "Benchmarks" table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from . import aggregates, audit, catchup, commands, dataset, graphql, rebuild, report
from .common import DATABASE, Row, ensure_database

FULL: dict[str, Any] = {
    "customers": 100_000,
    "http_seconds": 15.0,
    "http_warmup": 3.0,
    "concurrency": 32,
    "targets": 1000,
    "catchup_events": 100_000,
    "runner_events": 20_000,
    "runner_timeout": 120.0,
    "rebuild_events": 1_000_000,
    "rebuild_view_events": 20_000,
    "history": (100, 1000, 10_000),
    "graphql_requests": 200,
    "graphql_budget": 90.0,
    "audit_repeat": 3,
}
QUICK: dict[str, Any] = {
    "customers": 2_000,
    "http_seconds": 4.0,
    "http_warmup": 1.0,
    "concurrency": 32,
    "targets": 200,
    "catchup_events": 10_000,
    "runner_events": 2_000,
    "runner_timeout": 30.0,
    "rebuild_events": 5_000,
    "rebuild_view_events": 2_000,
    "history": (100, 1000),
    "graphql_requests": 20,
    "graphql_budget": 20.0,
    "audit_repeat": 1,
}
BENCHMARKS = ("commands", "catchup", "rebuild", "aggregates", "graphql", "audit")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--readme", action="store_true", help="only regenerate the README block")
    args = parser.parse_args(argv)
    if args.readme:
        print("README updated" if report.update_readme() else "README already up to date")
        return 0
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    sizes = dict(QUICK if args.quick else FULL, quick=args.quick)
    sizes["load_average_at_start"] = [round(v, 2) for v in os.getloadavg()]
    started = report.now()
    clock = time.perf_counter()
    ensure_database(DATABASE)
    data = dataset.ensure(sizes["customers"])
    rows: list[Row] = []
    details: dict[str, Any] = {
        "dataset": {
            "schema": data.schema,
            "customers": data.customers,
            "events": data.events,
            "reused": data.reused,
            "timings": data.timings,
        }
    }
    memory: dict[str, float] = {}

    def step(name: str, work: Callable[[], tuple[list[Row], dict[str, Any]]]) -> None:
        if name not in chosen:
            return
        print(f"== {name}", flush=True)
        begun = time.perf_counter()
        try:
            found, extra = work()
        except Exception as error:  # one failed benchmark must not cost the others
            traceback.print_exc()
            details[name] = {"error": f"{type(error).__name__}: {error}"}
            return
        rows.extend(found)
        memory.update(extra.pop("memory_mb", {}))
        details[name] = extra
        print(f"   ({time.perf_counter() - begun:.0f} s)", flush=True)

    step(
        "commands",
        lambda: commands.run(
            duration=sizes["http_seconds"],
            warmup=sizes["http_warmup"],
            concurrency=sizes["concurrency"],
            targets=sizes["targets"],
        ),
    )
    step(
        "catchup",
        lambda: catchup.run(
            data.schema,
            events=min(sizes["catchup_events"], data.events),
            runner_events=sizes["runner_events"],
            runner_timeout=sizes["runner_timeout"],
        ),
    )
    step(
        "rebuild",
        lambda: rebuild.run(
            data.schema,
            events=min(sizes["rebuild_events"], data.events),
            view_events=sizes["rebuild_view_events"],
            total_events=data.events,
        ),
    )
    step("aggregates", lambda: aggregates.run(tuple(sizes["history"])))
    step(
        "graphql",
        lambda: graphql.run(
            data.schema,
            customers=data.customers,
            events=data.events,
            requests=sizes["graphql_requests"],
            budget=sizes["graphql_budget"],
        ),
    )
    step("audit", lambda: audit.run(data.schema, repeat=sizes["audit_repeat"]))
    rows.extend(_memory_rows(memory, details))
    seconds = time.perf_counter() - clock
    path = report.write(rows, details, sizes, started, seconds)
    print(f"results: {path}")
    print(report.table(rows))
    if report.update_readme():
        print("README's Benchmarks table updated")
    return 0


def _memory_rows(memory: dict[str, float], details: dict[str, Any]) -> list[Row]:
    """Peak memory (RSS high-water mark) of each process measured."""
    every = details.get("catchup", {}).get("every_view")
    if every:
        memory["kehu worker: every view catching up"] = every["peak_rss_mb"]
    rebuilt = details.get("rebuild", {}).get("rebuild")
    if rebuilt:
        memory["rebuilding worker (projections.replay)"] = rebuilt["peak_rss_mb"]
    naive = memory.pop("naive API", None)
    rows = []
    for name, value in memory.items():
        if name == "kehu API (commands)" and naive is not None:
            rows.append(
                Row(
                    f"Peak memory (RSS), {name}",
                    value,
                    "MiB",
                    naive,
                    "naive API process",
                    higher_is_better=False,
                )
            )
        else:
            rows.append(Row(f"Peak memory (RSS), {name}", value, "MiB", higher_is_better=False))
    return rows


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
