"""The cart: kept for a visitor by a token in their session, for a user in their account, and
merged into the account at login. Lines that ran out or were archived are flagged, never dropped."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import cache

import sqlalchemy as sa
from flask import session
from sqlalchemy.orm import joinedload, lazyload, make_transient_to_detached

from marketplace.catalog.models import Product
from marketplace.db import db, insert_on_conflict, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.models import Cart, CartLine, Hold, expired_units
from marketplace.organizations.models import OrganizationStatus

SESSION_KEY = "cart_token"
MAX_QUANTITY = 99

class CartError(DomainError):
    pass


def new_cart(user_id: int | None = None, *, flush: bool = True) -> Cart:
    """A new cart, written now, or with `flush=False` when its first line is (`add`)."""
    # An empty list of lines: a new cart's lines are not looked for in the database.
    cart = Cart(token=secrets.token_urlsafe(32), user_id=user_id, lines=[], cards=[])
    db.session.add(cart)
    if flush:
        _written(cart)
    return cart


def _written(cart: Cart) -> int:
    """The cart's id, the cart written first if it is new. A user has one cart: when another
    request (a double-click) has just written the user's cart, this one is that cart, read
    again from the database, instead of a unique violation."""
    if cart.id is not None:
        return cart.id
    if cart.user_id is None:  # a visitor's new cart has a token of its own: no one else's
        db.session.flush()
        return cart.id
    db.session.expunge(cart)
    table = Cart.__table__
    cart.id = db.session.execute(
        insert_on_conflict(table).values(token=cart.token, user_id=cart.user_id)
        .on_conflict_do_nothing(index_elements=[table.c.user_id]).returning(table.c.id)
    ).scalar_one_or_none()
    if cart.id is None:
        cart.id = db.session.scalar(sa.select(Cart.id).where(Cart.user_id == cart.user_id))
    make_transient_to_detached(cart)
    db.session.add(cart)
    db.session.expire(cart)  # its token and lines are the database's
    return cart.id


@cache
def _cart_statement(by_user: bool) -> sa.Select:
    """Built once (every cart page and checkout runs it; building it each time cost about as
    much as running it: bench/RESULTS.md, "Write paths")."""
    column = Cart.user_id if by_user else Cart.token
    return (
        sa.select(Cart)
        .where(column == sa.bindparam("cart_key", type_=column.type))
        .options(joinedload(Cart.cards),  # gift cards to buy (giftcards.models.CartCard)
                 joinedload(Cart.lines).joinedload(CartLine.product).options(
            lazyload(Product.photos), lazyload(Product.category)))
    )


def _find_cart(*, user_id: int | None = None, token: str | None = None) -> Cart | None:
    """The cart of this user or this token, with its lines and their products in one query.
    The cart pages show neither photo nor category: those are only read if something asks for
    them."""
    by_user = user_id is not None
    return db.session.execute(
        _cart_statement(by_user), {"cart_key": user_id if by_user else token}
    ).unique().scalar_one_or_none()


def current_cart(user, *, create: bool = False, flush: bool = True) -> Cart | None:
    """The logged-in user's cart, or the visitor's (token in the signed session cookie).
    `create`: a new one if there is none, written now or, `flush=False`, at the next flush."""
    if user is not None and user.is_authenticated:
        cart = _find_cart(user_id=user.id)
        if cart is None and create:
            cart = new_cart(user.id, flush=flush)
        return cart
    token = session.get(SESSION_KEY)
    cart = _find_cart(token=token) if token else None
    if cart is None and create:
        cart = new_cart(flush=flush)
        session[SESSION_KEY] = cart.token
    return cart


def merge_visitor_cart(user) -> None:
    """At login: the visitor's lines join the user's cart (quantities added, capped)."""
    token = session.pop(SESSION_KEY, None)
    if not token:
        return
    visitor = db.session.scalar(sa.select(Cart).where(Cart.token == token, Cart.user_id.is_(None)))
    if visitor is None:
        return
    if not visitor.lines and not visitor.cards:
        return
    mine = current_cart(user, create=True)
    for card in list(visitor.cards):  # the gift cards to buy move into the account's cart
        mine.cards.append(card)
    existing = {line.product_id: line for line in mine.lines}
    for line in visitor.lines:
        if line.product_id in existing:
            existing[line.product_id].quantity = min(
                existing[line.product_id].quantity + line.quantity, MAX_QUANTITY
            )
        else:
            mine.lines.append(CartLine(product_id=line.product_id, quantity=line.quantity))
    db.session.delete(visitor)
    db.session.flush()


def add(cart: Cart, product: Product, quantity: int = 1) -> int:
    """Put `quantity` more units of the product in the cart, as many as are left and
    MAX_QUANTITY at most; returns the units of it the cart now holds.

    The line is written by one INSERT ... ON CONFLICT DO UPDATE that adds to what the database
    holds, and a user's first cart by an INSERT ... ON CONFLICT DO NOTHING: two requests at once
    (a double-click on "Add to cart") both add, and neither fails on a unique constraint."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(_l("Choose a quantity between 1 and %(max)d.", max=MAX_QUANTITY))
    # What is read first is the product's and its holds' business, not this cart's: read before
    # a new cart is written (with its first line, below).
    with db.session.no_autoflush:
        if not product.is_active or product.organization.status != OrganizationStatus.APPROVED:
            raise CartError(_l("This product is no longer for sale."))
        available = available_quantities([product.id]).get(product.id)
    cap = MAX_QUANTITY if available is None else min(available, MAX_QUANTITY)
    if cap <= 0:
        line = next((line for line in cart.lines if line.product_id == product.id), None)
        if line is not None:
            cart.lines.remove(line)
            db.session.flush()
        raise CartError(_l("Sorry, this product is out of stock."))
    held = db.session.execute(
        _add_line_statement(db.session.get_bind().dialect.name),
        {"cart_id": _written(cart), "product_id": product.id, "quantity": min(quantity, cap),
         "cap": cap},
    ).scalar_one()
    db.session.expire(cart, ["lines"])
    return held


