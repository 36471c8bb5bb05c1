"""Site-wide behaviour: language switch, money and dates per locale, headers, error pages, config."""
from datetime import UTC, datetime

import pytest
from flask_babel import refresh

from marketplace import create_app
from marketplace.i18n import date_filter, money_filter


def test_language_switch_is_remembered_in_a_cookie(client):
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)
    response = client.post("/language", data={"language": "en", "next": "/legal/terms"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/legal/terms")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page


def test_language_switch_is_saved_on_the_account(client, login, make_user):
    user = login(make_user(locale="fr"))
    client.post("/language", data={"language": "en", "next": "/"})
    assert user.locale == "en"


def test_language_switch_refuses_unknown_language_and_foreign_redirects(client):
    assert client.post("/language", data={"language": "de"}).status_code == 400
    response = client.post("/language", data={"language": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] in ("/", "http://localhost/")


@pytest.mark.parametrize(
    ("locale", "expected"), [("fr", "12,50\u00a0€"), ("en", "€12.50")]
)
def test_amounts_are_formatted_per_locale(app, locale, expected):
    with app.test_request_context(headers={"Cookie": f"lang={locale}"}):
        refresh()
        assert money_filter(1250) == expected


def test_dates_are_formatted_per_locale(app):
    moment = datetime(2026, 12, 24, 15, 30, tzinfo=UTC)
    with app.test_request_context(headers={"Cookie": "lang=fr"}):
        assert "déc." in date_filter(moment)
    refresh()
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert "Dec" in date_filter(moment)


def test_security_headers_are_set(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_is_http_only_and_same_site(app, client, make_user, login):
    login(make_user())
    client.post("/language", data={"language": "en"})
    cookie = client.get_cookie("ess_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    app = create_app("production", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    response = app.test_client().get("/legal/terms")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


@pytest.mark.parametrize("secret", [None, "dev-only-secret-change-me", "short"])
def test_production_refuses_a_default_or_weak_secret_key(monkeypatch, secret):
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_404_page_uses_the_site_layout(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "site-header" in page and "404" in page


def test_500_page_uses_the_site_layout_and_hides_the_error(make_app):
    app = make_app(PROPAGATE_TEST_ERRORS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "site-header" in page and "secret internal detail" not in page


def test_form_post_without_csrf_token_is_refused(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/language", data={"language": "en"})
    assert response.status_code == 400
    assert "lang=" not in response.headers.get("Set-Cookie", "")


def test_every_page_form_carries_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    page = app.test_client().get("/").get_data(as_text=True)
    assert page.count('method="post"') == page.count('name="csrf_token"')


def test_no_asset_is_fetched_from_another_site(client):
    page = client.get("/").get_data(as_text=True)
    for marker in ('src="http', "src='http", 'href="//', '<link rel="stylesheet" href="http'):
        assert marker not in page


def test_legal_pages_exist_in_both_languages(client):
    for page in ("notice", "terms", "privacy", "accessibility"):
        for lang in ("fr", "en"):
            client.set_cookie("lang", lang)
            response = client.get(f"/legal/{page}")
            assert response.status_code == 200, (page, lang)
    assert client.get("/legal/nope").status_code == 404
