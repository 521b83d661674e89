"""Benchmark 2 — projection catch-up, side by side on the same events of the data set:

- **kehu**: ``ProjectionWorker.catch_up`` — a batch of events and its tracking record per
  transaction (``KEHU_PROJECTION_BATCH_SIZE``, 500 by default);
- **library**: ``eventsourcing.projection.ProjectionRunner`` subscribed to the same
  application, running the same view class through its ``process_event`` — one event and
  its tracking record per transaction (the library's recorder-tracking);

both into empty read-model schemas of the bench database. Then every view together, as
``kehu worker`` runs them (one thread each), in a child process whose peak memory is
measured:

    python -m bench.catchup worker --schema DATA_SCHEMA --until POSITION
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import ProjectionRunner

from projections.base import Cursor, KehuProjection, ProjectionWorker, ViewStore
from projections.customers import CustomerProjection

from .common import (
    DATABASE,
    ROOT,
    BenchKehu,
    Row,
    drop_schema,
    ensure_schema,
    kehu_store,
    own_peak_rss_mb,
    settings_for,
)


def views_in(data_schema: str, schema: str) -> ViewStore:
    """An empty read-model store in ``schema`` of the bench database."""
    drop_schema(DATABASE, schema)
    ensure_schema(DATABASE, schema)
    env = settings_for(data_schema).read_model_env(create_table=True)
    env["POSTGRES_SCHEMA"] = schema
    return ViewStore(env)


def kehu_catch_up(
    data_schema: str, until: int, projection_class: type[CustomerProjection]
) -> tuple[float, int]:
    """Seconds kehu's worker takes to bring one empty view up to ``until``, and the SQL
    statements the view executed meanwhile (counted, to show the round trips per event)."""
    views = views_in(data_schema, "catchup_kehu")
    store = kehu_store(data_schema)
    try:
        projection = projection_class(views)
        views.create_tables(projection.ddl())
        worker = ProjectionWorker(store.recorder, store.mapper, [projection], batch_size=500)
        with counting_statements() as statements:
            started = time.perf_counter()
            worker.catch_up(projection, until=until)
            elapsed = time.perf_counter() - started
        assert projection.position() == until, (projection.position(), until)
        return elapsed, statements[0]
    finally:
        views.close()
        store.factory.close()


@contextmanager
def counting_statements() -> Iterator[list[int]]:
    """Count the statements views execute through :class:`projections.base.Cursor`."""
    counted = [0]
    original = Cursor.execute

    def execute(self: Cursor, statement: str, params: Sequence[Any] = ()) -> Cursor:
        counted[0] += 1
        return original(self, statement, params)

    Cursor.execute = execute  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        Cursor.execute = original  # type: ignore[method-assign]


def runner_catch_up(data_schema: str, until: int, timeout: float) -> tuple[float, int]:
    """Seconds the library's ProjectionRunner takes to bring the same empty view up to
    ``until`` (or to ``timeout``), and the position it reached."""
    schema = "catchup_runner"
    views = views_in(data_schema, schema)
    env = settings_for(data_schema).read_model_env(create_table=True)
    env["POSTGRES_SCHEMA"] = schema
    views.create_tables(CustomerProjection(views).ddl())

    class RunnerCustomers(CustomerProjection):
        """kehu's customer view as the library's runner constructs a projection: from the
        tracking recorder it made (kehu's views keep their rows beside it)."""

        name = CustomerProjection.name

        def __init__(self, view: Any) -> None:
            super().__init__(views)

    app_env = settings_for(data_schema).event_store_env(create_table=False)
    runner_env = {**app_env, **{f"{RunnerCustomers.name.upper()}_{k}": v for k, v in env.items()}}
    projection = RunnerCustomers(None)
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=BenchKehu,
        projection_class=RunnerCustomers,
        view_class=PostgresTrackingRecorder,
        env=runner_env,
    ) as runner:
        deadline = started + timeout
        while projection.position() < until and time.perf_counter() < deadline:
            runner.run_forever(timeout=0.05)
        elapsed = time.perf_counter() - started
        reached = projection.position()
    views.close()
    return elapsed, reached


def run(
    data_schema: str, *, events: int, runner_events: int, runner_timeout: float
) -> tuple[list[Row], dict[str, Any]]:
    head = _position_of(data_schema, events)
    runner_head = _position_of(data_schema, runner_events)
    runner_seconds, reached = runner_catch_up(data_schema, runner_head, runner_timeout)
    runner_rate = reached / runner_seconds
    kehu_prefix, _ = kehu_catch_up(data_schema, runner_head, CustomerProjection)
    kehu_prefix_rate = runner_head / kehu_prefix
    kehu_full, statements = kehu_catch_up(data_schema, head, CustomerProjection)
    kehu_rate = head / kehu_full
    every = every_view(data_schema, head)
    print(
        f"  library runner {runner_rate:,.0f} ev/s ({reached:,} events); kehu customers view"
        f" {kehu_prefix_rate:,.0f} ev/s (same events), {kehu_rate:,.0f} ev/s ({head:,});"
        f" every view {every['events_per_second']:,.0f} ev/s"
    )
    rows = [
        Row(
            f"Projection catch-up, customers view, first {reached:,} events: kehu worker vs library ProjectionRunner",
            kehu_prefix_rate,
            "events/s",
            runner_rate,
            "ProjectionRunner (one transaction per event)",
            goal=(">=", 20.0),
            goal_on="ratio",
        ),
        Row(
            f"Projection catch-up, customers view, {head:,} events",
            kehu_rate,
            "events/s",
            goal=(">=", 25_000.0),
            note=f"{statements / head:.2f} SQL statements per event, one round trip each",
        ),
        Row(
            f"Projection catch-up, all {every['views']} views together (kehu worker threads), {head:,} events",
            every["events_per_second"],
            "events/s",
            goal=(">=", 25_000.0),
            note="each view reads and decodes the log itself",
        ),
    ]
    return rows, {
        "runner": {"seconds": runner_seconds, "events": reached},
        "kehu_prefix_seconds": kehu_prefix,
        "kehu_seconds": kehu_full,
        "customers_view_statements": statements,
        "every_view": every,
    }


def _position_of(data_schema: str, events: int) -> int:
    store = kehu_store(data_schema)
    try:
        found = store.recorder.select_notifications(start=events, limit=1)
        return found[0].id if found else store.max_position()
    finally:
        store.factory.close()


def every_view(data_schema: str, until: int) -> dict[str, Any]:
    """Every view caught up by kehu's worker threads, in a child process."""
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.catchup", "worker", data_schema, str(until)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _worker_process(data_schema: str, until: int) -> dict[str, Any]:
    from interfaces.bootstrap import build

    views = views_in(data_schema, "catchup_all")
    system = build(settings_for(data_schema))
    try:
        projections: list[KehuProjection] = [p.on(views) for p in system.projections]
        for projection in projections:
            views.create_tables(projection.ddl())
        worker = ProjectionWorker(
            system.store.recorder, system.store.mapper, projections, batch_size=500
        )
        started = time.perf_counter()
        threads = [
            threading.Thread(target=worker.catch_up, args=(p,), kwargs={"until": until})
            for p in projections
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        assert all(p.position() == until for p in projections)
    finally:
        views.close()
        system.close()
    return {
        "views": len(projections),
        "seconds": elapsed,
        "events_per_second": until / elapsed,
        "peak_rss_mb": own_peak_rss_mb(),
    }


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        print(json.dumps(_worker_process(sys.argv[2], int(sys.argv[3]))))
