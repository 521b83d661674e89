"""防篡改 (tamper evidence), the pure part: how a stored event is hashed, how the hashes
chain, how a checkpoint is signed, and the checker that compares stored events with their
seals. Nothing here touches a database or a file: the store verifier
(:mod:`application.audit`) and the offline package verifier (:mod:`application.audit_package`)
feed the same :class:`Verification`.

What is hashed is what is stored (after any encryption of personal data), so erasing a data
subject's key later leaves every hash valid.

Encoding, version 1 (the package README repeats it for auditors who write their own checker)::

    digest_n = SHA-256("kehu-audit-event-v1\\0" ‖ F(position) ‖ F(originator_id)
                       ‖ F(originator_version) ‖ F(topic) ‖ F(state))
    F(integer) = "i" ‖ int64, big-endian
    F(text)    = "t" ‖ uint32 big-endian length in bytes ‖ UTF-8
    F(bytes)   = "b" ‖ uint64 big-endian length ‖ the bytes
    F(NULL)    = "n"
    F(other)   = "x" ‖ uint32 length ‖ UTF-8 of "<type name>:<repr>" (values a stored row
                 never holds unless someone wrote them by hand)

    global chain   g_0 = 32 zero bytes,  g_n = SHA-256(g_(n-1) ‖ digest_n)   (notification order)
    stream chain   s_0 = 32 zero bytes,  s_k = SHA-256(s_(k-1) ‖ digest_k)   (one aggregate's events)

    checkpoint message = "kehu-audit-checkpoint-v1\\0" ‖ F(seq) ‖ F(position) ‖ F(interval)
                         ‖ F(chain) ‖ F(sealed_at) ‖ F(key_id)
    signature          = HMAC-SHA256(key, message)

``seq`` counts sealed events (n above); positions are notification ids, which may have gaps
on PostgreSQL (rolled-back transactions) — a gap is simply never sealed. A checkpoint's
``interval`` promises that the next checkpoint comes at most that many sealed events later.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast
from uuid import UUID

EVENT_MAGIC = b"kehu-audit-event-v1\x00"
CHECKPOINT_MAGIC = b"kehu-audit-checkpoint-v1\x00"
GENESIS = bytes(32)
STREAM_GENESIS = bytes(32)

_sha256 = hashlib.sha256
_INT_TEXT = struct.Struct(">cqcI")  # F(int) then the head of F(text)
_INT = struct.Struct(">cq")
_TEXT = struct.Struct(">cI")
_BYTES = struct.Struct(">cQ")
_INT64 = range(-(2**63), 2**63)


# -- encoding and hashing ---------------------------------------------------------------


def encode_field(value: Any) -> bytes:
    """F(value): one field of the canonical encoding, tagged with its stored type."""
    if value is None:
        return b"n"
    if isinstance(value, int) and value in _INT64:
        return _INT.pack(b"i", value)
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        return _TEXT.pack(b"t", len(data)) + data
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return _BYTES.pack(b"b", len(data)) + data
    other = f"{type(value).__name__}:{value!r}".encode()
    return _TEXT.pack(b"x", len(other)) + other


#: F(topic) of the topics seen (a few dozen event types), to skip re-encoding them.
_TOPIC_FIELDS: dict[str, bytes] = {}


def encode_event(position: Any, originator_id: Any, version: Any, topic: Any, state: Any) -> bytes:
    """The canonical encoding of one stored event (see the module docstring)."""
    if type(topic) is not str:
        return _encode_any(position, originator_id, version, topic, state)
    top = _TOPIC_FIELDS.get(topic)
    if top is None:
        top = encode_field(topic)
        if len(_TOPIC_FIELDS) < 10_000:
            _TOPIC_FIELDS[topic] = top
    try:  # the shape every row the library writes has; anything else takes the slow path
        oid = originator_id.encode("utf-8", "surrogatepass")
        return b"".join(
            (
                EVENT_MAGIC,
                _INT_TEXT.pack(b"i", position, b"t", len(oid)),
                oid,
                _INT.pack(b"i", version),
                top,
                _BYTES.pack(b"b", len(state)),
                state,
            )
        )
    except (AttributeError, TypeError, struct.error):
        return _encode_any(position, originator_id, version, topic, state)


def _encode_any(*values: Any) -> bytes:
    return EVENT_MAGIC + b"".join(encode_field(v) for v in values)


def event_digest(position: Any, originator_id: Any, version: Any, topic: Any, state: Any) -> bytes:
    """digest_n: SHA-256 of the event's canonical encoding."""
    return _sha256(encode_event(position, originator_id, version, topic, state)).digest()


