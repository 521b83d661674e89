"""A kehu for the schema fuzzers: the ASGI app in process, on the embedded SQLite store
(``KEHU_FUZZ_STORE=postgres`` for PostgreSQL) with a small demo history, and API keys for
an admin and an auditor (who may not see personal data).

``KEHU_FUZZ_EXAMPLES`` sets how many examples Hypothesis tries per operation: small by
default so both fuzz files stay within a couple of minutes; raise it for a longer run
(README: Hardening)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from application.context import CommandContext, Principal, Role
from application.demo import seed
from interfaces.bootstrap import System, build, init_storage
from interfaces.rest.app import create_app
from tests.conftest import drop_schema, make_settings

EXAMPLES = int(os.environ.get("KEHU_FUZZ_EXAMPLES", "4"))
COVERAGE = os.environ.get("KEHU_FUZZ_COVERAGE", "") == "1"
STORE = os.environ.get("KEHU_FUZZ_STORE", "sqlite")  # or postgres (KEHU_TEST_POSTGRES_DSN)

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis directory left in the work tree
    suppress_health_check=list(HealthCheck),
    derandomize=EXAMPLES <= 10,  # the bounded CI run is repeatable
)


def schemathesis_config() -> schemathesis.Config:
    """The coverage phase (every boundary and missing field of every operation, whatever
    ``max_examples`` says) takes minutes: only on request (``KEHU_FUZZ_COVERAGE=1``)."""
    return schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}})


OPERATOR = Principal(id="test:operator", role=Role.ADMIN)


@dataclass
class Fuzzed:
    app: FastAPI
    system: System
    keys: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="session")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    # A short wait for minPosition: the fuzzer asks for positions that never come.
    config = make_settings(STORE, data_dir, run_scheduler=False, min_position_timeout=0.05)
    init_storage(config)
    system = build(config)
    seed(system.store, customers=12)
    system.catch_up()
    system.start_projections()
    keys = {
        role.value: system.keys.issue(CommandContext.for_principal(OPERATOR), role, role.value)[0]
        for role in (Role.ADMIN, Role.AUDITOR)
    }
    try:
        yield Fuzzed(create_app(system), system, keys)
        # Whatever the fuzzer got recorded, every read model could still take it in.
        system.wait_for(system.store.max_position(), timeout=60)
        assert system.worker is not None
        assert system.worker.errors == {}
    finally:
        system.close()
        if config.store == "postgres":
            drop_schema(config.postgres_schema)
