"""Value objects: 金额, 手机号码, 电子邮箱, 统一社会信用代码, 居民身份证号码."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

import pytest

from domain.base import InvalidValueError
from domain.values import (
    USCC,
    CurrencyMismatch,
    Email,
    FloatMoneyRefused,
    InvalidAmount,
    InvalidCurrency,
    InvalidEmail,
    InvalidIdNumber,
    InvalidPhone,
    InvalidUSCC,
    MobilePhone,
    Money,
    NegativeAmount,
    ResidentIdNumber,
    minor_digits,
    resident_id_check_digit,
    uscc_check_character,
)

# -- independent reference implementations ---------------------------------------------
# Written differently from domain.values on purpose, so that a shared mistake is unlikely.

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def reference_uscc_check(first17: str) -> str:
    """Horner's rule: sum(v_i * 3**i) mod 31, evaluated from the last character back."""
    acc = 0
    for ch in reversed(first17):
        acc = (acc * 3 + _USCC_CHARS.index(ch)) % 31
    return _USCC_CHARS[(31 - acc) % 31]


def reference_id_check(first17: str) -> str:
    """ISO 7064 MOD 11-2, the iterative (pure-system) form."""
    p = 0
    for ch in first17:
        p = ((p + int(ch)) * 2) % 11
    value = (12 - p) % 11
    return "X" if value == 10 else str(value)


def reference_uscc_is_valid(code: str) -> bool:
    return (
        len(code) == 18
        and all(ch in _USCC_CHARS for ch in code)
        and reference_uscc_check(code[:17]) == code[17]
    )


def reference_id_is_valid(number: str) -> bool:
    return (
        len(number) == 18
        and number[:17].isdigit()
        and reference_id_check(number[:17]) == number[17]
    )


def complete_uscc(first17: str) -> str:
    return first17 + reference_uscc_check(first17)


def complete_id(first17: str) -> str:
    return first17 + reference_id_check(first17)


PUBLISHED_USCCS = ["91350100M000100Y43", "91110000600037341L"]
STANDARD_ID = "11010519491231002X"  # GB 11643-1999's own example


def test_the_reference_implementations_agree_with_the_published_examples():
    for code in PUBLISHED_USCCS:
        assert reference_uscc_is_valid(code), code
    assert reference_id_is_valid(STANDARD_ID)
    # the published examples broken by one character are not valid
    assert not reference_uscc_is_valid("91350100M000100Y44")
    assert not reference_id_is_valid("110105194912310021")


# -- Money 金额 -------------------------------------------------------------------------


def test_money_is_parsed_from_text_int_and_decimal():
    assert Money.parse("12.5") == Money(Decimal("12.50"), "CNY")
    assert Money.parse(12) == Money(Decimal("12"), "CNY")
    assert Money.parse(Decimal("12.34"), "usd") == Money(Decimal("12.34"), "USD")
    assert Money.parse("  -3.10 ", " eur ").currency == "EUR"


def test_money_holds_its_amount_at_the_minor_unit():
    assert Money(Decimal("5")).amount.as_tuple().exponent == -2
    assert str(Money(Decimal("5"))) == "5.00 CNY"
    assert str(Money.parse("12.500")) == "12.50 CNY"
    assert str(Money.parse("1500", "JPY")) == "1500 JPY"
    assert str(Money.parse("1.234", "KWD")) == "1.234 KWD"


def test_negative_zero_money_is_plain_zero():
    assert str(Money.parse("-0.00")) == "0.00 CNY"
    assert not Money.parse("-0").is_negative()


def test_money_default_currency_is_cny():
    assert Money(Decimal("1")).currency == "CNY"
    assert Money.parse("1").currency == "CNY"


@pytest.mark.parametrize("bad", [1.5, 0.1, float("nan")])
def test_a_float_amount_is_refused(bad):
    with pytest.raises(FloatMoneyRefused) as caught:
        Money.parse(bad)
    assert caught.value.code == "validation.money_float"
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, InvalidValueError)
    assert repr(bad) in str(caught.value)


