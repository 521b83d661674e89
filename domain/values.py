"""Value objects of the kehu domain (值对象).

Each value object is an immutable, hashable frozen dataclass:

- :class:`Money` — 金额: a decimal amount in an ISO 4217 currency (人民币 CNY by default).
- :class:`MobilePhone` — 手机号码: a mainland China mobile number.
- :class:`Email` — 电子邮箱.
- :class:`USCC` — 统一社会信用代码 (GB 32100-2015), an enterprise's identifier.
- :class:`ResidentIdNumber` — 居民身份证号码 (GB 11643-1999), an individual's identifier.

The constructor of each class accepts only the canonical form and refuses anything
else; ``parse(raw)`` normalises user input (spaces, case, prefixes) first. ``str()``
gives the canonical form. Refusals raise a subclass of
:class:`~domain.base.InvalidValueError` whose ``code`` is stable.

Phone numbers, e-mail addresses and resident ID numbers are personal information
(个人信息): their ``repr()`` is masked, and refusal messages show only a redacted
rendering of the input, so that neither ends up whole in a log. ``str()`` still gives
the full canonical value, for the code that stores it deliberately.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DecimalException,
    Inexact,
    InvalidOperation,
    Overflow,
)
from typing import Final, Literal, Self

from domain.base import InvalidValueError

__all__ = [
    "USCC",
    "CurrencyMismatch",
    "Email",
    "FloatMoneyRefused",
    "InvalidAmount",
    "InvalidCurrency",
    "InvalidEmail",
    "InvalidIdNumber",
    "InvalidPhone",
    "InvalidUSCC",
    "MobilePhone",
    "Money",
    "NegativeAmount",
    "ResidentIdNumber",
    "minor_digits",
    "resident_id_check_digit",
    "uscc_check_character",
]


# -- errors ----------------------------------------------------------------------------


class FloatMoneyRefused(InvalidValueError, TypeError):
    """金额不得使用浮点数: a binary float cannot hold an amount exactly.

    Also a :class:`TypeError`, since the refusal is about the type of the input.
    """

    code = "validation.money_float"


class InvalidCurrency(InvalidValueError):
    """币种代码无效: not an ISO 4217 three-letter upper-case currency code."""

    code = "validation.invalid_currency"


class InvalidAmount(InvalidValueError):
    """金额无效: not a finite decimal, or finer than the currency's minor unit."""

    code = "validation.invalid_amount"


class NegativeAmount(InvalidValueError):
    """金额不得为负: a negative amount where only zero or more is allowed."""

    code = "validation.negative_amount"


class CurrencyMismatch(InvalidValueError):
    """币种不一致: amounts in different currencies cannot be added or compared."""

    code = "money.currency_mismatch"


class InvalidPhone(InvalidValueError):
    """手机号码无效: not a mainland China mobile number."""

    code = "validation.invalid_phone"


class InvalidEmail(InvalidValueError):
    """电子邮箱无效."""

    code = "validation.invalid_email"


class InvalidUSCC(InvalidValueError):
    """统一社会信用代码无效 (GB 32100-2015)."""

    code = "validation.invalid_uscc"


class InvalidIdNumber(InvalidValueError):
    """居民身份证号码无效 (GB 11643-1999)."""

    code = "validation.invalid_id_number"


def _redact(raw: str) -> str:
    """A rendering of refused personal data fit for a message: only its edges show."""
    if len(raw) <= 6:
        return "*" * len(raw)
    return raw[:3] + "*" * (len(raw) - 5) + raw[-2:]


# -- Money 金额 -------------------------------------------------------------------------

_CURRENCY_RE: Final = re.compile(r"[A-Z]{3}")

#: Minor-unit digits of the currencies whose minor unit is not the hundredth.
#: Every other currency has two (分 for CNY, cents for USD, EUR, HKD, …).
_MINOR_DIGITS: Final[dict[str, int]] = {
    # no minor unit
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # a thousandth
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}
_DEFAULT_MINOR_DIGITS: Final = 2

_ROUNDING_MODES: Final = frozenset(
    {
        ROUND_05UP,
        ROUND_CEILING,
        ROUND_DOWN,
        ROUND_FLOOR,
        ROUND_HALF_DOWN,
        ROUND_HALF_EVEN,
        ROUND_HALF_UP,
        ROUND_UP,
    }
)

