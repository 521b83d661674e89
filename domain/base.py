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
from uuid import UUID

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


@cache
def personal_fields(event_class: type) -> frozenset[str]:
    """The names of an event class's fields marked :data:`PersonalData`."""
    hints = typing.get_type_hints(event_class, include_extras=True)
    found = set()
    for name, hint in hints.items():
        if _is_personal(hint):
            found.add(name)
    return frozenset(found)


def _is_personal(hint: Any) -> bool:
    if typing.get_origin(hint) is Annotated:
        if any(isinstance(m, _PersonalDataMarker) for m in hint.__metadata__):
            return True
        return _is_personal(typing.get_args(hint)[0])
    return any(_is_personal(arg) for arg in typing.get_args(hint))


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
