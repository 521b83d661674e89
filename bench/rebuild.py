"""Benchmark 3 — rebuilding every read model from the events, with the machinery of
``kehu projections rebuild`` (:mod:`projections.replay`), into an empty read-model schema:

- **per view**, as the command does today: each view replays the log from position 0 on its
  own (``rebuild_into``: ``start_over`` then ``ProjectionWorker.catch_up``);
- **one pass**, as ``replay_into`` does: the log read and decoded once for every view;
- and the floor under both: reading and decoding the log alone.

The one pass runs over the whole log at the full sizes; every view replaying the whole log
on its own would take longer than a benchmark run can wait for, so that path is measured
over a prefix and the time for the whole log extrapolated from it (the table says so). Runs
in a child process whose peak memory is the rebuilding worker's:

    python -m bench.rebuild DATA_SCHEMA EVENTS VIEW_EVENTS
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from interfaces.bootstrap import build
from projections.replay import rebuild_into, replay_into

from .catchup import views_in
from .common import ROOT, Row, own_peak_rss_mb, settings_for


def _measure(data_schema: str, events: int, view_events: int) -> dict[str, Any]:
    system = build(settings_for(data_schema))
    try:
        store = system.store
        until = store.recorder.select_notifications(start=events, limit=1)[0].id
        view_until = store.recorder.select_notifications(start=view_events, limit=1)[0].id
        started = time.perf_counter()
        position = 0
        while position < until:
            batch = store.recorder.select_notifications(start=position + 1, limit=2000, stop=until)
            for notification in batch:
                store.mapper.to_domain_event(notification)
            position = batch[-1].id
        decode = time.perf_counter() - started

        worker = system.projection_worker()
        shadow = views_in(data_schema, "rebuild_one_pass")
        started = time.perf_counter()
        replay_into(worker, system.projections, shadow, until=until)
        one_pass = time.perf_counter() - started
        shadow.close()

        shadow = views_in(data_schema, "rebuild_per_view")
        per_view: dict[str, float] = {}
        for projection in system.projections:
            started = time.perf_counter()
            rebuild_into(worker, projection, shadow, until=view_until)
            per_view[projection.name] = view_until / (time.perf_counter() - started)
        shadow.close()
    finally:
        system.close()
    return {
        "events": until,
        "view_events": view_until,
        "decode_events_per_second": until / decode,
        "one_pass_events_per_second": until / one_pass,
        "per_view_events_per_second": per_view,
        "per_view_total_events_per_second": 1 / sum(1 / rate for rate in per_view.values()),
        "peak_rss_mb": own_peak_rss_mb(),
    }


def run(
    data_schema: str, *, events: int, view_events: int, total_events: int
) -> tuple[list[Row], dict[str, Any]]:
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.rebuild", data_schema, str(events), str(view_events)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    measured: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    per_view_seconds = total_events / measured["per_view_total_events_per_second"]
    one_pass_seconds = total_events / measured["one_pass_events_per_second"]
    floor_seconds = total_events / measured["decode_events_per_second"]
    print(
        f"  decode {measured['decode_events_per_second']:,.0f} ev/s; one pass"
        f" {measured['one_pass_events_per_second']:,.0f} ev/s; per view, all views"
        f" {measured['per_view_total_events_per_second']:,.0f} ev/s"
    )
    slowest = sorted(measured["per_view_events_per_second"].items(), key=lambda item: item[1])[:3]
    rows = [
        Row(
            f"Rebuild every read model from {total_events:,} events, `kehu projections rebuild` (each view replays the log)",
            per_view_seconds,
            "s",
            higher_is_better=False,
            goal=("<=", 120.0),
            note=f"extrapolated from {measured['view_events']:,} events per view; slowest views: "
            + ", ".join(f"{name} {rate:,.0f} ev/s" for name, rate in slowest),
        ),
        Row(
            f"Rebuild every read model from {total_events:,} events, one pass for all views (`replay_into`)",
            one_pass_seconds,
            "s",
            per_view_seconds,
            "each view replaying the log",
            higher_is_better=False,
            goal=("<=", 120.0),
            note=(
                "measured over the whole log"
                if measured["events"] >= total_events
                else f"extrapolated from {measured['events']:,} events"
            )
            + f"; reading and decoding alone: {floor_seconds:,.0f} s",
        ),
    ]
    return rows, {"rebuild": measured}


if __name__ == "__main__":
    print(json.dumps(_measure(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
