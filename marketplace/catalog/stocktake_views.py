"""The stock-take screen (catalog/stocktake.py): counts typed or scanned, each saved at once;
the differences; their confirmation."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from marketplace import qr
from marketplace.catalog import stocktake
from marketplace.catalog.forms import ConfirmForm
from marketplace.catalog.models import Product
from marketplace.catalog.stocktake import ScanError
from marketplace.errors import DomainError, render_error
from marketplace.extensions import limiter
from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations.access import member_required, owned_or_404
from marketplace.organizations.models import Role

bp = Blueprint("catalog_stocktake", __name__)


class ScanForm(FlaskForm):
    q = StringField(_l("Scan a label or a barcode, or type a reference"),
                    validators=[Length(max=stocktake.SCAN_MAX)])


class CountForm(FlaskForm):
    counted = IntegerField(_l("Counted"), validators=[
        InputRequired(_l("Type the number of units counted.")),
        NumberRange(min=0, max=stocktake.COUNT_MAX,
                    message=_l("A count is a whole number between 0 and %(max)s.",
                               max=stocktake.COUNT_MAX))])


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _stock_take_or_404(organization, stock_take_id: int):
    found = stocktake.get(organization, stock_take_id)
    if found is None:
        abort(404)
    return found


@bp.get("/orgs/<int:org_id>/stock-takes")
@member_required(Role.MANAGER)
def stock_takes(organization, membership):
    return render_template(
        "catalog/staff/stock_takes.html", organization=organization, membership=membership,
        current=stocktake.open_stock_take(organization),
        past=stocktake.stock_takes_of(organization), confirm_form=ConfirmForm())


@bp.post("/orgs/<int:org_id>/stock-takes")
@member_required(Role.MANAGER)
def start(organization, membership):
    if not organization.is_seller:
        return render_error(403, _("Only sellers can list products."))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found = stocktake.start(organization, by=current_user)
    return redirect(url_for(".stock_take", org_id=organization.id, stock_take_id=found.id))


def _render(organization, membership, found, *, scan_form=None, error=None, status=200):
    rows = stocktake.rows(found)
    return render_template(
        "catalog/staff/stock_take.html", organization=organization, membership=membership,
        stock_take=found, rows=rows, counted=[row for row in rows if row.line is not None],
        differences=[row for row in rows if row.difference], scan_form=scan_form or ScanForm(
            formdata=None), count_form=CountForm(formdata=None), confirm_form=ConfirmForm(),
        error=error,
    ), status


@bp.get("/orgs/<int:org_id>/stock-takes/<int:stock_take_id>")
@member_required(Role.MANAGER)
def stock_take(organization, membership, stock_take_id: int):
    return _render(organization, membership, _stock_take_or_404(organization, stock_take_id))


def _counted(product, line) -> str:
    return ngettext("“%(title)s”: %(num)d counted.", "“%(title)s”: %(num)d counted.",
                    line.counted, title=product.title)


@bp.post("/orgs/<int:org_id>/stock-takes/<int:stock_take_id>/scan")
@member_required(Role.MANAGER)
def scan(organization, membership, stock_take_id: int):
    """One unit of the product a label's QR code, a barcode or a reference names."""
    found = _stock_take_or_404(organization, stock_take_id)
    form = ScanForm()
    if not form.validate_on_submit():
        return _render(organization, membership, found, scan_form=form, status=400)
    try:
        product = stocktake.product_of_code(organization, form.q.data)
        line = stocktake.record(found, product, add=1, by=current_user)
    except DomainError as exc:
        if _wants_json():
            return jsonify(ok=False, message=str(exc.message)), exc.status_code
        return _render(organization, membership, found, scan_form=form,
                       error=str(exc.message), status=exc.status_code)
    message = _counted(product, line)
    if _wants_json():
        return jsonify(ok=True, message=message, product_id=product.id, counted=line.counted)
    flash(message, "success")
    return redirect(url_for(".stock_take", org_id=organization.id, stock_take_id=found.id,
                            _anchor=f"product-{product.id}"))


@bp.post("/orgs/<int:org_id>/stock-takes/<int:stock_take_id>/products/<int:product_id>")
@member_required(Role.MANAGER)
def count(organization, membership, stock_take_id: int, product_id: int):
    """The number typed for a product (the page's script sends it as soon as it is typed)."""
    found = _stock_take_or_404(organization, stock_take_id)
    product = owned_or_404(Product, product_id, organization)
    form = CountForm()
    try:
        if not form.validate_on_submit():
            raise DomainError(next(iter(form.errors.values()))[0])
        line = stocktake.record(found, product, counted=form.counted.data, by=current_user)
    except DomainError as exc:
        if _wants_json():
            return jsonify(ok=False, message=str(exc.message)), exc.status_code
        return _render(organization, membership, found, error=str(exc.message),
                       status=exc.status_code)
    if _wants_json():
        return jsonify(ok=True, counted=line.counted,
                       difference=line.counted - line.stock_when_counted,
                       message=_("Saved."))
    flash(_counted(product, line), "success")
    return redirect(url_for(".stock_take", org_id=organization.id, stock_take_id=found.id,
                            _anchor=f"product-{product.id}"))


@bp.post("/orgs/<int:org_id>/stock-takes/<int:stock_take_id>/confirm")
@member_required(Role.MANAGER)
def confirm(organization, membership, stock_take_id: int):
    found = _stock_take_or_404(organization, stock_take_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    movements = stocktake.confirm(found, by=current_user)
    flash(_("Stock-take confirmed: %(count)s stock changes written.", count=len(movements)),
          "success")
    return redirect(url_for(".stock_takes", org_id=organization.id))


@bp.post("/orgs/<int:org_id>/stock-takes/<int:stock_take_id>/cancel")
@member_required(Role.MANAGER)
def cancel(organization, membership, stock_take_id: int):
    found = _stock_take_or_404(organization, stock_take_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    stocktake.cancel(found, by=current_user)
    flash(_("The stock-take was abandoned: no stock was changed."), "success")
    return redirect(url_for(".stock_takes", org_id=organization.id))


@bp.post("/orgs/<int:org_id>/stock-takes/decode")
@member_required(Role.MANAGER)
@limiter.limit("120/minute")
def decode_frame(organization, membership):
    """A camera frame from a browser without BarcodeDetector: the QR's or barcode's text."""
    frame = request.files.get("frame")
    data = frame.read(qr.FRAME_MAX_BYTES + 1) if frame else request.get_data()
    try:
        text = qr.decode_frame(data, barcodes=True)
    except qr.BadFrame:
        return jsonify(error=_("This is not a picture we can read.")), 400
    return jsonify(text=text)


__all__ = ["ScanError", "bp"]
