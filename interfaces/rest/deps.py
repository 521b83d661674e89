"""Request → principal and command context (FastAPI dependencies)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, Header, Request

from application.context import CommandContext, Principal
from interfaces.bootstrap import System
from interfaces.rest.common import whole_number
from interfaces.rest.problems import ProblemError


def get_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


SystemDep = Annotated[System, Depends(get_system)]


def get_principal(
    request: Request,
    system: SystemDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    checked: Principal | None = getattr(request.state, "principal", None)
    if checked is not None:  # authenticated and authorised by interfaces.rest.acting
        return checked
    token = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
    return system.keys.authenticate(token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    version = whole_number(if_match.strip().removeprefix("W/").strip('"'))
    if version is None:
        raise ProblemError(
            400,
            "precondition.invalid_if_match",
            "Invalid If-Match",
            "If-Match takes the aggregate version, e.g. If-Match: 7",
        )
    return version


async def _request_hash(request: Request) -> str:
    body = await request.body()
    try:
        canonical: Any = json.loads(body) if body else None
        text = json.dumps(canonical, sort_keys=True, ensure_ascii=False)
    except ValueError:
        text = body.decode("utf-8", "replace")
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n{text}".encode())
    return digest.hexdigest()


async def get_command_context(
    request: Request,
    principal: PrincipalDep,
    if_match: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header()] = None,
    x_correlation_id: Annotated[str | None, Header()] = None,
    x_causation_id: Annotated[str | None, Header()] = None,
    x_reason: Annotated[str | None, Header()] = None,
) -> CommandContext:
    reason = unquote(x_reason) if x_reason else None
    if reason is not None and "\x00" in reason:
        raise ProblemError(
            422, "validation.request", "Invalid X-Reason", "X-Reason may not hold %00 (NUL)"
        )
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 200):
        raise ProblemError(
            400, "idempotency.invalid_key", "Invalid Idempotency-Key", "use 1–200 characters"
        )
    return CommandContext.for_principal(
        principal,
        idempotency_key=idempotency_key,
        request_hash=await _request_hash(request),
        correlation_id=x_correlation_id,
        causation_id=x_causation_id,
        reason=reason,
        expected_version=_expected_version(if_match),
    )


ContextDep = Annotated[CommandContext, Depends(get_command_context)]
