"""A small public catalogue shared by the HTML and the API tests: two approved sellers in
Lyon and Saint-Étienne, a pending seller, and an archived product."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from marketplace.catalog import services as catalog
from marketplace.catalog.models import ProductStatus
from marketplace.db import db, utcnow
from marketplace.organizations.models import OrganizationStatus
from marketplace.pickup.models import PickupLocation, PickupSlot
from tests import factories


@dataclass
class Shelf:
    lyon: object
    loire: object
    pending: object
    bike: object  # 120 €, 1 left, Lyon
    books: object  # 8 €, out of stock, Lyon
    jam: object  # 4,50 €, unlimited, perishable, Lyon
    pump: object  # 19,99 €, 5 in stock, Saint-Étienne
    bowl: object  # 12,50 €, 10 in stock, Saint-Étienne
    hidden: object  # from the pending seller
    archived: object

    @property
    def public(self) -> list:
        return [self.bike, self.books, self.jam, self.pump, self.bowl]


def build_shelf() -> Shelf:
    make_organization, make_product = factories.make_organization, factories.make_product
    lyon = make_organization(name="Ressourcerie du Canal", town="Lyon", postcode="69003")
    loire = make_organization(name="Atelier de la Loire", town="Saint-Étienne", postcode="42000")
    pending = make_organization(
        name="Boutique en attente", town="Lyon", postcode="69001", status=OrganizationStatus.PENDING
    )
    shelf = Shelf(
        lyon=lyon,
        loire=loire,
        pending=pending,
        bike=make_product(lyon, title="Vélo de ville révisé", price_cents=12000, stock=1,
                          category_slug="mobility-bikes",
                          description="Cadre acier <b>solide</b>\nFreins neufs"),
        books=make_product(lyon, title="Lot de trois livres de poche", price_cents=800, stock=0,
                           category_slug="books-novels"),
        jam=make_product(lyon, title="Confiture de fraises", price_cents=450, stock=None,
                         category_slug="food-grocery", is_perishable=True, vat_rate_bp=550),
        pump=make_product(loire, title="Pompe à vélo", price_cents=1999, stock=5,
                          category_slug="mobility-parts"),
        bowl=make_product(loire, title="Bol en céramique", price_cents=1250, stock=10,
                          category_slug="home-kitchen"),
        hidden=make_product(pending, title="Vélo caché", price_cents=5000, category_slug="mobility-bikes"),
        archived=make_product(lyon, title="Vélo archivé", price_cents=5000, category_slug="mobility-bikes"),
    )
    catalog.set_status(shelf.archived, ProductStatus.ARCHIVED, by=None)
    db.session.commit()
    return shelf


def build_walk(count: int = 7) -> list:
    """Products with equal prices and equal titles, so pages must break ties by id."""
    shop = factories.make_organization(name="Boutique solidaire", town="Nantes", postcode="44000")
    prices = [300, 300, 300, 500, 500, 100, 900, 300, 500]
    titles = ["Tasse", "Tasse", "Assiette", "Tasse", "Bol", "Assiette", "Verre", "Tasse", "Bol"]
    products = [
        factories.make_product(shop, title=f"{titles[i % 9]} solidaire", price_cents=prices[i % 9],
                               description="Objet de réemploi")
        for i in range(count)
    ]
    db.session.commit()
    return products


def add_location(organization, **fields) -> PickupLocation:
    values = {
        "name": "Boutique",
        "address_line": "14 rue Francis de Pressensé",
        "postcode": organization.postcode,
        "town": organization.town,
        "instructions": "Sonnez à l'interphone.\nDeuxième porte à gauche.",
        "opening_hours": "Mardi-samedi 10h-18h\nFermé le lundi",
    }
    values.update(fields)
    location = PickupLocation(organization=organization, **values)
    db.session.add(location)
    db.session.flush()
    return location


def add_slot(location, *, in_hours: float, capacity: int = 5, booked: int = 0, cutoff_hours: int = 2,
             closed_reason: str | None = None) -> PickupSlot:
    starts = (utcnow() + timedelta(hours=in_hours)).replace(microsecond=0)
    slot = PickupSlot(location=location, starts_at=starts, ends_at=starts + timedelta(hours=2),
                      capacity=capacity, booked=booked, cutoff_hours=cutoff_hours,
                      closed_reason=closed_reason)
    db.session.add(slot)
    db.session.flush()
    return slot
