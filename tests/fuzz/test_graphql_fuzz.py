"""schemathesis against kehu's GraphQL schema: every root field, queried with generated
arguments and selections, answers without a server error and with a well-formed GraphQL
response, in which every error raised while resolving carries a stable ``extensions.code``
(an uncoded resolver error is an exception kehu did not mean to show: its 500)."""

from __future__ import annotations

from typing import Any

import schemathesis

from interfaces.graphql.schema import schema as graphql_schema
from tests.fuzz.conftest import FUZZ_SETTINGS, Fuzzed, schemathesis_config

schema = schemathesis.graphql.from_file(str(graphql_schema), config=schemathesis_config())

GRAPHQL_URL = "http://localhost/graphql"


def assert_well_formed(status: int, body: Any) -> None:
    assert status < 500, f"server error {status}: {body}"
    assert isinstance(body, dict), f"not a JSON object: {body!r}"
    assert body.keys() <= {"data", "errors", "extensions"}
    assert body.keys() & {"data", "errors"}
    for error in body.get("errors") or ():
        assert isinstance(error.get("message"), str), error
        if "path" in error:  # raised while resolving, not while validating the document
            code = (error.get("extensions") or {}).get("code")
            assert isinstance(code, str), f"uncoded resolver error: {error}"


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_query_answers_well_formed_for_an_admin(
    case: schemathesis.Case, fuzzed: Fuzzed
) -> None:
    response = case.call(app=fuzzed.app, base_url=GRAPHQL_URL, headers=fuzzed.auth("admin"))
    assert_well_formed(response.status_code, response.json())


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_query_answers_well_formed_for_an_auditor(
    case: schemathesis.Case, fuzzed: Fuzzed
) -> None:
    response = case.call(app=fuzzed.app, base_url=GRAPHQL_URL, headers=fuzzed.auth("auditor"))
    assert_well_formed(response.status_code, response.json())
