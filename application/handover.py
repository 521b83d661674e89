"""The customer-data hand-over package (客户数据移交) at the end of a contract.

A package is a ZIP file holding everything kehu recorded about the contract's customer
parties up to one global position — their customer record, credit profile, complaints,
service requests and the contract itself — as JSON Lines, with a manifest and a note on
how to verify it. The package is *deterministic*: stored entries (no compression, whose
output could vary between zlib versions), fixed entry times, events in global order. So
the SHA-256 recorded in ``Contract.DataHandedOver`` proves, then and later, which bytes
were handed over: rebuilding the package from the store gives the same checksum unless
the history itself changed.

The package name carries the position it covers: ``kehu-handover-<number>-p<position>.zip``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from application.errors import NotFound
from application.store import Kehu, RecordedEvent, to_json

FORMAT: Final = "kehu-customer-data/1"
_FIXED_TIME: Final = (1980, 1, 1, 0, 0, 0)
_NAME_RE: Final = re.compile(r"-p(\d+)\.zip$")

README: Final = """\
kehu customer-data hand-over package (客户数据移交)

Files
  manifest.json  what the package covers: the contract, the customers, the last global
                 position included, the number of events per record, and the SHA-256
                 of events.jsonl.
  events.jsonl   one recorded event per line, in global order, each with its position,
                 aggregate type and id, version, type, recorded time, audit envelope
                 (who, which command, why) and payload. Amounts are exact decimal text.

Verify
  1. sha256sum <this zip> equals the sha256 of the contract's DataHandedOver event
     (GET /api/v1/contracts/{id}/history), recorded when the package was handed over.
  2. sha256sum events.jsonl equals files["events.jsonl"].sha256 in manifest.json.
  3. GET /api/v1/contracts/{id}/hand-over-package rebuilds the package from the event
     store; it is byte-for-byte this file unless the stored history changed.
"""


@dataclass(frozen=True)
class HandOverPackage:
    name: str
    content: bytes
    sha256: str
    up_to_position: int
    events: int


def package_name(contract_number: str, position: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", contract_number)
    return f"kehu-handover-{slug}-p{position}.zip"


def position_of_package(name: str) -> int:
    """The last global position a package covers, read from its name."""
    found = _NAME_RE.search(name)
    if found is None:
        raise NotFound(f"{name!r} is not the name of a hand-over package")
    return int(found.group(1))


def build_package(
    store: Kehu,
    *,
    contract_id: UUID,
    contract_number: str,
    customer_ids: Iterable[UUID],
    aggregate_ids: Iterable[UUID],
    up_to_position: int,
    handed_over_at: datetime,
) -> HandOverPackage:
    """The package of every event of ``aggregate_ids`` at or before ``up_to_position``."""
    recorded: list[RecordedEvent] = []
    counts: dict[str, dict[str, Any]] = {}
    for aggregate_id in sorted(set(aggregate_ids)):
        events = [
            e
            for e in store.history(aggregate_id, limit=1_000_000_000)
            if e.position is not None and e.position <= up_to_position
        ]
        if events:
            recorded.extend(events)
            counts[str(aggregate_id)] = {"type": events[0].aggregate_type, "events": len(events)}
    recorded.sort(key=lambda e: e.position or 0)
    lines = b"".join(
        json.dumps(to_json(e.as_json()), ensure_ascii=False).encode() + b"\n" for e in recorded
    )
    manifest = {
        "format": FORMAT,
        "contract": {"id": str(contract_id), "number": contract_number},
        "customers": sorted(str(c) for c in customer_ids),
        "up_to_position": up_to_position,
        "handed_over_at": handed_over_at.isoformat(),
        "records": counts,
        "files": {
            "events.jsonl": {"sha256": hashlib.sha256(lines).hexdigest(), "events": len(recorded)}
        },
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in (
            ("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode()),
            ("events.jsonl", lines),
            ("README.txt", README.encode()),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), data)
    content = buffer.getvalue()
    return HandOverPackage(
        name=package_name(contract_number, up_to_position),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        up_to_position=up_to_position,
        events=len(recorded),
    )
