"""Forms of the seller back office for products: details, photos and stock."""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from marketplace.catalog.models import VAT_RATES_BP, Category, Condition, ImpactKind, StockReason
from marketplace.catalog.services import MAX_PRICE_CENTS, MAX_REUSE_WEIGHT_GRAMS
from marketplace.i18n import current_locale_code
from marketplace.i18n import lazy_gettext as _l
from marketplace.money import parse_amount

# What the browser's file picker offers; the server checks the bytes whatever the name says.
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
MAX_STOCK = 1_000_000

# The reasons a person picks when changing the stock by hand; sales are recorded by orders.
MANUAL_STOCK_REASONS = (
    StockReason.MANUAL,
    StockReason.RETURN,
    StockReason.NO_SHOW,
    StockReason.CANCELLATION,
)

IMPACT_KIND_LABELS = {
    ImpactKind.REUSE: _l("Reuse (second-hand object)"),
    ImpactKind.REPAIR: _l("Repair or refurbishing"),
    ImpactKind.FAIR_TRADE: _l("Fair trade"),
    ImpactKind.LOCAL_FOOD: _l("Local food"),
    ImpactKind.INTEGRATION: _l("Integration work"),
}


def parse_kilograms(text: str) -> int:
    """"3,2" or "0.25 kg" -> grams (rounded half up); ValueError when it is not a weight."""
    cleaned = text.lower().replace("kg", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not cleaned or cleaned.count(".") > 1 or not cleaned.replace(".", "").isdigit():
        raise ValueError(text)
    grams = (Decimal(cleaned) * 1000).quantize(Decimal(1), rounding="ROUND_HALF_UP")
    return int(grams)


def kilograms_text(grams: int | None) -> str:
    """Grams as the form shows them: "3,2" in French (no unit, no group separator)."""
    if grams is None:
        return ""
    return format_decimal(Decimal(grams) / 1000, format="0.###", locale=current_locale_code())


STOCK_REASON_LABELS = {
    StockReason.INITIAL: _l("Initial stock"),
    StockReason.MANUAL: _l("Manual adjustment"),
    StockReason.SALE: _l("Sale"),
    StockReason.CANCELLATION: _l("Cancelled order"),
    StockReason.RETURN: _l("Return"),
    StockReason.NO_SHOW: _l("Order not collected"),
    StockReason.UNLIMITED: _l("Change between counted and unlimited stock"),
}


CONDITION_LABELS = {
    Condition.NEW: _l("New"),
    Condition.AS_NEW: _l("As new"),
    Condition.VERY_GOOD: _l("Very good condition"),
    Condition.GOOD: _l("Good condition"),
    Condition.FAIR: _l("Fair condition"),
    Condition.FOR_PARTS: _l("For parts or repair"),
}
CONDITION_CHOICES = [
    SelectChoice("", _l("Not second-hand (new goods)")),
    *(SelectChoice(condition.value, label) for condition, label in CONDITION_LABELS.items()),
]


def _condition_value(value) -> str:
    """A product's condition as the select holds it ("" for new goods, not "None")."""
    return "" if value is None else str(value)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _optional_int(value):
    """The empty first option ("Choose a category") is None, not a coercion error."""
    return None if value in ("", None) else int(value)


def vat_rate_label(rate_bp: int) -> str:
    """20 %, 5,5 % in French; 20%, 5.5% in English."""
    return format_percent(
        Decimal(rate_bp).scaleb(-4), locale=get_locale(), decimal_quantization=False
    )


def price_text(cents: int) -> str:
    """The price as the seller types it back: 12,50 in French, 12.50 in English (no grouping)."""
    return format_decimal(Decimal(cents).scaleb(-2), format="0.00", locale=get_locale())


def category_choices(tree: list[Category], *, current: Category | None = None) -> list[SelectChoice]:
    """Sub-categories grouped under their parent; a parent without children is chosen itself.

    A product filed directly under a parent that has children (older data) keeps that choice.
    """
    locale = current_locale_code()
    choices = [SelectChoice("", _l("Choose a category"))]
    for root in tree:
        if not root.children:
            choices.append(SelectChoice(str(root.id), root.name(locale)))
            continue
        group = root.name(locale)
        if current is not None and current.id == root.id:
            choices.append(SelectChoice(str(root.id), root.name(locale), optgroup=group))
        choices.extend(
            SelectChoice(str(child.id), child.name(locale), optgroup=group) for child in root.children
        )
    return choices


class ProductForm(FlaskForm):
    title = StringField(
        _l("Title"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    description = TextAreaField(
        _l("Description"), filters=[_strip], validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 6},
    )
    price = StringField(
        _l("Price in euros, VAT included"), filters=[_strip], validators=[DataRequired()],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "12,50"},
    )
    vat_rate_bp = SelectField(_l("VAT rate"), coerce=int, validators=[InputRequired()])
    category_id = SelectField(
        _l("Category"), coerce=_optional_int,
        validators=[InputRequired(_l("Choose the category where shoppers will look for it."))],
    )
    is_perishable = BooleanField(_l("Perishable goods"))
    reuse_weight = StringField(
        _l("Weight kept out of landfill, in kg (optional)"), filters=[_strip],
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "3,2"},
    )
    impact_kind = SelectField(_l("The good it does (optional)"), validators=[Optional()])
    condition = SelectField(_l("Condition of a second-hand item"), choices=CONDITION_CHOICES,
                            default="", coerce=_condition_value)
    defects = TextAreaField(
        _l("Defects (optional)"), filters=[_strip], validators=[Optional(), Length(max=1000)],
        render_kw={"rows": 2},
    )
    low_stock_threshold = IntegerField(
        _l("Alert when the stock falls below (optional)"),
        validators=[Optional(), NumberRange(min=0, max=MAX_STOCK)],
        render_kw={"inputmode": "numeric", "min": 0},
    )

    def __init__(self, *args, categories: list[Category], current_category: Category | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.vat_rate_bp.choices = [
            SelectChoice(str(rate), vat_rate_label(rate)) for rate in VAT_RATES_BP
        ]
        self.category_id.choices = category_choices(categories, current=current_category)
        self.impact_kind.choices = [SelectChoice("", _l("None"))] + [
            SelectChoice(kind.value, label) for kind, label in IMPACT_KIND_LABELS.items()
        ]

        if self.condition.data is None:  # new goods (wtforms does not coerce None)
            self.condition.data = ""

    def validate_reuse_weight(self, field):
        field.grams = None
        if not field.data:
            return
        try:
            grams = parse_kilograms(field.data)
        except (ValueError, ArithmeticError) as exc:
            raise ValidationError(_l("Type a weight in kilograms, for example 3,2.")) from exc
        if not 0 < grams <= MAX_REUSE_WEIGHT_GRAMS:
            raise ValidationError(_l("The weight must be between 1 gram and 10 tonnes."))
        field.grams = grams

    def validate_price(self, field):
        try:
            cents = parse_amount(field.data)
        except ValueError as exc:
            raise ValidationError(_l("Type a price in euros, for example 12,50.")) from exc
        if cents > MAX_PRICE_CENTS:
            raise ValidationError(_l("The price must be between 0 and 100,000 euros."))
        field.cents = cents

    def product_fields(self, category: Category) -> dict:
        """Keyword arguments of catalog.services.create_product / update_product."""
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "price_cents": self.price.cents,  # set by validate_price
            "vat_rate_bp": self.vat_rate_bp.data,
            "category": category,
            "is_perishable": self.is_perishable.data,
            "reuse_weight_grams": getattr(self.reuse_weight, "grams", None),
            "impact_kind": ImpactKind(self.impact_kind.data) if self.impact_kind.data else None,
        }

    def condition_and_alert(self) -> dict:
        """Keyword arguments of services.update_condition_and_alert (and create_product)."""
        return {
            "condition": Condition(self.condition.data) if self.condition.data else None,
            "defects": self.defects.data or "",
            "low_stock_threshold": self.low_stock_threshold.data,
        }


