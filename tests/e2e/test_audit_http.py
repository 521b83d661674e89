"""The audit trail end to end on both stores: REST and GraphQL for auditors and managers,
the envelope headers (Idempotency-Key, X-Correlation-Id, X-Causation-Id, X-Reason) in
every row, the causal chain a caller builds with them, payloads masked by role, and a
section's key refused."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from application.context import Role
from interfaces.graphql.audit import ActorRole
from tests.e2e.conftest import Served

CUSTOMER = {"kind": "individual", "name": "王芳", "phone": "13700002222"}


def post(
    served: Served, path: str, body: dict[str, Any], role: str, status: int, **headers: str
) -> dict[str, Any]:
    with served.client(role, **headers) as client:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


def get(served: Served, path: str, role: str = "auditor", status: int = 200, **params: Any) -> Any:
    with served.client(role) as client:
        response = client.get(path, params=params)
    assert response.status_code == status, response.text
    return response.json()


def graphql(served: Served, query: str, role: str = "auditor", **variables: Any) -> dict[str, Any]:
    with served.client(role, **{"X-Kehu-Min-Position": str(served.head())}) as client:
        response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return dict(response.json())


def conversation(served: Served) -> tuple[str, str]:
    """A customer registered at the front desk; a complaint lodged in conversation
    ``conv-1``, acknowledged by the manager because it was lodged, and a note of
    escalation in the same conversation that nothing caused."""
    customer = post(
        served,
        "/api/v1/customers",
        CUSTOMER,
        "information",
        201,
        **{"Idempotency-Key": "register-wang-fang", "X-Reason": quote("客户首次到店")},
    )
    lodged = post(
        served,
        "/api/v1/complaints",
        {
            "customer_id": customer["id"],
            "channel": "phone",
            "category": "delivery",
            "severity": "high",
            "description": "订单延迟两周未到货",
            "received_at": "2025-09-30T17:00:00+08:00",
        },
        "information",
        201,
        **{"Idempotency-Key": "lodge-1", "X-Correlation-Id": "conv-1"},
    )
    base = f"/api/v1/complaints/{lodged['id']}"
    post(
        served,
        f"{base}/acknowledge",
        {"at": "2025-10-09T10:00:00+08:00"},
        "manager",
        200,
        **{"Idempotency-Key": "ack-1", "X-Correlation-Id": "conv-1", "X-Causation-Id": "lodge-1"},
    )
    post(
        served,
        f"{base}/escalate",
        {"reason": "客户再次来电", "at": "2025-10-09T11:00:00+08:00"},
        "manager",
        200,
        **{"X-Correlation-Id": "conv-1"},
    )
    return customer["id"], lodged["id"]


def test_an_auditor_reads_the_trail_filtered_and_paged_over_rest(served: Served) -> None:
    customer_id, complaint_id = conversation(served)
    head = served.head()
    page = get(served, "/api/v1/audit/trail", min_position=head)
    assert {item["aggregate_type"] for item in page["items"]} == {"Customer", "Complaint"}
    assert page["total"] == len(page["items"])
    assert page["next_after"] is None
    [registered] = get(
        served, "/api/v1/audit/trail", actor_role="information", aggregate_type="Customer"
    )["items"]
    assert registered["type"] == "Customer.Registered"
    assert registered["aggregate_id"] == customer_id
    assert registered["business_time"] is not None
    assert "payload" not in registered or registered["payload"] is None
    envelope = registered["envelope"]
    assert envelope.pop("actor_id").startswith("key:")  # the API key's principal
    assert envelope == {
        "actor_role": "information",
        "command": "customers.register",
        "command_id": "register-wang-fang",  # the Idempotency-Key
        "correlation_id": "register-wang-fang",
        "causation_id": "register-wang-fang",
        "reason": "客户首次到店",
    }
    conv = get(served, "/api/v1/audit/trail", correlation_id="conv-1", limit=2)
    assert conv["total"] == 3
    assert [i["type"] for i in conv["items"]] == ["Complaint.Lodged", "Complaint.Acknowledged"]
    rest = get(
        served, "/api/v1/audit/trail", correlation_id="conv-1", limit=2, after=conv["next_after"]
    )
    assert [i["type"] for i in rest["items"]] == ["Complaint.Escalated"]
    assert rest["next_after"] is None
    by_business = get(
        served,
        "/api/v1/audit/trail",
        aggregate_id=complaint_id,
        business_from="2025-10-09T10:30:00+08:00",
        business_to="2025-10-10T00:00:00+08:00",
    )
    assert [i["type"] for i in by_business["items"]] == ["Complaint.Escalated"]
    assert by_business["items"][0]["business_time"] == "2025-10-09T03:00:00+00:00"
    nothing = get(served, "/api/v1/audit/trail", recorded_from="2999-01-01T00:00:00Z")
    assert (nothing["items"], nothing["total"]) == ([], 0)


def test_payloads_are_masked_for_roles_that_may_not_see_personal_data(served: Served) -> None:
    conversation(served)
    head = served.head()
    params: dict[str, Any] = {
        "event_type": "Customer.Registered",
        "include_payload": "true",
        "min_position": head,
    }
    [for_auditor] = get(served, "/api/v1/audit/trail", "auditor", **params)["items"]
    [for_manager] = get(served, "/api/v1/audit/trail", "manager", **params)["items"]
    assert for_manager["payload"]["phone"] == "13700002222"
    assert for_manager["payload"]["name"] == "王芳"
    assert for_auditor["payload"]["phone"] == "137****2222"
    assert for_auditor["payload"]["name"] == "王*"
    query = """
      query($first: Int!) {
        auditTrail(filter: {eventType: "Customer.Registered"}, first: $first) {
          edges { node { type payload } }
        }
      }"""
    masked = graphql(served, query, "auditor", first=5)["data"]["auditTrail"]["edges"]
    plain = graphql(served, query, "manager", first=5)["data"]["auditTrail"]["edges"]
    assert masked[0]["node"]["payload"]["phone"] == "137****2222"
    assert plain[0]["node"]["payload"]["phone"] == "13700002222"


def test_the_causal_chain_follows_the_causation_header(served: Served) -> None:
    conversation(served)
    head = served.head()
    chain = get(served, "/api/v1/audit/commands/lodge-1/chain", min_position=head)
    assert chain["command_id"] == "lodge-1"
    assert chain["total"] == 2
    assert [(i["type"], i["envelope"]["command_id"]) for i in chain["items"]] == [
        ("Complaint.Lodged", "lodge-1"),
        ("Complaint.Acknowledged", "ack-1"),
    ]
    assert chain["items"][1]["envelope"]["causation_id"] == "lodge-1"
    assert chain["items"][1]["envelope"]["actor_role"] == "manager"
    # The escalation shares the conversation, but nothing in the chain caused it.
    acknowledged = get(served, "/api/v1/audit/commands/ack-1/chain", "manager")
    assert [i["type"] for i in acknowledged["items"]] == ["Complaint.Acknowledged"]
    missing = get(served, "/api/v1/audit/commands/no-such-command/chain", status=404)
    assert missing["code"] == "not_found"


def test_graphql_lists_the_trail_as_a_connection_and_the_chain(served: Served) -> None:
    conversation(served)
    query = """
      query($after: String) {
        auditTrail(filter: {correlationId: "conv-1"}, first: 2, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node {
            position recordedAt aggregateType aggregateId version type
            actor { id role } command commandId correlationId causationId reason businessTime
          } }
        }
      }"""
    first = graphql(served, query)["data"]["auditTrail"]
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    nodes = [edge["node"] for edge in first["edges"]]
    assert [n["type"] for n in nodes] == ["Complaint.Lodged", "Complaint.Acknowledged"]
    assert nodes[1]["actor"]["role"] == "MANAGER"
    assert nodes[1]["causationId"] == "lodge-1"
    assert nodes[1]["businessTime"] == "2025-10-09T02:00:00+00:00"
    assert nodes[0]["businessTime"] == "2025-09-30T09:00:00+00:00"
    assert nodes[0]["position"] < nodes[1]["position"]
    second = graphql(served, query, after=first["pageInfo"]["endCursor"])["data"]["auditTrail"]
    assert [e["node"]["type"] for e in second["edges"]] == ["Complaint.Escalated"]
    assert second["pageInfo"]["hasNextPage"] is False

    ordered = graphql(
        served,
        """{ auditTrail(filter: {actorRole: MANAGER},
                        orderBy: {field: BUSINESS_TIME, direction: DESC}, first: 10) {
               edges { node { type actor { role } } } } }""",
    )["data"]["auditTrail"]["edges"]
    assert [e["node"]["type"] for e in ordered] == ["Complaint.Escalated", "Complaint.Acknowledged"]

    chain = graphql(
        served,
        """{ causalChain(commandId: "lodge-1") {
               totalCount edges { node { type commandId actor { id role } } } } }""",
        "manager",
    )["data"]["causalChain"]
    assert chain["totalCount"] == 2
    assert [e["node"]["commandId"] for e in chain["edges"]] == ["lodge-1", "ack-1"]


def test_a_sections_key_is_refused_and_a_missing_key_is_unauthenticated(served: Served) -> None:
    conversation(served)
    for path in ("/api/v1/audit/trail", "/api/v1/audit/commands/lodge-1/chain"):
        for role in ("credit", "information", "integrator"):
            refused = get(served, path, role, status=403)
            assert refused["code"] == "auth.forbidden"
        with served.client(None) as client:
            assert client.get(path).status_code == 401
    body = graphql(
        served, '{ auditTrail { totalCount } causalChain(commandId: "x") { totalCount } }', "credit"
    )
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"auth.forbidden"}


def test_bad_filters_are_refused_with_a_stable_code(served: Served) -> None:
    naive = get(served, "/api/v1/audit/trail", status=422, recorded_from="2025-10-09T10:00:00")
    assert naive["code"] == "validation.request"
    unknown = get(served, "/api/v1/audit/trail", status=422, actor="user:li")
    assert unknown["code"] == "validation.request"
    too_many = get(served, "/api/v1/audit/trail", status=422, limit=1001)
    assert too_many["code"] == "validation.request"
    body = graphql(
        served, '{ auditTrail(filter: {recordedFrom: "2025-10-09T10:00:00"}) { totalCount } }'
    )
    assert body["errors"][0]["extensions"]["code"] == "validation.naive_datetime"


def test_every_role_has_a_graphql_actor_role() -> None:
    assert {str(member.value) for member in ActorRole} == {role.value for role in Role}


def test_the_trail_is_in_the_openapi_document(served: Served) -> None:
    with httpx.Client(base_url=served.url) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/audit/trail" in paths
    assert "/api/v1/audit/commands/{command_id}/chain" in paths
