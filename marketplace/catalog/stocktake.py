"""Stock-takes: a seller counts its shelves, then confirms the differences.

Each count is saved as it is typed or scanned (one row per product, StockTakeLine), so a
stock-take interrupted on one phone goes on from another device, or after a restart, where it
stopped. A seller has one open stock-take at a time.

The rule for what moves while the count goes on: each line keeps the product's stock at the
moment the line was last saved (`stock_when_counted`). The difference found is
`counted - stock_when_counted`; at confirmation it is added to the stock as it is then, read
under the products' row locks (in id order). So a sale, a cancellation or a manual change made
after a product was counted stays counted once: it is not undone by the stock-take, and it is
not counted twice. The stock never goes below zero (a difference larger than what is left sets
it to zero). Products not counted are left as they are: not counting a shelf is not counting
zero. A product switched to unlimited stock since its count is left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from stdnum import ean as stdnum_ean

from marketplace import audit, caching
from marketplace.catalog.models import (
    Product,
    ProductStatus,
    StockMovement,
    StockReason,
    StockTake,
    StockTakeLine,
    StockTakeStatus,
)
from marketplace.catalog.services import CatalogError
from marketplace.db import db, insert_on_conflict, lock_rows, utcnow
from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations.models import Organization

COUNT_MAX = 1_000_000
SCAN_MAX = 500  # characters of a scanned or typed code
_PRODUCT_PATH = re.compile(r"/products/(\d{1,12})(?:-[^/]*)?/?")


class ScanError(CatalogError):
    """A code that names none of the seller's counted products (400, with the reason)."""


@dataclass
class Row:
    """One product of the stock-take screen."""

    product: Product
    line: StockTakeLine | None

    @property
    def expected(self) -> int:
        return self.product.stock or 0

    @property
    def counted(self) -> int | None:
        return self.line.counted if self.line else None

    @property
    def difference(self) -> int | None:
        return None if self.line is None else self.line.counted - self.line.stock_when_counted


def open_stock_take(organization) -> StockTake | None:
    return db.session.scalar(sa.select(StockTake).where(
        StockTake.organization_id == organization.id, StockTake.status == StockTakeStatus.OPEN))


def stock_takes_of(organization, limit: int = 20) -> list[StockTake]:
    return db.session.scalars(sa.select(StockTake).where(
        StockTake.organization_id == organization.id).order_by(StockTake.id.desc()).limit(limit)).all()


def start(organization, *, by) -> StockTake:
    """The seller's open stock-take, or a new one. Under the seller's row lock: two phones
    starting at once get the same stock-take, never two open ones."""
    if not organization.is_seller:
        raise CatalogError(_l("Only sellers can list products."), status_code=403)
    lock_rows(Organization, [organization.id])
    found = open_stock_take(organization)
    if found is not None:
        return found
    stock_take = StockTake(organization_id=organization.id, started_by_id=getattr(by, "id", None))
    db.session.add(stock_take)
    db.session.flush()
    audit.record("stock.take_started", organization, by=by, organization=organization)
    return stock_take


def get(organization, stock_take_id: int) -> StockTake | None:
    stock_take = db.session.get(StockTake, stock_take_id)
    if stock_take is None or stock_take.organization_id != organization.id:
        return None
    return stock_take


def rows(stock_take: StockTake) -> list[Row]:
    """The seller's products with a counted stock (on sale, or counted in this stock-take), by
    title, each with its line if it was counted."""
    lines = {line.product_id: line for line in stock_take.lines}
    products = db.session.scalars(
        sa.select(Product).where(
            Product.organization_id == stock_take.organization_id,
            sa.or_(sa.and_(Product.status == ProductStatus.ACTIVE, Product.stock.is_not(None)),
                   Product.id.in_(list(lines) or [0])))
        .order_by(Product.title, Product.id)
    ).all()
    return [Row(product, lines.get(product.id)) for product in products]


