"""Where people land after logging in: staff at their organization (counter volunteers at its
counter), people of several organizations at their list; a `next` page asked for wins, and
shoppers land on the home page as before."""
import pytest

from marketplace.db import db
from marketplace.organizations.models import Membership, OrganizationStatus, Role
from tests.factories import DEFAULT_PASSWORD, make_organization, make_user


def log_in(client, email, **query):
    return client.post("/login", query_string=query,
                       data={"email": email, "password": DEFAULT_PASSWORD})


def member(email, *roles_in):
    user = make_user(email=email, locale="en")
    for organization, role in roles_in:
        db.session.add(Membership(organization=organization, user=user, role=role))
    db.session.commit()
    return user


@pytest.fixture
def shop(app):
    return make_organization(name="Ressourcerie du Canal")


def test_a_counter_volunteer_lands_on_the_counter(client, shop):
    member("lucie@example.org", (shop, Role.COUNTER))
    response = log_in(client, "lucie@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/orgs/{shop.id}/counter"
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OWNER])
def test_a_manager_or_owner_lands_on_the_organization(client, shop, role):
    member("karim@example.org", (shop, role))
    response = log_in(client, "karim@example.org")
    assert response.headers["Location"] == f"/orgs/{shop.id}/"
    assert client.get(response.headers["Location"]).status_code == 200


def test_someone_in_several_organizations_lands_on_their_list(client, shop):
    other = make_organization(name="Épicerie Solidaire")
    member("both@example.org", (shop, Role.COUNTER), (other, Role.MANAGER))
    response = log_in(client, "both@example.org")
    assert response.headers["Location"] == "/my/organizations"
    page = client.get("/my/organizations").get_data(as_text=True)
    assert "Ressourcerie du Canal" in page and "Épicerie Solidaire" in page


def test_a_counter_volunteer_of_an_organization_still_in_review_lands_on_its_page(client):
    pending = make_organization(name="Recyclerie en attente", status=OrganizationStatus.PENDING)
    member("new@example.org", (pending, Role.COUNTER))
    assert log_in(client, "new@example.org").headers["Location"] == f"/orgs/{pending.id}/"


def test_the_page_asked_for_wins(client, shop):
    member("lucie@example.org", (shop, Role.COUNTER))
    response = log_in(client, "lucie@example.org", next="/account/orders")
    assert response.headers["Location"] == "/account/orders"


def test_an_unsafe_next_is_ignored_and_staff_still_land_on_their_counter(client, shop):
    member("lucie@example.org", (shop, Role.COUNTER))
    response = log_in(client, "lucie@example.org", next="https://evil.example/")
    assert response.headers["Location"] == f"/orgs/{shop.id}/counter"


def test_a_shopper_lands_on_the_home_page(client, app):
    make_user(email="camille@example.org", locale="en")
    db.session.commit()
    assert log_in(client, "camille@example.org").headers["Location"] == "/"
