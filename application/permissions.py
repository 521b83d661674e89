"""The role × command and role × query matrix, declared once and enforced in the
application layer for HTTP, GraphQL and the CLI alike.

Every action is named ``<context>.<verb>`` (``customers.register``, ``credit.read``) and
listed once, in :data:`COMMANDS` (it changes state) or :data:`QUERIES` (it reads), with the
roles that may perform it; an admin may perform every action. :func:`authorize` is the one
check: the role first (``auth.forbidden``), then the API key's scopes, if the key has any
(``auth.scope_forbidden``). Both are 403 and record nothing.

**Adding an action or an entry point** — every entry point declares the one action it
performs, so the README's role table can list where each action is reachable and a test can
walk every role against every entry point (tests/e2e/test_role_matrix.py):

1. Name the action in :data:`COMMANDS` or :data:`QUERIES` with its roles, and call
   ``authorize(principal, action)`` in the application service before anything is parsed
   or loaded (:class:`application.service.ContextService` does it for ``_act``/``_create``,
   ``load`` and ``history``).
2. REST: build the router with ``APIRouter(..., route_class=ActingRoute)`` and give the
   route ``openapi_extra=acts("privacy.export")`` (both from ``interfaces.rest.acting``).
   The route then authenticates and authorises *before the body is read*: a caller without
   the role gets 403, never a 400 or 422 that would tell them about the input. The action
   shows in the OpenAPI document as ``x-kehu-action``. Only ``/healthz``, ``/readyz``,
   ``/metrics`` and the documentation are public.
3. GraphQL: give the field ``extensions=[acts("privacy.read")]`` (from
   ``interfaces.graphql.acting``); it authorises before the resolver runs. A field that
   reads several contexts by id (``aggregate``) names each action it may need; the caller
   needs one of them, and the service checks the one the id turns out to need.
4. CLI: mark the command ``@acts("keys.manage")`` (from ``interfaces.cli.operator``) and
   run it as :data:`interfaces.cli.operator.CLI_OPERATOR`, an admin: whoever runs ``kehu``
   holds the database's credentials, so no narrower role would mean anything, but the
   command still goes through the same services and ``authorize``, and its events name
   the operator (``cli:<user>``).
5. Regenerate the README's table: ``python -m interfaces.matrix --write``.

Actions only kehu itself performs (the scheduler's, role ``system``) need no entry point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
    # Issuing and revoking API keys (application/keys.py).
    "keys.manage": frozenset({Role.ADMIN}),
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
}


#: What each role is for, in a line (the README's role table; the matrix above decides).
ROLE_DUTIES: Mapping[Role, str] = {
    Role.ADMIN: "everything, including API keys",
    Role.MANAGER: "every command (training is the manager's); alone (with admin) approves or"
    " rejects a requested credit limit (never their own) and releases blocked orders;"
    " reviews VIP applications, value-added services and contracts; every read but the"
    " event feed",
    Role.AUDITOR: "read only: every aggregate, its history, the event feed and the audit"
    " trail (personal data masked)",
    Role.INTEGRATOR: "machine clients: every command but the decisions people make (limit"
    " approvals, releases of blocked orders, contest, VIP, service and contract reviews);"
    " the event feed",
    Role.INFORMATION: "register, update profile, review info, record purchases; VIP"
    " applications, coupons, complaints and contests that reach the front desk",
    Role.RELATIONSHIP: "account manager, interactions, at-risk, churn, win-back, VIP"
    " applications and decisions (with the manager), growth plans, prevention tasks,"
    " relationship repair; contracts: draft, revise, sign, amend, renew, payments,"
    " delivery, breaches, dissolve, terminate, settle, hand over data",
    Role.SERVICE: "every service-request command; interactions; may lodge complaints;"
    " value-added services (their review with the manager); survey answers; contests",
    Role.COMPLAINTS: "every complaint command; survey answers; contests",
    Role.SATISFACTION: "request surveys, record answers, improvement actions; sees personal"
    " data (it calls customers back)",
    Role.CREDIT: "open, assess, set limits (above the threshold: request), check orders,"
    " invoices, payments, overdue, block, repair plans, review contested ratings; contract"
    " payments",
    Role.RISK: "assess and close risks",
    Role.MARKETING: "register, purchases, interactions, win-back, VIP applications, coupons,"
    " points redemption, campaigns",
    Role.LEGAL: "approve or reject contracts in legal review (with the manager); reads; sees"
    " personal data",
    Role.SYSTEM: "kehu itself (the scheduler): SLA breaches, calendar facts, tier reviews,"
    " expiries; never a decision a person makes; no API key carries it",
}


class ScopeForbidden(Forbidden):
    """The key's role may perform the action, but the key was limited to other actions."""

    code = "auth.scope_forbidden"
    title = "Outside the API key's scopes"


#: Roles an API key may carry: every role but kehu's own (the scheduler's facts are kehu's).
ISSUABLE_ROLES: tuple[Role, ...] = tuple(role for role in Role if role is not Role.SYSTEM)


def allowed_roles(action: str) -> frozenset[Role]:
    """The roles :func:`authorize` lets perform ``action`` (an admin always)."""
    allowed = COMMANDS.get(action) or QUERIES.get(action)
    if allowed is None:
        raise KeyError(action)
    return allowed | {Role.ADMIN}


def system_only(action: str) -> bool:
    """Whether only kehu itself performs the action (a fact the scheduler records)."""
    return (COMMANDS.get(action) or QUERIES.get(action)) == frozenset({Role.SYSTEM})


def context_of(action: str) -> str:
    """``customers`` for ``customers.register``."""
    return action.partition(".")[0]


def scope_covers(scope: str, action: str) -> bool:
    """A scope names one action (``customers.read``) or a context's (``customers.*``)."""
    if scope.endswith(".*"):
        return context_of(action) == scope[:-2]
    return scope == action


def actions_for(role: Role) -> list[str]:
    """Every action the role may perform, commands first, in declaration order."""
    return [action for action in (*COMMANDS, *QUERIES) if role in allowed_roles(action)]


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes that name no action and no context of the matrix."""
    actions = (*COMMANDS, *QUERIES)
    return [s for s in scopes if not any(scope_covers(s, action) for action in actions)]


def scopes_outside(role: Role, scopes: Iterable[str]) -> list[str]:
    """The scopes that cover nothing the role may do (a key cannot exceed its role)."""
    mine = actions_for(role)
    return [s for s in scopes if not any(scope_covers(s, action) for action in mine)]


def authorize(principal: Principal, action: str) -> None:
    """Raise :class:`Forbidden` unless the principal's role may perform ``action``, and
    :class:`ScopeForbidden` if its key's scopes leave the action out."""
    allowed = COMMANDS.get(action) or QUERIES.get(action)
    if allowed is None:
        raise Forbidden(f"{action} is not a known command or query")
    if principal.role not in allowed and principal.role is not Role.ADMIN:
        raise Forbidden(
            f"role {principal.role.value} may not perform {action}",
            role=principal.role.value,
            action=action,
        )
    scopes = principal.scopes
    if scopes is not None and not any(scope_covers(scope, action) for scope in scopes):
        raise ScopeForbidden(
            f"this API key is limited to {', '.join(sorted(scopes))}; {action} is not among them",
            action=action,
            scopes=" ".join(sorted(scopes)),
        )
