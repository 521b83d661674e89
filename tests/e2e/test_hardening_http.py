"""Hardening end to end: the request size limit, the GraphQL limits, security headers, the
refusals in the OpenAPI document, and no secret in any log line.

The served kehu here runs with small limits, so the tests can pass them cheaply."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from graphql import get_introspection_query

from application.settings import Settings
from interfaces.bootstrap import System
from interfaces.log_redaction import install_log_redaction
from interfaces.rest.app import create_app
from interfaces.rest.security import STRICT_CSP
from tests.conftest import drop_schema, make_settings
from tests.e2e.conftest import Served

PROBLEM_JSON = "application/problem+json"
LIMITS: dict[str, Any] = {
    "max_request_bytes": 64 * 1024,
    "graphql_max_depth": 6,
    "graphql_max_cost": 2_000,
    "graphql_max_aliases": 5,
    "graphql_max_tokens": 400,
    "graphql_max_query_chars": 4_000,
}
MAX_BYTES = LIMITS["max_request_bytes"]
PERSON = {"kind": "individual", "name": "李娜", "phone": "13912345678"}


@pytest.fixture
def settings(store_kind: str, tmp_path: object) -> Iterator[Settings]:
    made = make_settings(store_kind, tmp_path, **LIMITS)
    try:
        yield made
    finally:
        if made.store == "postgres":
            drop_schema(made.postgres_schema)


def register_body(size: int) -> bytes:
    """A valid registration, padded with spaces to ``size`` bytes."""
    text = httpx.Request("POST", "/", json=PERSON).content
    return text + b" " * max(size - len(text), 0)


def chunks(body: bytes, size: int = 8 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def post_json(served: Served, path: str, content: bytes | Iterator[bytes]) -> httpx.Response:
    with served.client() as client:
        return client.post(path, content=content, headers={"Content-Type": "application/json"})


# --- request size -------------------------------------------------------------------------


def test_a_body_declared_over_the_limit_is_refused_with_413_and_records_nothing(
    served: Served,
) -> None:
    before = served.head()
    response = post_json(served, "/api/v1/customers", register_body(MAX_BYTES + 1))
    assert response.request.headers["content-length"] == str(MAX_BYTES + 1)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["code"] == "request.too_large"
    assert response.json()["limit"] == MAX_BYTES
    assert served.head() == before


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(served: Served) -> None:
    before = served.head()
    response = post_json(served, "/api/v1/customers", chunks(register_body(MAX_BYTES + 1)))
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json()["code"] == "request.too_large"
    assert served.head() == before


def test_a_chunked_body_within_the_limit_reaches_the_command(served: Served) -> None:
    response = post_json(served, "/api/v1/customers", chunks(register_body(MAX_BYTES)))
    assert response.status_code == 201, response.text
    assert response.json()["events"] == ["Customer.Registered"]


def test_a_graphql_body_over_the_limit_is_refused_before_it_is_parsed(served: Served) -> None:
    padding = b"x" * MAX_BYTES
    response = post_json(
        served, "/graphql", b'{"query": "{ __typename }", "p": "' + padding + b'"}'
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request.too_large"


# --- GraphQL limits -----------------------------------------------------------------------


def graphql(served: Served, query: str, **variables: Any) -> dict[str, Any]:
    with served.client() as client:
        response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return dict(response.json())


def refused(served: Served, query: str, code: str, **variables: Any) -> dict[str, Any]:
    """Ask ``query``; assert it is refused with ``code`` alone and that nothing is recorded
    (an unmasked read would be)."""
    before = served.head()
    answer = graphql(served, query, **variables)
    assert answer.get("data") is None, answer
    [error] = answer["errors"]
    assert error["extensions"]["code"] == code, error
    assert served.head() == before
    return dict(error["extensions"])


DOCUMENTED = """query ($p: Int) {
  customers(first: 20, filter: {status: [ACTIVE], nameContains: "青禾"},
            orderBy: {field: PURCHASE_TOTAL, direction: DESC}, minPosition: $p) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name status statusLabel purchaseCount
                          purchaseTotal { amount currency } lastInteractionAt } }
  }
}"""  # the README's example
PAGE = "edges { node { id name phone status segment tags } }"


def test_the_documented_query_passes_even_the_tight_limits(served: Served) -> None:
    answer = graphql(served, DOCUMENTED, p=None)
    assert "errors" not in answer, answer
    assert answer["data"]["customers"]["totalCount"] == 0


def test_introspection_is_neither_too_deep_nor_too_costly(served: Served) -> None:
    query = get_introspection_query(descriptions=True)
    assert len(query) < LIMITS["graphql_max_query_chars"]
    answer = graphql(served, query)
    assert "errors" not in answer
    assert answer["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_query_nested_deeper_than_the_limit_is_refused(served: Served) -> None:
    deep = (
        "{ contracts { edges { node { amendments { terms {"
        " paymentSchedule { amount { amount } } } } } } } }"
    )
    refusal = refused(served, deep, "graphql.too_deep")
    assert refusal["depth"] == 8
    assert refusal["limit"] == 6


def test_depth_counts_through_fragments(served: Served) -> None:
    query = (
        "fragment Terms on ContractTerms { paymentSchedule { amount { amount } } }"
        " { contracts { edges { node { amendments { terms { ...Terms } } } } } }"
    )
    assert refused(served, query, "graphql.too_deep")["depth"] == 8


def test_a_query_over_the_cost_limit_is_refused(served: Served) -> None:
    one_page = f"{{ customers(first: 200) {{ {PAGE} }} }}"
    assert "errors" not in graphql(served, one_page)  # 1 + 200 × 8 = 1,601 fields
    two_pages = (
        f"{{ customers(first: 200) {{ {PAGE} }} again: customers(first: 200) {{ {PAGE} }} }}"
    )
    refusal = refused(served, two_pages, "graphql.too_costly")
    assert refusal["cost"] == 2 * 1_601
    assert refusal["limit"] == 2_000


def test_the_cost_reads_first_from_the_variables(served: Served) -> None:
    query = f"query ($n: Int!) {{ customers(first: $n) {{ {PAGE} }} }}"
    assert "errors" not in graphql(served, query, n=200)
    refusal = refused(
        served,
        f"query ($n: Int!) {{ a: customers(first: $n) {{ {PAGE} }} b: customers(first: $n) {{ {PAGE} }} }}",
        "graphql.too_costly",
        n=200,
    )
    assert refusal["cost"] == 2 * 1_601


def test_fragments_spread_within_fragments_are_measured_once_each(served: Served) -> None:
    """Twenty fragments each spreading the next twice: 2^20 fields by spreading, measured in
    twenty steps and refused."""
    fragments = " ".join(
        f"fragment F{i} on Customer {{ ...F{i + 1} ...F{i + 1} }}" for i in range(20)
    )
    query = f'{fragments} fragment F20 on Customer {{ id }} {{ customer(id: "x") {{ ...F0 }} }}'
    refusal = refused(served, query, "graphql.too_costly")
    assert refusal["cost"] == 1 + 2**20


def test_too_many_aliases_are_refused(served: Served) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(6)) + " }"
    assert refused(served, query, "graphql.too_many_aliases")["aliases"] == 6


def test_a_query_with_too_many_tokens_is_refused(served: Served) -> None:
    query = '{ customer(id: "x") { ' + "id " * 450 + "} }"
    assert len(query) < LIMITS["graphql_max_query_chars"]
    refused(served, query, "graphql.too_many_tokens")


def test_an_overlong_query_text_is_refused(served: Served) -> None:
    query = "{ __typename } # " + "x" * 4_000
    assert refused(served, query, "graphql.query_too_long")["length"] == len(query)


# --- security headers ---------------------------------------------------------------------


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def csp(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    directives = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/events?limit=1", 200),
        ("GET", "/api/v1/customers/00000000-0000-0000-0000-000000000000", 404),
        ("POST", "/api/v1/customers", 422),
        ("POST", "/graphql", 200),
        ("GET", "/healthz", 200),
        ("GET", "/openapi.json", 200),
    ],
)
def test_every_json_answer_carries_the_security_headers_and_a_csp_that_allows_nothing(
    served: Served, method: str, path: str, status: int
) -> None:
    with served.client() as client:
        body = {"query": "{ __typename }"} if path == "/graphql" else {}
        response = client.request(method, path, json=body if method == "POST" else None)
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["content-security-policy"] == STRICT_CSP
    assert "strict-transport-security" not in response.headers  # not configured, not https


def test_an_unauthenticated_refusal_carries_the_headers_too(served: Served) -> None:
    with served.client(role=None) as client:
        response = client.get("/api/v1/events")
    assert response.status_code == 401
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


class _Assets(HTMLParser):
    """The scripts, styles and icons an HTML page loads, and whether it has inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.images: list[str] = []
        self.inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.scripts.append(str(values["src"]))
            else:
                self.inline_script = True
        elif tag == "link" and values.get("href"):
            rel = (values.get("rel") or "").lower()
            (self.styles if "stylesheet" in rel else self.images).append(str(values["href"]))