def _must_be_open(stock_take: StockTake) -> None:
    if stock_take.status != StockTakeStatus.OPEN:
        raise CatalogError(_l("This stock-take is closed: start a new one."), status_code=409)


def _lock_open(stock_take: StockTake, *, share: bool = False) -> StockTake:
    """Lock the stock-take's row and check, as it is now, that it is still open.

    A count saved or forgotten takes a shared lock (FOR SHARE): scans do not wait for each
    other, but a confirmation or a cancellation (FOR UPDATE) waits until the counts under way
    are committed, and reads them; a count arriving while one of them runs waits for it, then
    finds the stock-take closed (409) instead of being saved where no one will read it."""
    (stock_take,) = lock_rows(StockTake, [stock_take.id], share=share)
    _must_be_open(stock_take)
    return stock_take


def product_of_code(organization, text: str) -> Product:
    """The seller's product a scanned or typed code names: the product page's address (the
    label's QR code), its EAN barcode, or the seller's reference. ScanError says why not."""
    code = (text or "").strip()
    if not code:
        raise ScanError(_l("Nothing was read: scan the label again, or type the code."))
    if len(code) > SCAN_MAX:
        raise ScanError(_l("This code is too long to be a product's label."))
    product = None
    if "/" in code:
        match = _PRODUCT_PATH.search(urlsplit(code).path if "://" in code else code)
        if match is None:
            raise ScanError(_l("This QR code is not a product label of the marketplace."))
        product = db.session.get(Product, int(match.group(1)))
        if product is None or product.organization_id != organization.id:
            raise ScanError(_l("This label is not one of your products."))
    else:
        compact = code.replace(" ", "")
        if compact.isdigit() and len(compact) in (8, 12, 13):
            if len(compact) == 12:
                compact = "0" + compact  # a UPC-A read by a scanner is an EAN-13 with a 0
            if not stdnum_ean.is_valid(compact):
                raise ScanError(_l("The barcode %(code)s was misread (its check digit is wrong): "
                                   "scan it again.", code=code))
            product = db.session.scalar(sa.select(Product).where(
                Product.organization_id == organization.id, Product.ean == compact)
                .order_by(Product.id).limit(1))
            if product is None:
                product = _by_reference(organization, code)
            if product is None:
                raise ScanError(_l("No product of yours has the barcode %(code)s: add it to the "
                                   "product (EAN column of the import).", code=compact))
        else:
            product = _by_reference(organization, code)
            if product is None:
                raise ScanError(_l("No product of yours has the reference “%(code)s”.", code=code))
    if product.stock is None:
        raise ScanError(_l("“%(title)s” has unlimited stock: it is not counted.",
                           title=product.title))
    return product


def _by_reference(organization, code: str) -> Product | None:
    return db.session.scalar(sa.select(Product).where(
        Product.organization_id == organization.id,
        sa.func.lower(Product.reference) == code.lower()))


