"""Every cell of the role matrix, walked through the in-process app: each issuable role
against each REST route and each GraphQL query field that declares an action.

A role the matrix refuses gets 403 ``auth.forbidden`` — before the input is read, so even
a malformed body and a malformed id are refused as 403, not 400 or 422 — and the store is
unchanged: the same global position, the read models at the same positions, and no
command receipt for the Idempotency-Key it sent. A role the matrix allows is never refused
(any other answer will do: the inputs are samples). Keys narrowed by scopes are walked the
same way, refused with ``auth.scope_forbidden``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import anyio
import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from application.context import CommandContext, Principal, Role
from application.errors import NotFound
from application.keys import ApiKeys
from application.permissions import ISSUABLE_ROLES, allowed_roles
from application.receipts import CommandReceipt, receipt_id
from interfaces.bootstrap import System, build, init_storage
from interfaces.graphql.acting import Acts
from interfaces.graphql.schema import schema
from interfaces.rest.acting import ACTION
from interfaces.rest.app import create_app
from tests.conftest import make_settings

OPERATOR = CommandContext.for_principal(Principal(id="test:operator", role=Role.ADMIN))
PUBLIC = {"/healthz", "/readyz", "/metrics"}


# -- the cells ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    action: str
    body: dict[str, Any] | None  # the request body's JSON schema, if it takes one


@dataclass(frozen=True)
class Field:
    name: str
    actions: tuple[str, ...]
    query: str


def routes(document: dict[str, Any]) -> list[Route]:
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if ACTION not in operation:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            found.append(Route(method.upper(), path, operation[ACTION], body))
    return found


def fields() -> list[Field]:
    query_type = schema._schema.query_type
    assert query_type is not None
    declared = {
        schema.config.name_converter.get_graphql_name(f): f
        for f in schema.get_type_by_name("Query").fields  # type: ignore[union-attr]
    }
    found = []
    for name, field in query_type.fields.items():
        acts = [e for e in declared[name].extensions if isinstance(e, Acts)]
        arguments = ", ".join(
            f"{arg_name}: {literal(arg.type)}"
            for arg_name, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
        )
        call = f"{name}({arguments})" if arguments else name
        selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
        found.append(Field(name, acts[0].actions if acts else (), f"{{ {call}{selection} }}"))
    return found


# -- sample inputs ------------------------------------------------------------------------

SAMPLE_PATTERNS = {
    r"^\S+$": "ref-1",
    r"^\d{1,15}(\.\d{1,4})?$": "1.00",
    r"^-?\d{1,15}(\.\d{1,2})?$": "1.00",
    r"^[A-Z]{3}$": "CNY",
    r"^[0-9a-fA-F]{64}$": "a" * 64,
    r"^0(\.\d{1,4})?$": "0.1",
    r"^[A-Za-z0-9._:/-]{1,64}$": "ref-1",
    r"^[a-z0-9_]{1,30}$": "metric_1",
}
SAMPLE_FORMATS = {
    "date": "2025-06-30",
    "date-time": "2025-06-30T10:00:00+08:00",
    "uuid": "00000000-0000-4000-8000-000000000001",
}


def sample(schema_: dict[str, Any], components: dict[str, Any]) -> Any:
    """A value the JSON schema likely accepts: required members only, first choices.

    It only has to get the request past validation often enough to reach the service's
    own check; where it does not, the answer is a 422, which is still not a refusal."""
    if "$ref" in schema_:
        return sample(components[schema_["$ref"].rsplit("/", 1)[-1]], components)
    for choice in ("anyOf", "oneOf", "allOf"):
        if choice in schema_:
            options = [o for o in schema_[choice] if o.get("type") != "null"]
            return sample(options[0], components)
    if "const" in schema_:
        return schema_["const"]
    if "enum" in schema_:
        return schema_["enum"][0]
    kind = schema_.get("type")
    if kind == "object":
        properties = schema_.get("properties", {})
        members = {
            name: sample(properties[name], components) for name in schema_.get("required", [])
        }
        extra = schema_.get("additionalProperties")
        if isinstance(extra, dict) and schema_.get("minProperties"):  # e.g. {"product": 1}
            name = sample(schema_.get("propertyNames", {"type": "string"}), components)
            members[name] = sample(extra, components)
        return members
    if kind == "array":
        return [sample(schema_.get("items", {}), components)] * schema_.get("minItems", 0)
    if kind in ("integer", "number"):
        return int(schema_.get("minimum", 1))
    if kind == "boolean":
        return False
    if "format" in schema_:
        return SAMPLE_FORMATS.get(schema_["format"], "x")
    text = SAMPLE_PATTERNS.get(schema_.get("pattern", ""), "x")
    return text * max(1, -(-schema_.get("minLength", 1) // len(text)))


def literal(type_: GraphQLInputType) -> str:
    """A GraphQL literal of the type: required input fields only."""
    if isinstance(type_, GraphQLNonNull):
        return literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return "[]"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        members = ", ".join(
            f"{name}: {literal(member.type)}"
            for name, member in type_.fields.items()
            if isinstance(member.type, GraphQLNonNull) and member.default_value is Undefined
        )
        return f"{{{members}}}"
    assert isinstance(type_, GraphQLScalarType)
    return {
        "Int": "1",
        "Float": "1.0",
        "Boolean": "false",
        "Date": '"2025-06-30"',
        "DateTime": '"2025-06-30T10:00:00+08:00"',
    }.get(type_.name, f'"{uuid4()}"')


def concrete(path: str, good: bool) -> str:
    """The path with its parameters filled: good ids, or ones no route could parse."""
    return re.sub(r"\{([^}]+)\}", lambda _: str(uuid4()) if good else "not-an-id", path)


# -- the walk -----------------------------------------------------------------------------


@dataclass
class Walk:
    system: System
    client: httpx.AsyncClient
    keys: dict[str, str]  # key name → token
    principals: dict[str, str]  # key name → principal id

    def state(self) -> tuple[int, dict[str, int]]:
        """The global position and each read model's, brought up to date."""
        self.system.catch_up()
        return self.system.store.max_position(), {
            p.name: p.position() for p in self.system.projections
        }

    def receipt_kept(self, key: str, idempotency_key: str) -> bool:
        try:
            self.system.store.load(
                receipt_id(self.principals[key], idempotency_key), CommandReceipt
            )
        except NotFound:
            return False
        return True

    async def refused_route(self, key: str, route: Route, code: str) -> list[str]:
        """Send what no route could parse; expect the refusal and no trace of it."""
        idempotency_key = f"refused-{uuid4()}"
        head = self.system.store.max_position()
        response = await self.client.request(
            route.method,
            concrete(route.path, good=False),
            content=b"{not json" if route.method == "POST" else None,
            headers={
                "Authorization": f"Bearer {self.keys[key]}",
                "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key,
            },
        )
        cell = f"{key} × {route.method} {route.path} ({route.action})"
        problems = []
        if response.status_code != 403 or response.json().get("code") != code:
            problems.append(f"{cell}: {response.status_code} {response.text[:200]}")
        if self.system.store.max_position() != head:
            problems.append(f"{cell}: the refusal recorded events")
        if self.receipt_kept(key, idempotency_key):
            problems.append(f"{cell}: the refusal kept a command receipt")
        return problems

    async def allowed_route(self, key: str, route: Route, components: dict[str, Any]) -> list[str]:
        body = sample(route.body, components) if route.body else None
        response = await self.client.request(
            route.method,
            concrete(route.path, good=True),
            json=body,
            headers={"Authorization": f"Bearer {self.keys[key]}"},
        )
        if response.status_code in (401, 403):
            cell = f"{key} × {route.method} {route.path} ({route.action})"
            return [f"{cell}: allowed, but {response.status_code} {response.text[:200]}"]
        return []

    async def graphql(self, key: str, field: Field) -> tuple[set[str], dict[str, Any]]:
        response = await self.client.post(
            "/graphql",
            json={"query": field.query},
            headers={"Authorization": f"Bearer {self.keys[key]}"},
        )
        assert response.status_code == 200, (field.query, response.text)
        body = response.json()
        codes = {e.get("extensions", {}).get("code", "") for e in body.get("errors") or ()}
        return codes, body


