"""The role × command and role × query matrix, declared once and enforced in the
application layer for HTTP, GraphQL and the CLI alike."""

from __future__ import annotations

from collections.abc import Mapping

from application.context import Principal, Role
from application.errors import Forbidden

_ALL_SECTIONS = frozenset(
    {
        Role.INFORMATION,
        Role.RELATIONSHIP,
        Role.SERVICE,
        Role.COMPLAINTS,
        Role.SATISFACTION,
        Role.CREDIT,
        Role.RISK,
        Role.MARKETING,
    }
)
_EVERY_COMMANDER = frozenset({Role.ADMIN, Role.MANAGER, Role.INTEGRATOR, Role.SYSTEM})
_READERS = _EVERY_COMMANDER | _ALL_SECTIONS | {Role.AUDITOR, Role.LEGAL}

COMMANDS: Mapping[str, frozenset[Role]] = {
    "customers.register": _EVERY_COMMANDER | {Role.INFORMATION, Role.MARKETING},
    "customers.update_profile": _EVERY_COMMANDER | {Role.INFORMATION},
    "customers.confirm_info_reviewed": _EVERY_COMMANDER | {Role.INFORMATION},
    "customers.assign_account_manager": _EVERY_COMMANDER | {Role.RELATIONSHIP},
    "customers.record_interaction": _EVERY_COMMANDER
    | {Role.RELATIONSHIP, Role.SERVICE, Role.MARKETING},
    "customers.record_purchase": _EVERY_COMMANDER | {Role.INFORMATION, Role.MARKETING},
    "customers.mark_at_risk": _EVERY_COMMANDER | {Role.RELATIONSHIP},
    "customers.churn": _EVERY_COMMANDER | {Role.RELATIONSHIP},
    "customers.win_back": _EVERY_COMMANDER | {Role.RELATIONSHIP, Role.MARKETING},
    # VIP membership (seed 003): applications reach the relationship section, marketing and
    # the front desk; people decide them (the relationship section or the manager).
    "customers.apply_for_vip": _EVERY_COMMANDER
    | {Role.RELATIONSHIP, Role.MARKETING, Role.INFORMATION},
    "customers.review_vip": frozenset({Role.MANAGER, Role.RELATIONSHIP}),
    "customers.notify_vip_decision": _EVERY_COMMANDER | {Role.RELATIONSHIP, Role.MARKETING},
    "customers.redeem_points": _EVERY_COMMANDER | {Role.MARKETING, Role.RELATIONSHIP},
    "customers.issue_coupon": _EVERY_COMMANDER | {Role.MARKETING},
    "customers.redeem_coupon": _EVERY_COMMANDER | {Role.MARKETING, Role.INFORMATION},
    "customers.apply_for_service": _EVERY_COMMANDER | {Role.SERVICE, Role.RELATIONSHIP},
    "customers.review_service": frozenset({Role.MANAGER, Role.SERVICE}),
    "customers.implement_service": _EVERY_COMMANDER | {Role.SERVICE},
    "customers.manage_growth_plan": _EVERY_COMMANDER | {Role.RELATIONSHIP},
    "customers.raise_prevention_task": _EVERY_COMMANDER | {Role.RELATIONSHIP},
    "customers.complete_prevention_task": _EVERY_COMMANDER | {Role.RELATIONSHIP},
    "customers.manage_relationship": _EVERY_COMMANDER | {Role.RELATIONSHIP},
    # Facts of the declared policy and the calendar: the scheduler records them.
    "customers.evaluate_tier": frozenset({Role.SYSTEM}),
    "customers.expire_points": frozenset({Role.SYSTEM}),
    "customers.expire_coupons": frozenset({Role.SYSTEM}),
    # 投诉管理科 handles complaints; the service section may lodge what reaches it.
    "complaints.lodge": _EVERY_COMMANDER | {Role.COMPLAINTS, Role.SERVICE, Role.INFORMATION},
    **{
        f"complaints.{action}": _EVERY_COMMANDER | {Role.COMPLAINTS}
        for action in (
            "acknowledge",
            "classify",
            "assign",
            "escalate",
            "record_investigation",
            "propose_resolution",
            "resolve",
            "communicate_result",
            "confirm",
            "reopen",
            "close",
            "withdraw",
            "pause",
            "resume",
        )
    },
    "complaints.record_breach": frozenset({Role.SYSTEM}),
    # 服务管理科 handles service requests.
    **{
        f"service_requests.{action}": _EVERY_COMMANDER | {Role.SERVICE}
        for action in (
            "open",
            "assign",
            "respond",
            "pause",
            "resume",
            "resolve",
            "rate",
            "close",
            "cancel",
        )
    },
    "service_requests.record_breach": frozenset({Role.SYSTEM}),
    # 信用管理科 assesses, sets limits and checks orders; the department manager approves
    # limits above the threshold (four eyes: never the requester, see domain.credit).
    **{
        f"credit.{action}": _EVERY_COMMANDER | {Role.CREDIT}
        for action in (
            "open",
            "assess",
            "schedule_review",
            "set_limit",
            "check_order",
            "release_reservation",
            "record_invoice",
            "record_payment",
            "record_overdue",
            "block",
            "unblock",
            "start_repair_plan",
            "record_repair_progress",
            "complete_repair_plan",
        )
    },
    "credit.approve_limit_change": frozenset({Role.MANAGER}),
    "credit.reject_limit_change": frozenset({Role.MANAGER}),
    # Like a credit controller's release of a blocked order (SAP, ERPNext): a manager's call.
    "credit.release_blocked_order": frozenset({Role.MANAGER}),
    # A customer's objection to an automated rating reaches any section that faces them;
    # the manual review is the credit section's or the manager's.
    "credit.contest": _EVERY_COMMANDER
    | {Role.CREDIT, Role.COMPLAINTS, Role.INFORMATION, Role.SERVICE},
    "credit.review_contest": frozenset({Role.ADMIN, Role.MANAGER, Role.CREDIT}),
    # 风险管理科 identifies and assesses risks.
    "credit.assess_risk": _EVERY_COMMANDER | {Role.RISK},
    "credit.close_risk": _EVERY_COMMANDER | {Role.RISK},
    # 关系管理科 develops, signs, performs and ends contracts (seed 002's lifecycle).
    **{
        f"contracts.{action}": _EVERY_COMMANDER | {Role.RELATIONSHIP}
        for action in (
            "draft",
            "revise",
            "add_attachment",
            "submit_for_review",
            "sign",
            "propose_amendment",
            "renew",
            "sign_amendment",
            "withdraw_amendment",
            "remove_intermediary",
            "accept_delivery",
            "reject_delivery",
            "record_breach",
            "dissolve",
            "terminate",
            "settle",
            "hand_over_data",
        )
    },
    "contracts.record_payment": _EVERY_COMMANDER | {Role.RELATIONSHIP, Role.CREDIT},
    # The legal review (法务审核) of the text is a person's call: legal or the manager.
    "contracts.approve": frozenset({Role.LEGAL, Role.MANAGER}),
    "contracts.reject": frozenset({Role.LEGAL, Role.MANAGER}),
    # Facts that follow from the calendar: the scheduler records them.
    "contracts.activate": frozenset({Role.SYSTEM}),
    "contracts.mark_payment_overdue": frozenset({Role.SYSTEM}),
    "contracts.mark_hand_over_overdue": frozenset({Role.SYSTEM}),
    # 满意度管理科 runs surveys and their improvement actions. Answers reach kehu through
    # the sections that talk to the customer and from other systems (integrators).
    "surveys.request": _EVERY_COMMANDER | {Role.SATISFACTION},
    "surveys.answer": _EVERY_COMMANDER | {Role.SATISFACTION, Role.SERVICE, Role.COMPLAINTS},
    "surveys.manage_actions": _EVERY_COMMANDER | {Role.SATISFACTION},
    # An unanswered survey past its deadline: the scheduler records it.
    "surveys.expire": frozenset({Role.SYSTEM}),
    # 营销管理科 plans, runs and evaluates campaigns.
    **{
        f"campaigns.{action}": _EVERY_COMMANDER | {Role.MARKETING}
        for action in (
            "plan",
            "revise",
            "launch",
            "record_participation",
            "record_conversion",
            "record_cost",
            "close",
            "evaluate",
        )
    },
    # Staff training is the department's own (no section handles it): the manager runs it.
    **{
        f"trainings.{action}": _EVERY_COMMANDER
        for action in (
            "schedule",
            "enroll",
            "record_attendance",
            "record_assessment",
            "record_feedback",
            "complete",
            "cancel",
        )
    },
    # A person's PIPL rights (个人信息保护法 arts. 44–47), handled by people: the information
    # section keeps the records; legal and the manager decide restriction and erasure.
    "privacy.access": frozenset({Role.MANAGER, Role.INFORMATION, Role.LEGAL}),
    "privacy.correct": frozenset({Role.MANAGER, Role.INFORMATION, Role.LEGAL}),
    "privacy.restrict": frozenset({Role.MANAGER, Role.LEGAL}),
    "privacy.erase": frozenset({Role.MANAGER, Role.LEGAL}),
}