def test_a_float_is_refused_by_the_constructor_too():
    with pytest.raises(FloatMoneyRefused):
        Money(1.5)  # type: ignore[arg-type]


def test_a_float_factor_is_refused():
    with pytest.raises(FloatMoneyRefused):
        Money.parse("1").multiply(1.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["100.005", "0.001", "1.2345"])
def test_an_amount_finer_than_the_fen_is_refused(bad):
    with pytest.raises(InvalidAmount) as caught:
        Money.parse(bad)
    assert caught.value.code == "validation.invalid_amount"
    assert "at most 2 decimal places" in str(caught.value)
    assert bad in str(caught.value)


def test_yen_and_won_have_no_minor_unit():
    assert minor_digits("JPY") == 0
    assert minor_digits("KRW") == 0
    assert minor_digits("CNY") == minor_digits("USD") == minor_digits("HKD") == 2
    assert minor_digits("XYZ") == 2  # unknown currencies default to two places
    with pytest.raises(InvalidAmount, match="no decimal places"):
        Money.parse("1.5", "JPY")


@pytest.mark.parametrize(
    "bad", ["NaN", "Infinity", "-inf", "1e3", "1,000.00", "¥12", "", "1.", ".5", "1_000", "一"]
)
def test_amount_text_that_is_not_plain_decimal_digits_is_refused(bad):
    with pytest.raises(InvalidAmount) as caught:
        Money.parse(bad)
    assert caught.value.code == "validation.invalid_amount"


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_a_non_finite_decimal_is_refused(bad):
    with pytest.raises(InvalidAmount, match="finite"):
        Money(bad)


@pytest.mark.parametrize("bad", [True, None, [1], b"1"])
def test_amounts_of_other_types_are_refused(bad):
    with pytest.raises(InvalidAmount):
        Money.parse(bad)


def test_an_int_amount_must_go_through_parse():
    with pytest.raises(InvalidAmount, match=r"Money\.parse"):
        Money(12)  # type: ignore[arg-type]


def test_an_absurdly_large_amount_is_refused_not_rounded():
    with pytest.raises(InvalidAmount, match="too large"):
        Money.parse("9" * 80)


@pytest.mark.parametrize("bad", ["RMB1", "cny", "CN", "YUAN", "", "C1Y", None, "人民币"])
def test_a_currency_that_is_not_three_upper_case_letters_is_refused(bad):
    with pytest.raises(InvalidCurrency) as caught:
        Money(Decimal("1"), bad)
    assert caught.value.code == "validation.invalid_currency"


def test_parse_upper_cases_the_currency_but_still_checks_it():
    assert Money.parse("1", "cny").currency == "CNY"
    with pytest.raises(InvalidCurrency, match="'RMB1'"):
        Money.parse("1", "rmb1")


def test_parse_non_negative_refuses_a_negative_amount():
    assert Money.parse_non_negative("0") == Money.zero()
    assert Money.parse_non_negative("0.01").minor_units == 1
    with pytest.raises(NegativeAmount) as caught:
        Money.parse_non_negative("-0.01")
    assert caught.value.code == "validation.negative_amount"
    assert "-0.01" in str(caught.value)


def test_money_adds_and_subtracts_within_a_currency():
    a, b = Money.parse("10.25"), Money.parse("0.80")
    assert a + b == Money.parse("11.05")
    assert a - b == Money.parse("9.45")
    assert b - a == Money.parse("-9.45")
    assert (b - a).is_negative()
    assert (a - a).is_zero()


def test_adding_money_in_different_currencies_is_refused():
    with pytest.raises(CurrencyMismatch) as caught:
        Money.parse("1") + Money.parse("1", "USD")
    assert caught.value.code == "money.currency_mismatch"
    assert "CNY" in str(caught.value)
    assert "USD" in str(caught.value)
    with pytest.raises(CurrencyMismatch):
        Money.parse("1") - Money.parse("1", "USD")


