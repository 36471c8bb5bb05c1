"""Checkout and the life of an order: holds, payment, expiry, cancellation.

Scarce rows (products, then pickup slots, each in id order) are locked, availability is
checked inside the lock, then written; CHECK constraints are the last guard. Each product and
slot counts what its holds in state "held" keep (held_units, held_places), changed under the
row's lock with every hold that is taken or given back. Holds stop counting at their expiry
time: the expired ones not yet released are subtracted from the counters wherever
availability is read. `expire_stale_orders` releases them for good.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from marketplace import audit, money, uow
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, StockReason
from marketplace.db import db, lock_rows, lock_waits, update_in_id_order, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders import payment_methods
from marketplace.orders.cart import CartView, available_quantities
from marketplace.orders.models import (
    Hold,
    HoldState,
    Order,
    OrderLine,
    OrderPart,
    OrderStatus,
    expired_places,
)
from marketplace.orders.signals import (
    confirmation_due,
    order_paid,
    order_placed,
    order_sold,
    payment_refused,
)
from marketplace.orders.status import transition
from marketplace.organizations.models import Organization
from marketplace.pickup import services as pickup
from marketplace.pickup.models import PickupLocation, PickupSlot


class CheckoutError(DomainError):
    status_code = 409


@dataclass
class Buyer:
    email: str
    name: str
    phone: str = ""
    user_id: int | None = None
    locale: str = "fr"


def commission_rate_bp(organization: Organization) -> int:
    """The platform's commission on what this seller sells, in basis points: its own rate, or
    the platform's (PLATFORM_COMMISSION_BP). Fixed on each order part when it is paid."""
    rate = organization.commission_rate_bp
    return current_app.config["PLATFORM_COMMISSION_BP"] if rate is None else rate


def slot_places_held(slot_ids, *, now=None) -> dict[int, int]:
    """Places of each slot kept by running holds (the counter less the expired holds)."""
    now = now or utcnow()
    ids = list(set(slot_ids))
    if not ids:
        return {}
    return {
        slot_id: int(count)
        for slot_id, count in db.session.execute(
            sa.select(PickupSlot.id, PickupSlot.held_places - expired_places(now))
            .where(PickupSlot.id.in_(ids))
        ).all()
    }


def _give_back(holds) -> None:
    """Holds in state "held" are released: their counters go down, products then slots, each
    in id order (the order every lock is taken in)."""
    units: dict[int, int] = {}
    places: dict[int, int] = {}
    for hold in holds:
        if hold.state != HoldState.HELD:
            continue
        hold.state = HoldState.RELEASED
        if hold.product_id is not None:
            units[hold.product_id] = units.get(hold.product_id, 0) + hold.quantity
        else:
            places[hold.slot_id] = places.get(hold.slot_id, 0) + hold.quantity
    given_back = update_in_id_order(Product, {
        product_id: {"held_units": Product.held_units - count,
                     "updated_at": Product.updated_at}  # a hold is not an edit of the product
        for product_id, count in units.items()
    })
    for product_id, product in given_back.items():  # a one-off item back in the catalogue
        if product.stock is not None:
            catalog.availability_changed(
                product, before=product.stock - product.held_units - units[product_id])
    update_in_id_order(PickupSlot, {
        slot_id: {"held_places": PickupSlot.held_places - count} for slot_id, count in places.items()
    })


def _next_order_id() -> int | None:
    """On PostgreSQL, the id the new order will have, so that its reference is written by the
    INSERT itself (not by an UPDATE after it). None elsewhere: the id is known after the INSERT."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    return db.session.scalar(sa.text("""SELECT nextval(pg_get_serial_sequence('"order"', 'id'))"""))


def order_reference(order_id: int, *, year: int) -> str:
    return f"ESS-{year}-{order_id:06d}"


def slot_places_taken(slot: PickupSlot, *, now=None) -> int:
    """Booked orders plus unexpired holds: what a shopper's choice is compared to."""
    return slot.booked + slot_places_held([slot.id], now=now).get(slot.id, 0)


