"""Gift card pages: the public balance check and card page, the holder's list, the counter's
debit, and the platform team's search, block and adjustment."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import ValidationError

from marketplace import uow
from marketplace.catalog.services import category_tree
from marketplace.db import db, utcnow
from marketplace.errors import DomainError, render_error
from marketplace.giftcards import (
    card_notes,
    codes,
    pdf,
    purchase,
    qr,
    restrictions,
    throttle,
    where,
)
from marketplace.giftcards import services as cards
from marketplace.giftcards.forms import BuyCardForm
from marketplace.giftcards.models import CardStatus, GiftCard
from marketplace.giftcards.schemas import DebitBody, wrong_fields
from marketplace.i18n import format_day, local_today, money_filter
from marketplace.money import parse_amount
from marketplace.orders import cart as carts
from marketplace.organizations import tickets
from marketplace.organizations.access import member_required
from marketplace.organizations.models import Organization, Role
from marketplace.security import private

bp = Blueprint("giftcards", __name__)


# --- public: balance check, card page --------------------------------------------------------
# Every code looked up here is counted against the client's budgets (giftcards.throttle).


@bp.errorhandler(throttle.TooManyLookups)
def too_many_lookups(exc: throttle.TooManyLookups):
    body, status = render_error(429, exc.message)
    return body, status, {"Retry-After": str(exc.retry_after)}


def _lookup(text: str | None) -> GiftCard | None:
    throttle.count_lookup()
    card = cards.by_code(text)
    if card is None:
        throttle.wrong_code()
    return card


def _card_or_404(code: str) -> GiftCard:
    card = _lookup(code)
    if card is None:
        abort(404)
    return card


@bp.get("/cards")
def check():
    return render_template("giftcards/check.html", error=None, code="")


@bp.post("/cards")
def check_post():
    text = request.form.get("code", "")[:codes.INPUT_MAX]
    try:
        card = _lookup(text)
    except throttle.TooManyLookups as exc:
        return render_template("giftcards/check.html", error=exc.message, code=text), 429, {
            "Retry-After": str(exc.retry_after)}
    if card is None:
        error = (_("This is not a gift card code: check each character (16 characters, in 4 groups).")
                 if codes.normalize(text) is None else _("No gift card has this code."))
        return render_template("giftcards/check.html", error=error, code=text), 404
    return redirect(url_for(".show", code=card.code), 303)


@bp.get("/cards/<code>")
def show(code: str):
    card = _card_or_404(code)
    if code != card.code:
        return redirect(url_for(".show", code=card.code), 301)
    if card.is_named and card.opened_at is None:
        cards.mark_opened(card)  # the works council's reminders stop asking to open it
    return _card_page(card)


def _spending_categories(restriction) -> list:
    """The categories a shopper may look in with a card ("where to spend"): the ones its
    restriction allows, else every main category."""
    locale = str(get_locale())
    found = restriction.categories if restriction is not None and restriction.categories \
        else category_tree()
    return [(category.slug, category.name(locale)) for category in found]


def _holds(card: GiftCard) -> bool:
    """The signed-in holder of the card (who kept it in their account)."""
    return current_user.is_authenticated and card.holder_user_id == current_user.id


def _card_page(card: GiftCard, *, gift_error=None, gift=None, status: int = 200):
    """The card's page; `gift` is what was typed in its "give to an association" form."""
    gift = gift or {"amount": format_decimal(Decimal(card.balance_cents).scaleb(-2), "0.00"),
                    "nonce": secrets.token_urlsafe(12)}
    restriction = restrictions.of_card(card)
    near = where.read_near(request.args.get("near"))
    spendable = card.balance_cents > 0 and not card.is_expired() \
        and card.status == CardStatus.ACTIVE
    response = Response(render_template(
        "giftcards/card.html", card=card, transactions=cards.history(card.id),
        restriction=restriction, categories=_spending_categories(restriction),
        near=near, places=where.places(restriction, near) if spendable else [],
        notes=card_notes.of_card(card),
        associations=cards.participating_associations(), expired=card.is_expired(),
        holder=_holds(card), gift=gift, gift_error=gift_error,
    ), status=status)
    return private(response)


@bp.post("/cards/<code>/share")
def share(code: str):
    """The holder of a named card lets its works council see the balance, or stops it."""
    card = _card_or_404(code)
    choice = request.form.get("share")
    if choice not in ("yes", "no"):
        abort(400)
    cards.share_balance(card.id, choice == "yes")
    flash(_("Your works council can now see this card's balance and history.") if choice == "yes"
          else _("Your works council no longer sees this card's balance."), "success")
    return redirect(url_for(".show", code=card.code), 303)


