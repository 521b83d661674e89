"""A kehu system on each store, with the clock the test module's ``clock`` fixture gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.settings import Settings
from interfaces.bootstrap import System, build, init_storage
from tests.support import Clock


@pytest.fixture
def kehu(settings: Settings, clock: Clock) -> Iterator[System]:
    init_storage(settings)
    system = build(settings, clock=clock)
    try:
        yield system
    finally:
        system.close()