def checkout(cart_view: CartView, *, in_savepoint: bool = True, **kwargs) -> Order:
    """Create the order (one part per seller) and hold its stock and slot places.

    `slot_ids` maps each seller's organization id to the chosen PickupSlot id. `gift_cards`
    (what the "gift_cards" prepaid means found, see orders.payment_methods) pay for the goods
    first, debited here after the stock and slot locks; the gateway charges the rest.

    In a SAVEPOINT: on a CheckoutError (or any error) the order, the counters and the cards'
    debits written before the error was known are rolled back, and what the session holds is
    read again (the counters it read under the SAVEPOINT no longer stand), so that the page
    that says why shows the shelf as it is.

    `in_savepoint=False` is for a caller that abandons its whole unit on any error
    (`uow.abandon`, the checkout page): no SAVEPOINT, whose two statements and bookkeeping
    cost about 5 % of a checkout's CPU (bench/RESULTS.md); what was written before the error
    stays in the transaction until the caller rolls it back.
    """
    if not in_savepoint:
        return _checkout(cart_view, **kwargs)
    try:
        with uow.savepoint():
            return _checkout(cart_view, **kwargs)
    except BaseException:
        db.session.expire_all()
        raise


def _checkout(
    cart_view: CartView,
    *,
    buyer: Buyer,
    slot_ids: dict[int, int],
    accepted_terms: bool,
    gift_cards: list | None = None,
) -> Order:
    if cart_view.is_empty:
        raise CheckoutError(_l("Your cart is empty."))
    if cart_view.has_problems:
        raise CheckoutError(_l("Some lines of your cart need your attention first."))
    if not accepted_terms:
        raise CheckoutError(_l("Please accept the terms of sale to order."))
    now = utcnow()
    hold_until = now + timedelta(minutes=current_app.config["HOLD_MINUTES"])

    wanted: dict[int, int] = {}
    for group in cart_view.groups:
        for view in group.lines:
            wanted[view.product.id] = wanted.get(view.product.id, 0) + view.line.quantity
    chosen: dict[int, int] = {}
    for group in cart_view.groups:
        slot_id = slot_ids.get(group.organization.id)
        if not slot_id:
            raise CheckoutError(
                _l("Choose a pickup slot for %(seller)s.", seller=group.organization.name)
            )
        chosen[group.organization.id] = slot_id

    if len(set(chosen.values())) < len(chosen):
        raise CheckoutError(_l("This pickup slot does not exist."))  # one slot, one seller

    # Everything that contends with nobody is written first: the order, its parts, lines and
    # holds, the audit entry. The hot rows (the product everyone wants, the slot) are locked
    # last, so each is held for two short UPDATEs and the commit, not for the whole checkout.
    try:
        order = _write_order(cart_view, buyer=buyer, chosen=chosen, hold_until=hold_until,
                             now=now)
    except IntegrityError as exc:  # a slot id that is no slot at all
        raise CheckoutError(_l("This pickup slot does not exist.")) from exc
    order_placed.send(order, cart=cart_view)  # the gift cards bought with the goods
    if order.reference is None:
        order.reference = order_reference(order.id, year=now.year)
        db.session.flush()
    # The shopper's account is the actor (a guest's order has none).
    audit.insert_values(audit.values(
        "order.placed", subject_type="Order", subject_id=order.id,
        by=order.user if buyer.user_id else None, organization_id=None,
        data={"reference": order.reference, "total_cents": order.total_cents},
    ))

    # Take the units, then the places: one UPDATE per row, products by id then slots by id.
    # Each UPDATE locks its row and returns it as whoever held the lock before committed it,
    # counter included. A slot must belong to the seller it was chosen for. On a
    # CheckoutError the SAVEPOINT (or the unit its caller abandons) rolls back: the order and the
    # counters with it.
    products, slots = {}, {}
    for product_id in sorted(wanted):
        with lock_waits():
            product = db.session.scalars(_TAKE_UNITS, {
                "product_id": product_id, "units": wanted[product_id]}).one_or_none()
        if product is not None:
            products[product_id] = product
    for seller_id, slot_id in sorted(chosen.items(), key=lambda item: item[1]):
        with lock_waits():
            slot = db.session.scalars(_TAKE_PLACE, {
                "slot_id": slot_id, "seller_id": seller_id}).one_or_none()
        if slot is not None:
            slots[slot_id] = slot

    # The counters include holds that have expired but are not released yet: only when the
    # counters say no is availability read without them (in statements of their own, which
    # under READ COMMITTED see what the previous lock holders committed).
    for product_id, quantity in wanted.items():
        product = products.get(product_id)
        if product is None or not product.is_active:
            raise CheckoutError(_l("A product of your cart is no longer for sale."))
        if product.stock is None:
            continue
        left = product.stock - (product.held_units - quantity)  # before this checkout
        catalog.availability_changed(product, before=left)  # a one-off item leaves the catalogue
        if quantity > left:  # this checkout's own hold is running: it is counted in both
            left = available_quantities([product_id], now=now)[product_id] + quantity
        if quantity > left:
            raise CheckoutError(
                _l("Only %(left)d left of “%(title)s”: your cart was not ordered.",
                   left=left, title=product.title) if left > 0 else
                _l("“%(title)s” is sold out: your cart was not ordered.", title=product.title)
            )
    for slot_id in chosen.values():
        slot = slots.get(slot_id)
        if slot is None:
            raise CheckoutError(_l("This pickup slot does not exist."))
        taken = slot.booked + slot.held_places - 1  # before this checkout
        state = pickup.slot_state(slot, now=now, taken=taken)
        if state == pickup.SlotState.FULL:
            taken = slot.booked + slot_places_held([slot_id], now=now)[slot_id] - 1
            state = pickup.slot_state(slot, now=now, taken=taken)
        if state != pickup.SlotState.OPEN:
            raise CheckoutError(
                _l("The pickup slot you chose is no longer available: please choose another.")
            )
    if gift_cards:  # after the product and slot locks, the order every path takes them in
        payment_methods.prepaid(payment_methods.GIFT_CARDS).pay(
            order, gift_cards, cart_view.goods_cents)
    return order