def issue_keys(system: System, scopes: dict[str, tuple[Role, list[str]]]) -> Walk:
    keys, principals = {}, {}
    for name, (role, scope) in scopes.items():
        token, _ = system.keys.issue(OPERATOR, role, name, scopes=scope)
        keys[name] = token
        principals[name] = system.keys.authenticate(token).id
    transport = httpx.ASGITransport(app=create_app(system))
    client = httpx.AsyncClient(transport=transport, base_url="http://kehu.test", timeout=60)
    return Walk(system, client, keys, principals)


def every_role(system: System) -> Walk:
    return issue_keys(system, {role.value: (role, []) for role in ISSUABLE_ROLES})


@pytest.fixture
def sqlite_system(tmp_path: Any) -> Iterator[System]:
    settings = make_settings("sqlite", tmp_path)
    init_storage(settings)
    built = build(settings)
    try:
        yield built
    finally:
        built.close()


# -- the declarations ---------------------------------------------------------------------


def test_every_route_but_the_public_ones_declares_an_action() -> None:
    document = create_app().openapi()
    undeclared = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if ACTION not in operation and path not in PUBLIC
    ]
    assert undeclared == [], "declare openapi_extra=acts(...) (application/permissions.py)"
    assert len(routes(document)) > 100


def test_every_query_field_declares_an_action() -> None:
    undeclared = [f.name for f in fields() if not f.actions]
    assert undeclared == [], "declare extensions=[acts(...)] (application/permissions.py)"


