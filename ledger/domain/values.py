"""Frozen value objects: money, percentages, parties, sources, approximate dates."""

from __future__ import annotations

import enum
import math
import re
from datetime import date
from decimal import Context, Decimal, Inexact, InvalidOperation

import attrs

from ledger.errors import InvalidField, shown

MAX_INTEGER_DIGITS = 18
MAX_FRACTION_DIGITS = 12
# Plain decimal notation as people write it: no leading zeros (``012`` is 12 in one reading
# and 10 in another), no exponent, no separators.
_PLAIN_DECIMAL = re.compile(r"[+-]?(0|[1-9][0-9]*)(\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Confidence(enum.Enum):
    """How firmly the source states a fact."""

    CONFIRMED = "confirmed"
    REPORTED = "reported"
    ESTIMATED = "estimated"


class DatePrecision(enum.Enum):
    """How much of an ``effective_on`` date the source actually gives."""

    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    def admits(self, day: date) -> bool:
        """Whether ``day`` is the first day of a period of this precision."""
        if self is DatePrecision.DAY:
            return True
        if self is DatePrecision.MONTH:
            return day.day == 1
        if self is DatePrecision.QUARTER:
            return day.day == 1 and day.month in (1, 4, 7, 10)
        return day.day == 1 and day.month == 1

    def label(self, day: date) -> str:
        """The date as precisely as the source gives it: ``2023-Q4``, ``2019-07``."""
        if self is DatePrecision.DAY:
            return day.isoformat()
        if self is DatePrecision.MONTH:
            return f"{day.year:04d}-{day.month:02d}"
        if self is DatePrecision.QUARTER:
            return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
        return f"{day.year:04d}"


@attrs.frozen(repr=False)
class NumberLiteral:
    """A number as written in a file, kept as text so that its form can be checked."""

    text: str

    def __repr__(self) -> str:
        return self.text


# Sums of amounts at the digit limits need more than Python's default 28 digits.
EXACT = Context(prec=2 * (MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS), traps=[Inexact])


def parse_decimal(value: object, path: str) -> Decimal:
    """A finite plain decimal within the ledger's digit limits, from text or a number.

    A number written in a file must be in plain notation (exponents, NaN and
    infinities are refused); a float given in code is read by its shortest decimal form.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal, NumberLiteral)):
        raise InvalidField(path, f"expected a plain decimal number, got {shown(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidField(path, f"expected a finite number, got '{value!r}'")
        text = f"{Decimal(repr(value)):f}"
    else:
        text = value.text if isinstance(value, NumberLiteral) else str(value)
    if not _PLAIN_DECIMAL.fullmatch(text.strip()):
        expected = "(no exponent)" if "e" in text.lower() else "such as 1000000000 or 12.5"
        raise InvalidField(path, f"expected a plain decimal number {expected}, got {shown(text)}")
    integer, _, fraction = text.strip().lstrip("+-").partition(".")
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise InvalidField(
            path, f"expected at most {MAX_INTEGER_DIGITS} integer digits, got {shown(text)}"
        )
    if len(fraction.rstrip("0")) > MAX_FRACTION_DIGITS:
        raise InvalidField(
            path, f"expected at most {MAX_FRACTION_DIGITS} fractional digits, got {shown(text)}"
        )
    try:
        return Decimal(text.strip())
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid text
        raise InvalidField(path, f"expected a plain decimal number, got {shown(text)}") from None


def format_decimal(number: Decimal) -> str:
    """Plain notation without trailing fractional zeros: ``1000000000``, ``12.5``."""
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def describe(value: object) -> str:
    """A term's value as people read it: ``yes``, ``1000 USD``, ``a, b``, ``—`` for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return f"{value['amount']} {value['currency']}"
    if isinstance(value, (list, tuple)):
        return ", ".join(describe(v) for v in value)
    return format_decimal(value) if isinstance(value, Decimal) else str(value)


def parse_date(value: object, path: str) -> date:
    """An ISO calendar date ``YYYY-MM-DD`` that exists."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise InvalidField(path, f"expected a date as YYYY-MM-DD, got {shown(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidField(path, f"expected a date that exists, got {shown(value)}") from None


def parse_slug(value: object, path: str) -> str:
    """An id of lower-case letters, digits, ``.``, ``_`` and ``-``, not starting with a sign."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value) or len(value) > 100:
        raise InvalidField(
            path,
            f"expected an id of lower-case letters, digits, '.', '_' or '-', got {shown(value)}",
        )
    return value


def _non_negative(_instance: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value < 0:
        raise InvalidField(attribute.name, f"expected a non-negative amount, got '{value}'")


def _currency(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _CURRENCY.fullmatch(value):
        raise InvalidField(
            attribute.name, f"expected a three-letter currency code such as USD, got {shown(value)}"
        )


@attrs.frozen
class Money:
    """A non-negative amount in one currency."""

    amount: Decimal = attrs.field(validator=_non_negative)
    currency: str = attrs.field(validator=_currency)

    @classmethod
    def parse(cls, amount: object, currency: object) -> Money:
        """Money from the text or number of an amount and a currency code."""
        if not isinstance(currency, str):
            raise InvalidField("currency", f"expected a currency code, got {shown(currency)}")
        return cls(parse_decimal(amount, "amount"), currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:  # pragma: no cover - totals are per currency
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(EXACT.add(self.amount, other.amount), self.currency)

    def __str__(self) -> str:
        return f"{format_decimal(self.amount)} {self.currency}"


def _percentage(_instance: object, _attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if not Decimal(0) <= value <= Decimal(100):
        raise InvalidField(
            "", f"expected a percentage between 0 and 100, got '{format_decimal(value)}'"
        )


@attrs.frozen(order=True)
class Percent:
    """A percentage between 0 and 100 (``Percent(Decimal("27"))`` is 27%)."""

    value: Decimal = attrs.field(validator=_percentage)

    @classmethod
    def parse(cls, value: object, path: str = "") -> Percent:
        """A percentage from text or a number; ``"27"`` is 27%."""
        try:
            return cls(parse_decimal(value, path))
        except InvalidField as error:
            raise InvalidField(path, error.problem) from None

    def __str__(self) -> str:
        return f"{format_decimal(self.value)}%"


@attrs.frozen
class Party:
    """A party to the agreement: a stable id and a display name."""

    id: str
    name: str


@attrs.frozen
class Source:
    """Where a fact comes from, and how firmly the source states it."""

    citation: str
    confidence: Confidence
    quote: str | None = None


class Instrument(enum.Enum):
    """What an investment bought."""

    EQUITY = "equity"
    PROFIT_INTEREST = "profit_interest"
    CLOUD_CREDITS = "cloud_credits"
    OTHER = "other"


class GovernanceKind(enum.Enum):
    """Kinds of governance event."""

    CEO_REMOVED = "ceo_removed"
    CEO_APPOINTED = "ceo_appointed"
    CEO_REINSTATED = "ceo_reinstated"
    BOARD_CHANGED = "board_changed"
    OBSERVER_SEAT_GRANTED = "observer_seat_granted"
    OBSERVER_SEAT_RELINQUISHED = "observer_seat_relinquished"
    DEPARTURE = "departure"
    RESTRUCTURING = "restructuring"
    OTHER = "other"


class Outcome(enum.Enum):
    """How a renegotiation ended."""

    ACCEPTED = "accepted"
    ABANDONED = "abandoned"
