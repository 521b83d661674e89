"""``kehu models``: the forecasting models (需求预测, 流失预警) — retrain and list them.

Exit codes of ``retrain``: 0 every model trained and stored; 1 a model was refused for want
of data (the others are still stored; the reason is printed).
"""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from application.forecast import CHURN_MODEL, FORECAST_MODEL, Model, TrainingOutcome
from application.settings import Settings
from interfaces.bootstrap import build, forecasting, init_storage

models_app = typer.Typer(
    help="Forecasting models: the purchase forecast and the churn-risk score.",
    no_args_is_help=True,
)
err = Console(stderr=True)
out = Console()


def _elapsed(started: float) -> str:
    return f"[dim]{time.perf_counter() - started:6.2f} s[/dim]"


@models_app.command("retrain")
def retrain(
    as_of: Annotated[
        str | None,
        typer.Option(help="Train as of this day (YYYY-MM-DD); today in Shanghai if absent"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every model's full metrics as JSON")
    ] = False,
) -> None:
    """Bring the read models up to date, then train and store both models: the monthly
    purchase forecast per segment (evaluated on the last 3 months, held out) and the
    churn-risk score (evaluated on a stratified 30 % holdout)."""
    day = _day(as_of)
    started = time.perf_counter()
    settings = Settings()
    if settings.store == "sqlite":
        init_storage(settings)  # also creates the analytics tables of an older store
    system = build(settings)
    try:
        err.print(f"{_elapsed(started)} bringing the read models up to date …")
        seen = system.catch_up()
        err.print(f"{_elapsed(started)} read models current ({seen} events processed)")
        outcomes = forecasting(system).retrain(
            as_of=day, progress=lambda step: err.print(f"{_elapsed(started)} {step}")
        )
    finally:
        system.close()
    err.print(f"{_elapsed(started)} done")
    if as_json:
        typer.echo(json.dumps([_as_dict(o) for o in outcomes], ensure_ascii=False, indent=2))
    else:
        _summary(outcomes)
    if any(o.refused for o in outcomes):
        raise typer.Exit(1)


@models_app.command("list")
def list_models(
    name: Annotated[str | None, typer.Option(help=f"{FORECAST_MODEL} or {CHURN_MODEL}")] = None,
) -> None:
    """The stored models, newest first, with their holdout metrics."""
    settings = Settings()
    if settings.store == "sqlite":
        init_storage(settings)
    system = build(settings)
    try:
        models = forecasting(system).models(name)
    finally:
        system.close()
    table = Table("model", "version", "trained at", "holdout evaluation")
    for model in models:
        table.add_row(
            model.name, model.version, model.trained_at.isoformat(timespec="seconds"), _brief(model)
        )
    out.print(table)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("give a date as YYYY-MM-DD", param_hint="--as-of") from None


def _as_dict(outcome: TrainingOutcome) -> dict[str, Any]:
    return {
        "name": outcome.name,
        "version": outcome.version,
        "seconds": round(outcome.seconds, 3),
        "refused": outcome.refused,
        "metrics": outcome.metrics,
    }


def _summary(outcomes: list[TrainingOutcome]) -> None:
    for outcome in outcomes:
        if outcome.refused:
            out.print(f"[red]{outcome.name}: not trained[/red] — {outcome.refused}")
            continue
        out.print(f"[green]{outcome.name}[/green] {outcome.version} ({outcome.seconds:.2f} s)")
        if outcome.name == FORECAST_MODEL:
            table = Table(
                "segment",
                "method",
                "trained on",
                "held out",
                "MAE",
                "MAPE %",
                "sMAPE %",
                "baseline MAE",
                "verdict",
            )
            for segment, m in outcome.metrics["series"].items():
                label = "all segments" if segment == "*" else segment
                if not m["evaluated"]:
                    table.add_row(label, "", "", "", "", "", "", "", m["reason"])
                    continue
                table.add_row(
                    label,
                    m["method"],
                    f"{m['train_from']}…{m['train_to']}",
                    f"{m['holdout'][0]['month']}…{m['holdout'][-1]['month']}",
                    m["mae"],
                    "—" if m["mape"] is None else f"{m['mape']:.1f}",
                    f"{m['smape']:.1f}",
                    f"{m['baseline_mae']} ({m['baseline']})",
                    "beats baseline" if m["beats_baseline"] else "[red]worse than baseline[/red]",
                )
            out.print(table)
        else:
            m = outcome.metrics
            out.print(
                f"  holdout: {m['test_customers']} customers, {m['test_churned']} churned"
                f" (base rate {m['test_base_rate']:.1%}); ROC AUC {m['roc_auc']:.3f};"
                f" flagging scores ≥ {m['threshold']:.3f}: precision {m['precision']:.1%},"
                f" recall {m['recall']:.1%}\n"
                f"  5-fold cross-validated ROC AUC {m['cv_roc_auc_mean']:.3f}"
                f" ± {m['cv_roc_auc_std']:.3f}; overall base rate {m['base_rate']:.1%}"
                f" ({m['churned']} of {m['customers']} customers churned)"
            )


def _brief(model: Model) -> str:
    m = model.metrics
    if model.name == CHURN_MODEL:
        return (
            f"ROC AUC {m['roc_auc']:.3f}, precision {m['precision']:.1%},"
            f" recall {m['recall']:.1%}, base rate {m['test_base_rate']:.1%}"
        )
    total = m["series"].get("*", {})
    if not total.get("evaluated"):
        return total.get("reason", "not evaluated")
    return (
        f"all segments: MAE {total['mae']} vs {total['baseline']} {total['baseline_mae']};"
        f" {m['series_beating_baseline']} of {m['series_evaluated']} series beat the baseline"
    )