# -- REST ---------------------------------------------------------------------------------


def test_every_refused_cell_of_every_route_is_a_403_that_records_nothing(system: System) -> None:
    """Both stores: each role the matrix refuses, against every route."""
    walk = every_role(system)
    document = create_app(system).openapi()

    async def run() -> tuple[list[str], int]:
        problems: list[str] = []
        refused = 0
        async with walk.client:
            before = walk.state()
            for route in routes(document):
                for role in ISSUABLE_ROLES:
                    if role not in allowed_roles(route.action):
                        problems += await walk.refused_route(role.value, route, "auth.forbidden")
                        refused += 1
                after = walk.state()
                if after != before:
                    problems.append(
                        f"{route.method} {route.path}: the store moved {before} → {after}"
                    )
                before = after
        return problems, refused

    problems, refused = anyio.run(run)
    assert not problems, "\n".join(problems)
    assert refused > 800  # most sections may do little: most cells are refusals


def test_every_allowed_cell_of_every_route_gets_past_the_role_check(
    sqlite_system: System,
) -> None:
    """Each role the matrix allows, with sample inputs that mostly reach the service's own
    check too (so a route declaring a looser action than its service would show)."""
    walk = every_role(sqlite_system)
    document = create_app(sqlite_system).openapi()
    components = document["components"]["schemas"]

    async def run() -> tuple[list[str], int]:
        problems: list[str] = []
        allowed = 0
        async with walk.client:
            for route in routes(document):
                for role in ISSUABLE_ROLES:
                    if role in allowed_roles(route.action):
                        problems += await walk.allowed_route(role.value, route, components)
                        allowed += 1
        return problems, allowed

    problems, allowed = anyio.run(run)
    assert not problems, "\n".join(problems)
    assert allowed > 300


# -- GraphQL --------------------------------------------------------------------------------


