"""Credit profile 信用档案: limits with four-eyes approval, order checks recorded either way,
the exposure ledger (reserved, used, overdue), invoices, payments, overdue, block and
unblock — as events and state, without a database."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from domain.base import DomainError
from domain.credit import (
    BLOCKED_DECISIONS,
    BLOCKING_ERRORS,
    DECISION_LABELS,
    DEFAULT_APPROVAL_THRESHOLD,
    CreditPolicy,
    CreditProfile,
    Decision,
    credit_profile_id,
)
from domain.values import Money

SH = ZoneInfo("Asia/Shanghai")
CUSTOMER_ID = UUID("00000000-0000-4000-8000-0000000000c1")
OPENED = datetime(2026, 3, 2, 9, tzinfo=SH)
POLICY = CreditPolicy()


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def cny(amount: str) -> Money:
    return Money.parse(amount)


def names(events: Sequence[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def replay(events: Sequence[Any]) -> Any:
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def refused(aggregate: Any, code: str, command: Callable[[], object]) -> DomainError:
    """The command is refused with ``code`` and leaves neither events nor state behind."""
    before = copy.deepcopy(state(aggregate))
    assert list(aggregate.pending_events) == []
    with pytest.raises(DomainError) as error:
        command()
    assert error.value.code == code, error.value.message
    assert len(aggregate.collect_events()) == 0
    assert state(aggregate) == before
    return error.value


def opened() -> CreditProfile:
    profile = CreditProfile.open(customer_id=CUSTOMER_ID, at=OPENED)
    profile.collect_events()
    return profile


def with_limit(
    limit: str = "10000.00", term_days: int = 30, prepayment_ratio: str = "0"
) -> CreditProfile:
    profile = opened()
    assert profile.set_limit(
        request_id="r0",
        limit=limit,
        term_days=term_days,
        prepayment_ratio=prepayment_ratio,
        reason="年度授信",
        by="alice",
        at=at(3, 2),
        policy=POLICY,
    )
    profile.collect_events()
    return profile


def invoiced(amount: str = "8000.00", term_days: int = 30) -> CreditProfile:
    """Limit 10000, order O1 approved and invoiced as I1 on 2 March (due 1 April)."""
    profile = with_limit(term_days=term_days)
    assert profile.check_order("O1", amount, at(3, 2, 11), POLICY) is Decision.APPROVED
    profile.invoice("I1", "O1", amount, date(2026, 3, 2), at(3, 2, 12))
    profile.collect_events()
    return profile


def overdue_recorded() -> CreditProfile:
    """I1 (8000, due 1 April) recorded overdue on 2 April."""
    profile = invoiced()
    profile.record_overdue("I1", at(4, 2, 9))
    profile.collect_events()
    return profile


def ledger(profile: CreditProfile) -> tuple[str, ...]:
    return tuple(
        str(m)
        for m in (
            profile.limit,
            profile.reserved,
            profile.used,
            profile.overdue,
            profile.exposure,
            profile.available,
        )
    )


def request(profile: CreditProfile, **overrides: Any) -> bool:
    fields: dict[str, Any] = {
        "request_id": "r1",
        "limit": "2000000.00",
        "term_days": 60,
        "prepayment_ratio": "0.2",
        "reason": "扩大合作",
        "by": "alice",
        "at": at(3, 3),
        "policy": POLICY,
    } | overrides
    return profile.set_limit(**fields)


# -- opening ----------------------------------------------------------------------------


def test_opening_records_the_customer_and_starts_with_nothing() -> None:
    profile = CreditProfile.open(customer_id=CUSTOMER_ID, at=OPENED)
    [opened_event] = profile.collect_events()
    assert isinstance(opened_event, CreditProfile.Opened)
    assert opened_event.originator_id == credit_profile_id(CUSTOMER_ID) == profile.id
    assert (opened_event.customer_id, opened_event.currency) == (CUSTOMER_ID, "CNY")
    assert opened_event.at == OPENED
    assert ledger(profile) == ("0.00 CNY",) * 6
    assert (profile.term_days, profile.prepayment_ratio) == (0, Decimal("0.0000"))
    assert profile.rating is None
    assert profile.score is None
    assert profile.blocked is False
    assert profile.pending_request is None


def test_each_customer_has_one_deterministic_profile_id() -> None:
    other = UUID("00000000-0000-4000-8000-0000000000c2")
    assert credit_profile_id(CUSTOMER_ID) == credit_profile_id(CUSTOMER_ID)
    assert credit_profile_id(CUSTOMER_ID) != credit_profile_id(other)


def test_opening_in_another_currency() -> None:
    profile = CreditProfile.open(customer_id=CUSTOMER_ID, at=OPENED, currency="USD")
    assert profile.limit == Money.zero("USD")


@pytest.mark.parametrize("currency", ["XX", "cny", "", "元"])
def test_opening_in_an_invalid_currency_is_refused(currency: str) -> None:
    with pytest.raises(DomainError) as error:
        CreditProfile.open(customer_id=CUSTOMER_ID, at=OPENED, currency=currency)
    assert error.value.code == "credit.invalid_field"
    assert error.value.details == {"field": "currency"}


def test_opening_at_a_naive_time_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        CreditProfile.open(customer_id=CUSTOMER_ID, at=datetime(2026, 3, 2, 9))
    assert error.value.code == "validation.invalid_value"
    assert error.value.details == {"field": "at"}


def test_decision_tables_are_complete() -> None:
    assert set(DECISION_LABELS) == set(Decision)
    assert set(BLOCKING_ERRORS) == BLOCKED_DECISIONS
    assert Decision.APPROVED not in BLOCKED_DECISIONS
    assert {d.value: e.code for d, e in BLOCKING_ERRORS.items()} == {
        "blocked_by_limit": "credit.limit_exceeded",
        "blocked_by_overdue": "credit.overdue",
        "blocked_manually": "credit.blocked",
    }


# -- limits and four eyes (四眼原则) -------------------------------------------------------


@pytest.mark.parametrize("limit", ["0.00", "5000.00", "1000000.00"])
def test_a_limit_at_or_below_the_threshold_is_set_directly(limit: str) -> None:
    profile = opened()
    assert request(profile, limit=limit, term_days=45, prepayment_ratio="0.3") is True
    [limit_set] = profile.collect_events()
    assert isinstance(limit_set, CreditProfile.LimitSet)
    assert limit_set.limit == cny(limit)
    assert (limit_set.term_days, limit_set.prepayment_ratio) == (45, Decimal("0.3000"))
    assert (limit_set.reason, limit_set.set_by, limit_set.request_id) == ("扩大合作", "alice", None)
    assert limit_set.at == at(3, 3)
    assert profile.limit == cny(limit)
    assert profile.term_days == 45
    assert profile.prepayment_ratio == Decimal("0.3000")
    assert str(profile.prepayment_ratio) == "0.3000"
    assert profile.limit_set_at == at(3, 3)
    assert profile.pending_request is None
    assert cny("1000000.00") == DEFAULT_APPROVAL_THRESHOLD


def test_a_limit_above_the_threshold_waits_for_a_second_person() -> None:
    profile = with_limit()
    assert request(profile, limit="1000000.01") is False
    [requested] = profile.collect_events()
    assert isinstance(requested, CreditProfile.LimitChangeRequested)
    assert (requested.request_id, requested.limit) == ("r1", cny("1000000.01"))
    assert (requested.term_days, requested.prepayment_ratio) == (60, Decimal("0.2000"))
    assert (requested.requested_by, requested.reason) == ("alice", "扩大合作")
    # nothing changes until it is approved
    assert profile.limit == cny("10000.00")
    assert profile.term_days == 30
    assert profile.prepayment_ratio == Decimal("0.0000")
    assert profile.pending_request is not None
    assert profile.pending_request["request_id"] == "r1"


def test_the_requester_cannot_approve_their_own_limit_change() -> None:
    profile = with_limit()
    request(profile)
    profile.collect_events()
    error = refused(
        profile,
        "credit.four_eyes",
        lambda: profile.approve_limit_change("r1", by="alice", at=at(3, 4)),
    )
    assert error.details == {"request_id": "r1"}
    assert profile.limit == cny("10000.00")
    assert profile.pending_request is not None


def test_another_person_approves_the_limit_change() -> None:
    profile = with_limit()
    request(profile)
    profile.collect_events()
    profile.approve_limit_change("r1", by="bob", at=at(3, 4))
    [limit_set] = profile.collect_events()
    assert isinstance(limit_set, CreditProfile.LimitSet)
    assert (limit_set.limit, limit_set.set_by, limit_set.request_id) == (
        cny("2000000.00"),
        "bob",
        "r1",
    )
    assert (limit_set.term_days, limit_set.prepayment_ratio) == (60, Decimal("0.2000"))
    assert limit_set.reason == "扩大合作"
    assert profile.limit == cny("2000000.00")
    assert profile.term_days == 60
    assert profile.prepayment_ratio == Decimal("0.2000")
    assert profile.pending_request is None
    # approved once: a second approval finds nothing waiting
    refused(
        profile,
        "credit.no_such_request",
        lambda: profile.approve_limit_change("r1", by="carol", at=at(3, 5)),
    )


def test_only_one_limit_change_waits_at_a_time() -> None:
    profile = with_limit()
    request(profile)
    profile.collect_events()
    error = refused(
        profile,
        "credit.limit_change_pending",
        lambda: request(profile, request_id="r2", limit="3000000.00", by="carol"),
    )
    assert error.details == {"request_id": "r1"}
    assert profile.pending_request is not None
    assert profile.pending_request["limit"] == cny("2000000.00")


def test_a_direct_limit_while_a_change_waits_is_refused() -> None:
    profile = with_limit()
    request(profile)
    profile.collect_events()
    error = refused(
        profile,
        "credit.limit_change_pending",
        lambda: request(profile, request_id="r2", limit="5000.00", by="carol", at=at(3, 4)),
    )
    assert error.details == {"request_id": "r1"}
    assert "approve or reject it" in error.message
    assert profile.limit == cny("10000.00")
    assert profile.pending_request is not None
    assert profile.pending_request["limit"] == cny("2000000.00")


def test_an_approval_never_replaces_a_limit_set_after_its_request() -> None:
    """The waiting request is decided first; only then is a direct limit set, and it is
    the one in force."""
    profile = with_limit()
    request(profile)
    profile.reject_limit_change("r1", reason="先行下调", by="bob", at=at(3, 4))
    assert request(profile, request_id="r2", limit="5000.00", at=at(3, 4, 11)) is True
    assert names(profile.collect_events()) == [
        "LimitChangeRequested",
        "LimitChangeRejected",
        "LimitSet",
    ]
    refused(
        profile,
        "credit.no_such_request",
        lambda: profile.approve_limit_change("r1", by="bob", at=at(3, 5)),
    )
    assert profile.limit == cny("5000.00")


def test_after_an_approval_a_new_request_may_wait() -> None:
    profile = with_limit()
    request(profile)
    profile.approve_limit_change("r1", by="bob", at=at(3, 4))
    assert request(profile, request_id="r2", limit="3000000.00", at=at(3, 5)) is False
    assert names(profile.collect_events()) == [
        "LimitChangeRequested",
        "LimitSet",
        "LimitChangeRequested",
    ]
    assert profile.pending_request is not None
    assert profile.pending_request["request_id"] == "r2"


def test_a_rejected_limit_change_leaves_the_limit_and_cannot_be_approved() -> None:
    profile = with_limit()
    request(profile)
    profile.collect_events()
    profile.reject_limit_change("r1", reason="  资料  不全 ", by="bob", at=at(3, 4))
    [rejected] = profile.collect_events()
    assert isinstance(rejected, CreditProfile.LimitChangeRejected)
    assert (rejected.request_id, rejected.rejected_by, rejected.reason) == (
        "r1",
        "bob",
        "资料 不全",
    )
    assert profile.pending_request is None
    assert profile.limit == cny("10000.00")
    refused(
        profile,
        "credit.no_such_request",
        lambda: profile.approve_limit_change("r1", by="bob", at=at(3, 5)),
    )
    # the way is free for a new request
    assert request(profile, request_id="r2", at=at(3, 5)) is False


def test_approving_or_rejecting_an_unknown_request_is_refused() -> None:
    profile = with_limit()
    refused(
        profile,
        "credit.no_such_request",
        lambda: profile.approve_limit_change("r1", by="bob", at=at(3, 4)),
    )
    request(profile)
    profile.collect_events()
    error = refused(
        profile,
        "credit.no_such_request",
        lambda: profile.approve_limit_change("r9", by="bob", at=at(3, 4)),
    )
    assert error.details == {"request_id": "r9"}
    refused(
        profile,
        "credit.no_such_request",
        lambda: profile.reject_limit_change("r9", reason="不同意", by="bob", at=at(3, 4)),
    )


def test_an_approval_before_the_request_is_refused() -> None:
    profile = with_limit()
    request(profile, at=at(3, 4, 10))
    profile.collect_events()
    error = refused(
        profile,
        "credit.invalid_field",
        lambda: profile.approve_limit_change("r1", by="bob", at=at(3, 4, 9, 59)),
    )
    assert error.details == {"field": "at"}


def test_the_threshold_comes_from_the_policy() -> None:
    policy = CreditPolicy(approval_threshold=cny("5000.00"))
    profile = opened()
    assert request(profile, limit="5000.00", policy=policy) is True
    assert request(profile, limit="5000.01", policy=policy) is False
    assert names(profile.collect_events()) == ["LimitSet", "LimitChangeRequested"]


def test_a_threshold_in_another_currency_is_refused() -> None:
    profile = opened()
    policy = CreditPolicy(approval_threshold=Money.parse("1000.00", "USD"))
    refused(
        profile,
        "credit.currency_mismatch",
        lambda: request(profile, limit="10.00", policy=policy),
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("limit", "-0.01"),
        ("limit", 100.0),
        ("limit", "abc"),
        ("limit", "0.001"),
        ("limit", None),
        ("term_days", -1),
        ("term_days", 366),
        ("term_days", True),
        ("term_days", "30"),
        ("term_days", 30.0),
        ("prepayment_ratio", 0.3),
        ("prepayment_ratio", True),
        ("prepayment_ratio", "1.0001"),
        ("prepayment_ratio", "-0.0001"),
        ("prepayment_ratio", "0.12345"),
        ("prepayment_ratio", "abc"),
        ("prepayment_ratio", None),
        ("prepayment_ratio", Decimal("NaN")),
        ("prepayment_ratio", Decimal("Infinity")),
        ("reason", ""),
        ("reason", "   "),
        ("reason", "x" * 501),
    ],
)
def test_invalid_limit_settings_are_refused(field: str, value: object) -> None:
    profile = with_limit()
    error = refused(profile, "credit.invalid_field", lambda: request(profile, **{field: value}))
    assert error.details == {"field": field}


def test_an_invalid_request_id_is_refused_when_the_change_must_wait() -> None:
    profile = with_limit()
    error = refused(profile, "credit.invalid_field", lambda: request(profile, request_id="r 1"))
    assert error.details == {"field": "request_id"}


@pytest.mark.parametrize(
    ("term_days", "ratio", "expected"),
    [
        (0, "0", Decimal("0.0000")),
        (365, "1", Decimal("1.0000")),
        (30, "0.0001", Decimal("0.0001")),
        (30, Decimal("0.5"), Decimal("0.5000")),
        (30, " 0.25 ", Decimal("0.2500")),
        (30, "0.30000", Decimal("0.3000")),
        (30, 1, Decimal("1.0000")),
    ],
)
def test_limit_settings_at_their_bounds_are_accepted(
    term_days: int, ratio: object, expected: Decimal
) -> None:
    profile = opened()
    assert request(profile, limit="100.00", term_days=term_days, prepayment_ratio=ratio)
    assert (profile.term_days, profile.prepayment_ratio) == (term_days, expected)


def test_a_limit_set_before_the_profile_was_opened_is_refused() -> None:
    profile = opened()
    error = refused(
        profile,
        "credit.invalid_field",
        lambda: request(profile, limit="100.00", at=datetime(2026, 3, 2, 8, 59, tzinfo=SH)),
    )
    assert error.details == {"field": "at"}


# -- order checks (信用检查) ---------------------------------------------------------------


def test_done_when_an_order_over_the_available_amount_is_blocked_then_approved_after_payment() -> (
    None
):
    profile = invoiced("8000.00")
    assert ledger(profile) == (
        "10000.00 CNY",
        "0.00 CNY",
        "8000.00 CNY",
        "0.00 CNY",
        "8000.00 CNY",
        "2000.00 CNY",
    )

    assert profile.check_order("O2", "3000.00", at(3, 10), POLICY) is Decision.BLOCKED_BY_LIMIT
    [blocked] = profile.collect_events()
    assert isinstance(blocked, CreditProfile.OrderBlocked)
    assert blocked.order_id == "O2"
    assert blocked.decision == "blocked_by_limit"
    assert blocked.order_amount == cny("3000.00")
    assert blocked.prepayment == cny("0.00")
    assert blocked.credit_amount == cny("3000.00")
    assert blocked.limit == cny("10000.00")
    assert blocked.exposure == cny("8000.00")
    assert blocked.available == cny("2000.00")
    assert blocked.at == at(3, 10)
    assert "3000.00 CNY exceeds the available 2000.00 CNY" in blocked.detail
    assert "limit 10000.00 CNY, exposure 8000.00 CNY" in blocked.detail
    # nothing reserved
    assert "O2" not in profile.reservations
    assert profile.reserved == cny("0.00")
    assert profile.available == cny("2000.00")
    assert profile.blocked_orders["O2"] == {
        "order_amount": cny("3000.00"),
        "credit_amount": cny("3000.00"),
        "decision": "blocked_by_limit",
    }

    profile.receive_payment("I1", "5000.00", date(2026, 3, 11), at(3, 11))
    assert profile.available == cny("7000.00")

    assert profile.check_order("O2", "3000.00", at(3, 12), POLICY) is Decision.APPROVED
    payment, approved = profile.collect_events()
    assert isinstance(payment, CreditProfile.PaymentReceived)
    assert isinstance(approved, CreditProfile.OrderApproved)
    assert approved.order_id == "O2"
    assert approved.credit_amount == cny("3000.00")
    assert (approved.limit, approved.exposure, approved.available) == (
        cny("10000.00"),
        cny("3000.00"),
        cny("7000.00"),
    )
    assert profile.reservations == {"O2": cny("3000.00")}
    assert "O2" not in profile.blocked_orders
    assert ledger(profile) == (
        "10000.00 CNY",
        "3000.00 CNY",
        "3000.00 CNY",
        "0.00 CNY",
        "6000.00 CNY",
        "4000.00 CNY",
    )


def test_an_order_of_exactly_the_available_amount_is_approved_and_one_fen_more_is_not() -> None:
    profile = invoiced("8000.00")
    assert profile.check_order("O2", "2000.01", at(3, 10), POLICY) is Decision.BLOCKED_BY_LIMIT
    assert profile.check_order("O3", "2000.00", at(3, 10), POLICY) is Decision.APPROVED
    assert profile.available == cny("0.00")
    assert profile.check_order("O4", "0.01", at(3, 10), POLICY) is Decision.BLOCKED_BY_LIMIT
    assert names(profile.collect_events()) == ["OrderBlocked", "OrderApproved", "OrderBlocked"]


def test_an_order_on_a_profile_without_a_limit_is_blocked() -> None:
    profile = opened()
    assert profile.check_order("O1", "0.01", at(3, 2, 10), POLICY) is Decision.BLOCKED_BY_LIMIT
    [blocked] = profile.collect_events()
    assert blocked.available == cny("0.00")
    assert profile.reserved == cny("0.00")


@pytest.mark.parametrize(
    ("ratio", "amount", "prepayment", "credit"),
    [
        ("0.3333", "100.01", "33.33", "66.68"),  # 33.333333 → 33.33
        ("0.5", "100.05", "50.03", "50.02"),  # 50.025 → 50.03 (half up, not half even)
        ("0.3", "0.05", "0.02", "0.03"),  # 0.015 → 0.02
        ("0.5", "0.01", "0.01", "0.00"),  # 0.005 → 0.01
        ("0", "100.01", "0.00", "100.01"),
        ("1", "100.01", "100.01", "0.00"),
        ("0.0001", "49.99", "0.00", "49.99"),  # 0.004999 → 0.00
        ("0.0001", "50.00", "0.01", "49.99"),  # 0.005 → 0.01
    ],
)
def test_the_prepayment_is_rounded_half_up_to_the_fen(
    ratio: str, amount: str, prepayment: str, credit: str
) -> None:
    profile = with_limit(prepayment_ratio=ratio)
    assert profile.check_order("O1", amount, at(3, 3), POLICY) is Decision.APPROVED
    [approved] = profile.collect_events()
    assert approved.order_amount == cny(amount)
    assert approved.prepayment == cny(prepayment)
    assert approved.credit_amount == cny(credit)
    assert approved.prepayment + approved.credit_amount == approved.order_amount
    assert profile.reserved == cny(credit)
    assert profile.available == cny("10000.00") - cny(credit)


def test_a_fully_prepaid_order_reserves_nothing() -> None:
    profile = with_limit(prepayment_ratio="1")
    assert profile.check_order("O1", "50000.00", at(3, 3), POLICY) is Decision.APPROVED
    assert profile.reservations == {}
    assert profile.exposure == cny("0.00")


def negative_available(prepayment_ratio: str) -> CreditProfile:
    """8000 used against a limit lowered to 5000: available -3000."""
    profile = invoiced("8000.00")
    request(profile, limit="5000.00", term_days=30, prepayment_ratio=prepayment_ratio, at=at(3, 5))
    profile.collect_events()
    assert profile.available == cny("-3000.00")
    return profile


@pytest.mark.parametrize(("ratio", "amount"), [("1", "50000.00"), ("0.5", "0.01")])
def test_an_order_needing_no_credit_is_approved_even_when_the_available_amount_is_negative(
    ratio: str, amount: str
) -> None:
    profile = negative_available(ratio)
    assert profile.check_order("O2", amount, at(3, 6), POLICY) is Decision.APPROVED
    [approved] = profile.collect_events()
    assert isinstance(approved, CreditProfile.OrderApproved)
    assert approved.credit_amount == cny("0.00")
    assert approved.prepayment == cny(amount)
    assert approved.available == cny("-3000.00")
    assert profile.reservations == {}
    assert profile.available == cny("-3000.00")


def test_an_order_needing_one_fen_of_credit_is_still_blocked_by_a_negative_available() -> None:
    profile = negative_available("0.5")
    assert profile.check_order("O2", "0.02", at(3, 6), POLICY) is Decision.BLOCKED_BY_LIMIT
    [blocked] = profile.collect_events()
    assert isinstance(blocked, CreditProfile.OrderBlocked)
    assert blocked.credit_amount == cny("0.01")


def test_an_order_needing_no_credit_is_still_blocked_by_overdue_and_by_a_manual_block() -> None:
    profile = overdue_recorded()
    request(profile, limit="10000.00", term_days=30, prepayment_ratio="1", at=at(4, 3))
    decision = profile.check_order("O2", "100.00", at(4, 3, 11), POLICY)
    assert decision is Decision.BLOCKED_BY_OVERDUE
    profile.receive_payment("I1", "8000.00", date(2026, 4, 3), at(4, 3, 12))
    profile.block("涉诉", at(4, 3, 13))
    decision = profile.check_order("O2", "100.00", at(4, 3, 14), POLICY)
    assert decision is Decision.BLOCKED_MANUALLY
    assert profile.reservations == {}


def test_the_prepayment_lets_through_an_order_larger_than_the_limit() -> None:
    profile = with_limit(limit="100.00", prepayment_ratio="0.5")
    assert profile.check_order("O1", "200.00", at(3, 3), POLICY) is Decision.APPROVED
    assert profile.check_order("O2", "0.02", at(3, 3), POLICY) is Decision.BLOCKED_BY_LIMIT
    assert profile.reserved == cny("100.00")
    assert profile.available == cny("0.00")


def _reserved(profile: CreditProfile) -> None:
    profile.check_order("O1", "100.00", at(3, 3), POLICY)


def _partly_invoiced(profile: CreditProfile) -> None:
    _reserved(profile)
    profile.invoice("I1", "O1", "40.00", date(2026, 3, 3), at(3, 3, 11))


def _fully_invoiced(profile: CreditProfile) -> None:
    _reserved(profile)
    profile.invoice("I1", "O1", "100.00", date(2026, 3, 3), at(3, 3, 11))


def _invoiced_and_paid(profile: CreditProfile) -> None:
    _fully_invoiced(profile)
    profile.receive_payment("I1", "100.00", date(2026, 3, 4), at(3, 4))


def _cancelled(profile: CreditProfile) -> None:
    _reserved(profile)
    profile.release("O1", "订单取消", at(3, 3, 11))


def _fully_prepaid(profile: CreditProfile) -> None:
    request(profile, limit="10000.00", term_days=30, prepayment_ratio="1", at=at(3, 3))
    profile.check_order("O1", "100.00", at(3, 3, 11), POLICY)
    assert profile.reservations == {}


def _released_by_a_manager(profile: CreditProfile) -> None:
    profile.block("核查", at(3, 3))
    profile.check_order("O1", "100.00", at(3, 3, 11), POLICY)
    profile.release_blocked_order("O1", "战略客户", "manager", at(3, 3, 12))


@pytest.mark.parametrize(
    "stage",
    [
        _reserved,
        _partly_invoiced,
        _fully_invoiced,
        _invoiced_and_paid,
        _cancelled,
        _fully_prepaid,
        _released_by_a_manager,
    ],
)
def test_an_approved_order_is_never_checked_again_whatever_its_stage(
    stage: Callable[[CreditProfile], None],
) -> None:
    profile = with_limit()
    stage(profile)
    profile.collect_events()
    assert "O1" in profile.approved_orders
    error = refused(
        profile,
        "credit.order_already_approved",
        lambda: profile.check_order(" O1 ", "100.00", at(3, 5), POLICY),
    )
    assert error.details == {"order_id": "O1"}
    assert "a new order needs a new order number" in error.message


def test_a_blocked_order_may_be_checked_again_until_it_is_approved() -> None:
    profile = with_limit(limit="100.00")
    assert profile.check_order("O1", "150.00", at(3, 3), POLICY) is Decision.BLOCKED_BY_LIMIT
    assert profile.check_order("O1", "150.00", at(3, 3, 11), POLICY) is Decision.BLOCKED_BY_LIMIT
    assert profile.check_order("O1", "100.00", at(3, 3, 12), POLICY) is Decision.APPROVED
    assert names(profile.collect_events()) == ["OrderBlocked", "OrderBlocked", "OrderApproved"]
    assert profile.approved_orders == {"O1"}
    refused(
        profile,
        "credit.order_already_approved",
        lambda: profile.check_order("O1", "1.00", at(3, 4), POLICY),
    )


@pytest.mark.parametrize(
    ("field", "order_id", "amount"),
    [
        ("amount", "O1", "0.00"),
        ("amount", "O1", "-1.00"),
        ("amount", "O1", 1.5),
        ("amount", "O1", "1.001"),
        ("amount", "O1", "abc"),
        ("order_id", "O 1", "1.00"),
        ("order_id", "", "1.00"),
        ("order_id", "x" * 65, "1.00"),
    ],
)
def test_an_invalid_order_is_refused(field: str, order_id: str, amount: object) -> None:
    profile = with_limit()
    error = refused(
        profile,
        "credit.invalid_field",
        lambda: profile.check_order(order_id, amount, at(3, 3), POLICY),
    )
    assert error.details == {"field": field}


def test_exposure_is_reserved_plus_used_plus_overdue_in_exact_decimals() -> None:
    profile = with_limit(limit="1.00")
    profile.check_order("O1", "0.10", at(3, 3), POLICY)
    profile.check_order("O2", "0.20", at(3, 3), POLICY)
    profile.check_order("O3", "0.40", at(3, 3), POLICY)
    assert profile.reserved.amount == Decimal("0.70")
    assert profile.available.amount == Decimal("0.30")
    profile.invoice("I1", "O1", "0.10", date(2026, 3, 3), at(3, 3, 11))
    profile.invoice("I2", "O2", "0.15", date(2026, 3, 3), at(3, 3, 11))
    assert profile.reservations == {"O2": cny("0.05"), "O3": cny("0.40")}
    assert (profile.reserved.amount, profile.used.amount) == (Decimal("0.45"), Decimal("0.25"))
    profile.receive_payment("I1", "0.03", date(2026, 3, 4), at(3, 4))
    profile.record_overdue("I2", at(4, 3))
    assert ledger(profile) == (
        "1.00 CNY",
        "0.45 CNY",
        "0.07 CNY",
        "0.15 CNY",
        "0.67 CNY",
        "0.33 CNY",
    )
    assert profile.exposure == profile.reserved + profile.used + profile.overdue
    assert profile.available == profile.limit - profile.exposure


def test_lowering_the_limit_below_the_exposure_makes_the_available_negative() -> None:
    profile = invoiced("8000.00")
    request(profile, limit="5000.00", term_days=30, prepayment_ratio="0", at=at(3, 5))
    assert profile.available == cny("-3000.00")
    assert profile.check_order("O2", "0.01", at(3, 6), POLICY) is Decision.BLOCKED_BY_LIMIT
    blocked = profile.collect_events()[-1]
    assert blocked.available == cny("-3000.00")
    assert blocked.limit == cny("5000.00")


def test_releasing_a_reservation_frees_the_credit() -> None:
    profile = with_limit()
    profile.check_order("O1", "4000.00", at(3, 3), POLICY)
    profile.collect_events()
    profile.release("O1", "订单取消", at(3, 4))
    [released] = profile.collect_events()
    assert isinstance(released, CreditProfile.ReservationReleased)
    assert (released.order_id, released.amount, released.reason) == (
        "O1",
        cny("4000.00"),
        "订单取消",
    )
    assert profile.reservations == {}
    assert profile.available == cny("10000.00")
    error = refused(
        profile, "credit.no_reservation", lambda: profile.release("O1", "再次", at(3, 4))
    )
    assert error.details == {"order_id": "O1"}


def test_releasing_a_partly_invoiced_order_frees_only_the_remainder() -> None:
    profile = with_limit()
    profile.check_order("O1", "4000.00", at(3, 3), POLICY)
    profile.invoice("I1", "O1", "1500.00", date(2026, 3, 3), at(3, 3, 11))
    profile.release("O1", "余量取消", at(3, 4))
    released = profile.collect_events()[-1]
    assert released.amount == cny("2500.00")
    assert (profile.reserved, profile.used) == (cny("0.00"), cny("1500.00"))


def test_a_manager_releases_a_blocked_order_beyond_the_limit() -> None:
    profile = invoiced("8000.00")
    profile.check_order("O2", "3000.00", at(3, 10), POLICY)
    profile.collect_events()
    profile.release_blocked_order("O2", "战略客户", "manager", at(3, 10, 11))
    [released] = profile.collect_events()
    assert isinstance(released, CreditProfile.BlockedOrderReleased)
    assert released.overridden == "blocked_by_limit"
    assert (released.credit_amount, released.exposure, released.available) == (
        cny("3000.00"),
        cny("8000.00"),
        cny("2000.00"),
    )
    assert released.released_by == "manager"
    assert profile.reservations == {"O2": cny("3000.00")}
    assert profile.available == cny("-1000.00")
    assert profile.blocked_orders == {}
    refused(
        profile,
        "credit.order_not_blocked",
        lambda: profile.release_blocked_order("O2", "再次", "manager", at(3, 10, 12)),
    )


def test_an_order_that_was_never_blocked_cannot_be_released() -> None:
    profile = with_limit()
    profile.check_order("O1", "1.00", at(3, 3), POLICY)
    profile.collect_events()
    error = refused(
        profile,
        "credit.order_not_blocked",
        lambda: profile.release_blocked_order("O1", "放行", "manager", at(3, 4)),
    )
    assert error.details == {"order_id": "O1"}


# -- invoices and payments --------------------------------------------------------------


def test_invoicing_moves_the_amount_from_reserved_to_used_and_sets_the_due_date() -> None:
    profile = with_limit(term_days=30)
    profile.check_order("O1", "5000.00", at(3, 2, 11), POLICY)
    profile.collect_events()
    profile.invoice("I1", "O1", "2000.00", date(2026, 3, 2), at(3, 2, 12))
    [invoiced_event] = profile.collect_events()
    assert isinstance(invoiced_event, CreditProfile.Invoiced)
    assert (invoiced_event.invoice_id, invoiced_event.order_id) == ("I1", "O1")
    assert invoiced_event.amount == cny("2000.00")
    assert invoiced_event.invoiced_on == date(2026, 3, 2)
    assert invoiced_event.due_on == date(2026, 4, 1)  # 30 calendar days
    assert profile.reservations == {"O1": cny("3000.00")}
    assert (profile.reserved, profile.used) == (cny("3000.00"), cny("2000.00"))
    assert profile.exposure == cny("5000.00")
    # the rest of the order
    profile.invoice("I2", "O1", "3000.00", date(2026, 3, 3), at(3, 3))
    assert profile.reservations == {}
    assert (profile.reserved, profile.used) == (cny("0.00"), cny("5000.00"))
    assert profile.invoices["I2"]["due_on"] == date(2026, 4, 2)


def test_an_invoice_on_a_zero_term_falls_due_the_same_day() -> None:
    profile = with_limit(term_days=0)
    profile.check_order("O1", "10.00", at(3, 2, 11), POLICY)
    profile.invoice("I1", "O1", "10.00", date(2026, 3, 2), at(3, 2, 12))
    assert profile.invoices["I1"]["due_on"] == date(2026, 3, 2)


def test_an_invoice_exceeding_the_reservation_is_refused() -> None:
    profile = with_limit()
    profile.check_order("O1", "5000.00", at(3, 2, 11), POLICY)
    profile.collect_events()
    error = refused(
        profile,
        "credit.invoice_exceeds_reservation",
        lambda: profile.invoice("I1", "O1", "5000.01", date(2026, 3, 2), at(3, 2, 12)),
    )
    assert error.details == {"reserved": "5000.00"}
    assert profile.reserved == cny("5000.00")
    assert profile.invoices == {}


def test_a_duplicate_invoice_is_refused() -> None:
    profile = with_limit()
    profile.check_order("O1", "5000.00", at(3, 2, 11), POLICY)
    profile.invoice("I1", "O1", "1000.00", date(2026, 3, 2), at(3, 2, 12))
    profile.collect_events()
    error = refused(
        profile,
        "credit.duplicate_invoice",
        lambda: profile.invoice("I1", "O1", "1000.00", date(2026, 3, 2), at(3, 2, 13)),
    )
    assert error.details == {"invoice_id": "I1"}
    assert profile.used == cny("1000.00")
    assert profile.reserved == cny("4000.00")


def test_an_invoice_without_a_reservation_is_refused() -> None:
    profile = with_limit()
    error = refused(
        profile,
        "credit.no_reservation",
        lambda: profile.invoice("I1", "O1", "1.00", date(2026, 3, 2), at(3, 2, 12)),
    )
    assert error.details == {"order_id": "O1"}


@pytest.mark.parametrize(
    ("field", "invoice_id", "amount", "invoiced_on"),
    [
        ("amount", "I1", "0.00", date(2026, 3, 2)),
        ("amount", "I1", 10.0, date(2026, 3, 2)),
        ("invoiced_on", "I1", "10.00", datetime(2026, 3, 2, tzinfo=SH)),
        ("invoiced_on", "I1", "10.00", "2026-03-02"),
        ("invoice_id", "I 1", "10.00", date(2026, 3, 2)),
    ],
)
def test_an_invalid_invoice_is_refused(
    field: str, invoice_id: str, amount: object, invoiced_on: Any
) -> None:
    profile = with_limit()
    profile.check_order("O1", "100.00", at(3, 2, 11), POLICY)
    profile.collect_events()
    error = refused(
        profile,
        "credit.invalid_field",
        lambda: profile.invoice(invoice_id, "O1", amount, invoiced_on, at(3, 2, 12)),
    )
    assert error.details == {"field": field}


def test_a_payment_reduces_what_is_used() -> None:
    profile = invoiced("8000.00")
    profile.receive_payment("I1", "2500.50", date(2026, 3, 20), at(3, 20))
    [paid] = profile.collect_events()
    assert isinstance(paid, CreditProfile.PaymentReceived)
    assert (paid.invoice_id, paid.amount, paid.paid_on) == ("I1", cny("2500.50"), date(2026, 3, 20))
    assert profile.invoices["I1"]["outstanding"] == cny("5499.50")
    assert profile.invoices["I1"]["amount"] == cny("8000.00")
    assert profile.used == cny("5499.50")
    profile.receive_payment("I1", "5499.50", date(2026, 3, 21), at(3, 21))
    assert profile.used == cny("0.00")
    assert profile.available == cny("10000.00")


def test_an_overpayment_is_refused() -> None:
    profile = invoiced("8000.00")
    profile.receive_payment("I1", "7999.00", date(2026, 3, 20), at(3, 20))
    profile.collect_events()
    error = refused(
        profile,
        "credit.overpayment",
        lambda: profile.receive_payment("I1", "1.01", date(2026, 3, 21), at(3, 21)),
    )
    assert error.details == {"outstanding": "1.00"}
    assert profile.used == cny("1.00")


def test_a_payment_against_an_unknown_invoice_is_refused() -> None:
    profile = invoiced()
    error = refused(
        profile,
        "credit.no_such_invoice",
        lambda: profile.receive_payment("I9", "1.00", date(2026, 3, 20), at(3, 20)),
    )
    assert error.details == {"invoice_id": "I9"}


@pytest.mark.parametrize(
    ("field", "amount", "paid_on"),
    [
        ("amount", "0.00", date(2026, 3, 20)),
        ("amount", "-1.00", date(2026, 3, 20)),
        ("amount", 1.0, date(2026, 3, 20)),
        ("paid_on", "1.00", datetime(2026, 3, 20, tzinfo=SH)),
        ("paid_on", "1.00", None),
    ],
)
def test_an_invalid_payment_is_refused(field: str, amount: object, paid_on: Any) -> None:
    profile = invoiced()
    error = refused(
        profile,
        "credit.invalid_field",
        lambda: profile.receive_payment("I1", amount, paid_on, at(3, 20)),
    )
    assert error.details == {"field": field}


# -- overdue (逾期) ------------------------------------------------------------------------


def test_an_overdue_invoice_moves_its_unpaid_amount_from_used_to_overdue() -> None:
    profile = invoiced("8000.00")
    profile.receive_payment("I1", "3000.00", date(2026, 3, 20), at(3, 20))
    profile.collect_events()
    profile.record_overdue("I1", at(4, 5))
    [overdue] = profile.collect_events()
    assert isinstance(overdue, CreditProfile.InvoiceOverdue)
    assert overdue.invoice_id == "I1"
    assert overdue.amount == cny("5000.00")
    assert overdue.due_on == date(2026, 4, 1)
    assert overdue.days_overdue == 4
    assert (profile.used, profile.overdue) == (cny("0.00"), cny("5000.00"))
    assert profile.exposure == cny("5000.00")  # counted once
    assert profile.available == cny("5000.00")
    assert profile.invoices["I1"]["overdue"] is True


def test_overdue_on_the_due_date_is_refused_and_the_next_shanghai_day_is_allowed() -> None:
    profile = invoiced()  # due 1 April
    error = refused(
        profile, "credit.not_yet_due", lambda: profile.record_overdue("I1", at(4, 1, 23, 59))
    )
    assert error.details == {"due_on": "2026-04-01"}
    # 15:59 UTC on 1 April is 23:59 in Shanghai: still the due date
    refused(
        profile,
        "credit.not_yet_due",
        lambda: profile.record_overdue("I1", datetime(2026, 4, 1, 15, 59, tzinfo=UTC)),
    )
    # 16:00 UTC on 1 April is midnight of 2 April in Shanghai
    profile.record_overdue("I1", datetime(2026, 4, 1, 16, 0, tzinfo=UTC))
    [overdue] = profile.collect_events()
    assert overdue.days_overdue == 1


def test_overdue_before_the_due_date_is_refused() -> None:
    profile = invoiced()
    refused(profile, "credit.not_yet_due", lambda: profile.record_overdue("I1", at(3, 15)))
    assert profile.used == cny("8000.00")
    assert profile.overdue == cny("0.00")


def test_an_invoice_is_recorded_overdue_only_once() -> None:
    profile = overdue_recorded()
    refused(profile, "credit.already_overdue", lambda: profile.record_overdue("I1", at(4, 10)))
    assert profile.overdue == cny("8000.00")


@pytest.mark.parametrize("noticed", [at(3, 20), at(4, 10)], ids=["before_due", "after_due"])
def test_a_paid_invoice_cannot_be_overdue(noticed: datetime) -> None:
    profile = invoiced()
    profile.receive_payment("I1", "8000.00", date(2026, 3, 15), at(3, 15))
    profile.collect_events()
    error = refused(profile, "credit.invoice_paid", lambda: profile.record_overdue("I1", noticed))
    assert error.details == {"invoice_id": "I1"}
    assert error.message == "invoice I1 is paid in full"


def test_an_unknown_invoice_cannot_be_overdue() -> None:
    profile = invoiced()
    refused(profile, "credit.no_such_invoice", lambda: profile.record_overdue("I9", at(4, 10)))


def test_overdue_invoices_lists_the_unpaid_past_due_not_yet_recorded() -> None:
    profile = with_limit(term_days=10)
    for order, invoice, day in (("O1", "I1", 2), ("O2", "I2", 3), ("O3", "I3", 4)):
        profile.check_order(order, "100.00", at(3, day), POLICY)
        profile.invoice(invoice, order, "100.00", date(2026, 3, day), at(3, day, 11))
    # due 12, 13 and 14 March
    assert profile.overdue_invoices(date(2026, 3, 12)) == []
    assert profile.overdue_invoices(date(2026, 3, 13)) == ["I1"]
    assert profile.overdue_invoices(date(2026, 3, 15)) == ["I1", "I2", "I3"]
    profile.receive_payment("I2", "100.00", date(2026, 3, 13), at(3, 13))
    profile.record_overdue("I3", at(3, 15))
    assert profile.overdue_invoices(date(2026, 3, 15)) == ["I1"]
    assert profile.days_overdue("I1", date(2026, 3, 15)) == 3
    assert profile.days_overdue("I1", date(2026, 3, 1)) == 0


def test_a_recorded_overdue_blocks_new_orders_even_within_the_limit() -> None:
    profile = overdue_recorded()
    assert profile.available == cny("2000.00")
    assert profile.check_order("O2", "1.00", at(4, 3), POLICY) is Decision.BLOCKED_BY_OVERDUE
    [blocked] = profile.collect_events()
    assert isinstance(blocked, CreditProfile.OrderBlocked)
    assert blocked.decision == "blocked_by_overdue"
    assert blocked.detail == "overdue invoices: I1 (2 days)"
    assert (blocked.limit, blocked.exposure, blocked.available) == (
        cny("10000.00"),
        cny("8000.00"),
        cny("2000.00"),
    )
    assert profile.reservations == {}
    assert profile.blocked_orders["O2"]["decision"] == "blocked_by_overdue"


def test_the_overdue_tolerance_allows_a_few_days_past_due() -> None:
    policy = CreditPolicy(overdue_tolerance_days=3)
    profile = overdue_recorded()  # due 1 April
    assert profile.check_order("O2", "1.00", at(4, 4), policy) is Decision.APPROVED  # 3 days
    assert profile.check_order("O3", "1.00", at(4, 5), policy) is Decision.BLOCKED_BY_OVERDUE
    _, blocked = profile.collect_events()
    assert blocked.detail == "overdue invoices: I1 (4 days)"
    assert profile.reservations == {"O2": cny("1.00")}


def test_an_unrecorded_late_invoice_does_not_block() -> None:
    profile = invoiced()
    assert profile.overdue_invoices(date(2026, 4, 10)) == ["I1"]
    assert profile.check_order("O2", "1.00", at(4, 10), POLICY) is Decision.APPROVED


def test_a_partial_payment_of_an_overdue_invoice_still_blocks_and_full_payment_lifts_it() -> None:
    profile = overdue_recorded()
    profile.receive_payment("I1", "7999.99", date(2026, 4, 3), at(4, 3))
    assert profile.overdue == cny("0.01")
    assert profile.used == cny("0.00")
    assert profile.check_order("O2", "1.00", at(4, 3), POLICY) is Decision.BLOCKED_BY_OVERDUE
    profile.receive_payment("I1", "0.01", date(2026, 4, 3), at(4, 3, 11))
    assert profile.overdue == cny("0.00")
    assert profile.check_order("O2", "1.00", at(4, 3, 12), POLICY) is Decision.APPROVED
    assert names(profile.collect_events()) == [
        "PaymentReceived",
        "OrderBlocked",
        "PaymentReceived",
        "OrderApproved",
    ]


def test_the_overdue_detail_lists_every_late_invoice_in_order() -> None:
    profile = with_limit(term_days=0)
    for order, invoice in (("O2", "I2"), ("O1", "I1")):
        profile.check_order(order, "10.00", at(3, 2), POLICY)
        profile.invoice(invoice, order, "10.00", date(2026, 3, 2), at(3, 2, 11))
    profile.record_overdue("I2", at(3, 3))
    profile.record_overdue("I1", at(3, 4))
    profile.check_order("O3", "1.00", at(3, 5), POLICY)
    assert profile.collect_events()[-1].detail == "overdue invoices: I1 (3 days), I2 (3 days)"


# -- block and unblock (冻结) --------------------------------------------------------------


def test_a_blocked_profile_blocks_every_order_manually() -> None:
    profile = with_limit()
    profile.block("  涉诉  风险 ", at(3, 3))
    [blocked_event] = profile.collect_events()
    assert isinstance(blocked_event, CreditProfile.Blocked)
    assert blocked_event.reason == "涉诉 风险"
    assert profile.blocked is True
    assert profile.check_order("O1", "1.00", at(3, 4), POLICY) is Decision.BLOCKED_MANUALLY
    [order_blocked] = profile.collect_events()
    assert order_blocked.decision == "blocked_manually"
    assert order_blocked.detail == "the profile is blocked: 涉诉 风险"
    assert order_blocked.available == cny("10000.00")
    assert profile.reservations == {}


def test_a_manual_block_comes_before_overdue_and_limit() -> None:
    profile = overdue_recorded()
    profile.block("人工冻结", at(4, 3))
    assert profile.check_order("O2", "99999.00", at(4, 3), POLICY) is Decision.BLOCKED_MANUALLY


def test_unblocking_lets_orders_through_again() -> None:
    profile = with_limit()
    profile.block("核查", at(3, 3))
    profile.check_order("O1", "1.00", at(3, 3, 11), POLICY)
    profile.unblock("核查完毕", at(3, 4))
    assert profile.blocked is False
    assert profile.check_order("O1", "1.00", at(3, 4, 11), POLICY) is Decision.APPROVED
    events = profile.collect_events()
    assert names(events) == ["Blocked", "OrderBlocked", "Unblocked", "OrderApproved"]
    assert events[2].reason == "核查完毕"
    assert profile.blocked_orders == {}


def test_blocking_twice_or_unblocking_an_unblocked_profile_is_refused() -> None:
    profile = with_limit()
    refused(profile, "credit.block_state", lambda: profile.unblock("解除", at(3, 3)))
    profile.block("冻结", at(3, 3))
    profile.collect_events()
    refused(profile, "credit.block_state", lambda: profile.block("再次", at(3, 4)))
    assert profile.blocked_reason == "冻结"


def test_a_block_needs_a_reason() -> None:
    profile = with_limit()
    error = refused(profile, "credit.invalid_field", lambda: profile.block("  ", at(3, 3)))
    assert error.details == {"field": "reason"}


# -- ids ------------------------------------------------------------------------------


def test_order_and_invoice_ids_are_cleaned_at_every_command() -> None:
    profile = with_limit(limit="10000.00", term_days=10)
    profile.check_order(" O1 ", "100.00", at(3, 2, 11), POLICY)
    profile.invoice(" I1 ", "\tO1 ", "60.00", date(2026, 3, 2), at(3, 2, 12))
    profile.receive_payment(" I1", "10.00", date(2026, 3, 3), at(3, 3))
    profile.record_overdue("I1 ", at(3, 13))
    profile.release(" O1 ", "余量取消", at(3, 13, 11))
    profile.block("核查", at(3, 14))
    profile.check_order(" O2 ", "1.00", at(3, 14, 11), POLICY)
    profile.release_blocked_order(" O2 ", "战略客户", "manager", at(3, 14, 12))
    events = profile.collect_events()
    assert names(events) == [
        "OrderApproved",
        "Invoiced",
        "PaymentReceived",
        "InvoiceOverdue",
        "ReservationReleased",
        "Blocked",
        "OrderBlocked",
        "BlockedOrderReleased",
    ]
    assert [getattr(e, "order_id", None) for e in events] == [
        "O1",
        "O1",
        None,
        None,
        "O1",
        None,
        "O2",
        "O2",
    ]
    assert [getattr(e, "invoice_id", None) for e in events][1:4] == ["I1", "I1", "I1"]
    assert set(profile.invoices) == {"I1"}
    assert profile.reservations == {"O2": cny("1.00")}
    assert profile.approved_orders == {"O1", "O2"}


def test_a_limit_change_is_approved_or_rejected_by_its_cleaned_id() -> None:
    profile = with_limit()
    request(profile)
    profile.approve_limit_change(" r1 ", by="bob", at=at(3, 4))
    request(profile, request_id="r2", at=at(3, 5))
    profile.reject_limit_change("r2\n", reason="资料不全", by="bob", at=at(3, 6))
    _, approved, _, rejected = profile.collect_events()
    assert isinstance(approved, CreditProfile.LimitSet)
    assert isinstance(rejected, CreditProfile.LimitChangeRejected)
    assert approved.request_id == "r1"
    assert rejected.request_id == "r2"
    assert profile.pending_request is None


@pytest.mark.parametrize(
    ("field", "command"),
    [
        ("order_id", lambda p: p.release("O 1", "取消", at(3, 4))),
        ("order_id", lambda p: p.release_blocked_order("", "放行", "manager", at(3, 4))),
        ("order_id", lambda p: p.invoice("I2", "O 1", "1.00", date(2026, 3, 4), at(3, 4))),
        ("invoice_id", lambda p: p.receive_payment("I 1", "1.00", date(2026, 3, 4), at(3, 4))),
        ("invoice_id", lambda p: p.record_overdue("  ", at(4, 10))),
        ("request_id", lambda p: p.approve_limit_change("r 1", by="bob", at=at(3, 4))),
        (
            "request_id",
            lambda p: p.reject_limit_change("", reason="不同意", by="bob", at=at(3, 4)),
        ),
    ],
)
def test_an_id_that_cannot_be_one_is_refused_as_invalid(
    field: str, command: Callable[[CreditProfile], object]
) -> None:
    profile = invoiced()
    error = refused(profile, "credit.invalid_field", lambda: command(profile))
    assert error.details == {"field": field}


# -- times ------------------------------------------------------------------------------

NAIVE = datetime(2026, 4, 10, 10)


@pytest.mark.parametrize(
    "command",
    [
        lambda p: p.check_order("O9", "1.00", NAIVE, POLICY),
        lambda p: request(p, limit="1.00", at=NAIVE),
        lambda p: request(p, at=NAIVE),
        lambda p: p.invoice("I9", "O2", "1.00", date(2026, 4, 10), NAIVE),
        lambda p: p.receive_payment("I1", "1.00", date(2026, 4, 10), NAIVE),
        lambda p: p.record_overdue("I1", NAIVE),
        lambda p: p.release("O2", "取消", NAIVE),
        lambda p: p.block("冻结", NAIVE),
    ],
)
def test_naive_times_are_refused(command: Callable[[CreditProfile], object]) -> None:
    profile = invoiced("8000.00")
    profile.check_order("O2", "10.00", at(3, 3), POLICY)
    profile.collect_events()
    error = refused(profile, "validation.invalid_value", lambda: command(profile))
    assert error.details == {"field": "at"}


def test_times_before_the_profile_was_opened_are_refused() -> None:
    profile = invoiced()
    before = datetime(2026, 3, 1, 23, tzinfo=SH)
    for command in (
        lambda: profile.check_order("O9", "1.00", before, POLICY),
        lambda: profile.record_overdue("I1", before),
        lambda: profile.block("冻结", before),
    ):
        assert refused(profile, "credit.invalid_field", command).details == {"field": "at"}


# -- replay -----------------------------------------------------------------------------


def test_replaying_the_events_rebuilds_the_same_ledger() -> None:
    profile = CreditProfile.open(customer_id=CUSTOMER_ID, at=OPENED)
    request(profile, limit="10000.00", term_days=30, prepayment_ratio="0.3333", at=at(3, 2))
    request(
        profile,
        request_id="r2",
        limit="1500000.00",
        term_days=30,
        prepayment_ratio="0.3333",
        at=at(3, 2, 11),
    )
    profile.approve_limit_change("r2", by="bob", at=at(3, 2, 12))
    profile.check_order("O1", "100.01", at(3, 3), POLICY)
    profile.check_order("O2", "9000.00", at(3, 3), POLICY)
    profile.invoice("I1", "O1", "60.00", date(2026, 3, 3), at(3, 4))
    profile.invoice("I2", "O2", "6000.00", date(2026, 3, 3), at(3, 4))
    profile.receive_payment("I1", "10.00", date(2026, 3, 10), at(3, 10))
    profile.record_overdue("I2", at(4, 10))
    profile.check_order("O3", "1.00", at(4, 10), POLICY)
    profile.release("O2", "余量取消", at(4, 11))
    request(profile, request_id="r3", limit="3000000.00", at=at(4, 12))
    profile.block("核查", at(4, 12))
    events = profile.collect_events()
    assert names(events)[:3] == ["Opened", "LimitSet", "LimitChangeRequested"]

    rebuilt = replay(events)
    assert isinstance(rebuilt, CreditProfile)
    assert (
        ledger(rebuilt)
        == ledger(profile)
        == (
            "1500000.00 CNY",
            "6.68 CNY",
            "50.00 CNY",
            "6000.00 CNY",
            "6056.68 CNY",
            "1493943.32 CNY",
        )
    )
    assert rebuilt.prepayment_ratio == profile.prepayment_ratio == Decimal("0.3333")
    assert rebuilt.term_days == 30
    assert rebuilt.pending_request == profile.pending_request
    assert rebuilt.blocked_orders == profile.blocked_orders
    assert rebuilt.approved_orders == profile.approved_orders == {"O1", "O2"}
    assert rebuilt.blocked_reason == "核查"
    assert rebuilt.version == profile.version == len(events)
    assert state(rebuilt) == state(profile)
