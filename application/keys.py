"""API keys: each belongs to a principal with one role; stored hashed, as events.

A key reads ``kehu_<key id>_<secret>``. Only the SHA-256 of the secret is stored (in the
``ApiKey.Issued`` event); the key itself is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from application.context import CommandContext, Principal, Role
from application.errors import NotFound, Unauthenticated
from application.permissions import authorize
from application.store import CommandResult, Kehu
from domain.base import DomainError, KehuAggregate

KEY_NAMESPACE = uuid5(NAMESPACE_URL, "https://kehu.example/api-key")
_CACHE_SECONDS = 5.0


class KeyAlreadyRevoked(DomainError):
    code = "keys.already_revoked"


class ApiKey(KehuAggregate):
    """An API key of a person or a machine."""

    class Issued(Aggregate.Created):
        key_id: str
        role: str
        name: str
        secret_sha256: str

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
    ) -> None:
        self.key_id = key_id
        self.role = Role(role)
        self.name = name
        self.secret_sha256 = secret_sha256
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

    def __init__(self, store: Kehu) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, Principal, str]] = {}
        self._lock = threading.Lock()

    def issue(self, ctx: CommandContext, role: Role, name: str) -> tuple[str, CommandResult]:
        """Create a key; the returned token is shown once and never stored."""
        authorize(ctx.principal, "keys.manage")
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

        Verified keys are remembered for a few seconds, so a revocation takes effect in
        every process within that time."""
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
            return cached[1]
        try:
            key = self.store.load(api_key_id(key_id), ApiKey)
        except NotFound:
            raise Unauthenticated("the API key is not known") from None
        if not hmac.compare_digest(key.secret_sha256, digest):
            raise Unauthenticated("the API key is not known")
        if key.revoked:
            raise Unauthenticated("the API key was revoked")
        principal = Principal(id=f"key:{key.key_id}", role=key.role, name=key.name)
        with self._lock:
            self._cache[key_id] = (now + _CACHE_SECONDS, principal, digest)
        return principal
