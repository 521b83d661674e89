"""Contracts in GraphQL: ``contract(id, asOf)`` with its terms (current, as of any day,
every signed version), amendments with their clause diffs, the payment schedule,
payments, breaches with penalties, delivery, ending, settlement and data hand-over;
``contracts`` (a Relay connection with a typed filter); ``contractPipeline``;
``contractPaymentsDue``; ``contractBreaches``.

Everything is answered from the contract read models (``projections.contracts``), never
by replaying the event store. A customer party's name is personal data (个人信息): it is
masked unless the caller's role may see personal data. Days (due dates, "today") are
calendar days in Asia/Shanghai, as in the domain.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from application.clock import utc_now
from application.context import Principal
from application.privacy import mask_value, may_see_personal_data
from domain.contract import (
    AMENDMENT_KIND_LABELS,
    AMENDMENT_STATUS_LABELS,
    CLAUSE_LABELS,
    DELIVERY_LABELS,
    DISPUTE_LABELS,
    DISSOLUTION_LABELS,
    KIND_LABELS,
    METHOD_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    TERMINATION_LABELS,
    AmendmentKind,
    AmendmentStatus,
    DeliveryStatus,
    DisputeMethod,
    PartyKind,
    PartyRole,
    SignatureMethod,
    business_day,
)
from domain.contract import ContractStatus as DomainStatus
from interfaces.graphql.acting import acts
from interfaces.graphql.common import (
    Connection,
    Context,
    Money,
    OrderDirection,
    check_page_size,
    connection,
    guard,
    offset_after,
)
from interfaces.graphql.disclosures import ShowsPersonalData
from projections.contracts import (
    AmendmentRow,
    BreachFilter,
    BreachRow,
    ContractFilter,
    ContractRow,
    InstalmentDue,
    InstalmentRow,
    IntermediaryRow,
    PartyRow,
    PaymentRow,
    PipelineStage,
    TermsVersionRow,
)

READ = "contracts.read"

# -- enums -------------------------------------------------------------------------------


@strawberry.enum(description="合同生命周期 contract status")
class ContractStatus(Enum):
    DRAFT = strawberry.enum_value("draft", description="草稿 draft")
    IN_REVIEW = strawberry.enum_value("in_review", description="审核中 in legal review")
    APPROVED = strawberry.enum_value("approved", description="已审核 approved by legal")
    REJECTED = strawberry.enum_value("rejected", description="已驳回 rejected by legal")
    SIGNING = strawberry.enum_value("signing", description="签署中 being signed")
    SIGNED = strawberry.enum_value("signed", description="已签署 signed, not yet started")
    IN_FORCE = strawberry.enum_value("in_force", description="生效 in force")
    TERMINATED = strawberry.enum_value("terminated", description="已终止 terminated")
    DISSOLVED = strawberry.enum_value("dissolved", description="已解除 dissolved")
    SETTLED = strawberry.enum_value("settled", description="已结算 settled")


@strawberry.enum(description="合同当事方 a party's role")
class ContractPartyRole(Enum):
    A = strawberry.enum_value("a", description="甲方 party A")
    B = strawberry.enum_value("b", description="乙方 party B")
    INTERMEDIARY = strawberry.enum_value("intermediary", description="第三方中介 intermediary")


@strawberry.enum(description="当事方类型: a customer of ours or another organisation")
class ContractPartyKind(Enum):
    CUSTOMER = strawberry.enum_value("customer", description="客户 customer")
    ORGANISATION = strawberry.enum_value("organisation", description="组织 organisation")


@strawberry.enum(description="签署方式 how a signature was given")
class ContractSignatureMethod(Enum):
    WET_INK = strawberry.enum_value("wet_ink", description="手签 wet ink")
    E_SIGNATURE = strawberry.enum_value("e_signature", description="电子签名 e-signature")
    SEAL = strawberry.enum_value("seal", description="盖章 company seal")


@strawberry.enum(description="争议解决方式 dispute resolution")
class ContractDisputeMethod(Enum):
    NEGOTIATION = strawberry.enum_value("negotiation", description="协商 negotiation")
    ARBITRATION = strawberry.enum_value("arbitration", description="仲裁 arbitration")
    COURT = strawberry.enum_value("court", description="诉讼 court")


@strawberry.enum(description="条款版本来源 where a terms version came from")
class ContractVersionKind(Enum):
    ORIGINAL = strawberry.enum_value("original", description="原合同 the signed contract")
    CHANGE = strawberry.enum_value("change", description="变更 a change amendment")
    RENEWAL = strawberry.enum_value("renewal", description="续约 a renewal")


@strawberry.enum(description="变更协议类型 amendment kind")
class ContractAmendmentKind(Enum):
    CHANGE = strawberry.enum_value("change", description="变更 change")
    RENEWAL = strawberry.enum_value("renewal", description="续约 renewal")


@strawberry.enum(description="变更协议状态 amendment status")
class ContractAmendmentStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="待签署 awaiting signatures")
    IN_FORCE = strawberry.enum_value("in_force", description="已生效 signed by every party")
    WITHDRAWN = strawberry.enum_value("withdrawn", description="已撤回 withdrawn")


@strawberry.enum(description="交付验收状态 delivery status")
class ContractDeliveryStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="待验收 awaiting acceptance")
    ACCEPTED = strawberry.enum_value("accepted", description="验收通过 accepted")
    REJECTED = strawberry.enum_value("rejected", description="整改中 rejected, being rectified")


@strawberry.enum(description="合同终止或解除的原因 why the contract ended")
class ContractEndingReason(Enum):
    EXPIRY = strawberry.enum_value("expiry", description="期限届满 expiry")
    MUTUAL = strawberry.enum_value("mutual", description="协商一致 mutual agreement")
    FORCE_MAJEURE = strawberry.enum_value("force_majeure", description="不可抗力 force majeure")
    MATERIAL_BREACH = strawberry.enum_value(
        "material_breach", description="严重违约 material breach"
    )


@strawberry.enum
class ContractOrderField(Enum):
    NUMBER = "number"
    DRAFTED_AT = "drafted_at"
    START_DATE = "start_date"
    END_DATE = "end_date"
    AMOUNT = strawberry.enum_value("amount", description="The current amount (minor units)")
    STATUS = "status"


_VERSION_KIND_LABELS = {
    "original": "原合同",
    **{k.value: v for k, v in AMENDMENT_KIND_LABELS.items()},
}
_ENDING_LABELS = {
    **{k.value: v for k, v in TERMINATION_LABELS.items()},
    **{k.value: v for k, v in DISSOLUTION_LABELS.items()},
}


def _money(amount: Decimal | str, currency: str) -> Money:
    return Money(amount=str(amount), currency=currency)


def _plain_money(data: dict[str, Any]) -> Money:
    return Money(amount=str(data["amount"]), currency=str(data["currency"]))


def _role(value: str | None) -> ContractPartyRole | None:
    return ContractPartyRole(value) if value is not None else None


def _role_label(value: str) -> str:
    return ROLE_LABELS[PartyRole(value)]


def _today() -> date:
    return business_day(utc_now())


def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
        raise GraphQLError(
            f"{name} needs a timezone offset", extensions={"code": "validation.naive_datetime"}
        )
    return moment


# -- terms -------------------------------------------------------------------------------


@strawberry.type(description="付款计划: one instalment as the terms schedule it.")
class ScheduledInstalment:
    number: int
    due_date: date
    amount: Money


@strawberry.type(description="交付: what is delivered and by when.")
class ContractDeliveryTerms:
    description: str
    due_date: date


@strawberry.type(description="争议解决: negotiation, or the named arbitration body or court.")
class ContractDisputeResolution:
    method: ContractDisputeMethod
    label: str
    body: str | None = strawberry.field(description="仲裁委员会 or court, by name")


@strawberry.type(description="合同条款: the clauses one version fixes (or the draft proposes).")
class ContractTerms:
    start_date: date
    end_date: date
    amount: Money
    payment_schedule: list[ScheduledInstalment]
    delivery: ContractDeliveryTerms
    rectification_days: int = strawberry.field(description="整改期限: days after a rejection")
    confidentiality_years: int
    penalty_rate: str = strawberry.field(description="违约金比例, a decimal (0 < rate ≤ 0.30)")
    dispute_resolution: ContractDisputeResolution
    breach_notice_days: int = strawberry.field(description="违约通知期限 before dissolving")
    hand_over_days: int = strawberry.field(description="数据移交期限: days after the ending")

    @classmethod
    def of(cls, data: dict[str, Any]) -> ContractTerms:
        dispute = data["dispute_resolution"]
        return cls(
            start_date=date.fromisoformat(data["start_date"]),
            end_date=date.fromisoformat(data["end_date"]),
            amount=_plain_money(data["amount"]),
            payment_schedule=[
                ScheduledInstalment(
                    number=item["number"],
                    due_date=date.fromisoformat(item["due_date"]),
                    amount=_plain_money(item["amount"]),
                )
                for item in data["payment_schedule"]
            ],
            delivery=ContractDeliveryTerms(
                description=data["delivery"]["description"],
                due_date=date.fromisoformat(data["delivery"]["due_date"]),
            ),
            rectification_days=data["rectification_days"],
            confidentiality_years=data["confidentiality_years"],
            penalty_rate=str(data["penalty_rate"]),
            dispute_resolution=ContractDisputeResolution(
                method=ContractDisputeMethod(dispute["method"]),
                label=DISPUTE_LABELS[DisputeMethod(dispute["method"])],
                body=dispute.get("body"),
            ),
            breach_notice_days=data["breach_notice_days"],
            hand_over_days=data["hand_over_days"],
        )


@strawberry.type(
    description="条款对比: one clause that changed. before and after are JSON: money as"
    ' {"amount": "decimal", "currency"}, dates as ISO text, rates as decimal text.'
)
class ClauseChange:
    clause: str
    label: str = strawberry.field(description="The clause in Chinese, e.g. 合同金额")
    before: JSON
    after: JSON


def _changes(diff: list[dict[str, Any]]) -> list[ClauseChange]:
    return [
        ClauseChange(
            clause=d["clause"],
            label=CLAUSE_LABELS.get(d["clause"], d["clause"]),
            before=d["before"],
            after=d["after"],
        )
        for d in diff
    ]


@strawberry.type(
    description="One signed version of the terms, with its clauses: version 1 from the start"
    " date, then one per amendment signed by every party, from its effective date."
)
class ContractTermsVersion(ContractTerms):
    version: int
    effective_date: date
    kind: ContractVersionKind
    kind_label: str
    amendment_number: int | None
    changes: list[ClauseChange] = strawberry.field(description="What it changed (none for v1)")

    @classmethod
    def of_row(cls, row: TermsVersionRow) -> ContractTermsVersion:
        clauses = ContractTerms.of(row.terms)
        return cls(
            **{f: getattr(clauses, f) for f in _CLAUSE_FIELDS},
            version=row.version,
            effective_date=row.effective_date,
            kind=ContractVersionKind(row.kind),
            kind_label=_VERSION_KIND_LABELS[row.kind],
            amendment_number=row.amendment,
            changes=_changes(row.diff),
        )


_CLAUSE_FIELDS = tuple(f.name for f in dataclasses.fields(ContractTerms))


# -- parts of a contract ----------------------------------------------------------------


@strawberry.type(description="A signature (the signatory's name is not shown here).")
class ContractSignature:
    party: ContractPartyRole
    party_label: str
    method: ContractSignatureMethod
    method_label: str
    signed_at: datetime


def _signatures(signatures: dict[str, dict[str, Any]]) -> list[ContractSignature]:
    order = [role.value for role in PartyRole]
    return [
        ContractSignature(
            party=ContractPartyRole(role),
            party_label=_role_label(role),
            method=ContractSignatureMethod(signatures[role]["method"]),
            method_label=METHOD_LABELS[SignatureMethod(signatures[role]["method"])],
            signed_at=datetime.fromisoformat(signatures[role]["signed_at"]),
        )
        for role in order
        if role in signatures
    ]


@strawberry.type(description="变更协议 (or 续约): a numbered amendment and its clause diff.")
class ContractAmendment:
    number: int
    kind: ContractAmendmentKind
    kind_label: str
    status: ContractAmendmentStatus
    status_label: str
    base_version: int = strawberry.field(description="The terms version it amends")
    version: int | None = strawberry.field(description="The version it made, once in force")
    effective_date: date
    reason: str
    changes: list[ClauseChange]
    terms: ContractTerms = strawberry.field(description="The whole terms it proposes")
    signatures: list[ContractSignature]
    proposed_at: datetime
    concluded_at: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None

    @classmethod
    def of(cls, row: AmendmentRow) -> ContractAmendment:
        return cls(
            number=row.number,
            kind=ContractAmendmentKind(row.kind),
            kind_label=AMENDMENT_KIND_LABELS[AmendmentKind(row.kind)],
            status=ContractAmendmentStatus(row.status),
            status_label=AMENDMENT_STATUS_LABELS[AmendmentStatus(row.status)],
            base_version=row.base_version,
            version=row.version,
            effective_date=row.effective_date,
            reason=row.reason,
            changes=_changes(row.diff),
            terms=ContractTerms.of(row.terms),
            signatures=_signatures(row.signatures),
            proposed_at=row.proposed_at,
            concluded_at=row.concluded_at,
            withdrawn_at=row.withdrawn_at,
            withdrawal_reason=row.withdrawal_reason,
        )


@strawberry.type(description="甲方 or 乙方.")
class ContractParty:
    role: ContractPartyRole
    role_label: str
    kind: ContractPartyKind
    kind_label: str
    customer_id: strawberry.ID | None = strawberry.field(description="For a customer party")
    name: str = strawberry.field(
        description="A customer's name is masked unless the caller's role may see personal data",
        extensions=[ShowsPersonalData("customer_id")],
    )
    signed_at: datetime | None
    signature_method: ContractSignatureMethod | None

    @classmethod
    def of(cls, row: PartyRow, principal: Principal) -> ContractParty:
        name = row.name
        if name is None:
            customer_name = row.customer_name or ""
            visible = may_see_personal_data(principal.role)
            name = customer_name if visible else mask_value(customer_name)
        return cls(
            role=ContractPartyRole(row.role),
            role_label=_role_label(row.role),
            kind=ContractPartyKind(row.kind),
            kind_label=KIND_LABELS[PartyKind(row.kind)],
            customer_id=strawberry.ID(row.customer_id) if row.customer_id else None,
            name=name or "",
            signed_at=row.signed_at,
            signature_method=(
                ContractSignatureMethod(row.signature_method) if row.signature_method else None
            ),
        )


@strawberry.type(description="第三方中介 with its liability cap (责任限额) and fee (服务费).")
class ContractIntermediary:
    name: str
    liability_cap: Money
    fee: Money
    signed_at: datetime | None
    signature_method: ContractSignatureMethod | None
    removed_at: datetime | None = strawberry.field(description="When it left (退出), if it did")
    removal_reason: str | None

    @classmethod
    def of(cls, row: IntermediaryRow, currency: str) -> ContractIntermediary:
        return cls(
            name=row.name,
            liability_cap=_money(row.liability_cap, currency),
            fee=_money(row.fee, currency),
            signed_at=row.signed_at,
            signature_method=(
                ContractSignatureMethod(row.signature_method) if row.signature_method else None
            ),
            removed_at=row.removed_at,
            removal_reason=row.removal_reason,
        )


@strawberry.type(description="One instalment of the latest agreed schedule and what is paid.")
class ContractInstalment:
    number: int
    due_date: date
    amount: Money
    paid: Money
    outstanding: Money
    overdue: bool = strawberry.field(
        description="Past due today (Asia/Shanghai) with something unpaid"
    )
    overdue_recorded_on: date | None = strawberry.field(
        description="When the scheduler recorded it overdue (逾期付款), once"
    )

    @classmethod
    def of(cls, row: InstalmentRow, currency: str, today: date) -> ContractInstalment:
        return cls(
            number=row.number,
            due_date=row.due_date,
            amount=_money(row.amount, currency),
            paid=_money(row.paid, currency),
            outstanding=_money(row.outstanding, currency),
            overdue=row.overdue_on(today),
            overdue_recorded_on=row.overdue_recorded_on,
        )


@strawberry.type(description="付款 against an instalment.")
class ContractPayment:
    instalment: int
    amount: Money
    paid_on: date
    reference: str | None

    @classmethod
    def of(cls, row: PaymentRow) -> ContractPayment:
        return cls(
            instalment=row.instalment,
            amount=_money(row.amount, row.currency),
            paid_on=row.paid_on,
            reference=row.reference,
        )


@strawberry.type(
    description="违约: penalty = base × the penalty rate of the terms governing on the breach"
    " day, rounded to the minor unit; an intermediary's are capped at its liability cap."
)
class ContractBreach:
    contract_id: strawberry.ID
    contract_number: str
    number: int
    party: ContractPartyRole
    party_label: str
    description: str
    base: Money
    penalty_rate: str
    penalty: Money
    rounding: str = strawberry.field(description="The rounding mode, e.g. ROUND_HALF_UP")
    capped: bool = strawberry.field(description="Cut to the intermediary's remaining cap")
    at: datetime

    @classmethod
    def of(cls, row: BreachRow) -> ContractBreach:
        return cls(
            contract_id=strawberry.ID(row.contract_id),
            contract_number=row.contract_number,
            number=row.number,
            party=ContractPartyRole(row.party),
            party_label=_role_label(row.party),
            description=row.description,
            base=_money(row.base, row.currency),
            penalty_rate=str(row.penalty_rate),
            penalty=_money(row.penalty, row.currency),
            rounding=row.rounding,
            capped=row.capped,
            at=row.at,
        )


@strawberry.type(description="Penalties recorded against one party, summed.")
class ContractPenalty:
    party: ContractPartyRole
    party_label: str
    amount: Money


def _penalties(penalties: dict[str, Decimal], currency: str) -> list[ContractPenalty]:
    return [
        ContractPenalty(
            party=ContractPartyRole(role),
            party_label=_role_label(role),
            amount=_money(penalties[role], currency),
        )
        for role in (r.value for r in PartyRole)
        if role in penalties
    ]


@strawberry.type(description="验收不通过: the reasons and the rectification deadline.")
class ContractDeliveryRejection:
    reasons: list[str]
    at: datetime
    rectification_due_on: date


@strawberry.type(description="交付 and its acceptance (验收).")
class ContractDelivery:
    status: ContractDeliveryStatus
    status_label: str
    description: str
    due_date: date
    rectification_due_on: date | None = strawberry.field(description="整改期限")
    accepted_at: datetime | None
    after_rectification_deadline: bool | None
    rejections: list[ContractDeliveryRejection]


@strawberry.type(description="How the contract ended: 终止 (terminated) or 解除 (dissolved).")
class ContractEnding:
    kind: ContractStatus
    kind_label: str
    reason: ContractEndingReason
    reason_label: str
    by_party: ContractPartyRole | None = strawberry.field(
        description="Who dissolved it for the other side's material breach"
    )
    notice_given_on: date | None
    ended_on: date
    at: datetime
    note: str | None


@strawberry.type(
    description="清算: balance = amount due − paid + payer's penalties − payee's penalties,"
    " owed by the payer to the payee (negative: the payee refunds)."
)
class ContractSettlement:
    terms_version: int
    amount_due: Money
    paid: Money
    outstanding: Money
    penalties: list[ContractPenalty]
    balance: Money
    owed_by: ContractPartyRole | None
    owed_to: ContractPartyRole | None
    at: datetime


@strawberry.type(description="客户数据移交: the export of the customer's data after the ending.")
class ContractHandOver:
    due_on: date
    handed_over_at: datetime | None
    package_name: str | None
    sha256: str | None
    late: bool | None
    overdue_recorded_on: date | None = strawberry.field(
        description="When the scheduler recorded the hand-over overdue, once"
    )


@strawberry.type(description="法务审核: one review decision.")
class ContractReview:
    decision: str = strawberry.field(description="approved (审核通过) or rejected (审核驳回)")
    reviewer_id: str
    comments: str | None
    at: datetime


@strawberry.type(description="附件, identified by its SHA-256.")
class ContractAttachment:
    name: str
    sha256: str
    at: datetime


# -- the contract ------------------------------------------------------------------------


@strawberry.type(description="合同: one contract from the contract read model.")
class Contract:
    id: strawberry.ID
    number: str = strawberry.field(description="合同编号, upper case")
    title: str
    as_of: date | None = strawberry.field(
        description="The day asked for with `contract(asOf:)`: status, terms, termsVersion,"
        " amount, startDate and endDate are as of that day; lists are the full record"
    )
    status: ContractStatus
    status_label: str = strawberry.field(description="The status in Chinese, e.g. 生效")
    party_a: ContractParty
    party_b: ContractParty
    parties: list[ContractParty]
    intermediary: ContractIntermediary | None = strawberry.field(
        description="第三方中介 while it is a party"
    )
    intermediary_exit: ContractIntermediary | None = strawberry.field(
        description="The intermediary that left, if one did"
    )
    leading_party: ContractPartyRole = strawberry.field(description="主导方")
    payer: ContractPartyRole = strawberry.field(description="The party that pays the amount")
    currency: str
    amount: Money
    start_date: date
    end_date: date
    terms_version: int
    terms: ContractTerms = strawberry.field(
        description="The latest agreed terms (the draft's before signing), or those in force"
        " on asOf"
    )
    drafted_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    signed_at: datetime | None = strawberry.field(description="When the last party signed")
    activated_at: datetime | None
    reviews: list[ContractReview]
    attachments: list[ContractAttachment]
    signatures: list[ContractSignature]
    pending_amendment: int | None = strawberry.field(
        description="The amendment awaiting signatures, if any"
    )
    paid_total: Money
    penalties: list[ContractPenalty]
    delivery: ContractDelivery
    ending: ContractEnding | None
    settlement: ContractSettlement | None
    hand_over: ContractHandOver | None
    version: int
    updated_at: datetime
    row: strawberry.Private[ContractRow]

    @classmethod
    def from_row(
        cls,
        row: ContractRow,
        principal: Principal,
        *,
        as_of: date | None = None,
        terms: TermsVersionRow | None = None,
    ) -> Contract:
        currency = row.currency
        terms_data = terms.terms if terms is not None else row.terms
        shown_terms = ContractTerms.of(terms_data)
        status = (row.status_on(as_of) if as_of is not None else None) or row.status
        party_a = ContractParty.of(row.party_a, principal)
        party_b = ContractParty.of(row.party_b, principal)
        delivery = row.delivery
        ending = row.ending
        settlement = row.settlement
        hand_over = row.hand_over
        return cls(
            id=strawberry.ID(row.id),
            number=row.number,
            title=row.title,
            as_of=as_of,
            status=ContractStatus(status),
            status_label=STATUS_LABELS[DomainStatus(status)],
            party_a=party_a,
            party_b=party_b,
            parties=[party_a, party_b],
            intermediary=(
                ContractIntermediary.of(row.intermediary, currency) if row.intermediary else None
            ),
            intermediary_exit=(
                ContractIntermediary.of(row.intermediary_exit, currency)
                if row.intermediary_exit
                else None
            ),
            leading_party=ContractPartyRole(row.leading_party),
            payer=ContractPartyRole(row.payer),
            currency=currency,
            amount=shown_terms.amount,
            start_date=shown_terms.start_date,
            end_date=shown_terms.end_date,
            terms_version=terms.version if terms is not None else row.terms_version,
            terms=shown_terms,
            drafted_at=row.drafted_at,
            submitted_at=row.submitted_at,
            approved_at=row.approved_at,
            signed_at=row.signed_at,
            activated_at=row.activated_at,
            reviews=[
                ContractReview(
                    decision=r["decision"],
                    reviewer_id=r["reviewer_id"],
                    comments=r["comments"],
                    at=datetime.fromisoformat(r["at"]),
                )
                for r in row.reviews
            ],
            attachments=[
                ContractAttachment(
                    name=a["name"], sha256=a["sha256"], at=datetime.fromisoformat(a["at"])
                )
                for a in row.attachments
            ],
            signatures=_signatures(row.signatures),
            pending_amendment=row.pending_amendment,
            paid_total=_money(row.paid_total, currency),
            penalties=_penalties(row.penalties, currency),
            delivery=ContractDelivery(
                status=ContractDeliveryStatus(delivery.status),
                status_label=DELIVERY_LABELS[DeliveryStatus(delivery.status)],
                description=delivery.description,
                due_date=delivery.due_date,
                rectification_due_on=delivery.rectification_due_on,
                accepted_at=delivery.accepted_at,
                after_rectification_deadline=delivery.after_rectification_deadline,
                rejections=[
                    ContractDeliveryRejection(
                        reasons=list(r["reasons"]),
                        at=datetime.fromisoformat(r["at"]),
                        rectification_due_on=date.fromisoformat(r["rectification_due_on"]),
                    )
                    for r in delivery.rejections
                ],
            ),
            ending=(
                ContractEnding(
                    kind=ContractStatus(ending.kind),
                    kind_label=STATUS_LABELS[DomainStatus(ending.kind)],
                    reason=ContractEndingReason(ending.reason),
                    reason_label=_ENDING_LABELS[ending.reason],
                    by_party=_role(ending.by_party),
                    notice_given_on=ending.notice_given_on,
                    ended_on=ending.ended_on,
                    at=ending.at,
                    note=ending.note,
                )
                if ending
                else None
            ),
            settlement=(
                ContractSettlement(
                    terms_version=settlement.terms_version,
                    amount_due=_money(settlement.amount_due, currency),
                    paid=_money(settlement.paid, currency),
                    outstanding=_money(settlement.outstanding, currency),
                    penalties=_penalties(settlement.penalties, currency),
                    balance=_money(settlement.balance, currency),
                    owed_by=_role(settlement.owed_by),
                    owed_to=_role(settlement.owed_to),
                    at=settlement.at,
                )
                if settlement
                else None
            ),
            hand_over=(
                ContractHandOver(
                    due_on=hand_over.due_on,
                    handed_over_at=hand_over.handed_over_at,
                    package_name=hand_over.package_name,
                    sha256=hand_over.sha256,
                    late=hand_over.late,
                    overdue_recorded_on=hand_over.overdue_recorded_on,
                )
                if hand_over
                else None
            ),
            version=row.version,
            updated_at=row.updated_at,
            row=row,
        )

    @strawberry.field(
        description="The terms in force on a day: the latest version signed by every party"
        " whose effective date is on or before it (null before the start or unsigned)."
    )
    async def terms_as_of(self, info: Info[Context, None], on: date) -> ContractTermsVersion | None:
        queries = info.context.system.contract_queries
        found = await to_thread.run_sync(queries.terms_as_of, self.row.id, on)
        return ContractTermsVersion.of_row(found) if found else None

    @strawberry.field(description="Every signed terms version, oldest first.")
    async def terms_versions(self, info: Info[Context, None]) -> list[ContractTermsVersion]:
        queries = info.context.system.contract_queries
        rows = await to_thread.run_sync(queries.terms_versions, self.row.id)
        return [ContractTermsVersion.of_row(row) for row in rows]

    @strawberry.field(description="Every amendment (pending, in force or withdrawn) by number.")
    async def amendments(self, info: Info[Context, None]) -> list[ContractAmendment]:
        queries = info.context.system.contract_queries
        rows = await to_thread.run_sync(queries.amendments, self.row.id)
        return [ContractAmendment.of(row) for row in rows]

    @strawberry.field(
        description="The latest agreed payment schedule with what is paid and outstanding"
        " (overdue as of `today`, today in Shanghai if absent)."
    )
    async def instalments(
        self, info: Info[Context, None], today: date | None = None
    ) -> list[ContractInstalment]:
        queries = info.context.system.contract_queries
        rows = await to_thread.run_sync(queries.instalments, self.row.id)
        day = today or _today()
        return [ContractInstalment.of(row, self.row.currency, day) for row in rows]

    @strawberry.field(description="Payments in the order they were paid.")
    async def payments(self, info: Info[Context, None]) -> list[ContractPayment]:
        queries = info.context.system.contract_queries
        rows = await to_thread.run_sync(queries.payments, self.row.id)
        return [ContractPayment.of(row) for row in rows]

    @strawberry.field(description="Breaches with their penalties, latest first.")
    async def breaches(self, info: Info[Context, None]) -> list[ContractBreach]:
        queries = info.context.system.contract_queries
        rows, _ = await to_thread.run_sync(
            lambda: queries.breaches(BreachFilter(contract_id=self.row.id), limit=10_000)
        )
        return [ContractBreach.of(row) for row in rows]


# -- lists and dashboards -----------------------------------------------------------------


@strawberry.type(description="One status of the contract pipeline.")
class ContractPipelineStage:
    status: ContractStatus
    label: str
    count: int
    totals: list[Money] = strawberry.field(
        description="The contracts' current amounts summed per currency, exactly"
    )

    @classmethod
    def of(cls, stage: PipelineStage) -> ContractPipelineStage:
        return cls(
            status=ContractStatus(stage.status),
            label=STATUS_LABELS[DomainStatus(stage.status)],
            count=stage.count,
            totals=[_money(amount, currency) for currency, amount in stage.totals.items()],
        )


@strawberry.type(description="An instalment to collect, across contracts.")
class ContractPaymentDue:
    contract_id: strawberry.ID
    contract_number: str
    title: str
    status: ContractStatus
    status_label: str
    payer: ContractPartyRole
    instalment: int
    due_date: date
    amount: Money
    paid: Money
    outstanding: Money
    overdue: bool = strawberry.field(description="Past due on `today`")
    days_overdue: int = strawberry.field(description="Days past the due date on `today` (0 if not)")
    overdue_recorded_on: date | None

    @classmethod
    def of(cls, row: InstalmentDue, today: date) -> ContractPaymentDue:
        currency = row.currency
        return cls(
            contract_id=strawberry.ID(row.contract_id),
            contract_number=row.contract_number,
            title=row.title,
            status=ContractStatus(row.status),
            status_label=STATUS_LABELS[DomainStatus(row.status)],
            payer=ContractPartyRole(row.payer),
            instalment=row.instalment,
            due_date=row.due_date,
            amount=_money(row.amount, currency),
            paid=_money(row.paid, currency),
            outstanding=_money(row.outstanding, currency),
            overdue=row.due_date < today,
            days_overdue=max(0, (today - row.due_date).days),
            overdue_recorded_on=row.overdue_recorded_on,
        )


@strawberry.input(description="Filters combine with AND.")
class ContractFilterInput:
    status: list[ContractStatus] | None = None
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Either party is this customer"
    )
    party_name: str | None = strawberry.field(
        default=None,
        description="An organisation's name (甲方, 乙方 or the intermediary) contains this;"
        " customers' names are personal data and not searched",
    )
    expiring_within_days: int | None = strawberry.field(
        default=None,
        description="Signed or in force, with the current end date on or before today + N"
        " days (including those past their end date and not yet terminated)",
    )
    overdue_payments: bool | None = strawberry.field(
        default=None, description="Has (or has not) an instalment past due with something unpaid"
    )
    intermediary: bool | None = strawberry.field(
        default=None, description="Has (or has not) a 第三方中介"
    )
    today: date | None = strawberry.field(
        default=None, description="The day the filters count from (today in Shanghai if absent)"
    )


@strawberry.input
class ContractOrder:
    field: ContractOrderField = ContractOrderField.NUMBER
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="Filters combine with AND.")
class ContractBreachFilter:
    contract_id: strawberry.ID | None = None
    party: ContractPartyRole | None = None
    since: datetime | None = strawberry.field(default=None, description="At or after")
    until: datetime | None = strawberry.field(default=None, description="Before")


def _contract_filter(where: ContractFilterInput) -> ContractFilter:
    if where.expiring_within_days is not None and where.expiring_within_days < 0:
        raise GraphQLError(
            "expiringWithinDays must be zero or more",
            extensions={"code": "validation.expiring_within_days"},
        )
    party_name = where.party_name.strip() if where.party_name else None
    return ContractFilter(
        statuses=[str(s.value) for s in where.status] if where.status else None,
        customer_id=str(where.customer_id) if where.customer_id else None,
        party_name=party_name or None,
        expiring_within_days=where.expiring_within_days,
        overdue_payments=where.overdue_payments,
        intermediary=where.intermediary,
        today=where.today or _today(),
    )


@strawberry.type
class ContractQuery:
    @strawberry.field(
        description="One contract by id (null if unknown). With asOf, its status and terms as"
        " of that day, from the signed terms versions; refused with contract.no_terms_on_date"
        " if no terms were in force then.",
        extensions=[acts(READ)],
    )
    async def contract(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: date | None = None,
        min_position: int | None = None,
    ) -> Contract | None:
        system = await guard(info, READ, min_position)
        queries = system.contract_queries
        row = await to_thread.run_sync(queries.get, str(id))
        if row is None:
            return None
        principal = info.context.principal
        if as_of is None:
            return Contract.from_row(row, principal)
        terms = await to_thread.run_sync(queries.terms_as_of, row.id, as_of)
        if terms is None:
            raise GraphQLError(
                f"no terms of contract {row.number} are in force on {as_of}: it starts on"
                f" {row.start_date} and needs every party's signature",
                extensions={"code": "contract.no_terms_on_date", "status": 409},
            )
        return Contract.from_row(row, principal, as_of=as_of, terms=terms)

    @strawberry.field(
        description="Contracts as a Relay connection, filtered and ordered.",
        extensions=[acts(READ)],
    )
    async def contracts(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: ContractFilterInput | None = None,
        order_by: ContractOrder | None = None,
        min_position: int | None = None,
    ) -> Connection[Contract]:
        system = await guard(info, READ, min_position)
        check_page_size(first)
        offset = offset_after(after)
        query = _contract_filter(filter or ContractFilterInput())
        order = order_by or ContractOrder()
        rows, total = await to_thread.run_sync(
            lambda: system.contract_queries.page(
                query,
                order_by=str(order.field.value),
                descending=order.direction is OrderDirection.DESC,
                offset=offset,
                limit=first,
            )
        )
        principal = info.context.principal
        return connection([Contract.from_row(row, principal) for row in rows], offset, total)

    @strawberry.field(
        description="合同漏斗: per status in lifecycle order, how many contracts and their"
        " current amounts per currency.",
        extensions=[acts(READ)],
    )
    async def contract_pipeline(
        self, info: Info[Context, None], min_position: int | None = None
    ) -> list[ContractPipelineStage]:
        system = await guard(info, READ, min_position)
        stages = await to_thread.run_sync(system.contract_queries.pipeline)
        return [ContractPipelineStage.of(stage) for stage in stages]

    @strawberry.field(
        description="Instalments with something unpaid, of contracts signed and not yet"
        " settled, due from `from` to `to` (inclusive); with overdueOnly, only those past"
        " due on `today` (today in Shanghai if absent). Earliest first.",
        extensions=[acts(READ)],
    )
    async def contract_payments_due(
        self,
        info: Info[Context, None],
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        overdue_only: bool = False,
        today: date | None = None,
        first: int = 50,
        after: str | None = None,
        min_position: int | None = None,
    ) -> Connection[ContractPaymentDue]:
        system = await guard(info, READ, min_position)
        check_page_size(first)
        offset = offset_after(after)
        day = today or _today()
        rows, total = await to_thread.run_sync(
            lambda: system.contract_queries.payments_due(
                from_,
                to,
                overdue_on=day if overdue_only else None,
                offset=offset,
                limit=first,
            )
        )
        return connection([ContractPaymentDue.of(row, day) for row in rows], offset, total)

    @strawberry.field(
        description="Breaches with their penalties across contracts, latest first.",
        extensions=[acts(READ)],
    )
    async def contract_breaches(
        self,
        info: Info[Context, None],
        filter: ContractBreachFilter | None = None,
        first: int = 20,
        after: str | None = None,
        min_position: int | None = None,
    ) -> Connection[ContractBreach]:
        system = await guard(info, READ, min_position)
        check_page_size(first)
        offset = offset_after(after)
        where = filter or ContractBreachFilter()
        query = BreachFilter(
            contract_id=str(where.contract_id) if where.contract_id else None,
            party=str(where.party.value) if where.party else None,
            since=_aware("since", where.since),
            until=_aware("until", where.until),
        )
        rows, total = await to_thread.run_sync(
            lambda: system.contract_queries.breaches(query, offset=offset, limit=first)
        )
        return connection([ContractBreach.of(row) for row in rows], offset, total)
