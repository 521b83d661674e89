"""Read models as they stood at a past moment (time travel, issue 8): what
``dashboard(asOf:)`` reads.

A read model is a function of the events up to its position, so the views as they stood
at a moment D are the views replayed from position 0 up to the last position recorded by
D. That position P is found in the audit trail: the first business event recorded after D
(:meth:`AuditQueries.first_recorded_after`), less one. An event is timestamped before it
is committed and positions follow commit order, so everything from there on was committed
after D, and the log before it is exactly what the views could hold at D — including an
event recorded after D whose business time is earlier (a back-dated answer), which a filter
on business time would wrongly count. The event store itself is no cheaper for this: it
keeps each timestamp inside the serialised event, not in a column; it does answer the
head (``MAX`` of the positions) cheaply.

- A moment at or after the last recorded event (or in the future) is answered from the
  live views, once they have reached the head; a future moment is taken as now.
- A past moment is answered from a scratch store (:func:`interfaces.bootstrap.scratch_views`)
  holding only the views the caller reads, replayed up to P. Stores are cached by P, least
  recently used first out, at most ``KEHU_ASOF_CACHE_SIZE`` of them; an evicted store is
  closed and dropped (its SQLite file deleted, its PostgreSQL schema dropped) once no
  request still reads it. Two requests for the same P build it once.
- A moment before the first event maps to P = 0: empty views, an empty dashboard.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from application.clock import Clock
from application.errors import ProjectionTimeout
from projections.audit import AuditQueries
from projections.base import KehuProjection, ProjectionWorker, ViewStore, wait_for_position
from projections.replay import replay_into

Q = TypeVar("Q")
T = TypeVar("T")


@dataclass(frozen=True)
class AsOf(Generic[T]):
    """An answer and the state it was read from."""

    value: T
    #: The moment the answer describes (a future moment is taken as now).
    moment: datetime
    #: The global position the views reflected: every event up to it and none after.
    position: int
    #: Read from the live views (True) or from a replay (False).
    live: bool


@dataclass
class _Snapshot(Generic[Q]):
    """A scratch store replayed up to ``position`` and the queries over it."""

    position: int
    label: str
    views: ViewStore
    queries: Q
    readers: int = 0
    evicted: bool = False


class AsOfViews(Generic[Q]):
    """The read side as of any moment: live, or replayed into cached scratch stores."""

    def __init__(
        self,
        *,
        live: Q,
        projections: Sequence[KehuProjection],
        audit: KehuProjection,
        audit_queries: AuditQueries,
        worker: ProjectionWorker,
        head: Callable[[], int],
        open_scratch: Callable[[str], ViewStore],
        drop_scratch: Callable[[str], None],
        queries_for: Callable[[ViewStore], Q],
        clock: Clock,
        size: int = 2,
        timeout: float = 5.0,
    ) -> None:
        """``projections``: the live views the caller reads (and replays); ``audit``: the
        live audit trail that maps moments to positions; ``queries_for``: the caller's
        queries over a scratch store; ``timeout``: how long to wait, at most, for the live
        views to reach the head."""
        if size < 1:
            raise ValueError("the as-of cache holds at least one past state")
        self.live = live
        self.projections = list(projections)
        self.audit = audit
        self.audit_queries = audit_queries
        self.worker = worker
        self.head = head
        self.open_scratch = open_scratch
        self.drop_scratch = drop_scratch
        self.queries_for = queries_for
        self.clock = clock
        self.size = size
        self.timeout = timeout
        #: Names this instance's scratch stores apart from another process's.
        self.token = uuid.uuid4().hex[:8]
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, _Snapshot[Q]] = OrderedDict()
        self._building: dict[int, threading.Lock] = {}
        self._builds = 0

    # -- reading ------------------------------------------------------------------------

    def read(self, moment: datetime | None, query: Callable[[Q, datetime], T]) -> AsOf[T]:
        """``query(queries, moment)`` over the read models as they stood at ``moment``
        (``None``: now, from the live views as they are)."""
        now = self.clock()
        if moment is None:
            reflected = self.live_position()
            return AsOf(query(self.live, now), now, reflected, live=True)
        if moment.utcoffset() is None:
            raise ValueError("a moment needs a timezone offset")
        when = min(moment, now)
        while True:
            head = self.head()
            past = self.position_at(moment, head)
            if past is not None:
                return self._replayed(past, when, query)
            self._wait(self.projections, head)
            reflected = self.live_position()
            answer = query(self.live, when)
            # Events that came in while the figures were read count only if they too were
            # recorded by ``moment``; else the next round replays (once an event after the
            # moment is known, it stays known, so there is at most one more round).
            if self.live_position(highest=True) <= head or self.position_at(moment) is None:
                return AsOf(answer, when, reflected, live=True)

    def position_at(self, moment: datetime, head: int | None = None) -> int | None:
        """The last global position the read models held at ``moment``, or ``None`` when
        nothing was recorded after it (the live views are that state). ``head``: the
        event store's last position, if just read."""
        last = self.head() if head is None else head
        first = self.audit_queries.first_recorded_after(moment)
        if first is None and self.audit.position() < last:
            # The trail may not know yet what was recorded after the moment.
            self._wait([self.audit], last)
            first = self.audit_queries.first_recorded_after(moment)
        return None if first is None else first - 1

    def live_position(self, *, highest: bool = False) -> int:
        """The position the live views reflect (all of them; ``highest``: any of them)."""
        positions = [p.position() for p in self.projections]
        return max(positions) if highest else min(positions)

    def _wait(self, projections: Sequence[KehuProjection], position: int) -> None:
        if not wait_for_position(projections, position, self.timeout):
            behind = min(p.position() for p in projections)
            raise ProjectionTimeout(
                f"the read models reached position {behind}, not {position},"
                f" within {self.timeout:g} s; retry shortly",
                min_position=position,
                current_position=behind,
            )

    def _replayed(
        self, position: int, when: datetime, query: Callable[[Q, datetime], T]
    ) -> AsOf[T]:
        snapshot = self._acquire(position)
        try:
            return AsOf(query(snapshot.queries, when), when, position, live=False)
        finally:
            self._release(snapshot)

    # -- the cache ----------------------------------------------------------------------

    def cached(self) -> list[tuple[int, str]]:
        """(position, scratch store label) of the cached states, least recently used
        first."""
        with self._lock:
            return [(s.position, s.label) for s in self._cache.values()]

    @property
    def builds(self) -> int:
        """How many scratch stores this instance has replayed."""
        return self._builds

    def _acquire(self, position: int) -> _Snapshot[Q]:
        while True:
            with self._lock:
                snapshot = self._cache.get(position)
                if snapshot is not None:
                    self._cache.move_to_end(position)
                    snapshot.readers += 1
                    return snapshot
                gate = self._building.setdefault(position, threading.Lock())
            with gate:
                with self._lock:
                    if position in self._cache or self._building.get(position) is not gate:
                        continue  # built (or given up) while this request waited
                try:
                    snapshot = self._build(position)
                except BaseException:
                    with self._lock:
                        self._building.pop(position, None)
                    raise
                with self._lock:
                    snapshot.readers = 1
                    self._cache[position] = snapshot
                    self._building.pop(position, None)
                    evicted = self._evict()
                for old in evicted:
                    self._discard(old)
                return snapshot

    def _evict(self) -> list[_Snapshot[Q]]:
        """Take the least recently used states over the size out of the cache (under the
        lock); those no request reads are returned, to be dropped."""
        unread: list[_Snapshot[Q]] = []
        while len(self._cache) > self.size:
            _, old = self._cache.popitem(last=False)
            old.evicted = True
            if old.readers == 0:
                unread.append(old)
        return unread

    def _release(self, snapshot: _Snapshot[Q]) -> None:
        with self._lock:
            snapshot.readers -= 1
            done = snapshot.evicted and snapshot.readers == 0
        if done:
            self._discard(snapshot)

    def _build(self, position: int) -> _Snapshot[Q]:
        with self._lock:
            self._builds += 1
            label = f"asof_{self.token}_{self._builds}"
        views = self.open_scratch(label)
        try:
            replay_into(self.worker, self.projections, views, until=position)
            queries = self.queries_for(views)
        except BaseException:
            views.close()
            self.drop_scratch(label)
            raise
        return _Snapshot(position=position, label=label, views=views, queries=queries)

    def _discard(self, snapshot: _Snapshot[Q]) -> None:
        snapshot.views.close()
        self.drop_scratch(snapshot.label)

    def close(self) -> None:
        """Drop every cached state (at shutdown: requests still reading fail)."""
        with self._lock:
            snapshots = list(self._cache.values())
            self._cache.clear()
        for snapshot in snapshots:
            self._discard(snapshot)


class LiveCache(Generic[T]):
    """Answers computed over the live read models, reused while the views have not moved
    (same position) and for at most ``seconds`` (the figures that describe the present —
    deadlines, clocks — age with the time, not only with the events). Bounded, LRU."""

    def __init__(self, seconds: float, size: int = 64) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: OrderedDict[object, tuple[float, int, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object, position: int, compute: Callable[[], tuple[T, int]]) -> T:
        """The cached answer for ``key`` at ``position``, or ``compute()``'s (which gives
        the answer and the position it reflects)."""
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[1] == position and now - found[0] < self.seconds:
                self._entries.move_to_end(key)
                return found[2]
        answer, reflected = compute()
        if self.seconds > 0:
            with self._lock:
                self._entries[key] = (now, reflected, answer)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return answer
