"""What every REST router shares: request base model, the command result, responses."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from application.store import CommandResult

MAX_SAFE_INT = 2**53 - 1
"""The largest version, position or offset a query may name: the largest integer a JSON
client holds exactly, far below the 64-bit integers of the stores (which a larger number,
or ``after`` + 1 at the 64-bit edge, overflowed into a 500). Larger ones are refused (422)."""


def whole_number(raw: str) -> int | None:
    """A header's whole number (``If-Match``, ``X-Kehu-Min-Position``), or None when it is
    not one up to ``MAX_SAFE_INT``. ASCII digits only: ``str.isdigit`` also takes "²", which
    ``int`` refuses, and ``int`` refuses more than 4,300 digits — both were 500s."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 16):
        return None
    value = int(text)
    return value if value <= MAX_SAFE_INT else None


DecimalString = Annotated[
    StrictStr,
    Field(
        pattern=r"^\d{1,15}(\.\d{1,4})?$",
        description='A decimal amount as a string, e.g. "1234.50" (never a JSON number).',
        examples=["1234.50"],
    ),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_character(cls, data: Any) -> Any:
        """PostgreSQL text cannot hold NUL: stored in an event, it stopped the read models."""
        if _holds_nul(data):
            raise ValueError("text may not contain the NUL character (\\u0000)")
        return data


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


class CommandOut(BaseModel):
    """The result of every command."""

    id: UUID
    version: int = Field(description="The aggregate's version after the command.")
    position: int = Field(
        description="Global position of the command's last event: pass it as `minPosition`"
        " (or `X-Kehu-Min-Position`) to read your own write."
    )
    events: list[str]


def respond(result: CommandResult, created_status: int = 201) -> JSONResponse:
    status = created_status if result.created else 200
    return JSONResponse(
        result.as_json(), status_code=status, headers={"ETag": f'"{result.version}"'}
    )


COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request (bad JSON, bad If-Match)"},
    401: {"description": "No, unknown, revoked or expired API key"},
    403: {"description": "Refused by the key's role or its scopes"},
    404: {"description": "No such aggregate"},
    409: {"description": "Version conflict (If-Match) or refused by the aggregate's state"},
    422: {"description": "Invalid input, or Idempotency-Key reused with another body"},
}
