"""Surveys, campaigns and training over HTTP on both stores: created with 201, acted on
with 200, refusals as problem documents (409 for state, 422 for input) that record
nothing, reads of the state and its history."""

from __future__ import annotations

from typing import Any

from application.context import CommandContext, Role
from tests.e2e.conftest import OPERATOR, Served


def call(
    served: Served, role: str, path: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    head = served.head()
    with served.client(role) as client:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert served.head() == head  # a refusal records nothing
    return dict(response.json())


def test_surveys_campaigns_and_trainings_over_http(served: Served) -> None:
    token, _ = served.system.keys.issue(
        CommandContext.for_principal(OPERATOR), Role.SATISFACTION, "满意度管理科"
    )
    served.keys["satisfaction"] = token
    customer = call(
        served,
        "information",
        "/api/v1/customers",
        {"kind": "individual", "name": "张伟", "phone": "13812345678", "segment": "enterprise"},
        201,
    )["id"]

    # -- a periodic survey, answered by another system ------------------------------------
    survey = call(
        served,
        "satisfaction",
        "/api/v1/surveys",
        {"customer_id": customer, "channel": "email"},
        201,
    )
    assert survey["events"] == ["Survey.Requested"]
    path = f"/api/v1/surveys/{survey['id']}"
    bad = call(served, "integrator", f"{path}/answer", {"csat": 6, "scores": {"service": 4}}, 422)
    assert bad["code"] == "validation.request"
    answer = {"csat": 4, "nps": 8, "scores": {"service": 4, "product": 5}, "comment": "不错"}
    assert call(served, "integrator", f"{path}/answer", answer)["events"] == ["Survey.Answered"]
    again = call(served, "integrator", f"{path}/answer", answer, 409)
    assert again["code"] == "survey.already_answered"
    call(
        served,
        "satisfaction",
        f"{path}/add-action",
        {"action_id": "A1", "description": "优化回访", "owner": "user:li", "due_on": "2099-01-01"},
    )
    call(served, "satisfaction", f"{path}/update-action", {"action_id": "A1", "status": "done"})
    with served.client("auditor") as client:
        state = client.get(path).json()
        history = client.get(f"{path}/history").json()
    assert state["status"] == "answered"
    assert state["comment"] != "不错"  # personal data is masked for an auditor
    assert [e["type"] for e in history][:2] == ["Survey.Requested", "Survey.Answered"]

    # -- a campaign --------------------------------------------------------------------
    plan = {
        "name": "客户答谢会",
        "kind": "appreciation_event",
        "segment_criteria": {"segments": ["enterprise"]},
        "budget": "1000.00",
        "starts_on": "2099-01-01",
        "ends_on": "2099-01-31",
    }
    wrong = call(served, "marketing", "/api/v1/campaigns", plan | {"ends_on": "2098-12-31"}, 422)
    assert wrong["code"] == "campaign.invalid_field"
    campaign = call(served, "marketing", "/api/v1/campaigns", plan, 201)["id"]
    path = f"/api/v1/campaigns/{campaign}"
    served.system.wait_for(served.head())  # the segment is counted from the read models
    assert call(served, "marketing", f"{path}/launch", {})["events"] == ["Campaign.Launched"]
    refused = call(
        served,
        "marketing",
        f"{path}/record-conversion",
        {"customer_id": customer, "order_ref": "SO-1", "revenue": "10.00"},
        409,
    )
    assert refused["code"] == "campaign.not_a_participant"
    call(
        served,
        "marketing",
        f"{path}/record-participation",
        {"customer_id": customer, "channel": "wechat"},
    )
    call(
        served,
        "marketing",
        f"{path}/record-conversion",
        {"customer_id": customer, "order_ref": "SO-1", "revenue": "10.00", "new_customer": True},
    )
    call(served, "marketing", f"{path}/record-cost", {"amount": "5.00", "description": "礼品"})
    call(served, "marketing", f"{path}/close", {})
    call(served, "marketing", f"{path}/evaluate", {})
    with served.client("marketing") as client:
        evaluation = client.get(path).json()["evaluation"]
    assert evaluation["participation_rate"] == "1.0000"
    assert evaluation["roi"] == "1.0000"
    assert evaluation["cost_per_acquisition"] == {"amount": "5.00", "currency": "CNY"}

    # -- a training ----------------------------------------------------------------------
    schedule = {
        "programme": "客户服务规范",
        "topic": "沟通技巧",
        "mode": "online",
        "trainer": "陈老师",
        "sessions": [
            {"starts_at": "2020-01-01T09:00:00+08:00", "ends_at": "2020-01-01T11:00:00+08:00"}
        ],
        "capacity": 1,
    }
    forbidden = call(served, "marketing", "/api/v1/trainings", schedule, 403)
    assert forbidden["code"] == "auth.forbidden"
    training = call(
        served, "manager", "/api/v1/trainings", schedule | {"at": "2019-12-01T09:00:00+08:00"}, 201
    )["id"]
    path = f"/api/v1/trainings/{training}"
    call(served, "manager", f"{path}/enroll", {"staff_id": "S1", "staff_name": "王芳"})
    full = call(served, "manager", f"{path}/enroll", {"staff_id": "S2", "staff_name": "李强"}, 409)
    assert full["code"] == "training.full"
    call(
        served,
        "manager",
        f"{path}/record-attendance",
        {"staff_id": "S1", "session": 1, "present": True},
    )
    call(
        served,
        "manager",
        f"{path}/record-assessment",
        {"staff_id": "S1", "score": 90, "kind": "post"},
    )
    call(served, "manager", f"{path}/record-feedback", {"staff_id": "S1", "rating": 5})
    assert call(served, "manager", f"{path}/complete", {})["events"] == ["Training.Completed"]
    with served.client("manager") as client:
        effectiveness = client.get(path).json()["effectiveness"]
    assert effectiveness["attendance_rate"] == "1.0000"
    assert effectiveness["pass_rate"] == "1.0000"
    assert effectiveness["average_score"] == "90.00"

    with served.client("auditor") as client:
        paths = client.get("/openapi.json").json()["paths"]
    for expected in (
        "/api/v1/surveys",
        "/api/v1/surveys/{survey_id}/answer",
        "/api/v1/campaigns/{campaign_id}/evaluate",
        "/api/v1/trainings/{training_id}/record-attendance",
        "/api/v1/trainings/{training_id}/history",
    ):
        assert expected in paths
