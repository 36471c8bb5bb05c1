"""Card codes: groups of 4, no look-alikes, a check character that catches a mistyped one."""
from hypothesis import given
from hypothesis import strategies as st

from marketplace.giftcards import codes


def test_a_new_code_is_valid_and_readable():
    for _ in range(200):
        code = codes.new_code()
        assert len(code) == 16 and codes.is_valid(code)
        assert not set(code) & set("01ILOUVZ")
        shown = codes.display(code)
        assert len(shown) == 19 and shown.count("-") == 3


@given(st.data())
def test_any_single_mistyped_character_is_caught(data):
    code = codes.new_code()
    position = data.draw(st.integers(0, 15))
    wrong = data.draw(st.sampled_from([c for c in codes.ALPHABET if c != code[position]]))
    assert not codes.is_valid(code[:position] + wrong + code[position + 1:])


def test_typed_in_any_case_with_spaces_or_from_the_card_url():
    code = codes.new_code()
    shown = codes.display(code)
    assert codes.normalize(shown.lower()) == code
    assert codes.normalize(" " + shown.replace("-", " ") + " ") == code
    assert codes.normalize(f"https://marche.example.org/cards/{shown}") == code
    assert codes.normalize(f"https://marche.example.org/cards/{code}?x=1") == code
    assert codes.normalize("hello") is None and codes.normalize("") is None
    assert codes.normalize("https://evil.example/other/" + code) is None
