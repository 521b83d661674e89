"""Credit control end to end on both stores: a blocked order is a 409 with a stable code
and a recorded decision, the four-eyes rule over HTTP, and the credit read side in
GraphQL (exposure now and as of a past time, ageing, explanation, risk register)."""

from __future__ import annotations

from typing import Any

import httpx

from application.context import CommandContext, Role
from tests.e2e.conftest import OPERATOR, Served

INPUTS: dict[str, Any] = {
    "invoices_paid_on_time": 50,
    "invoices_paid_late": 0,
    "overdue_count_12m": 0,
    "max_overdue_days": 0,
    "total_assets": "8000000.00",
    "total_liabilities": "2000000.00",
    "current_assets": "3000000.00",
    "current_liabilities": "1000000.00",
    "annual_revenue": "12000000.00",
    "net_profit": "1500000.00",
    "relationship_months": 72,
}


def call(
    served: Served,
    path: str,
    body: dict[str, Any],
    status: int = 200,
    role: str = "credit",
    **headers: str,
) -> dict[str, Any]:
    with served.client(role, **headers) as client:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


def graphql(served: Served, query: str, position: int, role: str = "auditor") -> dict[str, Any]:
    with served.client(role, **{"X-Kehu-Min-Position": str(position)}) as client:
        response = client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def open_profile(served: Served, limit: str = "100000.00") -> tuple[str, str]:
    customer = call(
        served,
        "/api/v1/customers",
        {"kind": "individual", "name": "郑强", "phone": "13700002222"},
        201,
        role="information",
    )
    profile = call(
        served,
        "/api/v1/credit-profiles",
        {"customer_id": customer["id"], "at": "2026-03-01T09:00:00+08:00"},
        201,
    )
    base = f"/api/v1/credit-profiles/{profile['id']}"
    call(served, f"{base}/assess", {"inputs": INPUTS, "at": "2026-03-01T10:00:00+08:00"})
    call(
        served,
        f"{base}/set-limit",
        {
            "limit": limit,
            "term_days": 30,
            "reason": "首次授信",
            "at": "2026-03-01T11:00:00+08:00",
        },
    )
    return customer["id"], base


def test_a_blocked_order_is_a_409_with_its_decision_recorded_and_passes_after_payment(
    served: Served,
) -> None:
    customer_id, base = open_profile(served)
    call(
        served,
        f"{base}/check-order",
        {"order_id": "SO-1", "amount": "80000.00", "at": "2026-03-02T10:00:00+08:00"},
    )
    call(
        served,
        f"{base}/record-invoice",
        {
            "invoice_id": "INV-1",
            "order_id": "SO-1",
            "amount": "80000.00",
            "invoiced_on": "2026-03-02",
            "at": "2026-03-02T11:00:00+08:00",
        },
    )
    head = served.head()
    order = {"order_id": "SO-2", "amount": "30000.00", "at": "2026-03-03T10:00:00+08:00"}
    blocked = call(served, f"{base}/check-order", order, 409, **{"Idempotency-Key": "so-2-a"})
    assert blocked["code"] == "credit.limit_exceeded"
    assert blocked["decision"] == "blocked_by_limit"
    assert blocked["available"] == "20000.00 CNY"
    # The refusal is on record: its decision, and the Idempotency-Key's receipt.
    assert served.head() == head + 2
    assert blocked["position"] == served.head()
    replay = call(served, f"{base}/check-order", order, 409, **{"Idempotency-Key": "so-2-a"})
    assert replay == blocked
    assert served.head() == head + 2

    call(
        served,
        f"{base}/record-payment",
        {"invoice_id": "INV-1", "amount": "80000.00", "at": "2026-03-04T10:00:00+08:00"},
    )
    approved = call(
        served,
        f"{base}/check-order",
        order | {"at": "2026-03-05T10:00:00+08:00"},
    )
    assert approved["events"] == ["CreditProfile.OrderApproved"]

    data = graphql(
        served,
        f"""{{
          creditProfile(customerId: "{customer_id}") {{
            limit {{ amount currency }} reserved {{ amount }} used {{ amount }}
            available {{ amount }} utilisationPercent rating score explanation
            factors {{ name points maxPoints }}
            before: exposureAsOf(asOf: "2026-03-03T12:00:00+08:00") {{
              used {{ amount }} available {{ amount }} utilisationPercent
            }}
            ageing {{ bucket amount {{ amount }} invoices }}
          }}
          creditChecks(filter: {{blocked: true}}) {{
            totalCount edges {{ node {{ orderId decision available {{ amount }} }} }}
          }}
          creditRatingDistribution {{ rating count }}
        }}""",
        approved["position"],
    )
    profile = data["creditProfile"]
    assert profile["limit"] == {"amount": "100000.00", "currency": "CNY"}
    assert profile["reserved"]["amount"] == "30000.00"
    assert profile["used"]["amount"] == "0.00"
    assert profile["available"]["amount"] == "70000.00"
    assert profile["utilisationPercent"] == "30.00"
    assert profile["rating"] == "AAA"
    assert sum(f["points"] for f in profile["factors"]) == profile["score"]
    assert "付款记录" in profile["explanation"]
    assert profile["before"] == {
        "used": {"amount": "80000.00"},
        "available": {"amount": "20000.00"},
        "utilisationPercent": "80.00",
    }
    assert [b["bucket"] for b in profile["ageing"]] == ["0-30", "31-60", "61-90", "90+"]
    checks = data["creditChecks"]
    assert checks["totalCount"] == 1
    assert checks["edges"][0]["node"] == {
        "orderId": "SO-2",
        "decision": "BLOCKED_BY_LIMIT",
        "available": {"amount": "20000.00"},
    }
    distribution = {d["rating"]: d["count"] for d in data["creditRatingDistribution"]}
    assert distribution["AAA"] == 1


