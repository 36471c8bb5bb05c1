"""Quick listing: one phone screen from photos to a product on sale (or a draft), for the
volunteers of a ressourcerie who list dozens of one-off items a week (issue 18).

Up to QUICK_MAX_PHOTOS photos from the phone's camera (re-encoded and shrunk by
catalog.images), a title, a price (12,50 or 12.50), a category guessed from the title and the
seller's recent choices (catalog.suggest), the condition of a second-hand item and its defects,
a quantity (1: a one-off piece). "Publish" puts it on sale, "Save as draft" keeps it for the
back office. The screen comes back empty after each product, ready for the next one."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from marketplace.catalog import images, services, suggest
from marketplace.catalog.forms import (
    CONDITION_CHOICES,
    CONDITION_LABELS,
    MAX_STOCK,
    ProductForm,
    _condition_value,
    _optional_int,
    _strip,
    category_choices,
)
from marketplace.catalog.images import ImageError
from marketplace.catalog.models import Condition, ProductStatus
from marketplace.errors import DomainError, render_error
from marketplace.i18n import lazy_gettext as _l
from marketplace.organizations import services as organizations
from marketplace.organizations.access import member_required
from marketplace.organizations.models import Role

bp = Blueprint("catalog_quick", __name__)

QUICK_MAX_PHOTOS = 5


@bp.app_template_filter("condition_label")
def condition_label(condition) -> str:
    """A second-hand item's condition, in the reader's language ("" for new goods)."""
    return str(CONDITION_LABELS[Condition(condition)]) if condition else ""


class QuickListingForm(FlaskForm):
    photos = MultipleFileField(
        _l("Photos"),
        # The phone offers its camera (back one) or its gallery; the server checks the bytes.
        render_kw={"accept": "image/*", "capture": "environment", "multiple": True},
    )
    title = StringField(
        _l("Title"), filters=[_strip], validators=[DataRequired(), Length(max=120)],
        render_kw={"autocomplete": "off", "autocapitalize": "sentences"},
    )
    price = StringField(
        _l("Price in euros"), filters=[_strip], validators=[DataRequired()],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "12,50"},
    )
    category_id = SelectField(_l("Category"), coerce=_optional_int, validators=[Optional()])
    condition = SelectField(_l("Condition"), choices=CONDITION_CHOICES, default="",
                            coerce=_condition_value)
    defects = TextAreaField(
        _l("Defects (optional)"), filters=[_strip], validators=[Optional(), Length(max=1000)],
        render_kw={"rows": 2, "placeholder": _l("For example: a scratch on the left side")},
    )
    quantity = IntegerField(
        _l("Quantity"), default=1,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_STOCK)],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    publish = SubmitField(_l("Publish"))
    save_draft = SubmitField(_l("Save as draft"))

    validate_price = ProductForm.validate_price  # 12,50 or 12.50, at most 100,000 euros

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.category_id.choices = category_choices(categories)

    def photo_files(self) -> list:
        return [f for f in (self.photos.data or []) if f and getattr(f, "filename", "")]

    def validate_photos(self, field):
        if len(self.photo_files()) > QUICK_MAX_PHOTOS:
            from wtforms.validators import ValidationError

            raise ValidationError(_l("%(max)d photos at most: choose fewer.", max=QUICK_MAX_PHOTOS))


@bp.route("/orgs/<int:org_id>/products/quick", methods=["GET", "POST"])
@member_required(Role.MANAGER)
def quick_listing(organization, membership):
    if not organization.is_seller:
        return render_error(403, _("Only sellers can list products."))
    tree = services.category_tree()
    form = QuickListingForm(categories=tree)
    if not form.is_submitted():
        guess = suggest.best_guess(organization, "", tree)
        form.category_id.data = guess.id if guess else None
        form.condition.data = services.latest_condition(organization) or ""
    if form.validate_on_submit():
        category = services.get_category_by_id(form.category_id.data) or suggest.best_guess(
            organization, form.title.data, tree)
        if category is None:
            form.category_id.errors.append(_("Choose the category where shoppers will look for it."))
        else:
            product = _create(organization, form, category)
            if product is not None:
                return redirect(url_for(".quick_listing", org_id=organization.id))
    return render_template(
        "catalog/staff/quick.html", organization=organization, membership=membership, form=form,
        max_photos=QUICK_MAX_PHOTOS, photo_max_side=images.MAX_SIDE,
    ), 400 if request.method == "POST" else 200


def _create(organization, form: QuickListingForm, category):
    """The product and its photos; None (and the form's errors) when something is refused."""
    draft = bool(form.save_draft.data) and not form.publish.data
    stored: list[str] = []
    try:
        product = services.create_product(
            organization,
            title=form.title.data,
            description="",
            price_cents=form.price.cents,  # set by validate_price
            vat_rate_bp=services.usual_vat_rate(organization),
            category=category,
            stock=form.quantity.data,
            is_perishable=False,
            by=current_user,
            condition=Condition(form.condition.data) if form.condition.data else None,
            defects=form.defects.data or "",
            status=ProductStatus.DRAFT if draft else ProductStatus.ACTIVE,
        )
        for upload in form.photo_files():
            photo = services.add_photo(product, upload.read(), by=current_user)
            stored += [photo.filename, photo.thumbnail]
    except ImageError as exc:
        images.delete_files(*stored)  # the unit rolls back: no record keeps these files
        form.photos.errors.append(str(exc.message))
        return None
    except DomainError as exc:
        images.delete_files(*stored)
        form.title.errors.append(str(exc.message))
        return None
    link = Markup('<a href="{}">{}</a>').format(
        url_for("catalog_staff.edit_product", org_id=organization.id, product_id=product.id),
        _("Open it"))
    if draft:
        message = _("“%(title)s” is saved as a draft: shoppers do not see it yet.",
                    title=product.title)
    else:
        message = _("“%(title)s” is on sale.", title=product.title)
    flash(Markup("{} {}").format(escape(message), link), "success")
    return product


@bp.get("/orgs/<int:org_id>/products/quick/category")
@member_required(Role.MANAGER)
def suggested_category(organization, membership):
    """The category the screen pre-selects for the title typed so far (JSON, for quick.js)."""
    title = (request.args.get("title") or "").replace("\x00", "")[:120]
    guess = suggest.best_guess(organization, title, services.category_tree())
    return jsonify({"category_id": guess.id if guess else None})


class DailyAlertsForm(FlaskForm):
    daily_alerts = BooleanField(_l("Email me the alerts every morning"))


@bp.post("/orgs/<int:org_id>/products/alerts")
@member_required(Role.MANAGER)
def daily_alerts(organization, membership):
    """The member's own choice of the daily alerts email (low stock, full slots, drafts)."""
    form = DailyAlertsForm()
    if form.validate_on_submit():
        organizations.set_daily_alerts(membership, form.daily_alerts.data)
        flash(_("You will receive the daily alerts by email.") if form.daily_alerts.data
              else _("You will no longer receive the daily alerts."), "success")
    return redirect(url_for("catalog_staff.products", org_id=organization.id))
