"""Every unmasked read of personal data is recorded (个人信息查阅记录): who looked at whom,
through which query, at which fields, and when.

The interfaces mask personal data for roles that may not see it
(:mod:`application.privacy`). When the caller's role may see it and an answer actually
shows some, the interface gathers what it showed in a :class:`Disclosed` — the data
subjects and the fields — and hands it to :meth:`DisclosureService.record` once per
answer: one REST response, or one whole GraphQL operation. The record is a
:class:`domain.disclosure.Disclosure` saved through the command pipeline with the caller's
envelope, so the audit trail, the hash chain and the event feed hold it like any other
fact. Recording is cheap by leaving things out: nothing for masked roles, for kehu itself
(the system actor), for empty answers, or for answers without personal values.

Whom an answer is about:

- a customer's own record or events: the customer;
- a complaint, service request, survey or credit profile: its customer (``customer_id``);
- a contract: its customer parties;
- a training: its trainees, by staff id as given;
- anything else (a contract between organisations only): the aggregate itself, so that no
  disclosure goes unrecorded for want of a customer to name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from application.clock import Clock, utc_now
from application.context import CommandContext, Principal, Role
from application.privacy import may_see_personal_data
from application.store import CommandResult, Kehu, RecordedEvent
from domain.base import KehuAggregate, personal_fields
from domain.contract import Contract
from domain.customer import Customer
from domain.disclosure import Disclosure
from domain.training import Training

DISCLOSURE_NAMESPACE = uuid5(NAMESPACE_URL, "https://kehu.example/disclosure")
#: The command name disclosures carry in their envelope (and in the audit trail).
COMMAND = "disclosures.record"


def disclosure_id(principal_id: str, command_id: str) -> UUID:
    """One disclosure per request: the id follows the request's command id."""
    return uuid5(DISCLOSURE_NAMESPACE, f"{principal_id}\n{command_id}")


def shown(value: Any) -> bool:
    """Whether a value shows anything: ``None``, ``""`` and empty collections do not."""
    if value is None:
        return False
    if isinstance(value, str | dict | list | tuple | set):
        return len(value) > 0
    return True


@dataclass
class Disclosed:
    """What one answer showed unmasked: the data subjects and the personal fields."""

    subjects: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)

    def add(self, subjects: Iterable[str], fields: Iterable[str]) -> None:
        """Note ``fields`` shown of ``subjects`` (nothing, unless both are given)."""
        named, listed = {str(s) for s in subjects if s}, set(fields)
        if named and listed:
            self.subjects |= named
            self.fields |= listed

    def merge(self, other: Disclosed) -> None:
        self.subjects |= other.subjects
        self.fields |= other.fields

    def __bool__(self) -> bool:
        return bool(self.subjects and self.fields)


def subjects_of(aggregate: KehuAggregate) -> list[str]:
    """The data subjects an aggregate's personal data is about (the module's docstring)."""
    if isinstance(aggregate, Customer):
        return [str(aggregate.id)]
    if isinstance(aggregate, Training):
        return sorted(set(aggregate.staff_names) | set(aggregate.feedback_comments))
    if isinstance(aggregate, Contract):
        customers = [
            str(p["customer_id"]) for p in aggregate.parties.values() if p.get("customer_id")
        ]
        return sorted(set(customers)) or [str(aggregate.id)]
    customer_id = getattr(aggregate, "customer_id", None)
    return [str(customer_id)] if customer_id is not None else [str(aggregate.id)]


def in_state(kind: type, subjects: Iterable[str], state: Mapping[str, Any]) -> Disclosed:
    """What an unmasked state of ``kind`` shows of ``subjects``: its ``PERSONAL_STATE``
    values that hold something, as ``<Type>.<attribute>``."""
    fields = [
        f"{kind.__name__}.{name}"
        for name in getattr(kind, "PERSONAL_STATE", ())
        if shown(state.get(name))
    ]
    disclosed = Disclosed()
    disclosed.add(subjects, fields)
    return disclosed


def in_aggregate(aggregate: KehuAggregate, state: Mapping[str, Any]) -> Disclosed:
    """What an aggregate's unmasked state (:func:`application.store.aggregate_state`)
    shows, about whom :func:`subjects_of` says."""
    return in_state(type(aggregate), subjects_of(aggregate), state)


class DisclosureService:
    """Records disclosures, and works out what a page of events shows."""

    def __init__(self, store: Kehu, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    def in_events(self, events: Iterable[RecordedEvent]) -> Disclosed:
        """What these events' unmasked payloads show: their personal fields that hold
        something, as ``<EventType>.<field>``, and whom each event is about."""
        disclosed = Disclosed()
        loaded: dict[UUID, list[str]] = {}
        for recorded in events:
            event_class: type = type(recorded.event)
            marked = personal_fields(event_class)
            fields = [
                f"{recorded.type}.{name}"
                for name in sorted(marked)
                if shown(recorded.payload.get(name))
            ]
            if fields:
                disclosed.add(self._event_subjects(recorded, loaded), fields)
        return disclosed

    def _event_subjects(self, recorded: RecordedEvent, loaded: dict[UUID, list[str]]) -> list[str]:
        if recorded.aggregate_type == Customer.__name__:
            return [str(recorded.aggregate_id)]
        for name in ("customer_id", "staff_id"):
            named = recorded.payload.get(name)
            if named:
                return [str(named)]
        # An event that names no one (a complaint's findings, a contract's signature):
        # its aggregate says whom it is about, once per aggregate per answer.
        if recorded.aggregate_id not in loaded:
            aggregate = self.store.load(recorded.aggregate_id, KehuAggregate)
            loaded[recorded.aggregate_id] = subjects_of(aggregate)
        return loaded[recorded.aggregate_id]

    @staticmethod
    def applies_to(principal: Principal) -> bool:
        """Whether this caller's answers are recorded: roles that see personal data
        unmasked, but not kehu itself (the scheduler and the policies)."""
        return principal.role is not Role.SYSTEM and may_see_personal_data(principal.role)

    def record(self, ctx: CommandContext, via: str, disclosed: Disclosed) -> CommandResult | None:
        """Record one disclosure for one answer, or nothing when nothing was disclosed: a
        role that sees masked data, kehu's own system actor, or an empty ``disclosed``."""
        if not disclosed or not self.applies_to(ctx.principal):
            return None
        new_id = disclosure_id(ctx.principal.id, ctx.command_id)
        moment = self.clock()
        return self.store.execute(
            ctx,
            COMMAND,
            kind=Disclosure,
            create=lambda: Disclosure.record(
                new_id=new_id,
                subjects=disclosed.subjects,
                via=via,
                fields=disclosed.fields,
                at=moment,
            ),
        )
