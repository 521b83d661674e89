"""``kehu projections rebuild [--verify]``: rebuild read models from position 0, or check
that a rebuild gives exactly the live rows (replay determinism)."""

from __future__ import annotations

from typing import Annotated

import typer

from application.settings import Settings
from interfaces.bootstrap import build, init_storage, scratch_views
from interfaces.cli.progress import Rate, catch_up, console, progress_bar
from projections.replay import verify_projection

projections_app = typer.Typer(help="Read models (projections).", no_args_is_help=True)


@projections_app.command("rebuild")
def rebuild(
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Rebuild into shadow tables up to the live position and compare row by row;"
            " the live views are not touched. Exits 1 naming the first difference.",
        ),
    ] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Only these views (by name)")
    ] = None,
) -> None:
    """Rebuild every read model from the events (stop the workers first), or verify that a
    rebuild would give the live rows."""
    settings = Settings()
    if settings.store == "sqlite":
        init_storage(settings)
    system = build(settings)
    try:
        chosen = [p for p in system.projections if not only or p.name in only]
        unknown = sorted(set(only or ()) - {p.name for p in system.projections})
        if unknown:
            names = ", ".join(p.name for p in system.projections)
            console.print(f"[red]unknown view(s)[/red] {', '.join(unknown)}; views: {names}")
            raise typer.Exit(2)
        worker = system.projection_worker()
        if not verify:
            for projection in chosen:
                projection.start_over()
                with progress_bar() as bar:
                    total = system.store.max_position()
                    task = bar.add_task(f"rebuild {projection.name}", total=total, rate="")
                    worker.catch_up(projection, progress=Rate(bar, task))
            console.print(f"[green]rebuilt[/green] {len(chosen)} read model(s)")
            return
        catch_up(system, chosen)  # compare at the head, not wherever the views were
        shadow = scratch_views(settings, "shadow")
        try:
            differences = []
            for projection in chosen:
                with progress_bar() as bar:
                    task = bar.add_task(
                        f"replay {projection.name}", total=projection.position(), rate=""
                    )
                    found = verify_projection(worker, projection, shadow, progress=Rate(bar, task))
                differences += found
                mark = "[green]same[/green]" if not found else "[red]DIFFERENT[/red]"
                console.print(f"{projection.name}: {mark} at position {projection.position()}")
        finally:
            shadow.close()
        if differences:
            for difference in differences:
                console.print(f"[red]{difference.describe()}[/red]")
            raise typer.Exit(1)
        console.print(f"[green]verified[/green]: {len(chosen)} read model(s) rebuild identically")
    finally:
        system.close()
