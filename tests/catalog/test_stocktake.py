"""Stock-takes: counts saved as they are typed or scanned, differences written as movements with
the reason "stock-take" under the products' locks (what moved after a count is kept), nothing
lost when a stock-take is resumed after a restart, and a clear message for every bad scan."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
import zxingcpp
from flask import g
from PIL import Image, ImageOps

from marketplace.catalog import services as catalog
from marketplace.catalog import stocktake
from marketplace.catalog.models import StockMovement, StockReason, StockTakeStatus
from marketplace.catalog.stocktake import ScanError
from marketplace.catalog.views import product_url
from marketplace.db import db
from marketplace.organizations.models import Membership, Role
from marketplace.qr import qr_png
from tests.threads import at_once, second_waits_for_first

EAN = "4006381333931"


@pytest.fixture
def seller(make_organization, make_user):
    return make_organization(name="Ressourcerie La Trouvaille", owner=make_user(locale="en"))


def moves(product):
    return [(m.reason, m.delta, m.stock_after) for m in db.session.scalars(
        sa.select(StockMovement).where(StockMovement.product_id == product.id)
        .order_by(StockMovement.id))]


def test_a_stock_take_with_differences_writes_the_right_movements(app, seller, make_product):
    lamp = make_product(seller, title="Lampe", stock=5)
    chair = make_product(seller, title="Chaise", stock=3)
    bowl = make_product(seller, title="Bol", stock=6)
    untouched = make_product(seller, title="Nappe", stock=2)
    chair.ean = EAN
    db.session.flush()
    take = stocktake.start(seller, by=None)
    assert stocktake.start(seller, by=None).id == take.id  # one open stock-take per seller
    stocktake.record(take, lamp, counted=4, by=None)  # one missing
    for _ in range(3):  # three chairs scanned: as expected
        stocktake.record(take, stocktake.product_of_code(seller, EAN), add=1, by=None)
    stocktake.record(take, stocktake.product_of_code(seller, product_url(bowl, external=True)),
                     counted=7, by=None)  # one more than expected
    # A lamp is sold after it was counted: the sale stays, the missing one is still missing.
    catalog.adjust_stock(lamp, delta=-1, reason=StockReason.SALE)
    rows = {row.product.title: row for row in stocktake.rows(take)}
    assert (rows["Lampe"].difference, rows["Chaise"].difference, rows["Bol"].difference,
            rows["Nappe"].counted) == (-1, 0, 1, None)

    written = stocktake.confirm(take, by=None)

    assert len(written) == 2
    assert (lamp.stock, chair.stock, bowl.stock, untouched.stock) == (3, 3, 7, 2)
    assert moves(lamp)[-2:] == [(StockReason.SALE, -1, 4), (StockReason.STOCK_TAKE, -1, 3)]
    assert moves(bowl)[-1] == (StockReason.STOCK_TAKE, 1, 7)
    assert moves(chair)[-1][0] != StockReason.STOCK_TAKE  # no difference, no movement
    assert moves(untouched)[-1][0] != StockReason.STOCK_TAKE  # not counted is not zero
    assert take.status == StockTakeStatus.CONFIRMED
    with pytest.raises(catalog.CatalogError):
        stocktake.confirm(take, by=None)  # confirmed once, never twice


def test_a_difference_larger_than_what_is_left_stops_at_zero(app, seller, make_product):
    product = make_product(seller, stock=3)
    take = stocktake.start(seller, by=None)
    stocktake.record(take, product, counted=0, by=None)  # 3 missing
    catalog.adjust_stock(product, delta=-2, reason=StockReason.SALE)  # 2 sold meanwhile
    stocktake.confirm(take, by=None)
    assert product.stock == 0 and moves(product)[-1] == (StockReason.STOCK_TAKE, -1, 0)


@pytest.mark.parametrize("code, message", [
    ("", "Nothing was read"),
    ("https://example.org/some/page", "not a product label of the marketplace"),
    ("4006381333932", "check digit is wrong"),
    ("96385074", "No product of yours has the barcode 96385074"),
    ("NOPE-42", "No product of yours has the reference “NOPE-42”"),
    ("x" * 600, "too long"),
])
def test_bad_scans_say_what_is_wrong(app, seller, code, message):
    with pytest.raises(ScanError, match=message):
        stocktake.product_of_code(seller, code)


def test_another_sellers_label_and_an_unlimited_product_are_refused(app, seller, make_product,
                                                                   make_organization):
    theirs = make_product(make_organization(), title="Vélo")
    service = make_product(seller, title="Atelier", stock=None)
    with pytest.raises(ScanError, match="not one of your products"):
        stocktake.product_of_code(seller, product_url(theirs, external=True))
    with pytest.raises(ScanError, match="unlimited stock"):
        stocktake.product_of_code(seller, f"/products/{service.id}")


# --- pages -----------------------------------------------------------------------------------


@pytest.fixture
def manager(app, seller, make_user):
    user = make_user(locale="en")
    db.session.add(Membership(organization=seller, user=user, role=Role.MANAGER))
    db.session.commit()
    return user


def test_resumed_after_a_restart_nothing_is_lost(app, client, login, seller, manager,
                                                 make_product, make_app):
    lamp = make_product(seller, title="Lampe", stock=5)
    chair = make_product(seller, title="Chaise", stock=2)
    chair.reference = "CH-1"
    db.session.commit()
    login(manager)
    started = client.post(f"/orgs/{seller.id}/stock-takes")
    assert started.status_code == 302
    page_url = started.headers["Location"]
    take_id = int(page_url.rstrip("/").rsplit("/", 1)[1])
    # Typed on the first phone (the page's script sends it as JSON) and scanned by reference.
    typed = client.post(f"{page_url}/products/{lamp.id}", data={"counted": "4"},
                        headers={"Accept": "application/json"})
    assert typed.status_code == 200 and typed.json["ok"] and typed.json["difference"] == -1
    scanned = client.post(f"{page_url}/scan", data={"q": "ch-1"})
    assert scanned.status_code == 302

    # The server restarts; the stock-take goes on from another device.
    seller_id, manager_id, lamp_id, chair_id = seller.id, manager.id, lamp.id, chair.id
    db.session.remove()
    other = make_app()
    with other.app_context():
        other_client = other.test_client()
        from marketplace.accounts.models import User
        user = db.session.get(User, manager_id)
        g.pop("_login_user", None)
        from tests import factories
        key = factories.make_session_key(user)
        db.session.commit()
        with other_client.session_transaction() as session:
            session["_user_id"] = key
            session["_fresh"] = True
        listing = other_client.get(f"/orgs/{seller_id}/stock-takes")
        assert f"/stock-takes/{take_id}" in listing.text
        page = other_client.get(f"/orgs/{seller_id}/stock-takes/{take_id}")
        assert page.status_code == 200
        def counted(product_id):
            found = re.search(rf'id="counted-{product_id}"[^>]*value="(\d*)"', page.text)
            return found.group(1)

        assert (counted(lamp_id), counted(chair_id)) == ("4", "1")  # typed; scanned once
        other_client.post(f"/orgs/{seller_id}/stock-takes/{take_id}/scan", data={"q": "CH-1"})
        done = other_client.post(f"/orgs/{seller_id}/stock-takes/{take_id}/confirm")
        assert done.status_code == 302
        from marketplace.catalog.models import Product
        assert db.session.get(Product, lamp_id).stock == 4
        assert db.session.get(Product, chair_id).stock == 2


def test_a_bad_scan_on_the_page_is_a_clear_400_and_counts_nothing(app, client, login, seller,
                                                                  manager, make_product):
    make_product(seller, title="Lampe", stock=5)
    db.session.commit()
    login(manager)
    page_url = client.post(f"/orgs/{seller.id}/stock-takes").headers["Location"]
    refused = client.post(f"{page_url}/scan", data={"q": "4006381333932"})
    assert refused.status_code == 400
    assert "The barcode 4006381333932 was misread (its check digit is wrong): scan it again." in refused.text
    as_json = client.post(f"{page_url}/scan", data={"q": "NOPE"},
                          headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and "NOPE" in as_json.json["message"]
    bad_count = client.post(f"{page_url}/products/999999", data={"counted": "3"})
    assert bad_count.status_code == 404
    take = stocktake.open_stock_take(seller)
    assert take.lines == []


def test_a_scan_past_the_largest_count_is_refused_and_keeps_the_count(app, seller, make_product):
    product = make_product(seller, stock=3)
    take = stocktake.start(seller, by=None)
    stocktake.record(take, product, counted=stocktake.COUNT_MAX, by=None)
    with pytest.raises(catalog.CatalogError, match="whole number between 0 and"):
        stocktake.record(take, product, add=1, by=None)
    with pytest.raises(catalog.CatalogError):
        stocktake.record(take, product, counted=-1, by=None)
    db.session.expire_all()
    assert [line.counted for line in take.lines] == [stocktake.COUNT_MAX]


@pytest.mark.postgres
def test_scans_of_one_product_from_several_phones_at_once_are_all_counted(app, seller,
                                                                          make_product):
    """Two volunteers scanning the same shelf, or a handheld scanner faster than the answers:
    the scans arrive together, and each one counts (the count is added to in the database)."""
    product = make_product(seller, stock=3)
    product.ean = EAN
    take = stocktake.start(seller, by=None)
    db.session.commit()
    seller_id, take_id = seller.id, take.id

    def scan(_):
        from marketplace.catalog.models import StockTake
        from marketplace.organizations.models import Organization

        found = db.session.get(StockTake, take_id)
        code = stocktake.product_of_code(db.session.get(Organization, seller_id), EAN)
        return stocktake.record(found, code, add=1, by=None).counted

    counts, errors = at_once(app, scan, 12, commit=True)
    assert errors == []
    assert sorted(counts) == list(range(1, 13))  # every scan saw its own unit added
    db.session.expire_all()
    assert [line.counted for line in stocktake.rows(take) if line.counted] == [12]


@pytest.mark.postgres
def test_phones_starting_a_stock_take_at_once_share_one(app, seller):
    from marketplace.catalog.models import StockTake
    from marketplace.organizations.models import Organization

    db.session.commit()
    seller_id = seller.id
    ids, errors = at_once(app, lambda _: stocktake.start(
        db.session.get(Organization, seller_id), by=None).id, 4, commit=True)
    assert errors == []
    db.session.expire_all()
    open_ids = db.session.scalars(sa.select(StockTake.id).where(
        StockTake.organization_id == seller_id, StockTake.status == StockTakeStatus.OPEN)).all()
    assert len(open_ids) == 1 and ids == open_ids * 4


def confirm(take_id):
    """The confirmation of a stock-take, as a thread's work: the movements it wrote."""
    from marketplace.catalog.models import StockTake

    return lambda: len(stocktake.confirm(db.session.get(StockTake, take_id), by=None))