def test_adding_something_that_is_not_money_is_a_type_error():
    with pytest.raises(TypeError):
        Money.parse("1") + 1


def test_multiply_rounds_half_up_to_the_fen_by_default():
    assert Money.parse("100.01").multiply(Decimal("0.5")) == Money.parse("50.01")  # 50.005
    assert Money.parse("1").multiply(Decimal("100.005")) == Money.parse("100.01")
    assert Money.parse("100.00").multiply(Decimal("1")) == Money.parse("100.00")
    assert Money.parse("-100.01").multiply(Decimal("0.5")) == Money.parse("-50.01")
    assert Money.parse("3").multiply(3) == Money.parse("9")


def test_multiply_takes_another_rounding_mode():
    assert Money.parse("100.01").multiply(Decimal("0.5"), ROUND_HALF_EVEN) == Money.parse("50.00")
    assert Money.parse("0.99").multiply(Decimal("0.5"), ROUND_DOWN) == Money.parse("0.49")
    with pytest.raises(InvalidAmount, match="rounding"):
        Money.parse("1").multiply(Decimal("2"), "sideways")


def test_multiply_rounds_to_the_currency_minor_unit():
    assert Money.parse("101", "JPY").multiply(Decimal("0.5")) == Money.parse("51", "JPY")


def test_multiply_refuses_a_non_finite_factor():
    with pytest.raises(InvalidAmount, match="finite"):
        Money.parse("1").multiply(Decimal("Infinity"))


def test_money_converts_to_and_from_minor_units():
    assert Money.parse("12.34").minor_units == 1234
    assert Money.parse("-0.05").minor_units == -5
    assert Money.parse("500", "JPY").minor_units == 500
    assert Money.from_minor(1234) == Money.parse("12.34")
    assert Money.from_minor(-5, "USD") == Money.parse("-0.05", "USD")
    assert Money.from_minor(500, "JPY") == Money.parse("500", "JPY")
    with pytest.raises(FloatMoneyRefused):
        Money.from_minor(12.0)  # type: ignore[arg-type]


def test_zero_money():
    assert Money.zero().is_zero()
    assert Money.zero("USD") == Money.parse("0", "USD")
    assert not Money.zero().is_negative()


def test_money_compares_within_a_currency():
    small, big = Money.parse("1.00"), Money.parse("2")
    assert small < big
    assert small <= big
    assert big > small
    assert big >= small
    assert small <= Money.parse("1")
    assert max(small, big) == big
    assert sorted([big, small]) == [small, big]


def test_comparing_money_in_different_currencies_is_refused():
    with pytest.raises(CurrencyMismatch):
        _ = Money.parse("1") < Money.parse("2", "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money.parse("1") >= Money.parse("2", "USD")
    # equality is not an ordering: different currencies are simply unequal
    assert Money.parse("1") != Money.parse("1", "USD")


def test_money_is_immutable_hashable_and_equal_by_value():
    money = Money.parse("1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = Decimal("2")  # type: ignore[misc]
    assert {Money.parse("1"), Money(Decimal("1.00"))} == {money}
    assert copy.deepcopy(money) == money
    assert pickle.loads(pickle.dumps(money)) == money


def test_money_str_never_uses_an_exponent():
    assert str(Money(Decimal("1E+3"))) == "1000.00 CNY"
    assert str(Money(Decimal("1E+3"), "JPY")) == "1000 JPY"


# -- MobilePhone 手机号码 ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "0086 138 1234 5678",
        "8613812345678",
        "86 138-1234-5678",
        " 138 1234 5678 ",
    ],
)
def test_a_mobile_number_is_normalised_to_eleven_digits(raw):
    assert str(MobilePhone.parse(raw)) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    [
        "1381234567",  # ten digits
        "138123456789",  # twelve digits
        "12812345678",  # second digit must be 3–9
        "23812345678",  # must start with 1
        "+85213812345678",  # Hong Kong prefix
        "+1 138 1234 5678",
        "010-12345678",  # a landline
        "138 1234 567a",
        "１３８１２３４５６７８",  # full-width digits
        "(138)12345678",
        "",
    ],
)
def test_a_number_that_is_not_a_mainland_mobile_is_refused(raw):
    with pytest.raises(InvalidPhone) as caught:
        MobilePhone.parse(raw)
    assert caught.value.code == "validation.invalid_phone"
    assert "11 digits" in str(caught.value)


