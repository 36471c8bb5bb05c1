"""A seller's FEC and summary: built from known operations (two VAT rates, a card spent at the
counter, a refund, a card given, a payout) and from the demo data, read back with the csv
module: every entry balances, the numbering has no gap and is the same twice, the whole file
balances, and each account holds what the operations put on it."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from marketplace.accounting import files
from marketplace.accounting import journal as journals
from marketplace.accounting.services import save_settings, settings_of
from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerEntry
from marketplace.ledger.statement import Period
from marketplace.organizations.models import Organization
from marketplace.payments import refunds
from marketplace.payments.demo_gateway import DemoGateway
from tests.accounting.helpers import balance, cents, check_fec
from tests.factories import make_product
from tests.giftcards.helpers import make_card
from tests.payments.helpers import reload
from tests.vouchers.helpers import make_shop, paid_order

PARIS = ZoneInfo("Europe/Paris")
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
SIRET = "73282932000074"


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def date_last_entry(when: datetime) -> None:
    entry = db.session.scalar(sa.select(LedgerEntry).order_by(LedgerEntry.id.desc()).limit(1))
    entry.created_at = when
    db.session.commit()


def build_books(siret: str | None = SIRET):
    """A seller at 10 % commission. 31 October: a vase (20.00, VAT 20 %). November: two lamps
    (2 x 15.50, VAT 20 %); a gift card of 12.50 spent at the counter; one lamp refunded; a jar
    of honey (10.00, VAT 5.5 %) with a vase (5.00, VAT 20 %) in one order; a card of 10.00
    given; a payout of everything. 2 December: a vase."""
    shop = make_shop("Ressourcerie du Canal")
    shop.organization.commission_rate_bp = 1000
    shop.organization.siret = siret
    db.session.commit()
    vase = make_product(shop.organization, title="Vase", price_cents=2000, stock=5)
    lamp = make_product(shop.organization, title="Lampe", price_cents=1550, stock=5)
    honey = make_product(shop.organization, title="Miel", price_cents=1000, stock=5,
                         vat_rate_bp=550, category_slug="home-decor")
    small_vase = make_product(shop.organization, title="Petit vase", price_cents=500, stock=5)

    paid_order([(vase, 1)], email="a@example.org")
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
    paid_order([(honey, 1), (small_vase, 1)], email="d@example.org")
    date_last_entry(paris(2026, 11, 15, 10, 0))
    gift = make_card(1000)
    cards.donate(gift.id, shop.organization)
    db.session.commit()
    date_last_entry(paris(2026, 11, 20, 9, 15))
    gateway = DemoGateway()
    ledger.start_onboarding(shop.organization, refresh_url="/", return_url="/", gateway=gateway)
    ledger.refresh_account(reload(shop.organization), gateway=gateway)
    ledger.run_payouts(gateway=gateway)
    db.session.commit()
    date_last_entry(paris(2026, 11, 27, 8, 0))
    paid_order([(vase, 1)], email="c@example.org")
    date_last_entry(paris(2026, 12, 2, 10, 0))
    return shop


def fec_of(organization, period=NOVEMBER):
    result = journals.journal(organization, period, settings_of(organization))
    return result, files.fec_text(result)


def test_the_fec_of_known_operations_balances_and_holds_each_amount_on_its_account(app):
    shop = build_books()
    result, text = fec_of(shop.organization)
    entries = check_fec(text)
    assert len(entries) == 6  # lamps, card, refund, honey and vase, gift, payout
    rows = [row for lines in entries.values() for row in lines]
    # Sales before VAT: lamps 25.83, card 10.42, honey 9.48, small vase 4.17, less the refunded
    # lamp 12.92; VAT 5.17 + 2.08 + 0.52 + 0.83 - 2.58.
    assert balance(rows, "707") == -3698
    assert balance(rows, "44571") == -602
    # Commission 31.00 + 12.50 - 15.50 + 15.00 at 10 %, VAT 20 % included and deductible.
    assert balance(rows, "6222") == 258 + 104 - 129 + 125
    assert balance(rows, "44566") == 52 + 21 - 26 + 25
    assert balance(rows, "7541") == -1000
    # The platform's account moves as the ledger does: the October sale was paid out too.
    assert balance(rows, "467") == -1800
    assert balance(rows, "512") == 6670
    honey_entry = next(lines for lines in entries.values()
                       if any("TVA 5,5 %" in line["EcritureLib"] for line in lines))
    assert {(line["CompteNum"], line["Credit"]) for line in honey_entry} >= {
        ("707", "9,48"), ("44571", "0,52"), ("707", "4,17"), ("44571", "0,83")}
    assert {row["JournalCode"] for row in rows} == {"VT", "OD", "BQ"}
    assert files.fec_filename(result) == "732829320FEC20261130.txt"

    # The same period gives the same file, numbers included.
    assert fec_of(reload(shop.organization))[1] == text


def test_the_summary_csv_gives_the_same_figures_in_french(app):
    shop = build_books()
    result, _text = fec_of(shop.organization)
    figures = journals.summary(result)
    assert dict(figures.sales) == {2000: [2583 + 417, 517 + 83], 550: [948, 52]}
    assert dict(figures.cards) == {2000: [1042, 208]}
    assert dict(figures.refunds) == {2000: [-1292, -258]}
    assert (figures.commission_cents, figures.commission_vat_cents) == (430, 72)
    assert figures.donations_cents == 1000 and figures.payouts_cents == 6670
    assert figures.net_cents == 6670 - 1800
    text = files.summary_csv(result, figures)
    assert text.startswith("\ufeffOpération;Taux de TVA;")
    lines = text.splitlines()
    assert "Ventes en ligne;5,5\u00a0%;9,48;0,52;10,00" in lines
    assert "Virements sur votre compte bancaire;;;;66,70" in lines


def test_a_seller_under_the_vat_franchise_writes_no_vat(app):
    shop = build_books()
    organization = reload(shop.organization)
    organization.vat_exempt = True
    db.session.commit()
    _result, text = fec_of(organization)
    rows = [row for lines in check_fec(text).values() for row in lines]
    assert balance(rows, "44571") == 0 and balance(rows, "44566") == 0
    assert balance(rows, "707") == -(3100 + 1250 - 1550 + 1500)
    assert balance(rows, "6222") == 430
    # The summary still says what VAT the commission invoice charged.
    figures = journals.summary(journals.journal(organization, NOVEMBER, settings_of(organization)))
    assert (figures.commission_cents, figures.commission_vat_cents) == (430, 72)
    assert dict(figures.sales) == {0: [4600, 0]}


def test_the_accounts_are_the_sellers_own_once_it_sets_them(app):
    shop = build_books()
    organization = reload(shop.organization)
    values = {name: getattr(settings_of(organization), name) for name in
              ("sales_account", "vat_collected_account", "commission_account",
               "vat_deductible_account", "gift_card_account", "donation_account")}
    save_settings(organization, {**values, "platform_account": "5115", "bank_account": "5121",
                                 "counter_vat_rate_bp": "550", "vat_number": ""})
    db.session.commit()
    _result, text = fec_of(organization)
    rows = [row for lines in check_fec(text).values() for row in lines]
    # The card spent at the counter stays on its own account (467): payouts clear 5115.
    assert balance(rows, "467") == 1125
    assert balance(rows, "5115") == -1800 - 1125
    assert balance(rows, "5121") == 6670


def test_the_demo_datas_fec_balances(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    sellers = db.session.scalars(sa.select(Organization).where(
        Organization.id.in_(sa.select(LedgerEntry.organization_id)))).all()
    assert len(sellers) >= 4
    today = datetime.now(PARIS).date()
    period = Period(date(today.year - 1, 1, 1), date(today.year, 12, 31))
    total_entries = 0
    for seller in sellers:
        result, text = fec_of(seller, period)
        entries = check_fec(text)
        total_entries += len(entries)
        rows = [row for lines in entries.values() for row in lines]
        owed = sum(entry.amount_cents for entry in db.session.scalars(
            sa.select(LedgerEntry).where(LedgerEntry.organization_id == seller.id)))
        assert balance(rows, "467") == owed
        if seller.siret:
            assert files.fec_filename(result).endswith(f"FEC{today.year}1231.txt")
    assert total_entries >= 4
    assert all(cents(value) >= 0 for value in ("0,00", "1,00"))
