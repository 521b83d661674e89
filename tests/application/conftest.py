"""Fixtures for the application layer on in-memory (POPO) persistence.

The clock is fixed at 2025-06-30 20:00 UTC, which is already 2025-07-01 04:00 in
Asia/Shanghai, so every default business date is 2025-07-01.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from application.context import CommandContext, Principal, Role
from application.customers import CustomerService
from application.store import CommandResult, Kehu

FIXED_NOW = datetime(2025, 6, 30, 20, 0, tzinfo=UTC)
SHANGHAI_TODAY = date(2025, 7, 1)

ADMIN = Principal(id="user:admin", role=Role.ADMIN, name="管理员")
INFORMATION = Principal(id="user:info", role=Role.INFORMATION, name="信息管理科")
INTEGRATOR = Principal(id="machine:erp", role=Role.INTEGRATOR, name="ERP")
AUDITOR = Principal(id="user:audit", role=Role.AUDITOR, name="审计")

#: Valid codes (their check characters are tested in tests/unit/test_values.py).
USCC_A = "91350100M000100Y43"
ID_NUMBER = "11010519491231002X"


def fixed_clock() -> datetime:
    return FIXED_NOW


def new_store() -> Kehu:
    return Kehu({"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def store() -> Kehu:
    return new_store()


@pytest.fixture
def customers(store: Kehu) -> CustomerService:
    return CustomerService(store, clock=fixed_clock)


def ctx(principal: Principal = ADMIN, **kwargs: Any) -> CommandContext:
    return CommandContext.for_principal(principal, **kwargs)


@pytest.fixture
def register_person(customers: CustomerService) -> Callable[..., CommandResult]:
    """Register an individual; keyword arguments override the profile."""

    def register(context: CommandContext | None = None, **overrides: Any) -> CommandResult:
        fields: dict[str, Any] = {
            "kind": "individual",
            "name": "张伟",
            "phone": "13812345678",
        } | overrides
        return customers.register(context or ctx(), **fields)

    return register
