"""The platform admins' list of the commission invoices sent to sellers, with their PDF and
Factur-X."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from marketplace.accounting import queries
from marketplace.accounting.models import CommissionInvoice
from marketplace.accounting.views import pdf_response
from marketplace.accounts.access import admins_only
from marketplace.db import db

bp = Blueprint("accounting_admin", __name__, url_prefix="/admin/accounting")
bp.before_request(admins_only)
PER_PAGE = 50


@bp.get("/commission-invoices")
def commission_invoices():
    page = db.paginate(queries.all_commission_invoices(),
                       page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)
    return render_template("accounting/admin_invoices.html", page=page)


@bp.get("/commission-invoices/<int:invoice_id>.pdf")
def invoice_pdf(invoice_id: int):
    invoice = db.session.get(CommissionInvoice, invoice_id)
    if invoice is None:
        abort(404)
    return pdf_response(invoice.document, facturx=request.args.get("format") == "facturx")