def chain_next(previous: bytes, digest: bytes) -> bytes:
    """g_n = SHA-256(g_(n-1) ‖ digest_n); the stream chain is built the same way."""
    return _sha256(previous + digest).digest()


def chain_of(digests: Iterable[bytes], start: bytes = GENESIS) -> bytes:
    value = start
    for digest in digests:
        value = chain_next(value, digest)
    return value


def seal_rows(
    rows: Iterable[Sequence[Any]], *, seq: int, chain: bytes, heads: dict[Any, bytes]
) -> list[tuple[Any, ...]]:
    """Seal stored events (rows in position order) after seal ``seq`` whose chain value is
    ``chain``. ``heads`` holds each aggregate's stream chain so far and is brought up to date.
    Returns seal rows in :data:`SEAL_COLUMNS` order."""
    seals: list[tuple[Any, ...]] = []
    for row in rows:
        position, oid, version, topic, _state = row
        digest = _sha256(encode_event(*row)).digest()
        seq += 1
        chain = _sha256(chain + digest).digest()
        previous = heads.get(oid, STREAM_GENESIS)
        stream = _sha256(previous + digest).digest()
        heads[oid] = stream
        seals.append((position, seq, oid, version, topic, digest, chain, previous, stream))
    return seals


def key_id(key: bytes) -> str:
    """A short public name for a key (which key signed a checkpoint), not the key."""
    return hmac.new(key, b"kehu-audit-key-id-v1", hashlib.sha256).hexdigest()[:16]


# -- seals and checkpoints ----------------------------------------------------------------


#: Column order of a stored event as read for hashing (rows are plain tuples).
EVENT_COLUMNS = ("position", "originator_id", "originator_version", "topic", "state")

#: Column order of a seal row (``audit_seals``).
SEAL_COLUMNS = (
    "position",
    "seq",
    "originator_id",
    "originator_version",
    "topic",
    "digest",
    "chain",
    "stream_prev",
    "stream_chain",
)


#: Column order of a seal as the checker reads it: the hashes only (what a seal names is
#: asked for only when something is irregular, which keeps the usual read light).
HASH_COLUMNS = ("position", "seq", "digest", "chain", "stream_prev", "stream_chain")

#: ``identify(after, upto)``: (originator_id, version, topic) by position, for the seals in
#: that range of positions.
Identify = Callable[[int, int], Mapping[int, tuple[Any, Any, Any]]]


def split_seals(
    seals: Iterable[Sequence[Any]],
) -> tuple[list[tuple[Any, ...]], dict[int, tuple[Any, Any, Any]]]:
    """Seal rows (:data:`SEAL_COLUMNS`) as the checker takes them: hashes, and names."""
    hashes: list[tuple[Any, ...]] = []
    names: dict[int, tuple[Any, Any, Any]] = {}
    for p, seq, oid, version, topic, digest, chain, prev, stream in seals:
        hashes.append((p, seq, digest, chain, prev, stream))
        names[p] = (oid, version, topic)
    return hashes, names


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: "the chain over the first ``seq`` sealed events, ending at
    ``position``, is ``chain``" — and the next checkpoint follows within ``interval``."""

    seq: int
    position: int
    interval: int
    chain: bytes
    sealed_at: str
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        return checkpoint_message(
            self.seq, self.position, self.interval, self.chain, self.sealed_at, self.key_id
        )

    def verifies(self, key: bytes) -> bool:
        expected = hmac.new(key, self.message(), hashlib.sha256).digest()
        return hmac.compare_digest(expected, self.signature)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "position": self.position,
            "interval": self.interval,
            "chain": self.chain.hex(),
            "sealed_at": self.sealed_at,
            "key_id": self.key_id,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(
            seq=int(data["seq"]),
            position=int(data["position"]),
            interval=int(data["interval"]),
            chain=bytes.fromhex(data["chain"]),
            sealed_at=str(data["sealed_at"]),
            key_id=str(data["key_id"]),
            signature=bytes.fromhex(data["signature"]),
        )


