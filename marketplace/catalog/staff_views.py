"""Seller back office for products, photos and stock (owner and manager)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import uow
from marketplace.catalog import images, services
from marketplace.catalog.forms import (
    STOCK_REASON_LABELS,
    ConfirmForm,
    CountedStockForm,
    NewProductForm,
    PhotoForm,
    ProductForm,
    StockForm,
    kilograms_text,
    price_text,
)
from marketplace.catalog.images import ImageError
from marketplace.catalog.labels import DEFAULT_LAYOUT, LAYOUTS
from marketplace.catalog.models import Category, Product, ProductPhoto, ProductStatus, StockReason
from marketplace.catalog.quick import DailyAlertsForm
from marketplace.db import db
from marketplace.errors import DomainError, render_error
from marketplace.organizations.access import member_required, owned_or_404
from marketplace.organizations.models import Role

bp = Blueprint("catalog_staff", __name__)

PER_PAGE = 50
LIST_FILTERS = ("active", "draft", "archived", "all")


@bp.context_processor
def _labels():
    return {"STOCK_REASON_LABELS": STOCK_REASON_LABELS}


# --- products --------------------------------------------------------------------------------


@bp.get("/orgs/<int:org_id>/products")
@member_required(Role.MANAGER)
def products(organization, membership):
    shown = request.args.get("status", "active")
    if shown not in LIST_FILTERS:
        shown = "active"
    page = db.paginate(
        services.products_of(organization, None if shown == "all" else ProductStatus(shown)),
        page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False,
    )

    return render_template(
        "catalog/staff/products.html", organization=organization, membership=membership,
        page=page, shown=shown, label_layouts=LAYOUTS.values(), default_layout=DEFAULT_LAYOUT,
        alerts_form=DailyAlertsForm(formdata=None, daily_alerts=membership.daily_alerts),
    )


@bp.route("/orgs/<int:org_id>/products/new", methods=["GET", "POST"])
@member_required(Role.MANAGER)
def new_product(organization, membership):
    if not organization.is_seller:
        return render_error(403, _("Only sellers can list products."))
    form = NewProductForm(categories=services.category_tree())
    if not form.is_submitted() and organization.vat_exempt:
        form.vat_rate_bp.data = 0  # art. 293 B: no VAT charged
    if form.validate_on_submit():
        photo = form.photo.data.read() if form.photo.data else None
        try:
            product = services.create_product(
                organization,
                stock=None if form.unlimited.data else form.stock.data,
                by=current_user,
                **form.product_fields(_chosen_category(form)),
                **form.condition_and_alert(),
            )
            if photo is not None:
                services.add_photo(product, photo, alt_text=form.alt_text.data, by=current_user)
        except ImageError as exc:
            form.photo.errors.append(str(exc.message))
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("The product “%(title)s” was created.", title=product.title), "success")
            return redirect(url_for(".edit_product", org_id=organization.id, product_id=product.id))
    return render_template(
        "catalog/staff/new_product.html", organization=organization, membership=membership,
        form=form,
    ), 400 if request.method == "POST" else 200


@bp.route("/orgs/<int:org_id>/products/<int:product_id>", methods=["GET", "POST"])
@member_required(Role.MANAGER)
def edit_product(organization, membership, product_id: int):
    product = _product_or_404(organization, product_id)
    form = _details_form(product, bound=True)
    if form.validate_on_submit():
        try:
            services.update_product(
                product, by=current_user, **form.product_fields(_chosen_category(form))
            )
            services.update_condition_and_alert(product, by=current_user,
                                                **form.condition_and_alert())
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("The product “%(title)s” was saved.", title=product.title), "success")
            return _back_to(product)
    return _render_product(
        organization, membership, product, form=form,
        status=400 if request.method == "POST" else 200,
    )


@bp.post("/orgs/<int:org_id>/products/<int:product_id>/archive")
@member_required(Role.MANAGER)
def archive_product(organization, membership, product_id: int):
    product = _product_or_404(organization, product_id)
    if ConfirmForm().validate_on_submit():
        services.set_status(product, ProductStatus.ARCHIVED, by=current_user)
        flash(_("“%(title)s” is archived: shoppers no longer see it.", title=product.title), "success")
    return _back_to(product)


@bp.post("/orgs/<int:org_id>/products/<int:product_id>/restore")
@member_required(Role.MANAGER)
def restore_product(organization, membership, product_id: int):
    product = _product_or_404(organization, product_id)
    if ConfirmForm().validate_on_submit():
        services.set_status(product, ProductStatus.ACTIVE, by=current_user)
        flash(_("“%(title)s” is on sale again.", title=product.title), "success")
    return _back_to(product)


@bp.post("/orgs/<int:org_id>/products/<int:product_id>/publish")
@member_required(Role.MANAGER)
def publish_product(organization, membership, product_id: int):
    """A draft goes on sale."""
    product = _product_or_404(organization, product_id)
    if ConfirmForm().validate_on_submit() and product.is_draft:
        services.set_status(product, ProductStatus.ACTIVE, by=current_user)
        flash(_("“%(title)s” is on sale.", title=product.title), "success")
    return _back_to(product)


# --- photos ----------------------------------------------------------------------------------


@bp.post("/orgs/<int:org_id>/products/<int:product_id>/photos")
@member_required(Role.MANAGER)
def add_photo(organization, membership, product_id: int):
    product = _product_or_404(organization, product_id)
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            services.add_photo(
                product, form.photo.data.read(), alt_text=form.alt_text.data, by=current_user
            )
        except DomainError as exc:  # ImageError, or too many photos
            form.photo.errors.append(str(exc.message))
        else:
            flash(_("The photo was added."), "success")
            return _back_to(product, "photos-section")
    return _render_product(organization, membership, product, photo_form=form, status=400)


@bp.post("/orgs/<int:org_id>/products/<int:product_id>/photos/<int:photo_id>/remove")
@member_required(Role.MANAGER)
def remove_photo(organization, membership, product_id: int, photo_id: int):
    product = _product_or_404(organization, product_id)
    photo = _photo_or_404(product, photo_id)
    if ConfirmForm().validate_on_submit():
        names = services.remove_photo(photo, by=current_user)
        uow.after_commit(images.delete_files, *names)  # only once the record is gone for good
        flash(_("The photo was removed."), "success")
    return _back_to(product, "photos-section")


@bp.post("/orgs/<int:org_id>/products/<int:product_id>/photos/<int:photo_id>/main")
@member_required(Role.MANAGER)
def make_main_photo(organization, membership, product_id: int, photo_id: int):
    product = _product_or_404(organization, product_id)
    photo = _photo_or_404(product, photo_id)
    if ConfirmForm().validate_on_submit():
        services.make_main_photo(photo)
        flash(_("This photo is now the main photo."), "success")
    return _back_to(product, "photos-section")


# --- stock -----------------------------------------------------------------------------------


@bp.post("/orgs/<int:org_id>/products/<int:product_id>/stock")
@member_required(Role.MANAGER)
def adjust_stock(organization, membership, product_id: int):
    product = _product_or_404(organization, product_id)
    form = StockForm()
    if form.validate_on_submit():
        try:
            services.adjust_stock(
                product,
                reason=StockReason(form.reason.data),
                delta=form.change.data,
                new_stock=form.new_count.data,
                note=form.note.data or "",
                by=current_user,
            )
        except DomainError as exc:
            field = form.change if form.change.data is not None else form.new_count
            field.errors.append(str(exc.message))
        else:
            flash(_("The stock of “%(title)s” is now %(stock)d.", title=product.title,
                    stock=product.stock), "success")
            return _back_to(product, "stock-section")
    return _render_product(organization, membership, product, stock_form=form, status=400)


@bp.post("/orgs/<int:org_id>/products/<int:product_id>/stock/unlimited")
@member_required(Role.MANAGER)
def make_unlimited(organization, membership, product_id: int):
    product = _product_or_404(organization, product_id)
    if ConfirmForm().validate_on_submit():
        services.set_unlimited(product, True, by=current_user)
        flash(_("“%(title)s” now has unlimited stock.", title=product.title), "success")
    return _back_to(product, "stock-section")


@bp.post("/orgs/<int:org_id>/products/<int:product_id>/stock/counted")
@member_required(Role.MANAGER)
def make_counted(organization, membership, product_id: int):
    product = _product_or_404(organization, product_id)
    form = CountedStockForm()
    if form.validate_on_submit():
        try:
            services.set_unlimited(product, False, stock=form.stock.data, by=current_user)
        except DomainError as exc:
            form.stock.errors.append(str(exc.message))
        else:
            flash(_("The stock of “%(title)s” is now %(stock)d.", title=product.title,
                    stock=product.stock), "success")
            return _back_to(product, "stock-section")
    return _render_product(organization, membership, product, counted_form=form, status=400)


# --- helpers ---------------------------------------------------------------------------------


def _product_or_404(organization, product_id: int) -> Product:
    return owned_or_404(Product, product_id, organization)


def _photo_or_404(product: Product, photo_id: int) -> ProductPhoto:
    photo = next((p for p in product.photos if p.id == photo_id), None)
    if photo is None:
        abort(404)
    return photo


def _chosen_category(form: ProductForm) -> Category:
    category = services.get_category_by_id(form.category_id.data)
    if category is None:  # pragma: no cover - the choices come from the table
        abort(400)
    return category


def _details_form(product: Product, *, bound: bool) -> ProductForm:
    """The details form, filled from the request (bound) or from the product."""
    form = ProductForm(
        **({} if bound else {"formdata": None}),
        obj=product,
        categories=services.category_tree(),
        current_category=product.category,
    )
    if not (bound and form.is_submitted()):
        form.price.data = price_text(product.price_cents)
        form.reuse_weight.data = kilograms_text(product.reuse_weight_grams)
        form.impact_kind.data = product.impact_kind.value if product.impact_kind else ""
    return form


def _render_product(organization, membership, product, *, form=None, photo_form=None,
                    stock_form=None, counted_form=None, status=200):
    return render_template(
        "catalog/staff/product.html",
        organization=organization,
        membership=membership,
        product=product,
        form=form or _details_form(product, bound=False),
        photo_form=photo_form or PhotoForm(formdata=None),
        stock_form=stock_form or StockForm(formdata=None),
        counted_form=counted_form or CountedStockForm(formdata=None),
        movements=services.stock_movements(product),
        max_photos=services.MAX_PHOTOS,
    ), status


def _back_to(product: Product, section: str | None = None):
    return redirect(url_for(
        ".edit_product", org_id=product.organization_id, product_id=product.id, _anchor=section
    ))
