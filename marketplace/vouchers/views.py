"""The shopper's voucher (page, QR image, PDF) and the staff's counter and slot pages."""
from __future__ import annotations

import secrets
from datetime import timedelta

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
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from marshmallow import ValidationError

from marketplace import exports, uow
from marketplace.db import db, utcnow
from marketplace.errors import DomainError
from marketplace.extensions import limiter
from marketplace.giftcards import codes as card_codes
from marketplace.giftcards import views as card_views
from marketplace.giftcards.schemas import wrong_fields
from marketplace.orders.staff_forms import STATUS_LABELS
from marketplace.organizations import tickets
from marketplace.organizations.access import member_required
from marketplace.organizations.models import Role
from marketplace.pickup.models import PickupSlot
from marketplace.security import private
from marketplace.vouchers import decode, pdf, qr
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.codes import INPUT_MAX
from marketplace.vouchers.models import Voucher
from marketplace.vouchers.schemas import RedeemBody
from marketplace.vouchers.today import todays_pickups

bp = Blueprint("vouchers", __name__)

SLOT_LIST_DAYS_BACK = 7
SLOT_LIST_DAYS_AHEAD = 14



# --- the shopper's voucher -------------------------------------------------------------------


def _voucher_or_404(token: str):
    voucher = vouchers.by_token(token)
    if voucher is None:
        abort(404)
    return voucher


@bp.get("/v/<token>")
def show(token: str):
    voucher = _voucher_or_404(token)
    part = voucher.part
    collections = list(voucher.collections)  # each with its lines (selectin)
    response = Response(render_template(
        "vouchers/voucher.html", voucher=voucher, part=part, order=part.order,
        refused=vouchers.refusal(part),
        collected_ids={line.order_line_id for c in collections for line in c.lines},
        collections=collections,
    ))
    private(response)
    return response


@bp.get("/v/<token>/qr.png")
def qr_image(token: str):
    voucher = _voucher_or_404(token)
    response = Response(qr.voucher_png(voucher), mimetype="image/png")
    return private(response)


@bp.get("/v/<token>/voucher.pdf")
def pdf_file(token: str):
    voucher = _voucher_or_404(token)
    response = Response(pdf.voucher_pdf(voucher), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'inline; filename="voucher-{voucher.part.order.reference}-{voucher.code}.pdf"'
    )
    return private(response)



# --- the counter -----------------------------------------------------------------------------


@bp.get("/orgs/<int:org_id>/counter")
@member_required(Role.COUNTER)
def counter(organization, membership):
    # Today's pickups on the counter's first page only: the scan and collect pages that follow
    # are the counter's hot path.
    return _counter_page(organization, membership, today=todays_pickups(organization))


def _counter_page(organization, membership, *, view=None, error=None, result=None, status=200,
                  query="", today=None, ticket=None):
    return render_template(
        "vouchers/counter.html", organization=organization, membership=membership,
        view=view, error=error, result=result, query=query, today=today, ticket=ticket,
        nonce=secrets.token_urlsafe(16),
    ), status


# What a scan found can be collected by this volunteer at this counter for a while: the
# "Collected" form carries a ticket (organizations.tickets), never the voucher's id.
VOUCHER_TICKET = "voucher"


def _ticket(voucher, organization) -> str:
    return tickets.issue(VOUCHER_TICKET, voucher.id, user_id=current_user.id,
                         organization_id=organization.id)


@bp.route("/orgs/<int:org_id>/counter/scan", methods=["GET", "POST"])
@member_required(Role.COUNTER)
def scan(organization, membership):
    """The counter's form posts what was scanned or typed (an address keeps it in the till's
    history and in access logs); GET stays for scanner apps that open an address."""
    text = request.values.get("q", "")[:INPUT_MAX]
    if card_codes.looks_like_card(text):  # one field for both: a gift card shows the card
        return card_views.counter_lookup_page(organization, membership, text)
    try:
        voucher = vouchers.find_for_counter(text, organization)
    except DomainError as exc:
        return _counter_page(organization, membership, error=exc.message,
                             status=exc.status_code)
    view = vouchers.counter_view(voucher)
    return _counter_page(organization, membership, view=view, ticket=_ticket(voucher, organization),
                         status=view.refused.status_code if view.refused else 200)


