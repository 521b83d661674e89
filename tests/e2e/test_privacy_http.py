"""A person's PIPL rights over HTTP: copy, correction, restriction, erasure."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tests.e2e.conftest import Served

PERSON = {
    "kind": "individual",
    "name": "上官测试",
    "phone": "13955556666",
    "email": "shangguan@example.cn",
}


def register(served: Served) -> str:
    with served.client("information") as client:
        response = client.post("/api/v1/customers", json=PERSON)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def post(served: Served, role: str, path: str, body: dict[str, Any]) -> Any:
    with served.client(role) as client:
        return client.post(path, json=body)


def test_the_copy_is_recorded_with_the_checksum_of_what_was_given(served: Served) -> None:
    customer = register(served)
    response = post(
        served, "legal", f"/api/v1/customers/{customer}/privacy/copy", {"request_id": "R-1"}
    )
    assert response.status_code == 200, response.text
    assert hashlib.sha256(response.content).hexdigest() == response.headers["X-Kehu-Sha256"]
    data = json.loads(response.content)
    assert data["records"][0]["state"]["name"] == PERSON["name"]
    document = post(
        served,
        "legal",
        f"/api/v1/customers/{customer}/privacy/copy",
        {"request_id": "R-2", "format": "markdown"},
    )
    assert document.headers["content-type"].startswith("text/markdown")
    assert PERSON["name"] in document.text
    with served.client("admin") as client:
        history = client.get(f"/api/v1/customers/{customer}/history").json()
    provided = [e for e in history if e["type"] == "Customer.DataCopyProvided"]
    assert [(e["payload"]["format"], e["payload"]["sha256"]) for e in provided] == [
        ("json", response.headers["X-Kehu-Sha256"]),
        ("markdown", hashlib.sha256(document.content).hexdigest()),
    ]


def test_refusals_are_problems_with_stable_codes_and_record_nothing(served: Served) -> None:
    customer = register(served)
    base = f"/api/v1/customers/{customer}/privacy"
    head = served.head()
    refused = post(served, "marketing", f"{base}/erase", {"request_id": "R", "reason": "x"})
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.forbidden")
    invalid = post(served, "legal", f"{base}/correct", {"request_id": "R", "phone": "123"})
    assert (invalid.status_code, invalid.json()["code"]) == (422, "validation.invalid_phone")
    assert served.head() == head

    assert post(served, "legal", f"{base}/restrict", {"request_id": "R", "reason": "x"}).is_success
    head = served.head()
    blocked = post(
        served,
        "information",
        f"/api/v1/customers/{customer}/update-profile",
        {"segment": "VIP"},
    )
    assert (blocked.status_code, blocked.json()["code"]) == (409, "privacy.processing_restricted")
    assert served.head() == head

    erased = post(served, "manager", f"{base}/erase", {"request_id": "R", "reason": "asked"})
    assert erased.status_code == 200, erased.text
    again = post(served, "manager", f"{base}/erase", {"request_id": "R", "reason": "asked"})
    assert (again.status_code, again.json()["code"]) == (409, "customer.erased")
    with served.client("admin") as client:
        state = client.get(f"/api/v1/customers/{customer}").json()
    assert (state["name"], state["phone"], state["email"]) == ("[erased]",) * 3