def test_a_mobile_number_is_masked_in_the_middle():
    phone = MobilePhone.parse("+86 138-1234-5678")
    assert phone.masked == "138****5678"
    assert "1234" not in repr(phone)


def test_the_phone_constructor_accepts_only_the_canonical_form():
    assert MobilePhone("13912345678").number == "13912345678"
    with pytest.raises(InvalidPhone):
        MobilePhone("+8613912345678")


def test_a_refused_phone_number_is_not_echoed_whole():
    with pytest.raises(InvalidPhone) as caught:
        MobilePhone.parse("12812345678")
    assert "12812345678" not in str(caught.value)


def test_a_phone_number_that_is_not_text_is_refused():
    with pytest.raises(InvalidPhone, match="text"):
        MobilePhone.parse(13812345678)


def test_phones_are_equal_by_value():
    assert MobilePhone.parse("138 1234 5678") == MobilePhone.parse("+8613812345678")
    assert len({MobilePhone.parse("13812345678"), MobilePhone("13812345678")}) == 1


# -- Email 电子邮箱 ---------------------------------------------------------------------


def test_an_email_domain_is_lower_cased_and_the_local_part_kept():
    email = Email.parse("  Zhang.San@Example.COM ")
    assert str(email) == "Zhang.San@example.com"
    assert email.local_part == "Zhang.San"
    assert email.domain == "example.com"


@pytest.mark.parametrize(
    "raw",
    [
        "a@b.cn",
        "zhang+crm@mail.example.com.cn",
        "o'brien@example.org",
        "x_y-z@sub-domain.example.io",
        "user@xn--fiqs8s.cn",
        "a" * 64 + "@example.com",
    ],
)
def test_ordinary_email_addresses_are_accepted(raw):
    assert str(Email.parse(raw)) == raw


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("zhang.example.com", "exactly one @"),
        ("zhang@@example.com", "exactly one @"),
        ("a@b@example.com", "exactly one @"),
        ("@example.com", "must not be empty"),
        ("a" * 65 + "@example.com", "at most 64"),
        ("zhang san@example.com", "spaces"),
        ("zhang@example .com", "spaces"),
        ("zhang@localhost", "a dot"),
        ("zhang@example..com", "each part of the domain"),
        ("zhang@-example.com", "each part of the domain"),
        ("zhang@example-.com", "each part of the domain"),
        ("zhang@exa_mple.com", "each part of the domain"),
        ("zhang@.example.com", "each part of the domain"),
        ("zhang@example.com.", "each part of the domain"),
        ("zhang@192.168.0.1", "all digits"),
        (".zhang@example.com", "single inner dots"),
        ("zhang.@example.com", "single inner dots"),
        ("zh..ang@example.com", "single inner dots"),
        ("zhang(x)@example.com", "single inner dots"),
        ("张三@example.com", "single inner dots"),
        ("zhang@例子.中国", "each part of the domain"),
        ("", "exactly one @"),
    ],
)
def test_a_malformed_email_is_refused_naming_the_rule(raw, rule):
    with pytest.raises(InvalidEmail) as caught:
        Email.parse(raw)
    assert caught.value.code == "validation.invalid_email"
    assert rule in str(caught.value)


def test_an_overlong_email_is_refused():
    label = "a" * 60
    raw = "user@" + ".".join([label] * 5) + ".com"
    with pytest.raises(InvalidEmail, match="254"):
        Email.parse(raw)