def record(stock_take: StockTake, product: Product, *, by, counted: int | None = None,
           add: int = 0) -> StockTakeLine:
    """Save a count at once: `counted` as typed, or `add` units to what was counted (a scan).
    The product's stock now is kept with it (see the module's rule).

    One statement writes the line, whether it is new or not (INSERT ... ON CONFLICT DO UPDATE),
    and a scan adds to the count in the database: two phones scanning the same shelf, or a
    handheld scanner faster than the answers, never lose a unit, and two first counts of a
    product at once never collide. The stock-take is locked FOR SHARE (_lock_open)."""
    stock_take = _lock_open(stock_take, share=True)
    if product.organization_id != stock_take.organization_id:
        raise ScanError(_l("This label is not one of your products."))
    if product.stock is None:
        raise ScanError(_l("“%(title)s” has unlimited stock: it is not counted.",
                           title=product.title))
    typed = counted is not None
    value = counted if typed else add
    if not 0 <= value <= COUNT_MAX:
        raise _count_out_of_range()
    table = StockTakeLine.__table__
    insert = insert_on_conflict(StockTakeLine).values(
        stock_take_id=stock_take.id, product_id=product.id, counted=value,
        stock_when_counted=product.stock, counted_by_id=getattr(by, "id", None),
        counted_at=utcnow())
    new_count = insert.excluded.counted if typed else table.c.counted + insert.excluded.counted
    line = db.session.scalars(insert.on_conflict_do_update(
        index_elements=[table.c.stock_take_id, table.c.product_id],
        set_={"counted": new_count,
              "stock_when_counted": insert.excluded.stock_when_counted,
              "counted_by_id": insert.excluded.counted_by_id,
              "counted_at": insert.excluded.counted_at},
        where=new_count <= COUNT_MAX,
    ).returning(StockTakeLine), execution_options={"populate_existing": True}).one_or_none()
    if line is None:  # the scan would take the count past the largest one
        raise _count_out_of_range()
    db.session.expire(stock_take, ["lines"])
    return line


def _count_out_of_range() -> CatalogError:
    return CatalogError(_l("A count is a whole number between 0 and %(max)s.", max=COUNT_MAX))


def forget(stock_take: StockTake, product_id: int) -> None:
    """The product is no longer counted in this stock-take."""
    stock_take = _lock_open(stock_take, share=True)
    db.session.execute(sa.delete(StockTakeLine).where(
        StockTakeLine.stock_take_id == stock_take.id, StockTakeLine.product_id == product_id))
    db.session.expire(stock_take, ["lines"])


def confirm(stock_take: StockTake, *, by) -> list[StockMovement]:
    """Write the differences as movements with the reason "stock-take", under the products'
    row locks, and close the stock-take."""
    _must_be_open(stock_take)
    stock_take = _lock_open(stock_take)  # one confirmation, not two; the counts under way are in
    lines = db.session.scalars(sa.select(StockTakeLine).where(
        StockTakeLine.stock_take_id == stock_take.id).order_by(StockTakeLine.product_id)).all()
    products = {p.id: p for p in lock_rows(Product, [line.product_id for line in lines])}
    movements = []
    for line in lines:
        product = products[line.product_id]
        difference = line.counted - line.stock_when_counted
        if product.stock is None or difference == 0:
            continue
        after = max(0, product.stock + difference)
        movement = StockMovement(
            product_id=product.id, delta=after - product.stock, stock_after=after,
            reason=StockReason.STOCK_TAKE, by_id=getattr(by, "id", None),
            reference=f"ST-{stock_take.id}",
            note=f"{line.counted} / {line.stock_when_counted}",
        )
        product.stock = after
        db.session.add(movement)
        db.session.flush()
        line.movement_id = movement.id
        movements.append(movement)
    stock_take.status = StockTakeStatus.CONFIRMED
    stock_take.closed_at = utcnow()
    stock_take.closed_by_id = getattr(by, "id", None)
    db.session.flush()
    if movements:
        caching.catalog_changed()
    organization = _organization(stock_take)
    audit.record("stock.take_confirmed", organization, by=by, organization=organization,
                 data={"lines": len(lines), "movements": len(movements)})
    return movements


def cancel(stock_take: StockTake, *, by) -> None:
    """Close the stock-take without changing any stock. Under the stock-take's lock: a
    confirmation under way is not turned into a cancellation after its movements."""
    _must_be_open(stock_take)
    stock_take = _lock_open(stock_take)
    stock_take.status = StockTakeStatus.CANCELLED
    stock_take.closed_at = utcnow()
    stock_take.closed_by_id = getattr(by, "id", None)
    db.session.flush()
    organization = _organization(stock_take)
    audit.record("stock.take_cancelled", organization, by=by, organization=organization)


def _organization(stock_take: StockTake):
    return db.session.get(Organization, stock_take.organization_id)
