"""Disclosures in GraphQL (个人信息查阅记录).

**Recording.** One GraphQL operation is one answer, so it records at most one disclosure:

- a personal field of a type carries the field extension :class:`ShowsPersonalData`
  (``name: str = strawberry.field(extensions=[ShowsPersonalData("id")])``), which notes the
  field (``Customer.name``) and the data subject (the object's ``id``, ``customer_id``,
  ``staff_id``, …) each time the field is actually resolved with a value — so only the
  personal fields a query selects count, and only for the objects it returns;
- an event payload shown in the audit trail is noted with :func:`note_events`;
- :class:`DisclosureExtension` (a schema extension) gathers the notes over the whole
  operation and, once it has executed, records them as one disclosure through
  :class:`application.disclosures.DisclosureService` — ``via`` names the root fields, e.g.
  ``graphql customers``. Notes under a root field whose answer ended as ``null`` (it
  failed) are dropped. If the record cannot be written, the operation fails without data:
  no personal data leaves unrecorded.

Nothing is noted for roles that see masked data, nor for kehu itself.

**Reading.** ``disclosures(subjectId, actorId, since, until, first, after)``: who looked at
whom, the latest first (admins, managers and auditors: the ``audit.trail`` permission).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

import strawberry
from anyio import to_thread
from graphql import FieldNode, GraphQLError
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from application.context import CommandContext
from application.disclosures import Disclosed, shown
from application.store import RecordedEvent
from interfaces.graphql.acting import acts
from interfaces.graphql.common import (
    Connection,
    Context,
    check_page_size,
    connection,
    guard,
    offset_after,
)
from projections.disclosures import DisclosureFilter, DisclosureRow


@dataclass
class _Notes:
    """What one operation showed, by the response key of its root field."""

    shown: dict[str, Disclosed] = field(default_factory=dict)
    events: dict[str, list[RecordedEvent]] = field(default_factory=dict)
    #: Response key → root field name (an alias is not the query's name).
    roots: dict[str, str] = field(default_factory=dict)


_notes: WeakKeyDictionary[Context, _Notes] = WeakKeyDictionary()


def _notes_for(info: Info[Context, None]) -> tuple[_Notes, str] | None:
    """This operation's notes and the current root field's response key, or ``None``
    when the caller's answers are not recorded (a masked role, kehu itself)."""
    context = info.context
    if not context.system.disclosures.applies_to(context.principal):
        return None
    notes = _notes.get(context)
    if notes is None:  # fail closed: an answer that could not be recorded is not given
        raise GraphQLError(
            "disclosures are not being recorded", extensions={"code": "disclosure.unrecorded"}
        )
    path = info.path
    while path.prev is not None:
        path = path.prev
    key = str(path.key)
    if key not in notes.roots:
        notes.roots[key] = next(
            (
                node.name.value
                for node in info.operation.selection_set.selections
                if isinstance(node, FieldNode) and (node.alias or node.name).value == key
            ),
            key,
        )
    return notes, key


def note(info: Info[Context, None], subjects: Iterable[str], fields: Iterable[str]) -> None:
    """Note that the answer shows ``fields`` of ``subjects`` unmasked."""
    found = _notes_for(info)
    if found is not None:
        notes, key = found
        notes.shown.setdefault(key, Disclosed()).add(subjects, fields)


def note_disclosed(info: Info[Context, None], disclosed: Disclosed) -> None:
    note(info, disclosed.subjects, disclosed.fields)


def note_events(info: Info[Context, None], events: Iterable[RecordedEvent]) -> None:
    """Note that the answer shows these events' payloads unmasked (whom they are about
    is worked out once, at the end of the operation)."""
    found = _notes_for(info)
    if found is not None:
        notes, key = found
        notes.events.setdefault(key, []).extend(events)