@bp.post("/orgs/<int:org_id>/counter/collect")
@member_required(Role.COUNTER)
def collect(organization, membership):
    ticket = request.form.get("ticket")
    try:
        voucher_id = tickets.read(VOUCHER_TICKET, ticket, user_id=current_user.id,
                                  organization_id=organization.id)
    except tickets.ExpiredTicket:
        minutes = current_app.config["COUNTER_TICKET_SECONDS"] // 60
        return _counter_page(organization, membership, status=400, error=ngettext(
            "The voucher was scanned more than %(num)d minute ago: scan it again.",
            "The voucher was scanned more than %(num)d minutes ago: scan it again.", minutes))
    except tickets.BadTicket:
        return _counter_page(organization, membership, status=404, error=_(
            "Scan the voucher or type its code first: goods are handed over only for a voucher "
            "shown at the counter."))
    line_ids = _line_ids(request.form.getlist("line"))
    if line_ids is None:
        abort(400)
    try:
        result = vouchers.collect(
            voucher_id, organization=organization, by=current_user,
            nonce=request.form.get("nonce", ""), line_ids=line_ids,
        )
    except DomainError as exc:  # a refusal changes nothing; the error answer rolls back
        voucher = db.session.get(Voucher, voucher_id)
        view = None
        if voucher is not None and voucher.part.organization_id == organization.id:
            view = vouchers.counter_view(voucher)
            if view.refused is not None:
                exc = view.refused if exc.status_code != 400 else exc
        return _counter_page(organization, membership, view=view, error=exc.message,
                             status=exc.status_code, ticket=ticket)
    # The page shows the voucher as it is now (the unit commits after the page is drawn).
    return _counter_page(organization, membership, result=result, ticket=ticket,
                         view=vouchers.counter_view(db.session.get(
                             Voucher, result.voucher_id, options=vouchers.COUNTER_PAGE)))


@bp.post("/orgs/<int:org_id>/counter/redeem")
@member_required(Role.COUNTER)
def redeem(organization, membership):
    """The counter's one-request redemption (JSON), for express scanning and scanner apps:
    {"q": scanned text or code, "nonce": "...", "lines": [ids] (optional, default all)}.
    Answers {"result": "collected" | "refused" | "not_found" | "invalid", "message", ...}; the
    CSRF token goes in the X-CSRFToken header, as the counter page's script sends it."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(result="invalid", message=_("Send a JSON object."), fields=["_schema"]), 400
    try:
        body = RedeemBody().load(body)
    except ValidationError as exc:
        return jsonify(result="invalid", fields=wrong_fields(exc),
                       message=_("q and nonce must be text, lines a list of line ids.")), 400
    text, nonce, lines = body["q"], body["nonce"], body["lines"]
    try:
        result = vouchers.collect_scanned(text[:INPUT_MAX], organization=organization,
                                          by=current_user, nonce=nonce,
                                          line_ids=None if lines is None else set(lines))
    except DomainError as exc:  # a refusal changes nothing; the error answer rolls back
        kind = {404: "not_found", 400: "invalid"}.get(exc.status_code, "refused")
        payload = {"result": kind, "message": str(exc.message)}
        collection = getattr(exc, "collection", None)
        if collection is not None:
            payload["collected_at"] = collection.created_at.isoformat()
            payload["collected_by"] = collection.collected_by_name
        return jsonify(payload), exc.status_code
    payload = {
        "result": "collected",
        "replayed": result.replayed,
        "complete": result.complete,
        "reference": result.reference,
        "name": result.name,
        "collected_at": result.created_at.isoformat(),
        "lines": [{"id": h.line_id, "title": h.title, "quantity": h.quantity}
                  for h in result.lines],
        "message": _("Collected: hand over the goods to %(name)s.", name=result.name),
    }
    return jsonify(payload)


def _line_ids(values: list[str]) -> set[int] | None:
    """The ticked lines; None when a value is not a line id at all (a forged form)."""
    ids = set()
    for value in values:
        if not value.isdigit() or len(value) > 12:
            return None
        ids.add(int(value))
    return ids


@bp.post("/orgs/<int:org_id>/counter/decode")
@member_required(Role.COUNTER)
@limiter.limit("120/minute")
def decode_frame(organization, membership):
    """A camera frame from a browser without BarcodeDetector: the QR's text, or nothing."""
    frame = request.files.get("frame")
    data = frame.read(decode.FRAME_MAX_BYTES + 1) if frame else request.get_data()
    try:
        text = decode.decode_frame(data)
    except decode.BadFrame:
        return jsonify(error=_("This is not a picture the counter can read.")), 400
    return jsonify(text=text)


