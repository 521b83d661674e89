"""The dashboard and the satisfaction, campaign and training read models end to end on both
stores: commands over HTTP, the survey policy, then GraphQL with read-your-writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.conftest import Served

SH = ZoneInfo("Asia/Shanghai")


def post(
    served: Served, path: str, body: dict[str, Any], status: int = 200, role: str = "manager"
) -> dict[str, Any]:
    with served.client(role) as client:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


def graphql(served: Served, query: str, role: str = "manager") -> dict[str, Any]:
    with served.client(role, **{"X-Kehu-Min-Position": str(served.head())}) as client:
        response = client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    return dict(response.json())


def data(served: Served, query: str, role: str = "manager") -> dict[str, Any]:
    body = graphql(served, query, role)
    assert "errors" not in body, body
    return dict(body["data"])


def iso(moment: datetime) -> str:
    return moment.isoformat()


def resolved_complaint(served: Served, now: datetime) -> tuple[str, str]:
    customer = post(
        served,
        "/api/v1/customers",
        {"kind": "individual", "name": "周杰", "phone": "13811112222", "segment": "个人客户"},
        201,
        role="information",
    )["id"]
    complaint = post(
        served,
        "/api/v1/complaints",
        {
            "customer_id": customer,
            "channel": "wechat",
            "category": "service_attitude",
            "severity": "medium",
            "description": "客服回复不及时",
            "received_at": iso(now - timedelta(days=2)),
        },
        201,
    )["id"]
    base = f"/api/v1/complaints/{complaint}"
    post(served, f"{base}/assign", {"handler_id": "h-wang", "handler_name": "王磊"})
    post(served, f"{base}/acknowledge", {"at": iso(now - timedelta(days=2) + timedelta(hours=1))})
    post(
        served,
        f"{base}/resolve",
        {"summary": "已致歉并改进", "at": iso(now - timedelta(days=1))},
    )
    return customer, complaint


DASHBOARD = """{
  dashboard(from: "%s", to: "%s", groupBy: HANDLER) {
    from to groupBy asOf
    kpis { name label value unit target targetDirection status basis definition }
    groups { key label kpis { name value status } }
    csat: kpi(name: CSAT) { value status target }
  }
}"""


def test_resolving_a_complaint_requests_a_survey_and_its_answer_moves_the_dashboard(
    served: Served,
) -> None:
    now = datetime.now(SH).replace(microsecond=0)
    _, complaint = resolved_complaint(served, now)
    served.system.wait_for(served.head())  # the running workers keep the views
    policy = next(p for p in served.system.scheduler.policies if p.name == "survey-on-resolution")
    assert policy.run_once() == 1

    start, end = (now - timedelta(days=30)).date(), now.date()
    query = DASHBOARD % (start, end)
    before = data(served, query)["dashboard"]
    kpis = {k["name"]: k for k in before["kpis"]}
    assert kpis["SURVEY_RESPONSE_RATE"]["value"] == "0.0000"
    assert kpis["CSAT"]["status"] == "NO_DATA"
    assert kpis["CSAT"]["label"] == "客户满意度评分(CSAT)"
    assert kpis["SATISFACTION_RATE"]["target"] == "0.90"
    assert kpis["SATISFACTION_RATE"]["targetDirection"] == "AT_LEAST"
    assert kpis["COMPLAINT_HANDLING_HOURS"]["targetDirection"] == "AT_MOST"
    assert kpis["NEW_CUSTOMERS"]["value"] == "1"
    assert all(k["definition"] for k in before["kpis"])
    assert "LIFETIME_VALUE_PREDICTED" not in kpis or kpis["LIFETIME_VALUE_PREDICTED"]["value"]

    surveys = data(
        served,
        f'{{ surveys(filter: {{sourceId: "{complaint}"}}) {{ totalCount'
        " edges { node { id kind kindLabel handlerId segment channel status } } } }",
    )["surveys"]
    assert surveys["totalCount"] == 1
    survey = surveys["edges"][0]["node"]
    assert survey | {"id": None} == {
        "id": None,
        "kind": "COMPLAINT",
        "kindLabel": "投诉回访",
        "handlerId": "h-wang",
        "segment": "个人客户",
        "channel": "WECHAT",
        "status": "REQUESTED",
    }

    post(
        served,
        f"/api/v1/surveys/{survey['id']}/answer",
        {"csat": 3, "nps": 9, "ces": 5, "scores": {"service": 3}, "comment": "希望更快回复"},
    )
    post(
        served,
        f"/api/v1/surveys/{survey['id']}/add-action",
        {
            "action_id": "A1",
            "description": "客服首响时限缩短至2小时",
            "owner": "h-wang",
            "due_on": str(now.date() + timedelta(days=14)),
        },
    )
    after = data(served, query)["dashboard"]
    kpis = {k["name"]: k for k in after["kpis"]}
    assert kpis["SURVEY_RESPONSE_RATE"]["value"] == "1.0000"
    assert (kpis["CSAT"]["value"], kpis["CSAT"]["status"]) == ("3.00", "MISSED")
    assert (kpis["NPS"]["value"], kpis["NPS"]["status"]) == ("100.0", "MET")
    assert kpis["SATISFACTION_RATE"]["basis"] == 1
    assert after["csat"] == {"value": "3.00", "status": "MISSED", "target": "4.0"}
    (group,) = after["groups"]
    assert (group["key"], group["label"]) == ("h-wang", "王磊")

    masked = data(
        served,
        f'{{ survey(id: "{survey["id"]}") {{ comment csat scores {{ dimension label score }}'
        " actions { actionId status statusLabel } } }",
        role="auditor",
    )["survey"]
    assert masked["comment"] != "希望更快回复"
    assert masked["scores"] == [{"dimension": "SERVICE", "label": "服务", "score": 3}]
    assert masked["actions"] == [{"actionId": "A1", "status": "OPEN", "statusLabel": "待处理"}]
    shown = data(served, f'{{ survey(id: "{survey["id"]}") {{ comment }} }}')["survey"]
    assert shown["comment"] == "希望更快回复"


def test_campaigns_and_trainings_are_read_back_in_graphql(served: Served) -> None:
    now = datetime.now(SH).replace(microsecond=0)
    customer = post(
        served,
        "/api/v1/customers",
        {"kind": "individual", "name": "吴敏", "phone": "13922223333", "segment": "个人客户"},
        201,
        role="information",
    )["id"]
    campaign = post(
        served,
        "/api/v1/campaigns",
        {
            "name": "会员日促销",
            "kind": "promotion",
            "segment_criteria": {"segments": ["个人客户"]},
            "budget": "10000.00",
            "starts_on": str(now.date() - timedelta(days=5)),
            "ends_on": str(now.date() + timedelta(days=5)),
            "at": iso(now - timedelta(days=6)),
        },
        201,
        role="marketing",
    )["id"]
    base = f"/api/v1/campaigns/{campaign}"
    post(served, f"{base}/launch", {"at": iso(now - timedelta(days=5))}, role="marketing")
    post(
        served,
        f"{base}/record-participation",
        {"customer_id": customer, "channel": "wechat", "at": iso(now - timedelta(days=4))},
        role="marketing",
    )
    post(
        served,
        f"{base}/record-conversion",
        {
            "customer_id": customer,
            "order_ref": "PROMO-1",
            "revenue": "1999.00",
            "new_customer": True,
            "at": iso(now - timedelta(days=3)),
        },
        role="marketing",
    )
    post(
        served,
        f"{base}/record-cost",
        {"amount": "600.00", "description": "短信推送", "at": iso(now - timedelta(days=4))},
        role="marketing",
    )
    listed = data(
        served,
        '{ campaigns(filter: {segment: "个人客户"}) { totalCount edges { node {'
        " name kindLabel status targeted participants conversions acquired"
        " revenue { amount currency } cost { amount } segmentCriteria { segments } } } } }",
    )["campaigns"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"] == {
        "name": "会员日促销",
        "kindLabel": "促销活动",
        "status": "LAUNCHED",
        "targeted": 1,
        "participants": 1,
        "conversions": 1,
        "acquired": 1,
        "revenue": {"amount": "1999.00", "currency": "CNY"},
        "cost": {"amount": "600.00"},
        "segmentCriteria": {"segments": ["个人客户"]},
    }
    start = (now - timedelta(days=10)).date()
    kpis = {
        k["name"]: k["value"]
        for k in data(served, DASHBOARD % (start, now.date()))["dashboard"]["kpis"]
    }
    assert kpis["CUSTOMER_ACQUISITION_COST"] == "600.00"
    assert kpis["CAMPAIGN_CONVERSION_RATE"] == "1.0000"

    training = post(
        served,
        "/api/v1/trainings",
        {
            "programme": "客户服务规范",
            "topic": "投诉处理与回访",
            "mode": "face_to_face",
            "trainer": "刘老师",
            "sessions": [
                {
                    "starts_at": iso(now - timedelta(days=2)),
                    "ends_at": iso(now - timedelta(days=2) + timedelta(hours=3)),
                    "location": "杭州总部 3 楼",
                }
            ],
            "capacity": 10,
            "at": iso(now - timedelta(days=9)),
        },
        201,
    )["id"]
    post(
        served,
        f"/api/v1/trainings/{training}/enroll",
        {"staff_id": "s-001", "staff_name": "陈晓东", "at": iso(now - timedelta(days=8))},
    )
    query = (
        "{ trainings { totalCount edges { node { programme modeLabel status enrolled"
        " sessions { number location } trainees { staffId staffName } } } } }"
    )
    node = data(served, query)["trainings"]["edges"][0]["node"]
    assert node["modeLabel"] == "面授"
    assert node["enrolled"] == 1
    assert node["trainees"] == [{"staffId": "s-001", "staffName": "陈晓东"}]
    masked = data(served, query, role="auditor")["trainings"]["edges"][0]["node"]
    assert masked["trainees"][0]["staffName"] != "陈晓东"


def test_a_reversed_range_is_a_validation_error_and_definitions_are_in_the_schema(
    served: Served,
) -> None:
    body = graphql(served, '{ dashboard(from: "2025-02-01", to: "2025-01-01") { to } }')
    assert body["errors"][0]["extensions"]["code"] == "validation.dashboard_range"
    kinds = data(
        served, '{ __type(name: "KpiName") { enumValues { name description } } }', role="auditor"
    )["__type"]["enumValues"]
    described = {v["name"]: v["description"] for v in kinds}
    assert described["RETENTION_RATE"].startswith("客户保留率 (ratio): Customers active")
    assert len(described) == 23
