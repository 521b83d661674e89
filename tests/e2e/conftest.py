"""A served kehu: uvicorn on a free loopback port, on each store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from application.context import CommandContext, Principal, Role
from interfaces.bootstrap import System
from interfaces.rest.app import create_app

OPERATOR = Principal(id="test:operator", role=Role.ADMIN)


@dataclass
class Served:
    url: str
    system: System
    keys: dict[str, str]

    def client(self, role: str | None = "admin", **headers: str) -> httpx.Client:
        if role is not None:
            headers["Authorization"] = f"Bearer {self.keys[role]}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def head(self) -> int:
        return self.system.store.max_position()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(system: System) -> Iterator[Served]:
    keys = {
        role.value: system.keys.issue(CommandContext.for_principal(OPERATOR), role, role.value)[0]
        for role in (
            Role.ADMIN,
            Role.AUDITOR,
            Role.INTEGRATOR,
            Role.INFORMATION,
            Role.MARKETING,
            Role.CREDIT,
            Role.RISK,
            Role.MANAGER,
            Role.RELATIONSHIP,
            Role.LEGAL,
        )
    }
    system.start_projections()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(system), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield Served(url=f"http://127.0.0.1:{port}", system=system, keys=keys)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
