"""Contracts (合同管理): commands from draft to settlement and the data hand-over.

The relationship section (关系管理科) drafts, signs, amends and ends contracts; legal
(法务) or the department manager reviews them; the credit section may record payments;
kehu itself (the scheduler) records activation, expiry and missed deadlines.

Input arrives as plain data (amounts as decimal text in the contract's currency, dates
as :class:`~datetime.date`) and is turned into the domain's value objects here, so HTTP,
the CLI and the demo share one reading of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from application.clock import Clock, utc_now
from application.context import CommandContext, Principal
from application.handover import (
    HandOverPackage,
    build_package,
    package_name,
    position_of_package,
)
from application.permissions import authorize
from application.service import ContextService
from application.store import CommandResult, Kehu
from domain.contract import (
    KEEP,
    Contract,
    ContractError,
    Intermediary,
    InvalidContractField,
    Party,
    PartyKind,
    Terms,
    business_day,
    contract_id,
    normalise_contract_number,
)
from domain.credit import credit_profile_id
from domain.customer import Customer
from domain.values import Money

#: Given a customer's id and a global position: the ids of the complaints and service
#: requests recorded for that customer, once the read models have reached the position.
RelatedRecords = Callable[[UUID, int], Sequence[UUID]]


class PackageChanged(ContractError):
    """Rebuilding a handed-over package gave other bytes: the stored history changed."""

    code = "contract.package_changed"


class NotHandedOver(ContractError):
    code = "contract.not_handed_over"


def _money(field: str, value: object, currency: str) -> Money:
    if isinstance(value, Money):
        return value
    if value is None:
        raise InvalidContractField(f"{field} is required", field=field)
    return Money.parse(value, currency)


def _rate(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    with suppress(InvalidOperation):
        if isinstance(value, str):
            return Decimal(value.strip())
    raise InvalidContractField(
        f"penalty_rate must be decimal text such as '0.05', not {value!r}", field="penalty_rate"
    )


def clauses(data: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """Clauses given as plain data, as the domain's values (only those given: a clause
    given as ``None`` is absent, for no clause may be empty)."""
    out = {clause: value for clause, value in data.items() if value is not None}
    if "amount" in out:
        out["amount"] = _money("amount", out["amount"], currency)
    if "payment_schedule" in out:
        schedule = out["payment_schedule"]
        if isinstance(schedule, str | Mapping) or not isinstance(schedule, Iterable):
            raise InvalidContractField(
                "payment_schedule must be a list of instalments", field="payment_schedule"
            )
        out["payment_schedule"] = tuple(
            {**item, "amount": _money("payment_schedule.amount", item.get("amount"), currency)}
            if isinstance(item, Mapping)
            else item
            for item in schedule
        )
    if "penalty_rate" in out:
        out["penalty_rate"] = _rate(out["penalty_rate"])
    return out


def terms_from(data: Mapping[str, Any], currency: str) -> Terms:
    values = clauses(data, currency)
    try:
        return Terms.from_dict(values)
    except KeyError as missing:
        raise InvalidContractField(
            f"the terms need the clause {missing.args[0]}", field=str(missing.args[0])
        ) from None


class ContractService(ContextService[Contract]):
    kind = Contract
    context = "contracts"

    def __init__(
        self,
        store: Kehu,
        clock: Clock = utc_now,
        related: RelatedRecords | None = None,
    ) -> None:
        super().__init__(store, clock)
        self.related = related

    @staticmethod
    def contract_id(number: str) -> UUID:
        return contract_id(normalise_contract_number(number))

    # -- input ------------------------------------------------------------------------

    def _party(self, field: str, data: Mapping[str, Any] | Party) -> Party:
        if isinstance(data, Party):
            return data
        if not isinstance(data, Mapping):
            raise InvalidContractField(f"{field} must be an object", field=field)
        kind = data.get("kind")
        signatories = tuple(data.get("signatories") or ())
        if kind == PartyKind.CUSTOMER:
            raw_id = data.get("customer_id")
            if not isinstance(raw_id, UUID):
                raise InvalidContractField(
                    f"{field}: a customer party needs its customer_id", field=f"{field}.customer_id"
                )
            customer = self.store.load(raw_id, Customer)  # 404 for an unknown customer
            name = data.get("name") or customer.name
            return Party.customer(raw_id, name, signatories)
        return Party(str(kind), data.get("name"), signatories)  # type: ignore[arg-type]

    @staticmethod
    def _intermediary(data: Mapping[str, Any] | None, currency: str) -> Intermediary | None:
        if data is None:
            return None
        return Intermediary(
            name=data.get("name"),  # type: ignore[arg-type]
            liability_cap=_money("intermediary.liability_cap", data.get("liability_cap"), currency),
            fee=_money("intermediary.fee", data.get("fee"), currency),
            signatories=tuple(data.get("signatories") or ()),
        )

    # -- drafting and review ----------------------------------------------------------

    def draft(
        self,
        ctx: CommandContext,
        *,
        number: str,
        title: str,
        party_a: Mapping[str, Any],
        party_b: Mapping[str, Any],
        terms: Mapping[str, Any],
        leading_party: str,
        payer: str = "a",
        currency: str = "CNY",
        intermediary: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """起草合同: the number is unique (a second draft with it is refused)."""
        authorize(ctx.principal, "contracts.draft")
        moment = self.now(at)
        a, b = self._party("party_a", party_a), self._party("party_b", party_b)
        agreed = terms_from(terms, currency)
        third = self._intermediary(intermediary, currency)
        return self._create(
            ctx,
            "contracts.draft",
            lambda: Contract.draft(
                number=number,
                title=title,
                party_a=a,
                party_b=b,
                terms=agreed,
                leading_party=leading_party,
                payer=payer,
                intermediary=third,
                drafted_at=moment,
            ),
        )

    def revise(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        title: str | None = None,
        party_a: Mapping[str, Any] | None = None,
        party_b: Mapping[str, Any] | None = None,
        terms: Mapping[str, Any] | None = None,
        intermediary: Mapping[str, Any] | None = None,
        remove_intermediary: bool = False,
        leading_party: str | None = None,
        payer: str | None = None,
        note: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """修订 a draft (or a rejected or approved one, which goes back to draft). ``terms``
        may name only the clauses that change."""
        authorize(ctx.principal, "contracts.revise")
        moment = self.now(at)
        a = self._party("party_a", party_a) if party_a is not None else None
        b = self._party("party_b", party_b) if party_b is not None else None
        if remove_intermediary and intermediary is not None:
            raise InvalidContractField(
                "give a new intermediary or remove it, not both", field="remove_intermediary"
            )

        def act(c: Contract) -> None:
            currency = c.current_terms.amount.currency
            third: Any = KEEP
            if remove_intermediary:
                third = None
            elif intermediary is not None:
                third = self._intermediary(intermediary, currency)
            c.revise(
                moment,
                title=title,
                party_a=a,
                party_b=b,
                intermediary=third,
                terms=clauses(terms, currency) if terms is not None else None,
                leading_party=leading_party,
                payer=payer,
                note=note,
            )

        return self._act(ctx, "contracts.revise", contract, act)

    def add_attachment(
        self, ctx: CommandContext, contract: UUID, *, name: str, sha256: str, at: datetime | None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "contracts.add_attachment",
            contract,
            lambda c: c.add_attachment(name, sha256, moment),
        )

    def submit_for_review(
        self, ctx: CommandContext, contract: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "contracts.submit_for_review", contract, lambda c: c.submit_for_review(moment)
        )

    def approve(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        comments: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """审核通过 by legal (or the manager), recorded with the reviewer."""
        moment = self.now(at)
        return self._act(
            ctx,
            "contracts.approve",
            contract,
            lambda c: c.approve(ctx.principal.id, moment, comments),
        )

    def reject(
        self, ctx: CommandContext, contract: UUID, *, comments: str, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "contracts.reject",
            contract,
            lambda c: c.reject(ctx.principal.id, comments, moment),
        )

    # -- signing and amendments -------------------------------------------------------

    def sign(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        party: str,
        signatory: str,
        method: str,
        signed_at: datetime | None = None,
    ) -> CommandResult:
        """签署 by one party's authorised signatory; final once given."""
        moment = self.now(signed_at)
        return self._act(
            ctx, "contracts.sign", contract, lambda c: c.sign(party, signatory, moment, method)
        )

    def activate(
        self, ctx: CommandContext, contract: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(ctx, "contracts.activate", contract, lambda c: c.activate(moment))

    def propose_amendment(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        number: int,
        changes: Mapping[str, Any],
        effective_date: date,
        reason: str,
        at: datetime | None = None,
    ) -> CommandResult:
        """变更协议 number ``number``: the clauses that change."""
        moment = self.now(at)
        return self._act(
            ctx,
            "contracts.propose_amendment",
            contract,
            lambda c: c.propose_amendment(
                number,
                clauses(changes, c.current_terms.amount.currency),
                effective_date,
                reason,
                moment,
            ),
        )

    def renew(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        number: int,
        new_end_date: date,
        effective_date: date,
        reason: str,
        amount: str | None = None,
        payment_schedule: Sequence[Mapping[str, Any]] | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """续约 as the numbered amendment ``number``."""
        moment = self.now(at)

        def act(c: Contract) -> None:
            currency = c.current_terms.amount.currency
            given: dict[str, Any] = {}
            if amount is not None:
                given["amount"] = amount
            if payment_schedule is not None:
                given["payment_schedule"] = payment_schedule
            values = clauses(given, currency)
            c.renew(
                number,
                new_end_date,
                effective_date,
                reason,
                moment,
                amount=values.get("amount"),
                payment_schedule=values.get("payment_schedule"),
            )

        return self._act(ctx, "contracts.renew", contract, act)

    def sign_amendment(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        number: int,
        party: str,
        signatory: str,
        method: str,
        signed_at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(signed_at)
        return self._act(
            ctx,
            "contracts.sign_amendment",
            contract,
            lambda c: c.sign_amendment(number, party, signatory, moment, method),
        )

    def withdraw_amendment(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        number: int,
        reason: str,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "contracts.withdraw_amendment",
            contract,
            lambda c: c.withdraw_amendment(number, reason, moment),
        )

    def remove_intermediary(
        self, ctx: CommandContext, contract: UUID, *, reason: str, at: datetime | None = None
    ) -> CommandResult:
        """第三方中介退出 (the exit mechanism)."""
        moment = self.now(at)
        return self._act(
            ctx,
            "contracts.remove_intermediary",
            contract,
            lambda c: c.remove_intermediary(reason, moment),
        )

    # -- performance ------------------------------------------------------------------

    def record_payment(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        instalment: int,
        amount: str,
        paid_on: date | None = None,
        reference: str | None = None,
    ) -> CommandResult:
        day = paid_on or self._today()
        return self._act(
            ctx,
            "contracts.record_payment",
            contract,
            lambda c: c.record_payment(
                instalment,
                _money("amount", amount, c.current_terms.amount.currency),
                day,
                reference,
            ),
        )

    def mark_payment_overdue(
        self, ctx: CommandContext, contract: UUID, *, instalment: int, as_of: date | None = None
    ) -> CommandResult:
        day = as_of or self._today()
        return self._act(
            ctx,
            "contracts.mark_payment_overdue",
            contract,
            lambda c: c.mark_payment_overdue(instalment, day),
        )

    def accept_delivery(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        note: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "contracts.accept_delivery", contract, lambda c: c.accept_delivery(moment, note)
        )

    def reject_delivery(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        reasons: Sequence[str],
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "contracts.reject_delivery", contract, lambda c: c.reject_delivery(reasons, moment)
        )

    def record_breach(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        party: str,
        description: str,
        base: str,
        at: datetime | None = None,
    ) -> CommandResult:
        """违约 with the penalty computed from the terms governing that day."""
        moment = self.now(at)
        return self._act(
            ctx,
            "contracts.record_breach",
            contract,
            lambda c: c.record_breach(
                party,
                description,
                _money("base", base, c.current_terms.amount.currency),
                moment,
            ),
        )

    # -- ending -----------------------------------------------------------------------

    def dissolve(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        reason: str,
        by_party: str | None = None,
        notice_given_on: date | None = None,
        note: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx,
            "contracts.dissolve",
            contract,
            lambda c: c.dissolve(
                reason, moment, by_party=by_party, notice_given_on=notice_given_on, note=note
            ),
        )

    def terminate(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        reason: str,
        note: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        moment = self.now(at)
        return self._act(
            ctx, "contracts.terminate", contract, lambda c: c.terminate(reason, moment, note)
        )

    def settle(
        self,
        ctx: CommandContext,
        contract: UUID,
        *,
        amount_due: str | None = None,
        at: datetime | None = None,
    ) -> CommandResult:
        """清算: the balance between the parties, in exact amounts."""
        moment = self.now(at)
        return self._act(
            ctx,
            "contracts.settle",
            contract,
            lambda c: c.settle(
                moment,
                amount_due=(
                    _money("amount_due", amount_due, c.current_terms.amount.currency)
                    if amount_due is not None
                    else None
                ),
            ),
        )

    def hand_over_data(
        self, ctx: CommandContext, contract: UUID, *, at: datetime | None = None
    ) -> CommandResult:
        """客户数据移交: build the package of the customer parties' data and record its name
        and SHA-256. Fetch the bytes with :meth:`hand_over_package`."""
        authorize(ctx.principal, "contracts.hand_over_data")
        moment = self.now(at)
        current = self.store.load(contract, Contract)
        # A dry run on this copy (never saved) refuses a contract that has not ended or
        # was handed over already, before the package is built.
        current.hand_over_data(package_name(current.number, 0), "0" * 64, moment)
        package = self._package(current, self.store.max_position(), moment)
        return self._act(
            ctx,
            "contracts.hand_over_data",
            contract,
            lambda c: c.hand_over_data(package.name, package.sha256, moment),
        )

    def hand_over_package(self, principal: Principal, contract: UUID) -> HandOverPackage:
        """The handed-over package, rebuilt from the store and checked against the SHA-256
        recorded at the hand-over (``contract.package_changed`` if the history changed)."""
        authorize(principal, "contracts.hand_over_data")
        current = self.store.load(contract, Contract)
        if current.hand_over is None:
            raise NotHandedOver(f"contract {current.number}'s data has not been handed over")
        recorded = current.hand_over
        package = self._package(
            current, position_of_package(recorded["package_name"]), recorded["at"]
        )
        if package.sha256 != recorded["sha256"]:
            raise PackageChanged(
                f"the package rebuilt from the store has SHA-256 {package.sha256}, not the"
                f" {recorded['sha256']} recorded at the hand-over: the history changed",
                recorded=recorded["sha256"],
                rebuilt=package.sha256,
            )
        return package

    def _package(self, contract: Contract, position: int, at: datetime) -> HandOverPackage:
        customers = [
            record["customer_id"]
            for record in contract.parties.values()
            if record["customer_id"] is not None
        ]
        ids: list[UUID] = [contract.id]
        for customer in customers:
            ids += [customer, credit_profile_id(customer)]
            if self.related is not None:
                ids += self.related(customer, position)
        return build_package(
            self.store,
            contract_id=contract.id,
            contract_number=contract.number,
            customer_ids=customers,
            aggregate_ids=ids,
            up_to_position=position,
            handed_over_at=at,
        )

    def mark_hand_over_overdue(
        self, ctx: CommandContext, contract: UUID, *, as_of: date | None = None
    ) -> CommandResult:
        day = as_of or self._today()
        return self._act(
            ctx,
            "contracts.mark_hand_over_overdue",
            contract,
            lambda c: c.mark_hand_over_overdue(day),
        )

    def _today(self) -> date:
        return business_day(self.clock())