class ShowsPersonalData(FieldExtension):
    """Marks a personal field: resolving it with a value notes a disclosure of
    ``<Type>.<field>`` about the subject named by the object's attribute ``subject``
    (an object whose subject is ``None``, such as an organisation party, shows no one's
    personal data). With ``disclosed=`` instead, the object carries a whole
    :class:`Disclosed` in that attribute (for a field holding a state or a payload)."""

    def __init__(self, subject: str | None = None, *, disclosed: str | None = None) -> None:
        if (subject is None) == (disclosed is None):
            raise ValueError("name the subject attribute or the disclosed attribute")
        self.subject = subject
        self.disclosed = disclosed
        self.label = ""

    def apply(self, field: StrawberryField) -> None:
        origin = getattr(field.origin, "__name__", "?")
        self.label = f"{origin}.{field.python_name}"

    def _note(self, source: Any, info: Info[Context, None], value: Any) -> None:
        if not shown(value):
            return
        if self.disclosed is not None:
            note_disclosed(info, getattr(source, self.disclosed))
            return
        assert self.subject is not None
        subject = getattr(source, self.subject)
        if subject is not None:
            note(info, [str(subject)], [self.label])

    def resolve(self, next_: Any, source: Any, info: Info[Context, None], **kwargs: Any) -> Any:
        value = next_(source, info, **kwargs)
        self._note(source, info, value)
        return value

    async def resolve_async(
        self, next_: Any, source: Any, info: Info[Context, None], **kwargs: Any
    ) -> Any:
        value = await next_(source, info, **kwargs)
        self._note(source, info, value)
        return value


class DisclosureExtension(SchemaExtension):
    """Records what one operation disclosed, once, after it has executed."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        notes = _Notes()
        if isinstance(context, Context):
            _notes[context] = notes
        yield
        if not isinstance(context, Context) or not (notes.shown or notes.events):
            return
        data = getattr(self.execution_context.result, "data", None) or {}
        answered = {key for key in notes.roots if data.get(key) is not None}
        await to_thread.run_sync(_record, context, notes, answered)


def _record(context: Context, notes: _Notes, answered: set[str]) -> None:
    system = context.system
    disclosed = Disclosed()
    for key in answered:
        if key in notes.shown:
            disclosed.merge(notes.shown[key])
        if key in notes.events:
            disclosed.merge(system.disclosures.in_events(notes.events[key]))
    if not disclosed:
        return
    roots = sorted(
        {notes.roots[key] for key in answered if key in notes.shown or key in notes.events}
    )
    headers = getattr(getattr(context, "request", None), "headers", None) or {}
    ctx = CommandContext.for_principal(
        context.principal,
        correlation_id=headers.get("x-correlation-id"),
        causation_id=headers.get("x-causation-id"),
    )
    system.disclosures.record(ctx, f"graphql {', '.join(roots)}", disclosed)


# -- reading --------------------------------------------------------------------------


@strawberry.type(description="个人信息查阅记录: one answer that showed personal data unmasked.")
class Disclosure:
    id: strawberry.ID
    recorded_at: datetime = strawberry.field(description="When the answer was recorded")
    actor_id: str = strawberry.field(description="Who looked")
    actor_role: str = strawberry.field(description="In which role")
    via: str = strawberry.field(
        description="The query: `GET /api/v1/customers/{customer_id}`, `graphql customers`, …"
    )
    fields: list[str] = strawberry.field(
        description="The personal fields shown, e.g. `Customer.phone`"
    )
    subjects: list[str] = strawberry.field(
        description="Whom it showed: customer ids (a training's trainees: staff ids)"
    )
    command_id: str
    correlation_id: str

    @classmethod
    def from_row(cls, row: DisclosureRow) -> Disclosure:
        return cls(
            id=strawberry.ID(row.id),
            recorded_at=row.recorded_at,
            actor_id=row.actor_id,
            actor_role=row.actor_role,
            via=row.via,
            fields=row.fields,
            subjects=row.subjects,
            command_id=row.command_id,
            correlation_id=row.correlation_id,
        )


def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is not None and moment.utcoffset() is None:
        raise GraphQLError(
            f"{name} needs a timezone offset", extensions={"code": "validation.naive_datetime"}
        )
    return moment


@strawberry.type
class DisclosureQuery:
    @strawberry.field(
        description="个人信息查阅记录: who saw whose personal data unmasked, the latest first."
        " `since` ≤ recorded < `until`. Admins, managers and auditors.",
        extensions=[acts("audit.trail")],
    )
    async def disclosures(
        self,
        info: Info[Context, None],
        subject_id: str | None = None,
        actor_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int = 20,
        after: str | None = None,
        min_position: int | None = None,
    ) -> Connection[Disclosure]:
        system = await guard(info, "audit.trail", min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = DisclosureFilter(
            subject_id=subject_id,
            actor_id=actor_id,
            since=_aware("since", since),
            until=_aware("until", until),
        )
        rows, total = await to_thread.run_sync(
            lambda: system.disclosure_queries.page(where, offset=offset, limit=first)
        )
        return connection([Disclosure.from_row(row) for row in rows], offset, total)