@bp.get("/cards/<code>/qr.png")
def qr_image(code: str):
    card = _card_or_404(code)
    return private(Response(qr.card_png(card), mimetype="image/png"))


@bp.get("/cards/<code>/card.pdf")
def pdf_file(code: str):
    card = _card_or_404(code)
    response = Response(pdf.card_pdf(card, extra=[str(line) for line in card_notes.of_card(card)]),
                        mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="gift-card-{card.code[-4:]}.pdf"'
    return private(response)



@bp.post("/cards/<code>/claim")
@login_required
def claim(code: str):
    card = _card_or_404(code)
    if cards.claim(card, current_user):
        flash(_("The card is in your account."), "success")
    else:
        uow.refuse()
        flash(_("This card is already kept in another account."), "error")
    return redirect(url_for(".show", code=card.code))


# Giving to an association takes two steps: the form (association, amount, and the card's code
# typed again unless the signed-in holder gives), then a confirmation that says what goes where.
# The confirmation carries what was checked, signed, for DONATION_CONFIRM_SECONDS.
DONATION_CONFIRM_SECONDS = 30 * 60


def _donation_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="giftcard-donation")


@bp.post("/cards/<code>/donate")
def donate(code: str):
    card = _card_or_404(code)
    gift = {"association": request.form.get("association", "")[:12],
            "amount": request.form.get("amount", "").strip()[:20],
            "nonce": (request.form.get("nonce") or "")[:64] or secrets.token_urlsafe(12)}
    association = db.session.get(Organization, request.form.get("association", type=int) or 0)
    if not cards.is_participating_association(association):
        return _card_page(card, gift=gift, status=400,
                          gift_error=_("Choose one of the participating associations."))
    if not _holds(card):
        typed = request.form.get("code", "")[:codes.INPUT_MAX]
        if not typed.strip():
            return _card_page(card, gift=gift, status=400, gift_error=_(
                "Type the card's code, as printed on the card, to give from it."))
        if codes.normalize(typed) != card.code:
            return _card_page(card, gift=gift, status=400, gift_error=_(
                "This is not the code of this card: check each character."))
    try:
        amount = parse_amount(gift["amount"]) if gift["amount"] else None
        amount = cards.donation_amount(card, amount, utcnow())
    except ValueError:
        return _card_page(card, gift=gift, status=400,
                          gift_error=_("Type an amount in euros, for example 12,50."))
    except DomainError as exc:
        return _card_page(card, gift=gift, status=exc.status_code, gift_error=exc.message)
    confirmation = _donation_signer().dumps([card.id, association.id, amount, gift["nonce"]])
    return private(Response(render_template(
        "giftcards/donate_confirm.html", card=card, association=association, amount=amount,
        confirmation=confirmation)))


@bp.post("/cards/<code>/donate/confirm")
def donate_confirm(code: str):
    card = _card_or_404(code)
    try:
        card_id, association_id, amount, nonce = _donation_signer().loads(
            request.form.get("confirmation", "")[:500], max_age=DONATION_CONFIRM_SECONDS)
        if card_id != card.id:
            raise BadSignature("another card")
    except (BadSignature, ValueError, TypeError):
        return _card_page(card, status=400, gift_error=_(
            "This confirmation is not valid any more. Fill in the form again."))
    association = db.session.get(Organization, association_id)
    try:
        move = cards.donate(card.id, association, amount_cents=amount, nonce=nonce,
                            by=current_user if current_user.is_authenticated else None)
    except DomainError as exc:  # refused before anything is written; the 4xx rolls back
        return _card_page(db.session.get(GiftCard, card.id, populate_existing=True),
                          status=exc.status_code, gift_error=exc.message)
    given = -move.transaction.amount_cents
    flash(_("Thank you: %(amount)s given to %(name)s.", amount=money_filter(given, card.currency),
            name=association.name), "success")
    return redirect(url_for(".show", code=card.code), 303)


@bp.route("/cards/buy", methods=["GET", "POST"])
def buy():
    form = BuyCardForm()
    error = None
    if form.validate_on_submit():
        cart = carts.current_cart(current_user, create=True)
        try:
            purchase.add_to_cart(
                cart, form.amount_cents(),
                recipient_name=form.recipient_name.data if form.is_gift else None,
                recipient_email=form.recipient_email.data if form.is_gift else None,
                message=form.message.data if form.is_gift else None,
                deliver_on=form.deliver_on.data if form.is_gift else None,
            )
        except DomainError as exc:
            error = exc.message  # a 400 answer: its unit rolls back
        else:
            flash(_("The gift card is in your cart."), "success")
            return redirect(url_for("orders.cart"), 303)
    status = 400 if (form.errors or error) else 200
    return render_template("giftcards/buy.html", form=form, error=error,
                           low=current_app.config["GIFTCARD_MIN_CENTS"],
                           high=current_app.config["GIFTCARD_MAX_CENTS"]), status


