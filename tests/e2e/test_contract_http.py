"""Contracts end to end on both stores: drafted, reviewed by legal (and only legal or the
manager), signed, amended, breached, ended, settled and handed over over HTTP; refusals
are problem documents with stable codes that change nothing; the read side in GraphQL
answers what the contract said on any date."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.e2e.conftest import Served

TERMS: dict[str, Any] = {
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
    "amount": "240000.00",
    "payment_schedule": [
        {"number": 1, "due_date": "2026-01-15", "amount": "120000.00"},
        {"number": 2, "due_date": "2026-07-15", "amount": "120000.00"},
    ],
    "delivery": {"description": "软件实施及培训", "due_date": "2026-03-31"},
    "rectification_days": 15,
    "confidentiality_years": 3,
    "penalty_rate": "0.05",
    "dispute_resolution": {"method": "court", "body": "杭州市西湖区人民法院"},
}


def post(
    served: Served, path: str, body: dict[str, Any], status: int = 200, role: str = "relationship"
) -> dict[str, Any]:
    with served.client(role) as client:
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


def draft_body(customer_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "number": "HT-2026-E2E",
        "title": "客户关系管理系统实施合同",
        "party_a": {"kind": "customer", "customer_id": customer_id, "signatories": ["郑强"]},
        "party_b": {
            "kind": "organisation",
            "name": "杭州客乎科技有限公司",
            "signatories": ["刘建国"],
        },
        "terms": TERMS,
        "leading_party": "b",
        "at": "2025-12-01T09:00:00+08:00",
        **changes,
    }


def test_a_contract_over_http_from_draft_to_hand_over(served: Served) -> None:
    customer = post(
        served,
        "/api/v1/customers",
        {"kind": "individual", "name": "郑强", "phone": "13700002222"},
        201,
        role="information",
    )
    head = served.head()
    # Refused input: a JSON number for money, a schedule that does not add up, a bad rate.
    bad_money = post(
        served,
        "/api/v1/contracts",
        draft_body(customer["id"], terms={**TERMS, "amount": 240000}),
        422,
    )
    assert bad_money["code"] == "validation.request"
    short = post(
        served,
        "/api/v1/contracts",
        draft_body(customer["id"], terms={**TERMS, "amount": "240000.01"}),
        422,
    )
    assert short["code"] == "contract.schedule_does_not_add_up"
    steep = post(
        served,
        "/api/v1/contracts",
        draft_body(customer["id"], terms={**TERMS, "penalty_rate": "0.5"}),
        422,
    )
    assert steep["code"] == "contract.invalid_field"
    assert served.head() == head

    created = post(served, "/api/v1/contracts", draft_body(customer["id"]), 201)
    assert created["events"] == ["Contract.Drafted"]
    base = f"/api/v1/contracts/{created['id']}"
    again = post(served, "/api/v1/contracts", draft_body(customer["id"], number="ht-2026-e2e"), 409)
    assert again["code"] == "conflict.already_exists"
    with served.client("auditor") as client:
        found = client.get("/api/v1/contracts/by-number/ht-2026-e2e").json()
    assert found == {"id": created["id"], "number": "HT-2026-E2E"}

    post(served, f"{base}/submit-for-review", {"at": "2025-12-02T09:00:00+08:00"})
    head = served.head()
    forbidden = post(served, f"{base}/approve", {"at": "2025-12-03T09:00:00+08:00"}, 403)
    assert forbidden["code"] == "auth.forbidden"
    assert served.head() == head
    post(
        served,
        f"{base}/approve",
        {"comments": "条款符合范本", "at": "2025-12-03T09:00:00+08:00"},
        role="legal",
    )
    post(
        served,
        f"{base}/sign",
        {
            "party": "b",
            "signatory": "刘建国",
            "method": "seal",
            "signed_at": "2025-12-05T10:00:00+08:00",
        },
    )
    unauthorised = post(
        served,
        f"{base}/sign",
        {
            "party": "a",
            "signatory": "王五",
            "method": "seal",
            "signed_at": "2025-12-06T10:00:00+08:00",
        },
        409,
    )
    assert unauthorised["code"] == "contract.signatory_not_authorised"
    signed = post(
        served,
        f"{base}/sign",
        {
            "party": "a",
            "signatory": "郑强",
            "method": "e_signature",
            "signed_at": "2025-12-06T10:00:00+08:00",
        },
    )
    assert "Contract.SigningCompleted" in signed["events"]

    post(
        served,
        f"{base}/propose-amendment",
        {
            "number": 1,
            "changes": {"penalty_rate": "0.08"},
            "effective_date": "2026-04-01",
            "reason": "提高违约金比例",
            "at": "2026-03-20T10:00:00+08:00",
        },
    )
    for party, who in (("a", "郑强"), ("b", "刘建国")):
        post(
            served,
            f"{base}/sign-amendment",
            {
                "number": 1,
                "party": party,
                "signatory": who,
                "method": "seal",
                "signed_at": "2026-03-21T10:00:00+08:00",
            },
        )
    post(
        served,
        f"{base}/record-payment",
        {"instalment": 1, "amount": "120000.00", "paid_on": "2026-01-14"},
        role="credit",
    )
    overpaid = post(
        served,
        f"{base}/record-payment",
        {"instalment": 1, "amount": "0.01", "paid_on": "2026-01-20"},
        409,
        role="credit",
    )
    assert overpaid["code"] == "contract.overpayment"
    breach = post(
        served,
        f"{base}/record-breach",
        {
            "party": "b",
            "description": "实施延期",
            "base": "33333.33",
            "at": "2026-05-01T10:00:00+08:00",
        },
    )

    # The auditor sees the history, with the customer's name masked.
    with served.client("auditor") as client:
        history = client.get(f"{base}/history").json()
        now = client.get(base).json()
        before = client.get(base, params={"version": signed["version"]}).json()
    recorded = next(e for e in history if e["type"] == "Contract.BreachRecorded")
    assert recorded["position"] == breach["position"]
    assert recorded["payload"]["penalty"] == {"amount": "2666.67", "currency": "CNY"}
    assert recorded["payload"]["rounding"] == "ROUND_HALF_UP"
    assert now["customer_names"]["a"] != "郑强"
    assert now["terms_version"] == 2
    assert before["terms_version"] == 1

    data = graphql(
        served,
        f"""{{
          contract(id: "{created["id"]}") {{
            number status termsVersion
            before: termsAsOf(on: "2026-03-31") {{ penaltyRate }}
            after: termsAsOf(on: "2026-04-01") {{ penaltyRate }}
          }}
        }}""",
        breach["position"],
    )
    contract = data["contract"]
    assert contract["number"] == "HT-2026-E2E"
    assert contract["termsVersion"] == 2
    assert contract["before"]["penaltyRate"] == "0.05"
    assert contract["after"]["penaltyRate"] == "0.08"

    lists = graphql(
        served,
        f"""{{
          inForce: contracts(filter: {{status: [SIGNED, IN_FORCE], customerId: "{customer["id"]}"}}) {{
            totalCount edges {{ node {{ number partyA {{ name }} }} }}
          }}
          drafts: contracts(filter: {{status: [DRAFT]}}) {{ totalCount }}
          contractPipeline {{ status count totals {{ amount currency }} }}
          contractPaymentsDue(from: "2026-07-01", to: "2026-07-31", today: "2026-08-01") {{
            totalCount edges {{ node {{ instalment outstanding {{ amount }} overdue daysOverdue }} }}
          }}
          contractBreaches(filter: {{party: B}}) {{
            totalCount edges {{ node {{ penalty {{ amount }} }} }}
          }}
        }}""",
        breach["position"],
    )
    assert lists["inForce"]["totalCount"] == 1
    [node] = [edge["node"] for edge in lists["inForce"]["edges"]]
    assert node["partyA"]["name"] != "郑强"  # masked for the auditor
    assert lists["drafts"]["totalCount"] == 0
    signed_stage = next(s for s in lists["contractPipeline"] if s["status"] == "SIGNED")
    assert signed_stage["count"] == 1
    assert signed_stage["totals"] == [{"amount": "240000.00", "currency": "CNY"}]
    [due] = [edge["node"] for edge in lists["contractPaymentsDue"]["edges"]]
    assert due == {
        "instalment": 2,
        "outstanding": {"amount": "120000.00"},
        "overdue": True,
        "daysOverdue": 17,
    }
    assert lists["contractBreaches"]["edges"] == [{"node": {"penalty": {"amount": "2666.67"}}}]

    post(
        served,
        f"{base}/terminate",
        {"reason": "mutual", "note": "双方协商终止", "at": "2026-06-01T10:00:00+08:00"},
    )
    settled = post(served, f"{base}/settle", {"at": "2026-06-02T10:00:00+08:00"})
    assert settled["events"] == ["Contract.Settled"]
    handed = post(served, f"{base}/hand-over-data", {"at": "2026-06-03T10:00:00+08:00"})
    with served.client("relationship") as client:
        package = client.get(f"{base}/hand-over-package")
    assert package.status_code == 200, package.text
    assert package.headers["content-type"] == "application/zip"
    digest = hashlib.sha256(package.content).hexdigest()
    assert package.headers["x-kehu-sha256"] == digest
    with served.client("auditor") as client:
        last = client.get(f"{base}/history", params={"after_version": handed["version"] - 1})
    assert last.json()[0]["payload"]["sha256"] == digest
    head = served.head()
    twice = post(served, f"{base}/hand-over-data", {"at": "2026-06-04T10:00:00+08:00"}, 409)
    assert twice["code"] == "contract.data_already_handed_over"
    assert served.head() == head
