import pytest

from marketplace.db import db
from marketplace.organizations.models import Role
from tests.accounts.helpers import text


@pytest.fixture
def dashboard_route(app):
    """The organizations domain owns this page; stand in for it if it is not there yet."""
    if "organizations.dashboard" not in app.view_functions:
        app.add_url_rule(
            "/organizations/<int:org_id>", "organizations.dashboard", lambda org_id: "dashboard"
        )


def test_account_page_shows_details_and_organizations(
    client, login, make_user, make_organization, dashboard_route, app
):
    user = login(make_user(email="staff@example.org", name="Dominique Petit"))
    shop = make_organization(name="Ressourcerie du Canal", owner=user)
    cse = make_organization(name="CSE Atelier", members={Role.COUNTER: user})
    make_organization(name="Pas la mienne")
    db.session.commit()

    page = text(client.get("/account"))

    assert "staff@example.org" in page
    assert 'value="Dominique Petit"' in page
    with app.test_request_context():
        from flask import url_for

        assert f'href="{url_for("organizations.dashboard", org_id=shop.id)}"' in page
        assert f'href="{url_for("organizations.dashboard", org_id=cse.id)}"' in page
    assert "Ressourcerie du Canal" in page and "Owner" in page
    assert "CSE Atelier" in page and "Counter staff" in page
    assert "Pas la mienne" not in page
    assert 'href="/account/password"' in page


def test_saving_name_and_language(client, login, make_user):
    user = login(make_user(name="Old Name", locale="en"))
    db.session.commit()
    assert '<html lang="en">' in text(client.get("/account"))

    response = client.post("/account", data={"name": "  New Name ", "locale": "fr"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert user.name == "New Name" and user.locale == "fr"
    # The site now speaks the chosen language, even after logging out.
    assert '<html lang="fr">' in text(client.get("/account"))
    client.post("/logout")
    assert '<html lang="fr">' in text(client.get("/"))


def test_an_unknown_language_or_empty_name_is_refused(client, login, make_user):
    user = login(make_user(name="Kept", locale="en"))
    db.session.commit()

    for data in ({"name": "Kept", "locale": "xx"}, {"name": "   ", "locale": "en"}):
        response = client.post("/account", data=data)
        assert response.status_code == 200
        assert "Please correct the highlighted fields." in text(response)
    assert user.name == "Kept" and user.locale == "en"


def test_account_page_needs_a_login(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