@pytest.mark.postgres
def test_a_scan_during_a_confirmation_waits_and_is_refused_not_lost(app, seller, make_product):
    """A scan saved while the confirmation runs would never reach the stock: it waits for the
    confirmation, then is told the stock-take is closed (409); a scan saved before is counted."""
    from marketplace.catalog.models import Product, StockTake

    product = make_product(seller, stock=3)
    take = stocktake.start(seller, by=None)
    stocktake.record(take, product, counted=1, by=None)
    db.session.commit()
    take_id, product_id = take.id, product.id

    def scan():
        return stocktake.record(db.session.get(StockTake, take_id),
                                db.session.get(Product, product_id), add=1, by=None).counted

    # A scan under way (not committed yet) when the confirmation starts: it is counted.
    early, confirmation = second_waits_for_first(app, scan, confirm(take_id))
    assert early.result == 2 and early.error is None and confirmation.error is None
    db.session.expire_all()
    assert db.session.get(Product, product_id).stock == 2  # the count of 2, with the early scan

    # A new stock-take, confirmed while a scan arrives: the scan waits, then is refused.
    take_id = stocktake.start(seller, by=None).id
    stocktake.record(db.session.get(StockTake, take_id), db.session.get(Product, product_id),
                     counted=5, by=None)
    db.session.commit()
    confirmation, late = second_waits_for_first(app, confirm(take_id), scan)
    assert confirmation.error is None
    assert isinstance(late.error, catalog.CatalogError) and late.error.status_code == 409
    assert "closed" in str(late.error.message)
    db.session.expire_all()
    assert db.session.get(Product, product_id).stock == 5
    assert [row.counted for row in stocktake.rows(db.session.get(StockTake, take_id))] == [5]


