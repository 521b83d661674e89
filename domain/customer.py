"""Customer 客户 — an individual or an enterprise, and its relationship with us.

Lifecycle (客户生命周期)::

    prospect 潜在 ──first purchase──▶ active 活跃 ──mark at risk──▶ at_risk 流失风险
        │                              ▲   │                          │
        └──────────churn──────────┐    │   └────────churn─────────────┤
                                  ▼    │                              ▼
                             churned 已流失 ──win back──▶ won_back 挽回 ──purchase──▶ active

A purchase on a churned customer is refused: win the customer back first. A purchase by a
customer at risk or won back makes them active again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.base import (
    DomainError,
    KehuAggregate,
    PersonalData,
    aware,
    clean_text,
)
from domain.values import USCC, Email, MobilePhone, Money, ResidentIdNumber

CUSTOMER_NAMESPACE = uuid5(NAMESPACE_URL, "https://kehu.example/customer")


class CustomerKind(StrEnum):
    """个人客户 individual or 企业客户 enterprise."""

    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"


class CustomerStatus(StrEnum):
    PROSPECT = "prospect"  # 潜在
    ACTIVE = "active"  # 活跃
    AT_RISK = "at_risk"  # 流失风险
    CHURNED = "churned"  # 已流失
    WON_BACK = "won_back"  # 挽回


class InteractionKind(StrEnum):
    """客户沟通: visit 拜访, call 电话, email 邮件, feedback 反馈."""

    VISIT = "visit"
    CALL = "call"
    EMAIL = "email"
    FEEDBACK = "feedback"


STATUS_LABELS: Mapping[CustomerStatus, str] = {
    CustomerStatus.PROSPECT: "潜在",
    CustomerStatus.ACTIVE: "活跃",
    CustomerStatus.AT_RISK: "流失风险",
    CustomerStatus.CHURNED: "已流失",
    CustomerStatus.WON_BACK: "挽回",
}


# -- errors ---------------------------------------------------------------------------


class CustomerError(DomainError):
    code = "customer.error"


class CustomerIdentityMissing(CustomerError):
    code = "customer.identity_missing"
    kind = "invalid"


class InvalidCustomerField(CustomerError):
    code = "customer.invalid_field"
    kind = "invalid"


class CustomerChurned(CustomerError):
    code = "customer.churned"


class DuplicateOrder(CustomerError):
    code = "customer.duplicate_order"


class TransitionRefused(CustomerError):
    code = "customer.transition_refused"


class ReviewDateInvalid(CustomerError):
    code = "customer.review_date_invalid"
    kind = "invalid"


# -- identity --------------------------------------------------------------------------


def enterprise_customer_id(uscc: USCC) -> UUID:
    """An enterprise's id follows from its USCC, so the store refuses a second one."""
    return uuid5(CUSTOMER_NAMESPACE, f"uscc:{uscc}")


def _clean_text(field: str, value: str | None, *, max_length: int) -> str:
    return clean_text(field, value, max_length=max_length, error=InvalidCustomerField)


def _tag_list(tags: object) -> Iterable[str]:
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise InvalidCustomerField("tags must be a list of text", field="tags")
    return tags


