"""The seller's accounting pages (period, CSV, FEC, commission invoices, settings), the admins'
list of commission invoices and `flask accounting invoice-commissions`: what a manager, a
clerk, another seller and an admin get, and every bad input answered with a message and a 4xx."""
import html

import facturx
import pytest

from marketplace.accounting import commission
from marketplace.accounting.models import AccountingSettings
from marketplace.db import db
from marketplace.organizations.models import Membership, Role
from tests import factories
from tests.accounting.helpers import check_fec
from tests.accounting.test_commission_invoices import DECEMBER_5
from tests.accounting.test_journal import NOVEMBER, build_books
from tests.payments.helpers import reload

NOVEMBER_QUERY = {"start": "2026-11-01", "end": "2026-11-30"}


@pytest.fixture
def books(app):
    return build_books()


def has_facturx_xml(data: bytes) -> bool:
    return facturx.get_xml_from_pdf(data, check_xsd=True)[0] == "factur-x.xml"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_manager_downloads_the_fec_and_the_csv_of_a_period(client, login, books):
    login(books.manager)
    base = f"/orgs/{books.organization.id}/accounting"
    page = client.get(base, query_string=NOVEMBER_QUERY)
    assert page.status_code == 200
    text = page_text(page)
    assert "6 accounting entries in this period." in text and "Download the FEC file" in text

    fec = client.get(f"{base}/fec.txt", query_string=NOVEMBER_QUERY)
    assert fec.status_code == 200
    assert 'filename="732829320FEC20261130.txt"' in fec.headers["Content-Disposition"]
    assert len(check_fec(fec.get_data(as_text=True))) == 6

    csv = client.get(f"{base}/summary.csv", query_string=NOVEMBER_QUERY)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data(as_text=True)
    assert body.startswith("\ufeffOpération;") and "Ventes en ligne;5,5\u00a0%;9,48;0,52;10,00" in body


@pytest.mark.parametrize(("query", "message"), [
    ({"start": "2026-11-31", "end": "2026-12-01"}, "Choose the first and the last day"),
    ({"start": "2026-11-30", "end": "2026-11-01"}, "comes before its first day"),
    ({"start": "1999-01-01", "end": "1999-02-01"}, "between the year 2000 and next year"),
    ({"start": "2020-01-01", "end": "2026-01-01"}, "at most two years"),
    ({"start": "nonsense", "end": ""}, "Choose the first and the last day"),
])
@pytest.mark.parametrize("what", ["", "/fec.txt", "/summary.csv"])
def test_a_bad_period_is_refused_with_a_message(client, login, books, query, message, what):
    login(books.manager)
    response = client.get(f"/orgs/{books.organization.id}/accounting{what}", query_string=query)
    assert response.status_code == 400
    assert message in page_text(response)


def test_a_seller_without_a_siret_is_told_why_it_gets_no_fec(client, login, books):
    organization = reload(books.organization)
    organization.siret = None
    login(books.manager)
    response = client.get(f"/orgs/{organization.id}/accounting/fec.txt",
                          query_string=NOVEMBER_QUERY)
    assert response.status_code == 409
    assert "add your SIRET" in page_text(response)


