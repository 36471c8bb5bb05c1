"""The platform team's gift card pages: find a card by code or email, see its history, block a
lost card, adjust a balance with a reason. Admins only, like every /admin page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import uow
from marketplace.accounts.access import admins_only
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.giftcards import figures, queries
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import GiftCard
from marketplace.money import parse_amount

bp = Blueprint("giftcards_admin", __name__, url_prefix="/admin")
bp.before_request(admins_only)


@bp.get("/cards")
def admin_cards():
    query = request.args.get("q", "").strip()[:254]
    found = []
    if query:
        card = cards.by_code(query)
        found = [card] if card is not None else queries.cards_of_email(query)
    return render_template("giftcards/admin_cards.html", query=query, found=found)


@bp.get("/cards/limited-network")
def limited_network():
    """The two figures of the limited-network exemption, each against its threshold."""
    return render_template("giftcards/admin_limited_network.html",
                           figures=figures.limited_network_figures())


@bp.get("/cards/<int:card_id>")
def admin_card(card_id: int):
    card = db.session.get(GiftCard, card_id) or abort(404)
    return render_template("giftcards/admin_card.html", card=card,
                           transactions=cards.history(card.id))


@bp.post("/cards/<int:card_id>/block")
def admin_block(card_id: int):
    db.session.get(GiftCard, card_id) or abort(404)
    return _admin_action(card_id, lambda: cards.block(
        card_id, reason=request.form.get("reason", "")[:200], by=current_user),
        _("The card is blocked."))


@bp.post("/cards/<int:card_id>/unblock")
def admin_unblock(card_id: int):
    db.session.get(GiftCard, card_id) or abort(404)
    return _admin_action(card_id, lambda: cards.unblock(card_id, by=current_user),
                         _("The card can be spent again."))


@bp.post("/cards/<int:card_id>/adjust")
def admin_adjust(card_id: int):
    db.session.get(GiftCard, card_id) or abort(404)
    text = request.form.get("amount", "").strip()[:20]
    sign = -1 if text.startswith("-") else 1
    try:
        delta = sign * parse_amount(text.lstrip("+-"))
    except ValueError:
        flash(_("Type an amount in euros, for example 5,00 or -5,00."), "error")
        return redirect(url_for(".admin_card", card_id=card_id))
    return _admin_action(card_id, lambda: cards.adjust(
        card_id, delta, reason=request.form.get("reason", "")[:200], by=current_user),
        _("The balance was adjusted."))


def _admin_action(card_id: int, action, done: str):
    try:
        action()
    except DomainError as exc:
        uow.refuse()  # a redirect: nothing of the refused action stays
        flash(str(exc.message), "error")
    else:
        flash(done, "success")
    return redirect(url_for(".admin_card", card_id=card_id), 303)
