"""What every PDF of the site shares: a Unicode font when the system has one (Debian:
fonts-dejavu-core), else the PDF core font with its text simplified to Latin-1; a small one-page
document (the printable voucher and gift card); an A4 document with paragraphs and a footer that
numbers the pages."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from flask_babel import gettext
from fpdf import FPDF

UNICODE_FONTS = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
]


def add_unicode_font(pdf: FPDF) -> tuple[str, bool]:
    """Register DejaVu Sans (regular and bold) when present: (family, unicode_ok)."""
    for path in UNICODE_FONTS:
        bold = path.with_name("DejaVuSans-Bold.ttf")
        if path.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(path))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu", True
    return "Helvetica", False


def latin1(text: str) -> str:
    """The PDF core font only has Latin-1: € becomes EUR, every space a plain space."""
    text = text.replace("€", "EUR").replace("…", "...").replace("œ", "oe").replace("Œ", "OE")
    text = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text)
    return text.encode("latin-1", "replace").decode("latin-1")


def new_document(size_mm: tuple[float, float], *, title: str):
    """A one-page document with a Unicode font when there is one; returns (pdf, text, line):
    text(value) makes a value printable, line(value, size=, style=, height=) writes a paragraph."""
    pdf = FPDF(format=size_mm)
    pdf.set_title(title)
    pdf.set_auto_page_break(auto=True, margin=8)
    pdf.add_page()
    family, unicode_ok = add_unicode_font(pdf)

    def text(value) -> str:
        value = str(value)
        return value if unicode_ok else latin1(value)

    def line(value, *, size=11, style="", height=6):
        pdf.set_font(family, style, size)
        pdf.multi_cell(0, height, text(value), new_x="LMARGIN", new_y="NEXT")

    return pdf, text, line


class A4Document(FPDF):
    """An A4 page with 15 mm margins, paragraphs and a footer: `footer_text`, then Page n of N."""

    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=16)
        self.family, self.unicode_ok = add_unicode_font(self)

    def text_of(self, value) -> str:
        value = str(value)
        return value if self.unicode_ok else latin1(value)

    def paragraph(self, value, *, size=10, style="", height=5, color=(0, 0, 0)):
        self.set_font(self.family, style, size)
        self.set_text_color(*color)
        self.multi_cell(0, height, self.text_of(value), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)

    def footer(self):
        self.set_y(-12)
        self.set_font(self.family, "", 7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.text_of(self.footer_text), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.text_of(gettext("Page %(page)d of %(pages)s", page=self.page_no(),
                                             pages="{nb}")), align="R")