def test_commission_invoices_are_the_sellers_own(client, login, books):
    (invoice,) = commission.issue_month(NOVEMBER, issued_on=DECEMBER_5).issued
    db.session.commit()
    login(books.manager)
    base = f"/orgs/{books.organization.id}/accounting"
    assert "FC-2026-00001" in page_text(client.get(base))
    pdf = client.get(f"{base}/invoices/{invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    einvoice = client.get(f"{base}/invoices/{invoice.id}.pdf", query_string={"format": "facturx"})
    assert einvoice.status_code == 200 and has_facturx_xml(einvoice.data)
    assert not has_facturx_xml(pdf.data)
    assert "FC-2026-00001-factur-x.pdf" in einvoice.headers["Content-Disposition"]

    other = build_books(siret=None)
    login(other.manager)
    assert client.get(f"/orgs/{other.organization.id}/accounting/invoices/{invoice.id}.pdf"
                      ).status_code == 404
    login(books.counter)  # a clerk sees no money pages
    assert client.get(f"{base}/invoices/{invoice.id}.pdf").status_code == 403


def test_the_admins_list_the_commission_invoices(client, login, books):
    commission.issue_month(NOVEMBER, issued_on=DECEMBER_5)
    db.session.commit()
    login(books.manager)
    assert client.get("/admin/accounting/commission-invoices").status_code == 403
    admin = factories.make_user(email="admin@example.org", is_admin=True, locale="en")
    login(admin)
    page = client.get("/admin/accounting/commission-invoices")
    assert page.status_code == 200
    text = page_text(page)
    assert "FC-2026-00001" in text and "Ressourcerie du Canal" in text
    invoice_id = int(text.split("/admin/accounting/commission-invoices/")[1].split(".pdf")[0])
    response = client.get(f"/admin/accounting/commission-invoices/{invoice_id}.pdf",
                          query_string={"format": "facturx"})
    assert response.status_code == 200 and has_facturx_xml(response.data)
    assert client.get("/admin/accounting/commission-invoices/999.pdf").status_code == 404


VALID = {"sales_account": "7071", "vat_collected_account": "445710",
         "commission_account": "6222", "vat_deductible_account": "44566",
         "platform_account": "4671", "gift_card_account": "4671", "donation_account": "7541",
         "bank_account": "512", "counter_vat_rate_bp": "550", "vat_number": "FR40 303 265 045"}


def test_the_settings_are_saved_when_valid(client, login, books):
    login(books.manager)
    url = f"/orgs/{books.organization.id}/accounting/settings"
    assert client.get(url).status_code == 200
    response = client.post(url, data=VALID)
    assert response.status_code == 303
    saved = db.session.get(AccountingSettings, books.organization.id)
    assert (saved.sales_account, saved.platform_account, saved.counter_vat_rate_bp,
            saved.vat_number) == ("7071", "4671", 550, "FR40303265045")
    fec = client.get(f"/orgs/{books.organization.id}/accounting/fec.txt",
                     query_string=NOVEMBER_QUERY).get_data(as_text=True)
    assert "\t7071\t" in fec and "\t467\t" not in fec


def test_a_seller_under_the_vat_franchise_has_no_counter_vat_rate_to_choose(client, login,
                                                                        books):
    organization = reload(books.organization)
    organization.vat_exempt = True
    login(books.manager)
    url = f"/orgs/{organization.id}/accounting/settings"
    assert 'name="counter_vat_rate_bp"' not in page_text(client.get(url))
    data = {key: value for key, value in VALID.items() if key != "counter_vat_rate_bp"}
    assert client.post(url, data=data).status_code == 303
    assert db.session.get(AccountingSettings, organization.id).counter_vat_rate_bp == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("sales_account", "707A", "3 to 12 digits"),
    ("sales_account", "", "3 to 12 digits"),
    ("sales_account", "12", "3 to 12 digits"),
    ("sales_account", "6222", "must start with 70"),
    ("bank_account", "467", "must start with 5"),
    ("platform_account", "512", "must differ"),
    ("counter_vat_rate_bp", "1900", "Not a valid choice"),
    ("vat_number", "FR00000000000", "not a valid intra-community VAT number"),
])
def test_bad_settings_are_refused_and_nothing_is_saved(client, login, books, field, value,
                                                       message):
    login(books.manager)
    response = client.post(f"/orgs/{books.organization.id}/accounting/settings",
                           data={**VALID, field: value})
    assert response.status_code == 400
    assert message in page_text(response)
    assert db.session.get(AccountingSettings, books.organization.id) is None


def test_only_managers_change_the_settings(client, login, books):
    clerk = factories.make_user(email="clerk@example.org", locale="en")
    db.session.add(Membership(organization=books.organization, user=clerk, role=Role.COUNTER))
    login(clerk)
    assert client.post(f"/orgs/{books.organization.id}/accounting/settings",
                       data=VALID).status_code == 403


def test_the_command_issues_a_month_once(app, books):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["accounting", "invoice-commissions", "--month", "2026-11"])
    assert first.exit_code == 0, first.output
    assert "FC-2026-00001 Ressourcerie du Canal" in first.output
    again = runner.invoke(args=["accounting", "invoice-commissions", "--month", "2026-11"])
    assert "0 invoice(s) issued, 1 already issued." in again.output
    refused = runner.invoke(args=["accounting", "invoice-commissions", "--month", "2999-01"])
    assert refused.exit_code != 0 and "une fois terminé" in refused.output  # French by default