@cache
def _add_line_statement(dialect: str) -> sa.Insert:
    """The cart line written, or added to up to `cap` units: built once (add to cart is the
    busiest form; building it each time cost about a sixth of its CPU: bench/RESULTS.md)."""
    table = CartLine.__table__
    insert = insert_on_conflict(table, dialect).values(
        cart_id=sa.bindparam("cart_id"), product_id=sa.bindparam("product_id"),
        quantity=sa.bindparam("quantity"))
    total = table.c.quantity + insert.excluded.quantity
    cap = sa.bindparam("cap", type_=sa.Integer())
    return insert.on_conflict_do_update(
        index_elements=[table.c.cart_id, table.c.product_id],
        set_={"quantity": sa.case((total > cap, cap), else_=total)},
    ).returning(table.c.quantity)


def set_quantity(cart: Cart, product_id: int, quantity: int) -> None:
    line = next((line for line in cart.lines if line.product_id == product_id), None)
    if line is None:
        raise CartError(_l("This product is not in your cart."))
    if quantity <= 0:
        cart.lines.remove(line)
    elif quantity > MAX_QUANTITY:
        raise CartError(_l("Choose a quantity between 1 and %(max)d.", max=MAX_QUANTITY))
    else:
        line.quantity = quantity
    db.session.flush()


def empty(cart: Cart) -> None:
    cart.lines.clear()
    db.session.flush()


def available_quantities(product_ids, *, now=None) -> dict[int, int | None]:
    """Units that can still be sold: stock minus the holds that have not expired (None = unlimited)."""
    now = now or utcnow()
    ids = list(set(product_ids))
    if not ids:
        return {}
    found = {
        pid: (stock, held_units)
        for pid, stock, held_units in db.session.execute(
            _available_statement(), {"available_now": now, "available_ids": ids})
    }
    available = {}
    for pid in ids:
        stock, held_units = found.get(pid, (0, 0))  # a product that is gone: nothing left
        available[pid] = None if stock is None else stock - int(held_units or 0)
    return available


@cache
def _available_statement() -> sa.Select:
    """available_quantities()'s query, built once."""
    now = sa.bindparam("available_now", type_=Hold.expires_at.type)
    return (sa.select(Product.id, Product.stock, Product.held_units - expired_units(now))
            .where(Product.id.in_(sa.bindparam("available_ids", expanding=True))))


@dataclass
class CartLineView:
    line: CartLine
    problem: str | None = None  # why this line cannot be ordered as it is

    @property
    def product(self) -> Product:
        return self.line.product

    @property
    def total_cents(self) -> int:
        return self.line.product.price_cents * self.line.quantity


@dataclass
class SellerGroup:
    organization: object
    lines: list[CartLineView] = field(default_factory=list)

    @property
    def subtotal_cents(self) -> int:
        return sum(view.total_cents for view in self.lines if view.problem is None)


@dataclass
class CartView:
    groups: list[SellerGroup]
    cards: list = field(default_factory=list)  # gift cards to buy (giftcards.models.CartCard)

    @property
    def goods_cents(self) -> int:
        return sum(group.subtotal_cents for group in self.groups)

    @property
    def cards_cents(self) -> int:
        return sum(card.amount_cents for card in self.cards)

    @property
    def total_cents(self) -> int:
        return self.goods_cents + self.cards_cents

    @property
    def has_problems(self) -> bool:
        return any(view.problem for group in self.groups for view in group.lines)

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.cards


def _cards(cart: Cart | None) -> list:
    """The gift cards waiting in the cart to be bought (`Cart.cards`, the rows of
    giftcards.models.CartCard, whose relationship adds it)."""
    if cart is None or cart.id is None:
        return []
    return list(cart.cards)


def view(cart: Cart | None) -> CartView:
    """Lines grouped by seller, each flagged when it cannot be ordered (archived, out of stock,
    fewer units left than wanted)."""
    cards = _cards(cart)
    if cart is None or not cart.lines:
        return CartView(groups=[], cards=cards)
    available = available_quantities([line.product_id for line in cart.lines])
    groups: dict[int, SellerGroup] = {}
    ordered: list[SellerGroup] = []
    for line in cart.lines:
        product = line.product
        problem = None
        left = available.get(product.id)
        if not product.is_active or product.organization.status != OrganizationStatus.APPROVED:
            problem = _l("This product is no longer for sale: remove it to continue.")
        elif left is not None and left <= 0:
            problem = _l("Out of stock: remove it to continue.")
        elif left is not None and line.quantity > left:
            problem = _l("Only %(left)d left: lower the quantity to continue.", left=left)
        group = groups.get(product.organization_id)
        if group is None:
            group = groups[product.organization_id] = SellerGroup(product.organization)
            ordered.append(group)
        group.lines.append(CartLineView(line, problem))
    return CartView(groups=ordered, cards=cards)


def units_in_cart(*, user_id: int | None = None, token: str | None = None) -> int:
    """Units in the cart of this account, or of this visitor's cart token."""
    if user_id is not None:
        condition = Cart.user_id == user_id
    elif token:
        condition = Cart.token == token
    else:
        return 0
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CartLine.quantity), 0))
        .join(Cart, Cart.id == CartLine.cart_id)
        .where(condition)
    )
