"""The seller's statement of account for a period (page, CSV for a French spreadsheet, PDF to
file): opening balance, each sale, card, donation, refund and payout with its date and
reference, the commission, and a closing balance that the ledger agrees with."""
import csv
import html
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.ledger.statement import Period, statement
from marketplace.payments import refunds
from marketplace.payments.demo_gateway import DemoGateway
from tests.factories import make_organization, make_product
from tests.giftcards.helpers import make_card
from tests.payments.helpers import reload
from tests.vouchers.helpers import make_shop, paid_order

PARIS = ZoneInfo("Europe/Paris")
NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30"}
NBSP = "\u00a0"


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def date_last_entry(when: datetime) -> LedgerEntry:
    """The entry just written happened at `when` (the ledger only reads its date)."""
    entry = db.session.scalar(sa.select(LedgerEntry).order_by(LedgerEntry.id.desc()).limit(1))
    entry.created_at = when
    db.session.commit()
    return entry


def build_books():
    """A seller at 10 % commission: a sale late on 31 October (Paris time), then in November a
    sale just after midnight, a gift card spent at its counter, a refund, a card given to it, a
    payout of everything; a sale in December."""
    shop = make_shop("Ressourcerie du Canal")
    shop.organization.commission_rate_bp = 1000
    db.session.commit()
    vase = make_product(shop.organization, title="Vase", price_cents=2000, stock=5)
    lamp = make_product(shop.organization, title="Lampe", price_cents=1550, stock=5)

    october = paid_order([(vase, 1)], email="a@example.org")
    date_last_entry(paris(2026, 10, 31, 23, 30))
    november = paid_order([(lamp, 2)], email="b@example.org")
    date_last_entry(paris(2026, 11, 1, 0, 30))
    card = make_card(5000)
    cards.redeem(card.id, 1250, organization=shop.organization, by=shop.counter)
    db.session.commit()
    date_last_entry(paris(2026, 11, 10, 16, 45))
    part = reload(november.parts[0])
    refunds.refund_part(part, quantities={part.lines[0].id: 1}, by=shop.manager, reason="Cassée")
    db.session.commit()
    date_last_entry(paris(2026, 11, 12, 11, 0))
    gift = make_card(1000)
    cards.donate(gift.id, shop.organization)
    db.session.commit()
    date_last_entry(paris(2026, 11, 20, 9, 15))
    gateway = DemoGateway()
    ledger.start_onboarding(shop.organization, refresh_url="/", return_url="/", gateway=gateway)
    ledger.refresh_account(reload(shop.organization), gateway=gateway)
    (payout,) = ledger.run_payouts(gateway=gateway).paid
    date_last_entry(paris(2026, 11, 27, 8, 0))
    paid_order([(vase, 1)], email="c@example.org")
    date_last_entry(paris(2026, 12, 2, 10, 0))
    shop.refs = {"october": october.reference, "november": november.reference,
                 "card": card.code, "gift": gift.code, "transfer": reload(payout).transfer_id}
    return shop


@pytest.fixture
def books(app):
    return build_books()


def ledger_balance_before(organization, moment: datetime) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_cents), 0))
        .where(LedgerEntry.organization_id == organization.id, LedgerEntry.created_at < moment))


def test_the_november_statement_adds_up_with_the_ledger(books):
    result = statement(books.organization, Period.month_of(datetime(2026, 11, 5).date()))
    assert result.opening_cents == 1800 == ledger_balance_before(
        books.organization, paris(2026, 11, 1))
    assert [line.kind for line in result.lines] == [
        EntryKind.SALE, EntryKind.CARD, EntryKind.REFUND, EntryKind.DONATION, EntryKind.PAYOUT]
    assert [line.reference for line in result.lines] == [
        books.refs["november"], "…" + books.refs["card"][-4:], books.refs["november"],
        "…" + books.refs["gift"][-4:], books.refs["transfer"]]
    assert (result.sales_cents, result.cards_cents, result.donations_cents,
            result.refunds_cents) == (3100, 1250, 1000, -1550)
    assert result.commission_cents == 310 + 125 - 155
    assert result.payouts_cents == -(1800 + 2790 + 1125 - 1395 + 1000)
    assert [line.balance_after_cents for line in result.lines] == [4590, 5715, 4320, 5320, 0]
    assert result.closing_cents == (
        result.opening_cents + result.sales_cents + result.cards_cents + result.donations_cents
        + result.refunds_cents - result.commission_cents + result.payouts_cents) == 0
    assert result.closing_cents == ledger_balance_before(books.organization, paris(2026, 12, 1))
    # December's sale is in the next statement, whose opening is November's closing.
    december = statement(books.organization, Period.month_of(datetime(2026, 12, 5).date()))
    assert december.opening_cents == result.closing_cents
    assert december.closing_cents == ledger.balance(books.organization.id) == 1800


def french_amount(text: str) -> int:
    assert "." not in text  # a French spreadsheet reads a decimal comma
    return int(Decimal(text.replace(",", ".")) * 100)


