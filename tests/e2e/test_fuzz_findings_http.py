"""Regressions for what the schema fuzzers found (tests/fuzz): each was a 500."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.e2e.conftest import Served

TOO_BIG = 2**53  # one past the largest integer a JSON client holds exactly


def register(served: Served) -> str:
    with served.client() as client:
        response = client.post(
            "/api/v1/customers",
            json={"kind": "individual", "name": "王芳", "phone": "13712345678"},
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/customers/{id}", "version"),
        ("/api/v1/customers/{id}/history", "after_version"),
        ("/api/v1/complaints/{other}", "version"),
        ("/api/v1/contracts/{other}/history", "after_version"),
        ("/api/v1/events", "after"),
        ("/api/v1/audit/trail", "after"),
        ("/api/v1/audit/trail", "offset"),
        ("/api/v1/audit/trail", "min_position"),
        ("/api/v1/audit/commands/some-command/chain", "offset"),
        ("/api/v1/audit/commands/some-command/chain", "min_position"),
    ],
)
def test_a_number_past_2_to_the_53_in_a_query_is_a_422_not_a_500(
    served: Served, path: str, parameter: str
) -> None:
    url = path.format(id=register(served), other=uuid.uuid4())
    served.system.settings.min_position_timeout = 0.3
    with served.client() as client:
        response = client.get(url, params={parameter: TOO_BIG})
        largest = client.get(url, params={parameter: TOO_BIG - 1})
        beyond_64_bits = client.get(url, params={parameter: 2**64})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation.request"
    assert parameter in response.json()["detail"]
    # the largest allowed min_position is waited for: the documented 504 after the timeout
    assert largest.status_code in ({504} if parameter == "min_position" else {200, 404})
    assert beyond_64_bits.status_code == 422


def test_a_graphql_cursor_past_2_to_the_53_is_refused_as_invalid(served: Served) -> None:
    cursor = base64.urlsafe_b64encode(f"o:{TOO_BIG}".encode()).decode()
    with served.client() as client:
        response = client.post(
            "/graphql",
            json={
                "query": "query ($after: String) { customers(after: $after) { totalCount } }",
                "variables": {"after": cursor},
            },
        )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "validation.invalid_cursor"


@pytest.mark.parametrize(
    "value",
    [b"9" * 5000, b"\xb2", str(TOO_BIG).encode()],
    ids=["5000 digits", "superscript two", "past 2^53"],
)
def test_an_if_match_that_is_no_version_is_a_400_and_records_nothing(
    served: Served, value: bytes
) -> None:
    customer_id = register(served)
    before = served.head()
    with served.client(**{"If-Match": value}) as client:  # type: ignore[arg-type]
        response = client.post(
            f"/api/v1/customers/{customer_id}/update-profile", json={"name": "王芳芳"}
        )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "precondition.invalid_if_match"
    assert served.head() == before


@pytest.mark.parametrize(
    "value", [b"9" * 5000, b"\xb2", str(TOO_BIG).encode()], ids=["5000 digits", "²", "2^53"]
)
def test_a_graphql_min_position_header_that_is_no_position_is_a_400(
    served: Served, value: bytes
) -> None:
    with served.client(**{"X-Kehu-Min-Position": value}) as client:  # type: ignore[arg-type]
        response = client.post("/graphql", json={"query": "{ customers { totalCount } }"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation.min_position"


# PostgreSQL text cannot hold NUL: a filter holding one was a 500 there, and a name holding
# one was stored in the event and then stopped every read model for good.


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "individual", "name": "王\u0000芳", "phone": "13712345678"},
        {"kind": "individual", "name": "王芳", "phone": "13712345678", "tags": ["a\u0000"]},
    ],
    ids=["name", "tag"],
)
def test_a_nul_character_in_a_body_is_a_422_and_records_nothing(
    served: Served, body: dict[str, object]
) -> None:
    before = served.head()
    with served.client() as client:
        response = client.post("/api/v1/customers", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation.request"
    assert "NUL" in response.json()["detail"]
    assert served.head() == before


def test_a_nul_character_in_x_reason_is_a_422_and_records_nothing(served: Served) -> None:
    before = served.head()
    with served.client(**{"X-Reason": "%E8%B5%84%00"}) as client:
        response = client.post(
            "/api/v1/customers",
            json={"kind": "individual", "name": "王芳", "phone": "13712345678"},
        )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation.request"
    assert served.head() == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/audit/trail?actor_id=%00",
        "/api/v1/contracts/by-number/HT%00-1",
        "/api/v1/events?x%00=1",
    ],
)
def test_a_nul_character_in_the_path_or_query_is_a_422(served: Served, url: str) -> None:
    with served.client() as client:
        response = client.get(url)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation.request"


@pytest.mark.parametrize("as_variable", [False, True], ids=["literal", "variable"])
def test_a_nul_character_in_graphql_text_is_refused(served: Served, as_variable: bool) -> None:
    if as_variable:
        body = {
            "query": "query ($n: String) { customers(filter: {nameContains: $n}) { totalCount } }",
            "variables": {"n": "青\u0000禾"},
        }
    else:
        body = {"query": '{ customers(filter: {nameContains: "青\\u0000禾"}) { totalCount } }'}
    with served.client() as client:
        answer = client.post("/graphql", json=body).json()
    assert answer.get("data") is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["validation.nul_character"]


def test_the_read_models_take_in_everything_after_nul_refusals(served: Served) -> None:
    with served.client(**{"X-Reason": "%00"}) as client:
        client.post("/api/v1/customers", json={"kind": "individual", "name": "王\u0000芳"})
    register(served)
    with served.client() as client:  # the running read models reach the head in time
        answer = client.post(
            "/graphql",
            json={"query": "{ customers { totalCount } }"},
            headers={"X-Kehu-Min-Position": str(served.head())},
        ).json()
    assert answer == {"data": {"customers": {"totalCount": 1}}}
