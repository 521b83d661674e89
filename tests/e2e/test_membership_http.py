"""VIP membership end to end on both stores: qualify by spend, apply before a holiday, see
the deadline a person counts on the State Council calendar, decide and notify late, earn and
redeem points, and read it all back in GraphQL (customer-360, pending applications, tier
distribution, points liability, churn causes). Refusals are stable problem documents that
change nothing."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Served


def post(
    served: Served, path: str, body: dict[str, Any], status: int = 200, role: str = "relationship"
) -> dict[str, Any]:
    with served.client(role) as client:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


def graphql(served: Served, query: str, position: int, role: str = "manager") -> dict[str, Any]:
    with served.client(role, **{"X-Kehu-Min-Position": str(position)}) as client:
        response = client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def test_a_gold_member_over_http_and_graphql(served: Served) -> None:
    customer = post(
        served,
        "/api/v1/customers",
        {
            "kind": "enterprise",
            "name": "杭州云杉贸易有限公司",
            "uscc": "91330106MA2H3UWK08",
            "email": "finance@yunshan.example.cn",
            "registered_on": "2025-01-02",
        },
        201,
        role="information",
    )
    base = f"/api/v1/customers/{customer['id']}"
    for n in range(8):
        post(
            served,
            f"{base}/record-purchase",
            {
                "order_ref": f"SO-{n}",
                "amount": "30000.00",
                "category": "工业设备" if n % 2 else "维保服务",
                "occurred_on": f"2025-0{1 + n // 2}-1{n}",
            },
            role="information",
        )
    head = served.head()
    wrong = post(served, f"{base}/apply-for-vip", {"requested_tier": "diamond"}, 422)
    assert wrong["code"] == "validation.request"
    assert served.head() == head

    applied = post(
        served,
        f"{base}/apply-for-vip",
        {"requested_tier": "gold", "application_id": "A1", "at": "2025-09-26T10:00:00+08:00"},
    )
    assert applied["events"] == ["Customer.VipApplied"]
    post(
        served,
        f"{base}/start-vip-review",
        {"application_id": "A1", "at": "2025-10-09T09:00:00+08:00"},
        role="manager",
    )
    forbidden = post(
        served,
        f"{base}/grant-vip",
        {"application_id": "A1", "tier": "gold", "reasons": ["达标"]},
        403,
        role="integrator",
    )
    assert forbidden["code"] == "auth.forbidden"
    post(
        served,
        f"{base}/grant-vip",
        {
            "application_id": "A1",
            "tier": "gold",
            "reasons": ["近12个月消费额24万元、8笔、2个品类"],
            "at": "2025-10-10T09:00:00+08:00",
        },
        role="manager",
    )
    notified = post(
        served,
        f"{base}/notify-vip-decision",
        {"application_id": "A1", "channel": "sms", "at": "2025-10-14T10:00:00+08:00"},
    )
    post(
        served,
        f"{base}/record-purchase",
        {
            "order_ref": "SO-GOLD",
            "amount": "2000.00",
            "category": "维保服务",
            "occurred_on": "2025-10-20",
        },
        role="information",
    )
    too_many = post(
        served,
        f"{base}/redeem-points",
        {"points": 3001, "purpose": "兑换礼品", "at": "2025-11-01T10:00:00+08:00"},
        409,
        role="marketing",
    )
    assert too_many["code"] == "customer.insufficient_points"
    redeemed = post(
        served,
        f"{base}/redeem-points",
        {"points": 1000, "purpose": "兑换礼品", "at": "2025-11-01T10:00:00+08:00"},
        role="marketing",
    )
    assert notified["version"] < redeemed["version"]

    data = graphql(
        served,
        f"""{{
          customer360(id: "{customer["id"]}") {{
            tier {{ tier {{ code label }} benefits {{ discountRate priorityService }} }}
            points {{ balance value {{ amount currency }} nextExpiry }}
            vipApplications {{ applicationId notifyBy status late }}
          }}
          vipApplications(filter: {{overdue: true, asOf: "2025-10-20T00:00:00+08:00"}}) {{
            totalCount edges {{ node {{ applicationId notifyBy }} }}
          }}
          tierDistribution {{ tier {{ code }} count }}
          pointsLiability(asOf: "2025-11-02") {{ points value {{ amount }} members }}
          churnCauses {{ cause count }}
        }}""",
        redeemed["position"],
    )
    member = data["customer360"]
    assert member["tier"]["tier"] == {"code": "gold", "label": "金卡"}
    assert member["tier"]["benefits"] == {"discountRate": "0.08", "priorityService": True}
    # 2,000.00 at 1.5 points per yuan = 3,000 points; 1,000 redeemed; 0.01 yuan per point.
    assert member["points"]["balance"] == 2000
    assert member["points"]["value"] == {"amount": "20.00", "currency": "CNY"}
    assert member["points"]["nextExpiry"] == "2027-10-20"
    # Applied Friday 2025-09-26 10:00: the 7th working day after is Monday 10-13 (09-28 and
    # 10-11 worked, 10-01..10-08 off), so the decision was due at 18:00 that day.
    [application] = member["vipApplications"]
    assert application["notifyBy"] == "2025-10-13T18:00:00+08:00"
    assert application["late"] is True
    overdue = [edge["node"] for edge in data["vipApplications"]["edges"]]
    assert overdue == [{"applicationId": "A1", "notifyBy": "2025-10-13T18:00:00+08:00"}]
    gold = next(t for t in data["tierDistribution"] if t["tier"] and t["tier"]["code"] == "gold")
    assert gold["count"] == 1
    assert data["pointsLiability"] == {"points": 2000, "value": {"amount": "20.00"}, "members": 1}
    assert all(c["count"] == 0 for c in data["churnCauses"])