def checkpoint_message(
    seq: int, position: int, interval: int, chain: bytes, sealed_at: str, signer: str
) -> bytes:
    return CHECKPOINT_MAGIC + b"".join(
        encode_field(v) for v in (seq, position, interval, chain, sealed_at, signer)
    )


def sign_checkpoint(
    key: bytes, *, seq: int, position: int, interval: int, chain: bytes, sealed_at: str
) -> Checkpoint:
    signer = key_id(key)
    message = checkpoint_message(seq, position, interval, chain, sealed_at, signer)
    return Checkpoint(
        seq=seq,
        position=position,
        interval=interval,
        chain=chain,
        sealed_at=sealed_at,
        key_id=signer,
        signature=hmac.new(key, message, hashlib.sha256).digest(),
    )


# -- findings -------------------------------------------------------------------------------


class Kind(StrEnum):
    """What a finding says happened."""

    MODIFIED = "modified"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered/swapped"
    SEAL_ALTERED = "seal altered"
    CHECKPOINT_FORGED = "checkpoint forged"
    HISTORY_REWRITTEN = "history rewritten"
    CHECKPOINTS_MISSING = "checkpoints missing"
    PACKAGE_ALTERED = "package altered"


def event_type(topic: Any) -> str | None:
    """``domain.customer:Customer.Registered`` → ``Customer.Registered``."""
    return topic.rsplit(":", 1)[-1] if isinstance(topic, str) and topic else None


def show_id(originator_id: Any) -> str:
    """An aggregate id as people see it (SQLite stores the 32-digit hex form)."""
    if isinstance(originator_id, str):
        try:
            return str(UUID(originator_id))
        except ValueError:
            return originator_id
    return repr(originator_id)


@dataclass(frozen=True)
class Finding:
    kind: Kind
    position: int | None
    message: str
    originator_id: str | None = None
    version: int | None = None
    type: str | None = None
    #: For a reordered/swapped event: the position it was sealed at.
    sealed_position: int | None = None

    @property
    def order(self) -> int:
        positions = [p for p in (self.position, self.sealed_position) if p is not None]
        return min(positions) if positions else -1

    def describe(self) -> str:
        where = f"position {self.position}" if self.position is not None else "package"
        what = ""
        if self.originator_id is not None:
            aggregate = self.type.split(".")[0] if self.type else "aggregate"
            what = f" — {aggregate} {self.originator_id}"
            if self.version is not None:
                what += f" v{self.version}"
            if self.type:
                what += f" ({self.type})"
        return f"{where}: {self.kind.value}{what}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "position": self.position,
            "sealed_position": self.sealed_position,
            "aggregate_id": self.originator_id,
            "version": self.version,
            "type": self.type,
            "message": self.message,
        }


def _identity(oid: Any, version: Any, topic: Any) -> dict[str, Any]:
    return {
        "originator_id": show_id(oid) if oid is not None else None,
        "version": version if isinstance(version, int) else None,
        "type": event_type(topic),
    }


