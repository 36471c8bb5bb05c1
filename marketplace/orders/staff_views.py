"""Seller pages for orders (who comes in which slot; cancel and refund). The shopper's
withdrawal request is a shopper page: orders.views.withdrawal.

Counter staff see the list and the detail, since they hand the goods over; money goes back
only on a manager's or an owner's word.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from marketplace import audit
from marketplace.audit.models import AuditEntry
from marketplace.audit.sentences import Described
from marketplace.db import db, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import format_period, format_rate, money_filter
from marketplace.orders import queries
from marketplace.orders.models import OrderPart, OrderStatus
from marketplace.orders.payment_methods import page as payment_page
from marketplace.orders.staff_forms import (
    ALL_STATUSES,
    DEFAULT_FILTER,
    PAID_AND_LATER,
    CancelPartForm,
    OrderFilterForm,
    parse_id,
    refund_lines_form,
)
from marketplace.orders.status import REFUNDABLE
from marketplace.organizations.access import member_required, owned_or_404
from marketplace.organizations.models import Role
from marketplace.pickup.models import PickupSlot

bp = Blueprint("orders_staff", __name__)

PER_PAGE = 50
MAX_PAGE = 10_000
SLOT_CHOICE_DAYS_BACK = 14
SLOT_CHOICE_DAYS_AHEAD = 28

# --- the seller's order list -----------------------------------------------------------------


@bp.get("/orgs/<int:org_id>/orders")
@member_required(Role.COUNTER)
def orders(organization, membership):
    form = OrderFilterForm(
        request.args, slot_choices=_slot_choices(organization, parse_id(request.args.get("slot")))
    )
    status = form.chosen_status
    if status == DEFAULT_FILTER:
        statuses = PAID_AND_LATER
    elif status != ALL_STATUSES:
        statuses = [OrderStatus(status)]
    else:
        statuses = None
    stmt = queries.seller_parts(organization.id, statuses=statuses,
                                slot_id=form.chosen_slot_id, text=form.query)
    page = db.paginate(
        stmt, page=min(request.args.get("page", 1, type=int), MAX_PAGE), per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "orders/staff/orders.html", organization=organization, membership=membership,
        page=page, form=form,
        filters={"status": status or None, "slot": form.chosen_slot_id, "q": form.query or None},
    )


def _slot_choices(organization, chosen_slot_id: int | None) -> list[SelectChoice]:
    """The organization's recent and coming slots (and the one asked for, if older)."""
    slots = queries.seller_slots_around(
        organization.id, utcnow(), days_back=SLOT_CHOICE_DAYS_BACK,
        days_ahead=SLOT_CHOICE_DAYS_AHEAD, also_slot_id=chosen_slot_id)
    return [SelectChoice(str(slot.id), _slot_label(slot)) for slot in slots]


def _slot_label(slot: PickupSlot) -> str:
    return _("%(when)s, %(place)s", when=format_period(slot.starts_at, slot.ends_at, "short_day"),
             place=slot.location.name)


# --- one order part --------------------------------------------------------------------------


@bp.get("/orgs/<int:org_id>/orders/<int:part_id>")
@member_required(Role.COUNTER)
def part(organization, membership, part_id: int):
    return _render_part(organization, membership, owned_or_404(OrderPart, part_id, organization))


@bp.post("/orgs/<int:org_id>/orders/<int:part_id>/cancel")
@member_required(Role.MANAGER)
def cancel_part(organization, membership, part_id: int):
    part = owned_or_404(OrderPart, part_id, organization)
    form = CancelPartForm()
    if not form.validate_on_submit():
        return _render_part(organization, membership, part, cancel_form=form, status=400)
    try:
        payment_page().cancel_part(part, by=_me(), reason=form.reason.data.strip())
    except DomainError as exc:
        # An error answer: the unit rolls back what is not already durable (a refusal of the
        # payment provider is recorded by payments.refunds, a named durable step).
        form.form_errors.append(exc.message)
        return _render_part(organization, membership, part, cancel_form=form,
                            status=exc.status_code)
    flash(_("The part of order %(reference)s was cancelled and the shopper refunded.",
            reference=part.order.reference), "success")
    return redirect(url_for(".part", org_id=organization.id, part_id=part.id))


@bp.post("/orgs/<int:org_id>/orders/<int:part_id>/refund")
@member_required(Role.MANAGER)
def refund_lines(organization, membership, part_id: int):
    part = owned_or_404(OrderPart, part_id, organization)
    form = refund_lines_form(part)
    if not form.validate_on_submit():
        return _render_part(organization, membership, part, refund_form=form, status=400)
    try:
        refund = payment_page().refund_part(
            part, quantities=form.quantities(), by=_me(), reason=form.reason.data.strip()
        )
    except DomainError as exc:
        form.form_errors.append(exc.message)
        return _render_part(organization, membership, part, refund_form=form,
                            status=exc.status_code)
    flash(_("%(amount)s was refunded to the shopper of order %(reference)s.",
            amount=money_filter(refund.amount_cents), reference=part.order.reference), "success")
    return redirect(url_for(".part", org_id=organization.id, part_id=part.id))


def _me():
    return current_user._get_current_object()


def _render_part(organization, membership, part: OrderPart, *, cancel_form=None,
                 refund_form=None, status: int = 200):
    can_refund = membership.has_role(Role.MANAGER) and part.status in REFUNDABLE
    if can_refund:
        refund_form = refund_form or refund_lines_form(part, formdata=None)
        cancel_form = cancel_form or CancelPartForm(formdata=None)
        if not refund_form.line_ids:  # every line already refunded
            can_refund = False
    return render_template(
        "orders/staff/part.html", organization=organization, membership=membership, part=part,
        order=part.order, history=_history(part), can_refund=can_refund,
        commission_rate=None if part.commission_rate_bp is None
        else format_rate(part.commission_rate_bp),
        cancel_form=cancel_form, refund_form=refund_form,
    ), status


def _history(part: OrderPart) -> list[Described]:
    """What happened to the order and to this part, oldest first, in sentences (the amounts of
    the whole order, shared with other sellers, left out).

    Entries about the whole order are kept, but never those about another seller's part
    (payments' refund entries name their part, or only their refund)."""
    entries = queries.audit_entries_of_part(part)
    refund_ids = {entry.data["refund_id"] for entry in entries
                  if (entry.data or {}).get("refund_id") and "part_id" not in entry.data}
    refund_parts = payment_page().parts_of_refunds(refund_ids)
    return audit.describe(
        [entry for entry in entries
         if entry.organization_id in (None, part.organization_id)
         and _part_of_entry(entry, refund_parts) in (None, part.id)],
        audit.Reader(organization_id=part.organization_id),
    )


def _part_of_entry(entry: AuditEntry, refund_parts: dict[int, int | None]) -> int | None:
    data = entry.data or {}
    if "part_id" in data:
        return data["part_id"]
    return refund_parts.get(data.get("refund_id"))
