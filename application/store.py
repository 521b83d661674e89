"""The event store and the command pipeline every bounded context shares.

``Kehu`` is one ``eventsourcing`` application holding every aggregate type, so that all
events share one global order (the notification log): the position a command returns,
the event feed, the projections and the audit hash chain all read that one sequence.
See docs/adr/0001-one-application-one-log.md.

A command runs as: idempotency check → load (or create) → act → stamp the audit envelope
on every new event → one atomic ``save()`` together with the command receipt. A write
that loses a race against another writer is retried on the fresh state (no lost update)
unless the caller pinned a version with If-Match (then it is a conflict).
"""

from __future__ import annotations

import copy
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
)
from eventsourcing.utils import resolve_topic

from application.context import CommandContext, Role
from application.errors import (
    AlreadyExists,
    ConcurrencyExhausted,
    IdempotencyKeyReused,
    NotFound,
    ProcessingRestricted,
    SubjectErased,
    VersionConflict,
)
from application.group_commit import GroupCommit
from application.receipts import CommandReceipt, receipt_id
from application.subject_keys import (
    ERASED_STATUS,
    RESTRICTED,
    KeyTable,
    MasterKeys,
    MemoryKeyTable,
    SubjectErasedError,
    SubjectKeys,
    is_token,
)
from domain.base import (
    ERASED,
    DomainError,
    Envelope,
    KehuAggregate,
    MissingActorError,
    personal_layout,
)
from domain.values import Money

log = logging.getLogger("kehu.store")

A = TypeVar("A", bound=KehuAggregate)


# -- transcodings for the value types kept in events -----------------------------------


class EnvelopeAsDict(Transcoding):
    type = Envelope
    name = "envelope"

    def encode(self, obj: Envelope) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> Envelope:
        return Envelope.from_dict(data)


class MoneyAsDict(Transcoding):
    type = Money
    name = "money"

    def encode(self, obj: Money) -> dict[str, str]:
        return {"amount": str(obj.amount), "currency": obj.currency}

    def decode(self, data: dict[str, str]) -> Money:
        return Money(Decimal(data["amount"]), data["currency"])


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SetAsList(Transcoding):
    """Aggregate state in snapshots may hold sets."""

    type = set
    name = "set"

    def encode(self, obj: set[Any]) -> list[Any]:
        return sorted(obj, key=str)

    def decode(self, data: list[Any]) -> set[Any]:
        return set(data)


#: While a command's events are saved: each event (by ``id``) → its data subject.
_SUBJECTS: ContextVar[dict[int, UUID] | None] = ContextVar("kehu_subjects", default=None)


class PersonalDataWithoutSubject(Exception):
    """An event with personal data was saved without naming whose it is (a bug: events are
    saved through :meth:`Kehu.execute` or :meth:`Kehu.record_many`)."""


class EnvelopeMapper(Mapper[UUID]):
    """Refuses to store an aggregate event that carries no audit envelope, and keeps personal
    data encrypted with its subject's key (application/subject_keys.py): values marked
    :data:`~domain.base.PersonalData` in events, and an aggregate's ``PERSONAL_STATE`` in
    snapshots, are stored as tokens; reading gives them back, or :data:`ERASED`."""

    keys: SubjectKeys | None = None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if not isinstance(domain_event, Snapshot):
            envelope = vars(domain_event).get("envelope")
            if not isinstance(envelope, Envelope):
                raise MissingActorError(
                    f"{type(domain_event).__qualname__} has no audit envelope:"
                    " an event cannot be stored without an actor"
                )
        if self.keys is not None:
            domain_event = self._sealed(domain_event, self.keys)
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        if self.keys is not None:
            for name, entries in _personal_parts(event).items():
                value = event.__dict__.get(name)
                if value is not None:
                    event.__dict__[name] = _map_entries(value, entries, self._open)
        return event

    def _sealed(self, event: Any, keys: SubjectKeys) -> Any:
        parts = _personal_parts(event)
        if not parts:
            return event
        if isinstance(event, Snapshot):
            subject = cast(KehuAggregate, event.mutate(None)).data_subject(None)
        else:
            subject = (_SUBJECTS.get() or {}).get(id(event))
        if subject is None:
            raise PersonalDataWithoutSubject(
                f"{type(event).__qualname__} holds personal data but names no data subject"
            )

        def seal(text: str) -> str:
            return keys.encrypt(subject, text.encode("utf-8"))

        sealed = copy.copy(event)
        for name, entries in parts.items():
            value = event.__dict__.get(name)
            if value is not None:
                sealed.__dict__[name] = _map_entries(value, entries, seal)
        return sealed

    def _open(self, value: str) -> str:
        if not is_token(value):
            return value  # stored before personal data was encrypted
        assert self.keys is not None
        plain = self.keys.decrypt(value)
        return ERASED if plain is None else plain.decode("utf-8")


