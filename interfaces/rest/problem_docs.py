"""The refusals in the OpenAPI document: every error answer is declared, as
``application/problem+json`` with the problem schema, so a client generator (and the schema
fuzzer in tests/fuzz) knows what kehu may answer and in what shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from interfaces.rest.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details with kehu's stable machine `code`; a refusal"
    " may add members of its own (`errors`, `current_version`, `limit`, …).",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:kehu:problem:not_found"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "examples": ["complaint.already_closed"]},
    },
    "additionalProperties": True,
}

# What any API call may be refused with, whatever the route declares itself.
API_REFUSALS: dict[str, str] = {
    "400": "Malformed request (bad JSON, bad header)",
    "401": "No or unknown API key",
    "403": "The key's role may not do this",
    "404": "No such resource",
    "409": "Refused by the state of the aggregate, or a version conflict",
    "413": "The body is larger than KEHU_MAX_REQUEST_BYTES (`request.too_large`)",
    "422": "Invalid input",
}
ANY_REFUSAL = {"413": API_REFUSALS["413"]}


def document_problems(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare every refusal as a problem document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _declare(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    # FastAPI's own validation-error schemas describe an answer kehu never gives.
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in document.get("paths", {}).items():
        refusals = API_REFUSALS if path.startswith("/api/") else ANY_REFUSAL
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in refusals.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status.startswith("4") or status == "504":
                    response["content"] = problem
