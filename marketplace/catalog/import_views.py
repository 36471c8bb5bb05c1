"""A seller's products as a spreadsheet: export (CSV, XLSX), import with a preview.

The uploaded files are kept on the server under a random token (UPLOAD_DIR/imports/<org>/):
the preview reads them, and the confirmation reads and checks them again (nothing of the
preview is taken from the form). They are deleted once the import is applied or discarded,
and after a day otherwise."""
from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from marketplace import uow
from marketplace.catalog import product_import
from marketplace.catalog.forms import ConfirmForm
from marketplace.errors import render_error
from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations.access import member_required
from marketplace.organizations.models import Role
from marketplace.spreadsheets import SpreadsheetError

bp = Blueprint("catalog_import", __name__)

SHEET_MAX_BYTES = 8 * 1024 * 1024
PHOTOS_MAX_BYTES = 15 * 1024 * 1024  # under MAX_CONTENT_LENGTH with the spreadsheet
KEEP_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,40}")
PREVIEW_LINES = 500  # lines shown; the problems are all shown


class ImportForm(FlaskForm):
    spreadsheet = FileField(_l("Spreadsheet (CSV or Excel .xlsx)"),
                            validators=[FileRequired(_l("Choose a file to send."))],
                            render_kw={"accept": ".csv,.xlsx,text/csv"})
    photos = FileField(_l("Photos in a ZIP file (optional)"), render_kw={"accept": ".zip"})


def _folder(organization) -> Path:
    folder = Path(current_app.config["UPLOAD_DIR"]) / "imports" / str(organization.id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sweep(folder: Path) -> None:
    limit = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _files(organization, token: str) -> tuple[bytes, bytes | None, dict]:
    if not _TOKEN.fullmatch(token):
        abort(404)
    folder = _folder(organization)
    sheet, photos, meta = (folder / f"{token}.sheet", folder / f"{token}.zip",
                           folder / f"{token}.json")
    if not sheet.is_file() or not meta.is_file():
        abort(404)
    return (sheet.read_bytes(), photos.read_bytes() if photos.is_file() else None,
            json.loads(meta.read_text()))


def _discard_files(folder: str, token: str) -> None:
    for suffix in ("sheet", "zip", "json"):
        (Path(folder) / f"{token}.{suffix}").unlink(missing_ok=True)


# --- export ----------------------------------------------------------------------------------


@bp.get("/orgs/<int:org_id>/products/export.csv")
@member_required(Role.MANAGER)
def export_csv(organization, membership):
    return Response(product_import.export_csv(organization), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="produits.csv"'})


@bp.get("/orgs/<int:org_id>/products/export.xlsx")
@member_required(Role.MANAGER)
def export_xlsx(organization, membership):
    return Response(
        product_import.export_xlsx(organization),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="produits.xlsx"'})


# --- import ----------------------------------------------------------------------------------


@bp.route("/orgs/<int:org_id>/products/import", methods=["GET", "POST"])
@member_required(Role.MANAGER)
def upload(organization, membership):
    if not organization.is_seller:
        return render_error(403, _("Only sellers can list products."))
    form = ImportForm()
    error, status = None, 200
    if form.validate_on_submit():
        data = form.spreadsheet.data.read(SHEET_MAX_BYTES + 1)
        photos = form.photos.data.read(PHOTOS_MAX_BYTES + 1) if form.photos.data else b""
        try:
            if len(data) > SHEET_MAX_BYTES:
                raise SpreadsheetError(_("The file is larger than %(size)s MB.",
                                         size=SHEET_MAX_BYTES // 2**20), status_code=413)
            if len(photos) > PHOTOS_MAX_BYTES:
                raise SpreadsheetError(_("The ZIP of photos is larger than %(size)s MB.",
                                         size=PHOTOS_MAX_BYTES // 2**20), status_code=413)
            product_import.read_sheet(data)  # a file we cannot read is refused here
        except SpreadsheetError as exc:
            error, status = exc.message, exc.status_code
        else:
            folder = _folder(organization)
            _sweep(folder)
            token = secrets.token_urlsafe(18)
            (folder / f"{token}.sheet").write_bytes(data)
            if photos:
                (folder / f"{token}.zip").write_bytes(photos)
            (folder / f"{token}.json").write_text(json.dumps({
                "filename": (form.spreadsheet.data.filename or "")[:200],
                "photos": (form.photos.data.filename or "")[:200] if photos else "",
                "by": current_user.id}))
            return redirect(url_for(".preview", org_id=organization.id, token=token))
    elif form.errors:
        status = 400
    return render_template(
        "catalog/staff/import_upload.html", organization=organization, membership=membership,
        form=form, error=error, labels=product_import.COLUMN_LABELS,
        max_lines=format_decimal(product_import.max_lines())), status


def _plan(organization, token):
    data, photos, meta = _files(organization, token)
    sheet = product_import.read_sheet(data)
    return product_import.plan(organization, sheet, product_import.read_photos(photos)), meta


@bp.get("/orgs/<int:org_id>/products/import/<token>")
@member_required(Role.MANAGER)
def preview(organization, membership, token: str):
    plan, meta = _plan(organization, token)
    return _render_preview(organization, membership, token, plan, meta)


def _render_preview(organization, membership, token, plan, meta, status=200):
    return render_template(
        "catalog/staff/import_preview.html", organization=organization, membership=membership,
        token=token, plan=plan, meta=meta, confirm_form=ConfirmForm(),
        labels=product_import.COLUMN_LABELS, changes=product_import.CHANGE_LABELS,
        shown=[line for line in plan.lines if line.problems or line.action != "same"][:PREVIEW_LINES],
    ), status


@bp.post("/orgs/<int:org_id>/products/import/<token>")
@member_required(Role.MANAGER)
def apply(organization, membership, token: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    product_import.lock_seller(organization)  # then read: a second click waits for the first
    plan, meta = _plan(organization, token)
    if not plan.ok:
        uow.refuse()
        flash(_("Some lines still have a problem: nothing was imported."), "error")
        return _render_preview(organization, membership, token, plan, meta, status=409)
    result = product_import.apply(organization, plan, by=current_user)
    # The uploaded files go once the import is committed.
    uow.after_commit(_discard_files, str(_folder(organization)), token)
    flash(_("Import done: %(created)s products created, %(updated)s updated, %(photos)s photos "
            "added.", created=result.created, updated=result.updated, photos=result.photos),
          "success")
    return redirect(url_for("catalog_staff.products", org_id=organization.id, status="all"))


@bp.post("/orgs/<int:org_id>/products/import/<token>/discard")
@member_required(Role.MANAGER)
def discard(organization, membership, token: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _files(organization, token)
    uow.after_commit(_discard_files, str(_folder(organization)), token)
    flash(_("The import was discarded: nothing was changed."), "success")
    return redirect(url_for("catalog_staff.products", org_id=organization.id))