# The checkout's UPDATEs of the hot rows, as update_in_id_order writes them but built once (their
# values are named parameters, none named after a column of the table written): a product's
# units taken; a slot's place taken if the slot is the seller's. Each locks its row and
# returns it as the previous lock holder committed it, its relationships left unread.
_ROW_ONLY = {"populate_existing": True, "synchronize_session": False}
_TAKE_UNITS = (
    sa.update(Product).where(Product.id == sa.bindparam("product_id"))
    .values(held_units=Product.held_units + sa.bindparam("units"),
            updated_at=Product.updated_at)  # a hold is not an edit of the product
    .returning(Product).options(lazyload("*")).execution_options(**_ROW_ONLY)
)
_TAKE_PLACE = (
    sa.update(PickupSlot)
    .where(PickupSlot.id == sa.bindparam("slot_id"),
           PickupSlot.location_id.in_(sa.select(PickupLocation.id).where(
               PickupLocation.organization_id == sa.bindparam("seller_id"))))
    .values(held_places=PickupSlot.held_places + 1)
    .returning(PickupSlot).options(lazyload("*")).execution_options(**_ROW_ONLY)
)


def _inserted(model, rows: list[dict]) -> list:
    """`rows` written by one INSERT (the ORM's bulk INSERT, its statement cached), RETURNING
    them as objects of the session with every column, in the order given, and their
    relationships left to be read if asked for: no unit-of-work flush for rows written once.
    A None is written as NULL (the rows then make one statement even when they leave
    different columns empty). None to write, no statement (a cart of gift cards alone has
    no parts, lines or holds)."""
    if not rows:
        return []
    return db.session.scalars(
        sa.insert(model).returning(model, sort_by_parameter_order=True)
        .options(lazyload("*")).execution_options(render_nulls=True), rows,
    ).all()


def _write_order(cart_view: CartView, *, buyer: Buyer, chosen: dict[int, int], hold_until,
                 now) -> Order:
    """The order of `cart_view`, its parts (one per seller, with the slot `chosen` for it),
    lines and holds (each product's units, each part's slot place), written by one INSERT
    per table rather than by the unit of work's flush, and returned with its parts and their
    lines as written (nothing read back). On PostgreSQL, all four tables are written by one
    statement (_write_order_chained)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _write_order_chained(cart_view, buyer=buyer, chosen=chosen,
                                    hold_until=hold_until, now=now)
    (order,) = _inserted(Order, [_order_values(buyer, total_cents=cart_view.total_cents,
                                               hold_until=hold_until, now=now)])
    parts = _inserted(OrderPart, [{"order_id": order.id, **_part_columns(group, chosen)}
                                  for group in cart_view.groups])
    lines = _inserted(OrderLine, [
        {"part_id": part.id, **_line_columns(view)}
        for part, group in zip(parts, cart_view.groups, strict=True) for view in group.lines
    ])
    # Written without objects: order.holds is read from the database if asked for (a payment
    # by gift cards alone, in this request).
    holds = [{"order_id": order.id, "product_id": product_id, "slot_id": slot_id,
              "quantity": quantity, "expires_at": hold_until, "state": HoldState.HELD}
             for product_id, slot_id, quantity in _holds_of(cart_view, chosen)]
    if holds:
        db.session.execute(_INSERT_HOLDS, holds)
    by_part = {part.id: [] for part in parts}
    for line in lines:
        by_part[line.part_id].append(line)
    return _linked(order, parts, by_part)


def _part_columns(group, chosen: dict[int, int]) -> dict:
    """A new order part's columns: its seller, the slot chosen for it, its subtotal."""
    seller = group.organization.id
    return {"organization_id": seller, "slot_id": chosen[seller],
            "subtotal_cents": group.subtotal_cents}


