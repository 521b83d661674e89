"""Customers end to end: HTTP commands, problem+json refusals, history, feed, GraphQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.conftest import Served

USCC = "91350100M000100Y43"
ENTERPRISE = {
    "kind": "enterprise",
    "name": "福州青禾贸易有限公司",
    "phone": "13812345678",
    "email": "contact@qinghe.com.cn",
    "uscc": USCC,
    "segment": "大客户",
    "source": "展会",
    "tags": ["华东"],
    "marketing_consent": True,
}
PERSON = {
    "kind": "individual",
    "name": "张伟",
    "phone": "+86 139-1234-5678",
    "id_number": "11010519491231002X",
}

CUSTOMER_FIELDS = """
  id name phone status statusLabel segment tags purchaseCount
  purchaseTotal { amount currency } accountManager { id name } version
"""


def graphql(served: Served, query: str, role: str = "admin", **variables: Any) -> dict[str, Any]:
    with served.client(role) as client:
        response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return dict(response.json())


def create(served: Served, body: dict[str, Any] | None = None) -> dict[str, Any]:
    with served.client() as client:
        response = client.post("/api/v1/customers", json=body or ENTERPRISE)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_customer_created_over_http_is_in_graphql_at_its_position(served: Served) -> None:
    result = create(served)
    assert set(result) == {"id", "version", "position", "events"}
    assert result["version"] == 1
    assert result["events"] == ["Customer.Registered"]
    answer = graphql(
        served,
        f"query($id: ID!, $p: Int) {{ customer(id: $id, minPosition: $p) {{ {CUSTOMER_FIELDS} }} }}",
        id=result["id"],
        p=result["position"],
    )
    customer = answer["data"]["customer"]
    assert customer["name"] == "福州青禾贸易有限公司"
    assert customer["status"] == "PROSPECT"
    assert customer["statusLabel"] == "潜在"
    assert customer["version"] == 1


def test_the_min_position_header_gives_read_your_writes_on_lists(served: Served) -> None:
    created = create(served)
    with served.client() as client:
        purchase = client.post(
            f"/api/v1/customers/{created['id']}/record-purchase",
            json={
                "order_ref": "SO-1",
                "amount": "1234.50",
                "category": "耗材",
                "occurred_on": "2025-03-01",
            },
        ).json()
        response = client.post(
            "/graphql",
            json={
                "query": f"{{ customers(first: 5) {{ totalCount edges {{ node {{ {CUSTOMER_FIELDS} }} }} }} }}"
            },
            headers={"X-Kehu-Min-Position": str(purchase["position"])},
        )
    node = response.json()["data"]["customers"]["edges"][0]["node"]
    assert node["purchaseCount"] == 1
    assert node["purchaseTotal"] == {"amount": "1234.50", "currency": "CNY"}
    assert node["status"] == "ACTIVE"


def test_a_position_the_read_models_never_reach_times_out_clearly(served: Served) -> None:
    served.system.settings.min_position_timeout = 0.3
    answer = graphql(
        served, "query($p: Int) { customers(minPosition: $p) { totalCount } }", p=10**9
    )
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "read.min_position_timeout"


def test_graphql_filters_orders_and_pages_customers(served: Served) -> None:
    create(served)
    create(served, PERSON)
    create(
        served,
        {**PERSON, "name": "李娜", "phone": "13700001111", "id_number": None, "tags": ["华南"]},
    )
    head = served.head()
    query = """query($f: CustomerFilter, $o: CustomerOrder, $first: Int!, $after: String, $p: Int) {
      customers(filter: $f, orderBy: $o, first: $first, after: $after, minPosition: $p) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name kind } } } }"""
    by_name = graphql(served, query, f={"nameContains": "青禾"}, first=10, p=head)["data"][
        "customers"
    ]
    assert [e["node"]["name"] for e in by_name["edges"]] == ["福州青禾贸易有限公司"]
    by_tag = graphql(served, query, f={"tag": "华南"}, first=10, p=head)["data"]["customers"]
    assert [e["node"]["name"] for e in by_tag["edges"]] == ["李娜"]
    by_kind = graphql(
        served,
        query,
        f={"kind": "INDIVIDUAL"},
        o={"field": "NAME", "direction": "DESC"},
        first=10,
        p=head,
    )
    assert by_kind["data"]["customers"]["totalCount"] == 2
    first_page = graphql(served, query, first=2, p=head)["data"]["customers"]
    assert first_page["totalCount"] == 3
    assert first_page["pageInfo"]["hasNextPage"] is True
    second = graphql(served, query, first=2, after=first_page["pageInfo"]["endCursor"], p=head)
    page = second["data"]["customers"]
    assert len(page["edges"]) == 1
    assert page["pageInfo"]["hasNextPage"] is False
    seen = {e["node"]["name"] for e in first_page["edges"]} | {page["edges"][0]["node"]["name"]}
    assert len(seen) == 3


def test_an_idempotent_retry_returns_the_first_result_and_records_nothing(served: Served) -> None:
    key = str(uuid.uuid4())
    with served.client(**{"Idempotency-Key": key}) as client:
        first = client.post("/api/v1/customers", json=PERSON)
        head = served.head()
        again = client.post("/api/v1/customers", json=PERSON)
        assert again.status_code == first.status_code == 201
        assert again.json() == first.json()
        assert served.head() == head
        other = client.post("/api/v1/customers", json={**PERSON, "name": "王芳"})
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency.key_reused"
    assert served.head() == head


def test_if_match_guards_against_lost_updates(served: Served) -> None:
    created = create(served)
    path = f"/api/v1/customers/{created['id']}/assign-account-manager"
    body = {"manager_id": "m001", "manager_name": "周敏"}
    with served.client(**{"If-Match": '"1"'}) as client:
        ok = client.post(path, json=body)
        assert ok.status_code == 200
        assert ok.json()["version"] == 2
        head = served.head()
        stale = client.post(path, json={"manager_id": "m002", "manager_name": "陈涛"})
    assert stale.status_code == 409
    problem = stale.json()
    assert problem["code"] == "concurrency.version_conflict"
    assert problem["current_version"] == 2
    assert served.head() == head


BAD_REQUESTS = [
    pytest.param(
        "POST",
        "/api/v1/customers",
        {**ENTERPRISE, "uscc": "91350100M000100Y44"},
        {},
        "admin",
        422,
        "validation.invalid_uscc",
        id="invalid-uscc",
    ),
    pytest.param(
        "POST",
        "/api/v1/customers",
        {**PERSON, "phone": "12345"},
        {},
        "admin",
        422,
        "validation.invalid_phone",
        id="invalid-phone",
    ),
    pytest.param(
        "POST",
        "/api/v1/customers",
        {**PERSON, "id_number": "110105194912310021"},
        {},
        "admin",
        422,
        "validation.invalid_id_number",
        id="invalid-id-number",
    ),
    pytest.param(
        "POST",
        "/api/v1/customers",
        {**PERSON, "marketing_consent": "yes"},
        {},
        "admin",
        422,
        "validation.request",
        id="wrong-type",
    ),
    pytest.param(
        "POST",
        "/api/v1/customers",
        {**PERSON, "nickname": "x"},
        {},
        "admin",
        422,
        "validation.request",
        id="unknown-field",
    ),
    pytest.param(
        "POST",
        "/api/v1/customers",
        {"kind": "enterprise", "name": "无码公司", "phone": "13812345678"},
        {},
        "admin",
        422,
        "customer.identity_missing",
        id="enterprise-without-uscc",
    ),
    pytest.param(
        "POST", "/api/v1/customers", PERSON, {}, None, 401, "auth.unauthenticated", id="no-key"
    ),
    pytest.param(
        "POST",
        "/api/v1/customers",
        PERSON,
        {"Authorization": "Bearer kehu_000000000000_wrong"},
        None,
        401,
        "auth.unauthenticated",
        id="wrong-key",
    ),
    pytest.param(
        "POST",
        "/api/v1/customers",
        PERSON,
        {},
        "auditor",
        403,
        "auth.forbidden",
        id="auditor-may-not-command",
    ),
    pytest.param(
        "POST",
        f"/api/v1/customers/{uuid.uuid4()}/churn",
        {"reason": "x"},
        {},
        "admin",
        404,
        "not_found",
        id="unknown-id",
    ),
    pytest.param(
        "POST",
        "/api/v1/customers/not-a-uuid/churn",
        {"reason": "x"},
        {},
        "admin",
        422,
        "validation.request",
        id="malformed-id",
    ),
    pytest.param(
        "POST",
        "/api/v1/customers",
        PERSON,
        {"If-Match": "abc"},
        "admin",
        400,
        "precondition.invalid_if_match",
        id="bad-if-match",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "role", "status", "code"), BAD_REQUESTS
)
def test_bad_input_gets_its_documented_refusal_and_changes_nothing(
    served: Served,
    method: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    role: str | None,
    status: int,
    code: str,
) -> None:
    head = served.head()
    with served.client(role, **headers) as client:
        response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= set(problem)
    assert served.head() == head


def test_malformed_json_is_a_400_and_changes_nothing(served: Served) -> None:
    head = served.head()
    with served.client(**{"Content-Type": "application/json"}) as client:
        response = client.post("/api/v1/customers", content=b'{"kind": ')
    assert response.status_code == 400
    assert response.json()["code"] == "request.malformed_json"
    assert served.head() == head


def test_a_float_amount_is_refused(served: Served) -> None:
    created = create(served)
    head = served.head()
    with served.client() as client:
        response = client.post(
            f"/api/v1/customers/{created['id']}/record-purchase",
            json={"order_ref": "SO-1", "amount": 1234.5, "category": "耗材"},
        )
    assert response.status_code == 422
    assert response.json()["code"] == "validation.request"
    assert served.head() == head


def test_a_refused_transition_is_a_409_with_a_stable_code(served: Served) -> None:
    created = create(served)
    with served.client() as client:
        assert (
            client.post(
                f"/api/v1/customers/{created['id']}/churn", json={"reason": "业务调整"}
            ).status_code
            == 200
        )
        head = served.head()
        refused = client.post(
            f"/api/v1/customers/{created['id']}/record-purchase",
            json={"order_ref": "SO-9", "amount": "10.00", "category": "耗材"},
        )
    assert refused.status_code == 409
    assert refused.json()["code"] == "customer.churned"
    assert served.head() == head


def test_auditors_read_history_with_envelopes_and_past_states(served: Served) -> None:
    created = create(served)
    cid = created["id"]
    with served.client(
        **{"X-Correlation-Id": "corr-42", "X-Reason": "%E8%B5%84%E6%96%99%E6%9B%B4%E6%96%B0"}
    ) as client:
        client.post(f"/api/v1/customers/{cid}/update-profile", json={"segment": "中小企业"})
    with served.client("auditor") as auditor:
        history = auditor.get(f"/api/v1/customers/{cid}/history").json()
        then = auditor.get(f"/api/v1/customers/{cid}", params={"version": 1})
        now = auditor.get(f"/api/v1/customers/{cid}")
        before = auditor.get(
            f"/api/v1/customers/{cid}", params={"as_of": "2000-01-01T00:00:00+08:00"}
        )
    assert [e["type"] for e in history] == ["Customer.Registered", "Customer.ProfileUpdated"]
    assert history[0]["position"] == created["position"]
    assert history[1]["position"] > history[0]["position"]
    update = history[1]["envelope"]
    assert update["actor_role"] == "admin"
    assert update["command"] == "customers.update_profile"
    assert update["correlation_id"] == "corr-42"
    assert update["reason"] == "资料更新"
    assert history[0]["payload"]["phone"] == "138****5678"  # masked for auditors
    assert then.json()["segment"] == "大客户"
    assert now.json()["segment"] == "中小企业"
    assert now.headers["etag"] == '"2"'
    assert before.status_code == 404


def test_the_event_feed_pages_in_global_order(served: Served) -> None:
    create(served)
    create(served, PERSON)
    with served.client("integrator") as client:
        first = client.get("/api/v1/events", params={"after": 0, "limit": 1}).json()
        rest = client.get(
            "/api/v1/events", params={"after": first[-1]["position"], "limit": 10}
        ).json()
    assert len(first) == 1
    assert [e["type"] for e in first + rest] == ["Customer.Registered", "Customer.Registered"]
    assert first[0]["position"] < rest[0]["position"]
    assert rest[0]["payload"]["id_number"] == "110105********002X"


def test_health_readiness_and_metrics(served: Served) -> None:
    create(served)
    with served.client(None) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        metrics = client.get("/metrics").text
    assert ready["status"] == "ok"
    assert ready["position"] >= 1
    assert "customers" in ready["projection_lag"]
    assert "kehu_event_store_position" in metrics
    assert (
        'kehu_http_requests_total{method="POST",route="/api/v1/customers",status="201"} 1'
        in metrics
    )
