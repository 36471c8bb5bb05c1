"""Shelf labels: an A4 sheet of price labels for chosen products, on the common self-adhesive
sheets. Each label: a QR code to the product's public page (a passer-by reserves it for
pickup, staff scan it), the title (cut at a word, with an ellipsis, on at most three lines),
the price in the sheet's language (12,50 € in French) and a second-hand item's condition.
A start position lets a half-used sheet be used up."""
from __future__ import annotations

import io
from dataclasses import dataclass

from babel.numbers import format_decimal
from flask import Blueprint, request
from flask_babel import get_locale
from flask_babel import gettext as _

from marketplace.catalog import services
from marketplace.catalog.forms import CONDITION_LABELS
from marketplace.catalog.models import Product
from marketplace.catalog.views import product_url
from marketplace.errors import render_error
from marketplace.i18n import money_filter
from marketplace.organizations.access import member_required
from marketplace.organizations.models import Role
from marketplace.pdf import add_unicode_font, latin1
from marketplace.qr import qr_png

bp = Blueprint("catalog_labels", __name__)

MAX_LABELS = 500  # a print run; more is a mistake (or a robot)


@dataclass(frozen=True)
class Layout:
    """A sheet of labels on A4 (210 x 297 mm): sizes and pitches in millimetres."""

    key: str
    reference: str  # the sheets' usual reference
    columns: int
    rows: int
    width: float
    height: float
    left: float  # the first column's left edge
    top: float  # the first row's top edge
    pitch_x: float  # from a label's left edge to the next one's
    pitch_y: float

    @property
    def name(self) -> str:
        """3 x 8, 70 x 37 mm (Avery 3474): sizes in the reader's language (99,1 in French)."""
        def size(value: float) -> str:
            return format_decimal(value, format="0.#", locale=get_locale())

        return _("%(columns)d x %(rows)d, %(width)s x %(height)s mm (%(reference)s)",
                 columns=self.columns, rows=self.rows, width=size(self.width),
                 height=size(self.height), reference=self.reference)

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    def origin(self, index: int) -> tuple[float, float]:
        """The top-left corner of the label at `index` on its sheet (row by row)."""
        row, column = divmod(index % self.per_sheet, self.columns)
        return self.left + column * self.pitch_x, self.top + row * self.pitch_y


LAYOUTS = {
    layout.key: layout for layout in (
        # 24 labels, edge to edge (Avery 3474, Herma 4453 and their equivalents).
        Layout("3x8", "Avery 3474", 3, 8, 70.0, 37.0, 0.0, 0.5, 70.0, 37.0),
        # 14 labels with margins (Avery L7163, J8163).
        Layout("2x7", "Avery L7163", 2, 7, 99.1, 38.1, 4.65, 15.15,
               101.6, 38.1),
        # 21 labels with margins (Avery L7160, J8160).
        Layout("3x7", "Avery L7160", 3, 7, 63.5, 38.1, 7.2, 15.15,
               66.04, 38.1),
    )
}
DEFAULT_LAYOUT = "3x8"
PADDING = 2.5  # mm inside each label: printers drift a little


def label_sheet(products: list[Product], layout: Layout, *, start: int = 1) -> bytes:
    """The PDF: one label per product, from label number `start` (1 = top left) of the first
    sheet, row by row, on as many sheets as needed."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(_("Shelf labels"))
    family, unicode_ok = add_unicode_font(pdf)

    def text(value: str) -> str:
        return value if unicode_ok else latin1(value)

    for offset, product in enumerate(products):
        index = start - 1 + offset
        if index % layout.per_sheet == 0 or offset == 0:
            pdf.add_page()
        x, y = layout.origin(index)
        _draw_label(pdf, family, text, product, layout, x, y)
    return bytes(pdf.output())


def _draw_label(pdf, family, text, product: Product, layout: Layout, x: float, y: float) -> None:
    side = layout.height - 2 * PADDING  # the QR code: a square as high as the label allows
    pdf.image(io.BytesIO(qr_png(product_url(product, external=True), box_size=6)),
              x=x + PADDING - 1, y=y + PADDING, w=side, h=side)
    left = x + side + PADDING + 0.5
    width = x + layout.width - PADDING - left
    top = y + PADDING + 1
    pdf.set_text_color(0, 0, 0)

    price = money_filter(product.price_cents)
    pdf.set_font(family, "B", 15)
    price_height = 7
    condition = (str(CONDITION_LABELS[product.condition]) if product.condition else "")

    # The title takes what the price and the condition leave: 3 lines of 9 pt at most.
    pdf.set_font(family, "B", 9)
    lines = fit_lines(text(product.title), width, max_lines=3,
                      measure=pdf.get_string_width)
    for line in lines:
        pdf.set_xy(left, top)
        pdf.cell(width, 4, line)
        top += 4
    bottom = y + layout.height - PADDING
    if condition:
        pdf.set_font(family, "", 7.5)
        pdf.set_xy(left, bottom - price_height - 4)
        pdf.cell(width, 4, fit_lines(text(condition), width, max_lines=1,
                                     measure=pdf.get_string_width)[0])
    pdf.set_font(family, "B", 15)
    pdf.set_xy(left, bottom - price_height)
    pdf.cell(width, price_height, text(price))


def fit_lines(value: str, width: float, *, max_lines: int, measure) -> list[str]:
    """`value` in at most `max_lines` lines no wider than `width` (as `measure` reads them),
    cut between words (a word wider than a line is cut); when it does not all fit, the last
    line ends with an ellipsis."""
    tokens = value.split()
    lines: list[str] = []
    current = ""
    while tokens and len(lines) < max_lines:
        word = tokens[0]
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            tokens.pop(0)
            continue
        if current:
            lines.append(current)
            current = ""
        else:
            size = len(word)
            while size > 1 and measure(word[:size]) > width:
                size -= 1
            lines.append(word[:size])
            tokens[0] = word[size:]
    if current:
        lines.append(current)
    if tokens and lines:
        last = lines[-1]
        while last and measure(last + "…") > width:
            last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
        lines[-1] = last.rstrip(" ,;:-") + "…"
    return lines


@bp.get("/orgs/<int:org_id>/products/labels")
@member_required(Role.MANAGER)
def labels(organization, membership):
    """The PDF for the products ticked on the products page (GET: it changes nothing)."""
    ids = []
    for value in request.args.getlist("product"):
        if not (value.isascii() and value.isdigit()) or len(value) > 10:
            return render_error(400, _("This list of products cannot be read."))
        ids.append(int(value))
    if not ids:
        return render_error(400, _("Tick the products whose labels you want to print."))
    if len(ids) > MAX_LABELS:
        return render_error(400, _("%(max)d labels at most at once.", max=MAX_LABELS))
    layout = LAYOUTS.get(request.args.get("layout", DEFAULT_LAYOUT))
    if layout is None:
        return render_error(400, _("This sheet of labels is not one we know."))
    start_text = request.args.get("start", "1") or "1"
    if not (start_text.isascii() and start_text.isdigit()) or not (
            1 <= int(start_text) <= layout.per_sheet):
        return render_error(400, _("The first label is a number from 1 to %(max)d.",
                                   max=layout.per_sheet))
    products = services.products_by_ids(organization, ids)
    if len(products) != len(set(ids)):
        return render_error(404, _("One of these products is not among yours."))
    pdf = label_sheet(products, layout, start=int(start_text))
    return pdf, 200, {
        "Content-Type": "application/pdf",
        "Content-Disposition": 'inline; filename="labels.pdf"',
        "Cache-Control": "private, no-store",
    }
