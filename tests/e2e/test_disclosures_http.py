"""Disclosures over HTTP on both stores: an unmasked REST read records exactly one
disclosure naming the subject and the caller, readable at ``/customers/{id}/disclosures``;
a masked read, a refused read and a read of nothing record none; a GraphQL page records
once for all its subjects. Logs never carry a phone number, an email or an ID number."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.e2e.conftest import Served

PERSON = {
    "kind": "individual",
    "name": "张伟",
    "phone": "13912345678",
    "email": "zhangwei@example.cn",
    "id_number": "11010519491231002X",
}
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def register(served: Served, **changes: Any) -> str:
    with served.client("information") as client:
        response = client.post("/api/v1/customers", json=PERSON | changes)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def disclosures_after(served: Served, position: int) -> list[Any]:
    """The disclosures recorded after ``position``, from the event store itself."""
    return [e for e in served.system.store.feed(position, 1000) if e.type == "Disclosure.Recorded"]


def test_an_unmasked_read_records_one_disclosure_naming_the_subject_and_the_actor(
    served: Served,
) -> None:
    customer_id = register(served)
    head = served.head()

    with served.client("manager", **{"X-Correlation-Id": "case-42"}) as client:
        answer = client.get(f"/api/v1/customers/{customer_id}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["phone"] == "13912345678"

    [recorded] = disclosures_after(served, head)
    assert recorded.payload["subjects"] == [customer_id]
    assert recorded.payload["via"] == "GET /api/v1/customers/{customer_id}"
    assert recorded.payload["fields"] == [
        "Customer.email",
        "Customer.id_number",
        "Customer.name",
        "Customer.phone",
    ]
    assert recorded.envelope.actor_role == "manager"
    assert recorded.envelope.correlation_id == "case-42"
    manager = served.system.keys.authenticate(served.keys["manager"])
    assert recorded.envelope.actor_id == manager.id

    with served.client("auditor") as client:
        listed = client.get(
            f"/api/v1/customers/{customer_id}/disclosures",
            params={"min_position": served.head()},
        )
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 1
    assert body["items"][0]["actor_id"] == manager.id
    assert body["items"][0]["via"] == "GET /api/v1/customers/{customer_id}"
    assert body["items"][0]["subjects"] == [customer_id]


def test_a_masked_read_records_nothing(served: Served) -> None:
    customer_id = register(served)
    head = served.head()

    with served.client("auditor") as client:
        state = client.get(f"/api/v1/customers/{customer_id}")
        history = client.get(f"/api/v1/customers/{customer_id}/history")
        feed = client.get("/api/v1/events", params={"after": 0})

    for answer in (state, history, feed):
        assert answer.status_code == 200, answer.text
    assert state.json()["phone"] == "139****5678"
    assert served.head() == head


def test_refused_and_failed_reads_record_nothing(served: Served) -> None:
    customer_id = register(served)
    head = served.head()

    with served.client("manager") as client:
        unknown = client.get(f"/api/v1/customers/{UNKNOWN}")
        unknown_history = client.get(f"/api/v1/customers/{UNKNOWN}/history")
        no_such_disclosures = client.get(f"/api/v1/customers/{UNKNOWN}/disclosures")
    with served.client("information") as client:
        forbidden_history = client.get(f"/api/v1/customers/{customer_id}/history")
        forbidden_disclosures = client.get(f"/api/v1/customers/{customer_id}/disclosures")
    with served.client(None) as client:
        anonymous = client.get(f"/api/v1/customers/{customer_id}")

    assert unknown.status_code == unknown_history.status_code == 404
    assert no_such_disclosures.status_code == 404
    assert no_such_disclosures.json()["code"] == "not_found"
    assert forbidden_history.status_code == forbidden_disclosures.status_code == 403
    assert forbidden_disclosures.json()["code"] == "auth.forbidden"
    assert anonymous.status_code == 401
    assert served.head() == head


def test_history_feed_and_audit_payloads_record_the_events_subjects(served: Served) -> None:
    customer_id = register(served)
    other = register(served, name="李娜", phone="13912345679", id_number=None, email=None)

    with served.client("admin") as client:
        head = served.head()
        assert client.get(f"/api/v1/customers/{customer_id}/history").status_code == 200
        [history] = disclosures_after(served, head)

        head = served.head()
        assert client.get("/api/v1/events", params={"after": 0}).status_code == 200
        [feed] = disclosures_after(served, head)

        head = served.head()
        trail = client.get("/api/v1/audit/trail", params={"min_position": head})
        assert trail.status_code == 200
        assert served.head() == head  # no payloads asked for: nothing personal shown
        trail = client.get(
            "/api/v1/audit/trail",
            params={"include_payload": "true", "aggregate_id": other, "min_position": head},
        )
        assert trail.status_code == 200
        [audit] = disclosures_after(served, head)

    assert history.payload["subjects"] == [customer_id]
    assert history.payload["via"] == "GET /api/v1/customers/{customer_id}/history"
    assert "Customer.Registered.id_number" in history.payload["fields"]
    assert set(feed.payload["subjects"]) == {customer_id, other}
    assert feed.payload["via"] == "GET /api/v1/events"
    assert audit.payload["subjects"] == [other]
    assert audit.payload["fields"] == ["Customer.Registered.name", "Customer.Registered.phone"]


def test_a_graphql_page_records_once_for_all_its_subjects(served: Served) -> None:
    ids = {register(served), register(served, name="李娜", phone="13912345679")}
    page = "query ($p: Int) { customers(first: 10, minPosition: $p) { edges { node { %s } } } }"

    with served.client("relationship") as client:
        head = served.head()
        named = client.post("/graphql", json={"query": page % "id name", "variables": {"p": head}})
        assert named.status_code == 200, named.text
        assert "errors" not in named.json(), named.text
        [recorded] = disclosures_after(served, head)

        head = served.head()
        plain = client.post(
            "/graphql", json={"query": page % "id status segment", "variables": {"p": head}}
        )
        assert plain.status_code == 200, plain.text
        assert "errors" not in plain.json(), plain.text
        assert served.head() == head

    assert set(recorded.payload["subjects"]) == ids
    assert recorded.payload["fields"] == ["Customer.name"]
    assert recorded.payload["via"] == "graphql customers"


def test_logs_carry_no_phone_email_or_id_number(
    served: Served, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    customer_id = register(served)

    def broken(*args: Any) -> Any:
        # An error that quotes the request body, as a database error may quote a row.
        raise RuntimeError(f"could not store {args[-1]}")

    monkeypatch.setattr(served.system.customers, "update_profile", broken)
    with served.client("information") as client:
        failed = client.post(
            f"/api/v1/customers/{customer_id}/update-profile",
            json={"phone": "13700001111", "email": "li.na@example.com.cn"},
        )
    assert failed.status_code == 500
    logging.getLogger("kehu.test").warning(
        "customer %s reached at %s, id %s", customer_id, PERSON["phone"], PERSON["id_number"]
    )

    text = caplog.text
    assert "unexpected error" in text  # the failure was logged, traceback and all
    for raw in ("13700001111", "li.na@example.com.cn", "13912345678", "11010519491231002X"):
        assert raw not in text
    for masked in ("137****1111", "l***@example.com.cn", "139****5678", "110105********002X"):
        assert masked in text
    assert customer_id in text  # ids are not personal data: they stay
