"""A works council as a customer, the lines of a Christmas campaign, and reading a PDF's text."""
from __future__ import annotations

import pypdfium2 as pdfium

from marketplace.invoicing import services as invoicing

CSE = invoicing.Customer(
    name="CSE Brasserie du Rhône",
    address="4 quai Saint-Antoine\n69002 Lyon",
    siret="73282932000074",
)
NBSP, NNBSP = "\u00a0", "\u202f"


def campaign_lines(cards: int = 120, face_value_cents: int = 5000,
                   fee_cents: int = 15000) -> list[invoicing.Line]:
    """120 cards of 50 € (6 000 €, no VAT) and a 150 € service fee before VAT (20 %)."""
    return [
        invoicing.voucher_line("Cartes cadeaux Noël 2026, valeur faciale", quantity=cards,
                               face_value_cents=face_value_cents),
        invoicing.service_fee_line("Frais de service de la plateforme",
                                   amount_excl_vat_cents=fee_cents),
    ]


def pdf_text(data: bytes) -> str:
    """The PDF's text, each run of blank space made one plain space (no-break ones included)."""
    document = pdfium.PdfDocument(data)
    text = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    return " ".join(text.replace(NBSP, " ").replace(NNBSP, " ").split())


def raw_pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