def test_the_email_constructor_refuses_an_upper_case_domain():
    with pytest.raises(InvalidEmail, match="lower case"):
        Email("zhang@Example.com")


def test_an_email_is_masked_to_its_first_character_and_domain():
    assert Email.parse("zhang@example.com").masked == "z***@example.com"
    assert Email.parse("z@example.com").masked == "z***@example.com"
    assert "zhang" not in repr(Email.parse("zhang@example.com"))


def test_an_email_that_is_not_text_is_refused():
    with pytest.raises(InvalidEmail, match="text"):
        Email.parse(None)


# -- USCC 统一社会信用代码 ---------------------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_published_usccs_are_accepted(code):
    assert str(USCC.parse(code)) == code
    assert uscc_check_character(code[:17]) == code[17]


def test_uscc_is_upper_cased_and_spaces_are_dropped():
    assert str(USCC.parse(" 9135 0100 m000 100y 43 ")) == "91350100M000100Y43"
    assert USCC.parse("91110000600037341l") == USCC("91110000600037341L")


CONSTRUCTED_USCC_STEMS = [
    "91110108MA01ABCDE",
    "12100000400000624",
    "51440300MJL123456",
    "Y1310000NXYWUTRQP",
    "92440101000000000",
    "11100000000013127",
]


@pytest.mark.parametrize("stem", CONSTRUCTED_USCC_STEMS)
def test_uscc_check_character_matches_an_independent_computation(stem):
    assert uscc_check_character(stem) == reference_uscc_check(stem)
    assert str(USCC(complete_uscc(stem))) == complete_uscc(stem)


def test_uscc_check_character_agrees_with_the_reference_across_the_alphabet():
    for ch in _USCC_CHARS:
        for position in range(17):
            stem = "91350100M000100Y4"
            stem = stem[:position] + ch + stem[position + 1 :]
            if not stem[2:8].isdigit():
                continue
            assert uscc_check_character(stem) == reference_uscc_check(stem), stem


def test_every_uscc_check_value_can_be_reached_and_31_reads_as_0():
    seen = {uscc_check_character(f"9111000000000{n:04d}") for n in range(2000)}
    assert seen == set(_USCC_CHARS)
    # a stem whose weighted sum is a multiple of 31 has check character "0"
    assert uscc_check_character("0" * 17) == "0"


def test_uscc_with_a_wrong_check_character_is_refused():
    with pytest.raises(InvalidUSCC) as caught:
        USCC.parse("91350100M000100Y44")
    error = caught.value
    assert error.code == "validation.invalid_uscc"
    assert "should be '3', got '4'" in str(error)
    assert error.details["rule"] == "check_character"
    assert error.details["expected"] == "3"


def test_every_single_character_change_to_a_uscc_is_caught():
    valid = "91350100M000100Y43"
    for position in range(18):
        for ch in _USCC_CHARS:
            if ch == valid[position]:
                continue
            changed = valid[:position] + ch + valid[position + 1 :]
            with pytest.raises(InvalidUSCC):
                USCC(changed)


@pytest.mark.parametrize("bad", ["91350100M000100Y4", "91350100M000100Y433", ""])
def test_uscc_of_the_wrong_length_is_refused(bad):
    with pytest.raises(InvalidUSCC, match="18 characters") as caught:
        USCC.parse(bad)
    assert caught.value.details["rule"] == "length"


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_uscc_with_a_letter_outside_the_alphabet_is_refused(letter):
    code = "91350100M000100" + letter + "43"
    with pytest.raises(InvalidUSCC) as caught:
        USCC.parse(code)
    assert caught.value.details["rule"] == "alphabet"
    assert f"contains '{letter}'" in str(caught.value)


def test_uscc_with_punctuation_is_refused_by_the_alphabet_rule():
    with pytest.raises(InvalidUSCC, match="contains '-'"):
        USCC.parse("91350100-000100Y43")


