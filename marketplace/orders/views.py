"""Shopper pages: the cart, checkout, the way back from the payment page, the shopper's orders."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, user_logged_in
from sqlalchemy.exc import SQLAlchemyError

from marketplace import uow
from marketplace.catalog import listing
from marketplace.catalog.views import product_url
from marketplace.consent import services as consents
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.i18n import current_locale_code
from marketplace.i18n import lazy_gettext as _l
from marketplace.notifications.services import queue_email
from marketplace.orders import cart as carts
from marketplace.orders import payment_methods, services
from marketplace.orders.forms import (
    SLOT_DAYS,
    AddToCartForm,
    CheckoutForm,
    QuantityForm,
    read_slot_choices,
    slot_choices,
)
from marketplace.orders.links import key_opens, order_link
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.signals import order_left_cart
from marketplace.orders.staff_forms import (
    STATUS_LABELS,  # one wording for sellers and shoppers
    withdrawal_form,
)
from marketplace.orders.withdrawal import request_withdrawal, withdrawable_lines

bp = Blueprint("orders", __name__)

ORDERS_PAGE_SIZE = 20
# Orders placed from this browser (a guest's way back to them before the email arrives), and
# those whose lines leave the cart once paid: the cart is kept until the payment succeeds.
PLACED_KEY = "orders_placed"
TO_CLEAR_KEY = "orders_to_clear_from_cart"
SESSION_LIST_MAX = 10

S = OrderStatus
PAID_STATES = {S.PAID, S.READY_FOR_PICKUP, S.COLLECTED, S.PARTIALLY_REFUNDED}


def order_status(status) -> str:
    return str(STATUS_LABELS[OrderStatus(status)])


def cart_item_count() -> int:
    """Units in the shopper's cart, for the header."""
    try:
        if current_user.is_authenticated:
            return carts.units_in_cart(user_id=current_user.id)
        return carts.units_in_cart(token=session.get(carts.SESSION_KEY))
    except SQLAlchemyError:
        # The header is also drawn by the error pages: a broken database must not break them.
        current_app.logger.exception("Could not count the cart's items")
        return 0


bp.add_app_template_global(order_link, "order_link")
bp.add_app_template_global(order_status, "order_status")
bp.add_app_template_global(cart_item_count, "cart_item_count")


@user_logged_in.connect
def merge_cart_at_login(sender, user, **extra) -> None:
    """What a visitor put in their cart is still there once they log in."""
    carts.merge_visitor_cart(user)


# --- helpers ---------------------------------------------------------------------------------


def _my_cart(*, create: bool = False, flush: bool = True):
    return carts.current_cart(current_user, create=create, flush=flush)


def _acting_user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _remember(key: str, reference: str) -> None:
    kept = [r for r in session.get(key, []) if r != reference]
    session[key] = [*kept, reference][-SESSION_LIST_MAX:]


def _forget(key: str, reference: str) -> None:
    session[key] = [r for r in session.get(key, []) if r != reference]


def _may_see(order: Order, key: str | None) -> bool:
    """The order's user, whoever holds its signed link, or the browser a guest ordered from."""
    if current_user.is_authenticated and order.user_id == current_user.id:
        return True
    if key_opens(order, key):
        return True
    return order.user_id is None and order.reference in session.get(PLACED_KEY, [])


def shopper_order(reference: str, key: str | None) -> Order:
    order = services.get_by_reference(reference)
    if order is None or not _may_see(order, key):
        abort(404)
    return order


def _order_url(order: Order, key: str | None = None) -> str:
    if key_opens(order, key):
        return url_for(".order", reference=order.reference, key=key)
    return url_for(".order", reference=order.reference)


def unpaid_orders() -> list[Order]:
    """This shopper's orders still waiting for payment, whose items are still kept."""
    return services.unpaid_orders(
        user_id=current_user.id if current_user.is_authenticated else None,
        guest_references=session.get(PLACED_KEY, []),
    )


def _release_unpaid_orders():
    """A new checkout replaces the ones this shopper left unpaid, whose holds would otherwise
    keep the very items they are ordering again (often the last unit of a second-hand item).

    In a SAVEPOINT, rolled back (and so the orders kept) if this checkout does not happen,
    before the page that lists them is shown again. Returns the SAVEPOINT (None when there was
    nothing to release: on SQLite a SAVEPOINT opens a transaction, and its read lock would
    stop the other writers' commits for the whole checkout) and the payment sessions to end
    once the unit has committed."""
    unpaid = unpaid_orders()
    if not unpaid:
        return None, []
    savepoint = uow.savepoint()
    sessions = []
    for order in unpaid:
        if services.release(order, status=S.CANCELLED, by=_acting_user(),
                            reason="replaced by a new checkout") and order.checkout_session_id:
            sessions.append(order.checkout_session_id)
    return savepoint, sessions


