"""审计包 (audit package): the stored events of a range with their seals and signed checkpoints,
written to a directory that an auditor checks offline, with no database.

Files: ``events.jsonl`` (the raw stored fields, with positions), ``seals.jsonl``,
``checkpoints.jsonl``, ``manifest.json`` (counts, the SHA-256 of each file, the range, and an
HMAC over all of it when exported with the key) and ``README.md`` (how to verify, including
the encoding for auditors who write their own checker). The offline check feeds the same
:class:`application.audit_chain.Verification` as the store's own check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import IO, Any

from application.audit import AuditLedger, span, windows
from application.audit_chain import (
    Checkpoint,
    Finding,
    Identify,
    Kind,
    Verification,
    VerifyReport,
    key_id,
    split_seals,
)
from application.clock import Clock, utc_now

FORMAT = "kehu-audit-package"
VERSION = 1
EVENTS, SEALS, CHECKPOINTS = "events.jsonl", "seals.jsonl", "checkpoints.jsonl"
MANIFEST, README = "manifest.json", "README.md"
MANIFEST_MAGIC = b"kehu-audit-manifest-v1\x00"


class PackageError(Exception):
    """The package cannot be written or read at all."""


# -- stored values as JSON, exactly ---------------------------------------------------------------


def to_json_value(value: Any, expected: type) -> Any:
    """A stored value as JSON that converts back to the very same value: the expected type
    as plain JSON (state bytes as UTF-8 text when they are UTF-8), anything else tagged."""
    if value is None:
        return None
    if expected is bytes and isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode("ascii")}
    if expected is str and isinstance(value, str):
        return value
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, str):
        return {"text": value}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, float):
        return {"float": repr(value)}
    raise PackageError(f"cannot write a stored value of type {type(value).__name__}")


def from_json_value(value: Any, expected: type) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        if "base64" in value:
            return base64.b64decode(value["base64"], validate=True)
        if "text" in value:
            return str(value["text"])
        if "int" in value:
            return int(value["int"])
        if "bool" in value:
            return bool(value["bool"])
        if "float" in value:
            return float(value["float"])
        raise ValueError(f"unknown tagged value {sorted(value)}")
    if expected is bytes and isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, bool) or (expected is int and not isinstance(value, int)):
        raise ValueError(f"expected {expected.__name__}, found {type(value).__name__}")
    if expected is str and not isinstance(value, str):
        raise ValueError(f"expected text, found {type(value).__name__}")
    return value


def event_to_json(row: tuple[Any, ...]) -> dict[str, Any]:
    position, oid, version, topic, state = row
    return {
        "position": position,
        "originator_id": to_json_value(oid, str),
        "originator_version": to_json_value(version, int),
        "topic": to_json_value(topic, str),
        "state": to_json_value(state, bytes),
    }


def event_from_json(data: dict[str, Any]) -> tuple[Any, ...]:
    return (
        _position(data),
        from_json_value(data["originator_id"], str),
        from_json_value(data["originator_version"], int),
        from_json_value(data["topic"], str),
        from_json_value(data["state"], bytes),
    )


def seal_to_json(row: tuple[Any, ...]) -> dict[str, Any]:
    position, seq, oid, version, topic, digest, chain, stream_prev, stream_chain = row
    return {
        "position": position,
        "seq": seq,
        "originator_id": to_json_value(oid, str),
        "originator_version": to_json_value(version, int),
        "topic": to_json_value(topic, str),
        "digest": bytes(digest).hex(),
        "chain": bytes(chain).hex(),
        "stream_prev": bytes(stream_prev).hex(),
        "stream_chain": bytes(stream_chain).hex(),
    }


def seal_from_json(data: dict[str, Any]) -> tuple[Any, ...]:
    return (
        _position(data),
        int(data["seq"]),
        from_json_value(data["originator_id"], str),
        from_json_value(data["originator_version"], int),
        from_json_value(data["topic"], str),
        bytes.fromhex(data["digest"]),
        bytes.fromhex(data["chain"]),
        bytes.fromhex(data["stream_prev"]),
        bytes.fromhex(data["stream_chain"]),
    )


def _position(data: dict[str, Any]) -> int:
    position = data["position"]
    if not isinstance(position, int) or isinstance(position, bool):
        raise ValueError("position is not an integer")
    return position


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def manifest_signature(key: bytes, manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, MANIFEST_MAGIC + canonical.encode("utf-8"), hashlib.sha256).hexdigest()


# -- export -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageSummary:
    path: Path
    after: int
    through: int
    events: int
    seals: int
    checkpoints: int
    not_exported_unsealed: int
    elapsed: float
    signed: bool


class _HashedFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.out: IO[bytes] = path.open("wb")
        self.sha = hashlib.sha256()
        self.lines = 0
        self.size = 0

    def write(self, line: bytes) -> None:
        self.out.write(line)
        self.sha.update(line)
        self.lines += 1
        self.size += len(line)

    def close(self) -> dict[str, Any]:
        self.out.close()
        return {"sha256": self.sha.hexdigest(), "bytes": self.size, "lines": self.lines}


def export_package(
    ledger: AuditLedger,
    out: Path,
    key: bytes | None,
    *,
    first: int | None = None,
    last: int | None = None,
    default_interval: int = 1000,
    batch_size: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
    on_span: Callable[[int, int], None] | None = None,
    clock: Clock = utc_now,
) -> PackageSummary:
    """Write the package of ``first``..``last`` (widened to checkpoints; sealed events only)."""
    started = time.perf_counter()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PackageError(f"{out} exists and is not an empty directory")
    out.mkdir(parents=True, exist_ok=True)
    with ledger.reading() as reader:
        covered = span(reader, first, last)
        through = min(covered.through, covered.sealed_head)
        if on_span is not None:
            on_span(covered.after, through)
        files = {name: _HashedFile(out / name) for name in (EVENTS, SEALS, CHECKPOINTS)}
        try:
            if covered.anchor is not None:
                files[CHECKPOINTS].write(_line(covered.anchor.as_json()))
            cursor = covered.after
            for upto, events, seals, checkpoints in ledger.overlapped(
                windows(reader, covered.after, through, batch_size)
            ):
                for row in events:
                    files[EVENTS].write(_line(event_to_json(row)))
                for row in seals:
                    files[SEALS].write(_line(seal_to_json(row)))
                for checkpoint in checkpoints:
                    files[CHECKPOINTS].write(_line(checkpoint.as_json()))
                if progress is not None:
                    progress(upto - cursor, len(events))
                cursor = upto
            unsealed = max(covered.event_head - max(through, covered.sealed_head), 0)
        finally:
            described = {name: f.close() for name, f in files.items()}
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": clock().astimezone(UTC).isoformat(),
        "store": ledger.kind,
        "range": {
            "after": covered.after,
            "through": through,
            "requested_from": first,
            "requested_to": last,
        },
        "anchor": covered.anchor.as_json() if covered.anchor else None,
        "default_interval": default_interval,
        "counts": {
            "events": described[EVENTS]["lines"],
            "seals": described[SEALS]["lines"],
            "checkpoints": described[CHECKPOINTS]["lines"],
        },
        "files": described,
        "key_id": key_id(key) if key is not None else None,
    }
    manifest["signature"] = manifest_signature(key, manifest) if key is not None else None
    (out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / README).write_text(readme(manifest), encoding="utf-8")
    return PackageSummary(
        path=out,
        after=covered.after,
        through=through,
        events=described[EVENTS]["lines"],
        seals=described[SEALS]["lines"],
        checkpoints=described[CHECKPOINTS]["lines"],
        not_exported_unsealed=unsealed,
        elapsed=time.perf_counter() - started,
        signed=key is not None,
    )


# -- offline verification -------------------------------------------------------------------------


class _Lines:
    """A package file read line by line: hashed as read, parsed, kept in position order."""

    def __init__(self, path: Path, parse: Callable[[dict[str, Any]], tuple[Any, ...]]) -> None:
        self.path = path
        self.parse = parse
        self.sha = hashlib.sha256()
        self.lines = 0
        self.problems: list[Finding] = []

    def rows(self) -> Iterator[tuple[Any, ...]]:
        if not self.path.exists():
            self.problems.append(
                Finding(Kind.PACKAGE_ALTERED, None, f"{self.path.name} is missing")
            )
            return
        previous = -1
        with self.path.open("rb") as lines:
            for raw in lines:
                self.sha.update(raw)
                self.lines += 1
                try:
                    row = self.parse(json.loads(raw))
                except (ValueError, KeyError, TypeError) as error:
                    self._problem(f"line {self.lines} cannot be read ({error})")
                    continue
                if row[0] <= previous:
                    self._problem(f"line {self.lines} (position {row[0]}) is out of position order")
                    continue
                previous = row[0]
                yield row

    def _problem(self, text: str) -> None:
        if len(self.problems) < 100:
            self.problems.append(Finding(Kind.PACKAGE_ALTERED, None, f"{self.path.name}: {text}"))


def _package_windows(
    events: Iterator[tuple[Any, ...]], seals: Iterator[tuple[Any, ...]], batch: int
) -> Iterator[tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Windows of positions from two sorted streams, as :func:`application.audit.windows`."""
    pending_events: list[tuple[Any, ...]] = []
    pending_seals: list[tuple[Any, ...]] = []
    events_done = seals_done = False
    while True:
        while not events_done and len(pending_events) < batch:
            row = next(events, None)
            if row is None:
                events_done = True
            else:
                pending_events.append(row)
        while not seals_done and len(pending_seals) < batch:
            row = next(seals, None)
            if row is None:
                seals_done = True
            else:
                pending_seals.append(row)
        if not pending_events and not pending_seals:
            return
        upto = 2**63 - 1
        if not events_done:
            upto = min(upto, pending_events[-1][0])
        if not seals_done:
            upto = min(upto, pending_seals[-1][0])
        cut_e = bisect_right([r[0] for r in pending_events], upto)
        cut_s = bisect_right([r[0] for r in pending_seals], upto)
        window_events, pending_events = pending_events[:cut_e], pending_events[cut_e:]
        window_seals, pending_seals = pending_seals[:cut_s], pending_seals[cut_s:]
        yield upto, window_events, window_seals