def test_uscc_whose_division_code_is_not_digits_is_refused():
    code = complete_uscc("9135A100M000100Y4")
    with pytest.raises(InvalidUSCC, match="administrative division") as caught:
        USCC(code)
    assert caught.value.details["rule"] == "division"


def test_the_uscc_constructor_refuses_lower_case():
    with pytest.raises(InvalidUSCC, match="uses only the characters"):
        USCC("91350100m000100y43")


def test_uscc_parts_are_exposed():
    uscc = USCC.parse("91350100M000100Y43")
    assert uscc.registration_authority == "9"
    assert uscc.institution_category == "1"
    assert uscc.division_code == "350100"
    assert uscc.organisation_code == "M000100Y4"


def test_uscc_check_character_refuses_a_bad_stem():
    with pytest.raises(InvalidUSCC):
        uscc_check_character("91350100M000100Y")
    with pytest.raises(InvalidUSCC):
        uscc_check_character("91350100M000100YI")


def test_a_uscc_that_is_not_text_is_refused():
    with pytest.raises(InvalidUSCC, match="text"):
        USCC.parse(913501001234567890)


# -- ResidentIdNumber 居民身份证号码 -----------------------------------------------------


def test_the_standard_example_id_number_is_accepted():
    id_number = ResidentIdNumber.parse(STANDARD_ID)
    assert str(id_number) == STANDARD_ID
    assert resident_id_check_digit(STANDARD_ID[:17]) == "X"
    assert id_number.birth_date == date(1949, 12, 31)
    assert id_number.sex == "female"  # 17th digit 2 is even


def test_a_lower_case_x_and_spaces_are_normalised():
    assert str(ResidentIdNumber.parse(" 110105 19491231 002x ")) == STANDARD_ID


CONSTRUCTED_ID_STEMS = [
    "44030419900101123",  # 1990-01-01, 17th digit 3: male
    "31010120000229004",  # leap day 2000, 17th digit 4: female
    "51010719001231001",  # the earliest year allowed
    "65010220241001997",
    "11010119991130055",
]


@pytest.mark.parametrize("stem", CONSTRUCTED_ID_STEMS)
def test_id_check_digit_matches_an_independent_computation(stem):
    assert resident_id_check_digit(stem) == reference_id_check(stem)
    number = complete_id(stem)
    assert str(ResidentIdNumber(number)) == number


def test_id_check_digit_agrees_with_the_reference_for_every_digit_in_every_place():
    base = "11010519491231002"
    for position in range(17):
        for digit in "0123456789":
            stem = base[:position] + digit + base[position + 1 :]
            assert resident_id_check_digit(stem) == reference_id_check(stem), stem


def test_every_id_check_value_including_x_can_be_reached():
    seen = {resident_id_check_digit(f"110105199001{n:05d}") for n in range(200)}
    assert seen == set("0123456789X")


def test_id_number_with_a_wrong_check_digit_is_refused():
    wrong = STANDARD_ID[:17] + "1"
    with pytest.raises(InvalidIdNumber) as caught:
        ResidentIdNumber.parse(wrong)
    error = caught.value
    assert error.code == "validation.invalid_id_number"
    assert "should be 'X', got '1'" in str(error)
    assert error.details["rule"] == "check_digit"
    assert wrong not in str(error)  # personal data is not echoed whole


def test_every_single_digit_change_to_an_id_number_is_caught():
    for position in range(17):
        for digit in "0123456789":
            if digit == STANDARD_ID[position]:
                continue
            changed = STANDARD_ID[:position] + digit + STANDARD_ID[position + 1 :]
            with pytest.raises(InvalidIdNumber):
                ResidentIdNumber(changed)


@pytest.mark.parametrize("bad", ["110105491231002", STANDARD_ID + "0", STANDARD_ID[:17], ""])
def test_id_number_of_the_wrong_length_is_refused(bad):
    with pytest.raises(InvalidIdNumber, match="18 characters") as caught:
        ResidentIdNumber.parse(bad)
    assert caught.value.details["rule"] == "length"


