"""Shopper forms: add to cart, change a quantity, check out; and the checkout's pickup slot
choices, one per seller of the cart, which are read apart as they depend on the cart."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TelField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from marketplace.accounts.forms import email_field
from marketplace.db import db, utcnow
from marketplace.i18n import lazy_gettext as _l
from marketplace.orders.cart import MAX_QUANTITY, CartView, SellerGroup
from marketplace.orders.models import expired_places
from marketplace.pickup import services as pickup
from marketplace.pickup.models import PickupSlot
from marketplace.pickup.services import SlotState

SLOT_DAYS = 14  # how far ahead the shopper may choose a pickup slot


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _quantity_field(minimum: int):
    return IntegerField(
        _l("Quantity"),
        default=1,
        validators=[
            InputRequired(message=_l("Please enter a quantity.")),
            NumberRange(
                min=minimum,
                max=MAX_QUANTITY,
                message=_l("Choose a quantity between %(min)d and %(max)d.",
                           min=minimum, max=MAX_QUANTITY),
            ),
        ],
    )


class AddToCartForm(FlaskForm):
    """Posted by the product page, which writes the inputs itself (it has no form object)."""

    # Never rendered by a template: no label (WTForms would otherwise make and translate one
    # for every request, loading its own message catalog to do so).
    product_id = IntegerField(label="", validators=[InputRequired()])
    quantity = _quantity_field(1)


class QuantityForm(FlaskForm):
    """A cart line's new quantity; 0 removes the line."""

    quantity = _quantity_field(0)


class CheckoutForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        filters=[_strip],
        validators=[DataRequired(message=_l("Please enter your name.")), Length(max=120)],
        render_kw={"autocomplete": "name", "autocapitalize": "words", "maxlength": 120},
    )
    email = email_field()
    phone = TelField(
        _l("Phone number (optional)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=30),
            Regexp(r"^\+?[0-9 .()-]{6,30}$",
                   message=_l("Please enter a phone number, like 06 12 34 56 78.")),
        ],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 30},
    )
    gift_cards = StringField(
        _l("Gift card codes (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                   "maxlength": 200},
    )
    accept_terms = BooleanField(
        _l("Terms of sale"),  # the page writes its own label, with the link to the terms
        validators=[DataRequired(message=_l("Please accept the terms of sale to order."))]
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and user.is_authenticated:
            # The confirmation goes to the account's address: it is shown, not asked.
            del self.email


# --- pickup slots ----------------------------------------------------------------------------

SLOT_UNAVAILABLE = {
    SlotState.FULL: _l("This pickup slot is full: please choose another."),
    SlotState.PAST_CUTOFF: _l("Orders for this pickup slot are closed: please choose another."),
    SlotState.CLOSED: _l("This pickup slot is closed: please choose another."),
    SlotState.PAST: _l("This pickup slot is over: please choose another."),
}


@dataclass
class SlotOption:
    slot: object
    state: SlotState
    places_left: int  # after the bookings and the holds still running

    @property
    def is_open(self) -> bool:
        return self.state == SlotState.OPEN


@dataclass
class SellerSlots:
    """One seller's part of the cart and its upcoming slots; those that cannot be chosen are
    kept, to be shown disabled with the reason."""

    group: SellerGroup
    options: list[SlotOption]
    selected: int | None = None
    error: str | None = None

    @property
    def input_name(self) -> str:
        return f"slot-{self.group.organization.id}"

    @property
    def has_open_slot(self) -> bool:
        return any(option.is_open for option in self.options)


@cache
def _slots_statement() -> sa.Select:
    """A seller's upcoming slots, each with the places its running holds keep
    (orders.services.slot_places_held), in one query built once."""
    now = sa.bindparam("slots_now", type_=PickupSlot.ends_at.type)
    return pickup.upcoming_slots_statement().add_columns(
        PickupSlot.held_places - expired_places(now))


def slot_choices(cart_view: CartView) -> list[SellerSlots]:
    now = utcnow()
    choices = []
    for group in cart_view.groups:
        options = []
        parameters = pickup.upcoming_slots_parameters(group.organization.id, days=SLOT_DAYS,
                                                      now=now)
        for slot, held_places in db.session.execute(_slots_statement(), parameters):
            taken = slot.booked + int(held_places)
            options.append(SlotOption(slot, pickup.slot_state(slot, now=now, taken=taken),
                                      max(slot.capacity - taken, 0)))
        choices.append(SellerSlots(group, options))
    return choices


def read_slot_choices(choices: list[SellerSlots], formdata) -> int | None:
    """Read each seller's chosen slot; None when all can be used, else the HTTP status of the
    worst refusal (400 nothing chosen, 409 no longer available)."""
    status = None
    for choice in choices:
        raw = formdata.get(choice.input_name, "")
        choice.selected = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
        option = next((o for o in choice.options if o.slot.id == choice.selected), None)
        if choice.selected is None:
            choice.error = _("Choose a pickup slot for %(seller)s.",
                             seller=choice.group.organization.name)
            status = status or 400
        elif option is None:
            choice.error = _("This pickup slot is not available: please choose another.")
            status = 409
        elif not option.is_open:
            choice.error = str(SLOT_UNAVAILABLE[option.state])
            status = 409
    return status