class NewProductForm(ProductForm):
    stock = IntegerField(
        _l("Initial stock"), validators=[Optional(), NumberRange(min=0, max=MAX_STOCK)],
        render_kw={"inputmode": "numeric", "min": 0},
    )
    unlimited = BooleanField(_l("Unlimited stock (services, workshops)"))
    photo = FileField(_l("Photo (optional)"), render_kw={"accept": PHOTO_ACCEPT})
    alt_text = StringField(
        _l("Describe the photo for people who cannot see it (optional)"), filters=[_strip],
        validators=[Optional(), Length(max=200)],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.unlimited.data and self.stock.data is None:
            self.stock.errors.append(_l("Give the number of items in stock, or tick unlimited stock."))
            valid = False
        return valid


class PhotoForm(FlaskForm):
    photo = FileField(
        _l("Photo"), validators=[FileRequired(_l("Choose a photo to send."))],
        render_kw={"accept": PHOTO_ACCEPT},
    )
    alt_text = StringField(
        _l("Describe the photo for people who cannot see it (optional)"), filters=[_strip],
        validators=[Optional(), Length(max=200)],
    )


class StockForm(FlaskForm):
    change = IntegerField(
        _l("Change in stock"), validators=[Optional(), NumberRange(min=-MAX_STOCK, max=MAX_STOCK)],
        render_kw={"placeholder": "+3, -2"},
    )
    new_count = IntegerField(
        _l("Or the new count"), validators=[Optional(), NumberRange(min=0, max=MAX_STOCK)],
        render_kw={"inputmode": "numeric", "min": 0},
    )
    reason = SelectField(
        _l("Reason"),
        choices=[SelectChoice(reason.value, STOCK_REASON_LABELS[reason]) for reason in MANUAL_STOCK_REASONS],
        default=StockReason.MANUAL.value,
        validators=[DataRequired()],
    )
    note = StringField(
        _l("Note (optional)"), filters=[_strip], validators=[Optional(), Length(max=200)],
        render_kw={"placeholder": _l("For example: delivery from the workshop")},
    )

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.change.data is None and self.new_count.data is None:
            self.change.errors.append(_l("Give either a change (+3 or -2) or the new count."))
        elif self.change.data is not None and self.new_count.data is not None:
            self.change.errors.append(_l("Give either a change or the new count, not both."))
        elif self.change.data == 0:
            self.change.errors.append(_l("A change of zero changes nothing."))
        return not self.errors


class CountedStockForm(FlaskForm):
    """Switch an unlimited product to a counted stock starting at `stock`."""

    stock = IntegerField(
        _l("Items in stock"), validators=[InputRequired(), NumberRange(min=0, max=MAX_STOCK)],
        render_kw={"inputmode": "numeric", "min": 0},
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""