# --- slots: who comes when; no-shows ---------------------------------------------------------


@bp.get("/orgs/<int:org_id>/slots")
@member_required(Role.COUNTER)
def slots(organization, membership):
    now = utcnow()
    rows = vouchers.slots_with_paid_parts(
        organization.id, since=now - timedelta(days=SLOT_LIST_DAYS_BACK),
        until=now + timedelta(days=SLOT_LIST_DAYS_AHEAD))
    return render_template("vouchers/slots.html", organization=organization,
                           membership=membership, rows=rows, now=now)


def _slot_of(organization, slot_id: int) -> PickupSlot:
    slot = db.session.get(PickupSlot, slot_id)
    if slot is None or slot.location.organization_id != organization.id:
        abort(404)
    return slot


def _slot_rows(slot: PickupSlot):
    parts = vouchers.slot_parts(slot)
    found = vouchers.vouchers_of(parts)
    collections = vouchers.collections_of(found.values())
    return [(part, found.get(part.id), collections.get(part.id, [])) for part in parts]


@bp.get("/orgs/<int:org_id>/slots/<int:slot_id>")
@member_required(Role.COUNTER)
def slot(organization, membership, slot_id: int):
    slot = _slot_of(organization, slot_id)
    return render_template(
        "vouchers/slot.html", organization=organization, membership=membership, slot=slot,
        rows=_slot_rows(slot), ended=slot.ends_at <= utcnow(),
        printable=request.args.get("print") == "1",
    )


def _csv_header() -> list[str]:
    return [_("Order"), _("Name"), _("Phone"), _("Status"), _("Voucher"), _("Items"),
            _("Collected on")]


@bp.get("/orgs/<int:org_id>/slots/<int:slot_id>/orders.csv")
@member_required(Role.COUNTER)
def slot_csv(organization, membership, slot_id: int):
    """Who comes in the slot, in the reader's language (headers, statuses, local dates)."""
    slot = _slot_of(organization, slot_id)
    parts = vouchers.slot_parts(slot)
    found = vouchers.vouchers_of(parts)  # the collections are not in the CSV
    rows = []
    for part in parts:
        voucher = found.get(part.id)
        items = ", ".join(
            _("%(quantity)d × %(title)s", quantity=line.quantity - line.refunded_quantity,
              title=line.title)
            for line in part.lines if line.quantity > line.refunded_quantity)
        order = part.order
        rows.append([
            exports.cell(order.reference), exports.cell(order.name), exports.cell(order.phone),
            STATUS_LABELS[part.status], voucher.masked_code if voucher else "",
            exports.cell(items), exports.local_datetime(part.collected_at),
        ])
    filename = f"slot-{slot.starts_at:%Y-%m-%d-%H%M}-{slot.id}.csv"
    return exports.csv_response(_csv_header(), rows, filename=filename)


@bp.post("/orgs/<int:org_id>/slots/<int:slot_id>/no-shows")
@member_required(Role.MANAGER)
def no_shows(organization, membership, slot_id: int):
    slot = _slot_of(organization, slot_id)
    try:
        marked = vouchers.mark_no_shows(slot, organization=organization, by=current_user)
    except DomainError as exc:
        uow.refuse()  # a redirect: nothing of a refused marking stays
        flash(str(exc.message), "error")
        return redirect(url_for("vouchers.slot", org_id=organization.id, slot_id=slot_id))
    if marked:
        flash(ngettext("%(num)d order marked as not collected.",
                       "%(num)d orders marked as not collected.", len(marked)), "success")
    else:
        flash(_("Every order of this slot was collected: nothing to mark."), "success")
    return redirect(url_for("vouchers.slot", org_id=organization.id, slot_id=slot_id))