def _end(savepoint, *, keep: bool) -> None:
    if savepoint is None:
        return
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()


def _end_payment_sessions(session_ids) -> None:
    """Once this unit has committed: nobody can pay these cancelled orders any more (a payment
    that still comes is refunded by the payments domain)."""
    for session_id in session_ids:
        uow.after_commit(payment_methods.page().expire_remote_session, session_id)


def _go_to_payment(order: Order):
    reference = order.reference
    try:
        checkout_session = payment_methods.page().start_payment(order)  # writes once it succeeded
    except DomainError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for(".checkout_cancelled", reference=reference))
    return redirect(checkout_session.url, code=303)


# --- cart ------------------------------------------------------------------------------------


@bp.get("/cart", endpoint="cart")
def show_cart():
    return render_template("orders/cart.html", cart=carts.view(_my_cart()), unpaid=unpaid_orders())


@bp.post("/cart/add")
def add_to_cart():
    form = AddToCartForm()
    product_id = form.product_id.data
    product = (listing.get_public_product(product_id, photos=False)
               if isinstance(product_id, int) else None)
    if product is None:
        flash(_("This product is no longer for sale."), "error")
        return redirect(url_for("catalog.products"))
    back = product_url(product)
    if not form.validate():
        flash(" ".join(str(e) for e in form.quantity.errors) or _("Please try again."), "error")
        return redirect(back)
    cart = _my_cart(create=True, flush=False)  # a new cart is written with its line
    before = next((line.quantity for line in cart.lines if line.product_id == product.id), 0)
    wanted = min(before + form.quantity.data, carts.MAX_QUANTITY)
    try:
        quantity = carts.add(cart, product, form.quantity.data)
    except carts.CartError as exc:
        uow.refuse()
        flash(str(exc.message), "error")
        return redirect(back)
    title = product.title
    if quantity < wanted:  # capped at what is left
        flash(ngettext("Only %(num)d of “%(title)s” is available: your cart holds %(num)d.",
                       "Only %(num)d of “%(title)s” are available: your cart holds %(num)d.",
                       quantity, title=title), "warning")
    else:
        flash(_("“%(title)s” was added to your cart.", title=title), "success")
    return redirect(back)


def _change_line(product_id: int, quantity: int):
    cart = _my_cart()
    try:
        if cart is None:
            raise carts.CartError(_l("This product is not in your cart."))
        carts.set_quantity(cart, product_id, quantity)
    except carts.CartError as exc:
        uow.refuse()
        flash(str(exc.message), "error")
        return redirect(url_for(".cart"))
    flash(_("The line was removed from your cart.") if quantity == 0
          else _("Your cart was updated."), "success")
    return redirect(url_for(".cart"))


@bp.post("/cart/lines/<int:product_id>")
def update_line(product_id: int):
    form = QuantityForm()
    if not form.validate():
        flash(" ".join(str(e) for e in form.quantity.errors) or _("Please try again."), "error")
        return redirect(url_for(".cart"))
    return _change_line(product_id, form.quantity.data)


@bp.post("/cart/lines/<int:product_id>/remove")
def remove_line(product_id: int):
    return _change_line(product_id, 0)  # CSRFProtect checks the token of every POST


# --- checkout --------------------------------------------------------------------------------


def _render_checkout(form, cart_view, choices, *, error=None, status=200):
    perishable = [view.product.title for group in cart_view.groups for view in group.lines
                  if view.product.is_perishable]
    return render_template(
        "orders/checkout.html",
        form=form,
        cart=cart_view,
        choices=choices,
        perishable=perishable,
        error=error,
        replacing=unpaid_orders(),
        hold_minutes=current_app.config["HOLD_MINUTES"],
        slot_days=SLOT_DAYS,
    ), status


