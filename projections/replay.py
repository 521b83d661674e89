"""Replay determinism (`kehu projections rebuild --verify`): rebuild read models from
position 0 into shadow tables and compare them, row for row, with the live ones.

A read model is a function of the events: replaying the same events up to the same
position must give the same rows. A difference means a view depends on something else —
the clock, the order of a dictionary, a bug — and the live tables cannot be trusted to be
rebuilt. Tables a view keeps that are not derived from events (e.g. trained models) are
declared by the projection in ``KehuProjection.kept_tables`` and left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from projections.base import KehuProjection, ProjectionWorker, ViewStore


@dataclass(frozen=True)
class Difference:
    """The first difference found in one table."""

    projection: str
    table: str
    live_rows: int
    shadow_rows: int
    only_live: tuple[Any, ...] | None
    only_shadow: tuple[Any, ...] | None

    def describe(self) -> str:
        text = (
            f"{self.projection}: table {self.table} differs"
            f" ({self.live_rows} live rows, {self.shadow_rows} rebuilt)"
        )
        if self.only_live is not None:
            text += f"; first live row not rebuilt: {self.only_live}"
        if self.only_shadow is not None:
            text += f"; first rebuilt row not live: {self.only_shadow}"
        return text


def _rows(views: ViewStore, table: str) -> list[tuple[Any, ...]]:
    """Every row, as a sorted list of text tuples (a multiset, independent of the
    order rows were written in)."""
    with views.transaction(commit=False) as cursor:
        rows = cursor.execute(f"SELECT * FROM {views.table(table)}").fetchall()
    return sorted(tuple("" if v is None else str(v) for v in dict(r).values()) for r in rows)


def compare(
    projection: str, live: ViewStore, shadow: ViewStore, tables: Sequence[str]
) -> Iterator[Difference]:
    for table in tables:
        mine, theirs = _rows(live, table), _rows(shadow, table)
        if mine == theirs:
            continue
        shadow_set, live_set = set(theirs), set(mine)
        yield Difference(
            projection=projection,
            table=table,
            live_rows=len(mine),
            shadow_rows=len(theirs),
            only_live=next((r for r in mine if r not in shadow_set), None),
            only_shadow=next((r for r in theirs if r not in live_set), None),
        )


def rebuild_into(
    worker: ProjectionWorker,
    projection: KehuProjection,
    shadow: ViewStore,
    *,
    until: int,
    progress: Callable[[int], None] | None = None,
) -> KehuProjection:
    """The projection's twin in ``shadow``, replayed from position 0 up to ``until``."""
    twin = projection.on(shadow)
    shadow.create_tables(twin.ddl())
    twin.start_over()
    worker.catch_up(twin, until=until, progress=progress)
    return twin


def replay_into(
    worker: ProjectionWorker,
    projections: Sequence[KehuProjection],
    shadow: ViewStore,
    *,
    until: int,
    batch_size: int = 2000,
) -> list[KehuProjection]:
    """Twins of ``projections`` in ``shadow``, replayed together from position 0 up to
    ``until`` (inclusive). What :func:`rebuild_into` does for one view, but the log is read
    and its events deserialised once for all of them: that pass, not the views' writes,
    is most of a replay's cost."""
    twins = [projection.on(shadow) for projection in projections]
    for twin in twins:
        shadow.create_tables(twin.ddl())
        twin.start_over()
    position = 0
    while position < until:
        notifications = worker.recorder.select_notifications(
            start=position + 1, limit=batch_size, stop=until
        )
        if not notifications:
            break
        events = [worker.mapper.to_domain_event(n) for n in notifications]
        positions = [n.id for n in notifications]
        position = positions[-1]
        for twin in twins:
            twin.process_batch(events, position, positions=positions)
    return twins


def verify_projection(
    worker: ProjectionWorker,
    projection: KehuProjection,
    shadow: ViewStore,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[Difference]:
    """Rebuild one view into ``shadow`` up to the live view's position and compare. If
    a running worker moves the live view on meanwhile, the comparison is retried."""
    derived = [t for t in projection.tables() if t not in projection.kept_tables]
    for _attempt in range(3):
        position = projection.position()
        rebuild_into(worker, projection, shadow, until=position, progress=progress)
        differences = list(compare(projection.name, projection.views, shadow, derived))
        if projection.position() == position:
            return differences
    raise RuntimeError(
        f"the live view {projection.name} kept moving; stop its worker and verify again"
    )