def _line_columns(view) -> dict:
    """A new order line's columns: the product as it is sold now (title, price, VAT rate,
    perishable or not, kept as they were whatever the seller changes later) and the quantity."""
    product = view.product
    return {"product_id": product.id, "title": product.title,
            "unit_price_cents": product.price_cents, "vat_rate_bp": product.vat_rate_bp,
            "is_perishable": product.is_perishable, "quantity": view.line.quantity}


def _holds_of(cart_view: CartView, chosen: dict[int, int]) -> list[tuple]:
    """(product_id, slot_id, quantity) of each hold of a new order, per part: its products'
    units, then its slot's place. Held even when the stock is unlimited: the seller may start
    counting it before the payment, which then needs the units (mark_paid)."""
    return [
        hold
        for group in cart_view.groups
        for hold in (*((view.product.id, None, view.line.quantity) for view in group.lines),
                     (None, chosen[group.organization.id], 1))
    ]


def _linked(order: Order, parts: list, lines_of: dict[int, list]) -> Order:
    """`order` with its `parts` and each part's lines (`lines_of` by part id) set as loaded,
    both ways: the rows just written, nothing to read back."""
    set_committed_value(order, "parts", parts)
    for part in parts:
        set_committed_value(part, "order", order)
        set_committed_value(part, "lines", lines_of[part.id])
        for line in lines_of[part.id]:
            set_committed_value(line, "part", part)
    return order


_INSERT_HOLDS = sa.insert(Hold.__table__)

# On PostgreSQL, a cart's order, its parts, lines and holds are written by one statement
# (data-modifying WITH queries) instead of five round trips (nextval, then an INSERT per table):
# the order draws its id from the sequence and writes its reference from it (order_reference's
# format: ESS-<year>-<id on at least six digits>); each part is its seller's (one part per
# seller), each line its part's product (one line per product), and the rows come back as
# (table, id, key) so that each is matched to what it was written from by its key, never by
# its position. The columns are all named (no Python default is left to the ORM); the objects
# are then made from the values written (_as_loaded), nothing is read back. S608: the names
# formatted into it are the tables' own columns, never input.
# Lock order: the rows written refer to the products and the slots, and PostgreSQL checks each
# reference by a KEY SHARE lock on the row referred to, in the order the rows are written (a
# part's slot before its lines' products). A payment (mark_paid) and a release lock the
# products, then the slots: a checkout taking a slot's KEY SHARE first, then waiting for a
# product, deadlocked with them (seen in the two-node test). So the statement first takes those
# KEY SHARE locks itself, products then slots, each in id order (lock_products, lock_slots, which
# the order's INSERT waits for), before it writes anything.
_ORDER_COLUMNS = ("user_id", "email", "name", "phone", "locale", "status", "currency",
                  "total_cents", "hold_expires_at", "terms_accepted_at", "amount_paid_cents",
                  "amount_refunded_cents", "gift_cards_cents", "created_at", "updated_at")
_PART_ARRAYS = {"part_seller": sa.Integer, "part_slot": sa.Integer, "part_subtotal": sa.Integer}
_LINE_ARRAYS = {"line_seller": sa.Integer, "line_product": sa.Integer, "line_title": sa.String,
                "line_price": sa.Integer, "line_vat": sa.Integer, "line_perishable": sa.Boolean,
                "line_quantity": sa.Integer}
_HOLD_ARRAYS = {"hold_product": sa.Integer, "hold_slot": sa.Integer, "hold_quantity": sa.Integer}
_LOCK_ARRAYS = {"lock_product": sa.Integer, "lock_slot": sa.Integer}


def _unnest(arrays: dict) -> str:
    return ", ".join(f":{name}" for name in arrays)