#: Decimal arithmetic for money: independent of the thread's context, wide enough for
#: any real amount, and refusing (rather than silently rounding) anything it cannot
#: hold exactly.
_MONEY_CONTEXT: Final = Context(prec=60, traps=[InvalidOperation, Overflow, Inexact])

_AMOUNT_TEXT_RE: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def minor_digits(currency: str) -> int:
    """How many decimal places the currency's minor unit has (2 for 元/分, 0 for JPY)."""
    return _MINOR_DIGITS.get(currency, _DEFAULT_MINOR_DIGITS)


def _check_currency(currency: object) -> str:
    if not isinstance(currency, str) or not _CURRENCY_RE.fullmatch(currency):
        raise InvalidCurrency(
            "a currency must be an ISO 4217 code of three upper-case letters, "
            f"such as CNY; got {currency!r}",
            value=repr(currency),
        )
    return currency


def _refuse_float(value: object, what: str) -> None:
    if isinstance(value, float):
        raise FloatMoneyRefused(
            f"{what} must be a Decimal, an int or decimal text, never a float; got {value!r}",
            value=repr(value),
        )


@dataclass(frozen=True, slots=True)
class Money:
    """金额: an exact decimal amount in one currency.

    ``amount`` is always a :class:`~decimal.Decimal` held at exactly the currency's
    minor unit (``Money(Decimal("5"))`` holds ``5.00``); an amount finer than the
    minor unit (``100.005`` yuan) is refused rather than rounded, while trailing zeros
    beyond it (``"12.500"``) are harmless. Amounts in different currencies cannot be
    added, subtracted or compared.
    """

    amount: Decimal
    currency: str = "CNY"

    def __post_init__(self) -> None:
        currency = _check_currency(self.currency)
        amount: object = self.amount
        _refuse_float(amount, "an amount")
        if not isinstance(amount, Decimal):
            raise InvalidAmount(
                f"an amount must be a Decimal (use Money.parse for text); got {amount!r}",
                value=repr(amount),
            )
        object.__setattr__(self, "amount", _quantise_exactly(amount, currency))

    # -- construction ------------------------------------------------------------------

    @classmethod
    def parse(cls, amount: object, currency: object = "CNY") -> Self:
        """Read an amount given as a Decimal, an int or decimal text (``"12.50"``).

        Surrounding spaces are ignored and the currency is upper-cased. Floats are
        refused (``validation.money_float``), as are exponents, ``NaN``, ``Infinity``
        and anything finer than the currency's minor unit.
        """
        if isinstance(currency, str):
            currency = currency.strip().upper()
        clean_currency = _check_currency(currency)
        _refuse_float(amount, "an amount")
        value: Decimal
        if isinstance(amount, Decimal):
            value = amount
        elif isinstance(amount, int) and not isinstance(amount, bool):
            value = Decimal(amount)
        elif isinstance(amount, str):
            text = amount.strip()
            if not _AMOUNT_TEXT_RE.fullmatch(text):
                raise InvalidAmount(
                    "an amount must be written as decimal digits with an optional sign "
                    f"and decimal point, such as 12.50; got {amount!r}",
                    value=amount,
                )
            value = Decimal(text)
        else:
            raise InvalidAmount(
                f"an amount must be a Decimal, an int or decimal text; got {amount!r}",
                value=repr(amount),
            )
        return cls(value, clean_currency)

    @classmethod
    def parse_non_negative(cls, amount: object, currency: object = "CNY") -> Self:
        """Like :meth:`parse`, but a negative amount is refused (``validation.negative_amount``)."""
        money = cls.parse(amount, currency)
        if money.is_negative():
            raise NegativeAmount(
                f"the amount must not be negative; got {money}",
                value=str(money.amount),
                currency=money.currency,
            )
        return money

    @classmethod
    def from_minor(cls, units: int, currency: str = "CNY") -> Self:
        """An amount counted in the currency's minor unit: ``from_minor(1234)`` is ¥12.34."""
        _refuse_float(units, "a count of minor units")
        if not isinstance(units, int) or isinstance(units, bool):
            raise InvalidAmount(
                f"a count of minor units must be an int; got {units!r}", value=repr(units)
            )
        clean_currency = _check_currency(currency)
        digits = minor_digits(clean_currency)
        return cls(
            _exactly(lambda: Decimal(units).scaleb(-digits, context=_MONEY_CONTEXT)),
            clean_currency,
        )

    @classmethod
    def zero(cls, currency: str = "CNY") -> Self:
        """零金额 in the currency."""
        return cls(Decimal(0), currency)

    # -- queries -----------------------------------------------------------------------

    def is_negative(self) -> bool:
        return self.amount < 0

    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def minor_units(self) -> int:
        """The amount counted in the minor unit (分 for CNY): ¥12.34 is 1234."""
        return int(self.amount.scaleb(minor_digits(self.currency), context=_MONEY_CONTEXT))

    def __str__(self) -> str:
        """Canonical form: ``"12.50 CNY"``."""
        return f"{self.amount:f} {self.currency}"

    # -- arithmetic --------------------------------------------------------------------

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "add")
        return Money(_exactly(lambda: _MONEY_CONTEXT.add(self.amount, other.amount)), self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money(
            _exactly(lambda: _MONEY_CONTEXT.subtract(self.amount, other.amount)), self.currency
        )

    def multiply(self, factor: Decimal | int, rounding: str = ROUND_HALF_UP) -> Money:
        """The amount times ``factor``, rounded to the minor unit (half up by default).

        ``factor`` is a Decimal or an int; a float is refused.
        """
        _refuse_float(factor, "a factor")
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            raise InvalidAmount(
                f"a factor must be a Decimal or an int; got {factor!r}", value=repr(factor)
            )
        if rounding not in _ROUNDING_MODES:
            raise InvalidAmount(
                f"rounding must be one of the decimal module's ROUND_* modes; got {rounding!r}",
                value=repr(rounding),
            )
        if isinstance(factor, Decimal) and not factor.is_finite():
            raise InvalidAmount(f"a factor must be finite; got {factor!r}", value=repr(factor))
        exact = _exactly(lambda: _MONEY_CONTEXT.multiply(self.amount, Decimal(factor)))
        quantum = Decimal(1).scaleb(-minor_digits(self.currency))
        rounded = _exactly(
            lambda: exact.quantize(quantum, rounding=rounding, context=_rounding_context())
        )
        return Money(rounded, self.currency)

    # -- comparison within one currency ------------------------------------------------

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.amount < other.amount

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.amount <= other.amount

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.amount > other.amount

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.amount >= other.amount

    def _same_currency(self, other: Money, verb: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot {verb} amounts in different currencies: {self} and {other}",
                left=self.currency,
                right=other.currency,
            )


def _rounding_context() -> Context:
    """The money context without the ``Inexact`` trap, for deliberate rounding."""
    return Context(prec=_MONEY_CONTEXT.prec, traps=[InvalidOperation, Overflow])


def _exactly(compute: Callable[[], Decimal]) -> Decimal:
    try:
        result: Decimal = compute()
    except DecimalException as exc:
        raise InvalidAmount(
            f"the amount is too large to compute exactly ({type(exc).__name__})"
        ) from exc
    return result


def _quantise_exactly(amount: Decimal, currency: str) -> Decimal:
    """``amount`` at exactly the currency's minor unit, or a refusal if that would round."""
    if not amount.is_finite():
        raise InvalidAmount(f"an amount must be a finite number; got {amount}", value=str(amount))
    digits = minor_digits(currency)
    try:
        quantised = amount.quantize(Decimal(1).scaleb(-digits), context=_MONEY_CONTEXT)
    except Inexact:
        unit = "no decimal places" if digits == 0 else f"at most {digits} decimal places"
        raise InvalidAmount(
            f"a {currency} amount has {unit}; got {amount}",
            value=str(amount),
            currency=currency,
        ) from None
    except DecimalException:
        raise InvalidAmount(
            f"the amount is too large; got {amount}", value=str(amount), currency=currency
        ) from None
    if quantised.is_zero():
        quantised = quantised.copy_abs()  # no "-0.00"
    return quantised


# -- MobilePhone 手机号码 ----------------------------------------------------------------

_MOBILE_RE: Final = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS_RE: Final = re.compile(r"[\s\-]+")


@dataclass(frozen=True, slots=True, repr=False)
class MobilePhone:
    """手机号码: a mainland China mobile number, canonically 11 digits ``1[3-9]xxxxxxxxx``."""

    number: str

    def __post_init__(self) -> None:
        if not isinstance(self.number, str) or not _MOBILE_RE.fullmatch(self.number):
            number: object = self.number
            shown = _redact(number) if isinstance(number, str) else type(number).__name__
            raise InvalidPhone(
                "a mobile phone number must be 11 digits, a 1 followed by 3–9, "
                f"with an optional +86/0086/86 prefix; got {shown!r}",
                value=shown,
            )

    @classmethod
    def parse(cls, raw: object) -> Self:
        """Read ``"+86 138-1234-5678"``, ``"0086 13812345678"``, ``"13812345678"``, …

        Spaces and hyphens are dropped, then a ``+86``, ``0086`` or ``86`` country
        prefix.
        """
        if not isinstance(raw, str):
            raise InvalidPhone(
                f"a mobile phone number must be text; got a {type(raw).__name__}",
                value=type(raw).__name__,
            )
        digits = _PHONE_SEPARATORS_RE.sub("", raw)
        for prefix in ("+86", "0086"):
            if digits.startswith(prefix):
                digits = digits[len(prefix) :]
                break
        else:
            if len(digits) == 13 and digits.startswith("86"):
                digits = digits[2:]
        return cls(digits)

    @property
    def masked(self) -> str:
        """``138****5678``."""
        return f"{self.number[:3]}****{self.number[-4:]}"

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return f"MobilePhone({self.masked!r})"


# -- Email 电子邮箱 ---------------------------------------------------------------------

_LOCAL_RE: Final = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)
_LABEL_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_MAX_LOCAL: Final = 64
_MAX_ADDRESS: Final = 254