QUERIES: Mapping[str, frozenset[Role]] = {
    "customers.read": _READERS,
    "customers.history": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR}),
    "complaints.read": _READERS,
    "complaints.history": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR, Role.COMPLAINTS}),
    "service_requests.read": _READERS,
    "service_requests.history": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR, Role.SERVICE}),
    "credit.read": _READERS,
    "credit.history": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR, Role.CREDIT, Role.RISK}),
    "contracts.read": _READERS,
    "contracts.history": frozenset(
        {Role.ADMIN, Role.MANAGER, Role.AUDITOR, Role.RELATIONSHIP, Role.LEGAL}
    ),
    "surveys.read": _READERS,
    "surveys.history": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR, Role.SATISFACTION}),
    "campaigns.read": _READERS,
    "campaigns.history": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR, Role.MARKETING}),
    "trainings.read": _READERS,
    "trainings.history": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR}),
    # The KPI dashboard (经营指标看板): aggregate figures only, for every reader.
    "dashboard.read": _READERS,
    "events.feed": frozenset({Role.ADMIN, Role.AUDITOR, Role.INTEGRATOR}),
    # 审计轨迹: who did what, and the causal chain of a command.
    "audit.trail": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR}),
    "keys.manage": frozenset({Role.ADMIN}),
}


def authorize(principal: Principal, action: str) -> None:
    """Raise :class:`Forbidden` unless the principal's role may perform ``action``."""
    allowed = COMMANDS.get(action) or QUERIES.get(action)
    if allowed is None:
        raise Forbidden(f"{action} is not a known command or query")
    if principal.role not in allowed and principal.role is not Role.ADMIN:
        raise Forbidden(
            f"role {principal.role.value} may not perform {action}",
            role=principal.role.value,
            action=action,
        )