def _known(names: dict[int, tuple[Any, Any, Any]]) -> Identify:
    """What the seals of a window name: the package holds it next to their hashes."""

    def identify(_after: int, _upto: int) -> dict[int, tuple[Any, Any, Any]]:
        return names

    return identify


def verify_package(
    path: Path,
    key: bytes | None,
    *,
    batch_size: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
    on_span: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Check a package offline: file checksums, the manifest's signature, every event against
    its seal, the chains and the checkpoints' signatures (these need the key)."""
    started = time.perf_counter()
    problems: list[Finding] = []
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        after = int(manifest["range"]["after"])
        through = int(manifest["range"]["through"])
        default_interval = int(manifest.get("default_interval") or 1000)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PackageError(f"{path / MANIFEST} cannot be read: {error}") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise PackageError(f"{path} is not a {FORMAT} version {VERSION}")
    if on_span is not None:
        on_span(after, through)
    if key is not None:
        signature = manifest.get("signature")
        if not signature:
            problems.append(
                Finding(Kind.PACKAGE_ALTERED, None, "the manifest carries no signature")
            )
        elif not hmac.compare_digest(str(signature), manifest_signature(key, manifest)):
            problems.append(
                Finding(
                    Kind.PACKAGE_ALTERED,
                    None,
                    "the manifest's signature does not verify with the audit key (its range,"
                    " counts or checksums were edited, or another key signed it)",
                )
            )

    checkpoint_lines = _Lines(path / CHECKPOINTS, lambda d: (_position(d), Checkpoint.from_json(d)))
    checkpoints = [row[1] for row in checkpoint_lines.rows()]
    anchor = None
    if after > 0:
        anchor = next((c for c in checkpoints if c.position == after), None)
        if anchor is None:
            problems.append(
                Finding(
                    Kind.PACKAGE_ALTERED,
                    after,
                    "the checkpoint the package starts from is missing",
                )
            )
    later = [c for c in checkpoints if c.position > after]
    check = Verification(
        key=key, anchor=anchor, sealed_head=through, default_interval=default_interval
    )
    event_lines = _Lines(path / EVENTS, event_from_json)
    seal_lines = _Lines(path / SEALS, seal_from_json)
    cursor = after
    positions = [c.position for c in later]
    for upto, events, seals in _package_windows(event_lines.rows(), seal_lines.rows(), batch_size):
        low, high = bisect_right(positions, cursor), bisect_right(positions, upto)
        hashes, names = split_seals(seals)
        check.feed(events, hashes, later[low:high], _known(names))
        if progress is not None:
            progress(min(upto, through) - cursor, len(events))
        cursor = upto
    report = check.finish(reached_end=True, elapsed=time.perf_counter() - started)
    report.after, report.through = after, through
    files = manifest.get("files") or {}
    counts = manifest.get("counts") or {}
    for name, lines, count_key in (
        (EVENTS, event_lines, "events"),
        (SEALS, seal_lines, "seals"),
        (CHECKPOINTS, checkpoint_lines, "checkpoints"),
    ):
        problems.extend(lines.problems)
        expected = (files.get(name) or {}).get("sha256")
        if expected != lines.sha.hexdigest():
            problems.append(
                Finding(
                    Kind.PACKAGE_ALTERED,
                    None,
                    f"{name} does not match the SHA-256 in the manifest",
                )
            )
        if counts.get(count_key) != lines.lines:
            problems.append(
                Finding(
                    Kind.PACKAGE_ALTERED,
                    None,
                    f"{name} has {lines.lines} lines; the manifest says {counts.get(count_key)}",
                )
            )
    report.findings[:0] = problems
    report.findings.sort(key=lambda f: (f.order, f.kind.value))
    return report


# -- the README -------------------------------------------------------------------------------------


def readme(manifest: dict[str, Any]) -> str:
    counts = manifest["counts"]
    span_text = f"positions {manifest['range']['after'] + 1}–{manifest['range']['through']}"
    signed = (
        f"signed with the key whose id is `{manifest['key_id']}`"
        if manifest.get("key_id")
        else "NOT signed (exported without an audit key)"
    )
    return f"""# kehu audit package (审计包)

Exported {manifest["created_at"]} from the {manifest["store"]} event store: {span_text},
{counts["events"]} events, {counts["seals"]} seals and {counts["checkpoints"]} checkpoints;
{signed}.

## Files

- `events.jsonl` — one stored event per line, exactly as stored: `position` (the global
  position, the notification id), `originator_id` (the aggregate id as stored),
  `originator_version`, `topic` (the event's type) and `state` (the stored bytes as UTF-8
  text; bytes that are not UTF-8 appear as `{{"base64": ...}}`). `state` holds whatever
  personal data the events hold, as stored: keep this package as confidential as the
  database (个人信息保护).
- `seals.jsonl` — per sealed event: `seq` (n), `digest`, the global `chain` g_n, and the
  aggregate's stream chain (`stream_prev`, `stream_chain`), hex.
- `checkpoints.jsonl` — signed checkpoints: (`seq`, `position`, `interval`, `chain`,
  `sealed_at`, `key_id`) and an HMAC-SHA256 `signature`. The first one anchors the chain when
  the package does not start at the beginning of the log.
- `manifest.json` — range, counts, the SHA-256 of each file, and an HMAC-SHA256 signature of
  the manifest itself.

## Verify

With kehu installed, no database needed:

    kehu audit verify --package <this directory> --key-file <file holding KEHU_AUDIT_KEY>

(or `--key`, or the `KEHU_AUDIT_KEY` environment variable). Without the key the chains are
checked but the signatures are not, which proves little against a deliberate forger. The
command exits 0 when everything verifies, 1 naming the first modified, deleted, inserted or
reordered event otherwise.

## The rules, for your own checker

    digest_n = SHA-256("kehu-audit-event-v1\\0" ‖ F(position) ‖ F(originator_id)
                       ‖ F(originator_version) ‖ F(topic) ‖ F(state))
    F(integer) = "i" ‖ int64 big-endian;   F(text) = "t" ‖ uint32 BE length ‖ UTF-8
    F(bytes)   = "b" ‖ uint64 BE length ‖ bytes;   F(null) = "n"
    g_0 = 32 zero bytes (or the anchor checkpoint's chain); g_n = SHA-256(g_(n-1) ‖ digest_n)
    s_0 = 32 zero bytes per aggregate;  s_k = SHA-256(s_(k-1) ‖ digest_k)
    checkpoint signature = HMAC-SHA256(key, "kehu-audit-checkpoint-v1\\0" ‖ F(seq)
                           ‖ F(position) ‖ F(interval) ‖ F(chain) ‖ F(sealed_at) ‖ F(key_id))
    manifest signature   = HMAC-SHA256(key, "kehu-audit-manifest-v1\\0" ‖ the manifest
                           without "signature" as JSON with sorted keys, no spaces, UTF-8)

1. Every event's digest equals its seal's; every seal chains from the one before (`seq`
   consecutive); every checkpoint's signature verifies and its chain equals the seal's at
   its position; each checkpoint comes within the previous one's `interval`.
2. Positions may have gaps (PostgreSQL skips ids of rolled-back transactions); a gap without
   a seal is not a deletion.
"""