_WRITE_ORDER_CHAINED = sa.text(f"""
    WITH lock_products AS (
        SELECT id FROM product WHERE id = ANY(:lock_product) ORDER BY id FOR KEY SHARE
    ), lock_slots AS (
        SELECT id FROM pickup_slot
        WHERE id = ANY(:lock_slot) AND (SELECT count(*) FROM lock_products) >= 0
        ORDER BY id FOR KEY SHARE
    ), o AS (
        INSERT INTO "order" (id, reference, {", ".join(_ORDER_COLUMNS)})
        SELECT n.id, 'ESS-' || :year || '-' || CASE WHEN n.id < 1000000
                   THEN lpad(n.id::text, 6, '0') ELSE n.id::text END,
               {", ".join(f":{name}" for name in _ORDER_COLUMNS)}
        FROM (SELECT nextval(pg_get_serial_sequence('"order"', 'id')) AS id) AS n
        WHERE (SELECT count(*) FROM lock_slots) >= 0
        RETURNING id, reference
    ), p AS (
        INSERT INTO order_part (order_id, organization_id, slot_id, status, subtotal_cents,
                                refunded_cents)
        SELECT o.id, v.seller, v.slot, :status, v.subtotal, 0
        FROM o, unnest({_unnest(_PART_ARRAYS)}) WITH ORDINALITY AS v(seller, slot, subtotal, n)
        ORDER BY v.n
        RETURNING id, organization_id
    ), l AS (
        INSERT INTO order_line (part_id, product_id, title, unit_price_cents, vat_rate_bp,
                                is_perishable, quantity, refunded_quantity)
        SELECT p.id, v.product, v.title, v.price, v.vat, v.perishable, v.quantity, 0
        FROM unnest({_unnest(_LINE_ARRAYS)}) WITH ORDINALITY
             AS v(seller, product, title, price, vat, perishable, quantity, n)
        JOIN p ON p.organization_id = v.seller
        ORDER BY v.n
        RETURNING id, part_id, product_id
    ), h AS (
        INSERT INTO hold (order_id, product_id, slot_id, quantity, expires_at, state)
        SELECT o.id, nullif(v.product, 0), nullif(v.slot, 0), v.quantity, :hold_expires_at,
               :held
        FROM o, unnest({_unnest(_HOLD_ARRAYS)}) AS v(product, slot, quantity)
    )
    SELECT 'order' AS kind, id, reference AS key FROM o
    UNION ALL SELECT 'part', id, organization_id::text FROM p
    UNION ALL SELECT 'line', id, part_id || ' ' || product_id FROM l
""").bindparams(  # noqa: S608
    sa.bindparam("year", type_=sa.String()),
    *(sa.bindparam(name, type_=Order.__table__.c[name].type) for name in _ORDER_COLUMNS),
    sa.bindparam("held", type_=Hold.__table__.c.state.type),
    *(sa.bindparam(name, type_=ARRAY(kind))
      for arrays in (_PART_ARRAYS, _LINE_ARRAYS, _HOLD_ARRAYS, _LOCK_ARRAYS)
      for name, kind in arrays.items()),
)


def _as_loaded(model, values: dict):
    """An object of the session made from the values of a row this unit has just written, as
    if it had been read back: every column given (none left to be loaded), no change pending,
    its relationships loaded when asked for."""
    obj = model(**{column.key: values.get(column.key) for column in model.__table__.c})
    make_transient_to_detached(obj)
    db.session.add(obj)
    return obj