@dataclass(frozen=True, slots=True, repr=False)
class Email:
    """电子邮箱: ``local@domain`` with the domain in lower case.

    Pragmatic rules: one ``@``; a local part of 1–64 ASCII characters (letters, digits,
    ``!#$%&'*+/=?^_`{|}~-``, and dots that neither start, end nor repeat); a domain of
    at least two dot-separated labels of letters, digits and inner hyphens, whose last
    label is not all digits; no spaces; at most 254 characters in all.
    """

    address: str

    def __post_init__(self) -> None:
        if not isinstance(self.address, str):
            raise InvalidEmail(
                f"an e-mail address must be text; got a {type(self.address).__name__}",
                value=type(self.address).__name__,
            )
        problem = _email_problem(self.address)
        if problem is not None:
            shown = _redact(self.address)
            raise InvalidEmail(
                f"invalid e-mail address: {problem}; got {shown!r}", rule=problem, value=shown
            )

    @classmethod
    def parse(cls, raw: object) -> Self:
        """Strip surrounding spaces and lower-case the domain (the local part keeps its case)."""
        if not isinstance(raw, str):
            raise InvalidEmail(
                f"an e-mail address must be text; got a {type(raw).__name__}",
                value=type(raw).__name__,
            )
        text = raw.strip()
        local, at, domain = text.rpartition("@")
        if at:
            text = f"{local}@{domain.lower()}"
        return cls(text)

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0]

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def masked(self) -> str:
        """``z***@example.com``: the first character of the local part, then the domain."""
        return f"{self.local_part[0]}***@{self.domain}"

    def __str__(self) -> str:
        return self.address

    def __repr__(self) -> str:
        return f"Email({self.masked!r})"


