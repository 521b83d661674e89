"""Complaints end to end over HTTP on both stores: every lifecycle path."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Served

CUSTOMER = {"kind": "individual", "name": "王芳", "phone": "13700002222"}


def post(
    client: httpx.Client, path: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


def lodge(served: Served, **overrides: Any) -> tuple[str, dict[str, Any]]:
    with served.client() as client:
        customer = post(client, "/api/v1/customers", CUSTOMER, 201)
        body = {
            "customer_id": customer["id"],
            "channel": "phone",
            "category": "delivery",
            "severity": "high",
            "description": "订单延迟两周未到货",
            "remedy_sought": "尽快发货并补偿运费",
            "received_at": "2025-09-30T17:00:00+08:00",
        } | overrides
        lodged = post(client, "/api/v1/complaints", body, 201)
    return lodged["id"], lodged


def act(
    served: Served,
    complaint_id: str,
    action: str,
    body: dict[str, Any],
    status: int = 200,
    role: str = "admin",
) -> dict[str, Any]:
    with served.client(role) as client:
        return post(client, f"/api/v1/complaints/{complaint_id}/{action}", body, status)


def history_types(served: Served, complaint_id: str) -> list[str]:
    with served.client("auditor") as client:
        return [e["type"] for e in client.get(f"/api/v1/complaints/{complaint_id}/history").json()]


def test_a_complaint_is_handled_from_lodging_to_closing(served: Served) -> None:
    cid, lodged = lodge(served)
    assert lodged["events"] == ["Complaint.Lodged"]
    act(served, cid, "acknowledge", {"at": "2025-10-09T10:00:00+08:00", "note": "已致电客户"})
    act(served, cid, "assign", {"handler_id": "h01", "handler_name": "李娜"})
    act(
        served,
        cid,
        "record-investigation",
        {"findings": "仓库漏发", "at": "2025-10-09T11:00:00+08:00"},
    )
    act(served, cid, "propose-resolution", {"summary": "补发并赔偿运费", "compensation": "50.00"})
    act(served, cid, "resolve", {"summary": "已补发", "at": "2025-10-10T15:00:00+08:00"})
    act(
        served,
        cid,
        "communicate-result",
        {
            "explanation": "已补发货物",
            "reasons": "仓库漏发，已整改",
            "channel": "phone",
            "at": "2025-10-10T16:00:00+08:00",
        },
    )
    act(
        served,
        cid,
        "confirm",
        {"rating": 4, "comment": "处理及时", "at": "2025-10-11T09:00:00+08:00"},
    )
    closed = act(served, cid, "close", {"at": "2025-10-11T10:00:00+08:00"})
    assert closed["events"] == ["Complaint.Closed"]
    assert history_types(served, cid) == [
        "Complaint.Lodged",
        "Complaint.Acknowledged",
        "Complaint.Assigned",
        "Complaint.InvestigationRecorded",
        "Complaint.ResolutionProposed",
        "Complaint.Resolved",
        "Complaint.ResultCommunicated",
        "Complaint.CustomerConfirmed",
        "Complaint.Closed",
    ]
    with served.client("auditor") as client:
        state = client.get(f"/api/v1/complaints/{cid}").json()
        earlier = client.get(f"/api/v1/complaints/{cid}", params={"version": 6}).json()
    assert state["status"] == "closed"
    assert state["rating"] == 4
    assert state["compensation"] == {"amount": "50.00", "currency": "CNY"}
    assert state["description"] != "订单延迟两周未到货"  # masked for auditors
    assert earlier["status"] == "resolved"
    head = served.head()
    refused = act(served, cid, "escalate", {"reason": "客户再次来电"}, 409)
    assert refused["code"] == "complaint.already_closed"
    assert served.head() == head


def test_a_customer_reopens_and_the_complaint_is_resolved_again(served: Served) -> None:
    cid, _ = lodge(served)
    act(served, cid, "resolve", {"summary": "已补发", "at": "2025-10-10T15:00:00+08:00"})
    act(
        served,
        cid,
        "communicate-result",
        {
            "explanation": "已补发",
            "reasons": "漏发",
            "channel": "wechat",
            "at": "2025-10-10T16:00:00+08:00",
        },
    )
    reopened = act(served, cid, "reopen", {"reason": "仍未收到", "at": "2025-10-12T09:00:00+08:00"})
    assert reopened["events"] == ["Complaint.Reopened"]
    act(served, cid, "resolve", {"summary": "改为顺丰加急", "at": "2025-10-13T11:00:00+08:00"})
    act(
        served,
        cid,
        "communicate-result",
        {
            "explanation": "已加急",
            "reasons": "物流延误",
            "channel": "phone",
            "at": "2025-10-13T12:00:00+08:00",
        },
    )
    late = act(
        served, cid, "reopen", {"reason": "再次投诉", "at": "2025-11-30T09:00:00+08:00"}, 409
    )
    assert late["code"] == "complaint.reopen_window_passed"
    assert history_types(served, cid).count("Complaint.Resolved") == 2


def test_waiting_on_the_customer_pauses_and_resumes(served: Served) -> None:
    cid, _ = lodge(served)
    act(served, cid, "pause", {"reason": "等待客户提供照片", "at": "2025-10-09T10:00:00+08:00"})
    head = served.head()
    refused = act(served, cid, "resolve", {"summary": "x", "at": "2025-10-09T11:00:00+08:00"}, 409)
    assert refused["code"] == "complaint.transition_refused"
    assert served.head() == head
    again = act(served, cid, "pause", {"reason": "again", "at": "2025-10-09T11:00:00+08:00"}, 409)
    assert again["code"] == "complaint.already_paused"
    act(served, cid, "resume", {"at": "2025-10-10T10:00:00+08:00"})
    act(served, cid, "resolve", {"summary": "已处理", "at": "2025-10-10T11:00:00+08:00"})
    assert history_types(served, cid)[-3:] == [
        "Complaint.Paused",
        "Complaint.Resumed",
        "Complaint.Resolved",
    ]


def test_a_customer_may_withdraw_a_complaint(served: Served) -> None:
    cid, _ = lodge(served)
    act(served, cid, "withdraw", {"reason": "客户已自行解决", "at": "2025-10-09T10:00:00+08:00"})
    refused = act(served, cid, "acknowledge", {"at": "2025-10-09T11:00:00+08:00"}, 409)
    assert refused["code"] == "complaint.transition_refused"


def test_escalation_goes_up_one_level_at_a_time_to_three(served: Served) -> None:
    cid, _ = lodge(served)
    for level in (1, 2, 3):
        act(
            served,
            cid,
            "escalate",
            {"reason": f"第{level}次升级", "at": "2025-10-09T10:00:00+08:00"},
        )
    refused = act(served, cid, "escalate", {"reason": "再升级"}, 409)
    assert refused["code"] == "complaint.escalation_refused"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"channel": "fax"}, "validation.request"),
        ({"severity": "urgent"}, "validation.request"),
        ({"received_at": "2025-09-30T17:00:00"}, "validation.request"),
        ({"customer_id": str(uuid.uuid4())}, "not_found"),
    ],
    ids=["unknown-channel", "unknown-severity", "naive-time", "unknown-customer"],
)
def test_a_bad_complaint_is_refused_and_records_nothing(
    served: Served, body: dict[str, Any], code: str
) -> None:
    with served.client() as client:
        customer = post(client, "/api/v1/customers", CUSTOMER, 201)
        head = served.head()
        response = client.post(
            "/api/v1/complaints",
            json={
                "customer_id": customer["id"],
                "channel": "phone",
                "category": "delivery",
                "severity": "high",
                "description": "x",
                "received_at": "2025-09-30T17:00:00+08:00",
            }
            | body,
        )
    assert response.json()["code"] == code
    assert response.status_code in (404, 422)
    assert served.head() == head


def test_a_relationship_clerk_may_not_handle_complaints(served: Served) -> None:
    cid, _ = lodge(served)
    head = served.head()
    refused = act(served, cid, "acknowledge", {}, 403, role="marketing")
    assert refused["code"] == "auth.forbidden"
    assert served.head() == head


def test_graphql_shows_the_deadlines_on_the_mainland_calendar(served: Served) -> None:
    cid, lodged = lodge(served)
    query = """query($id: ID!, $p: Int, $asOf: DateTime) {
      complaint(id: $id, minPosition: $p, asOf: $asOf) {
        status severity responseDueAt resolutionDueAt breached businessHoursElapsed paused } }"""
    with served.client("auditor") as client:
        answer = client.post(
            "/graphql",
            json={
                "query": query,
                "variables": {
                    "id": cid,
                    "p": lodged["position"],
                    "asOf": "2025-10-09T11:00:00+08:00",
                },
            },
        ).json()
    complaint = answer["data"]["complaint"]
    assert complaint["responseDueAt"] == "2025-10-09T12:00:00+08:00"
    assert complaint["resolutionDueAt"] == "2025-10-11T17:00:00+08:00"
    assert complaint["businessHoursElapsed"] == "3"
    assert complaint["breached"] is False
    assert complaint["severity"] == "HIGH"


def test_graphql_lists_complaints_by_filter_with_sla_statistics(served: Served) -> None:
    cid, _ = lodge(served)
    lodge(served, severity="low", channel="wechat")
    act(served, cid, "resolve", {"summary": "已补发", "at": "2025-10-09T10:00:00+08:00"})
    head = served.head()
    query = """{
      high: complaints(filter: {severity: [HIGH]}) {
        totalCount edges { node { id status resolvedAt } } }
      breached: complaints(filter: {breached: true}) { totalCount }
      stats: slaStatistics(from: "2025-09-01T00:00:00+08:00", to: "2025-10-01T00:00:00+08:00",
                           groupBy: CHANNEL) {
        total { complaints resolved onTime onTimeRate medianHours }
        groups { key complaints } } }"""
    with served.client() as client:
        # The header applies the read-your-writes wait to every field of the query.
        data = client.post(
            "/graphql", json={"query": query}, headers={"X-Kehu-Min-Position": str(head)}
        ).json()["data"]
    assert data["high"]["totalCount"] == 1
    assert data["high"]["edges"][0]["node"]["id"] == cid
    assert data["high"]["edges"][0]["node"]["status"] == "RESOLVED"
    assert data["breached"]["totalCount"] == 1  # the low one is long overdue by now
    assert data["stats"]["total"] == {
        "complaints": 2,
        "resolved": 1,
        "onTime": 1,
        "onTimeRate": "100.0",
        "medianHours": "2.00",
    }
    assert {g["key"]: g["complaints"] for g in data["stats"]["groups"]} == {"phone": 1, "wechat": 1}
