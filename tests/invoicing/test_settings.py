"""The platform's identity is checked at start: a wrong number would be printed on every
invoice."""
import pytest

from marketplace import create_app


@pytest.mark.parametrize(("key", "value", "message"), [
    ("PLATFORM_SIREN", "912345676", "PLATFORM_SIREN"),
    ("PLATFORM_SIRET", "91234567500018", "PLATFORM_SIRET"),
    ("PLATFORM_SIRET", "73282932000074", "does not start with PLATFORM_SIREN"),
    ("PLATFORM_IBAN", "FR7642559000011234567890122", "PLATFORM_IBAN"),
    ("PLATFORM_BIC", "CCOP", "PLATFORM_BIC"),
])
def test_a_wrong_identity_stops_the_start(key, value, message):
    with pytest.raises(RuntimeError, match=message):
        create_app("testing", overrides={key: value, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_identity_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PLATFORM_SIREN", "732829320")
    monkeypatch.setenv("PLATFORM_SIRET", "73282932000074")
    monkeypatch.setenv("PLATFORM_VAT_NUMBER", "FR44732829320")
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["PLATFORM_SIRET"] == "73282932000074"
    assert app.config["PLATFORM_VAT_NUMBER"] == "FR44732829320"
