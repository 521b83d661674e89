"""Errors as ``application/problem+json`` (RFC 9457) with a stable machine ``code``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from application.errors import ApplicationError
from domain.base import DomainError

log = logging.getLogger("kehu.http")

PROBLEM_JSON = "application/problem+json"


_RESERVED = frozenset({"type", "title", "status", "detail", "code", "instance"})


def problem(
    status: int, code: str, title: str, detail: str, extra: dict[str, Any] | None = None
) -> JSONResponse:
    """A problem document; ``extra`` members never replace the RFC 9457 ones."""
    body: dict[str, Any] = {
        "type": f"urn:kehu:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    for key, value in (extra or {}).items():
        if value is not None:
            body[f"{key}_value" if key in _RESERVED else key] = value
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class ProblemError(Exception):
    """A refusal raised by the HTTP layer itself (bad header and the like)."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, int | float | bool | type(None)) else str(v))
        for k, v in details.items()
    }


def install(app: FastAPI) -> None:
    @app.exception_handler(ApplicationError)
    async def application_error(_: Request, error: ApplicationError) -> JSONResponse:
        return problem(
            error.status, error.code, error.title, error.message, _jsonable(error.details)
        )

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, error: DomainError) -> JSONResponse:
        status = 422 if error.kind == "invalid" else 409
        title = "Invalid value" if status == 422 else "Refused by a business rule"
        return problem(status, error.code, title, error.message, _jsonable(error.details))

    @app.exception_handler(ProblemError)
    async def problem_error(_: Request, error: ProblemError) -> JSONResponse:
        return problem(error.status, error.code, error.title, error.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in error.errors()
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(
                400, "request.malformed_json", "Malformed JSON", "the body is not valid JSON"
            )
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        return problem(422, "validation.request", "Invalid request", detail, {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "request.method_not_allowed"}.get(
            error.status_code, f"http.{error.status_code}"
        )
        return problem(error.status_code, code, str(error.detail), str(error.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem(500, "server.error", "Internal error", "an unexpected error occurred")