@bp.route("/checkout", methods=["GET", "POST"])
def checkout():
    posted = request.method == "POST"
    replacing, replaced = _release_unpaid_orders() if posted else (None, [])
    cart_view = carts.view(_my_cart())
    if cart_view.is_empty or cart_view.has_problems:
        uow.refuse()
        if cart_view.is_empty:
            flash(_("Your cart is empty."), "info")
        else:
            flash(_("Some lines of your cart need your attention first."), "error")
        return redirect(url_for(".cart"))

    user = current_user if current_user.is_authenticated else None
    form = CheckoutForm(user=current_user, name=user.name if user else None)
    choices = slot_choices(cart_view)
    if not posted:
        return _render_checkout(form, cart_view, choices)

    form_ok = form.validate()
    slot_status = read_slot_choices(choices, request.form)
    if not form_ok or slot_status:
        _end(replacing, keep=False)
        return _render_checkout(form, cart_view, choices, status=slot_status or 400)

    card_payment = payment_methods.prepaid(payment_methods.GIFT_CARDS)
    try:
        gift_cards = card_payment.find(form.gift_cards.data) if form.gift_cards.data else []
    except DomainError as exc:
        _end(replacing, keep=False)
        form.gift_cards.errors = [*form.gift_cards.errors, str(exc.message)]
        return _render_checkout(form, cart_view, choices, status=exc.status_code)
    buyer = services.Buyer(
        email=user.email if user else form.email.data,
        name=form.name.data,
        phone=form.phone.data or "",
        user_id=user.id if user else None,
        locale=current_locale_code(),
    )
    try:
        order = services.checkout(
            cart_view,
            buyer=buyer,
            slot_ids={choice.group.organization.id: choice.selected for choice in choices},
            accepted_terms=form.accept_terms.data,
            gift_cards=gift_cards,
            in_savepoint=False,  # on any error the unit is abandoned: see below
        )
    except (services.CheckoutError, *card_payment.errors) as exc:
        # Nothing this request wrote stands (the orders it released included), and nothing is
        # held: availability is read again for the page. Any other error is an error answer,
        # which rolls the unit back too.
        uow.abandon()
        cart_view = carts.view(_my_cart())
        fresh = slot_choices(cart_view)
        read_slot_choices(fresh, request.form)  # keep what was chosen, say what is gone
        return _render_checkout(form, cart_view, fresh, error=exc.message,
                                status=exc.status_code)
    consents.record_at_checkout(request.form, organizations=[p.organization for p in order.parts],
                                email=buyer.email, name=buyer.name, user_id=buyer.user_id,
                                reference=order.reference)
    if gift_cards and payment_methods.amount_due(order) == 0:
        # The cards paid everything: no payment page, the order is paid now.
        services.mark_paid(order, amount_paid_cents=0, payment_intent_id=None)
        _end(replacing, keep=True)
        _end_payment_sessions(replaced)
        if order.user_id is None:
            _remember(PLACED_KEY, order.reference)
        _remove_ordered_lines(order)  # now, not after a payment page
        flash(_("Paid with your gift cards: thank you!"), "success")
        return redirect(_order_url(order), 303)
    for note in card_payment.notes(order, gift_cards) if gift_cards else ():
        flash(str(note), "info")  # a works council's card paid only the goods it allows
    _end(replacing, keep=True)
    # Named durable step: the order and its holds are on disk, and the stock and slot rows they
    # locked released, before the gateway is asked for a payment page (docs/architecture.md).
    # What follows reads the order it has just written: nothing to reload.
    uow.durable_step(keep_state=True)
    if order.user_id is None:
        _remember(PLACED_KEY, order.reference)
    _remember(TO_CLEAR_KEY, order.reference)
    response = _go_to_payment(order)
    _end_payment_sessions(replaced)
    return response


@bp.get("/checkout/success")
def checkout_success():
    session_id = request.args.get("session_id", "").strip()
    if not session_id or len(session_id) > 255:
        abort(404)
    # None when the gateway does not know this session; an unreachable gateway raises, and the
    # error page asks to try again.
    order = payment_methods.page().fulfil_return(session_id)
    if order is None:
        abort(404)
    paid = order.status in PAID_STATES
    if paid and order.reference in session.get(TO_CLEAR_KEY, []):
        _remove_ordered_lines(order)
    return render_template("orders/success.html", order=order, paid=paid,
                           pending=order.status == S.PENDING_PAYMENT)