def test_every_cell_of_every_query_field(system: System) -> None:
    """Refused: the field's error carries ``auth.forbidden`` and no data; allowed: no
    ``auth.*`` error, whatever else the sample arguments earn."""
    walk = every_role(system)

    async def run() -> tuple[list[str], int]:
        problems: list[str] = []
        refused = 0
        async with walk.client:
            for field in fields():
                head = system.store.max_position()
                for role in ISSUABLE_ROLES:
                    may = any(role in allowed_roles(action) for action in field.actions)
                    codes, body = await walk.graphql(role.value, field)
                    cell = f"{role.value} × {field.name}"
                    if may and codes & {"auth.forbidden", "auth.scope_forbidden"}:
                        problems.append(f"{cell}: allowed, but {body['errors']}")
                    if not may:
                        refused += 1
                        if codes != {"auth.forbidden"} or (body.get("data") or {}).get(field.name):
                            problems.append(f"{cell}: refused, but {body}")
                if system.store.max_position() != head:
                    problems.append(f"{field.name}: a query recorded events")
        return problems, refused

    problems, refused = anyio.run(run)
    assert not problems, "\n".join(problems)
    assert refused >= 2 * 10  # auditTrail and causalChain are the auditors' and managers'


# -- scopes ---------------------------------------------------------------------------------


def test_a_scoped_key_is_refused_everywhere_outside_its_scopes(system: System) -> None:
    """An admin key narrowed to the customers' reads and the event feed: every other route
    is 403 ``auth.scope_forbidden`` and records nothing; its own are let through."""
    walk = issue_keys(system, {"narrow": (Role.ADMIN, ["customers.read", "events.feed"])})
    document = create_app(system).openapi()

    async def run() -> tuple[list[str], set[str]]:
        problems: list[str] = []
        through: set[str] = set()
        async with walk.client:
            for route in routes(document):
                if route.action in ("customers.read", "events.feed"):
                    problems += await walk.allowed_route("narrow", route, {})
                    through.add(route.action)
                else:
                    problems += await walk.refused_route("narrow", route, "auth.scope_forbidden")
            for field in fields():
                codes, _ = await walk.graphql("narrow", field)
                if "customers.read" in field.actions and codes & {"auth.scope_forbidden"}:
                    problems.append(f"{field.name}: within the scopes, but refused")
                if "customers.read" not in field.actions and codes != {"auth.scope_forbidden"}:
                    problems.append(f"{field.name}: outside the scopes, but {codes}")
        return problems, through

    problems, through = anyio.run(run)
    assert not problems, "\n".join(problems)
    assert through == {"customers.read", "events.feed"}


def test_a_revoked_or_expired_key_is_refused_at_once_and_records_nothing(
    sqlite_system: System,
) -> None:
    now = [datetime(2030, 6, 30, 12, 0, tzinfo=UTC)]
    sqlite_system.keys = ApiKeys(sqlite_system.store, clock=lambda: now[0])
    keys = sqlite_system.keys
    leaving, _ = keys.issue(OPERATOR, Role.AUDITOR, "离职员工")
    temporary, _ = keys.issue(
        OPERATOR, Role.INFORMATION, "临时", expires_at=now[0] + timedelta(hours=1)
    )
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(sqlite_system)), base_url="http://kehu.test"
    )

    async def ask(token: str, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return await client.request(method, path, json=body, headers=headers)

    async def run() -> list[httpx.Response]:
        async with client:
            first = [await ask(leaving, "GET", "/api/v1/events")]
            keys.revoke(OPERATOR, leaving.split("_")[1], "离职")
            now[0] += timedelta(hours=1)
            head = sqlite_system.store.max_position()
            refused = [
                await ask(leaving, "GET", "/api/v1/events"),
                await ask(temporary, "POST", "/api/v1/customers", {"kind": "individual"}),
            ]
            assert sqlite_system.store.max_position() == head
            return first + refused

    remembered, revoked, expired = anyio.run(run)
    assert remembered.status_code == 200
    assert (revoked.status_code, revoked.json()["code"]) == (401, "auth.unauthenticated")
    assert "revoked" in revoked.json()["detail"]
    assert (expired.status_code, expired.json()["code"]) == (401, "auth.key_expired")