@pytest.mark.postgres
def test_a_cancel_during_a_confirmation_leaves_it_confirmed(app, seller, make_product):
    from marketplace.catalog.models import StockTake

    product = make_product(seller, stock=3)
    take = stocktake.start(seller, by=None)
    stocktake.record(take, product, counted=1, by=None)
    db.session.commit()
    take_id = take.id
    confirmation, cancellation = second_waits_for_first(
        app, confirm(take_id),
        lambda: stocktake.cancel(db.session.get(StockTake, take_id), by=None))
    assert confirmation.error is None and confirmation.result == 1
    assert isinstance(cancellation.error, catalog.CatalogError)
    assert cancellation.error.status_code == 409
    db.session.expire_all()
    assert db.session.get(StockTake, take_id).status == StockTakeStatus.CONFIRMED
    assert moves(product)[-1] == (StockReason.STOCK_TAKE, -2, 1)


def test_the_camera_frame_of_a_label_or_a_barcode_is_read_by_the_server(app, client, login, seller, manager,
                                                            make_product):
    lamp = make_product(seller, title="Lampe", stock=5)
    db.session.commit()
    login(manager)
    url = product_url(lamp, external=True)
    found = client.post(f"/orgs/{seller.id}/stock-takes/decode", data=qr_png(url),
                        content_type="image/png")
    assert found.status_code == 200 and found.json["text"] == url
    # An EAN-13 barcode, as a phone's camera sees it (drawn by zxing-cpp, with a white margin).
    drawn = zxingcpp.create_barcode(EAN, zxingcpp.BarcodeFormat.EAN13).to_image(scale=3)
    height, width = drawn.shape
    frame = io.BytesIO()
    ImageOps.expand(Image.frombuffer("L", (width, height), bytes(drawn)), 40, 255).save(frame, "PNG")
    found = client.post(f"/orgs/{seller.id}/stock-takes/decode", data=frame.getvalue(),
                        content_type="image/png")
    assert found.status_code == 200 and found.json["text"] == EAN
    refused = client.post(f"/orgs/{seller.id}/stock-takes/decode", data=b"not an image",
                          content_type="image/png")
    assert refused.status_code == 400
