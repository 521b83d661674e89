"""Who may see personal data (个人信息), and how it is masked for everyone else."""

from __future__ import annotations

from typing import Any

from application.context import Role
from domain.base import ERASED, personal_layout

SEES_PERSONAL_DATA = frozenset(
    {
        Role.ADMIN,
        Role.MANAGER,
        Role.INFORMATION,
        Role.RELATIONSHIP,
        Role.SERVICE,
        Role.COMPLAINTS,
        Role.SATISFACTION,  # 回访: it calls customers back and reads their comments
        Role.LEGAL,
        Role.SYSTEM,
    }
)


def may_see_personal_data(role: Role) -> bool:
    return role in SEES_PERSONAL_DATA


def mask_text(value: str) -> str:
    """``13812345678`` → ``138****5678``; ``a@b.cn`` → ``a***@b.cn``; ``张三`` → ``张*``."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if value.isdigit() and len(value) == 11:
        return f"{value[:3]}****{value[-4:]}"
    if len(value) == 18 and value[:17].isdigit():
        return f"{value[:6]}********{value[-4:]}"
    if len(value) <= 1:
        return "*"
    if len(value) <= 3:
        return value[0] + "*" * (len(value) - 1)
    return value[:2] + "*" * min(len(value) - 2, 6)


def mask_value(value: Any) -> Any:
    if value is None or value == ERASED:
        return value
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    return "***"


def mask_event_payload(event_class: type, payload: dict[str, Any]) -> dict[str, Any]:
    """Mask the event's personal data (fields marked :data:`domain.base.PersonalData`, and
    the personal entries of fields marked :class:`domain.base.PersonalEntries`)."""
    layout = personal_layout(event_class)
    masked = {}
    for key, value in payload.items():
        if key not in layout:
            masked[key] = value
        elif layout[key] is None or not isinstance(value, dict):
            masked[key] = mask_value(value)
        else:
            entries = layout[key] or frozenset()
            masked[key] = {k: (mask_value(v) if k in entries else v) for k, v in value.items()}
    return masked
