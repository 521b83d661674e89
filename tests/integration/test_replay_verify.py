"""Replay determinism on both stores: every read model rebuilt from position 0 into shadow
tables equals the live one on demo data; a live row changed behind kehu's back is found and
named; the CLI exits non-zero on a difference."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from application.demo import seed
from application.settings import Settings
from interfaces.bootstrap import System, scratch_views
from interfaces.cli.main import app
from projections.base import ViewStore
from projections.replay import verify_projection
from tests.conftest import drop_schema


@pytest.fixture
def shadow(system: System, settings: Settings) -> Iterator[ViewStore]:
    views = scratch_views(settings, "shadow")
    try:
        yield views
    finally:
        views.close()
        if settings.store == "postgres":
            drop_schema(f"{settings.postgres_schema}_shadow")


def test_every_read_model_rebuilds_to_the_live_rows(system: System, shadow: ViewStore) -> None:
    seed(system.store, customers=40)
    system.catch_up()
    worker = system.projection_worker()
    for projection in system.projections:
        assert projection.position() == system.store.max_position()
        assert verify_projection(worker, projection, shadow) == [], projection.name


def test_a_live_row_changed_behind_kehus_back_is_named(system: System, shadow: ViewStore) -> None:
    seed(system.store, customers=10)
    system.catch_up()
    with system.views.transaction(commit=True) as cursor:
        row = cursor.execute(
            f"SELECT id FROM {system.views.table('customer_view')} ORDER BY id LIMIT 1"
        ).fetchone()
        cursor.execute(
            f"UPDATE {system.views.table('customer_view')} SET purchase_count = 999 WHERE id = ?",
            [row["id"]],
        )
    customers = next(p for p in system.projections if p.name == "customers")
    [difference] = verify_projection(system.projection_worker(), customers, shadow)
    assert difference.table == "customer_view"
    assert difference.only_live is not None
    assert "999" in difference.only_live
    assert difference.only_shadow is not None
    assert row["id"] in difference.only_shadow


def test_the_cli_verifies_and_exits_non_zero_on_a_difference(
    system: System, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in settings.model_dump().items():
        if value is not None and name in (
            "store",
            "data_dir",
            "database_url",
            "postgres_schema",
            "master_key",
        ):
            raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            monkeypatch.setenv(f"KEHU_{name.upper()}", str(raw))
    seed(system.store, customers=5)
    runner = CliRunner()
    ok = runner.invoke(app, ["projections", "rebuild", "--verify", "--only", "customers"])
    assert ok.exit_code == 0, ok.output
    assert "rebuild identically" in ok.output
    tags = system.views.table("customer_tag")
    with system.views.transaction(commit=True) as cursor:
        assert cursor.execute(f"SELECT COUNT(*) AS n FROM {tags}").fetchone()["n"] > 0
        cursor.execute(f"DELETE FROM {tags}")
    bad = runner.invoke(app, ["projections", "rebuild", "--verify", "--only", "customers"])
    assert bad.exit_code == 1, bad.output
    assert "customer_tag" in bad.output
    if settings.store == "postgres":
        drop_schema(f"{settings.postgres_schema}_shadow")
