"""Disclosures on both stores: a GraphQL operation that shows personal data unmasked records
exactly one ``Disclosure.Recorded`` naming every subject it showed and the caller; masked
roles, non-personal selections, empty answers and refusals record nothing; the read model
answers who looked at whom."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest

from application.context import SYSTEM, CommandContext, Principal, Role
from application.disclosures import COMMAND, Disclosed
from application.errors import Unauthenticated
from domain.disclosure import Disclosure
from interfaces.bootstrap import System
from interfaces.graphql.common import Context
from interfaces.graphql.schema import schema
from projections.audit import AuditFilter
from projections.disclosures import DisclosureFilter
from tests.support import Clock, as_, at

CLERK = Principal(id="user:info", role=Role.INFORMATION)
MANAGER = Principal(id="user:jl", role=Role.MANAGER)
AUDITOR = Principal(id="user:sj", role=Role.AUDITOR)
CREDIT = Principal(id="user:xy", role=Role.CREDIT)

PAGE = "query ($first: Int) { customers(first: $first) { edges { node { %s } } } }"


@pytest.fixture
def clock() -> Clock:
    return Clock(at(2025, 9, 1, 9, 0))


def ask(kehu: System, principal: Principal, query: str, **variables: Any) -> Any:
    context = Context(kehu, principal, None, None)
    return asyncio.run(schema.execute(query, variable_values=variables, context_value=context))


def register(kehu: System, name: str, phone: str) -> str:
    return str(kehu.customers.register(as_(CLERK), kind="individual", name=name, phone=phone).id)


def disclosures_after(kehu: System, position: int) -> list[Any]:
    """The disclosures recorded after ``position``, from the event store itself."""
    return [e for e in kehu.store.feed(position, 1000) if e.type == "Disclosure.Recorded"]


def test_a_customers_page_showing_names_records_one_disclosure_of_the_whole_page(
    kehu: System,
) -> None:
    ids = {
        register(kehu, name, f"1381234567{i}") for i, name in enumerate(["张伟", "李娜", "王芳"])
    }
    kehu.catch_up()
    head = kehu.store.max_position()

    answer = ask(kehu, MANAGER, PAGE % "id name", first=10)

    assert answer.errors is None, answer.errors
    assert {e["node"]["name"] for e in answer.data["customers"]["edges"]} == {
        "张伟",
        "李娜",
        "王芳",
    }
    [recorded] = disclosures_after(kehu, head)
    assert set(recorded.payload["subjects"]) == ids
    assert recorded.payload["fields"] == ["Customer.name"]
    assert recorded.payload["via"] == "graphql customers"
    assert recorded.envelope.actor_id == MANAGER.id
    assert recorded.envelope.actor_role == "manager"
    assert recorded.envelope.command == COMMAND


def test_only_the_personal_fields_selected_and_holding_a_value_are_named(kehu: System) -> None:
    first = register(kehu, "张伟", "13812345670")
    kehu.customers.register(as_(CLERK), kind="individual", name="李娜", email="lina@example.cn")
    kehu.catch_up()
    head = kehu.store.max_position()

    answer = ask(kehu, MANAGER, PAGE % "id phone", first=10)

    assert answer.errors is None, answer.errors
    [recorded] = disclosures_after(kehu, head)
    # 李娜 has no phone and her email was not asked for: she was shown nothing personal.
    assert recorded.payload["subjects"] == [first]
    assert recorded.payload["fields"] == ["Customer.phone"]


def test_non_personal_fields_masked_roles_and_empty_answers_record_nothing(
    kehu: System,
) -> None:
    register(kehu, "张伟", "13812345670")
    kehu.catch_up()
    head = kehu.store.max_position()

    non_personal = ask(kehu, MANAGER, PAGE % "id status segment", first=10)
    masked = ask(kehu, AUDITOR, PAGE % "id name phone", first=10)
    empty = ask(kehu, MANAGER, PAGE % "id name", first=0)
    unknown = ask(
        kehu, MANAGER, '{ customer(id: "00000000-0000-4000-8000-000000000000") { name } }'
    )

    for answer in (non_personal, masked, empty, unknown):
        assert answer.errors is None, answer.errors
    assert masked.data["customers"]["edges"][0]["node"]["phone"] == "138****5670"
    assert kehu.store.max_position() == head


def test_a_refused_query_records_nothing(kehu: System) -> None:
    register(kehu, "张伟", "13812345670")
    kehu.catch_up()
    head = kehu.store.max_position()

    refused = ask(kehu, CREDIT, "{ disclosures { totalCount } }")
    with pytest.raises(Unauthenticated) as bad_key:
        kehu.keys.authenticate("not-a-key")
    unauthenticated = asyncio.run(
        schema.execute(
            PAGE % "name",
            variable_values={"first": 5},
            context_value=Context(kehu, None, bad_key.value, None),
        )
    )

    assert refused.errors[0].extensions["code"] == "auth.forbidden"
    assert unauthenticated.errors[0].extensions["code"] == "auth.unauthenticated"
    assert kehu.store.max_position() == head


def test_one_operation_with_several_root_fields_records_once(kehu: System) -> None:
    first = register(kehu, "张伟", "13812345670")
    second = register(kehu, "李娜", "13812345671")
    kehu.catch_up()
    head = kehu.store.max_position()

    answer = ask(
        kehu,
        MANAGER,
        "query ($a: ID!, $b: ID!) { one: customer(id: $a) { name }"
        " two: customer(id: $b) { email } state: aggregate(id: $b) { version state } }",
        a=first,
        b=second,
    )

    assert answer.errors is None, answer.errors
    [recorded] = disclosures_after(kehu, head)
    assert set(recorded.payload["subjects"]) == {first, second}
    # The time-travel state of 李娜 shows her name and phone; her email is empty.
    assert set(recorded.payload["fields"]) == {"Customer.name", "Customer.phone"}
    assert recorded.payload["via"] == "graphql aggregate, customer"


def test_time_travel_without_the_state_field_records_nothing(kehu: System) -> None:
    customer_id = register(kehu, "张伟", "13812345670")
    head = kehu.store.max_position()

    answer = ask(kehu, MANAGER, f'{{ aggregate(id: "{customer_id}") {{ type version }} }}')

    assert answer.errors is None, answer.errors
    assert kehu.store.max_position() == head


def test_trainees_are_named_by_their_staff_ids(kehu: System) -> None:
    sessions = [
        {
            "number": 1,
            "starts_at": at(2025, 9, 5, 9),
            "ends_at": at(2025, 9, 5, 12),
            "location": "A101",
        },
    ]
    training = kehu.trainings.schedule(
        as_(MANAGER),
        programme="客户服务规范",
        topic="投诉处理",
        mode="face_to_face",
        trainer="陈老师",
        sessions=sessions,
        capacity=5,
    ).id
    kehu.trainings.enroll(as_(MANAGER), training, staff_id="S1", staff_name="王芳")
    kehu.trainings.enroll(as_(MANAGER), training, staff_id="S2", staff_name="李强")
    kehu.catch_up()
    head = kehu.store.max_position()

    answer = ask(
        kehu, MANAGER, f'{{ training(id: "{training}") {{ trainees {{ staffId staffName }} }} }}'
    )

    assert answer.errors is None, answer.errors
    [recorded] = disclosures_after(kehu, head)
    assert recorded.payload["subjects"] == ["S1", "S2"]
    assert recorded.payload["fields"] == ["Trainee.staff_name"]
    assert recorded.payload["via"] == "graphql training"


def test_audit_payloads_are_disclosures_of_the_events_subjects(kehu: System) -> None:
    customer_id = register(kehu, "张伟", "13812345670")
    complaint = kehu.complaints.lodge(
        as_(Principal(id="user:ts", role=Role.COMPLAINTS)),
        customer_id=UUID(customer_id),
        channel="phone",
        category="service_attitude",
        severity="medium",
        description="客服态度差",
    ).id
    kehu.catch_up()
    head = kehu.store.max_position()

    answer = ask(
        kehu,
        MANAGER,
        "query ($id: ID) { auditTrail(filter: {aggregateId: $id}) "
        "{ edges { node { type payload } } } }",
        id=str(complaint),
    )

    assert answer.errors is None, answer.errors
    [recorded] = disclosures_after(kehu, head)
    assert recorded.payload["subjects"] == [customer_id]
    assert recorded.payload["fields"] == ["Complaint.Lodged.description"]
    assert recorded.payload["via"] == "graphql auditTrail"


def test_the_read_model_answers_who_looked_at_whom(kehu: System) -> None:
    first = register(kehu, "张伟", "13812345670")
    second = register(kehu, "李娜", "13812345671")
    kehu.catch_up()
    ask(kehu, MANAGER, PAGE % "name", first=10)
    other = Principal(id="user:admin", role=Role.ADMIN)
    ask(kehu, other, f'{{ customer(id: "{first}") {{ phone }} }}')
    kehu.catch_up()

    about_first, total = kehu.disclosure_queries.page(DisclosureFilter(subject_id=first))
    about_second, _ = kehu.disclosure_queries.page(DisclosureFilter(subject_id=second))
    by_admin, _ = kehu.disclosure_queries.page(DisclosureFilter(actor_id=other.id))

    assert total == 2
    assert [row.actor_id for row in about_first] == [other.id, MANAGER.id]  # latest first
    assert [row.actor_id for row in about_second] == [MANAGER.id]
    assert [row.fields for row in by_admin] == [["Customer.phone"]]
    answer = ask(
        kehu,
        AUDITOR,
        "query ($s: String) { disclosures(subjectId: $s) { totalCount"
        " edges { node { actorId actorRole via fields subjects } } } }",
        s=second,
    )
    assert answer.errors is None, answer.errors
    assert answer.data["disclosures"]["totalCount"] == 1
    node = answer.data["disclosures"]["edges"][0]["node"]
    assert node["actorRole"] == "manager"
    assert node["via"] == "graphql customers"
    assert set(node["subjects"]) == {first, second}


def test_a_disclosure_is_in_the_audit_trail_like_any_other_fact(kehu: System) -> None:
    customer_id = register(kehu, "张伟", "13812345670")
    kehu.catch_up()
    ask(kehu, MANAGER, f'{{ customer(id: "{customer_id}") {{ name }} }}')
    kehu.catch_up()

    entries, total = kehu.audit_queries.trail(AuditFilter(aggregate_type="Disclosure"))

    assert total == 1
    assert entries[0].actor_id == MANAGER.id
    assert entries[0].command == COMMAND
    assert entries[0].business_time is not None


def test_the_service_records_nothing_for_kehu_itself_masked_roles_or_nothing_shown(
    kehu: System,
) -> None:
    head = kehu.store.max_position()
    shown = Disclosed()
    shown.add(["c1"], ["Customer.name"])
    nothing = Disclosed()
    nothing.add(["c1"], [])

    assert kehu.disclosures.record(CommandContext.for_principal(SYSTEM), "x", shown) is None
    assert kehu.disclosures.record(as_(AUDITOR), "x", shown) is None
    assert kehu.disclosures.record(as_(MANAGER), "x", nothing) is None
    assert kehu.store.max_position() == head

    result = kehu.disclosures.record(as_(MANAGER), "GET /x", shown)
    assert result is not None
    stored = kehu.store.load(result.id, Disclosure)
    assert (stored.subjects, stored.via, stored.fields) == (["c1"], "GET /x", ["Customer.name"])


def test_the_customer_360_view_records_the_customers_name(kehu: System) -> None:
    customer_id = register(kehu, "张伟", "13812345670")
    kehu.catch_up()
    head = kehu.store.max_position()

    answer = ask(kehu, MANAGER, f'{{ customer360(id: "{customer_id}") {{ customer {{ name }} }} }}')

    assert answer.errors is None, answer.errors
    assert answer.data["customer360"]["customer"]["name"] == "张伟"
    [recorded] = disclosures_after(kehu, head)
    assert recorded.payload["subjects"] == [customer_id]
    assert recorded.payload["via"] == "graphql customer360"