def _email_problem(address: str) -> str | None:
    """Which rule ``address`` breaks, or ``None``."""
    if any(ch.isspace() for ch in address):
        return "it must not contain spaces"
    if address.count("@") != 1:
        return "it must contain exactly one @"
    if len(address) > _MAX_ADDRESS:
        return f"it must be at most {_MAX_ADDRESS} characters long"
    local, _, domain = address.partition("@")
    if not local:
        return "the part before @ must not be empty"
    if len(local) > _MAX_LOCAL:
        return f"the part before @ must be at most {_MAX_LOCAL} characters long"
    if not _LOCAL_RE.fullmatch(local):
        return (
            "the part before @ may hold only letters, digits, !#$%&'*+/=?^_`{|}~- "
            "and single inner dots"
        )
    if domain != domain.lower():
        return "the domain must be in lower case (use Email.parse to normalise it)"
    labels = domain.split(".")
    if len(labels) < 2:
        return "the domain must contain a dot"
    for label in labels:
        if not _LABEL_RE.fullmatch(label):
            return (
                "each part of the domain must be 1–63 letters, digits or hyphens, "
                "not starting or ending with a hyphen"
            )
    if labels[-1].isdigit():
        return "the domain's last part must not be all digits"
    return None


# -- USCC 统一社会信用代码 ---------------------------------------------------------------