def test_the_csv_opens_in_a_french_spreadsheet_and_adds_up(client, login, books):
    books.manager.locale = "fr"
    login(books.manager)
    response = client.get(f"/orgs/{books.organization.id}/payouts/statement.csv",
                          query_string=NOVEMBER)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0] == ["Date", "Opération", "Référence", "Montant brut (€)", "Commission (€)",
                       "Montant net (€)", "Solde (€)"]
    opening, *lines, totals, closing = rows[1:]
    assert opening[:2] == ["01/11/2026", "Solde d'ouverture"] and opening[6] == "18,00"
    assert [line[0] for line in lines] == ["01/11/2026", "10/11/2026", "12/11/2026",
                                           "20/11/2026", "27/11/2026"]
    assert [line[2] for line in lines] == [
        books.refs["november"], "…" + books.refs["card"][-4:], books.refs["november"],
        "…" + books.refs["gift"][-4:], books.refs["transfer"]]
    assert lines[0][1:] == ["Vente", books.refs["november"], "31,00", "3,10", "27,90", "45,90"]
    assert lines[2][3:6] == ["-15,50", "-1,55", "-13,95"]
    assert lines[4][3:5] == ["", ""] and lines[4][5] == "-53,20"
    net = [french_amount(line[5]) for line in lines]
    assert french_amount(opening[6]) + sum(net) == french_amount(closing[6]) == 0
    assert totals[1] == "Total de la période"
    assert french_amount(totals[3]) == sum(french_amount(line[3] or "0") for line in lines)
    assert french_amount(totals[4]) == 280 and french_amount(totals[5]) == sum(net)
    assert closing[:2] == ["30/11/2026", "Solde de clôture"]


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def test_the_pdf_is_a_statement_a_treasurer_can_file(client, login, books):
    books.manager.locale = "fr"
    login(books.manager)
    response = client.get(f"/orgs/{books.organization.id}/payouts/statement.pdf",
                          query_string=NOVEMBER)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(pdf_text(response.data).split())
    assert "Relevé de compte" in text and "Ressourcerie du Canal" in text
    assert "du 1er novembre 2026 au 30 novembre 2026" in text
    assert f"Solde d'ouverture 18,00{NBSP}€".replace(NBSP, " ") in text.replace(NBSP, " ")
    compact = "".join(text.split())  # a long reference wraps in its column
    for reference in (books.refs["november"], books.refs["transfer"],
                      "…" + books.refs["card"][-4:]):
        assert reference in compact
    flat = text.replace(NBSP, " ").replace("\u202f", " ")
    assert "Ventes (montant brut) 31,00 €" in flat
    assert "Cartes cadeaux utilisées chez vous (montant brut) 12,50 €" in flat
    assert "Remboursements (montant brut) -15,50 €" in flat
    assert "Commission -2,80 €" in flat
    assert "Virements -53,20 €" in flat
    assert "Solde de clôture 0,00 €" in flat
    assert "10 %" in flat  # the rate, and how it is computed
    assert books.refs["october"] not in text  # before the period


def test_the_page_shows_the_period_the_rate_the_schedule_and_the_account(client, login, books):
    books.organization.stripe_account_id = "demo_acct_Zx81"
    db.session.commit()
    login(books.manager)
    page = html.unescape(client.get(f"/orgs/{books.organization.id}/payouts",
                                    query_string=NOVEMBER).get_data(as_text=True))
    assert "Connected" in page
    assert "demo_acct_Zx81" in page.split('fine-print">')[1]  # in small print only
    assert page.count("demo_acct_Zx81") == 1
    assert "Our commission: 10%" in page
    assert "On a sale of €20.00, the commission is €2.00 and we owe you €18.00." in page
    assert "Once a week" in page and "at least €10.00" in page
    assert "Opening balance" in page and "€18.00" in page and "Closing balance" in page
    assert books.refs["november"] in page and books.refs["october"] not in page
    assert "statement.csv?start=2026-11-01&end=2026-11-30" in page
    assert "statement.pdf?start=2026-11-01&end=2026-11-30" in page


def test_an_account_to_finish_and_no_account_say_so_without_the_raw_id(client, login, app):
    shop = make_shop()
    login(shop.manager)
    url = f"/orgs/{shop.organization.id}/payouts"
    assert "Not connected" in html.unescape(client.get(url).get_data(as_text=True))
    shop.organization.stripe_account_id = "demo_acct_pending"
    db.session.commit()
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert "To finish" in page and "Stripe needs more information" in page


def test_this_month_is_shown_unless_another_period_is_chosen(client, login, books):
    login(books.manager)
    page = html.unescape(client.get(f"/orgs/{books.organization.id}/payouts").get_data(
        as_text=True))
    assert 'name="start"' in page and 'name="end"' in page


@pytest.mark.parametrize("query, message", [
    ({"start": "2026-13-01", "end": "2026-11-30"}, "Choose the first and the last day"),
    ({"start": "2026-11-30", "end": "2026-11-01"}, "comes before its first day"),
    ({"start": "2020-01-01", "end": "2026-11-30"}, "at most two years"),
    ({"start": "1999-12-31", "end": "2000-01-31"}, "between the year 2000"),
    ({"start": "2026-11-01"}, "Choose the first and the last day"),
])
@pytest.mark.parametrize("path", ["", "/statement.csv", "/statement.pdf"])
def test_a_bad_period_is_a_400_with_a_message(client, login, books, query, message, path):
    login(books.manager)
    response = client.get(f"/orgs/{books.organization.id}/payouts{path}", query_string=query)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))


def test_counter_staff_and_other_sellers_cannot_read_the_statement(client, login, books):
    login(books.counter)
    for path in ("/statement.csv", "/statement.pdf"):
        assert client.get(f"/orgs/{books.organization.id}/payouts{path}").status_code == 403
    other = make_shop("Épicerie Solidaire")
    login(other.manager)
    for path in ("", "/statement.csv", "/statement.pdf"):
        assert client.get(f"/orgs/{books.organization.id}/payouts{path}").status_code == 404


def test_an_association_that_only_receives_donations_gets_a_statement(client, login, app):
    association = make_organization(name="Les Amis du Quartier")
    gift = make_card(1000)
    cards.donate(gift.id, association)
    db.session.commit()
    result = statement(association, Period.month_of(datetime.now(PARIS).date()))
    assert result.donations_cents == 1000 and result.commission_cents == 0
    assert result.closing_cents == 1000
