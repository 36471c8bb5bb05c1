"""Money in integer cents with an ISO currency; formatted per locale through Babel. No floats."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency


@dataclass(frozen=True, slots=True)
class Money:
    cents: int
    currency: str = "EUR"

    def __post_init__(self):
        if not isinstance(self.cents, int) or isinstance(self.cents, bool):
            raise TypeError("Money needs an integer amount of cents")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if not isinstance(quantity, int):
            raise TypeError("Money can only be multiplied by an integer quantity")
        return Money(self.cents * quantity, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def __bool__(self) -> bool:
        return self.cents != 0

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.cents).scaleb(-2)

    def format(self, locale: str = "fr_FR") -> str:
        return format_money(self.cents, locale=locale, currency=self.currency)


def commission_cents(gross_cents: int, rate_bp: int) -> int:
    """The platform's commission on `gross_cents` at `rate_bp` basis points, rounded half up."""
    return (gross_cents * rate_bp + 5000) // 10000


def format_money(cents: int, *, locale: str = "fr_FR", currency: str = "EUR") -> str:
    """12,50 € in French, €12.50 in English."""
    return format_currency(Decimal(cents).scaleb(-2), currency, locale=locale)


_AMOUNT = re.compile(r"^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*(?:€|eur)?\s*$", re.IGNORECASE)


def parse_amount(text: str) -> int:
    """'12,5' / '12.50' / '12 €' -> 1250 cents; ValueError on anything else (negative, 3 decimals)."""
    match = _AMOUNT.match(text or "")
    if not match:
        raise ValueError(f"not an amount: {text!r}")
    euros, fraction = match.groups()
    return int(euros) * 100 + int((fraction or "0").ljust(2, "0"))


_SPREADSHEET_EUROS = re.compile(r"(\d{1,9})(?:\.(\d{1,2}))?")


def parse_euros(text: str) -> int:
    """A spreadsheet's or a form's amount: '12,50' / '12.5' / '1 234,50 €' / '1.234,50' /
    'EUR 40' / '-5' -> cents (negative allowed, so that the caller's message can say "more than
    zero" or "not negative"); ValueError when it is not an amount in euros and cents."""
    value = re.sub(r"[\s\u00a0\u202f]", "", text)
    value = re.sub(r"(?i)^(€|eur)|(€|eur|euros?)$", "", value)
    sign = -1 if value[:1] in ("-", "−") else 1
    value = value.lstrip("-−+")
    if "," in value and "." in value:
        decimal = "," if value.rfind(",") > value.rfind(".") else "."
        value = value.replace("." if decimal == "," else ",", "").replace(",", ".")
    else:
        value = value.replace(",", ".")
    match = _SPREADSHEET_EUROS.fullmatch(value)
    if not match:
        raise ValueError(text)
    euros, fraction = match.groups()
    return sign * (int(euros) * 100 + int((fraction or "0").ljust(2, "0")))