#: GB 32100-2015 code characters: digits and upper-case letters without I, O, Z, S, V.
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE: Final = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
#: Weight of position i (from 0) is 3**i mod 31.
USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_USCC_SPACES_RE: Final = re.compile(r"\s+")


def uscc_check_character(first17: str) -> str:
    """The 18th character (校验码) of a USCC whose first 17 characters are ``first17``.

    Each character's value is its index in :data:`USCC_ALPHABET`; the weighted sum uses
    weights ``3**i mod 31``; the check value is ``31 - sum mod 31``, with 31 read as 0.
    """
    if (
        not isinstance(first17, str)
        or len(first17) != 17
        or any(ch not in _USCC_VALUE for ch in first17)
    ):
        raise InvalidUSCC(
            "a USCC check character is computed from 17 characters of "
            f"{USCC_ALPHABET}; got {first17!r}",
            value=repr(first17),
        )
    total = sum(_USCC_VALUE[ch] * weight for ch, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@dataclass(frozen=True, slots=True)
class USCC:
    """统一社会信用代码 (unified social credit code, GB 32100-2015) of an organisation.

    18 characters of :data:`USCC_ALPHABET`:

    ==========  ===========================================================
    1           登记管理部门代码 registration-authority code
    2           机构类别代码 institution-category code
    3–8         登记管理机关行政区划码 administrative division (digits)
    9–17        主体标识码 (组织机构代码) organisation code
    18          校验码 check character, see :func:`uscc_check_character`
    ==========  ===========================================================

    The authority and category tables grow over time, so characters 1 and 2 are only
    held to the alphabet.
    """

    code: str

    def __post_init__(self) -> None:
        code: object = self.code
        if not isinstance(code, str):
            raise InvalidUSCC(f"a USCC must be text; got a {type(code).__name__}", value=repr(code))
        if len(code) != 18:
            raise InvalidUSCC(
                f"a USCC has 18 characters; got {len(code)} in {code!r}",
                rule="length",
                value=code,
            )
        bad = sorted({ch for ch in code if ch not in _USCC_VALUE})
        if bad:
            raise InvalidUSCC(
                f"a USCC uses only the characters {USCC_ALPHABET} (no I, O, Z, S, V "
                f"and no lower case); {code!r} contains {''.join(bad)!r}",
                rule="alphabet",
                value=code,
            )
        if not code[2:8].isdigit():
            raise InvalidUSCC(
                "characters 3–8 of a USCC are the administrative division code, all "
                f"digits; got {code[2:8]!r} in {code!r}",
                rule="division",
                value=code,
            )
        expected = uscc_check_character(code[:17])
        if code[17] != expected:
            raise InvalidUSCC(
                f"the USCC check character (character 18) of {code!r} should be "
                f"{expected!r}, got {code[17]!r}",
                rule="check_character",
                value=code,
                expected=expected,
                actual=code[17],
            )

    @classmethod
    def parse(cls, raw: object) -> Self:
        """Upper-case the input and drop all spaces."""
        if not isinstance(raw, str):
            raise InvalidUSCC(f"a USCC must be text; got a {type(raw).__name__}", value=repr(raw))
        return cls(_USCC_SPACES_RE.sub("", raw).upper())

    @property
    def registration_authority(self) -> str:
        """登记管理部门代码 (character 1), e.g. ``"9"`` for 市场监管 (formerly 工商)."""
        return self.code[0]

    @property
    def institution_category(self) -> str:
        """机构类别代码 (character 2), e.g. ``"1"`` for an enterprise under authority 9."""
        return self.code[1]

    @property
    def division_code(self) -> str:
        """登记管理机关行政区划码 (characters 3–8)."""
        return self.code[2:8]

    @property
    def organisation_code(self) -> str:
        """主体标识码 / 组织机构代码 (characters 9–17)."""
        return self.code[8:17]

    def __str__(self) -> str:
        return self.code


# -- ResidentIdNumber 居民身份证号码 -----------------------------------------------------

#: Weight of position i (from 0) is 2**(17 - i) mod 11.
RESIDENT_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK: Final = "10X98765432"
_DIGITS17_RE: Final = re.compile(r"[0-9]{17}")
_ID_SPACES_RE: Final = re.compile(r"\s+")
_MIN_BIRTH_YEAR: Final = 1900


def resident_id_check_digit(first17: str) -> str:
    """The 18th character (校验码) of a resident ID number, ``0``–``9`` or ``X``.

    ISO 7064 MOD 11-2: the weighted sum of the 17 digits, modulo 11, indexes
    ``"10X98765432"``.
    """
    if not isinstance(first17, str) or not _DIGITS17_RE.fullmatch(first17):
        shown = _redact(first17) if isinstance(first17, str) else type(first17).__name__
        raise InvalidIdNumber(
            f"a resident ID check digit is computed from 17 digits; got {shown!r}",
            value=shown,
        )
    total = sum(int(ch) * w for ch, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


@dataclass(frozen=True, slots=True, repr=False)
class ResidentIdNumber:
    """居民身份证号码 (citizen identification number, GB 11643-1999).

    ==========  ===========================================================
    1–6         地址码 address code
    7–14        出生日期码 date of birth, YYYYMMDD
    15–17       顺序码 sequence code; the 17th digit is odd for men, even for women
    18          校验码 check digit, see :func:`resident_id_check_digit`
    ==========  ===========================================================

    The date of birth must be a real calendar date from 1900 on; it is not compared
    with today (the domain has no clock).
    """

    number: str

    def __post_init__(self) -> None:
        number: object = self.number
        if not isinstance(number, str):
            raise InvalidIdNumber(
                f"a resident ID number must be text; got a {type(number).__name__}",
                value=type(number).__name__,
            )
        shown = _redact(number)
        if len(number) != 18:
            raise InvalidIdNumber(
                f"a resident ID number has 18 characters; got {len(number)} in {shown!r}",
                rule="length",
                value=shown,
            )
        if not _DIGITS17_RE.fullmatch(number[:17]) or number[17] not in "0123456789X":
            raise InvalidIdNumber(
                f"a resident ID number is 17 digits followed by a digit or X; got {shown!r}",
                rule="characters",
                value=shown,
            )
        year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
        try:
            born = date(year, month, day)
        except ValueError:
            born = None
        if born is None or year < _MIN_BIRTH_YEAR:
            raise InvalidIdNumber(
                "characters 7–14 of a resident ID number are the date of birth, "
                f"a real date YYYYMMDD from {_MIN_BIRTH_YEAR} on; got {number[6:14]!r}",
                rule="birth_date",
                value=shown,
            )
        expected = resident_id_check_digit(number[:17])
        if number[17] != expected:
            raise InvalidIdNumber(
                f"the resident ID check digit (character 18) should be {expected!r}, "
                f"got {number[17]!r} in {shown!r}",
                rule="check_digit",
                value=shown,
                expected=expected,
                actual=number[17],
            )

    @classmethod
    def parse(cls, raw: object) -> Self:
        """Drop spaces and read a lower-case ``x`` check digit as ``X``."""
        if not isinstance(raw, str):
            raise InvalidIdNumber(
                f"a resident ID number must be text; got a {type(raw).__name__}",
                value=type(raw).__name__,
            )
        return cls(_ID_SPACES_RE.sub("", raw).upper())

    @property
    def birth_date(self) -> date:
        """出生日期 from characters 7–14."""
        return date(int(self.number[6:10]), int(self.number[10:12]), int(self.number[12:14]))

    @property
    def sex(self) -> Literal["male", "female"]:
        """性别: ``"male"`` when the 17th digit is odd, else ``"female"``."""
        return "male" if int(self.number[16]) % 2 == 1 else "female"

    @property
    def masked(self) -> str:
        """``110105********123X``: the address code and the last four characters."""
        return f"{self.number[:6]}********{self.number[-4:]}"

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        return f"ResidentIdNumber({self.masked!r})"
