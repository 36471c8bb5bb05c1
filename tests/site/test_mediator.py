"""The consumer mediator in the terms of sale: a setting, printed only when set (never a
placeholder), and a warning when production starts without it."""
import logging
import re

import pytest

from marketplace import create_app

MEDIATOR = {
    "CONSUMER_MEDIATOR_NAME": "Médiation <Conso> & Cie",
    "CONSUMER_MEDIATOR_ADDRESS": "12 rue de la Paix, 75002 Paris",
    "CONSUMER_MEDIATOR_WEBSITE": "https://www.mediation-conso.example/saisir",
}


def terms(client, lang: str) -> str:
    client.set_cookie("lang", lang)
    response = client.get("/legal/terms")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_without_a_mediator_the_terms_print_no_placeholder(client, lang):
    page = terms(client, lang)
    assert "indique ici" not in page and "states here" not in page
    assert 'class="notice"' not in page
    # What stays true without a name: the right to a mediator, and where the list is.
    assert "economie.gouv.fr/mediation-conso" in page


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_mediator_set_is_named_with_address_and_website(make_app, lang):
    app = make_app(**MEDIATOR)
    with app.app_context():
        page = terms(app.test_client(), lang)
    assert "Médiation &lt;Conso&gt; &amp; Cie" in page and "<Conso>" not in page
    assert "12 rue de la Paix, 75002 Paris" in page
    assert re.search(r'<a href="https://www\.mediation-conso\.example/saisir">', page)


def test_the_mediator_comes_from_the_environment(monkeypatch):
    for key, value in MEDIATOR.items():
        monkeypatch.setenv(key, value)
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert {key: app.config[key] for key in MEDIATOR} == MEDIATOR


@pytest.mark.parametrize("website", ["javascript:alert(1)", "www.mediateur.example", "ftp://x.example"])
def test_a_mediator_website_that_is_not_a_web_address_stops_the_start(website):
    with pytest.raises(RuntimeError, match="CONSUMER_MEDIATOR_WEBSITE"):
        create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://",
                                         **MEDIATOR, "CONSUMER_MEDIATOR_WEBSITE": website})


def production(monkeypatch, **settings):
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    for key in MEDIATOR:
        monkeypatch.delenv(key, raising=False)
    return create_app("production", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})


def mediator_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "mediator" in r.getMessage()]


def test_production_warns_when_the_mediator_is_missing(monkeypatch, caplog):
    with caplog.at_level(logging.WARNING):
        production(monkeypatch)
    (warning,) = mediator_warnings(caplog)
    assert "CONSUMER_MEDIATOR_NAME" in warning and "CONSUMER_MEDIATOR_WEBSITE" in warning

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        production(monkeypatch, CONSUMER_MEDIATOR_NAME="Médiation Conso")
    (warning,) = mediator_warnings(caplog)
    assert "CONSUMER_MEDIATOR_ADDRESS" in warning and "CONSUMER_MEDIATOR_NAME" not in warning


def test_production_with_a_mediator_and_development_do_not_warn(monkeypatch, caplog):
    with caplog.at_level(logging.WARNING):
        production(monkeypatch, **MEDIATOR)
        create_app("development", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert mediator_warnings(caplog) == []
