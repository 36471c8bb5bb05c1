"""Legal identifiers: what the application form accepts, how it is stored, what it refuses."""
import pytest

from marketplace.organizations.validators import (
    OrganizationError,
    clean_postcode,
    clean_rna,
    clean_siret,
    clean_website,
)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("732 829 320 00074", "73282932000074"),
        ("44306184100047", "44306184100047"),
        ("356 000 000 00048", "35600000000048"),  # La Poste: digit sum divisible by 5, not Luhn
        ("", None),
    ],
)
def test_siret_is_stored_as_14_digits(typed, stored):
    assert clean_siret(typed) == stored


@pytest.mark.parametrize("typed", ["73282932000075", "7328293200007", "ABCDEFGHIJKLMN"])
def test_invalid_siret_is_refused_with_a_message_on_the_field(typed):
    with pytest.raises(OrganizationError) as caught:
        clean_siret(typed)
    assert caught.value.field == "siret"
    assert str(caught.value.message) == "This SIRET is not valid: check the 14 digits."


def test_rna_is_stored_in_capitals_and_must_be_w_and_9_digits():
    assert clean_rna(" w691234567 ") == "W691234567"
    for wrong in ("W69123456", "691234567", "X691234567", "W69123456A"):
        with pytest.raises(OrganizationError) as caught:
            clean_rna(wrong)
        assert caught.value.field == "rna"


def test_postcode_has_five_digits():
    assert clean_postcode("69 003") == "69003"
    with pytest.raises(OrganizationError):
        clean_postcode("6900")


def test_website_must_be_a_web_address_never_a_script():
    assert clean_website("www.ressourcerie.org") == "https://www.ressourcerie.org"
    for wrong in ("javascript:alert(1)", "ftp://files.example.org", "not a site"):
        with pytest.raises(OrganizationError):
            clean_website(wrong)
