"""schemathesis against kehu's OpenAPI document: whatever it sends, kehu answers without a
server error, with a status the document declares, in a declared content type, and in the
declared shape (refusals as problem documents)."""

from __future__ import annotations

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from application.settings import Settings
from interfaces.rest.app import create_app
from tests.fuzz.conftest import FUZZ_SETTINGS, Fuzzed, schemathesis_config


@schemathesis.check
def no_server_error(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """No 5xx, except the documented 504 of a read that asked for a position the read models
    have not reached (the fuzzer asks for positions that are never recorded)."""
    if response.status_code == 504 and response.json().get("code") == "read.min_position_timeout":
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# The document is read from an app that serves nothing (it needs no store); the requests go
# to the fuzzed app. (schemathesis' fixture-loaded schemas do not run under pytest 9.)
schema = schemathesis.openapi.from_dict(
    create_app(settings=Settings()).openapi(), config=schemathesis_config()
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_the_api_holds_to_its_schema_for_an_admin(case: schemathesis.Case, fuzzed: Fuzzed) -> None:
    case.call_and_validate(app=fuzzed.app, headers=fuzzed.auth("admin"), checks=CHECKS)


@schema.include(method="GET").parametrize()
@FUZZ_SETTINGS
def test_the_reads_hold_to_their_schema_for_an_auditor(
    case: schemathesis.Case, fuzzed: Fuzzed
) -> None:
    case.call_and_validate(app=fuzzed.app, headers=fuzzed.auth("auditor"), checks=CHECKS)
