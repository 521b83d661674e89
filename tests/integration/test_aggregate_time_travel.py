"""GraphQL time travel over every aggregate type on both stores: ``aggregate(id, asOf |
version)`` rebuilds the state from its events as it stood then, masks personal data for
roles that may not see it, and refuses what it cannot answer with a stable code."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from application.context import CommandContext, Principal, Role
from interfaces.bootstrap import System
from interfaces.graphql.common import Context
from interfaces.graphql.schema import schema

CLERK = Principal(id="user:info", role=Role.INFORMATION)
QUERY = """
query ($id: ID!, $asOf: DateTime, $version: Int) {
  aggregate(id: $id, asOf: $asOf, version: $version) { id type version state }
}
"""


def ask(system: System, role: Role, **variables: Any) -> Any:
    context = Context(system, Principal(id=f"test:{role.value}", role=role), None, None)
    return asyncio.run(schema.execute(QUERY, variable_values=variables, context_value=context))


def test_a_customer_as_it_stood_by_version_and_by_time(system: System) -> None:
    created = system.customers.register(
        CommandContext.for_principal(CLERK),
        kind="individual",
        name="郑强",
        phone="13700002222",
        segment="个人客户",
    )
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    system.customers.update_profile(
        CommandContext.for_principal(CLERK), created.id, {"segment": "大客户"}
    )

    now = ask(system, Role.MANAGER, id=str(created.id))
    assert now.errors is None, now.errors
    assert now.data["aggregate"]["type"] == "Customer"
    assert now.data["aggregate"]["version"] == 2
    assert now.data["aggregate"]["state"]["segment"] == "大客户"
    assert now.data["aggregate"]["state"]["phone"] == "13700002222"

    for past in (
        ask(system, Role.MANAGER, id=str(created.id), version=1),
        ask(system, Role.MANAGER, id=str(created.id), asOf=between.isoformat()),
    ):
        assert past.errors is None, past.errors
        assert past.data["aggregate"]["version"] == 1
        assert past.data["aggregate"]["state"]["segment"] == "个人客户"

    masked = ask(system, Role.CREDIT, id=str(created.id), version=1)
    assert masked.data["aggregate"]["state"]["phone"] == "137****2222"
    assert masked.data["aggregate"]["state"]["name"] == "郑*"


def test_what_cannot_be_answered_is_refused_with_a_code(system: System) -> None:
    ctx = CommandContext.for_principal(CLERK)
    created = system.customers.register(ctx, kind="individual", name="郑强", phone="13700002222")
    both = ask(
        system, Role.MANAGER, id=str(created.id), version=1, asOf="2030-01-01T00:00:00+08:00"
    )
    assert both.errors[0].extensions["code"] == "validation.as_of_and_version"
    before = ask(system, Role.MANAGER, id=str(created.id), asOf="2000-01-01T00:00:00+08:00")
    assert before.errors[0].extensions["code"] == "not_found"
    unknown = ask(system, Role.MANAGER, id="00000000-0000-4000-8000-000000000000")
    assert unknown.errors[0].extensions["code"] == "not_found"
    garbled = ask(system, Role.MANAGER, id="not-a-uuid")
    assert garbled.errors[0].extensions["code"] == "not_found"
    # kehu's own bookkeeping is not an aggregate this answers for.
    admin = CommandContext.for_principal(Principal(id="test:admin", role=Role.ADMIN))
    _, key_id = system.keys.issue(admin, Role.AUDITOR, "auditor")
    [key_event] = [
        e for e in system.store.feed(0, 100, include_receipts=True) if e.aggregate_type == "ApiKey"
    ]
    bookkeeping = ask(system, Role.MANAGER, id=str(key_event.aggregate_id))
    assert bookkeeping.errors[0].extensions["code"] == "not_found"
    assert key_id