def _consent(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidCustomerField(
            "marketing_consent must be true or false", field="marketing_consent"
        )
    return value


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        value = _clean_text("tag", tag, max_length=40)
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > 30:
        raise InvalidCustomerField("a customer carries at most 30 tags", field="tags")
    return sorted(cleaned)


# -- the aggregate ---------------------------------------------------------------------


class Customer(KehuAggregate):
    """客户: profile and contacts, lifecycle, interactions and purchases."""

    EDITABLE_FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "phone",
        "email",
        "segment",
        "source",
        "tags",
        "marketing_consent",
    )

    class Registered(Aggregate.Created):
        kind: str
        name: PersonalData[str]
        phone: PersonalData[str | None]
        email: PersonalData[str | None]
        uscc: str | None
        id_number: PersonalData[str | None]
        source: str | None
        segment: str | None
        tags: list[str]
        marketing_consent: bool
        registered_on: date

    class ProfileUpdated(Aggregate.Event):
        """Only the changed fields are recorded."""

        changes: PersonalData[dict[str, Any]]

    class AccountManagerAssigned(Aggregate.Event):
        manager_id: str
        manager_name: str

    class InteractionRecorded(Aggregate.Event):
        kind: str
        summary: PersonalData[str]
        occurred_at: datetime
        staff: str | None

    class PurchaseRecorded(Aggregate.Event):
        order_ref: str
        amount: Money
        category: str
        occurred_on: date

    class Activated(Aggregate.Event):
        """→ 活跃 on a purchase by a prospect, a customer at risk or one won back."""

        occurred_on: date

    class MarkedAtRisk(Aggregate.Event):
        reason: str

    class Churned(Aggregate.Event):
        reason: str

    class WonBack(Aggregate.Event):
        action: str

    class InfoReviewed(Aggregate.Event):
        """定期审核: the profile was checked, and when it is next due."""

        reviewed_on: date
        next_review_due: date

    # -- creation --------------------------------------------------------------------

    @event(Registered)
    def __init__(
        self,
        id: UUID,
        kind: str,
        name: str,
        phone: str | None,
        email: str | None,
        uscc: str | None,
        id_number: str | None,
        source: str | None,
        segment: str | None,
        tags: list[str],
        marketing_consent: bool,
        registered_on: date,
    ) -> None:
        self.kind = CustomerKind(kind)
        self.name = name
        self.phone = phone
        self.email = email
        self.uscc = uscc
        self.id_number = id_number
        self.source = source
        self.segment = segment
        self.tags = list(tags)
        self.marketing_consent = marketing_consent
        self.registered_on = registered_on
        self.status = CustomerStatus.PROSPECT
        self.account_manager: dict[str, str] | None = None
        self.order_refs: set[str] = set()
        self.purchase_count = 0
        self.interaction_count = 0
        self.last_purchase_on: date | None = None
        self.last_interaction_at: datetime | None = None
        self.last_reviewed_on: date | None = None
        self.next_review_due: date | None = None
        self.status_reason: str | None = None

    @classmethod
    def register(
        cls,
        *,
        new_id: UUID,
        kind: str,
        name: str,
        registered_on: date,
        phone: str | None = None,
        email: str | None = None,
        uscc: str | None = None,
        id_number: str | None = None,
        source: str | None = None,
        segment: str | None = None,
        tags: Iterable[str] = (),
        marketing_consent: bool = False,
    ) -> Customer:
        """Register a customer. Enterprises are identified by their USCC, whose id is
        derived from it; individuals may give a resident ID number."""
        try:
            customer_kind = CustomerKind(kind)
        except ValueError:
            raise InvalidCustomerField(
                f"kind must be 'individual' or 'enterprise', not {kind!r}", field="kind"
            ) from None
        clean_name = _clean_text("name", name, max_length=200)
        clean_phone = str(MobilePhone.parse(phone)) if phone else None
        clean_email = str(Email.parse(email)) if email else None
        clean_uscc = str(USCC.parse(uscc)) if uscc else None
        clean_id = str(ResidentIdNumber.parse(id_number)) if id_number else None
        if customer_kind is CustomerKind.ENTERPRISE:
            if clean_uscc is None:
                raise CustomerIdentityMissing(
                    "an enterprise customer is registered with its Unified Social Credit Code"
                    " (统一社会信用代码)"
                )
            if clean_id is not None:
                raise InvalidCustomerField(
                    "an enterprise has a USCC, not a resident ID number", field="id_number"
                )
            expected = enterprise_customer_id(USCC.parse(clean_uscc))
            if new_id != expected:
                raise InvalidCustomerField(
                    "an enterprise's id is derived from its USCC", field="id"
                )
        elif clean_uscc is not None:
            raise InvalidCustomerField(
                "an individual has a resident ID number, not a USCC", field="uscc"
            )
        if clean_phone is None and clean_email is None:
            raise CustomerIdentityMissing("a customer needs a mobile phone or an email")
        return cls(
            id=new_id,
            kind=customer_kind.value,
            name=clean_name,
            phone=clean_phone,
            email=clean_email,
            uscc=clean_uscc,
            id_number=clean_id,
            source=_clean_text("source", source, max_length=60) if source else None,
            segment=_clean_text("segment", segment, max_length=60) if segment else None,
            tags=_clean_tags(_tag_list(tags)),
            marketing_consent=_consent(marketing_consent),
            registered_on=registered_on,
        )

    # -- profile ---------------------------------------------------------------------

    def update_profile(self, **fields: Any) -> None:
        """Change profile fields; only fields whose value really changes are recorded.
        Nothing changed means no event."""
        unknown = sorted(set(fields) - set(self.EDITABLE_FIELDS))
        if unknown:
            raise InvalidCustomerField(
                f"these fields cannot be updated: {', '.join(unknown)}", field=unknown[0]
            )
        normalised = {name: self._normalise(name, value) for name, value in fields.items()}
        changes = {
            name: value for name, value in normalised.items() if getattr(self, name) != value
        }
        if changes.get("phone", self.phone) is None and changes.get("email", self.email) is None:
            raise CustomerIdentityMissing("a customer keeps a mobile phone or an email")
        if changes:
            self._profile_updated(changes=changes)

    def _normalise(self, name: str, value: Any) -> Any:
        if name == "name":
            return _clean_text("name", value, max_length=200)
        if name == "phone":
            return str(MobilePhone.parse(value)) if value else None
        if name == "email":
            return str(Email.parse(value)) if value else None
        if name in ("segment", "source"):
            return _clean_text(name, value, max_length=60) if value else None
        if name == "tags":
            return _clean_tags(_tag_list(value))
        if name == "marketing_consent":
            return _consent(value)
        raise InvalidCustomerField(f"unknown field {name}", field=name)  # pragma: no cover

    @event(ProfileUpdated)
    def _profile_updated(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, list(value) if name == "tags" else value)

    # -- relationship ----------------------------------------------------------------

    def assign_account_manager(self, manager_id: str, manager_name: str) -> None:
        """专属客户经理."""
        mid = _clean_text("manager_id", manager_id, max_length=64)
        mname = _clean_text("manager_name", manager_name, max_length=100)
        if self.account_manager == {"id": mid, "name": mname}:
            return
        self._account_manager_assigned(manager_id=mid, manager_name=mname)

    @event(AccountManagerAssigned)
    def _account_manager_assigned(self, manager_id: str, manager_name: str) -> None:
        self.account_manager = {"id": manager_id, "name": manager_name}

    def record_interaction(
        self, kind: str, summary: str, occurred_at: datetime, staff: str | None = None
    ) -> None:
        """客户沟通: a visit, call, email or feedback, at its business time."""
        try:
            interaction = InteractionKind(kind)
        except ValueError:
            raise InvalidCustomerField(
                f"interaction kind must be one of {', '.join(k.value for k in InteractionKind)}",
                field="kind",
            ) from None
        aware("occurred_at", occurred_at)
        self._interaction_recorded(
            kind=interaction.value,
            summary=_clean_text("summary", summary, max_length=2000),
            occurred_at=occurred_at,
            staff=_clean_text("staff", staff, max_length=100) if staff else None,
        )

    @event(InteractionRecorded)
    def _interaction_recorded(
        self, kind: str, summary: str, occurred_at: datetime, staff: str | None
    ) -> None:
        self.interaction_count += 1
        if self.last_interaction_at is None or occurred_at > self.last_interaction_at:
            self.last_interaction_at = occurred_at

    def record_purchase(
        self, order_ref: str, amount: Money, category: str, occurred_on: date
    ) -> None:
        """交易记录. The first purchase makes a prospect active."""
        ref = _clean_text("order_ref", order_ref, max_length=64)
        if self.status == CustomerStatus.CHURNED:
            raise CustomerChurned(
                "a churned customer cannot make purchases; win the customer back first",
                current_status=str(self.status),
            )
        if ref in self.order_refs:
            raise DuplicateOrder(f"order {ref} is already recorded for this customer")
        if amount.is_negative() or amount.is_zero():
            raise InvalidCustomerField("a purchase amount must be positive", field="amount")
        self._purchase_recorded(
            order_ref=ref,
            amount=amount,
            category=_clean_text("category", category, max_length=60),
            occurred_on=occurred_on,
        )
        # A purchase shows the customer is active: a prospect, a customer won back and
        # one at risk all become active again.
        if self.status in (
            CustomerStatus.PROSPECT,
            CustomerStatus.WON_BACK,
            CustomerStatus.AT_RISK,
        ):
            self._activated(occurred_on=occurred_on)

    @event(PurchaseRecorded)
    def _purchase_recorded(
        self, order_ref: str, amount: Money, category: str, occurred_on: date
    ) -> None:
        self.order_refs.add(order_ref)
        self.purchase_count += 1
        if self.last_purchase_on is None or occurred_on > self.last_purchase_on:
            self.last_purchase_on = occurred_on

    @event(Activated)
    def _activated(self, occurred_on: date) -> None:
        self.status = CustomerStatus.ACTIVE
        self.status_reason = None

    # -- lifecycle -------------------------------------------------------------------

    def mark_at_risk(self, reason: str) -> None:
        """流失风险: only an active or won-back customer can be at risk."""
        self._check_status("mark at risk", {CustomerStatus.ACTIVE, CustomerStatus.WON_BACK})
        self._marked_at_risk(reason=_clean_text("reason", reason, max_length=500))

    @event(MarkedAtRisk)
    def _marked_at_risk(self, reason: str) -> None:
        self.status = CustomerStatus.AT_RISK
        self.status_reason = reason

    def churn(self, reason: str) -> None:
        """已流失, with the cause (流失原因)."""
        if self.status == CustomerStatus.CHURNED:
            raise TransitionRefused(
                "the customer has already churned", current_status=str(self.status)
            )
        self._churned(reason=_clean_text("reason", reason, max_length=500))

    @event(Churned)
    def _churned(self, reason: str) -> None:
        self.status = CustomerStatus.CHURNED
        self.status_reason = reason

    def win_back(self, action: str) -> None:
        """挽回: credit the action or campaign that won the customer back."""
        self._check_status("win back", {CustomerStatus.CHURNED})
        self._won_back(action=_clean_text("action", action, max_length=500))

    @event(WonBack)
    def _won_back(self, action: str) -> None:
        self.status = CustomerStatus.WON_BACK
        self.status_reason = action

    def confirm_info_reviewed(self, reviewed_on: date, next_review_due: date) -> None:
        """定期审核: the information was reviewed; the next review is due then."""
        if next_review_due <= reviewed_on:
            raise ReviewDateInvalid(
                f"the next review ({next_review_due}) must come after this one ({reviewed_on})"
            )
        if self.last_reviewed_on is not None and reviewed_on < self.last_reviewed_on:
            raise ReviewDateInvalid(
                f"a review on {reviewed_on} is earlier than the last one ({self.last_reviewed_on})"
            )
        self._info_reviewed(reviewed_on=reviewed_on, next_review_due=next_review_due)

    @event(InfoReviewed)
    def _info_reviewed(self, reviewed_on: date, next_review_due: date) -> None:
        self.last_reviewed_on = reviewed_on
        self.next_review_due = next_review_due

    def _check_status(self, action: str, allowed: set[CustomerStatus]) -> None:
        if self.status not in allowed:
            allowed_names = ", ".join(sorted(s.value for s in allowed))
            raise TransitionRefused(
                f"cannot {action} a customer who is {self.status}"
                f" ({STATUS_LABELS[self.status]}); allowed from: {allowed_names}",
                current_status=str(self.status),
            )