@dataclass
class VerifyReport:
    """What a verification found. ``ok`` means no finding; warnings do not fail it."""

    after: int
    through: int
    events: int = 0
    seals: int = 0
    checkpoints: int = 0
    signatures_checked: bool = False
    not_yet_sealed: int = 0
    unsigned_tail: int = 0
    last_checkpoint: Checkpoint | None = None
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    findings_truncated: bool = False
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    @property
    def rate(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "range": {"after": self.after, "through": self.through},
            "events": self.events,
            "seals": self.seals,
            "checkpoints": self.checkpoints,
            "signatures_checked": self.signatures_checked,
            "not_yet_sealed": self.not_yet_sealed,
            "sealed_not_yet_signed": self.unsigned_tail,
            "last_checkpoint": self.last_checkpoint.as_json() if self.last_checkpoint else None,
            "findings": [f.as_json() for f in self.findings],
            "findings_truncated": self.findings_truncated,
            "warnings": list(self.warnings),
            "elapsed_seconds": round(self.elapsed, 3),
            "events_per_second": round(self.rate),
        }


# -- the checker -------------------------------------------------------------------------------

_END = 1 << 64  # after every position


class Verification:
    """Compares stored events with their seals, checks the seals' chains and the signed
    checkpoints. Feed it windows of rows in position order; then :meth:`finish`.

    - Each event's digest is recomputed and compared with the seal at its position: a
      difference, a seal without its event, or an event without a seal inside the sealed range
      is an anomaly. Anomalies are classified at the end — an event found at another position
      than the one it was sealed at (or holding another position's sealed state) is
      reordered/swapped; an unsealed event where the sealed one moved away is inserted; the
      rest are modified, deleted or inserted.
    - Each seal must chain from the one before (``seq`` + 1, ``g_n`` from ``g_(n-1)``), and
      its stream chain from its aggregate's previous seal: this exposes edited seals.
    - Each checkpoint's signature must verify with the key, its chain must equal the sealed
      chain at its position (else sealed history before it was rewritten, seals and all), and
      checkpoints must follow each other within the interval the previous one promised.

    What a seal names (aggregate id, version, type) is a copy kept to name deleted or moved
    events; the hashes do not cover it, so it is read — and compared with the event — only
    for rows that are irregular anyway.
    """

    #: Anomalies kept for classification; beyond this only counted.
    anomaly_limit = 10_000
    #: Digest computations allowed to match moved states (anomalies × anomalies).
    pairing_budget = 2_000_000
    findings_limit = 1_000

    def __init__(
        self,
        *,
        key: bytes | None,
        anchor: Checkpoint | None,
        sealed_head: int,
        default_interval: int,
    ) -> None:
        self.key = key
        self.sealed_head = sealed_head
        self.default_interval = default_interval
        self.report = VerifyReport(
            after=anchor.position if anchor else 0, through=0, signatures_checked=key is not None
        )
        self.from_genesis = anchor is None
        self.seq = anchor.seq if anchor else 0
        self.chain = anchor.chain if anchor else GENESIS
        self.heads: dict[Any, bytes] = {}
        self.last_checkpoint: Checkpoint | None = None
        #: (seq, interval) of the newest checkpoint row seen: the next is due within interval.
        self.cadence: tuple[int, int] | None = (anchor.seq, anchor.interval) if anchor else None
        self.diverged_since: int | None = None
        self.mismatched: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self.missing: dict[int, tuple[Any, ...]] = {}
        self.extra: dict[int, tuple[Any, ...]] = {}
        self.tail: dict[int, tuple[Any, ...]] = {}
        self.anomalies_dropped = 0
        if key is None:
            self.report.warnings.append(
                "no audit key: checkpoint signatures are unchecked, so only the chains'"
                " consistency is verified (set KEHU_AUDIT_KEY or pass --key)"
            )
        if anchor is not None:
            self.report.checkpoints += 1
            if key is not None and not anchor.verifies(key):
                self._find(
                    Kind.CHECKPOINT_FORGED,
                    anchor.position,
                    "the checkpoint the range starts from does not verify with the audit key"
                    f" (signed by key {anchor.key_id}, the key given is {key_id(key)})",
                )
            self.last_checkpoint = anchor

    # -- feeding ------------------------------------------------------------------------------

    def feed(
        self,
        events: Sequence[tuple[Any, ...]],
        seals: Sequence[tuple[Any, ...]],
        checkpoints: Sequence[Checkpoint] = (),
        identify: Identify | None = None,
    ) -> None:
        """One window of positions: its events, its seals' hashes (:data:`HASH_COLUMNS`) and
        its checkpoints, each sorted by position, all covering the same positions.
        ``identify(after, upto)`` gives what the seals in that range name (originator id,
        version, topic) by position; it is asked only when something is irregular."""
        cps = iter(checkpoints)
        checkpoint = next(cps, None)
        next_cp = checkpoint.position if checkpoint is not None else _END
        names: Mapping[int, tuple[Any, Any, Any]] | None = None
        last = max(events[-1][0] if events else 0, seals[-1][0] if seals else 0)

        def full(seal: tuple[Any, ...]) -> tuple[Any, ...]:
            """The seal with what it names (read once per window, from the first need)."""
            nonlocal names
            if names is None:
                names = identify(seal[0] - 1, last) if identify is not None else {}
            oid, version, topic = names.get(seal[0], (None, None, None))
            return (seal[0], seal[1], oid, version, topic, *seal[2:])

        sha = _sha256
        join = b"".join
        topics = _TOPIC_FIELDS
        pack_int_text, pack_int, pack_bytes = _INT_TEXT.pack, _INT.pack, _BYTES.pack
        heads = self.heads
        from_genesis = self.from_genesis
        report = self.report
        i = j = 0
        n_events, n_seals = len(events), len(seals)
        while i < n_events or j < n_seals:
            # The usual case, fast: event and seal stand at the same position and all is well.
            # Anything unusual goes through the general path, row by row, then back here.
            seq, chain = self.seq, self.chain
            k = usual_rows = 0
            for event, seal in zip(
                events[i:] if i else events, seals[j:] if j else seals, strict=False
            ):
                position, oid, version, topic, state = event
                s_position, s_seq, s_digest, s_chain, s_prev, s_stream = seal
                if position != s_position:
                    break
                head = heads.get(oid)
                if head is None:
                    head = STREAM_GENESIS if from_genesis else s_prev
                top = topics.get(topic, b"")  # F(topic) is never empty: b"" means not seen yet
                usual = (
                    s_seq == seq + 1
                    and s_prev == head
                    and top != b""
                    and type(oid) is str
                    and type(state) is bytes
                    and type(position) is int
                    and type(version) is int
                )
                if usual:
                    # encode_event's usual case, inlined: this loop is where verify spends its
                    # time (the unit tests hold both to the same bytes).
                    try:
                        data = oid.encode("utf-8", "surrogatepass")
                        encoded = join(
                            (
                                EVENT_MAGIC,
                                pack_int_text(b"i", position, b"t", len(data)),
                                data,
                                pack_int(b"i", version),
                                top,
                                pack_bytes(b"b", len(state)),
                                state,
                            )
                        )
                    except struct.error:  # beyond int64: the general path encodes it
                        encoded = encode_event(*event)
                    usual = (
                        sha(encoded).digest() == s_digest
                        and sha(chain + s_digest).digest() == s_chain
                        and sha(s_prev + s_digest).digest() == s_stream
                    )
                if usual:
                    seq, chain = s_seq, s_chain
                    heads[oid] = s_stream
                    usual_rows += 1
                else:
                    self.seq, self.chain = seq, chain
                    self._event_and_seal(event, full(seal))
                    seq, chain = self.seq, self.chain
                k += 1
                while next_cp <= position:
                    self.seq, self.chain = seq, chain
                    if next_cp == position:
                        self._checkpoint(cast(Checkpoint, checkpoint), s_seq, s_chain)
                    else:
                        self._orphan_checkpoint(cast(Checkpoint, checkpoint))
                    checkpoint = next(cps, None)
                    next_cp = checkpoint.position if checkpoint is not None else _END
            self.seq, self.chain = seq, chain
            report.events += usual_rows  # the others were counted on the general path
            report.seals += usual_rows
            i += k
            j += k
            if i >= n_events and j >= n_seals:
                break
            # One step of the general merge: an event without a seal, or a seal without its
            # event, at this position.
            ep: int = events[i][0] if i < n_events else _END
            sp: int = seals[j][0] if j < n_seals else _END
            if ep < sp:
                row = events[i]
                i += 1
                report.events += 1
                if ep <= self.sealed_head:
                    self._anomaly(self.extra, ep, row)
                else:
                    report.not_yet_sealed += 1
                    if (self.mismatched or self.missing) and len(self.tail) < self.anomaly_limit:
                        self.tail[ep] = row
                continue
            sealed = full(seals[j])
            j += 1
            self._anomaly(self.missing, sp, sealed)
            self._seal(sealed, False)
            while next_cp <= sp:
                if next_cp == sp:
                    self._checkpoint(cast(Checkpoint, checkpoint), sealed[1], sealed[6])
                else:
                    self._orphan_checkpoint(cast(Checkpoint, checkpoint))
                checkpoint = next(cps, None)
                next_cp = checkpoint.position if checkpoint is not None else _END
        if last and report.through < last:
            report.through = last
        while checkpoint is not None:
            self._orphan_checkpoint(checkpoint)
            checkpoint = next(cps, None)

    def _event_and_seal(self, event: tuple[Any, ...], seal: tuple[Any, ...]) -> None:
        position = event[0]
        self.report.events += 1
        matches = _sha256(encode_event(*event)).digest() == seal[5]
        if not matches:
            self._anomaly(self.mismatched, position, (event, seal))
        elif event[1:4] != seal[2:5]:
            self._find(
                Kind.SEAL_ALTERED,
                position,
                "the seal's copy of the event's identity was edited"
                f" (the seal names {show_id(seal[2])} v{seal[3]})",
                **_identity(*event[1:4]),
            )
        self._seal(seal, matches)

    def _seal(self, seal: tuple[Any, ...], event_matches: bool) -> None:
        position, seq, oid, version, topic, digest, chain, stream_prev, stream_chain = seal
        report = self.report
        report.seals += 1
        if report.through < position:
            report.through = position
        if seq != self.seq + 1:
            if seq > self.seq + 1:
                gone = seq - self.seq - 1
                self._find(
                    Kind.DELETED,
                    position,
                    f"{gone} sealed event(s) before this position are gone together with"
                    f" their seals (seal #{self.seq + 1}"
                    + (f"–#{seq - 1}" if gone > 1 else "")
                    + " missing)",
                )
            else:
                self._find(
                    Kind.SEAL_ALTERED,
                    position,
                    f"seal #{seq} is out of sequence (expected #{self.seq + 1})",
                    **_identity(oid, version, topic),
                )
        elif _sha256(self.chain + digest).digest() != chain:
            if event_matches:
                self._find(
                    Kind.MODIFIED,
                    position,
                    "the stored event was changed and its seal's digest rewritten to match;"
                    " the global hash chain exposes it",
                    **_identity(oid, version, topic),
                )
            else:
                self._find(
                    Kind.SEAL_ALTERED,
                    position,
                    "the seal does not chain from the seal before it (g_n ≠ SHA-256(g_n-1 ‖ digest))",
                    **_identity(oid, version, topic),
                )
        self.seq = seq
        self.chain = chain
        head = self.heads.get(oid)
        if head is None:
            head = STREAM_GENESIS if self.from_genesis else stream_prev
        if stream_prev != head:
            self._find(
                Kind.SEAL_ALTERED,
                position,
                "the aggregate's stream chain is broken here: this seal does not follow the"
                " aggregate's previous sealed event (an event of this aggregate was removed,"
                " or seals were edited)",
                **_identity(oid, version, topic),
            )
        elif _sha256(stream_prev + digest).digest() != stream_chain:
            self._find(
                Kind.SEAL_ALTERED,
                position,
                "the seal's stream chain value was edited",
                **_identity(oid, version, topic),
            )
        self.heads[oid] = stream_chain

    def _checkpoint(self, checkpoint: Checkpoint, sealed_seq: int, sealed_chain: bytes) -> None:
        """A checkpoint at a sealed position whose seal has ``sealed_seq`` and ``sealed_chain``."""
        report = self.report
        report.checkpoints += 1
        if self.cadence is not None and sealed_seq - self.cadence[0] > self.cadence[1]:
            self._find(
                Kind.CHECKPOINTS_MISSING,
                checkpoint.position,
                f"{sealed_seq - self.cadence[0]} sealed events since the previous checkpoint,"
                f" which promised the next within {self.cadence[1]}: checkpoints were deleted",
            )
        if self.key is not None and not checkpoint.verifies(self.key):
            self._find(
                Kind.CHECKPOINT_FORGED,
                checkpoint.position,
                "the checkpoint's signature does not verify with the audit key"
                f" (it names key {checkpoint.key_id}; the key given is {key_id(self.key)})",
            )
            interval = self.cadence[1] if self.cadence else self.default_interval
            self.cadence = (sealed_seq, interval)
            return
        if checkpoint.seq != sealed_seq or checkpoint.chain != sealed_chain:
            if self.diverged_since is None:
                previous = self.last_checkpoint
                since = previous.position if previous else 0
                self.diverged_since = since
                self._find(
                    Kind.HISTORY_REWRITTEN,
                    checkpoint.position,
                    "the signed checkpoint does not match the sealed chain: events and their"
                    f" seals after position {since} and up to here were rewritten"
                    f" (signed: #{checkpoint.seq} {checkpoint.chain.hex()[:16]}…,"
                    f" stored: #{sealed_seq} {sealed_chain.hex()[:16]}…)",
                )
        else:
            self.diverged_since = None
        self.cadence = (checkpoint.seq, checkpoint.interval)
        self.last_checkpoint = checkpoint

    def _orphan_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.report.checkpoints += 1
        self._find(
            Kind.DELETED,
            checkpoint.position,
            f"a checkpoint vouches for sealed event #{checkpoint.seq} here, but neither the"
            " event's seal nor (perhaps) the event is left",
        )

    def _anomaly(self, into: dict[int, Any], position: int, item: Any) -> None:
        if len(self.mismatched) + len(self.missing) + len(self.extra) < self.anomaly_limit:
            into[position] = item
        else:
            self.anomalies_dropped += 1

    def _find(self, kind: Kind, position: int | None, message: str, **identity: Any) -> None:
        findings = self.report.findings
        if len(findings) >= self.findings_limit:
            self.report.findings_truncated = True
            return
        findings.append(Finding(kind, position, message, **identity))

    # -- the end ---------------------------------------------------------------------------------

    def finish(self, *, reached_end: bool, elapsed: float = 0.0) -> VerifyReport:
        """Classify the anomalies, apply the end-of-log rules and return the report."""
        self._classify()
        report = self.report
        report.elapsed = elapsed
        report.last_checkpoint = self.last_checkpoint
        if reached_end:
            last = self.last_checkpoint
            report.unsigned_tail = max(self.seq - (last.seq if last else 0), 0)
            since, allowed = self.cadence or (0, self.default_interval)
            overdue = self.seq - since
            if overdue > allowed and self.key is not None:
                self._find(
                    Kind.CHECKPOINTS_MISSING,
                    last.position if last else None,
                    f"{overdue} sealed events after "
                    + (f"the checkpoint at position {last.position}" if last else "the start")
                    + f" and no signed checkpoint, though one is due every {allowed}:"
                    " checkpoints were deleted (or the sealer had no key)",
                )
            elif report.unsigned_tail > 0:
                report.warnings.append(
                    f"{report.unsigned_tail} sealed events after the last valid checkpoint are"
                    " not yet covered by a signature (the sealer signs at least every"
                    f" {allowed} events and at the end of each pass)"
                )
        if self.anomalies_dropped:
            report.warnings.append(
                f"{self.anomalies_dropped} further anomalies were counted but not classified"
            )
        report.findings.sort(key=lambda f: (f.order, f.kind.value))
        return report

    def _classify(self) -> None:
        rows: dict[int, tuple[Any, ...]] = {q: pair[0] for q, pair in self.mismatched.items()}
        rows.update(self.extra)
        pending: dict[int, tuple[Any, ...]] = {p: pair[1] for p, pair in self.mismatched.items()}
        pending.update(self.missing)
        if pending:
            rows.update(self.tail)
        by_identity = {(s[2], s[3]): p for p, s in pending.items()}
        origin: dict[int, tuple[int, str]] = {}
        moved_to: dict[int, int] = {}
        budget = self.pairing_budget
        exhausted = False
        for q in sorted(rows):
            row = rows[q]
            p = by_identity.get((row[1], row[2]))  # (originator_id, version)
            if (
                p is not None
                and p != q
                and p not in moved_to
                and event_digest(p, *row[1:]) == pending[p][5]
            ):
                origin[q] = (p, "event")
                moved_to[p] = q
                continue
            if budget < len(pending):
                exhausted = True
                continue
            budget -= len(pending)
            for p, seal in pending.items():
                if p == q or p in moved_to:
                    continue
                if event_digest(p, seal[2], seal[3], seal[4], row[4]) == seal[5]:
                    origin[q] = (p, "state")
                    moved_to[p] = q
                    break
        if exhausted:
            self.report.warnings.append(
                "too many anomalies to match moved states exhaustively; some swaps may be"
                " reported as modifications"
            )
        for q in sorted(rows):
            row = rows[q]
            if q in origin:
                p, how = origin[q]
                seal = pending[p]
                if q in self.tail:
                    self.report.not_yet_sealed -= 1
                if how == "event":
                    self._find(
                        Kind.REORDERED,
                        q,
                        f"this is the event sealed at position {p}",
                        sealed_position=p,
                        **_identity(*seal[2:5]),
                    )
                else:
                    self._find(
                        Kind.REORDERED,
                        q,
                        f"this position holds the state sealed at position {p}"
                        f" ({show_id(seal[2])} v{seal[3]}): states were swapped or moved",
                        sealed_position=p,
                        **_identity(*row[1:4]),
                    )
            elif q in self.tail:
                continue
            elif q in self.mismatched:
                seal = self.mismatched[q][1]
                if q in moved_to:
                    self._find(
                        Kind.INSERTED,
                        q,
                        f"an event that was never sealed stands where the sealed"
                        f" {show_id(seal[2])} v{seal[3]} was (that one is now at position"
                        f" {moved_to[q]})",
                        **_identity(*row[1:4]),
                    )
                else:
                    changed = _what_changed(row, seal)
                    self._find(
                        Kind.MODIFIED,
                        q,
                        f"the stored event differs from its seal ({changed})",
                        **_identity(*seal[2:5]),
                    )
            else:
                self._find(
                    Kind.INSERTED,
                    q,
                    "an event that was never sealed stands inside the sealed range",
                    **_identity(*row[1:4]),
                )
        for p, seal in sorted(self.missing.items()):
            if p in moved_to:
                continue
            self._find(
                Kind.DELETED,
                p,
                "the sealed event is gone from the store",
                **_identity(*seal[2:5]),
            )


def _what_changed(row: tuple[Any, ...], seal: tuple[Any, ...]) -> str:
    names = ("aggregate id", "version", "type")
    changed = [name for name, a, b in zip(names, row[1:4], seal[2:5], strict=True) if a != b]
    return ", ".join(changed) + " changed" if changed else "its stored state changed"
