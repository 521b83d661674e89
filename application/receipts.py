"""Command receipts: how a repeated Idempotency-Key returns the first result.

A receipt is a one-event aggregate whose id is ``uuid5(namespace, principal + key)``.
It is saved in the same atomic ``save()`` as the command's own events, so either both
are stored or neither; a concurrent replay of the key hits the store's unique
(originator id, version) constraint instead of recording twice.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.base import KehuAggregate

RECEIPT_NAMESPACE = uuid5(NAMESPACE_URL, "https://kehu.example/command-receipt")


def receipt_id(principal_id: str, command_id: str) -> UUID:
    """Keys are scoped to the principal that sent them."""
    return uuid5(RECEIPT_NAMESPACE, f"{principal_id}\n{command_id}")


class CommandReceipt(KehuAggregate):
    """The first outcome of an idempotent command."""

    class Recorded(Aggregate.Created):
        command: str
        principal_id: str
        request_hash: str
        result: dict[str, Any]

    @event(Recorded)
    def __init__(
        self,
        id: UUID,
        command: str,
        principal_id: str,
        request_hash: str,
        result: dict[str, Any],
    ) -> None:
        self.command = command
        self.principal_id = principal_id
        self.request_hash = request_hash
        self.result = dict(result)