def allowed(sources: list[str], url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "data":
        return "data:" in sources
    if not parts.netloc:
        return "'self'" in sources
    return f"{parts.scheme}://{parts.netloc}" in sources


@pytest.mark.parametrize(("path", "accept"), [("/docs", "text/html"), ("/graphql", "text/html")])
def test_the_html_pages_csp_allows_exactly_what_they_load(
    served: Served, path: str, accept: str
) -> None:
    with served.client(role=None, Accept=accept) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assets = _Assets()
    assets.feed(response.text)
    assert assets.scripts, "the page loads its scripts"
    policy = csp(response)
    for url in assets.scripts:
        assert allowed(policy["script-src"], url), url
    for url in assets.styles:
        assert allowed(policy["style-src"], url), url
    for url in assets.images:
        assert allowed(policy["img-src"], url), url
    assert assets.inline_script
    assert "'unsafe-inline'" in policy["script-src"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["x-frame-options"] == "DENY"


def test_hsts_is_sent_over_https_when_configured(system: System) -> None:
    configured = system.settings.model_copy(update={"hsts_max_age": 31_536_000})
    app = create_app(system, settings=configured)
    with TestClient(app, base_url="https://kehu.example") as client:
        assert (
            client.get("/healthz").headers["strict-transport-security"]
            == "max-age=31536000; includeSubDomains"
        )
    with TestClient(app, base_url="http://kehu.example") as client:
        assert "strict-transport-security" not in client.get("/healthz").headers


# --- OpenAPI ------------------------------------------------------------------------------


def test_openapi_declares_every_refusal_as_a_problem_document(served: Served) -> None:
    with served.client() as client:
        document = client.get("/openapi.json").json()
    assert "Problem" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    api = [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if path.startswith("/api/")
    ]
    assert len(api) > 100
    for path, method, operation in api:
        for status in ("400", "401", "403", "404", "409", "413", "422"):
            declared = operation["responses"].get(status)
            assert declared is not None, (method, path, status)
            assert declared["content"] == {PROBLEM_JSON: problem}, (method, path, status)


# --- secrets never logged -----------------------------------------------------------------


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Every record of uvicorn's access logger (it does not propagate to the root logger)."""
    logger = logging.getLogger("uvicorn.access")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(caplog.handler)
    try:
        yield caplog.handler.records
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)


def test_no_api_key_reaches_any_log_line(
    served: Served, caplog: pytest.LogCaptureFixture, access_log: list[logging.LogRecord]
) -> None:
    caplog.set_level(logging.DEBUG)
    key = served.keys["admin"]
    _, key_id, secret = key.split("_", 2)
    forged = f"kehu_{key_id}_not-the-secret-{secret[:6]}zz"
    with served.client() as client:
        assert client.get("/api/v1/events?limit=1").status_code == 200
        # a key pasted into the query string and into a GraphQL query by mistake
        assert client.get(f"/api/v1/events?limit=1&api_key={key}").status_code == 200
        answer = client.post("/graphql", json={"query": f"{{ customer(id: {key}) {{ id }} }}"})
        assert answer.json()["errors"]
    with served.client(role=None, Authorization=f"Bearer {forged}") as client:
        assert client.get("/api/v1/events").status_code == 401
    lines = [record.getMessage() for record in caplog.records]
    text = "\n".join(lines)
    assert any("api_key=kehu_" in line for line in lines), "the access log saw the request"
    assert f"kehu_{key_id}_***" in text
    assert secret not in text
    assert forged.split("_", 2)[2] not in text


def test_configured_secrets_and_url_passwords_are_redacted_from_every_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dsn = "postgresql://kehu:s3cr%40t-pw@db.example:5432/kehu"
    install_log_redaction(
        Settings(store="sqlite", audit_key="an-audit-key-0123456789", database_url=dsn)
    )
    log = logging.getLogger("kehu.test")
    with caplog.at_level(logging.INFO):
        log.info("connecting to %s", dsn)
        log.info("audit key an-audit-key-0123456789; password=hunter22 sslmode=require")
        log.info("Authorization: Bearer abc.def-ghi")
        try:
            raise RuntimeError("login failed for s3cr@t-pw")
        except RuntimeError:
            log.exception("could not connect")
    text = caplog.text
    assert "postgresql://kehu:***@db.example:5432/kehu" in text
    assert "password=*** sslmode=require" in text
    assert "Bearer ***" in text
    assert "RuntimeError: login failed for ***" in text
    for secret in ("s3cr", "an-audit-key", "hunter22", "abc.def"):
        assert secret not in text
