"""A person's rights under the Personal Information Protection Law (个人信息保护法), each a
command with its own event on the customer:

- access and copy (查阅、复制, art. 45): everything kehu holds about the person, as JSON and as
  a readable document; the copy's SHA-256 is recorded (``Customer.DataCopyProvided``);
- correction (更正, art. 46): new values as a new event, never a rewrite;
- restriction of processing (限制处理, art. 44): the data is only stored; commands that would
  process it are refused (``privacy.processing_restricted``) until it is lifted;
- erasure (删除, art. 47): recorded, then the person's key is destroyed (crypto-shredding), so
  their personal data reads as erased everywhere while the stored bytes, and so the audit
  hash chain, stay as they were. Facts that are not personal (amounts, dates, ratings) remain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.clock import Clock, utc_now
from application.context import CommandContext, Principal
from application.permissions import authorize
from application.store import CommandResult, Kehu, aggregate_state, to_json
from domain.base import KehuAggregate
from domain.customer import Customer, CustomerErased

FORMAT = "kehu-personal-data/1"


@dataclass(frozen=True)
class PersonalDataCopy:
    """The copy given to the person: JSON and a readable Markdown document."""

    data: dict[str, Any]
    json: bytes
    document: bytes
    sha256: str


class PiplService:
    """PIPL requests on a customer. ``records_of(customer_id)`` names the other records that
    hold their data (complaints, service requests, credit profile, contracts, surveys)."""

    def __init__(
        self,
        store: Kehu,
        records_of: Callable[[UUID], list[UUID]],
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.records_of = records_of
        self.clock = clock

    # -- access and copy ----------------------------------------------------------------

    def copy(self, principal: Principal, customer_id: UUID) -> PersonalDataCopy:
        """Everything kehu holds about the person, now (nothing recorded: see
        :meth:`provide_copy`)."""
        authorize(principal, "privacy.access")
        customer = self.store.load(customer_id, Customer)
        records: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for aggregate_id in [customer_id, *sorted(set(self.records_of(customer_id)))]:
            try:
                aggregate: Any = self.store.repository.get(aggregate_id)
            except Exception:  # noqa: S112 (a record the views know of but the store has not)
                continue
            if not isinstance(aggregate, KehuAggregate):
                continue
            records.append(
                {
                    "type": type(aggregate).__name__,
                    "id": str(aggregate_id),
                    "state": to_json(aggregate_state(aggregate)),
                }
            )
            events += [
                to_json(e.as_json()) for e in self.store.history(aggregate_id, limit=1_000_000)
            ]
        events.sort(key=lambda e: e["position"] or 0)
        data = {
            "format": FORMAT,
            "subject": str(customer_id),
            "privacy": customer.privacy,
            "up_to_position": self.store.max_position(),
            "records": records,
            "events": events,
        }
        body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        return PersonalDataCopy(
            data=data,
            json=body,
            document=_document(data).encode("utf-8"),
            sha256=hashlib.sha256(body).hexdigest(),
        )

    def provide_copy(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        request_id: str,
        *,
        format: str = "json",
        at: datetime | None = None,
    ) -> tuple[CommandResult, bytes, str]:
        """The copy in ``format`` (``json`` or ``markdown``), its SHA-256, and its giving
        recorded with that SHA-256."""
        authorize(ctx.principal, "privacy.access")
        copy = self.copy(ctx.principal, customer_id)
        content = copy.document if format == "markdown" else copy.json
        digest = hashlib.sha256(content).hexdigest()
        moment = at or self.clock()
        result = self.store.execute(
            ctx,
            "privacy.access",
            kind=Customer,
            target=customer_id,
            act=lambda c: c.provide_data_copy(request_id, format, digest, moment),
        )
        return result, content, digest

    # -- correction, restriction, erasure -------------------------------------------------

    def _on_customer(
        self,
        ctx: CommandContext,
        command: str,
        customer_id: UUID,
        act: Callable[[Customer, datetime], object],
        at: datetime | None,
        *,
        permission: str | None = None,
    ) -> CommandResult:
        authorize(ctx.principal, permission or command)
        moment = at or self.clock()
        return self.store.execute(
            ctx, command, kind=Customer, target=customer_id, act=lambda c: act(c, moment)
        )

    def correct(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        request_id: str,
        changes: dict[str, Any],
        *,
        at: datetime | None = None,
    ) -> CommandResult:
        return self._on_customer(
            ctx,
            "privacy.correct",
            customer_id,
            lambda c, moment: c.correct_personal_data(request_id, moment, **changes),
            at,
        )

    def restrict(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        request_id: str,
        reason: str,
        *,
        at: datetime | None = None,
    ) -> CommandResult:
        result = self._on_customer(
            ctx,
            "privacy.restrict",
            customer_id,
            lambda c, moment: c.restrict_processing(request_id, reason, moment),
            at,
        )
        self.store.keys.restrict(customer_id, True)
        return result

    def lift_restriction(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        request_id: str,
        reason: str,
        *,
        at: datetime | None = None,
    ) -> CommandResult:
        result = self._on_customer(
            ctx,
            "privacy.lift_restriction",
            customer_id,
            lambda c, moment: c.lift_restriction(request_id, reason, moment),
            at,
            permission="privacy.restrict",
        )
        self.store.keys.restrict(customer_id, False)
        return result

    def erase(
        self,
        ctx: CommandContext,
        customer_id: UUID,
        request_id: str,
        reason: str,
        *,
        at: datetime | None = None,
    ) -> CommandResult:
        """Record the erasure, then destroy the key. A repeat (the key survived a crash
        between the two) destroys it and is refused as already erased."""
        try:
            result = self._on_customer(
                ctx,
                "privacy.erase",
                customer_id,
                lambda c, moment: c.erase_personal_data(request_id, reason, moment),
                at,
            )
        except CustomerErased:
            self.store.keys.destroy(customer_id)
            raise
        self.store.keys.destroy(customer_id)
        return result


def _document(data: dict[str, Any]) -> str:
    """The copy as a document a person can read (Markdown, Chinese and English)."""
    lines = [
        "# 个人信息副本 · Copy of your personal data",
        "",
        f"- 主体 Subject: `{data['subject']}`",
        f"- 状态 Status: {data['privacy']}",
        f"- 截至事件位置 Up to position: {data['up_to_position']}",
        f"- 记录数 Records: {len(data['records'])}; 事件数 Events: {len(data['events'])}",
        "",
        "依据《个人信息保护法》第四十五条提供。Provided under PIPL art. 45. The JSON file holds"
        " the same data, every recorded event with who recorded it and why.",
        "",
    ]
    for record in data["records"]:
        lines += [f"## {record['type']} `{record['id']}`", ""]
        for key, value in sorted(record["state"].items()):
            if value in (None, [], {}, ""):
                continue
            text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            lines.append(f"- **{key}**: {text}")
        lines.append("")
    lines += [
        "## 事件 Events",
        "",
        "| position | type | recorded at | actor |",
        "| --- | --- | --- | --- |",
    ]
    for event in data["events"]:
        envelope = event.get("envelope") or {}
        lines.append(
            f"| {event['position']} | {event['type']} | {event['recorded_at']} |"
            f" {envelope.get('actor_role', '')} |"
        )
    return "\n".join(lines) + "\n"