def test_the_requester_of_a_large_limit_cannot_approve_it(served: Served) -> None:
    _, base = open_profile(served)
    request = call(
        served,
        f"{base}/set-limit",
        {"limit": "5000000.00", "term_days": 60, "reason": "战略合作", "request_id": "LC-7"},
        role="manager",
    )
    assert request["events"] == ["CreditProfile.LimitChangeRequested"]
    head = served.head()
    own = call(served, f"{base}/approve-limit-change", {"request_id": "LC-7"}, 409, role="manager")
    assert own["code"] == "credit.four_eyes"
    section = call(
        served, f"{base}/approve-limit-change", {"request_id": "LC-7"}, 403, role="credit"
    )
    assert section["code"] == "auth.forbidden"
    assert served.head() == head
    token, _ = served.system.keys.issue(
        CommandContext.for_principal(OPERATOR), Role.MANAGER, "second manager"
    )
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"}) as c:
        approved = c.post(f"{base}/approve-limit-change", json={"request_id": "LC-7"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["events"] == ["CreditProfile.LimitSet"]
    with served.client("auditor") as client:
        state = client.get(base).json()
    assert state["limit"] == {"amount": "5000000.00", "currency": "CNY"}


def test_bad_credit_input_is_refused_and_changes_nothing(served: Served) -> None:
    _, base = open_profile(served)
    head = served.head()
    for body, status, code in [
        ({"order_id": "SO-1", "amount": 100.5}, 422, "validation.request"),
        ({"order_id": "SO-1", "amount": "-1"}, 422, "validation.request"),
        ({"order_id": "S O", "amount": "1"}, 422, "validation.request"),
        ({"order_id": "SO-1", "amount": "1", "at": "2026-03-01T10:00:00"}, 422, None),
    ]:
        refused = call(served, f"{base}/check-order", body, status)
        if code:
            assert refused["code"] == code
    bad_inputs = {"inputs": INPUTS | {"relationship_months": -1}}
    assert call(served, f"{base}/assess", bad_inputs, 422)["code"] == "validation.request"
    assert call(served, f"{base}/unblock", {"reason": "x"}, 409)["code"] == "credit.block_state"
    risky = {
        "dimension": "market",
        "description": "x",
        "likelihood": 6,
        "impact": 1,
        "response": "accept",
        "owner": "x",
        "review_on": "2026-09-01",
    }
    assert call(served, f"{base}/assess-risk", risky, 422, role="risk")["code"] == (
        "validation.request"
    )
    assert call(served, f"{base}/assess-risk", risky | {"likelihood": 5}, 403)["code"] == (
        "auth.forbidden"
    )
    assert served.head() == head


def test_the_risk_register_in_graphql(served: Served) -> None:
    customer_id, base = open_profile(served)
    result = call(
        served,
        f"{base}/assess-risk",
        {
            "risk_id": "R-1",
            "dimension": "financial",
            "description": "应收账款集中",
            "likelihood": 3,
            "impact": 4,
            "response": "transfer",
            "owner": "孙丽",
            "review_on": "2030-01-01",
        },
        role="risk",
    )
    data = graphql(
        served,
        """{ riskRegister(filter: {level: [HIGH]}) {
              totalCount edges { node { riskId customerId level dimension response owner } }
        } }""",
        result["position"],
    )
    assert data["riskRegister"]["totalCount"] == 1
    assert data["riskRegister"]["edges"][0]["node"] == {
        "riskId": "R-1",
        "customerId": customer_id,
        "level": "HIGH",
        "dimension": "FINANCIAL",
        "response": "TRANSFER",
        "owner": "孙丽",
    }