@bp.post("/cart/cards/<int:line_id>/remove")
def remove_from_cart(line_id: int):
    cart = carts.current_cart(current_user)
    if cart is None or not purchase.remove_from_cart(cart, line_id):
        abort(404)
    return redirect(url_for("orders.cart"), 303)


@bp.app_template_global()
def order_gift_cards(order) -> list:
    return purchase.of_order(order.id) if order is not None and order.id else []


@bp.app_template_global()
def card_delivery_note(line, order) -> str:
    """To whom and when a card bought with `order` (an OrderCard) is sent, as its buyer reads
    it on the order's pages and emails."""
    card = line.card
    if line.is_gift:
        email = line.recipient_email
        if card is not None and card.delivered_at is not None:
            return _("It was sent by email to %(email)s on %(date)s.", email=email,
                     date=format_day(card.delivered_at, "long"))
        if line.deliver_on is not None and line.deliver_on > local_today():
            return _("It will be sent by email to %(email)s on %(date)s.", email=email,
                     date=format_day(line.deliver_on, "long"))
        if card is None:
            return _("It will be sent by email to %(email)s as soon as your payment is confirmed.",
                     email=email)
        return _("It will be sent by email to %(email)s in a few minutes.", email=email)
    if card is None:
        return _("It will be sent to you by email as soon as your payment is confirmed.")
    if order.user_id is not None and card.holder_user_id == order.user_id:
        return _("It was sent to you in a separate email, with its QR code and the printable "
                 "card. You will also find it in your account, under “My gift cards”.")
    return _("It was sent to you in a separate email, with its QR code and the printable card.")


@bp.get("/account/cards")
@login_required
def my_cards():
    held = cards.cards_of(current_user)
    restricted = restrictions.of_cards(held)
    return render_template("giftcards/my_cards.html", cards=held,
                           restricted={card.id: restricted.get(card.id) for card in held})


# --- the counter -----------------------------------------------------------------------------
# A card is found by its code, scanned or typed into a form whose body carries it (a code in an
# address stays in the till's history and in access logs). The page that shows the card carries
# a ticket for this clerk at this counter (organizations.tickets); the payment form sends the
# ticket, never the card's id. Staff pages show the code's last 4 characters only.

CARD_TICKET = "giftcard"
# The counter's choice "something else" for a restricted card: no category has this id, so the
# card refuses it with its reason.
OTHER_CATEGORY = "0"


@dataclass
class CounterPayment:
    """What the counter shows after a debit, once the card is put away."""

    amount_cents: int
    balance_cents: int
    masked_code: str
    currency: str
    still_to_pay_cents: int = 0


def _counter_page(organization, membership, *, card=None, ticket=None, error=None, result=None,
                  status=200, query="", amount="", purchase_cents=None, category=""):
    """The counter; a restricted card shows what it is for (before any amount is typed), is
    refused at once at a seller its profile does not name, and its payment form asks what is
    being bought, among the profile's categories."""
    restriction = restrictions.of_card(card)
    refused_here = restriction is not None and not restriction.allows_seller(organization.id)
    if refused_here and error is None:
        error = restriction.reason
    return render_template(
        "giftcards/counter.html", organization=organization, membership=membership, card=card,
        ticket=ticket, error=error, result=result, query=query, amount=amount,
        purchase_cents=purchase_cents, nonce=secrets.token_urlsafe(12),
        restriction=restriction, refused_here=refused_here, category=category,
        other_category=OTHER_CATEGORY,
    ), status


@bp.get("/orgs/<int:org_id>/counter/cards")
@member_required(Role.COUNTER)
def counter(organization, membership):
    return _counter_page(organization, membership)


@bp.post("/orgs/<int:org_id>/counter/cards")
@member_required(Role.COUNTER)
def counter_lookup(organization, membership):
    return counter_lookup_page(organization, membership, request.form.get("q", ""))


def counter_lookup_page(organization, membership, text: str):
    """The card a scan or a typed code designates, ready to be debited by this clerk (the voucher
    counter answers a card code with this page too)."""
    text = text[:codes.INPUT_MAX]
    try:
        card = cards.find(text)
    except DomainError as exc:
        return _counter_page(organization, membership, error=exc.message,
                             status=exc.status_code, query=text)
    ticket = tickets.issue(CARD_TICKET, card.id, user_id=current_user.id,
                           organization_id=organization.id)
    return _counter_page(organization, membership, card=card, ticket=ticket)


