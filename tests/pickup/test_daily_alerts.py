"""The sellers' daily alerts email (issue 18): low stock, full slots of the coming week, drafts;
only to the managers who asked, nothing when there is nothing to say, once a day."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import g

from marketplace import uow
from marketplace.catalog.models import ProductStatus
from marketplace.db import db
from marketplace.organizations.models import Membership, Role
from marketplace.pickup import services as pickup
from marketplace.pickup.alerts import alerts_of, send_daily_alerts

pytestmark = pytest.mark.english

# 08:00 in Paris (winter time): past DAILY_ALERTS_HOUR (7).
MORNING = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def subscribe(user, organization, wanted=True):
    membership = db.session.scalar(sa.select(Membership).where(
        Membership.user_id == user.id, Membership.organization_id == organization.id))
    membership.daily_alerts = wanted
    return membership


def slot(location, *, starts_at, capacity, booked=0):
    made = pickup.add_slot(location, starts_at=starts_at, ends_at=starts_at + timedelta(hours=2),
                           capacity=capacity, cutoff_hours=1, by=None)
    made.booked = booked
    return made


@pytest.fixture
def shop(app, make_user, make_organization, make_product):
    owner = make_user(name="Claire Dumont", locale="en")
    manager = make_user(name="Karim Benali", locale="en")
    counter = make_user(name="Lucie Moreau", locale="en")
    org = make_organization(name="Ressourcerie La Trouvaille", owner=owner,
                            members={Role.MANAGER: manager, Role.COUNTER: counter})
    subscribe(manager, org)
    subscribe(counter, org)  # counter staff get no alerts, whatever they chose
    low = make_product(org, title="Bocaux en verre", stock=2)
    low.low_stock_threshold = 5
    make_product(org, title="Nappes", stock=8).low_stock_threshold = 5
    make_product(org, title="Savon", stock=0)  # no threshold: no alert
    archived = make_product(org, title="Vieux stock", stock=0)
    archived.low_stock_threshold, archived.status = 3, ProductStatus.ARCHIVED
    draft = make_product(org, title="Commode à restaurer", stock=1)
    draft.status = ProductStatus.DRAFT
    location = pickup.save_location(None, org, by=None, name="Boutique",
                                    address_line="1 rue de la Paix", postcode="69003", town="Lyon")
    slot(location, starts_at=MORNING + timedelta(days=2), capacity=3, booked=3)  # full
    slot(location, starts_at=MORNING + timedelta(days=3), capacity=3, booked=1)
    slot(location, starts_at=MORNING + timedelta(days=9), capacity=1, booked=1)  # beyond 7 days
    quiet_manager = make_user(name="Paul Durand", locale="en")
    quiet = make_organization(name="Épicerie calme", members={Role.MANAGER: quiet_manager})
    subscribe(quiet_manager, quiet)
    make_product(quiet, title="Riz", stock=50).low_stock_threshold = 10
    db.session.commit()
    return org, owner, manager


def run(now):
    with uow.unit():
        return send_daily_alerts(now=now)


def test_the_alerts_of_a_seller(shop):
    org, _owner, _manager = shop
    alerts = alerts_of(org, now=MORNING)
    assert [p.title for p in alerts.low_stock] == ["Bocaux en verre"]
    assert [s.starts_at for s in alerts.full_slots] == [MORNING + timedelta(days=2)]
    assert [p.title for p in alerts.drafts] == ["Commode à restaurer"]


def test_one_email_to_the_manager_who_asked_and_none_for_nothing(shop, outbox):
    org, _owner, manager = shop
    assert run(MORNING) == 1
    (email,) = outbox
    assert email.to == [manager.email]
    assert email.subject == "Ressourcerie La Trouvaille: today's alerts"
    body = email.body
    assert "Bocaux en verre: 2 left (alert below 5)" in body
    assert "Nappes" not in body and "Savon" not in body and "Vieux stock" not in body
    assert "Pickup slots already full in the coming 7 days:" in body and "Boutique" in body
    assert "1 draft waiting to be published:" in body and "Commode à restaurer" in body
    assert f"/orgs/{org.id}/products?status=draft" in body


def test_once_a_day_and_not_before_the_morning(shop, outbox):
    assert run(MORNING) == 1
    assert run(MORNING + timedelta(hours=3)) == 0  # the same day
    assert len(outbox) == 1
    next_night = MORNING + timedelta(hours=20)  # 04:00 in Paris, the next day
    assert run(next_night) == 0
    assert run(MORNING + timedelta(days=1)) == 1
    assert len(outbox) == 2


def test_a_manager_who_did_not_ask_gets_nothing(shop, outbox):
    org, _owner, manager = shop
    subscribe(manager, org, wanted=False)
    db.session.commit()
    assert run(MORNING) == 0 and outbox == []


def test_the_flask_command(app, shop, outbox, monkeypatch):
    monkeypatch.setattr("marketplace.pickup.alerts.utcnow", lambda: MORNING)
    result = app.test_cli_runner().invoke(args=["alerts", "send"])
    assert result.exit_code == 0, result.output
    assert "1 alert email(s) queued." in result.output
    assert len(outbox) == 1
    result = app.test_cli_runner().invoke(args=["alerts", "send"])
    assert "0 alert email(s) queued." in result.output


def test_a_manager_chooses_the_alerts_on_the_products_page(client, shop, login):
    org, owner, _manager = shop
    db.session.commit()
    g.pop("_login_user", None)
    login(owner)
    page = client.get(f"/orgs/{org.id}/products").get_data(as_text=True)
    assert "Email me the alerts every morning" in page
    response = client.post(f"/orgs/{org.id}/products/alerts", data={"daily_alerts": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert subscribe.__name__ and db.session.scalar(sa.select(Membership.daily_alerts).where(
        Membership.user_id == owner.id)) is True
    client.post(f"/orgs/{org.id}/products/alerts", data={})
    db.session.expire_all()
    assert db.session.scalar(sa.select(Membership.daily_alerts).where(
        Membership.user_id == owner.id)) is False