def _write_order_chained(cart_view: CartView, *, buyer: Buyer, chosen: dict[int, int],
                         hold_until, now) -> Order:
    groups = cart_view.groups
    order_values = {
        **_buyer_columns(buyer, total_cents=cart_view.total_cents, hold_until=hold_until,
                         now=now),
        "status": OrderStatus.PENDING_PAYMENT, "currency": "EUR", "amount_paid_cents": 0,
        "amount_refunded_cents": 0, "gift_cards_cents": 0, "created_at": now, "updated_at": now,
    }
    parts_columns = [_part_columns(group, chosen) for group in groups]
    lines_by_part = [[_line_columns(view) for view in group.lines] for group in groups]
    lines_columns = [(part["organization_id"], line)
                     for part, lines in zip(parts_columns, lines_by_part, strict=True)
                     for line in lines]
    holds = _holds_of(cart_view, chosen)
    rows = db.session.execute(_WRITE_ORDER_CHAINED, {
        **order_values, "year": str(now.year), "held": HoldState.HELD,
        "part_seller": [c["organization_id"] for c in parts_columns],
        "part_slot": [c["slot_id"] for c in parts_columns],
        "part_subtotal": [c["subtotal_cents"] for c in parts_columns],
        "line_seller": [seller for seller, _ in lines_columns],
        **{array: [c[column] for _, c in lines_columns] for array, column in (
            ("line_product", "product_id"), ("line_title", "title"),
            ("line_price", "unit_price_cents"), ("line_vat", "vat_rate_bp"),
            ("line_perishable", "is_perishable"), ("line_quantity", "quantity"))},
        # 0 stands for "none" in an array.
        "hold_product": [product_id or 0 for product_id, _, _ in holds],
        "hold_slot": [slot_id or 0 for _, slot_id, _ in holds],
        "hold_quantity": [quantity for _, _, quantity in holds],
        "lock_product": sorted({c["product_id"] for _, c in lines_columns}),
        "lock_slot": sorted(set(chosen.values())),
    }).all()
    ids = {(kind, key): row_id for kind, row_id, key in rows}
    (order_id, reference), = [(row_id, key) for kind, row_id, key in rows if kind == "order"]
    order = _as_loaded(Order, {**order_values, "id": order_id, "reference": reference})
    parts, lines_of = [], {}
    for columns, lines in zip(parts_columns, lines_by_part, strict=True):
        part = _as_loaded(OrderPart, {
            "id": ids[("part", str(columns["organization_id"]))], "order_id": order_id,
            "status": OrderStatus.PENDING_PAYMENT, "refunded_cents": 0, **columns})
        parts.append(part)
        lines_of[part.id] = [
            _as_loaded(OrderLine, {
                "id": ids[("line", f"{part.id} {line['product_id']}")], "part_id": part.id,
                "refunded_quantity": 0, **line})
            for line in lines
        ]
    return _linked(order, parts, lines_of)


def _order_values(buyer: Buyer, *, total_cents: int, hold_until, now, **values) -> dict:
    """The columns of an unpaid order for `buyer`: its id and reference drawn at once where
    the database allows (see _next_order_id)."""
    order_id = _next_order_id()
    return dict(
        **({"id": order_id} if order_id else {}),  # else the INSERT draws it
        reference=order_reference(order_id, year=now.year) if order_id else None,
        **_buyer_columns(buyer, total_cents=total_cents, hold_until=hold_until, now=now),
        **values,
    )


def _buyer_columns(buyer: Buyer, *, total_cents: int, hold_until, now) -> dict:
    """The columns of a new order that say who orders, what it costs and until when it is
    kept: the buyer's details as typed, trimmed (the email in lower case)."""
    return {
        "user_id": buyer.user_id, "email": buyer.email.strip().lower(),
        "name": buyer.name.strip(), "phone": (buyer.phone or "").strip(), "locale": buyer.locale,
        "total_cents": total_cents, "hold_expires_at": hold_until, "terms_accepted_at": now,
    }


def _new_order(buyer: Buyer, *, total_cents: int, hold_until, now, **values) -> Order:
    """An unpaid order for `buyer` (added to the session): its id and reference drawn at once
    where the database allows (see _next_order_id)."""
    order = Order(**_order_values(buyer, total_cents=total_cents, hold_until=hold_until,
                                  now=now, **values))
    db.session.add(order)
    return order


def open_payment_order(buyer: Buyer, *, total_cents: int, description: str,
                       hold_until) -> Order:
    """An order with no goods (no parts, lines, holds or pickup) for something a higher domain
    sells, paid through the same gateway and fulfilment as a cart: a works council's campaign
    of gift cards. `hold_until` is how long it may be paid; the sweeper then expires it like
    any unpaid order. `description` names what it pays for (the payment page's line, the
    order page, the confirmation). Whoever opened it learns of its payment through
    `orders.signals` (order_paying, order_paid). Flushes."""
    if not isinstance(total_cents, int) or total_cents <= 0:
        raise CheckoutError(_l("There is nothing to pay."))
    now = utcnow()
    order = _new_order(buyer, total_cents=total_cents, hold_until=hold_until, now=now,
                       description=description.strip()[:250] or None)
    db.session.flush()
    if order.reference is None:
        order.reference = order_reference(order.id, year=now.year)
    audit.record("order.placed", order, by=order.user if buyer.user_id else None, data={
        "reference": order.reference, "total_cents": order.total_cents,
    })
    db.session.flush()
    return order


@dataclass
class PaymentOutcome:
    order: Order
    newly_paid: bool = False
    refund_due_cents: int = 0  # paid, but the goods were gone: the caller refunds this


