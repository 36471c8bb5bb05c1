"""The platform team's invoicing pages: pro-formas awaiting a transfer, recording a transfer
received (or an excess sent back), every document issued and its PDF. Admins only."""
from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.access import admins_only
from marketplace.db import db
from marketplace.errors import DomainError
from marketplace.invoicing import transfers
from marketplace.invoicing.forms import RefundForm, TransferForm
from marketplace.invoicing.models import Document, DocumentKind, PaymentStatus
from marketplace.invoicing.pdf import document_pdf, kind_label
from marketplace.invoicing.references import printed

bp = Blueprint("invoicing_admin", __name__, url_prefix="/admin/invoicing")

PER_PAGE = 50


bp.before_request(admins_only)  # every page of this blueprint, present and future


@bp.app_template_filter("transfer_reference")
def _transfer_reference(value: str | None) -> str:
    return printed(value) if value else ""


@bp.app_template_global("document_kind")
def _document_kind(kind: DocumentKind) -> str:
    return kind_label(kind)


@bp.get("/")
def index():
    query = request.args.get("q", "").strip()[:140]
    kind = _kind_arg()
    found = transfers.proforma_by_reference(query) if query else None
    documents = sa.select(Document).order_by(Document.id.desc())
    if kind is not None:
        documents = documents.where(Document.kind == kind)
    page = db.paginate(documents, page=request.args.get("page", 1, type=int),
                       per_page=PER_PAGE, error_out=False)
    return render_template("invoicing/admin_index.html", awaiting=transfers.awaiting_transfer(),
                           page=page, kind=kind, kinds=list(DocumentKind), query=query,
                           found=found, status_message=transfers.status_message)


@bp.get("/documents/<int:document_id>")
def document(document_id: int):
    return _render_document(_document_or_404(document_id))


@bp.get("/documents/<int:document_id>.pdf")
def document_file(document_id: int):
    doc = _document_or_404(document_id)
    return Response(document_pdf(doc), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{doc.number}.pdf"'})


@bp.post("/documents/<int:document_id>/transfers")
def record_transfer(document_id: int):
    return _record(document_id, TransferForm(prefix="transfer"), refund=False)


@bp.post("/documents/<int:document_id>/refunds")
def record_refund(document_id: int):
    return _record(document_id, RefundForm(prefix="refund"), refund=True)


def _record(document_id: int, form, *, refund: bool):
    doc = _document_or_404(document_id)
    if doc.kind != DocumentKind.PROFORMA:
        abort(404)
    forms = {"refund_form" if refund else "transfer_form": form}
    if not form.validate_on_submit():
        return _render_document(doc, status=400, **forms)
    try:
        if refund:
            outcome = transfers.record_refund(
                doc, amount_cents=form.amount.cents, sent_on=form.received_on.data,
                bank_reference=form.bank_reference.data or "", by=current_user)
        else:
            outcome = transfers.record_transfer(
                doc, amount_cents=form.amount.cents, received_on=form.received_on.data,
                bank_reference=form.bank_reference.data or "", by=current_user)
    except DomainError as exc:
        form.form_errors.append(str(exc.message))
        return _render_document(doc, status=exc.status_code, **forms)
    # Recorded either way: the money is on the account. A discrepancy is said as an error; the
    # page says by how much and what to do.
    if outcome.is_discrepancy:
        flash(_("The transfer is recorded, but the amount received does not match what is due: "
                "the pro-forma is not paid."), "error")
    elif refund:
        flash(_("The excess sent back is recorded."), "success")
    else:
        flash(_("The transfer is recorded."), "success")
    return redirect(url_for(".document", document_id=doc.id), 303)


def _render_document(doc: Document, *, status: int = 200, transfer_form=None, refund_form=None):
    transfer_form = transfer_form or TransferForm(prefix="transfer", formdata=None)
    refund_form = refund_form or RefundForm(prefix="refund", formdata=None)
    related = db.session.scalars(sa.select(Document).where(
        Document.related_id == doc.id).order_by(Document.id)).all()
    return render_template(
        "invoicing/admin_document.html", doc=doc, related=related,
        transfer_form=transfer_form, refund_form=refund_form,
        status_message=transfers.status_message(doc) if doc.payment_status else None,
        excess=doc.payment_status == PaymentStatus.EXCESS), status


def _document_or_404(document_id: int) -> Document:
    return db.session.get(Document, document_id) or abort(404)


def _kind_arg() -> DocumentKind | None:
    value = request.args.get("kind", "")
    try:
        return DocumentKind(value) if value else None
    except ValueError:
        abort(400)
