import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.money import Money, format_money, parse_amount


def test_money_adds_in_cents_and_refuses_floats():
    assert Money(1050) + Money(250) == Money(1300)
    assert Money(333) * 3 == Money(999)
    with pytest.raises(TypeError):
        Money(12.5)
    with pytest.raises(ValueError):
        Money(100, "EUR") + Money(100, "USD")


@pytest.mark.parametrize(
    ("text", "cents"), [("12", 1200), ("12,5", 1250), ("12.50", 1250), ("0,05", 5), ("150 €", 15000)]
)
def test_parse_amount(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "-5", "1,234", "12,345", "1e3"])
def test_parse_amount_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_amount(text)


@given(st.integers(min_value=0, max_value=10**9))
def test_french_format_round_trips(cents):
    text = format_money(cents, locale="fr_FR")
    assert text.endswith("\u00a0€")
    assert parse_amount(text.replace("\u202f", "").replace("\u00a0", " ")) == cents
