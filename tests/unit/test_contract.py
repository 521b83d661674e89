"""Contract 合同: every step from draft to data hand-over, as events and state, without a
database."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)

from application.store import DateAsISO, MoneyAsDict
from domain.base import DomainError, personal_fields
from domain.contract import (
    KEEP,
    STATUS_LABELS,
    Contract,
    ContractStatus,
    Delivery,
    DisputeResolution,
    Instalment,
    Intermediary,
    Party,
    Terms,
    contract_id,
)
from domain.values import Money
from tests.unit.test_contract_terms import make_terms

SH = ZoneInfo("Asia/Shanghai")
CUSTOMER_ID = UUID("00000000-0000-4000-8000-0000000000c1")
NUMBER = "HT-2025-001"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SH)


def cny(amount: str) -> Money:
    return Money.parse(amount)


PARTY_A = Party.customer(CUSTOMER_ID, "张三", ["张三", "李娜"])
PARTY_B = Party.organisation("上海乙方科技有限公司", ["李四"])
INTERMEDIARY = Intermediary("链家中介服务有限公司", cny("1000.00"), cny("5000.00"), ("王五",))


def draft(**overrides: Any) -> Contract:
    fields: dict[str, Any] = {
        "number": NUMBER,
        "title": "客户关系管理服务合同",
        "party_a": PARTY_A,
        "party_b": PARTY_B,
        "terms": make_terms(),
        "leading_party": "a",
        "drafted_at": at(2024, 12, 1),
    } | overrides
    return Contract.draft(**fields)


def drafted(**overrides: Any) -> Contract:
    c = draft(**overrides)
    c.collect_events()
    return c


def approved(**overrides: Any) -> Contract:
    c = draft(**overrides)
    c.submit_for_review(at(2024, 12, 2))
    c.approve("legal-01", at(2024, 12, 3), "条款合法")
    c.collect_events()
    return c


def signed(**overrides: Any) -> Contract:
    """Signed by both parties before the start date: ``signed``, not yet in force."""
    c = approved(**overrides)
    c.sign("a", "张三", at(2024, 12, 10), "wet_ink")
    c.sign("b", "李四", at(2024, 12, 11), "seal")
    if c.intermediary is not None:
        c.sign("intermediary", "王五", at(2024, 12, 12), "e_signature")
    c.collect_events()
    return c


def in_force(**overrides: Any) -> Contract:
    c = signed(**overrides)
    c.activate(at(2025, 1, 1, 0))
    c.collect_events()
    return c


def amended(c: Contract, number: int, changes: Any, effective: date, when: datetime) -> None:
    c.propose_amendment(number, changes, effective, f"第{number}号变更协议", when)
    for party, signatory in (("a", "张三"), ("b", "李四")):
        c.sign_amendment(number, party, signatory, when, "seal")


def terminated() -> Contract:
    c = in_force()
    c.terminate("mutual", at(2025, 6, 1))
    c.collect_events()
    return c


def names(events: Sequence[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def transcoder() -> JSONTranscoder:
    t = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), MoneyAsDict(), DateAsISO()):
        t.register(transcoding)
    return t


def replay(events: Sequence[Any]) -> Any:
    """Rebuild the aggregate from its events after they went through the JSON store format."""
    mapper: Mapper[UUID] = Mapper(transcoder=transcoder())
    aggregate = None
    for e in events:
        aggregate = mapper.to_domain_event(mapper.to_stored_event(e)).mutate(aggregate)
    return aggregate


def refused(aggregate: Any, code: str, command: Callable[[], object]) -> DomainError:
    """The command is refused with ``code`` and leaves neither events nor state behind."""
    before = copy.deepcopy(state(aggregate))
    pending = list(aggregate.pending_events)
    with pytest.raises(DomainError) as error:
        command()
    assert error.value.code == code, error.value.message
    assert list(aggregate.pending_events) == pending == []
    assert state(aggregate) == before
    return error.value


# -- the full scenario of the issue -------------------------------------------------------


def test_draft_review_sign_amend_twice_breach_terminate_settle_and_hand_over() -> None:
    c = draft()
    c.add_attachment("附件一 CRM系统功能清单.pdf", SHA, at(2024, 12, 1, 11))
    c.submit_for_review(at(2024, 12, 2))
    c.reject("legal-01", "争议解决条款需写明仲裁机构全称", at(2024, 12, 2, 15))
    c.revise(
        at(2024, 12, 3),
        terms={"dispute_resolution": DisputeResolution.arbitration("上海国际经济贸易仲裁委员会")},
        note="按法务意见修改",
    )
    c.submit_for_review(at(2024, 12, 3, 11))
    c.approve("legal-01", at(2024, 12, 4), "审核通过")
    c.sign("a", "张三", at(2024, 12, 10), "wet_ink")
    c.sign("b", "李四", at(2024, 12, 11), "seal")
    assert c.status == ContractStatus.SIGNED
    assert c.status_on(date(2024, 12, 31)) == ContractStatus.SIGNED
    assert c.status_on(date(2025, 1, 1)) == ContractStatus.IN_FORCE  # derived from the start
    c.activate(at(2025, 1, 1, 0))
    c.record_payment(1, cny("36000.00"), date(2025, 1, 10))

    # amendment 1: a higher penalty rate from April
    c.propose_amendment(
        1, {"penalty_rate": Decimal("0.08")}, date(2025, 4, 1), "提高违约金", at(2025, 3, 1)
    )
    c.sign_amendment(1, "a", "张三", at(2025, 3, 2), "seal")
    c.sign_amendment(1, "b", "李四", at(2025, 3, 3), "e_signature")

    # amendment 2: more scope, a larger amount and a third instalment from July
    schedule = (
        Instalment(1, date(2025, 1, 15), cny("36000.00")),
        Instalment(2, date(2025, 6, 30), cny("84000.00")),
        Instalment(3, date(2025, 10, 31), cny("30000.00")),
    )
    c.propose_amendment(
        2,
        {"amount": cny("150000.00"), "payment_schedule": schedule},
        date(2025, 7, 1),
        "增加数据分析服务",
        at(2025, 6, 20),
    )
    c.sign_amendment(2, "a", "张三", at(2025, 6, 21), "seal")
    # signed by 甲方 only: not in force
    assert c.terms_as_of(date(2025, 7, 15)).amount == cny("120000.00")
    assert c.terms_version == 2
    c.sign_amendment(2, "b", "李四", at(2025, 6, 25), "seal")
    assert c.terms_version == 3

    # the terms in force between the amendments
    assert c.terms_as_of(date(2025, 3, 31)).penalty_rate == Decimal("0.05")
    assert c.version_as_of(date(2025, 3, 31)) == 1
    assert c.terms_as_of(date(2025, 4, 1)).penalty_rate == Decimal("0.08")
    assert c.terms_as_of(date(2025, 6, 30)).amount == cny("120000.00")
    assert c.version_as_of(date(2025, 6, 30)) == 2
    assert c.terms_as_of(date(2025, 7, 1)).amount == cny("150000.00")
    assert c.terms_as_of(date(2025, 7, 1)).penalty_rate == Decimal("0.08")
    assert [v["version"] for v in c.terms_versions()] == [1, 2, 3]
    assert [[d["clause"] for d in a["diff"]] for a in c.amendment_history()] == [
        ["penalty_rate"],
        ["amount", "payment_schedule"],
    ]

    # payments: instalment 2 partly paid late, recorded overdue once
    c.record_payment(2, cny("50000.00"), date(2025, 7, 5))
    c.mark_payment_overdue(2, date(2025, 7, 1))
    c.record_payment(2, cny("30000.00"), date(2025, 8, 1))
    c.record_payment(3, cny("10000.00"), date(2025, 11, 1))
    assert c.outstanding(2) == cny("4000.00")

    # breaches at the rate in force on the day: 8 %
    c.record_breach("a", "第2期款逾期支付", cny("84000.00"), at(2025, 7, 10))
    c.record_breach("b", "系统交付延迟", cny("12345.65"), at(2025, 8, 15))
    assert [b["penalty"] for b in c.breaches] == [cny("6720.00"), cny("987.65")]

    c.terminate("expiry", at(2025, 12, 31, 18))
    c.settle(at(2026, 1, 5))
    assert c.settlement is not None
    assert c.settlement["amount_due"] == cny("150000.00")
    assert c.settlement["paid"] == cny("126000.00")
    assert c.settlement["outstanding"] == cny("24000.00")
    assert c.settlement["penalties"] == {"a": cny("6720.00"), "b": cny("987.65")}
    # 150000.00 − 126000.00 + 6720.00 − 987.65
    assert c.settlement["balance"].amount == Decimal("29732.35")
    assert (c.settlement["owed_by"], c.settlement["owed_to"]) == ("a", "b")
    c.hand_over_data("HT-2025-001 客户数据导出.zip", SHA.upper(), at(2026, 1, 10))
    assert c.hand_over == {
        "package_name": "HT-2025-001 客户数据导出.zip",
        "sha256": SHA,
        "customer_ids": [CUSTOMER_ID],
        "late": False,
        "at": at(2026, 1, 10),
    }
    assert c.status == ContractStatus.SETTLED

    events = c.collect_events()
    assert names(events) == [
        "Drafted",
        "AttachmentAdded",
        "SubmittedForReview",
        "Rejected",
        "Revised",
        "SubmittedForReview",
        "Approved",
        "Signed",
        "Signed",
        "SigningCompleted",
        "Activated",
        "PaymentRecorded",
        "AmendmentProposed",
        "AmendmentSigned",
        "AmendmentSigned",
        "AmendmentConcluded",
        "AmendmentProposed",
        "AmendmentSigned",
        "AmendmentSigned",
        "AmendmentConcluded",
        "PaymentRecorded",
        "PaymentOverdue",
        "PaymentRecorded",
        "PaymentRecorded",
        "BreachRecorded",
        "BreachRecorded",
        "Terminated",
        "Settled",
        "DataHandedOver",
    ]
    settled = events[-2]
    assert settled.balance == cny("29732.35")
    assert settled.terms_version == 3

    rebuilt = replay(events)
    assert isinstance(rebuilt, Contract)
    assert state(rebuilt) == state(c)
    assert rebuilt.terms_as_of(date(2025, 5, 1)) == c.terms_as_of(date(2025, 5, 1))


# -- drafting -----------------------------------------------------------------------------


def test_drafting_records_the_parties_terms_and_the_deterministic_id() -> None:
    c = draft(intermediary=INTERMEDIARY, number=" ht-2025-001 ")
    [drafted_event] = c.collect_events()
    assert isinstance(drafted_event, Contract.Drafted)
    assert c.id == drafted_event.originator_id == contract_id(NUMBER)
    assert drafted_event.number == c.number == "HT-2025-001"
    assert drafted_event.parties == {
        "a": {"kind": "customer", "customer_id": CUSTOMER_ID, "name": None},
        "b": {"kind": "organisation", "customer_id": None, "name": "上海乙方科技有限公司"},
    }
    assert drafted_event.customer_names == {"a": "张三"}
    assert drafted_event.signatories == {
        "a": ["张三", "李娜"],
        "b": ["李四"],
        "intermediary": ["王五"],
    }
    assert drafted_event.intermediary == {
        "name": "链家中介服务有限公司",
        "liability_cap": cny("1000.00"),
        "fee": cny("5000.00"),
    }
    assert (drafted_event.leading_party, drafted_event.payer) == ("a", "a")
    assert drafted_event.terms == make_terms().as_dict()
    assert c.status == ContractStatus.DRAFT
    assert c.current_terms == make_terms()
    assert c.required_parties == ["a", "b", "intermediary"]


def test_the_customer_partys_name_is_personal_data_and_kept_apart() -> None:
    c = draft()
    [drafted_event] = c.collect_events()
    assert "张三" not in repr(drafted_event.parties)
    assert personal_fields(Contract.Drafted) == {"customer_names", "signatories"}
    assert personal_fields(Contract.Revised) == {"customer_names", "signatories"}
    assert personal_fields(Contract.Signed) == {"signatory"}
    assert personal_fields(Contract.AmendmentSigned) == {"signatory"}
    assert personal_fields(Contract.BreachRecorded) == frozenset()
    assert Contract.PERSONAL_STATE == (
        "customer_names",
        "signatories",
        "signatory_names",
        "amendment_signatory_names",
    )
    for attribute in Contract.PERSONAL_STATE:
        assert hasattr(c, attribute)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"number": "HT 2025"}, "contract.invalid_number"),
        ({"party_b": PARTY_A}, "contract.invalid_field"),
        (
            {"party_b": Party.customer(CUSTOMER_ID, "张三丰", ["张三丰"])},
            "contract.invalid_field",
        ),
        ({"leading_party": "intermediary"}, "contract.invalid_field"),
        ({"leading_party": "c"}, "contract.invalid_field"),
        ({"payer": "intermediary"}, "contract.invalid_field"),
        ({"title": "  "}, "contract.invalid_field"),
        ({"terms": {"amount": "1"}}, "contract.invalid_field"),
        (
            {
                "intermediary": Intermediary(
                    "中介", Money.parse("1.00", "USD"), cny("1.00"), ("王五",)
                )
            },
            "contract.currency_mismatch",
        ),
        ({"drafted_at": datetime(2024, 12, 1, 10)}, "validation.invalid_value"),
    ],
)
def test_an_invalid_draft_is_refused(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(DomainError) as error:
        draft(**overrides)
    assert error.value.code == code


# -- review -------------------------------------------------------------------------------


def test_review_moves_the_status_and_keeps_the_comments() -> None:
    c = drafted()
    seen = [c.status]
    c.submit_for_review(at(2024, 12, 2))
    seen.append(c.status)
    c.reject("legal-01", "违约条款不完整", at(2024, 12, 2, 12))
    seen.append(c.status)
    c.submit_for_review(at(2024, 12, 3))
    c.approve("legal-02", at(2024, 12, 4))
    seen.append(c.status)
    c.sign("a", "李娜", at(2024, 12, 5), "e_signature")
    seen.append(c.status)
    c.sign("b", "李四", at(2024, 12, 6), "seal")
    seen.append(c.status)
    c.activate(at(2025, 1, 1))
    seen.append(c.status)
    c.terminate("mutual", at(2025, 2, 1))
    seen.append(c.status)
    c.settle(at(2025, 2, 2))
    seen.append(c.status)
    assert [STATUS_LABELS[s] for s in seen] == [
        "草稿",
        "审核中",
        "已驳回",
        "已审核",
        "签署中",
        "已签署",
        "生效",
        "已终止",
        "已结算",
    ]
    assert [(r["decision"], r["reviewer_id"], r["comments"]) for r in c.reviews] == [
        ("rejected", "legal-01", "违约条款不完整"),
        ("approved", "legal-02", None),
    ]
    assert set(STATUS_LABELS) == set(ContractStatus)


def test_review_steps_out_of_order_are_refused() -> None:
    c = drafted()
    refused(c, "contract.transition_refused", lambda: c.approve("legal-01", at(2024, 12, 2)))
    refused(c, "contract.transition_refused", lambda: c.reject("legal-01", "x", at(2024, 12, 2)))
    c.submit_for_review(at(2024, 12, 2))
    c.collect_events()
    refused(c, "contract.transition_refused", lambda: c.submit_for_review(at(2024, 12, 3)))
    refused(c, "contract.invalid_field", lambda: c.reject("legal-01", " ", at(2024, 12, 3)))
    refused(
        c,
        "contract.time_before_previous",
        lambda: c.approve("legal-01", at(2024, 12, 1, 12)),
    )
    refused(c, "contract.time_before_previous", lambda: c.approve("legal-01", at(2024, 11, 30)))
    refused(c, "validation.invalid_value", lambda: c.approve("legal-01", datetime(2024, 12, 3, 10)))


# -- revision -----------------------------------------------------------------------------


def test_revising_an_approved_draft_sends_it_back_to_draft_with_the_diff() -> None:
    c = approved()
    c.revise(at(2024, 12, 5), terms={"confidentiality_years": 5}, intermediary=INTERMEDIARY)
    [revised] = c.collect_events()
    assert isinstance(revised, Contract.Revised)
    assert revised.diff == [{"clause": "confidentiality_years", "before": 3, "after": 5}]
    assert revised.intermediary is not None
    assert c.status == ContractStatus.DRAFT
    assert c.approved_at is None
    assert c.current_terms.confidentiality_years == 5
    assert c.required_parties == ["a", "b", "intermediary"]
    refused(c, "contract.transition_refused", lambda: c.sign("a", "张三", at(2024, 12, 6), "seal"))


def test_revising_keeps_what_is_not_given_and_may_drop_the_intermediary() -> None:
    c = drafted(intermediary=INTERMEDIARY)
    c.revise(at(2024, 12, 2), intermediary=KEEP, title="新标题")
    assert c.intermediary is not None
    assert c.title == "新标题"
    c.revise(at(2024, 12, 2), intermediary=None, payer="b", leading_party="b")
    assert c.intermediary is None
    assert (c.payer, c.leading_party) == ("b", "b")
    assert c.required_parties == ["a", "b"]


def test_a_revision_that_changes_nothing_is_refused() -> None:
    c = drafted()
    refused(c, "contract.nothing_changed", lambda: c.revise(at(2024, 12, 2)))
    refused(c, "contract.nothing_changed", lambda: c.revise(at(2024, 12, 2), terms=make_terms()))


def test_revision_is_refused_once_signing_started_or_under_review() -> None:
    c = approved()
    c.sign("a", "张三", at(2024, 12, 10), "wet_ink")
    c.collect_events()
    refused(c, "contract.transition_refused", lambda: c.revise(at(2024, 12, 11), title="改"))
    d = drafted()
    d.submit_for_review(at(2024, 12, 2))
    d.collect_events()
    refused(d, "contract.transition_refused", lambda: d.revise(at(2024, 12, 3), title="改"))


# -- attachments --------------------------------------------------------------------------


def test_attachments_are_added_by_name_and_checksum_while_drafted_or_reviewed() -> None:
    c = drafted()
    c.add_attachment("附件一.pdf", SHA, at(2024, 12, 1, 12))
    c.submit_for_review(at(2024, 12, 2))
    c.add_attachment("附件二.pdf", SHA.upper(), at(2024, 12, 2, 11))
    assert c.attachments == {
        "附件一.pdf": {"sha256": SHA, "added_at": at(2024, 12, 1, 12)},
        "附件二.pdf": {"sha256": SHA, "added_at": at(2024, 12, 2, 11)},
    }
    c.collect_events()
    refused(
        c,
        "contract.duplicate_attachment",
        lambda: c.add_attachment("附件一.pdf", "0" * 64, at(2024, 12, 2, 12)),
    )
    refused(
        c,
        "contract.invalid_checksum",
        lambda: c.add_attachment("附件三.pdf", "not-a-digest", at(2024, 12, 2, 12)),
    )


def test_attachments_are_refused_after_approval() -> None:
    c = approved()
    refused(
        c,
        "contract.transition_refused",
        lambda: c.add_attachment("附件.pdf", SHA, at(2024, 12, 4)),
    )


# -- signing ------------------------------------------------------------------------------


def test_signing_by_every_party_makes_version_1_and_waits_for_the_start_date() -> None:
    c = approved()
    c.sign("a", "张三", at(2024, 12, 10), "wet_ink")
    assert c.status == ContractStatus.SIGNING
    assert c.unsigned_parties == ["b"]
    c.sign("b", "李四", at(2024, 12, 11), "seal")
    events = c.collect_events()
    assert names(events) == ["Signed", "Signed", "SigningCompleted"]
    assert (events[1].party, events[1].signatory, events[1].method) == ("b", "李四", "seal")
    assert events[2].version == 1
    assert events[2].effective_date == date(2025, 1, 1)
    assert c.status == ContractStatus.SIGNED
    assert c.signatures == {
        "a": {"method": "wet_ink", "signed_at": at(2024, 12, 10)},
        "b": {"method": "seal", "signed_at": at(2024, 12, 11)},
    }
    assert c.signatory_names == {"a": "张三", "b": "李四"}
    assert c.unsigned_parties == []
    assert not c.in_force_on(date(2024, 12, 31))
    assert c.in_force_on(date(2025, 1, 1))


def test_signing_on_or_after_the_start_date_puts_the_contract_in_force_at_once() -> None:
    c = approved()
    c.sign("a", "张三", at(2025, 1, 2), "wet_ink")
    c.sign("b", "李四", at(2025, 1, 3), "seal")
    assert names(c.collect_events()) == ["Signed", "Signed", "SigningCompleted", "Activated"]
    assert c.status == ContractStatus.IN_FORCE
    assert c.activated_at == at(2025, 1, 3)


def test_a_signature_cannot_be_given_twice_or_changed() -> None:
    c = approved()
    c.sign("a", "张三", at(2024, 12, 10), "wet_ink")
    c.collect_events()
    error = refused(
        c, "contract.already_signed", lambda: c.sign("a", "李娜", at(2024, 12, 11), "seal")
    )
    assert error.details == {"party": "a"}
    c.sign("b", "李四", at(2024, 12, 11), "seal")
    c.collect_events()
    refused(c, "contract.already_signed", lambda: c.sign("b", "李四", at(2024, 12, 12), "seal"))
    assert c.signatures["a"] == {"method": "wet_ink", "signed_at": at(2024, 12, 10)}
    assert c.signatory_names["a"] == "张三"


def test_signing_needs_the_legal_approval() -> None:
    c = drafted()
    refused(c, "contract.transition_refused", lambda: c.sign("a", "张三", at(2024, 12, 2), "seal"))
    c.submit_for_review(at(2024, 12, 2))
    c.collect_events()
    refused(c, "contract.transition_refused", lambda: c.sign("a", "张三", at(2024, 12, 3), "seal"))


def test_signing_refusals() -> None:
    c = approved()
    refused(
        c,
        "contract.signatory_not_authorised",
        lambda: c.sign("b", "张三", at(2024, 12, 10), "seal"),
    )
    refused(
        c,
        "contract.no_intermediary",
        lambda: c.sign("intermediary", "王五", at(2024, 12, 10), "seal"),
    )
    refused(c, "contract.invalid_field", lambda: c.sign("a", "张三", at(2024, 12, 10), "fax"))
    refused(c, "contract.invalid_field", lambda: c.sign("c", "张三", at(2024, 12, 10), "seal"))
    refused(
        c,
        "contract.time_before_previous",
        lambda: c.sign("a", "张三", at(2024, 12, 2), "seal"),
    )


def test_with_an_intermediary_every_three_parties_sign() -> None:
    c = approved(intermediary=INTERMEDIARY)
    c.sign("a", "张三", at(2024, 12, 10), "wet_ink")
    c.sign("b", "李四", at(2024, 12, 11), "seal")
    assert c.status == ContractStatus.SIGNING
    assert c.unsigned_parties == ["intermediary"]
    c.collect_events()
    refused(c, "contract.not_all_signed", lambda: c.activate(at(2025, 1, 1)))
    c.sign("intermediary", "王五", at(2024, 12, 12), "e_signature")
    assert c.status == ContractStatus.SIGNED


# -- in force -----------------------------------------------------------------------------


def test_activation_is_recorded_once_from_the_start_date() -> None:
    c = signed()
    refused(c, "contract.start_date_not_reached", lambda: c.activate(at(2024, 12, 31, 23)))
    c.activate(datetime(2024, 12, 31, 16, tzinfo=UTC))  # 2025-01-01 00:00 in Shanghai
    c.collect_events()
    assert c.status == ContractStatus.IN_FORCE
    refused(c, "contract.transition_refused", lambda: c.activate(at(2025, 1, 2)))


def test_status_on_a_day_is_derived_from_the_recorded_facts() -> None:
    c = terminated()
    assert c.status_on(date(2024, 11, 30)) is None
    assert c.status_on(date(2024, 12, 1)) == ContractStatus.DRAFT
    assert c.status_on(date(2024, 12, 3)) == ContractStatus.APPROVED
    assert c.status_on(date(2024, 12, 10)) == ContractStatus.SIGNING
    assert c.status_on(date(2024, 12, 11)) == ContractStatus.SIGNED
    assert c.status_on(date(2025, 3, 1)) == ContractStatus.IN_FORCE
    assert c.in_force_on(date(2025, 5, 31))
    assert c.status_on(date(2025, 6, 1)) == ContractStatus.TERMINATED
    assert not c.in_force_on(date(2025, 6, 1))


# -- amendments ---------------------------------------------------------------------------


def test_an_amendment_counts_only_once_every_party_signed_it() -> None:
    c = in_force()
    c.propose_amendment(
        1, {"confidentiality_years": 5}, date(2025, 3, 1), "延长保密期", at(2025, 2, 1)
    )
    c.sign_amendment(1, "a", "张三", at(2025, 2, 2), "seal")
    c.collect_events()
    assert c.terms_as_of(date(2025, 12, 1)).confidentiality_years == 3
    assert c.terms_version == 1
    error = refused(c, "contract.amendment_not_in_force", lambda: c.version_of_amendment(1))
    assert "still to sign: b" in error.message
    assert c.amendment_history()[0]["status"] == "pending"
    c.sign_amendment(1, "b", "李四", at(2025, 2, 3), "seal")
    events = c.collect_events()
    assert names(events) == ["AmendmentSigned", "AmendmentConcluded"]
    assert (events[1].number, events[1].version, events[1].effective_date) == (
        1,
        2,
        date(2025, 3, 1),
    )
    assert c.version_of_amendment(1) == 2
    assert c.terms_as_of(date(2025, 2, 28)).confidentiality_years == 3
    assert c.terms_as_of(date(2025, 3, 1)).confidentiality_years == 5
    assert c.current_terms.confidentiality_years == 5
    history = c.amendment_history()
    assert history == [
        {
            "number": 1,
            "kind": "change",
            "status": "in_force",
            "effective_date": date(2025, 3, 1),
            "reason": "延长保密期",
            "diff": [{"clause": "confidentiality_years", "before": 3, "after": 5}],
            "signatures": {
                "a": {"method": "seal", "signed_at": at(2025, 2, 2)},
                "b": {"method": "seal", "signed_at": at(2025, 2, 3)},
            },
            "version": 2,
        }
    ]
    assert c.amendment_signatory_names == {"1": {"a": "张三", "b": "李四"}}


def test_a_proposed_amendment_carries_the_full_new_terms_and_the_diff() -> None:
    c = in_force()
    new_terms = make_terms(
        delivery=Delivery("CRM 系统搭建与实施(含移动端)", date(2025, 5, 31)),
        rectification_days=10,
    )
    c.propose_amendment(1, new_terms, date(2025, 2, 1), "增加移动端", at(2025, 1, 20))
    [proposed] = c.collect_events()
    assert isinstance(proposed, Contract.AmendmentProposed)
    assert proposed.terms == new_terms.as_dict()
    assert proposed.base_version == 1
    assert [d["clause"] for d in proposed.diff] == ["delivery", "rectification_days"]
    assert proposed.kind == "change"


def test_amendment_refusals() -> None:
    c = in_force()
    refused(
        c,
        "contract.amendment_out_of_sequence",
        lambda: c.propose_amendment(
            2, {"confidentiality_years": 5}, date(2025, 3, 1), "x", at(2025, 2, 1)
        ),
    )
    refused(
        c,
        "contract.nothing_changed",
        lambda: c.propose_amendment(
            1, {"confidentiality_years": 3}, date(2025, 3, 1), "x", at(2025, 2, 1)
        ),
    )
    refused(
        c,
        "contract.invalid_amendment",
        lambda: c.propose_amendment(
            1, {"start_date": date(2025, 2, 1)}, date(2025, 3, 1), "x", at(2025, 2, 1)
        ),
    )
    refused(
        c,
        "contract.invalid_amendment",
        lambda: c.propose_amendment(
            1, {"confidentiality_years": 5}, date(2024, 12, 31), "x", at(2025, 2, 1)
        ),
    )
    refused(
        c,
        "contract.invalid_amendment",
        lambda: c.propose_amendment(
            1, {"confidentiality_years": 5}, date(2026, 1, 1), "x", at(2025, 2, 1)
        ),
    )
    refused(
        c,
        "contract.invalid_amendment",
        lambda: c.propose_amendment(
            1, {"end_date": date(2025, 2, 28)}, date(2025, 3, 1), "x", at(2025, 2, 1)
        ),
    )
    refused(
        c,
        "contract.invalid_field",
        lambda: c.propose_amendment(
            1, {"price": cny("1.00")}, date(2025, 3, 1), "x", at(2025, 2, 1)
        ),
    )
    usd = Money.parse("120000.00", "USD")
    refused(
        c,
        "contract.currency_mismatch",
        lambda: c.propose_amendment(
            1,
            {"amount": usd, "payment_schedule": (Instalment(1, date(2025, 1, 15), usd),)},
            date(2025, 3, 1),
            "x",
            at(2025, 2, 1),
        ),
    )
    c.propose_amendment(1, {"confidentiality_years": 5}, date(2025, 3, 1), "x", at(2025, 2, 1))
    c.collect_events()
    refused(
        c,
        "contract.amendment_pending",
        lambda: c.propose_amendment(
            2, {"confidentiality_years": 6}, date(2025, 3, 1), "y", at(2025, 2, 2)
        ),
    )
    refused(
        c,
        "contract.unknown_amendment",
        lambda: c.sign_amendment(2, "a", "张三", at(2025, 2, 2), "seal"),
    )
    refused(c, "contract.unknown_amendment", lambda: c.version_of_amendment(3))
    refused(
        c,
        "contract.signatory_not_authorised",
        lambda: c.sign_amendment(1, "a", "李四", at(2025, 2, 2), "seal"),
    )
    refused(
        c,
        "contract.time_before_previous",
        lambda: c.sign_amendment(1, "a", "张三", at(2025, 1, 31), "seal"),
    )
    c.sign_amendment(1, "a", "张三", at(2025, 2, 2), "seal")
    c.collect_events()
    refused(
        c,
        "contract.already_signed",
        lambda: c.sign_amendment(1, "a", "张三", at(2025, 2, 3), "seal"),
    )
    c.sign_amendment(1, "b", "李四", at(2025, 2, 3), "seal")
    c.collect_events()
    refused(
        c,
        "contract.amendment_already_in_force",
        lambda: c.sign_amendment(1, "b", "李四", at(2025, 2, 4), "seal"),
    )
    refused(
        c,
        "contract.amendment_already_in_force",
        lambda: c.withdraw_amendment(1, "x", at(2025, 2, 4)),
    )
    # a later amendment cannot take effect before the latest version did
    refused(
        c,
        "contract.invalid_amendment",
        lambda: c.propose_amendment(
            2, {"confidentiality_years": 6}, date(2025, 2, 28), "y", at(2025, 2, 5)
        ),
    )


def test_amendments_need_a_contract_signed_by_everyone_and_not_ended() -> None:
    c = approved()
    refused(
        c,
        "contract.not_all_signed",
        lambda: c.propose_amendment(
            1, {"confidentiality_years": 5}, date(2025, 3, 1), "x", at(2024, 12, 5)
        ),
    )
    t = terminated()
    refused(
        t,
        "contract.transition_refused",
        lambda: t.propose_amendment(
            1, {"confidentiality_years": 5}, date(2025, 3, 1), "x", at(2025, 6, 2)
        ),
    )


def test_a_withdrawn_amendment_keeps_its_number_and_cannot_be_signed() -> None:
    c = in_force()
    c.propose_amendment(1, {"confidentiality_years": 5}, date(2025, 3, 1), "x", at(2025, 2, 1))
    c.sign_amendment(1, "a", "张三", at(2025, 2, 2), "seal")
    c.withdraw_amendment(1, "乙方不同意", at(2025, 2, 3))
    c.collect_events()
    assert c.amendment_history()[0]["status"] == "withdrawn"
    refused(
        c,
        "contract.transition_refused",
        lambda: c.sign_amendment(1, "b", "李四", at(2025, 2, 4), "seal"),
    )
    refused(c, "contract.transition_refused", lambda: c.withdraw_amendment(1, "x", at(2025, 2, 4)))
    refused(c, "contract.amendment_not_in_force", lambda: c.version_of_amendment(1))
    c.propose_amendment(2, {"confidentiality_years": 4}, date(2025, 3, 1), "y", at(2025, 2, 5))
    assert [a["number"] for a in c.amendment_history()] == [1, 2]
    assert c.terms_as_of(date(2025, 12, 31)).confidentiality_years == 3


def test_an_amendment_cannot_cut_an_instalment_below_what_was_paid() -> None:
    c = in_force()
    c.record_payment(1, cny("36000.00"), date(2025, 1, 10))
    c.collect_events()
    lower = (
        Instalment(1, date(2025, 1, 15), cny("30000.00")),
        Instalment(2, date(2025, 6, 30), cny("90000.00")),
    )
    refused(
        c,
        "contract.schedule_below_paid",
        lambda: c.propose_amendment(
            1, {"payment_schedule": lower}, date(2025, 3, 1), "x", at(2025, 2, 1)
        ),
    )


def test_a_payment_recorded_while_an_amendment_awaits_signatures_is_checked_at_conclusion() -> None:
    c = in_force()
    lower = (
        Instalment(1, date(2025, 1, 15), cny("30000.00")),
        Instalment(2, date(2025, 6, 30), cny("90000.00")),
    )
    c.propose_amendment(1, {"payment_schedule": lower}, date(2025, 3, 1), "x", at(2025, 1, 5))
    c.sign_amendment(1, "a", "张三", at(2025, 1, 6), "seal")
    c.record_payment(1, cny("36000.00"), date(2025, 1, 10))
    c.collect_events()
    refused(
        c,
        "contract.schedule_below_paid",
        lambda: c.sign_amendment(1, "b", "李四", at(2025, 1, 11), "seal"),
    )


def test_terms_as_of_before_the_start_or_before_signing_are_refused() -> None:
    c = approved()
    refused(c, "contract.no_terms_on_date", lambda: c.terms_as_of(date(2025, 6, 1)))
    s = signed()
    refused(s, "contract.no_terms_on_date", lambda: s.terms_as_of(date(2024, 12, 31)))
    assert s.terms_as_of(date(2025, 1, 1)) == make_terms()


# -- renewal ------------------------------------------------------------------------------


def test_renewal_is_a_numbered_amendment_that_extends_the_period() -> None:
    c = in_force()
    schedule = (
        Instalment(1, date(2025, 1, 15), cny("36000.00")),
        Instalment(2, date(2025, 6, 30), cny("84000.00")),
        Instalment(3, date(2026, 1, 15), cny("100000.00")),
    )
    c.renew(
        1,
        date(2026, 12, 31),
        date(2025, 12, 1),
        "续约一年",
        at(2025, 11, 20),
        amount=cny("220000.00"),
        payment_schedule=schedule,
    )
    c.sign_amendment(1, "a", "张三", at(2025, 11, 21), "seal")
    c.sign_amendment(1, "b", "李四", at(2025, 11, 22), "seal")
    assert c.amendment_history()[0]["kind"] == "renewal"
    assert [d["clause"] for d in c.amendment_history()[0]["diff"]] == [
        "end_date",
        "amount",
        "payment_schedule",
    ]
    assert c.terms_as_of(date(2025, 11, 30)).end_date == date(2025, 12, 31)
    assert c.terms_as_of(date(2026, 6, 1)).end_date == date(2026, 12, 31)
    c.collect_events()
    refused(c, "contract.not_yet_expired", lambda: c.terminate("expiry", at(2025, 12, 31)))
    c.terminate("expiry", at(2026, 12, 31))
    assert c.status == ContractStatus.TERMINATED


def test_renewal_refusals() -> None:
    c = in_force()
    refused(
        c,
        "contract.invalid_amendment",
        lambda: c.renew(1, date(2025, 12, 31), date(2025, 12, 1), "x", at(2025, 11, 20)),
    )
    refused(
        c,
        "contract.invalid_amendment",
        lambda: c.renew(
            1, date(2026, 12, 31), date(2025, 12, 1), "x", at(2025, 11, 20), amount=cny("1.00")
        ),
    )
    refused(
        c,
        "contract.invalid_amendment",
        lambda: c.renew(1, date(2026, 12, 31), date(2026, 1, 1), "x", at(2025, 11, 20)),
    )
    a = approved()
    refused(
        a,
        "contract.not_all_signed",
        lambda: a.renew(1, date(2026, 12, 31), date(2025, 12, 1), "x", at(2025, 11, 20)),
    )


# -- payments -----------------------------------------------------------------------------


def test_payments_count_against_the_instalments_and_overpayment_is_refused() -> None:
    c = in_force()
    c.record_payment(2, cny("50000.00"), date(2025, 6, 1), reference="银行流水 0001")
    [paid] = c.collect_events()
    assert (paid.instalment, paid.amount, paid.paid_on, paid.reference) == (
        2,
        cny("50000.00"),
        date(2025, 6, 1),
        "银行流水 0001",
    )
    assert c.outstanding(2) == cny("34000.00")
    assert c.outstanding(2, as_of=date(2025, 5, 31)) == cny("84000.00")
    assert c.paid_total() == cny("50000.00")
    error = refused(
        c, "contract.overpayment", lambda: c.record_payment(2, cny("34000.01"), date(2025, 6, 2))
    )
    assert error.details == {"instalment": 2, "outstanding": "34000.00"}
    c.record_payment(2, cny("34000.00"), date(2025, 6, 2))
    assert c.outstanding(2) == Money.zero()


def test_payment_refusals() -> None:
    c = in_force()
    refused(
        c, "contract.unknown_instalment", lambda: c.record_payment(3, cny("1.00"), date(2025, 6, 1))
    )
    refused(
        c, "contract.invalid_field", lambda: c.record_payment(1, Money.zero(), date(2025, 6, 1))
    )
    refused(
        c, "contract.invalid_field", lambda: c.record_payment(1, cny("-1.00"), date(2025, 6, 1))
    )
    refused(
        c,
        "contract.currency_mismatch",
        lambda: c.record_payment(1, Money.parse("1.00", "USD"), date(2025, 6, 1)),
    )
    refused(c, "contract.invalid_field", lambda: c.record_payment(1, cny("1.00"), at(2025, 6, 1)))
    refused(
        c,
        "contract.time_before_previous",
        lambda: c.record_payment(1, cny("1.00"), date(2024, 11, 1)),
    )
    d = approved()
    refused(
        d, "contract.not_all_signed", lambda: d.record_payment(1, cny("1.00"), date(2024, 12, 5))
    )


def test_an_overdue_instalment_is_recorded_once() -> None:
    c = in_force()
    c.record_payment(1, cny("30000.00"), date(2025, 1, 20))
    c.collect_events()
    refused(c, "contract.payment_not_overdue", lambda: c.mark_payment_overdue(1, date(2025, 1, 15)))
    assert c.overdue_instalments(date(2025, 1, 15)) == []
    assert c.overdue_instalments(date(2025, 1, 16)) == [1]
    c.mark_payment_overdue(1, date(2025, 1, 16))
    [overdue] = c.collect_events()
    assert (overdue.instalment, overdue.due_date, overdue.outstanding, overdue.as_of) == (
        1,
        date(2025, 1, 15),
        cny("36000.00"),  # what was unpaid on the day: the payment came on the 20th
        date(2025, 1, 16),
    )
    refused(
        c, "contract.overdue_already_recorded", lambda: c.mark_payment_overdue(1, date(2025, 1, 17))
    )
    c.record_payment(1, cny("6000.00"), date(2025, 1, 25))
    assert c.overdue_instalments(date(2025, 1, 26)) == []
    assert c.overdue_instalments(date(2025, 7, 1)) == [2]
    c.collect_events()
    c.record_payment(2, cny("84000.00"), date(2025, 6, 30))
    c.collect_events()
    refused(c, "contract.payment_not_overdue", lambda: c.mark_payment_overdue(2, date(2025, 7, 1)))


# -- delivery and acceptance --------------------------------------------------------------


def test_a_rejected_delivery_gets_a_rectification_deadline_then_is_accepted() -> None:
    c = in_force()
    c.reject_delivery(["缺少报表模块", " 性能不达标 "], at(2025, 4, 1))
    [rejected] = c.collect_events()
    assert rejected.reasons == ["缺少报表模块", "性能不达标"]
    assert rejected.rectification_due_on == date(2025, 4, 16)  # 15 calendar days
    assert c.delivery["status"] == "rejected"
    c.accept_delivery(at(2025, 4, 16, 18), note="整改完成")
    [accepted] = c.collect_events()
    assert accepted.after_rectification_deadline is False
    assert c.delivery["status"] == "accepted"
    refused(c, "contract.delivery_already_accepted", lambda: c.accept_delivery(at(2025, 4, 17)))
    refused(
        c, "contract.delivery_already_accepted", lambda: c.reject_delivery(["x"], at(2025, 4, 17))
    )


def test_a_re_delivery_accepted_after_the_deadline_is_marked_late() -> None:
    c = in_force()
    c.reject_delivery(["缺少报表模块"], at(2025, 4, 1))
    c.accept_delivery(at(2025, 4, 17))
    assert c.collect_events()[-1].after_rectification_deadline is True


def test_a_rejection_needs_reasons() -> None:
    c = in_force()
    refused(c, "contract.invalid_field", lambda: c.reject_delivery([], at(2025, 4, 1)))
    refused(c, "contract.invalid_field", lambda: c.reject_delivery("缺少报表模块", at(2025, 4, 1)))


# -- breaches -----------------------------------------------------------------------------


def test_the_penalty_is_base_times_rate_rounded_half_up_to_the_fen() -> None:
    c = in_force()
    c.record_breach("b", "延迟交付", cny("12345.70"), at(2025, 4, 10))
    [breach] = c.collect_events()
    # 12345.70 × 0.05 = 617.285: half up gives 617.29 (banker's rounding would give 617.28)
    assert breach.penalty == cny("617.29")
    assert (breach.base, breach.penalty_rate, breach.rounding, breach.capped) == (
        cny("12345.70"),
        Decimal("0.05"),
        "ROUND_HALF_UP",
        False,
    )
    assert (breach.number, breach.party) == (1, "b")
    assert c.penalties_owed() == {"a": Money.zero(), "b": cny("617.29")}


def test_an_intermediarys_penalties_stop_at_its_liability_cap() -> None:
    c = in_force(intermediary=INTERMEDIARY)
    c.record_breach("intermediary", "泄露客户信息", cny("15000.00"), at(2025, 3, 1))
    c.record_breach("intermediary", "再次泄露", cny("10000.00"), at(2025, 3, 2))
    c.record_breach("intermediary", "第三次", cny("10000.00"), at(2025, 3, 3))
    assert [(b["penalty"], b["capped"]) for b in c.breaches] == [
        (cny("750.00"), False),
        (cny("250.00"), True),
        (Money.zero(), True),
    ]
    assert c.penalties_owed()["intermediary"] == cny("1000.00")


def test_breach_refusals() -> None:
    c = in_force()
    refused(
        c,
        "contract.no_intermediary",
        lambda: c.record_breach("intermediary", "x", cny("1.00"), at(2025, 3, 1)),
    )
    refused(
        c, "contract.invalid_field", lambda: c.record_breach("a", "x", Money.zero(), at(2025, 3, 1))
    )
    refused(
        c, "contract.invalid_field", lambda: c.record_breach("a", " ", cny("1.00"), at(2025, 3, 1))
    )
    refused(
        c,
        "contract.currency_mismatch",
        lambda: c.record_breach("a", "x", Money.parse("1.00", "EUR"), at(2025, 3, 1)),
    )
    refused(
        c,
        "contract.time_before_previous",
        lambda: c.record_breach("a", "x", cny("1.00"), at(2024, 12, 5)),
    )


# -- dissolution and termination ----------------------------------------------------------


def test_dissolving_for_material_breach_waits_for_the_notice_period() -> None:
    c = in_force()
    c.record_breach("b", "拒不交付", cny("10000.00"), at(2025, 5, 1))
    c.collect_events()

    def dissolve_on(when: datetime) -> None:
        c.dissolve("material_breach", when, by_party="a", notice_given_on=date(2025, 5, 2))

    error = refused(c, "contract.notice_period_running", lambda: dissolve_on(at(2025, 5, 31)))
    assert error.details == {"allowed_from": "2025-06-01"}
    dissolve_on(at(2025, 6, 1))
    [dissolved] = c.collect_events()
    assert (dissolved.reason, dissolved.by_party, dissolved.notice_given_on) == (
        "material_breach",
        "a",
        date(2025, 5, 2),
    )
    assert dissolved.ended_on == date(2025, 6, 1)
    assert dissolved.hand_over_due_on == date(2025, 7, 1)  # 30 calendar days
    assert c.status == ContractStatus.DISSOLVED


def test_material_breach_needs_a_breach_by_the_other_party_before_the_notice() -> None:
    c = in_force()
    refused(
        c,
        "contract.no_breach_recorded",
        lambda: c.dissolve(
            "material_breach", at(2025, 7, 1), by_party="a", notice_given_on=date(2025, 5, 2)
        ),
    )
    c.record_breach("a", "逾期付款", cny("10000.00"), at(2025, 4, 1))
    c.record_breach("b", "拒不交付", cny("10000.00"), at(2025, 5, 10))
    c.collect_events()
    # 甲方's own breach does not count, and 乙方's came after the notice
    refused(
        c,
        "contract.no_breach_recorded",
        lambda: c.dissolve(
            "material_breach", at(2025, 7, 1), by_party="a", notice_given_on=date(2025, 5, 2)
        ),
    )
    refused(
        c,
        "contract.invalid_field",
        lambda: c.dissolve("material_breach", at(2025, 7, 1), by_party="a"),
    )
    refused(
        c,
        "contract.invalid_field",
        lambda: c.dissolve("material_breach", at(2025, 7, 1), notice_given_on=date(2025, 5, 2)),
    )
    refused(
        c,
        "contract.invalid_field",
        lambda: c.dissolve("mutual", at(2025, 7, 1), notice_given_on=date(2025, 7, 2)),
    )
    refused(
        c,
        "contract.invalid_field",
        lambda: c.dissolve("mutual", at(2025, 7, 1), by_party="intermediary"),
    )
    refused(c, "contract.invalid_field", lambda: c.dissolve("boredom", at(2025, 7, 1)))


def test_mutual_and_force_majeure_dissolutions_need_no_notice_period() -> None:
    c = in_force()
    c.dissolve("force_majeure", at(2025, 3, 1), notice_given_on=date(2025, 3, 1), note="疫情管控")
    assert c.ending is not None
    assert (c.ending["kind"], c.ending["reason"]) == ("dissolved", "force_majeure")
    s = signed()
    s.dissolve("mutual", at(2024, 12, 20))
    assert s.status == ContractStatus.DISSOLVED


def test_expiry_is_allowed_from_the_end_date_in_shanghai() -> None:
    c = in_force()
    refused(c, "contract.not_yet_expired", lambda: c.terminate("expiry", at(2025, 12, 30, 23)))
    c.terminate("expiry", datetime(2025, 12, 30, 17, tzinfo=UTC))  # 12-31 01:00 in Shanghai
    [ended] = c.collect_events()
    assert (ended.reason, ended.ended_on, ended.hand_over_due_on) == (
        "expiry",
        date(2025, 12, 31),
        date(2026, 1, 30),
    )
    refused(c, "contract.transition_refused", lambda: c.terminate("mutual", at(2026, 1, 2)))
    refused(c, "contract.transition_refused", lambda: c.dissolve("mutual", at(2026, 1, 2)))


def test_ending_is_refused_before_every_party_signed() -> None:
    c = approved()
    refused(c, "contract.not_all_signed", lambda: c.terminate("mutual", at(2024, 12, 5)))
    refused(c, "contract.not_all_signed", lambda: c.dissolve("mutual", at(2024, 12, 5)))
    refused(c, "contract.transition_refused", lambda: c.settle(at(2024, 12, 5)))


# -- settlement ---------------------------------------------------------------------------


def test_settlement_when_the_payee_breached_may_leave_a_refund() -> None:
    c = in_force(payer="a")
    c.record_payment(1, cny("36000.00"), date(2025, 1, 10))
    c.record_payment(2, cny("84000.00"), date(2025, 6, 1))
    c.record_breach("b", "拒不交付", cny("100000.00"), at(2025, 6, 10))
    c.dissolve("mutual", at(2025, 6, 20))
    c.settle(at(2025, 6, 30))
    settled = c.collect_events()[-1]
    assert isinstance(settled, Contract.Settled)
    assert (settled.amount_due, settled.paid, settled.outstanding) == (
        cny("120000.00"),
        cny("120000.00"),
        Money.zero(),
    )
    assert settled.penalties == {"a": Money.zero(), "b": cny("5000.00")}
    assert settled.balance == cny("-5000.00")
    assert (settled.owed_by, settled.owed_to) == ("b", "a")


def test_settlement_may_use_an_agreed_amount_and_counts_the_intermediarys_penalties_apart() -> None:
    c = in_force(intermediary=INTERMEDIARY, payer="b")
    c.record_payment(1, cny("36000.00"), date(2025, 1, 10))
    c.record_breach("intermediary", "泄露客户信息", cny("10000.00"), at(2025, 2, 1))
    c.record_breach("a", "未按约定提供客户信息", cny("2000.00"), at(2025, 2, 2))
    c.dissolve("mutual", at(2025, 3, 1))
    c.settle(at(2025, 3, 2), amount_due=cny("40000.00"))
    assert c.settlement is not None
    assert c.settlement["penalties"] == {
        "a": cny("100.00"),
        "b": Money.zero(),
        "intermediary": cny("500.00"),
    }
    # payer 乙方: 40000.00 − 36000.00 + 0.00 − 100.00
    assert c.settlement["balance"] == cny("3900.00")
    assert (c.settlement["owed_by"], c.settlement["owed_to"]) == ("b", "a")


def test_a_settlement_that_balances_out_is_owed_by_no_one() -> None:
    c = in_force()
    c.record_payment(1, cny("36000.00"), date(2025, 1, 10))
    c.terminate("mutual", at(2025, 2, 1))
    c.settle(at(2025, 2, 2), amount_due=cny("36000.00"))
    assert c.settlement is not None
    assert c.settlement["balance"] == Money.zero()
    assert (c.settlement["owed_by"], c.settlement["owed_to"]) == (None, None)


def test_settlement_refusals() -> None:
    c = in_force()
    refused(c, "contract.transition_refused", lambda: c.settle(at(2025, 2, 1)))
    t = terminated()
    refused(t, "contract.time_before_previous", lambda: t.settle(at(2025, 5, 31)))
    refused(
        t,
        "contract.currency_mismatch",
        lambda: t.settle(at(2025, 6, 2), amount_due=Money.parse("1.00", "USD")),
    )
    t.settle(at(2025, 6, 2))
    t.collect_events()
    refused(t, "contract.transition_refused", lambda: t.settle(at(2025, 6, 3)))


def test_payments_and_breaches_may_still_be_recorded_after_the_end_until_settled() -> None:
    c = terminated()
    c.record_payment(1, cny("36000.00"), date(2025, 6, 5))
    c.record_breach("b", "泄露保密信息", cny("1000.00"), at(2025, 6, 6))
    c.settle(at(2025, 6, 10))
    c.collect_events()
    refused(
        c,
        "contract.transition_refused",
        lambda: c.record_payment(2, cny("1.00"), date(2025, 6, 11)),
    )


# -- data hand-over -----------------------------------------------------------------------


def test_the_data_hand_over_is_recorded_once_and_late_after_the_deadline() -> None:
    c = terminated()
    c.hand_over_data("客户数据.zip", SHA, at(2025, 7, 2))
    [handed] = c.collect_events()
    assert (handed.due_on, handed.late, handed.customer_ids) == (
        date(2025, 7, 1),
        True,
        [CUSTOMER_ID],
    )
    refused(
        c,
        "contract.data_already_handed_over",
        lambda: c.hand_over_data("b.zip", SHA, at(2025, 7, 3)),
    )
    refused(
        c, "contract.data_already_handed_over", lambda: c.mark_hand_over_overdue(date(2025, 7, 3))
    )


def test_an_overdue_hand_over_is_recorded_once() -> None:
    c = terminated()
    refused(c, "contract.hand_over_not_overdue", lambda: c.mark_hand_over_overdue(date(2025, 7, 1)))
    c.mark_hand_over_overdue(date(2025, 7, 2))
    [overdue] = c.collect_events()
    assert (overdue.due_on, overdue.as_of) == (date(2025, 7, 1), date(2025, 7, 2))
    refused(
        c,
        "contract.hand_over_overdue_already_recorded",
        lambda: c.mark_hand_over_overdue(date(2025, 7, 3)),
    )
    c.hand_over_data("客户数据.zip", SHA, at(2025, 7, 5))
    assert c.hand_over is not None
    assert c.hand_over["late"] is True


def test_hand_over_refusals() -> None:
    c = in_force()
    refused(
        c, "contract.transition_refused", lambda: c.hand_over_data("a.zip", SHA, at(2025, 3, 1))
    )
    refused(c, "contract.transition_refused", lambda: c.mark_hand_over_overdue(date(2025, 3, 1)))
    t = terminated()
    refused(
        t, "contract.invalid_checksum", lambda: t.hand_over_data("a.zip", "abc", at(2025, 6, 2))
    )
    refused(t, "contract.invalid_field", lambda: t.hand_over_data(" ", SHA, at(2025, 6, 2)))
    refused(
        t, "contract.time_before_previous", lambda: t.hand_over_data("a.zip", SHA, at(2025, 5, 1))
    )


# -- the intermediary ---------------------------------------------------------------------


def test_removing_the_intermediary_leaves_amendments_to_the_two_parties() -> None:
    c = in_force(intermediary=INTERMEDIARY)
    c.record_breach("intermediary", "泄露客户信息", cny("1000.00"), at(2025, 2, 1))
    c.remove_intermediary("服务完成, 协商退出", at(2025, 3, 1))
    removed = c.collect_events()[-1]
    assert (removed.name, removed.reason) == ("链家中介服务有限公司", "服务完成, 协商退出")
    assert c.intermediary is None
    assert c.intermediary_exit is not None
    assert c.intermediary_exit["liability_cap"] == cny("1000.00")
    assert c.required_parties == ["a", "b"]
    amended(c, 1, {"confidentiality_years": 5}, date(2025, 4, 1), at(2025, 3, 10))
    assert c.version_of_amendment(1) == 2
    assert c.penalties_owed()["intermediary"] == cny("50.00")
    c.collect_events()
    refused(c, "contract.no_intermediary", lambda: c.remove_intermediary("x", at(2025, 4, 2)))
    refused(
        c,
        "contract.no_intermediary",
        lambda: c.record_breach("intermediary", "x", cny("1.00"), at(2025, 4, 2)),
    )


def test_an_amendment_with_an_intermediary_needs_its_signature_too() -> None:
    c = in_force(intermediary=INTERMEDIARY)
    amended(c, 1, {"confidentiality_years": 5}, date(2025, 4, 1), at(2025, 3, 10))
    c.collect_events()
    refused(c, "contract.amendment_not_in_force", lambda: c.version_of_amendment(1))
    refused(c, "contract.amendment_pending", lambda: c.remove_intermediary("x", at(2025, 3, 11)))
    c.sign_amendment(1, "intermediary", "王五", at(2025, 3, 11), "e_signature")
    assert c.version_of_amendment(1) == 2


def test_the_intermediary_is_removed_only_from_a_signed_contract() -> None:
    c = approved(intermediary=INTERMEDIARY)
    refused(c, "contract.not_all_signed", lambda: c.remove_intermediary("x", at(2024, 12, 5)))
    d = in_force()
    refused(d, "contract.no_intermediary", lambda: d.remove_intermediary("x", at(2025, 3, 1)))


# -- the scheduler's view -----------------------------------------------------------------


def test_due_time_events_list_what_the_scheduler_records_once_each() -> None:
    c = signed()
    assert c.due_time_events(date(2024, 12, 31)) == []
    assert c.due_time_events(date(2025, 1, 16)) == [
        {"event": "activate"},
        {"event": "payment_overdue", "instalment": 1},
    ]
    c.activate(at(2025, 1, 16))
    c.mark_payment_overdue(1, date(2025, 1, 16))
    assert c.due_time_events(date(2025, 1, 16)) == []
    # The end date is the last day in force: expiry is due the day after.
    assert c.due_time_events(date(2025, 12, 31)) == [{"event": "payment_overdue", "instalment": 2}]
    assert c.due_time_events(date(2026, 1, 1)) == [
        {"event": "expire"},
        {"event": "payment_overdue", "instalment": 2},
    ]
    # Recorded late, expiry still ends the contract on its end date.
    c.terminate("expiry", at(2026, 1, 3))
    assert c.ending is not None
    assert c.ending["on"] == date(2025, 12, 31)
    assert c.hand_over_due_on == date(2026, 1, 30)
    assert c.due_time_events(date(2026, 1, 30)) == [{"event": "payment_overdue", "instalment": 2}]
    c.mark_payment_overdue(2, date(2026, 1, 30))
    assert c.due_time_events(date(2026, 1, 31)) == [{"event": "hand_over_overdue"}]
    c.mark_hand_over_overdue(date(2026, 1, 31))
    assert c.due_time_events(date(2026, 2, 1)) == []


# -- replay -------------------------------------------------------------------------------


def test_replaying_the_events_reproduces_the_state_with_an_intermediary() -> None:
    c = draft(intermediary=INTERMEDIARY)
    c.add_attachment("附件.pdf", SHA, at(2024, 12, 1, 12))
    c.submit_for_review(at(2024, 12, 2))
    c.approve("legal-01", at(2024, 12, 3))
    c.sign("a", "张三", at(2024, 12, 10), "wet_ink")
    c.sign("b", "李四", at(2024, 12, 11), "seal")
    c.sign("intermediary", "王五", at(2025, 1, 2), "e_signature")
    c.reject_delivery(["缺少报表模块"], at(2025, 4, 1))
    c.accept_delivery(at(2025, 4, 10))
    c.propose_amendment(1, {"confidentiality_years": 5}, date(2025, 4, 1), "x", at(2025, 3, 1))
    c.withdraw_amendment(1, "撤回", at(2025, 3, 2))
    c.record_breach("intermediary", "泄露", cny("30000.00"), at(2025, 4, 2))
    c.remove_intermediary("退出", at(2025, 5, 1))
    c.renew(2, date(2026, 12, 31), date(2025, 12, 1), "续约", at(2025, 11, 1))
    c.sign_amendment(2, "a", "张三", at(2025, 11, 2), "seal")
    c.sign_amendment(2, "b", "李四", at(2025, 11, 3), "seal")
    c.dissolve("force_majeure", at(2026, 2, 1))
    c.mark_hand_over_overdue(date(2026, 3, 5))
    c.settle(at(2026, 3, 6))
    events = c.collect_events()
    assert len(events) == c.version
    rebuilt = replay(events)
    assert state(rebuilt) == state(c)
    assert rebuilt.terms_versions() == c.terms_versions()
    assert rebuilt.status_on(date(2026, 1, 31)) == ContractStatus.IN_FORCE


def test_every_event_class_is_listed() -> None:
    # the library adds the generic Contract.Event and Contract.Created
    assert set(Contract.event_names()) - {"Contract.Event", "Contract.Created"} == {
        f"Contract.{name}"
        for name in (
            "Drafted",
            "Revised",
            "AttachmentAdded",
            "SubmittedForReview",
            "Approved",
            "Rejected",
            "Signed",
            "SigningCompleted",
            "Activated",
            "AmendmentProposed",
            "AmendmentSigned",
            "AmendmentConcluded",
            "AmendmentWithdrawn",
            "PaymentRecorded",
            "PaymentOverdue",
            "DeliveryAccepted",
            "DeliveryRejected",
            "BreachRecorded",
            "Dissolved",
            "Terminated",
            "Settled",
            "DataHandedOver",
            "HandOverOverdue",
            "IntermediaryRemoved",
        )
    }


def test_terms_returned_by_queries_are_copies() -> None:
    c = signed()
    versions = c.terms_versions()
    versions[0]["terms"]["confidentiality_years"] = 99
    assert c.terms_as_of(date(2025, 1, 1)).confidentiality_years == 3
    assert isinstance(c.current_terms, Terms)
