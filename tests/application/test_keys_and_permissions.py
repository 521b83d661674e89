"""API keys (issued, checked, revoked, stored hashed) and the role × command matrix."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from eventsourcing.persistence import StoredEvent

import application.keys as keys_module
from application.context import Principal, Role
from application.errors import Forbidden, NotFound, Unauthenticated
from application.keys import ApiKey, ApiKeys, KeyExpired, api_key_id
from application.permissions import COMMANDS, QUERIES, ScopeForbidden, actions_for, authorize
from application.store import Kehu
from domain.base import DomainError
from tests.application.conftest import ADMIN, AUDITOR, ctx, new_store

TOKEN_RE = re.compile(r"kehu_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{20,})")


@pytest.fixture
def keys(store: Kehu) -> ApiKeys:
    return ApiKeys(store)


def parts(token: str) -> tuple[str, str]:
    match = TOKEN_RE.fullmatch(token)
    assert match is not None, token
    return match["key_id"], match["secret"]


def stored_bytes(store: Kehu) -> bytes:
    return b"".join(n.state for n in store.recorder.select_notifications(1, 100))


# -- issuing and checking -----------------------------------------------------------------


def test_an_issued_key_authenticates_as_a_principal_with_its_role(
    store: Kehu, keys: ApiKeys
) -> None:
    token, result = keys.issue(ctx(), Role.AUDITOR, " 审计员 ")
    key_id, _ = parts(token)

    principal = keys.authenticate(token)

    assert principal == Principal(id=f"key:{key_id}", role=Role.AUDITOR, name="审计员")
    assert result.id == api_key_id(key_id)
    assert result.events == ["ApiKey.Issued"]
    assert result.created
    assert store.load(result.id, ApiKey).role is Role.AUDITOR


def test_a_key_without_a_name_is_named_after_its_role(keys: ApiKeys) -> None:
    token, _ = keys.issue(ctx(), Role.INTEGRATOR, "  ")
    assert keys.authenticate(token).name == "integrator"


def test_every_issued_key_is_different(keys: ApiKeys) -> None:
    tokens = [keys.issue(ctx(), Role.MANAGER, "经理")[0] for _ in range(5)]
    assert len({parts(t)[0] for t in tokens}) == 5
    assert len({parts(t)[1] for t in tokens}) == 5


def test_a_key_is_checked_by_another_instance_on_the_same_store(store: Kehu, keys: ApiKeys) -> None:
    token, _ = keys.issue(ctx(), Role.RISK, "风险")
    assert ApiKeys(store).authenticate(token).role is Role.RISK


def test_a_wrong_secret_is_refused_even_when_the_key_is_remembered(keys: ApiKeys) -> None:
    token, _ = keys.issue(ctx(), Role.MANAGER, "经理")
    key_id, secret = parts(token)
    keys.authenticate(token)  # now cached

    with pytest.raises(Unauthenticated):
        keys.authenticate(f"kehu_{key_id}_{secret[:-1]}")
    with pytest.raises(Unauthenticated):
        keys.authenticate(f"kehu_{key_id}_wrong")
    assert keys.authenticate(token).role is Role.MANAGER


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "kehu",
        "kehu_abc",
        "kehu__secret",
        "kehu_abc_",
        "Bearer kehu_abc_def",
        "KEHU_abc_def",
        "token_abc_def",
    ],
)
def test_a_missing_or_malformed_token_is_refused(keys: ApiKeys, token: str | None) -> None:
    keys.issue(ctx(), Role.ADMIN, "admin")
    with pytest.raises(Unauthenticated):
        keys.authenticate(token)


def test_a_well_formed_token_of_an_unknown_key_is_refused(keys: ApiKeys) -> None:
    token, _ = keys.issue(ctx(), Role.ADMIN, "admin")
    _, secret = parts(token)
    with pytest.raises(Unauthenticated, match="not known"):
        keys.authenticate(f"kehu_000000000000_{secret}")


def test_the_id_of_a_customer_is_not_a_key(store: Kehu, keys: ApiKeys) -> None:
    from application.customers import CustomerService

    created = CustomerService(store).register(
        ctx(), kind="individual", name="张伟", phone="13812345678"
    )
    with pytest.raises(NotFound):
        store.load(created.id, ApiKey)


# -- revocation ---------------------------------------------------------------------------


def test_a_revoked_key_is_refused_at_once_by_the_instance_that_revoked_it(
    store: Kehu, keys: ApiKeys
) -> None:
    token, _ = keys.issue(ctx(), Role.INTEGRATOR, "ERP")
    key_id, _ = parts(token)
    keys.authenticate(token)  # remembered for a few seconds

    revoked = keys.revoke(ctx(reason="泄露"), key_id, "泄露")

    assert revoked.events == ["ApiKey.Revoked"]
    assert store.load(api_key_id(key_id), ApiKey).revoked
    with pytest.raises(Unauthenticated, match="revoked"):
        keys.authenticate(token)
    with pytest.raises(Unauthenticated, match="revoked"):
        ApiKeys(store).authenticate(token)


def test_another_instance_forgets_a_revoked_key_once_its_cache_expires(
    store: Kehu, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(keys_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    elsewhere = ApiKeys(store)
    here = ApiKeys(store)
    token, _ = here.issue(ctx(), Role.INTEGRATOR, "ERP")
    key_id, _ = parts(token)
    elsewhere.authenticate(token)

    here.revoke(ctx(), key_id, "离职")

    now[0] += 4.9
    assert elsewhere.authenticate(token).role is Role.INTEGRATOR  # documented grace period
    now[0] += 0.2
    with pytest.raises(Unauthenticated):
        elsewhere.authenticate(token)


def test_a_key_cannot_be_revoked_twice(store: Kehu, keys: ApiKeys) -> None:
    token, _ = keys.issue(ctx(), Role.INTEGRATOR, "ERP")
    key_id, _ = parts(token)
    keys.revoke(ctx(), key_id, "离职")
    head = store.max_position()
    with pytest.raises(DomainError) as refused:
        keys.revoke(ctx(), key_id, "again")
    assert refused.value.code == "keys.already_revoked"
    assert store.max_position() == head


def test_revoking_an_unknown_key_is_not_found(keys: ApiKeys) -> None:
    with pytest.raises(NotFound):
        keys.revoke(ctx(), "000000000000", "x")


# -- storage ------------------------------------------------------------------------------


def test_the_secret_is_never_stored_only_its_hash(store: Kehu, keys: ApiKeys) -> None:
    token, _ = keys.issue(ctx(idempotency_key="issue-1", request_hash="h"), Role.AUDITOR, "x")
    key_id, secret = parts(token)

    stored = stored_bytes(store)

    assert stored  # the receipt and the key are there
    assert secret.encode() not in stored
    assert token.encode() not in stored
    assert key_id.encode() in stored
    digest = hashlib.sha256(secret.encode()).hexdigest()
    [issued] = [e for e in store.feed(0, 10, include_receipts=True) if e.type == "ApiKey.Issued"]
    assert issued.payload["secret_sha256"] == digest
    assert secret not in repr(issued.payload)
    assert issued.envelope is not None
    assert issued.envelope.actor_id == ADMIN.id
    assert issued.envelope.command == "keys.issue"


# -- who may manage keys ------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN], ids=str)
def test_only_an_admin_may_issue_keys(role: Role) -> None:
    store = new_store()
    keys = ApiKeys(store)
    with pytest.raises(Forbidden):
        keys.issue(ctx(Principal(id="someone", role=role)), Role.ADMIN, "escalation")
    assert store.max_position() == 0


def test_only_an_admin_may_revoke_keys(store: Kehu, keys: ApiKeys) -> None:
    token, _ = keys.issue(ctx(), Role.MANAGER, "经理")
    key_id, _ = parts(token)
    manager = keys.authenticate(token)
    head = store.max_position()
    with pytest.raises(Forbidden):
        keys.revoke(ctx(manager), key_id, "x")
    assert store.max_position() == head
    assert keys.authenticate(token) == manager


# -- the role x command matrix ------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_admin_may_run_every_command(command: str) -> None:
    authorize(ADMIN, command)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_auditor_may_run_no_command(command: str) -> None:
    with pytest.raises(Forbidden) as refused:
        authorize(AUDITOR, command)
    assert refused.value.details == {"role": "auditor", "action": command}


def test_every_role_but_admin_and_system_is_kept_from_some_command() -> None:
    for role in Role:
        principal = Principal(id=f"p:{role}", role=role)
        refused = []
        for command in COMMANDS:
            try:
                authorize(principal, command)
            except Forbidden:
                refused.append(command)
        if role is Role.ADMIN:
            assert refused == []
        elif role is Role.SYSTEM:
            # Only people approve limits (four eyes) and review contested automated
            # ratings (PIPL art. 24), contracts (the legal review) or a person's PIPL
            # requests; kehu's own policies never do, nor do they hand out API keys.
            assert sorted(refused) == [
                "contracts.approve",
                "contracts.reject",
                "credit.approve_limit_change",
                "credit.reject_limit_change",
                "credit.release_blocked_order",
                "credit.review_contest",
                "customers.review_service",
                "customers.review_vip",
                "keys.manage",
                "privacy.access",
                "privacy.correct",
                "privacy.erase",
                "privacy.restrict",
            ]
        else:
            assert refused, role


def test_an_auditor_reads_history_and_the_feed() -> None:
    for query in ("customers.read", "customers.history", "complaints.history", "events.feed"):
        authorize(AUDITOR, query)
    with pytest.raises(Forbidden):
        authorize(AUDITOR, "keys.manage")


def test_breaches_are_recorded_only_by_kehu_itself() -> None:
    system = Principal(id="system", role=Role.SYSTEM)
    for command in ("complaints.record_breach", "service_requests.record_breach"):
        authorize(system, command)
        for role in (Role.MANAGER, Role.INTEGRATOR, Role.COMPLAINTS, Role.SERVICE):
            with pytest.raises(Forbidden):
                authorize(Principal(id="p", role=role), command)


@pytest.mark.parametrize("query", sorted(QUERIES))
def test_an_admin_may_run_every_query(query: str) -> None:
    authorize(ADMIN, query)


def test_an_unknown_action_is_refused_even_for_an_admin() -> None:
    with pytest.raises(Forbidden, match="not a known"):
        authorize(ADMIN, "customers.delete")


def test_an_authenticated_key_carries_its_roles_permissions(keys: ApiKeys) -> None:
    token, _ = keys.issue(ctx(), Role.MARKETING, "营销")
    marketing = keys.authenticate(token)
    authorize(marketing, "customers.record_purchase")
    with pytest.raises(Forbidden):
        authorize(marketing, "customers.churn")


# -- scopes and expiry ----------------------------------------------------------------------


def test_a_scoped_key_may_do_only_what_its_role_and_a_scope_allow(
    store: Kehu, keys: ApiKeys
) -> None:
    token, _ = keys.issue(ctx(), Role.MARKETING, "活动", scopes=["campaigns.*", "customers.read"])
    marketing = keys.authenticate(token)

    assert marketing.scopes == frozenset({"campaigns.*", "customers.read"})
    authorize(marketing, "campaigns.launch")
    authorize(marketing, "customers.read")
    with pytest.raises(ScopeForbidden) as outside:
        authorize(marketing, "customers.record_purchase")  # the role may; the key may not
    assert outside.value.code == "auth.scope_forbidden"
    assert outside.value.status == 403
    assert outside.value.details["action"] == "customers.record_purchase"
    with pytest.raises(Forbidden) as role:
        authorize(marketing, "customers.churn")  # the role may not: that answer comes first
    assert role.value.code == "auth.forbidden"


def test_a_context_wildcard_covers_that_context_only() -> None:
    key = Principal(id="key:x", role=Role.ADMIN, scopes=frozenset({"customers.*"}))
    authorize(key, "customers.register")
    authorize(key, "customers.history")
    for action in ("complaints.lodge", "credit.read", "keys.manage"):
        with pytest.raises(ScopeForbidden):
            authorize(key, action)


def test_the_scopes_and_expiry_are_recorded_in_the_issued_event(store: Kehu, keys: ApiKeys) -> None:
    expires = datetime(2031, 1, 1, tzinfo=UTC)
    token, result = keys.issue(
        ctx(), Role.INTEGRATOR, "ERP", scopes=[" events.feed", "customers.read"], expires_at=expires
    )
    [issued] = [e for e in store.feed(0, 10, include_receipts=True) if e.type == "ApiKey.Issued"]
    assert issued.payload["scopes"] == ["customers.read", "events.feed"]
    assert issued.payload["expires_at"] == expires
    key = store.load(result.id, ApiKey)
    assert key.scopes == frozenset({"customers.read", "events.feed"})
    assert key.expires_at == expires
    assert keys.authenticate(token).scopes == key.scopes


def test_a_key_without_scopes_may_do_everything_its_role_may(keys: ApiKeys) -> None:
    token, _ = keys.issue(ctx(), Role.CREDIT, "信用")
    credit = keys.authenticate(token)
    assert credit.scopes is None
    for action in actions_for(Role.CREDIT):
        authorize(credit, action)


@pytest.mark.parametrize(
    ("role", "scopes", "code"),
    [
        (Role.INTEGRATOR, ["customers.delete"], "keys.unknown_scope"),
        (Role.INTEGRATOR, ["nothing.*"], "keys.unknown_scope"),
        (Role.INTEGRATOR, ["customers"], "keys.unknown_scope"),
        (Role.RISK, ["customers.register"], "keys.scope_outside_role"),
        (Role.AUDITOR, ["trainings.read", "trainings.schedule"], "keys.scope_outside_role"),
        (Role.RISK, ["keys.*", "credit.assess_risk"], "keys.scope_outside_role"),
        (Role.MANAGER, ["keys.manage"], "keys.scope_outside_role"),
        (Role.SYSTEM, [], "keys.role_not_issuable"),
    ],
)
def test_a_key_wider_than_its_role_or_naming_nothing_is_refused_and_nothing_is_recorded(
    store: Kehu, keys: ApiKeys, role: Role, scopes: list[str], code: str
) -> None:
    head = store.max_position()
    with pytest.raises(DomainError) as refused:
        keys.issue(ctx(), role, "x", scopes=scopes)
    assert refused.value.code == code
    assert refused.value.kind == "invalid"
    assert store.max_position() == head


@pytest.mark.parametrize(
    "expires_at",
    [datetime(2020, 1, 1, tzinfo=UTC), datetime(2031, 1, 1)],  # past; no timezone
    ids=["past", "naive"],
)
def test_an_expiry_must_be_a_future_aware_time(
    store: Kehu, keys: ApiKeys, expires_at: datetime
) -> None:
    with pytest.raises(DomainError) as refused:
        keys.issue(ctx(), Role.AUDITOR, "x", expires_at=expires_at)
    assert refused.value.code == "keys.invalid_expiry"
    assert store.max_position() == 0


def test_only_an_admin_learns_whether_a_scope_would_be_accepted(store: Kehu, keys: ApiKeys) -> None:
    with pytest.raises(Forbidden):
        keys.issue(ctx(Principal(id="m", role=Role.MANAGER)), Role.RISK, "x", scopes=["nope"])
    assert store.max_position() == 0


def test_an_expired_key_is_refused_even_when_it_is_remembered(store: Kehu) -> None:
    now = [datetime(2030, 6, 30, 12, 0, tzinfo=UTC)]
    keys = ApiKeys(store, clock=lambda: now[0])
    token, _ = keys.issue(ctx(), Role.AUDITOR, "临时", expires_at=now[0] + timedelta(days=1))
    assert keys.authenticate(token).role is Role.AUDITOR  # remembered from here on

    now[0] += timedelta(days=1)

    with pytest.raises(Unauthenticated) as expired:
        keys.authenticate(token)
    assert isinstance(expired.value, KeyExpired)
    assert expired.value.code == "auth.key_expired"
    assert expired.value.status == 401
    with pytest.raises(KeyExpired):
        ApiKeys(store, clock=lambda: now[0]).authenticate(token)  # and when it is not


def test_a_key_issued_before_scopes_existed_reads_as_its_whole_role() -> None:
    """A stored version 1 ``ApiKey.Issued`` (no scopes, no expiry) is upcast."""
    before = new_store()
    token, result = ApiKeys(before).issue(ctx(), Role.INTEGRATOR, "ERP")
    [stored] = [
        s for s in before.recorder.select_notifications(1, 10) if s.topic.endswith("ApiKey.Issued")
    ]
    state = before.mapper.transcoder.decode(stored.state)
    for version_2_member in ("scopes", "expires_at", "class_version"):
        state.pop(version_2_member, None)
    after = new_store()
    after.recorder.insert_events(
        [
            StoredEvent(
                originator_id=stored.originator_id,
                originator_version=stored.originator_version,
                topic=stored.topic,
                state=after.mapper.transcoder.encode(state),
            )
        ]
    )

    key = after.load(result.id, ApiKey)
    assert key.scopes is None
    assert key.expires_at is None
    principal = ApiKeys(after).authenticate(token)
    assert principal.scopes is None
    assert principal.role is Role.INTEGRATOR


def test_a_wildcard_scope_is_accepted_when_the_role_may_do_some_of_that_context(
    keys: ApiKeys,
) -> None:
    token, _ = keys.issue(ctx(), Role.RISK, "风险", scopes=["trainings.*"])
    risk = keys.authenticate(token)
    authorize(risk, "trainings.read")
    with pytest.raises(Forbidden) as refused:
        authorize(risk, "trainings.schedule")  # the scope never widens the role
    assert refused.value.code == "auth.forbidden"