def _personal_parts(event: Any) -> dict[str, frozenset[str] | None]:
    if isinstance(event, Snapshot):
        kind = resolve_topic(event.topic)
        names = getattr(kind, "PERSONAL_STATE", ())
        if not names:
            return {}
        state = dict(event.state)
        event.__dict__["state"] = state  # sealed and opened entry by entry below
        return {"state": frozenset(names)}
    return personal_layout(cast(type, type(event)))


def _map_entries(value: Any, entries: frozenset[str] | None, leaf: Callable[[str], str]) -> Any:
    """Apply ``leaf`` to every text in ``value`` (or in its ``entries`` only)."""
    if entries is None:
        return _map_leaves(value, leaf)
    if not isinstance(value, dict):
        return value
    return {k: (_map_leaves(v, leaf) if k in entries else v) for k, v in value.items()}


def _map_leaves(value: Any, leaf: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return leaf(value)
    if isinstance(value, dict):
        return {k: _map_leaves(v, leaf) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_map_leaves(v, leaf) for v in value]
    return value


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandResult:
    """What every command returns: the aggregate's id, its new version, the global
    position of its last event, and the names of the events it recorded."""

    id: UUID
    version: int
    position: int
    events: list[str] = field(default_factory=list)
    created: bool = False
    #: True when an Idempotency-Key replay returned a first result and recorded nothing.
    replayed: bool = field(default=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "version": self.version,
            "position": self.position,
            "events": list(self.events),
        }


@dataclass(frozen=True)
class RecordedEvent:
    """A stored event as auditors and integrators see it."""

    position: int | None
    aggregate_type: str
    aggregate_id: UUID
    version: int
    type: str
    recorded_at: datetime
    envelope: Envelope | None
    payload: dict[str, Any]
    event: Any = field(repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": str(self.aggregate_id),
            "version": self.version,
            "type": self.type,
            "recorded_at": self.recorded_at.isoformat(),
            "envelope": asdict(self.envelope) if self.envelope else None,
            "payload": self.payload,
        }


#: Aggregates that are kehu's own bookkeeping, not business facts.
INTERNAL = frozenset({"CommandReceipt", "ApiKey"})

_EVENT_ATTRS = {"originator_id", "originator_version", "timestamp", "originator_topic", "envelope"}


def describe(event: Any, position: int | None = None) -> RecordedEvent:
    state = vars(event)
    qualname = type(event).__qualname__
    return RecordedEvent(
        position=position,
        aggregate_type=qualname.split(".")[0],
        aggregate_id=event.originator_id,
        version=event.originator_version,
        type=qualname,
        recorded_at=event.timestamp,
        envelope=state.get("envelope"),
        payload={k: v for k, v in state.items() if k not in _EVENT_ATTRS},
        event=event,
    )


def to_json(value: Any) -> Any:
    """Plain JSON data: Money as ``{"amount": "12.50", "currency": "CNY"}``, Decimal as
    text, times and dates in ISO 8601, UUIDs as text."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_json(v) for v in value]
    return value


def aggregate_state(aggregate: KehuAggregate) -> dict[str, Any]:
    """An aggregate's state as plain data (for time travel reads): a DTO, not the object."""
    state: dict[str, Any] = {"id": aggregate.id, "version": aggregate.version}
    for name, value in vars(aggregate).items():
        if name in ("_id", "_version", "_pending_events"):
            continue
        if name == "_created_on":
            state["created_at"] = value
        elif name == "_modified_on":
            state["modified_at"] = value
        else:
            state[name.lstrip("_")] = value
    return state


# -- the application ------------------------------------------------------------------------


#: Events between snapshots: loading an aggregate replays at most this many events after
#: its latest snapshot (a snapshot's personal state is encrypted like the events').
SNAPSHOT_INTERVAL = 100


class Kehu(Application[UUID]):
    """kehu's event store: every aggregate, one global order."""

    name = "kehu"
    is_snapshotting_enabled = True

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        command_retries: int = 10,
        master_keys: MasterKeys | None = None,
        key_cache_seconds: float = 10.0,
    ) -> None:
        super().__init__(env)
        self.command_retries = command_retries
        datastore = getattr(self.recorder, "datastore", None)
        if master_keys is None:
            if datastore is not None:
                raise ValueError("a SQL event store needs the master key (KEHU_MASTER_KEY)")
            # The in-memory store lives as long as the process: so may its master key.
            master_keys = MasterKeys.from_secrets(secrets.token_urlsafe(32))
        table = KeyTable(self.recorder) if datastore is not None else MemoryKeyTable()
        self.keys = SubjectKeys(table, master_keys, key_cache_seconds)
        cast(EnvelopeMapper, self.mapper).keys = self.keys
        self.group_commit = GroupCommit(self.save, self._naming)

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=EnvelopeMapper
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in (EnvelopeAsDict(), MoneyAsDict(), DateAsISO(), SetAsList()):
            transcoder.register(transcoding)

    # -- reading ------------------------------------------------------------------

    def load(self, aggregate_id: UUID, kind: type[A], *, version: int | None = None) -> A:
        """The aggregate as it stands (or stood at ``version``)."""
        try:
            aggregate: Any = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(f"no {kind.__name__.lower()} with id {aggregate_id}") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"no {kind.__name__.lower()} with id {aggregate_id}")
        if version is not None and aggregate.version != version:
            raise NotFound(
                f"{kind.__name__.lower()} {aggregate_id} has no version {version}",
                latest=aggregate.version,
            )
        return aggregate

    def load_as_of(self, aggregate_id: UUID, kind: type[A], as_of: datetime) -> A:
        """The aggregate as it stood at a past (recorded) time.

        A command's events are applied together or not at all: a command counts once its
        last event was recorded, so no state part-way through one command is shown."""
        aggregate: Any = None
        command: list[Any] = []
        for stored in [*self.events.get(aggregate_id), None]:
            envelope = vars(stored).get("envelope") if stored is not None else None
            same = (
                stored is not None
                and command
                and envelope is not None
                and envelope.command_id
                == getattr(vars(command[0]).get("envelope"), "command_id", None)
            )
            if not same and command:
                if command[-1].timestamp > as_of:
                    break
                for earlier in command:
                    aggregate = earlier.mutate(aggregate)
                command = []
            if stored is not None:
                command.append(stored)
        if aggregate is None:
            if self.exists(aggregate_id):
                raise NotFound(f"{kind.__name__.lower()} {aggregate_id} did not exist at {as_of}")
            raise NotFound(f"no {kind.__name__.lower()} with id {aggregate_id}")
        if not isinstance(aggregate, kind):
            raise NotFound(f"no {kind.__name__.lower()} with id {aggregate_id}")
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def history(
        self, aggregate_id: UUID, *, after_version: int = 0, limit: int = 100
    ) -> list[RecordedEvent]:
        """One aggregate's events with their envelopes and global positions."""
        events = list(self.events.get(aggregate_id, gt=after_version or None, limit=limit))
        if not events:
            return []
        positions = self.positions_of(
            aggregate_id, events[0].originator_version, events[-1].originator_version
        )
        return [describe(e, positions.get(e.originator_version)) for e in events]

    def feed(
        self, after: int, limit: int, *, include_receipts: bool = False
    ) -> list[RecordedEvent]:
        """Events in global order after a position (the integrators' feed). Command
        receipts and API keys are kehu's own bookkeeping, left out unless asked for."""
        described: list[RecordedEvent] = []
        start = after + 1
        while len(described) < limit:
            notifications = self.recorder.select_notifications(start=start, limit=limit)
            if not notifications:
                break
            for notification in notifications:
                event = self.mapper.to_domain_event(notification)
                if include_receipts or type(event).__qualname__.split(".")[0] not in INTERNAL:
                    described.append(describe(event, notification.id))
                    if len(described) == limit:
                        break
            start = notifications[-1].id + 1
        return described

    def iter_notifications(self, after: int, batch: int = 1000) -> Iterator[Any]:
        start = after + 1
        while True:
            chunk = self.recorder.select_notifications(start=start, limit=batch)
            if not chunk:
                return
            yield from chunk
            start = chunk[-1].id + 1

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def position_of(self, aggregate_id: UUID, version: int) -> int:
        """The global position of one stored event."""
        found = self.positions_of(aggregate_id, version, version)
        if version not in found:
            raise NotFound(f"no event {aggregate_id} v{version}")
        return found[version]

    def positions_of(self, aggregate_id: UUID, first: int, last: int) -> dict[int, int]:
        """Global positions of an aggregate's events ``first``..``last``, by version."""
        datastore: Any = getattr(self.recorder, "datastore", None)
        if datastore is None:  # in-memory (POPO) recorder: scan the log
            return {
                n.originator_version: int(n.id)
                for n in self.iter_notifications(0)
                if n.originator_id == aggregate_id and first <= n.originator_version <= last
            }
        table = self.recorder.events_table_name  # type: ignore[attr-defined]
        if hasattr(datastore, "schema"):  # PostgreSQL
            sql = (
                f"SELECT originator_version AS version, notification_id AS position"
                f' FROM "{datastore.schema}"."{table}" WHERE originator_id = %s'
                " AND originator_version BETWEEN %s AND %s"
            )
            params: tuple[Any, ...] = (aggregate_id, first, last)
        else:  # SQLite
            sql = (
                f"SELECT originator_version AS version, rowid AS position FROM {table}"
                " WHERE originator_id = ? AND originator_version BETWEEN ? AND ?"
            )
            params = (aggregate_id.hex, first, last)
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return {int(row["version"]): int(row["position"]) for row in rows}

    # -- writing ------------------------------------------------------------------

    def execute(
        self,
        ctx: CommandContext,
        command: str,
        *,
        kind: type[A],
        target: UUID | None = None,
        create: Callable[[], A] | None = None,
        act: Callable[[A], object] | None = None,
    ) -> CommandResult:
        """Run one command with the guarantees in DESIGN.md (envelope, idempotency,
        optimistic concurrency) and return its result."""
        if (create is None) == (target is None):
            raise ValueError("a command either creates an aggregate or acts on one")
        rid = receipt_id(ctx.principal.id, ctx.command_id) if ctx.idempotent else None
        if rid is not None:
            prior = self._receipt(rid)
            if prior is not None:
                return self._replay(prior, ctx, command)

        for _attempt in range(self.command_retries + 1):
            if create is not None:
                aggregate = create()
            else:
                assert target is not None
                aggregate = self.load(target, kind)
                if ctx.expected_version is not None and aggregate.version != ctx.expected_version:
                    raise VersionConflict(
                        f"{kind.__name__.lower()} {target} is at version {aggregate.version},"
                        f" not {ctx.expected_version}",
                        current_version=aggregate.version,
                        expected_version=ctx.expected_version,
                    )
                if act is not None:
                    try:
                        act(aggregate)
                    except DomainError:
                        # The same key's first run may have committed after the receipt was
                        # looked up and before the aggregate was loaded: its effect is what
                        # refused this one, and its result is the answer.
                        prior = self._receipt(rid) if rid is not None else None
                        if prior is not None:
                            return self._replay(prior, ctx, command)
                        raise
            pending = list(aggregate.collect_events())
            envelope = ctx.envelope(command)
            names = [type(e).__qualname__ for e in pending]
            partial = {
                "id": str(aggregate.id),
                "version": aggregate.version,
                "events": names,
                "created": create is not None,
            }
            to_save: list[Any] = []
            if rid is not None:
                receipt = CommandReceipt(
                    id=rid,
                    command=command,
                    principal_id=ctx.principal.id,
                    request_hash=ctx.request_hash,
                    result=partial,
                )
                to_save.extend(receipt.collect_events())
            to_save.extend(pending)
            for stored in to_save:
                object.__setattr__(stored, "envelope", envelope)
            subjects = self._subjects(ctx, command, [(aggregate, pending)])
            try:
                recordings = self.group_commit.save(to_save, subjects) if to_save else []
            except IntegrityError:
                if rid is not None:
                    prior = self._receipt(rid)
                    if prior is not None:
                        return self._replay(prior, ctx, command)
                if create is not None:
                    raise AlreadyExists(
                        f"{kind.__name__.lower()} {aggregate.id} already exists",
                        id=str(aggregate.id),
                    ) from None
                if ctx.expected_version is not None:
                    current = self.load(aggregate.id, kind).version
                    raise VersionConflict(
                        f"{kind.__name__.lower()} {aggregate.id} changed concurrently;"
                        f" it is now at version {current}",
                        current_version=current,
                        expected_version=ctx.expected_version,
                    ) from None
                log.info("concurrent write on %s; retrying on fresh state", aggregate.id)
                # Jittered backoff, so that two writers colliding once do not collide again.
                time.sleep(random.uniform(0, 0.002 * 2**_attempt))  # noqa: S311
                continue
            if pending:
                position = recordings[-1].notification.id
                self._snapshot_if_due(aggregate, len(pending))
            else:
                position = self.position_of(aggregate.id, aggregate.version)
            return CommandResult(
                id=aggregate.id,
                version=aggregate.version,
                position=position,
                events=names,
                created=create is not None,
            )
        raise ConcurrencyExhausted(
            f"gave up after {self.command_retries + 1} attempts: the aggregate kept changing"
        )

    def _snapshot_if_due(self, aggregate: KehuAggregate, new_events: int) -> None:
        """Snapshot an aggregate whose new events crossed a multiple of
        :data:`SNAPSHOT_INTERVAL`. The events are committed already: a snapshot that cannot
        be stored is logged and retried at the next multiple, never a failed command."""
        if self.snapshots is None or aggregate.version < SNAPSHOT_INTERVAL:
            return
        if aggregate.version // SNAPSHOT_INTERVAL == (aggregate.version - new_events) // (
            SNAPSHOT_INTERVAL
        ):
            return
        try:
            self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])
        except Exception:
            log.exception("could not snapshot %s at version %s", aggregate.id, aggregate.version)

    def record_many(
        self, ctx: CommandContext, command: str, aggregates: list[KehuAggregate]
    ) -> int:
        """Save many new or changed aggregates in one atomic ``save()``, each event with
        the envelope of ``ctx`` (bulk import and demo data). Returns the last position."""
        envelope = ctx.envelope(command)
        batches = [(aggregate, list(aggregate.collect_events())) for aggregate in aggregates]
        pending = [event for _, events in batches for event in events]
        for stored in pending:
            object.__setattr__(stored, "envelope", envelope)
        with self._naming(self._subjects(ctx, command, batches)):
            recordings = self.save(*pending)
        for aggregate, events in batches:
            if events:
                self._snapshot_if_due(aggregate, len(events))
        return recordings[-1].notification.id if recordings else self.max_position()

    def _subjects(
        self,
        ctx: CommandContext,
        command: str,
        batches: Iterable[tuple[KehuAggregate, list[Any]]],
    ) -> dict[int, UUID]:
        """Each event's data subject (by ``id`` of the event), after refusing what the
        subjects' PIPL status forbids: any processing of a restricted person's data (but the
        PIPL requests themselves and the scheduler's facts), and new personal data about an
        erased person."""
        subjects: dict[int, UUID] = {}
        personal: set[UUID] = set()
        for aggregate, events in batches:
            for event in events:
                subject = aggregate.data_subject(event)
                if subject is not None:
                    subjects[id(event)] = subject
                    if personal_layout(cast(type, type(event))):
                        personal.add(subject)
        if subjects:
            statuses = self.keys.statuses(set(subjects.values()))
            exempt = command.startswith("privacy.") or ctx.principal.role is Role.SYSTEM
            for subject, status in statuses.items():
                if status == RESTRICTED and not exempt:
                    raise ProcessingRestricted(
                        f"processing of {subject}'s personal data is restricted (PIPL art. 44)",
                        subject=str(subject),
                    )
                if status == ERASED_STATUS and subject in personal:
                    raise SubjectErased(
                        f"the personal data of {subject} was erased; none is stored again",
                        subject=str(subject),
                    )
            self.keys.ensure(personal - set(statuses))
        return subjects

    @staticmethod
    @contextmanager
    def _naming(subjects: dict[int, UUID]) -> Iterator[None]:
        """Name each event's data subject for the mapper while the events are saved."""
        token = _SUBJECTS.set(subjects)
        try:
            yield
        except SubjectErasedError as error:
            raise SubjectErased(str(error)) from None
        finally:
            _SUBJECTS.reset(token)

    def _receipt(self, rid: UUID) -> CommandReceipt | None:
        try:
            found: Any = self.repository.get(rid)
        except AggregateNotFoundError:
            return None
        return cast(CommandReceipt, found)

    def _replay(self, receipt: CommandReceipt, ctx: CommandContext, command: str) -> CommandResult:
        if receipt.command != command or receipt.request_hash != ctx.request_hash:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used with a different request",
                first_command=receipt.command,
            )
        result = receipt.result
        aggregate_id = UUID(result["id"])
        return CommandResult(
            id=aggregate_id,
            version=int(result["version"]),
            position=self.position_of(aggregate_id, int(result["version"])),
            events=list(result["events"]),
            created=bool(result["created"]),
            replayed=True,
        )