@bp.post("/orgs/<int:org_id>/counter/cards/pay")
@member_required(Role.COUNTER)
def pay(organization, membership):
    ticket = request.form.get("ticket")
    try:
        card_id = tickets.read(CARD_TICKET, ticket, user_id=current_user.id,
                               organization_id=organization.id)
        card = db.session.get(GiftCard, card_id)
    except tickets.ExpiredTicket:
        minutes = current_app.config["COUNTER_TICKET_SECONDS"] // 60
        return _counter_page(organization, membership, status=400, error=ngettext(
            "The card was shown more than %(num)d minute ago: scan it again.",
            "The card was shown more than %(num)d minutes ago: scan it again.", minutes))
    except tickets.BadTicket:
        card = None
    if card is None:
        return _counter_page(organization, membership, status=404, error=_(
            "Scan the card or type its code first: a payment needs the card shown at the "
            "counter."))
    amount_text = request.form.get("amount", "")[:20]
    purchase_text = request.form.get("purchase", "")[:20]
    category = request.form.get("category", "").strip()[:40]
    try:
        amount = parse_amount(amount_text)
        purchase = parse_amount(purchase_text) if purchase_text else 0
    except ValueError:
        return _counter_page(organization, membership, card=card, ticket=ticket,
                             amount=amount_text, status=400, category=category,
                             error=_("Type an amount in euros, for example 12,50."))
    try:
        move = cards.redeem(card_id, amount, organization=organization, by=current_user,
                            nonce=(request.form.get("nonce") or "")[:64] or None,
                            category=_category_key(category))
    except DomainError as exc:  # refused before anything is written; the 4xx rolls back
        card = db.session.get(GiftCard, card_id, populate_existing=True)
        error, short = exc.message, None
        if card is not None and exc.status_code == 409 and 0 < card.balance_cents < amount \
                and card.status == CardStatus.ACTIVE and not card.is_expired() \
                and not isinstance(exc, cards.CardRestricted):
            error, short = _("The purchase is %(purchase)s and the card has %(balance)s left.",
                             purchase=money_filter(amount, card.currency),
                             balance=money_filter(card.balance_cents, card.currency)), amount
        return _counter_page(organization, membership, card=card, ticket=ticket, error=error,
                             status=exc.status_code, amount=amount_text, purchase_cents=short,
                             category=category)
    paid = -move.transaction.amount_cents
    result = CounterPayment(amount_cents=paid, balance_cents=move.transaction.balance_after_cents,
                            masked_code=card.masked_code, currency=card.currency,
                            still_to_pay_cents=max(0, purchase - paid))
    return _counter_page(organization, membership, result=result)


def _category_key(text: str) -> int | str | None:
    """What the counter said is being bought: a category id (the form), a slug (scanner apps),
    or None when nothing was said."""
    if not text:
        return None
    return int(text) if text.isdigit() else text


@bp.post("/orgs/<int:org_id>/counter/cards/debit")
@member_required(Role.COUNTER)
def debit_json(organization, membership):
    """One request per debit (scanner apps, benchmarks): {"q": code or card URL,
    "amount_cents": int, "nonce": text, "category": slug of what is bought (a works council's
    restricted card needs it)}; the CSRF token in the X-CSRFToken header. A restricted card's
    refusal says why and lists the slugs it allows ("allowed_categories")."""
    try:
        body = DebitBody().load(request.get_json(silent=True))
    except ValidationError as exc:
        return jsonify(result="invalid", fields=wrong_fields(exc), message=_(
            "Send q (the card code), amount_cents (an integer) and nonce (text).")), 400
    try:
        move = cards.redeem_code(body["q"][:codes.INPUT_MAX], body["amount_cents"],
                                 organization=organization, by=current_user,
                                 nonce=body["nonce"],
                                 category=_category_key(body.get("category") or ""))
    except DomainError as exc:
        answer = {"result": "refused" if exc.status_code == 409 else "invalid",
                  "message": str(exc.message)}
        if isinstance(exc, cards.CardRestricted):
            answer["allowed_categories"] = [c.slug for c in exc.restriction.categories]
            answer["allowed_sellers"] = [name for _id, name in exc.restriction.sellers]
        return jsonify(answer), exc.status_code
    payload = {"result": "debited", "replayed": move.replayed,
               "amount_cents": -move.transaction.amount_cents,
               "balance_cents": move.transaction.balance_after_cents,
               "transaction_id": move.transaction.id}
    return jsonify(payload)
