"""Every stock change is a movement with a reason; stock never goes below zero."""
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, StockReason
from marketplace.catalog.services import CatalogError
from marketplace.db import db


def test_manual_adjustment_is_recorded_with_reason(app, make_product, make_user):
    staff = make_user()
    product = make_product(stock=3)
    catalog.adjust_stock(product, delta=-1, reason=StockReason.MANUAL, note="Cassé", by=staff)
    catalog.adjust_stock(product, new_stock=10, reason=StockReason.MANUAL, note="Arrivage", by=staff)
    assert product.stock == 10
    history = catalog.stock_movements(product)
    assert [(m.reason, m.delta, m.stock_after, m.note) for m in history] == [
        (StockReason.MANUAL, 8, 10, "Arrivage"),
        (StockReason.MANUAL, -1, 2, "Cassé"),
        (StockReason.INITIAL, 3, 3, ""),
    ]


def test_stock_cannot_go_below_zero(app, make_product):
    product = make_product(stock=1)
    with pytest.raises(CatalogError):
        catalog.adjust_stock(product, delta=-2, reason=StockReason.SALE)
    assert product.stock == 1


def test_database_refuses_negative_stock(app, make_product):
    product = make_product(stock=1)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.update(Product).where(Product.id == product.id).values(stock=-1))
        db.session.flush()
    db.session.rollback()


def test_unlimited_stock_for_services(app, make_product):
    product = make_product(stock=None, title="Atelier réparation vélo", category_slug="services")
    with pytest.raises(CatalogError):
        catalog.adjust_stock(product, delta=-1, reason=StockReason.SALE)
    catalog.set_unlimited(product, False, by=None, stock=4)
    assert product.stock == 4
    assert catalog.stock_movements(product)[0].reason == StockReason.UNLIMITED


def test_works_council_cannot_list_products(app, make_organization):
    from marketplace.organizations.models import OrganizationKind

    cse = make_organization(kind=OrganizationKind.WORKS_COUNCIL)
    with pytest.raises(CatalogError):
        catalog.create_product(cse, title="x", description="", price_cents=100, vat_rate_bp=2000,
                               category=catalog.get_category("home"), stock=1,
                               is_perishable=False, by=None)