@pytest.mark.parametrize(
    "bad",
    [
        "1101051949123100Y" + "X",
        "11010519491231002Y",
        "X10105194912310021",
        "110105-1949123100X",
        "１１０１０５１９４９１２３１００２Ｘ"[:18],  # full-width digits
    ],
)
def test_id_number_with_other_characters_is_refused(bad):
    with pytest.raises(InvalidIdNumber, match="17 digits followed by a digit or X"):
        ResidentIdNumber(bad)


@pytest.mark.parametrize(
    "birth",
    [
        "19490230",  # 30 February
        "19491301",  # month 13
        "19490000",  # day and month 0
        "19000229",  # 1900 was not a leap year
        "20230229",
        "18991231",  # before 1900
    ],
)
def test_id_number_whose_birth_date_is_not_a_real_date_from_1900_is_refused(birth):
    number = complete_id("110105" + birth + "002")  # check digit correct, so only the date fails
    with pytest.raises(InvalidIdNumber, match="date of birth") as caught:
        ResidentIdNumber(number)
    assert caught.value.details["rule"] == "birth_date"
    assert birth in str(caught.value)


def test_the_standards_1880_example_is_refused_for_its_birth_year_only():
    number = "440524188001010014"  # GB 11643's other example; its check digit is right
    assert reference_id_is_valid(number)
    with pytest.raises(InvalidIdNumber, match="from 1900 on"):
        ResidentIdNumber(number)


def test_a_birth_date_in_the_future_is_not_the_domains_concern():
    # the domain has no clock; a later layer may compare with today
    number = complete_id("11010520990101001")
    assert ResidentIdNumber(number).birth_date == date(2099, 1, 1)


def test_sex_follows_the_parity_of_the_17th_digit():
    for digit in "0123456789":
        number = complete_id("1101051990010100" + digit)
        expected = "male" if int(digit) % 2 else "female"
        assert ResidentIdNumber(number).sex == expected


def test_an_id_number_is_masked_but_for_address_code_and_last_four():
    assert ResidentIdNumber.parse(STANDARD_ID).masked == "110105********002X"
    number = complete_id("11010519900101123")
    masked = ResidentIdNumber(number).masked
    assert masked == "110105********" + number[-4:]
    assert "19900101" not in repr(ResidentIdNumber(number))


def test_resident_id_check_digit_refuses_a_bad_stem():
    for bad in ["1101051949123100", "1101051949123100X", "110105194912310021"]:
        with pytest.raises(InvalidIdNumber):
            resident_id_check_digit(bad)


def test_an_id_number_that_is_not_text_is_refused():
    with pytest.raises(InvalidIdNumber, match="text"):
        ResidentIdNumber.parse(11010519491231002)


# -- shared ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        MobilePhone.parse("13812345678"),
        Email.parse("zhang@example.com"),
        USCC.parse("91350100M000100Y43"),
        ResidentIdNumber.parse(STANDARD_ID),
    ],
)
def test_value_objects_are_frozen_hashable_and_round_trip_through_str(value):
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, "x")
    assert hash(value) == hash(type(value).parse(str(value)))
    assert type(value).parse(str(value)) == value
    assert copy.deepcopy(value) == value
    assert pickle.loads(pickle.dumps(value)) == value


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (FloatMoneyRefused, "validation.money_float"),
        (InvalidCurrency, "validation.invalid_currency"),
        (InvalidAmount, "validation.invalid_amount"),
        (NegativeAmount, "validation.negative_amount"),
        (CurrencyMismatch, "money.currency_mismatch"),
        (InvalidPhone, "validation.invalid_phone"),
        (InvalidEmail, "validation.invalid_email"),
        (InvalidUSCC, "validation.invalid_uscc"),
        (InvalidIdNumber, "validation.invalid_id_number"),
    ],
)
def test_every_refusal_is_an_invalid_value_with_its_own_code(error, code):
    assert issubclass(error, InvalidValueError)
    assert error.code == code
    assert error.kind == "invalid"