def _remove_ordered_lines(order: Order) -> None:
    """The paid lines leave the cart (once: a reload must not remove what was added since)."""
    _forget(TO_CLEAR_KEY, order.reference)
    cart = _my_cart()
    if cart is None:
        return
    order_left_cart.send(order, cart=cart)  # the gift cards it bought
    in_cart = {line.product_id: line.quantity for line in cart.lines}
    for part in order.parts:
        for line in part.lines:
            if line.product_id in in_cart:
                left = max(in_cart[line.product_id] - line.quantity, 0)
                carts.set_quantity(cart, line.product_id, left)
                in_cart[line.product_id] = left


@bp.get("/checkout/cancelled/<reference>")
def checkout_cancelled(reference: str):
    """The shopper came back from the payment page without paying."""
    key = request.args.get("key")
    order = shopper_order(reference, key)
    if order.status != S.PENDING_PAYMENT:
        return redirect(_order_url(order, key))
    return render_template("orders/payment_cancelled.html", order=order,
                           key=key if key_opens(order, key) else None,
                           can_pay=order.hold_is_active())


@bp.post("/orders/<reference>/pay")
def pay(reference: str):
    key = request.form.get("key")
    order = shopper_order(reference, key)
    if not order.hold_is_active():
        flash(_("Your items are no longer kept for this order: check your cart and order again."),
              "error")
        return redirect(url_for(".cart"))
    return _go_to_payment(order)


@bp.post("/orders/<reference>/cancel")
def cancel(reference: str):
    key = request.form.get("key")
    order = shopper_order(reference, key)
    if services.release(order, status=S.CANCELLED, by=_acting_user(),
                        reason="cancelled by the shopper"):
        queue_email("order_cancelled", to=order.email, locale=order.locale, order=order)
        _forget(TO_CLEAR_KEY, order.reference)
        _end_payment_sessions([order.checkout_session_id] if order.checkout_session_id else [])
        flash(_("Your order %(reference)s is cancelled. Nothing was charged.",
                reference=order.reference), "success")
    else:
        uow.refuse()
        flash(_("This order can no longer be cancelled here: it is “%(status)s”.",
                status=order_status(order.status)), "error")
    if request.form.get("next") == "cart":
        return redirect(url_for(".cart"))
    return redirect(_order_url(order, key))


# --- the shopper's orders --------------------------------------------------------------------


@bp.get("/account/orders")
@login_required
def my_orders():
    page = db.paginate(
        services.orders_of_user(current_user.id),
        per_page=ORDERS_PAGE_SIZE,
        error_out=False,
    )
    return render_template("orders/my_orders.html", page=page)


@bp.get("/orders/<reference>")
def order(reference: str):
    key = request.args.get("key")
    found = shopper_order(reference, key)
    key = key if key_opens(found, key) else None
    withdrawal_url = None
    collected = any(part.status in (S.COLLECTED, S.PARTIALLY_REFUNDED) for part in found.parts)
    if collected:
        withdrawal_url = url_for(".withdrawal", reference=found.reference, key=key)
    return render_template(
        "orders/order.html",
        order=found,
        key=key,
        paid=found.status in PAID_STATES,
        withdrawal_url=withdrawal_url,
    )


# --- the shopper's withdrawal request --------------------------------------------------------


@bp.route("/orders/<reference>/withdrawal", methods=["GET", "POST"])
def withdrawal(reference: str):
    """Reached from the order page; open to whoever may see that page (the shopper pages'
    own check: the account holder, the signed link, or the browser a guest ordered from)."""
    order = shopper_order(reference, request.args.get("key"))
    key = request.args.get("key") if key_opens(order, request.args.get("key")) else None
    views = withdrawable_lines(order)
    eligible = [view for view in views if view.eligible]
    form = withdrawal_form(eligible)
    status = 200
    if request.method == "POST":
        status = 400
        if eligible and form.validate_on_submit():
            try:
                wanted = form.quantities()
                refunds = request_withdrawal(
                    order, lines=wanted, reason=form.reason.data or "",
                    by_user=_acting_user(),
                )
            except DomainError as exc:
                form.form_errors.append(exc.message)
                status = exc.status_code
            else:
                flash(_("Your return is recorded and the refund was sent to your card. "
                        "We emailed you a confirmation."), "success")
                parts_asked = {view.part.id for view in views if view.line.id in wanted}
                if len(refunds) < len(parts_asked):
                    flash(_("Some items could not be refunded right now: the seller will "
                            "contact you."), "warning")
                return redirect(url_for(".order", reference=order.reference, key=key))
        elif not eligible:
            status = 409
    return render_template(
        "orders/withdrawal.html", order=order, views=views, eligible=eligible, form=form,
        key=key,
    ), status
