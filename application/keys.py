"""API keys: each belongs to a principal with one role; stored hashed, as events.

A key reads ``kehu_<key id>_<secret>``. Only the SHA-256 of the secret is stored (in the
``ApiKey.Issued`` event); the key itself is shown once, when it is created.

A key may be narrowed to some of its role's actions (scopes: ``customers.read``, or a
context's ``customers.*``) and may expire; both are recorded in ``ApiKey.Issued``, so the
audit trail says what each key could do. A scope the role could never use is refused when
the key is issued, so a key never looks wider than it is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from application.clock import Clock, utc_now
from application.context import CommandContext, Principal, Role
from application.errors import NotFound, Unauthenticated
from application.permissions import ISSUABLE_ROLES, authorize, scopes_outside, unknown_scopes
from application.store import CommandResult, Kehu
from domain.base import DomainError, KehuAggregate

KEY_NAMESPACE = uuid5(NAMESPACE_URL, "https://kehu.example/api-key")
_CACHE_SECONDS = 5.0


class KeyAlreadyRevoked(DomainError):
    code = "keys.already_revoked"


class RoleNotIssuable(DomainError):
    """``system`` is kehu itself: no caller may act as the scheduler."""

    code = "keys.role_not_issuable"
    kind = "invalid"


class UnknownScope(DomainError):
    code = "keys.unknown_scope"
    kind = "invalid"


class ScopeOutsideRole(DomainError):
    code = "keys.scope_outside_role"
    kind = "invalid"


class InvalidExpiry(DomainError):
    code = "keys.invalid_expiry"
    kind = "invalid"


class KeyExpired(Unauthenticated):
    code = "auth.key_expired"
    title = "API key expired"


class ApiKey(KehuAggregate):
    """An API key of a person or a machine."""

    class Issued(Aggregate.Created):
        """Version 2 added the scopes (none: the whole role) and the expiry; a stored
        version 1 key reads as the whole role, never expiring."""

        class_version = 2

        key_id: str
        role: str
        name: str
        secret_sha256: str
        scopes: list[str]
        expires_at: datetime | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["scopes"] = []
            state["expires_at"] = None

    class Revoked(Aggregate.Event):
        reason: str

    @event(Issued)
    def __init__(
        self,
        id: UUID,
        key_id: str,
        role: str,
        name: str,
        secret_sha256: str,
        scopes: list[str],
        expires_at: datetime | None,
    ) -> None:
        self.key_id = key_id
        self.role = Role(role)
        self.name = name
        self.secret_sha256 = secret_sha256
        self.scopes = frozenset(scopes) if scopes else None
        self.expires_at = expires_at
        self.revoked = False

    def revoke(self, reason: str) -> None:
        if self.revoked:
            raise KeyAlreadyRevoked(f"key {self.key_id} is already revoked")
        self._revoked(reason=reason)

    @event(Revoked)
    def _revoked(self, reason: str) -> None:
        self.revoked = True


def api_key_id(key_id: str) -> UUID:
    return uuid5(KEY_NAMESPACE, key_id)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys:
    """Issue, check and revoke API keys."""

    def __init__(self, store: Kehu, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock
        self._cache: dict[str, tuple[float, Principal, str, datetime | None]] = {}
        self._lock = threading.Lock()

    def issue(
        self,
        ctx: CommandContext,
        role: Role,
        name: str,
        *,
        scopes: Iterable[str] = (),
        expires_at: datetime | None = None,
    ) -> tuple[str, CommandResult]:
        """Create a key; the returned token is shown once and never stored.

        ``scopes`` limit the key to some of the role's actions (none: all of them); a scope
        that names nothing, or nothing the role may do, is refused, as is a key for kehu's
        own ``system`` role and an expiry that is not in the future."""
        authorize(ctx.principal, "keys.manage")
        wanted = sorted({scope.strip() for scope in scopes})
        _check_key(role, wanted, expires_at, self.clock())
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        result = self.store.execute(
            ctx,
            "keys.issue",
            kind=ApiKey,
            create=lambda: ApiKey(
                id=api_key_id(key_id),
                key_id=key_id,
                role=role.value,
                name=name.strip() or role.value,
                secret_sha256=_hash(secret),
                scopes=wanted,
                expires_at=expires_at,
            ),
        )
        return f"kehu_{key_id}_{secret}", result

    def revoke(self, ctx: CommandContext, key_id: str, reason: str) -> CommandResult:
        authorize(ctx.principal, "keys.manage")
        result = self.store.execute(
            ctx,
            "keys.revoke",
            kind=ApiKey,
            target=api_key_id(key_id),
            act=lambda key: key.revoke(reason),
        )
        with self._lock:  # after the save, so no check in between can re-cache the key
            self._cache.pop(key_id, None)
        return result

    def authenticate(self, token: str | None) -> Principal:
        """The principal a bearer token belongs to, or :class:`Unauthenticated`.

        Verified keys are remembered for a few seconds: a revocation takes effect at once in
        the process that made it, and in every other process within that time. An expired
        key is refused the moment it expires, remembered or not."""
        if not token:
            raise Unauthenticated("send an API key: Authorization: Bearer <key>")
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "kehu" or not parts[1] or not parts[2]:
            raise Unauthenticated("the API key is malformed")
        _, key_id, secret = parts
        digest = _hash(secret)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None and cached[0] > now and hmac.compare_digest(cached[2], digest):
            _check_expiry(key_id, cached[3], self.clock())
            return cached[1]
        try:
            key = self.store.load(api_key_id(key_id), ApiKey)
        except NotFound:
            raise Unauthenticated("the API key is not known") from None
        if not hmac.compare_digest(key.secret_sha256, digest):
            raise Unauthenticated("the API key is not known")
        if key.revoked:
            raise Unauthenticated("the API key was revoked")
        _check_expiry(key_id, key.expires_at, self.clock())
        principal = Principal(
            id=f"key:{key.key_id}", role=key.role, name=key.name, scopes=key.scopes
        )
        with self._lock:
            self._cache[key_id] = (now + _CACHE_SECONDS, principal, digest, key.expires_at)
        return principal


def _check_key(role: Role, scopes: list[str], expires_at: datetime | None, now: datetime) -> None:
    if role not in ISSUABLE_ROLES:
        raise RoleNotIssuable(f"no API key may carry the role {role.value}: it is kehu itself")
    unknown = unknown_scopes(scopes)
    if unknown:
        raise UnknownScope(
            f"{', '.join(unknown)} names no action: use an action such as customers.read"
            " or a context such as customers.*",
            scopes=" ".join(unknown),
        )
    outside = scopes_outside(role, scopes)
    if outside:
        raise ScopeOutsideRole(
            f"the role {role.value} may do nothing {', '.join(outside)} covers",
            role=role.value,
            scopes=" ".join(outside),
        )
    if expires_at is not None and (expires_at.utcoffset() is None or expires_at <= now):
        raise InvalidExpiry("a key's expiry must be a future time with a timezone")


def _check_expiry(key_id: str, expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and now >= expires_at:
        raise KeyExpired(f"the API key {key_id} expired at {expires_at.isoformat()}")
