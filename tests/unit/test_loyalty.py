"""The declared VIP policy (domain.loyalty) alone: the packaged figures, qualification on
the rolling 12 months, points, the outcome at the end of a term, the versions and the
validation of the policy file."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.base import DomainError
from domain.loyalty import (
    Basis,
    Movement,
    VipPolicy,
    VipPolicyBook,
    add_months,
    basis_of,
    default_policy_book,
    load_policy_book,
    policy_book_from_list,
    policy_from_dict,
)
from domain.values import Money

POLICY = default_policy_book().in_force(date(2025, 6, 1))


def refused(code: str, call: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as error:
        call()
    assert error.value.code == code
    return error.value


def basis(spend: str, purchases: int, categories: int) -> Basis:
    return Basis(
        spend_12m=Money.parse(spend),
        purchases_12m=purchases,
        categories=tuple(f"c{n}" for n in range(categories)),
        window_start=date(2024, 6, 2),
        window_end=date(2025, 6, 1),
    )


def purchase(day: date, amount: str = "100.00", category: str = "耗材", currency: str = "CNY"):
    return {"amount": Money.parse(amount, currency), "category": category, "occurred_on": day}


def version_data(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(POLICY.as_dict())
    data.update(changes)
    return data


# -- the packaged policy ------------------------------------------------------------------


def test_the_packaged_policy_declares_silver_gold_and_platinum_lowest_first() -> None:
    book = default_policy_book()
    assert [v.version for v in book.versions] == ["2025.1"]
    assert POLICY.effective_from == date(2025, 1, 1)
    assert POLICY.codes == ("silver", "gold", "platinum")
    assert [t.label for t in POLICY.tiers] == ["银卡", "金卡", "白金卡"]
    silver, gold, platinum = POLICY.tiers
    assert (silver.min_spend_12m, silver.min_purchases_12m, silver.min_categories) == (
        Money.parse("50000"),
        4,
        1,
    )
    assert (gold.min_spend_12m, gold.min_purchases_12m, gold.min_categories) == (
        Money.parse("200000"),
        8,
        2,
    )
    assert (platinum.min_spend_12m, platinum.min_purchases_12m, platinum.min_categories) == (
        Money.parse("800000"),
        12,
        3,
    )
    assert [t.discount_rate for t in POLICY.tiers] == [
        Decimal("0.05"),
        Decimal("0.08"),
        Decimal("0.12"),
    ]
    assert [t.points_per_yuan for t in POLICY.tiers] == [Decimal(1), Decimal("1.5"), Decimal(2)]
    assert [t.priority_service for t in POLICY.tiers] == [False, True, True]
    assert [t.dedicated_manager for t in POLICY.tiers] == [False, True, True]
    assert [t.birthday_gift for t in POLICY.tiers] == [True, True, True]


def test_the_packaged_policy_keeps_points_24_months_and_terms_12_with_one_step_downgrade() -> None:
    assert POLICY.points_expiry_months == 24
    assert POLICY.yuan_per_point == Decimal("0.01")
    assert POLICY.term_months == 12
    assert POLICY.downgrade == "one_step"
    assert POLICY.notification_working_days == 7


def test_a_policy_reads_back_from_its_own_dict() -> None:
    assert policy_from_dict(POLICY.as_dict()) == POLICY
    book = default_policy_book()
    assert policy_book_from_list(json.loads(json.dumps(book.as_list()))) == book


def test_a_policy_file_can_be_given_by_path(tmp_path: Path) -> None:
    second = version_data(version="2026.1", effective_from="2026-01-01")
    second["tiers"][0]["qualification"]["min_spend_12m"] = "60000"
    path = tmp_path / "vip.json"
    path.write_text(json.dumps([POLICY.as_dict(), second]), encoding="utf-8")
    book = load_policy_book(path)
    assert [v.version for v in book.versions] == ["2025.1", "2026.1"]
    assert book.latest.tier("silver").min_spend_12m == Money.parse("60000")


@pytest.mark.parametrize("content", ["not json", '{"version": "2025.1"}', "[]", '["x"]'], ids=str)
def test_an_unreadable_or_malformed_policy_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "vip.json"
    path.write_text(content, encoding="utf-8")
    refused("customer.invalid_vip_policy", lambda: load_policy_book(path))


def test_a_missing_policy_file_is_refused(tmp_path: Path) -> None:
    refused("customer.invalid_vip_policy", lambda: load_policy_book(tmp_path / "none.json"))


# -- tiers ----------------------------------------------------------------------------------


def test_an_unknown_tier_is_refused_and_no_tier_ranks_zero() -> None:
    error = refused("customer.unknown_tier", lambda: POLICY.tier("diamond"))
    assert error.kind == "invalid"
    assert POLICY.rank(None) == 0
    assert [POLICY.rank(code) for code in POLICY.codes] == [1, 2, 3]
    assert POLICY.tier_below("platinum") == "gold"
    assert POLICY.tier_below("silver") is None
    assert not POLICY.has_tier(None)
    assert not POLICY.has_tier("diamond")


@pytest.mark.parametrize(
    ("spend", "purchases", "categories", "tier"),
    [
        ("49999.99", 20, 5, None),
        ("50000", 4, 1, "silver"),
        ("50000", 3, 1, None),
        ("50000", 4, 0, None),
        ("199999.99", 8, 2, "silver"),
        ("200000", 8, 2, "gold"),
        ("200000", 7, 2, "silver"),
        ("200000", 8, 1, "silver"),
        ("800000", 12, 3, "platinum"),
        ("800000", 11, 3, "gold"),
        ("800000", 12, 2, "gold"),
        ("5000000", 100, 9, "platinum"),
    ],
)
def test_the_qualifying_tier_is_the_highest_whose_three_thresholds_all_hold(
    spend: str, purchases: int, categories: int, tier: str | None
) -> None:
    assert POLICY.qualifying_tier(basis(spend, purchases, categories)) == tier


def test_benefits_of_a_tier() -> None:
    assert POLICY.tier("gold").benefits() == {
        "discount_rate": Decimal("0.08"),
        "priority_service": True,
        "birthday_gift": True,
        "dedicated_manager": True,
    }


# -- the basis: the rolling 12 months -------------------------------------------------------


def test_the_basis_counts_the_twelve_months_ending_on_the_day_both_ends_considered() -> None:
    on = date(2025, 6, 1)
    purchases = [
        purchase(date(2024, 6, 1), "1000", "excluded: exactly 12 months before"),
        purchase(date(2024, 6, 2), "10", "耗材"),
        purchase(date(2025, 1, 15), "20", "培训"),
        purchase(date(2025, 6, 1), "30", "耗材"),
        purchase(date(2025, 6, 2), "1000", "excluded: after the day"),
    ]
    found = basis_of(purchases, on)
    assert found == Basis(
        spend_12m=Money.parse("60"),
        purchases_12m=3,
        categories=("培训", "耗材"),
        window_start=date(2024, 6, 2),
        window_end=on,
    )


def test_purchases_in_another_currency_count_but_add_no_spend() -> None:
    found = basis_of(
        [purchase(date(2025, 5, 1), "500", "设备", "USD"), purchase(date(2025, 5, 2), "10")],
        date(2025, 6, 1),
    )
    assert found.spend_12m == Money.parse("10")
    assert found.purchases_12m == 2
    assert found.categories == ("耗材", "设备")


def test_the_basis_window_after_a_leap_day() -> None:
    assert basis_of([], date(2025, 2, 28)).window_start == date(2024, 2, 29)
    assert basis_of([], date(2024, 2, 29)).window_start == date(2023, 3, 1)


def test_a_basis_as_event_data_holds_lists_and_reads_back() -> None:
    found = basis("100", 1, 2)
    data = found.as_dict()
    assert data["categories"] == ["c0", "c1"]
    assert Basis.from_dict(data) == found


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), -12, date(2023, 2, 28)),
        (date(2025, 3, 15), 24, date(2027, 3, 15)),
        (date(2025, 1, 10), -1, date(2024, 12, 10)),
    ],
)
def test_adding_months_keeps_the_day_or_the_months_last(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


# -- points -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "amount", "points"),
    [
        (None, "1000.00", 0),
        ("silver", "99.99", 99),
        ("gold", "99.99", 149),  # 149.985, rounded down
        ("gold", "100.00", 150),
        ("platinum", "0.49", 0),
        ("platinum", "12345.67", 24691),
    ],
)
def test_points_are_the_floor_of_the_amount_times_the_tiers_rate(
    tier: str | None, amount: str, points: int
) -> None:
    assert POLICY.points_for(tier, Money.parse(amount)) == points


def test_an_amount_in_another_currency_earns_no_points() -> None:
    assert POLICY.points_for("platinum", Money.parse("100", "USD")) == 0


def test_points_are_valued_at_the_yuan_per_point_rounded_to_the_fen() -> None:
    assert POLICY.points_value(12345) == Money.parse("123.45")
    half = dataclasses.replace(POLICY, yuan_per_point=Decimal("0.005"))
    assert half.points_value(3) == Money.parse("0.02")
    assert POLICY.points_expire_on(date(2025, 3, 31)) == date(2027, 3, 31)
    assert POLICY.term_ends_on(date(2025, 9, 29)) == date(2026, 9, 29)


# -- the end of a term ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "qualifies", "to_tier", "movement"),
    [
        ("gold", ("200000", 8, 2), "gold", Movement.RENEWED),
        ("gold", ("800000", 12, 3), "platinum", Movement.UPGRADED),
        ("gold", ("50000", 4, 1), "silver", Movement.DOWNGRADED),
        ("platinum", ("0", 0, 0), "gold", Movement.DOWNGRADED),  # a quiet year: one step
        ("gold", ("0", 0, 0), "silver", Movement.DOWNGRADED),
        ("silver", ("0", 0, 0), None, Movement.LAPSED),
    ],
)
def test_one_step_downgrade_moves_one_tier_down_whatever_the_basis(
    current: str, qualifies: tuple[str, int, int], to_tier: str | None, movement: Movement
) -> None:
    outcome = POLICY.outcome_at_term_end(current, basis(*qualifies))
    assert (outcome.to_tier, outcome.movement) == (to_tier, movement)


@pytest.mark.parametrize(
    ("current", "qualifies", "to_tier", "movement"),
    [
        ("platinum", ("0", 0, 0), None, Movement.LAPSED),
        ("platinum", ("50000", 4, 1), "silver", Movement.DOWNGRADED),
        ("platinum", ("800000", 12, 3), "platinum", Movement.RENEWED),
    ],
)
def test_to_qualified_downgrade_goes_straight_to_the_qualifying_tier(
    current: str, qualifies: tuple[str, int, int], to_tier: str | None, movement: Movement
) -> None:
    policy = dataclasses.replace(POLICY, downgrade="to_qualified")
    outcome = policy.outcome_at_term_end(current, basis(*qualifies))
    assert (outcome.to_tier, outcome.movement) == (to_tier, movement)


# -- validation of the policy ------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()


def _swap_first_two_tiers(data: dict[str, Any]) -> None:
    data["tiers"][0], data["tiers"][1] = data["tiers"][1], data["tiers"][0]


def _duplicate_code(data: dict[str, Any]) -> None:
    data["tiers"][1]["code"] = "silver"


def _same_thresholds(data: dict[str, Any]) -> None:
    data["tiers"][1]["qualification"] = dict(data["tiers"][0]["qualification"])


@pytest.mark.parametrize(
    "change",
    [
        _set("tiers", []),
        _swap_first_two_tiers,
        _duplicate_code,
        _set("tiers.2.rank", 4),
        _set("tiers.0.code", "Silver Card"),
        _set("tiers.0.label", ""),
        _set("tiers.1.qualification.min_spend_12m", "40000"),
        _set("tiers.1.qualification.min_purchases_12m", 3),
        _set("tiers.2.qualification.min_categories", 1),
        _same_thresholds,
        _set("tiers.0.qualification.min_spend_12m", "-1"),
        _set("tiers.0.qualification.min_spend_12m", "50000.001"),
        _set("tiers.0.qualification.min_purchases_12m", True),
        _set("tiers.0.qualification.min_purchases_12m", "4"),
        _set("tiers.0.benefits.discount_rate", "1"),
        _set("tiers.0.benefits.discount_rate", "-0.01"),
        _set("tiers.0.benefits.discount_rate", 0.05),
        _set("tiers.0.benefits.discount_rate", "five percent"),
        _set("tiers.0.benefits.priority_service", "yes"),
        _set("tiers.0.points_per_yuan", "-1"),
        _set("tiers.0.points_per_yuan", "NaN"),
        _set("tiers.0.benefits", _DELETE),
        _set("points.expiry_months", 0),
        _set("points.yuan_per_point", "0"),
        _set("evaluation.term_months", 0),
        _set("evaluation.downgrade", "all_the_way"),
        _set("notification_working_days", 0),
        _set("effective_from", "2025-13-01"),
        _set("version", ""),
        _set("points", _DELETE),
    ],
)
def test_an_invalid_policy_version_is_refused(change: Callable[[dict[str, Any]], None]) -> None:
    data = version_data()
    change(data)
    error = refused("customer.invalid_vip_policy", lambda: policy_from_dict(data))
    assert error.kind == "invalid"


def test_thresholds_may_stay_equal_as_long_as_one_rises() -> None:
    data = version_data()
    for tier in data["tiers"]:
        tier["qualification"]["min_categories"] = 1
    policy = policy_from_dict(data)
    assert policy.tier("platinum").min_categories == 1


# -- versions ---------------------------------------------------------------------------------


def two_versions() -> VipPolicyBook:
    later = policy_from_dict(version_data(version="2026.1", effective_from="2026-01-01"))
    return VipPolicyBook((POLICY, later))


def test_the_version_in_force_is_the_latest_that_took_effect_by_the_day() -> None:
    book = two_versions()
    assert book.in_force(date(2025, 12, 31)).version == "2025.1"
    assert book.in_force(date(2026, 1, 1)).version == "2026.1"
    assert book.latest.version == "2026.1"
    assert book.version("2025.1") is POLICY


def test_no_version_is_in_force_before_the_first() -> None:
    book = two_versions()
    assert book.in_force_or_none(date(2024, 12, 31)) is None
    error = refused("customer.no_vip_policy", lambda: book.in_force(date(2024, 12, 31)))
    assert error.kind == "invalid"
    refused("customer.no_vip_policy", lambda: book.version("2019.1"))


def test_versions_out_of_order_or_named_twice_are_refused() -> None:
    later = policy_from_dict(version_data(version="2026.1", effective_from="2026-01-01"))
    refused("customer.invalid_vip_policy", lambda: VipPolicyBook((later, POLICY)))
    same_day = dataclasses.replace(later, effective_from=POLICY.effective_from)
    refused("customer.invalid_vip_policy", lambda: VipPolicyBook((POLICY, same_day)))
    twice = dataclasses.replace(later, version=POLICY.version)
    refused("customer.invalid_vip_policy", lambda: VipPolicyBook((POLICY, twice)))
    refused("customer.invalid_vip_policy", lambda: VipPolicyBook(()))


def test_a_later_version_may_add_a_tier_but_not_drop_one() -> None:
    data = version_data(version="2026.1", effective_from="2026-01-01")
    diamond = copy.deepcopy(data["tiers"][2])
    diamond.update(code="diamond", label="钻石卡", rank=4)
    diamond["qualification"]["min_spend_12m"] = "2000000"
    data["tiers"].append(diamond)
    assert VipPolicyBook((POLICY, policy_from_dict(data))).latest.codes[-1] == "diamond"

    dropped = version_data(version="2026.1", effective_from="2026-01-01")
    dropped["tiers"] = dropped["tiers"][:2]
    refused(
        "customer.invalid_vip_policy",
        lambda: VipPolicyBook((POLICY, policy_from_dict(dropped))),
    )


def test_a_policy_is_a_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        POLICY.term_months = 6  # type: ignore[misc]
    assert isinstance(POLICY, VipPolicy)
