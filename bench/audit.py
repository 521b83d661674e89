"""Benchmark 6 — the audit verify rate on the large data set, with
:func:`bench.audit_verify.verify_repeatedly` (what ``kehu audit verify`` runs): the hash
chain over every stored event and the signed checkpoints, checked against the store."""

from __future__ import annotations

from typing import Any

from interfaces.bootstrap import build

from .audit_verify import verify_repeatedly
from .common import AUDIT_KEY, Row, median, settings_for


def run(data_schema: str, *, repeat: int) -> tuple[list[Row], dict[str, Any]]:
    system = build(settings_for(data_schema))
    try:
        assert system.sealer is not None
        reports = verify_repeatedly(system.sealer, AUDIT_KEY, repeat)
    finally:
        system.close()
    rate = median([report.rate for report in reports])
    events = reports[-1].events
    row = Row(
        f"Audit verify against the store ({events:,} events, median of {repeat})",
        rate,
        "events/s",
        goal=(">=", 100_000.0),
    )
    return [row], {"audit": {"events": events, "rates": [r.rate for r in reports]}}
