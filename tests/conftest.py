"""Shared fixtures: a kehu system on each store.

The integration and end-to-end suites run on the embedded SQLite store and on
PostgreSQL. PostgreSQL comes from ``KEHU_TEST_POSTGRES_DSN`` (default: the local server,
database ``test``). Each test gets its own schema, dropped afterwards. Under CI
(``CI=true``) an unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from application.settings import Settings
from interfaces.bootstrap import System, build, init_storage

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
#: PostgreSQL has no fallback master key (application/subject_keys.py): the tests bring one.
TEST_MASTER_KEY = "kehu-test-master-key-not-a-secret"
_pg_status: dict[str, str | None] = {}


def postgres_dsn() -> str:
    return os.environ.get("KEHU_TEST_POSTGRES_DSN", DEFAULT_DSN)


def _postgres_problem() -> str | None:
    if "problem" not in _pg_status:
        try:
            with psycopg.connect(postgres_dsn(), connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_status["problem"] = None
        except psycopg.Error as error:
            _pg_status["problem"] = f"PostgreSQL at {postgres_dsn()} is unreachable: {error}"
    return _pg_status["problem"]


def require_postgres() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem} (under CI the PostgreSQL tests must run)")
    pytest.skip(problem)


def drop_schema(schema: str) -> None:
    with psycopg.connect(postgres_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def make_settings(kind: str, tmp_path: object, **overrides: object) -> Settings:
    if kind == "sqlite":
        return Settings(store="sqlite", data_dir=tmp_path, **overrides)  # type: ignore[arg-type]
    require_postgres()
    schema = f"kehu_test_{uuid.uuid4().hex[:12]}"
    return Settings(  # type: ignore[call-arg]
        store="postgres",
        database_url=postgres_dsn(),
        postgres_schema=schema,
        **{"master_key": TEST_MASTER_KEY, **overrides},
    )


STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


FIXED_NOW = datetime(2025, 6, 30, 20, 0, tzinfo=UTC)  # 2025-07-01 04:00 in Shanghai


@pytest.fixture
def settings(store_kind: str, tmp_path: object) -> Iterator[Settings]:
    made = make_settings(store_kind, tmp_path)
    try:
        yield made
    finally:
        if made.store == "postgres":
            drop_schema(made.postgres_schema)


@pytest.fixture
def system(settings: Settings) -> Iterator[System]:
    init_storage(settings)
    built = build(settings)
    try:
        yield built
    finally:
        built.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    """Make the PostgreSQL tests' count visible, so a run that skipped them shows it."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in counts:
        for report in terminalreporter.stats.get(outcome, []):
            if "postgres" in getattr(report, "keywords", {}) and report.when in ("call", "setup"):
                if outcome == "passed" and report.when != "call":
                    continue
                counts[outcome] += 1
    terminalreporter.write_line(
        f"PostgreSQL tests: {counts['passed']} passed, {counts['failed']} failed,"
        f" {counts['skipped']} skipped"
    )
