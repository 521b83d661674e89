"""Group commit: commands that finish at the same time share one ``save()``.

Each command still builds its own events (and its command receipt) on the state it loaded;
only the write is shared. The first command to arrive while no save is running leads: it
saves everything waiting, in one transaction (one table lock, one fsync on PostgreSQL), and
hands each command its own recordings. Commands that arrive meanwhile wait for the next
round, led by one of them. Alone, a command saves at once, as before.

If the shared save fails — a version conflict or a reused Idempotency-Key in any one
command, since the transaction is atomic — nothing of it was stored, and each command is
saved again on its own, so only the command that conflicts sees the error and takes the
pipeline's usual path (a retry on fresh state, a 409, or the first result of its key).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID


@dataclass
class _Write:
    events: list[Any]
    subjects: dict[int, UUID]
    done: bool = False
    recordings: list[Any] = field(default_factory=list)
    error: BaseException | None = None


class GroupCommit:
    """Shares ``save`` among the commands that are ready to write at the same moment.

    ``save(*events)`` is the application's save; ``naming(subjects)`` gives the context in
    which the mapper finds each event's data subject (application/store.py)."""

    def __init__(
        self,
        save: Callable[..., list[Any]],
        naming: Callable[[dict[int, UUID]], AbstractContextManager[None]],
    ) -> None:
        self._save = save
        self._naming = naming
        self._ready = threading.Condition()
        self._waiting: list[_Write] = []
        self._leading = False
        #: The most commands saved together so far (for the benchmarks and the tests).
        self.largest_group = 0

    def save(self, events: list[Any], subjects: dict[int, UUID]) -> list[Any]:
        write = _Write(events, subjects)
        with self._ready:
            self._waiting.append(write)
            while self._leading and not write.done:
                self._ready.wait()
            if not write.done:
                self._leading = True
                group, self._waiting = self._waiting, []
        if not write.done:
            try:
                self._commit(group)
            finally:
                with self._ready:
                    self._leading = False
                    self._ready.notify_all()
        if write.error is not None:
            raise write.error
        return write.recordings

    def _commit(self, group: list[_Write]) -> None:
        self.largest_group = max(self.largest_group, len(group))
        if len(group) > 1:
            subjects = {k: v for write in group for k, v in write.subjects.items()}
            try:
                with self._naming(subjects):
                    recordings = self._save(*(e for write in group for e in write.events))
            except Exception:
                recordings = None  # nothing was stored: each is saved alone below
            if recordings is not None:
                for write, part in zip(group, _split(recordings, group), strict=True):
                    write.recordings, write.done = part, True
                return
        for write in group:
            try:
                with self._naming(write.subjects):
                    write.recordings = self._save(*write.events)
            except BaseException as error:  # handed to the command that caused it
                write.error = error
            write.done = True


def _split(recordings: list[Any], group: list[_Write]) -> Iterator[list[Any]]:
    start = 0
    for write in group:
        yield recordings[start : start + len(write.events)]
        start += len(write.events)
