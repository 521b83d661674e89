"""Who is asking, and for which command: the command context behind every event's
audit envelope."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from uuid import uuid4

from domain.base import Envelope


class Role(StrEnum):
    """The seeds' organisation: a customer-management department (客户管理部) with sections."""

    ADMIN = "admin"  # 系统管理员
    MANAGER = "manager"  # 经理 (department manager)
    AUDITOR = "auditor"  # 审计 (read-only, history included)
    INTEGRATOR = "integrator"  # machine clients: commands and the event feed
    INFORMATION = "information"  # 信息管理科
    RELATIONSHIP = "relationship"  # 关系管理科
    SERVICE = "service"  # 服务管理科
    COMPLAINTS = "complaints"  # 投诉管理科
    SATISFACTION = "satisfaction"  # 满意度管理科
    CREDIT = "credit"  # 信用管理科
    RISK = "risk"  # 风险管理科
    MARKETING = "marketing"  # 营销管理科
    LEGAL = "legal"  # 法务 (reviews contracts before signing)
    SYSTEM = "system"  # kehu itself: scheduler and policies


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "系统管理员",
    Role.MANAGER: "经理",
    Role.AUDITOR: "审计",
    Role.INTEGRATOR: "系统集成",
    Role.INFORMATION: "信息管理科",
    Role.RELATIONSHIP: "关系管理科",
    Role.SERVICE: "服务管理科",
    Role.COMPLAINTS: "投诉管理科",
    Role.SATISFACTION: "满意度管理科",
    Role.CREDIT: "信用管理科",
    Role.RISK: "风险管理科",
    Role.MARKETING: "营销管理科",
    Role.LEGAL: "法务",
    Role.SYSTEM: "系统",
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a person's or a machine's API key, or kehu itself.

    ``scopes`` narrows the role: ``None`` is everything the role may do; otherwise only the
    actions the scopes name (``customers.read``) or cover (``customers.*``), checked by
    :func:`application.permissions.authorize` after the role."""

    id: str
    role: Role
    name: str = ""
    scopes: frozenset[str] | None = None


SYSTEM = Principal(id="system", role=Role.SYSTEM, name="kehu")


@dataclass(frozen=True)
class CommandContext:
    """Everything the envelope needs besides the command's name.

    ``command_id`` is the Idempotency-Key when the caller gave one; otherwise a fresh id.
    ``request_hash`` fingerprints the request so a replayed key with another body is refused.
    """

    principal: Principal
    command_id: str = field(default_factory=lambda: str(uuid4()))
    correlation_id: str = ""
    causation_id: str = ""
    reason: str | None = None
    idempotent: bool = False
    request_hash: str = ""
    expected_version: int | None = None

    def __post_init__(self) -> None:
        if not self.correlation_id:
            object.__setattr__(self, "correlation_id", self.command_id)
        if not self.causation_id:
            object.__setattr__(self, "causation_id", self.command_id)

    def envelope(self, command: str) -> Envelope:
        return Envelope(
            actor_id=self.principal.id,
            actor_role=self.principal.role.value,
            command=command,
            command_id=self.command_id,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            reason=self.reason,
        )

    def with_expected_version(self, version: int | None) -> CommandContext:
        return replace(self, expected_version=version)

    @classmethod
    def for_principal(
        cls,
        principal: Principal,
        *,
        idempotency_key: str | None = None,
        request_hash: str = "",
        correlation_id: str | None = None,
        causation_id: str | None = None,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> CommandContext:
        command_id = idempotency_key or str(uuid4())
        return cls(
            principal=principal,
            command_id=command_id,
            correlation_id=correlation_id or command_id,
            causation_id=causation_id or command_id,
            reason=reason,
            idempotent=idempotency_key is not None,
            request_hash=request_hash,
            expected_version=expected_version,
        )