def mark_paid(order: Order, *, amount_paid_cents: int, payment_intent_id: str | None) -> PaymentOutcome:
    """The payment of `order` is confirmed: turn its holds into sales. Safe to call twice.

    A hold that expired before the payment arrived is re-taken if the goods are still there;
    otherwise nothing is sold and the whole payment is due back (refund_due_cents).
    """
    (order,) = lock_rows(Order, [order.id])
    if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED):
        due = amount_paid_cents if order.status == OrderStatus.CANCELLED and not order.paid_at else 0
        return PaymentOutcome(order, refund_due_cents=due)
    cards_paid = payment_methods.prepaid_cents(order)
    if cards_paid and payment_methods.left_to_give_back(order) < cards_paid:
        # Released meanwhile: the cards got their money back, this payment cannot be enough.
        return _unfulfillable(order, amount_paid_cents, payment_intent_id)
    now = utcnow()
    holds = _OpenHolds.locked(order)
    if not holds.goods_still_there(now):
        return _unfulfillable(order, amount_paid_cents, payment_intent_id)
    if payment_refused(order):  # what it pays for was settled otherwise meanwhile
        return _unfulfillable(order, amount_paid_cents, payment_intent_id)
    holds.consume(order.reference)
    _record_payment(order, now=now, amount_paid_cents=amount_paid_cents, cards_paid=cards_paid,
                    payment_intent_id=payment_intent_id)
    _after_payment(order)
    return PaymentOutcome(order, newly_paid=True)


@dataclass
class _OpenHolds:
    """An order's holds not consumed yet, with their products and slots locked."""

    products_held: list[Hold]
    slots_held: list[Hold]
    products: dict[int, Product]
    slots: dict[int, PickupSlot]

    @classmethod
    def locked(cls, order: Order) -> _OpenHolds:
        holds = [h for h in order.holds if h.state != HoldState.CONSUMED]
        products_held = [h for h in holds if h.product_id is not None]
        slots_held = [h for h in holds if h.slot_id is not None]
        return cls(
            products_held, slots_held,
            {p.id: p for p in lock_rows(Product, [h.product_id for h in products_held])},
            {s.id: s for s in lock_rows(PickupSlot, [h.slot_id for h in slots_held])},
        )

    def goods_still_there(self, now) -> bool:
        """Whether every held unit and place can still be sold: the stock still covers each
        hold, and the holds that lapsed can be re-taken against what others hold now."""
        # The seller may have changed the stock while the shopper paid (sold the item in the
        # shop, switched to unlimited): units that are no longer on the shelf cannot be sold.
        for hold in self.products_held:
            stock = self.products[hold.product_id].stock
            if stock is not None and stock < hold.quantity:
                return False
        return self._lapsed_units_free(now) and self._lapsed_places_free(now)

    def _lapsed_units_free(self, now) -> bool:
        lapsed = [h for h in self.products_held if _lapsed(h, now)]
        if not lapsed:
            return True
        others = available_quantities([h.product_id for h in lapsed], now=now)
        for hold in lapsed:
            own = hold.quantity if hold.state == HoldState.HELD and hold.expires_at > now else 0
            left = others[hold.product_id]
            if left is not None and left + own < hold.quantity:
                return False
        return True

    def _lapsed_places_free(self, now) -> bool:
        lapsed = [h for h in self.slots_held if _lapsed(h, now)]
        if not lapsed:
            return True
        held = slot_places_held([h.slot_id for h in lapsed], now=now)
        for hold in lapsed:
            slot = self.slots[hold.slot_id]
            if slot.booked + held.get(slot.id, 0) + 1 > slot.capacity or slot.is_closed:
                return False
        return True

    def consume(self, reference: str) -> None:
        """The held units leave the stock (a sale) and the held places are booked."""
        for hold in self.products_held:
            product = self.products[hold.product_id]
            if product.stock is not None:  # unlimited since the checkout: no count
                catalog.adjust_stock(product, delta=-hold.quantity,
                                     reason=StockReason.SALE, reference=reference)
            if hold.state == HoldState.HELD:  # a released hold was no longer counted
                product.held_units -= hold.quantity
            hold.state = HoldState.CONSUMED
        for hold in self.slots_held:
            slot = self.slots[hold.slot_id]
            slot.booked += hold.quantity
            if hold.state == HoldState.HELD:
                slot.held_places -= hold.quantity
            hold.state = HoldState.CONSUMED


def _lapsed(hold: Hold, now) -> bool:
    return hold.state == HoldState.RELEASED or hold.expires_at <= now


