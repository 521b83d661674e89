"""Building blocks every kehu aggregate shares.

- :class:`Envelope` — the audit envelope (who, through which command, why) that the
  application stamps on every event before it is stored.
- :data:`PersonalData` — a marker for event fields that hold personal information
  (个人信息) so that masking and per-person encryption can find them.
- :class:`DomainError` — the base of every business-rule refusal, with a stable ``code``.
- :class:`KehuAggregate` — the aggregate base class.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate


@dataclass(frozen=True)
class Envelope:
    """Audit envelope: who did what, through which command, and why.

    ``correlation_id`` ties together everything one request started;
    ``causation_id`` names the command or event that directly caused this one.
    """

    actor_id: str
    actor_role: str
    command: str
    command_id: str
    correlation_id: str
    causation_id: str
    reason: str | None = None

    def __post_init__(self) -> None:
        if not self.actor_id or not self.actor_role:
            raise MissingActorError("every stored event names its actor and role; none was given")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        return cls(**data)


class _PersonalDataMarker:
    """Marks a field as personal data (个人信息, PIPL)."""

    def __repr__(self) -> str:
        return "PersonalData"


PERSONAL = _PersonalDataMarker()

T = TypeVar("T")
PersonalData = Annotated[T, PERSONAL]
"""Use as ``name: PersonalData[str]`` on an event field that holds personal data."""


class PersonalEntries:
    """Marks the entries of a mapping field that hold personal data, when its other entries
    do not: ``changes: Annotated[dict[str, Any], PersonalEntries("name", "phone")]``."""

    def __init__(self, *keys: str) -> None:
        self.keys = frozenset(keys)

    def __repr__(self) -> str:
        return f"PersonalEntries{tuple(sorted(self.keys))}"


@cache
def personal_layout(event_class: type) -> dict[str, frozenset[str] | None]:
    """Where an event class keeps personal data: field name → ``None`` when the whole value
    is personal, or the set of personal entries of a mapping field."""
    hints = typing.get_type_hints(event_class, include_extras=True)
    layout: dict[str, frozenset[str] | None] = {}
    for name, hint in hints.items():
        entries = _personal_entries(hint)
        if entries is not None:
            layout[name] = entries or None
    return layout


def personal_fields(event_class: type) -> frozenset[str]:
    """The names of an event class's fields that hold personal data."""
    return frozenset(personal_layout(event_class))


def _personal_entries(hint: Any) -> frozenset[str] | None:
    """An empty set for a field marked :data:`PersonalData`, the entries for one marked
    :class:`PersonalEntries`, None for a field without personal data."""
    if typing.get_origin(hint) is Annotated:
        for marker in hint.__metadata__:
            if isinstance(marker, _PersonalDataMarker):
                return frozenset()
            if isinstance(marker, PersonalEntries):
                return marker.keys
        return _personal_entries(typing.get_args(hint)[0])
    for arg in typing.get_args(hint):
        found = _personal_entries(arg)
        if found is not None:
            return found
    return None


#: What a personal value reads as once its subject's key was destroyed (crypto-shredding).
ERASED = "[erased]"

STAFF_NAMESPACE = uuid5(NAMESPACE_URL, "https://kehu.example/staff")


def staff_subject(staff_id: str) -> UUID:
    """The data-subject id of a member of staff (their personal data has its own key)."""
    return uuid5(STAFF_NAMESPACE, staff_id)


class DomainError(Exception):
    """A business rule refused a command. ``code`` is stable and machine-readable."""

    code: ClassVar[str] = "domain.error"
    #: ``"conflict"`` when the aggregate's state refuses the command (HTTP 409),
    #: ``"invalid"`` when the input itself is wrong (HTTP 422).
    kind: ClassVar[str] = "conflict"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidValueError(DomainError):
    """A value object refused its input."""

    code = "validation.invalid_value"
    kind = "invalid"


def clean_text(
    field: str,
    value: object,
    *,
    max_length: int,
    error: type[DomainError] = InvalidValueError,
    required: bool = True,
) -> str:
    """Free text with runs of white space folded, refused if empty or too long."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise error(f"{field} must be text", field=field)
    cleaned = " ".join(value.split())
    if required and not cleaned:
        raise error(f"{field} must not be empty", field=field)
    if len(cleaned) > max_length:
        raise error(
            f"{field} is {len(cleaned)} characters long; at most {max_length} are allowed",
            field=field,
        )
    return cleaned


E = TypeVar("E", bound=StrEnum)


def choose(
    enum: type[E], value: str, field: str, error: type[DomainError] = InvalidValueError
) -> E:
    """An enumerated value, or an error that lists the allowed ones."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise error(f"{field} must be one of {allowed}, not {value!r}", field=field) from None


def aware(field: str, moment: datetime) -> datetime:
    """A business time must carry its offset."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValueError(f"{field} needs a timezone offset", field=field)
    return moment


class MissingActorError(DomainError):
    code = "audit.missing_actor"
    kind = "invalid"


class KehuAggregate(Aggregate):
    """Base of kehu's aggregates.

    Ids are given by the application (deterministic ``uuid5`` for natural keys), so
    the domain never draws random numbers.
    """

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:
        raise TypeError("kehu aggregates are created with an explicit id")

    def data_subject(self, event: object | None = None) -> UUID | None:
        """Whose personal data this aggregate's ``event`` (or, for None, its state) holds:
        their key encrypts it (application/subject_keys.py). None: no personal data."""
        return None

    @classmethod
    def event_names(cls) -> list[str]:
        return [
            f"{cls.__name__}.{name}"
            for name, value in vars(cls).items()
            if isinstance(value, type) and issubclass(value, Aggregate.Event)
        ]


def event_type_name(event: object) -> str:
    """``Customer.Registered`` for a ``Customer.Registered`` event."""
    return type(event).__qualname__
