"""The CLI's one progress bar, with a rate, and bringing read models up to date with it."""

from __future__ import annotations

import time
from collections.abc import Sequence

from eventsourcing.persistence import IntegrityError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from interfaces.bootstrap import System
from projections.base import KehuProjection

console = Console(stderr=True)


def progress_bar(*, transient: bool = False) -> Progress:
    """A progress bar with a rate, for long commands."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
    )


class Rate:
    """Advances one task of a bar and shows its rate (``unit`` per second)."""

    def __init__(self, bar: Progress, task: TaskID, unit: str = "events") -> None:
        self.bar, self.task, self.unit = bar, task, unit
        self.started = time.perf_counter()
        self.done = 0

    def __call__(self, advance: int, counted: int | None = None) -> None:
        self.done += advance if counted is None else counted
        rate = self.done / max(time.perf_counter() - self.started, 1e-9)
        self.bar.update(self.task, advance=advance, rate=f"{rate:,.0f} {self.unit}/s")


def catch_up(system: System, projections: Sequence[KehuProjection] | None = None) -> None:
    """Bring read models up to the store's head, one bar per view that is behind. A view
    another worker is updating at the same moment is left to it."""
    head = system.store.max_position()
    worker = system.projection_worker()
    for projection in projections if projections is not None else system.projections:
        behind = head - projection.position()
        if behind <= 0:
            continue
        with progress_bar() as bar:
            rate = Rate(bar, bar.add_task(f"projection {projection.name}", total=behind, rate=""))
            try:
                worker.catch_up(projection, until=head, progress=rate)
            except IntegrityError:
                console.print(
                    f"[yellow]{projection.name} is being updated by another worker[/yellow]"
                )
