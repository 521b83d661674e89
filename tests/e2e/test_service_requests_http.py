"""Service requests end to end on both stores: lifecycle over HTTP, SLA clock in GraphQL."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Served


def post(
    served: Served, path: str, body: dict[str, Any], status: int = 200, role: str = "admin"
) -> dict[str, Any]:
    with served.client(role) as client:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


def open_request(served: Served, **overrides: Any) -> dict[str, Any]:
    customer = post(
        served,
        "/api/v1/customers",
        {"kind": "individual", "name": "孙丽", "phone": "13500001111"},
        201,
    )
    return post(
        served,
        "/api/v1/service-requests",
        {
            "customer_id": customer["id"],
            "request_type": "technical_support",
            "channel": "online",
            "priority": "medium",
            "description": "系统无法登录",
            "received_at": "2025-09-30T17:00:00+08:00",
        }
        | overrides,
        201,
    )


def test_a_service_request_is_received_answered_resolved_rated_and_closed(served: Served) -> None:
    opened = open_request(served)
    rid = opened["id"]
    base = f"/api/v1/service-requests/{rid}"
    post(served, f"{base}/assign", {"handler_id": "s01", "handler_name": "周杰"})
    post(served, f"{base}/respond", {"at": "2025-10-09T09:30:00+08:00"})
    post(served, f"{base}/pause", {"reason": "等待客户截图", "at": "2025-10-09T10:00:00+08:00"})
    post(served, f"{base}/resume", {"at": "2025-10-10T10:00:00+08:00"})
    post(served, f"{base}/resolve", {"summary": "重置密码", "at": "2025-10-10T11:00:00+08:00"})
    post(served, f"{base}/rate", {"rating": 5, "at": "2025-10-10T12:00:00+08:00"})
    head = served.head()
    twice = post(served, f"{base}/rate", {"rating": 4}, 409)
    assert twice["code"] == "service_request.already_rated"
    assert served.head() == head
    closed = post(served, f"{base}/close", {"at": "2025-10-10T13:00:00+08:00"})
    with served.client("auditor") as client:
        types = [e["type"] for e in client.get(f"{base}/history").json()]
        state = client.get(base).json()
        answer = client.post(
            "/graphql",
            json={
                "query": """query($id: ID!, $p: Int) {
            serviceRequest(id: $id, minPosition: $p) {
              status priority requestType responseDueAt resolutionDueAt breached
              businessHoursElapsed rating handler { name } } }""",
                "variables": {"id": rid, "p": closed["position"]},
            },
        ).json()
    assert types == [
        "ServiceRequest.Opened",
        "ServiceRequest.Assigned",
        "ServiceRequest.Responded",
        "ServiceRequest.Paused",
        "ServiceRequest.Resumed",
        "ServiceRequest.Resolved",
        "ServiceRequest.FeedbackGiven",
        "ServiceRequest.Closed",
    ]
    assert state["status"] == "closed"
    node = answer["data"]["serviceRequest"]
    # Medium: 8 business hours to respond, 5 days of 8 to resolve. Received 9-30 17:00;
    # 1 hour that day, then 10-09 09:00–12:00 and 13:00–17:00: response due 10-09 17:00
    # (the pause came after the response, so it does not move that deadline).
    assert node["responseDueAt"] == "2025-10-09T17:00:00+08:00"
    assert node["breached"] is False
    # 1 (9-30) + 1 (10-09 09:00–10:00) + 1 (10-10 10:00–11:00) = 3; the pause does not count.
    assert node["businessHoursElapsed"] == "3"
    assert node["status"] == "CLOSED"
    assert node["rating"] == 5
    assert node["handler"] == {"name": "周杰"}


def test_a_cancelled_request_refuses_further_work(served: Served) -> None:
    rid = open_request(served)["id"]
    post(served, f"/api/v1/service-requests/{rid}/cancel", {"reason": "客户自行解决"})
    head = served.head()
    refused = post(served, f"/api/v1/service-requests/{rid}/respond", {}, 409)
    assert refused["code"] == "service_request.transition_refused"
    assert served.head() == head


def test_the_complaints_section_may_not_handle_service_requests(served: Served) -> None:
    rid = open_request(served)["id"]
    head = served.head()
    refused = post(served, f"/api/v1/service-requests/{rid}/respond", {}, 403, role="marketing")
    assert refused["code"] == "auth.forbidden"
    assert served.head() == head


def test_overdue_requests_are_listed_as_breached(served: Served) -> None:
    open_request(served)
    done = open_request(served, priority="low")
    post(
        served,
        f"/api/v1/service-requests/{done['id']}/resolve",
        {"summary": "ok", "at": "2025-10-09T10:00:00+08:00"},
    )
    with served.client() as client:
        data = client.post(
            "/graphql",
            json={
                "query": """{
            breached: serviceRequests(filter: {breached: true}) { totalCount edges { node { priority } } }
            onTime: serviceRequests(filter: {breached: false}) { totalCount } }"""
            },
            headers={"X-Kehu-Min-Position": str(served.head())},
        ).json()["data"]
    assert data["breached"]["totalCount"] == 1
    assert data["breached"]["edges"][0]["node"]["priority"] == "MEDIUM"
    assert data["onTime"]["totalCount"] == 1
