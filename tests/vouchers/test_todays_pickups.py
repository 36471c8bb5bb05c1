"""The counter page lists today's pickups of the staff's organization: who comes in each of
today's slots, what is still to hand over, what was collected, when and by whom."""
import html
from datetime import datetime, time, timedelta

import pytest
from freezegun import freeze_time

from marketplace.db import db, utcnow
from marketplace.pickup.models import PickupSlot
from marketplace.pickup.services import local_zone
from marketplace.vouchers import services as vouchers
from tests.factories import make_product
from tests.vouchers.helpers import make_shop, paid_order, voucher_of


def move_slot(slot, starts_at: datetime, hours: int = 2) -> None:
    slot.starts_at = starts_at
    slot.ends_at = starts_at + timedelta(hours=hours)


def local_today(hour: int, minute: int = 0) -> datetime:
    local_day = utcnow().astimezone(local_zone()).date()
    return datetime.combine(local_day, time(hour, minute), tzinfo=local_zone())


def order_for(shop, product, name: str, email: str, quantity: int = 1):
    order = paid_order([(product, quantity)], email=email)
    order.name = name
    db.session.commit()
    return order


def collect(shop, order, at: datetime) -> None:
    with freeze_time(at):
        vouchers.collect(voucher_of(order.parts[0]).id, organization=shop.organization,
                         by=shop.counter, nonce=f"scan-{order.id}")
        db.session.commit()


def build_day():
    """A seller with orders in today's slot (one collected at 10:02, one waiting), an order for
    tomorrow, and another seller with an order today."""
    shop = make_shop("Ressourcerie du Canal")
    lamp = make_product(shop.organization, title="Lampe de bureau", price_cents=1550, stock=9)
    came = order_for(shop, lamp, "Ada Lovelace", "ada@example.org", quantity=2)
    waits = order_for(shop, lamp, "Bob Martin", "bob@example.org")
    later = order_for(shop, lamp, "Chloé Tomorrow", "chloe@example.org")
    assert waits.parts[0].slot_id == later.parts[0].slot_id == shop.slot.id
    tomorrow_slot = PickupSlot(
        location_id=shop.slot.location_id, starts_at=local_today(10) + timedelta(days=1),
        ends_at=local_today(12) + timedelta(days=1), capacity=5, cutoff_hours=1)
    db.session.add(tomorrow_slot)
    db.session.flush()
    later.parts[0].slot_id = tomorrow_slot.id
    move_slot(shop.slot, local_today(10))
    db.session.commit()
    collect(shop, came, local_today(10, 2))

    other = make_shop("Épicerie Solidaire")
    jam = make_product(other.organization, title="Confiture", price_cents=450, stock=9)
    order_for(other, jam, "Dora Elsewhere", "dora@example.org")
    move_slot(other.slot, local_today(10))
    db.session.commit()
    return shop


@pytest.fixture
def day(app):
    return build_day()


def test_the_counter_shows_todays_pickups_of_its_organization_only(client, login, day):
    login(day.counter)
    page = html.unescape(client.get(f"/orgs/{day.organization.id}/counter").get_data(as_text=True))
    assert "Today's pickups" in page
    section = page[page.index("Today's pickups"):]
    assert "10:00 to 12:00" in section and "Boutique" in section
    assert "Ada Lovelace" in section and "Bob Martin" in section
    assert "2 × Lampe de bureau" in section
    assert "Handed over at 10:02 by Lucie Moreau" in section
    assert "1 order to collect" in section and "1 collected" in section
    assert "Chloé Tomorrow" not in page  # tomorrow's slot
    assert "Dora Elsewhere" not in page  # another seller's


def test_a_day_without_pickups_says_so(client, login, app):
    shop = make_shop()
    login(shop.counter)
    page = html.unescape(client.get(f"/orgs/{shop.organization.id}/counter").get_data(as_text=True))
    assert "Today's pickups" in page and "No pickup slot today." in page