def _record_payment(order: Order, *, now, amount_paid_cents: int, cards_paid: int,
                    payment_intent_id: str | None) -> None:
    """Each part's commission fixed and the parts and the order paid, then audited."""
    for part in order.parts:
        rate = commission_rate_bp(part.organization)
        part.commission_rate_bp = rate
        part.commission_cents = money.commission_cents(part.subtotal_cents, rate)
        part.seller_amount_cents = part.subtotal_cents - part.commission_cents
        transition(part, OrderStatus.PAID)
    transition(order, OrderStatus.PAID)
    order.paid_at = now
    order.amount_paid_cents = amount_paid_cents + cards_paid  # through every means
    order.payment_intent_id = payment_intent_id or order.payment_intent_id
    db.session.flush()
    audit.record("order.paid", order, data={"reference": order.reference,
                                            "amount_paid_cents": amount_paid_cents})


def _after_payment(order: Order) -> None:
    """What a paid order starts, told to the domains above (orders.signals, in this order): the
    sellers credited and the gift cards it bought issued (order_sold), the shopper's
    confirmation with the vouchers queued (confirmation_due), then order_paid (a works
    council's campaign paid by card)."""
    order_sold.send(order)
    confirmation_due.send(order)
    order_paid.send(order)


def _unfulfillable(order: Order, amount_paid_cents: int, payment_intent_id) -> PaymentOutcome:
    _give_back(order.holds)
    payment_methods.give_back(order)
    if order.status == OrderStatus.PENDING_PAYMENT:
        transition(order, OrderStatus.EXPIRED)
    order.amount_paid_cents = amount_paid_cents
    order.payment_intent_id = payment_intent_id or order.payment_intent_id
    db.session.flush()
    audit.record("order.paid_too_late", order, data={"reference": order.reference,
                                                     "amount_paid_cents": amount_paid_cents})
    return PaymentOutcome(order, refund_due_cents=amount_paid_cents)


def release(order: Order, *, status: OrderStatus, by=None, reason: str = "") -> bool:
    """End an unpaid order: its holds are given back and it becomes expired or cancelled.

    Returns False (and changes nothing) when the order is no longer waiting for payment."""
    (order,) = lock_rows(Order, [order.id])
    if order.status != OrderStatus.PENDING_PAYMENT:
        return False
    _give_back(order.holds)
    payment_methods.give_back(order)  # what gift cards paid goes back on them
    transition(order, status)
    for part in order.parts:
        transition(part, status)
    if status == OrderStatus.CANCELLED:
        order.cancelled_at = utcnow()
    db.session.flush()
    audit.record("order.cancelled" if status == OrderStatus.CANCELLED else "order.expired",
                 order, by=by, data={"reference": order.reference, "reason": reason})
    return True


def stale_orders(*, now=None, limit: int = 500) -> list[Order]:
    """Unpaid orders whose hold has ended (the sweeper releases them)."""
    now = now or utcnow()
    return db.session.scalars(
        sa.select(Order)
        .where(Order.status == OrderStatus.PENDING_PAYMENT, Order.hold_expires_at <= now)
        .order_by(Order.id)
        .limit(limit)
    ).all()


def get_by_checkout_session(session_id: str) -> Order | None:
    return db.session.scalar(sa.select(Order).where(Order.checkout_session_id == session_id))


def get_by_reference(reference: str) -> Order | None:
    return db.session.scalar(sa.select(Order).where(Order.reference == reference[:20]))


def unpaid_orders(*, user_id: int | None, guest_references, now=None) -> list[Order]:
    """Orders of this account, or placed as a guest under these references, still waiting for
    payment with their items still kept. Not the orders without goods that another domain
    opened (open_payment_order: a works council's campaign, whose bank transfer may be on its
    way): a new checkout replaces the unpaid cart orders listed here."""
    mine = []
    if user_id is not None:
        mine.append(Order.user_id == user_id)
    if guest_references:
        mine.append(sa.and_(Order.reference.in_(guest_references), Order.user_id.is_(None)))
    if not mine:
        return []
    return db.session.scalars(
        sa.select(Order)
        .where(sa.or_(*mine), Order.status == OrderStatus.PENDING_PAYMENT,
               Order.hold_expires_at > (now or utcnow()), Order.description.is_(None))
        .order_by(Order.id.desc())
    ).all()


def orders_of_user(user_id: int) -> sa.Select:
    """An account's placed orders, newest first (a statement, for db.paginate)."""
    return (sa.select(Order)
            .where(Order.user_id == user_id, Order.reference.is_not(None))
            .order_by(Order.id.desc()))
