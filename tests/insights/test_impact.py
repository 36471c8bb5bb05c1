"""The good the sales do: the demo's impact report PDF renders and its figures are the data's
(computed here from the order lines, without the report's queries); the shopfront's line; a
campaign's report; the reuse weight typed in kilograms with a decimal comma."""
from __future__ import annotations

import io
from decimal import Decimal

import pypdfium2
import pytest
import sqlalchemy as sa

from marketplace.campaigns.models import Beneficiary, Campaign
from marketplace.catalog.forms import kilograms_text, parse_kilograms
from marketplace.catalog.models import ImpactKind, Product
from marketplace.db import db, utcnow
from marketplace.giftcards import services as cards
from marketplace.orders.models import OrderLine, OrderPart, OrderStatus
from marketplace.organizations.models import Organization, Role

DELIVERED = (OrderStatus.PAID, OrderStatus.READY_FOR_PICKUP, OrderStatus.COLLECTED,
             OrderStatus.PARTIALLY_REFUNDED)


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def expected(organization_id: int) -> dict:
    """Objects reused, grams and cents per kind, read from the lines one by one."""
    reused = grams = 0
    per_kind: dict = {}
    for line in db.session.scalars(sa.select(OrderLine).join(OrderPart).where(
            OrderPart.organization_id == organization_id, OrderPart.status.in_(DELIVERED))):
        product = db.session.get(Product, line.product_id)
        units = line.quantity - line.refunded_quantity
        if product.impact_kind in (ImpactKind.REUSE, ImpactKind.REPAIR):
            reused += units
        grams += units * (product.reuse_weight_grams or 0)
        per_kind[product.impact_kind] = per_kind.get(product.impact_kind, 0) + units * line.unit_price_cents
    return {"reused": reused, "grams": grams, "per_kind": per_kind}


@pytest.fixture
def demo(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return app


def _owner(organization):
    """The owner, reading the site in English (the demo's users read it in French)."""
    user = next(m.user for m in organization.memberships if m.role == Role.OWNER)
    user.locale = "en"
    return user


@pytest.mark.english
def test_the_demos_impact_report_renders_with_the_datas_figures(demo, client, login, tmp_path):
    year = utcnow().year
    sellers = db.session.scalars(sa.select(Organization).where(Organization.slug.in_(
        ["ressourcerie-la-trouvaille", "atelier-velo-la-roue-libre",
         "boutique-equitable-terre-commune"]))).all()
    seen_weight = False
    for seller in sellers:
        want = expected(seller.id)
        assert want["per_kind"], seller.slug  # the demo sold something there
        login(_owner(seller))
        answer = client.get(f"/orgs/{seller.id}/impact/{year}.pdf")
        assert answer.status_code == 200 and answer.mimetype == "application/pdf"
        text = pdf_text(answer.data)
        assert f"Impact report {year}" in text and seller.name in text
        assert f"Objects reused {want['reused']}" in text.replace("\r", "").replace("\n", " ")
        kilograms = (Decimal(want["grams"]) / 1000).quantize(Decimal("0.1"))
        weight = f"{kilograms:,.1f}".rstrip("0").rstrip(".") + " kg"
        assert f"Waste kept out of landfill {weight}" in text.replace("\r", "").replace("\n", " ")
        seen_weight |= want["grams"] > 0
        total = sum(want["per_kind"].values())
        assert f"€{total / 100:,.2f}" in text
        for kind, cents in want["per_kind"].items():
            label = {ImpactKind.REUSE: "Reuse", ImpactKind.REPAIR: "Repair and refurbishing",
                     ImpactKind.FAIR_TRADE: "Fair trade", None: "Other purchases"}[kind]
            assert f"{label}" in text and f"€{cents / 100:,.2f}" in text
        if seller.slug == "ressourcerie-la-trouvaille":
            document = pypdfium2.PdfDocument(io.BytesIO(answer.data))
            document[0].render(scale=1.5).to_pil().save(tmp_path / "impact.png")
    assert seen_weight  # the demo's weights are used


@pytest.mark.english
def test_the_shopfront_shows_its_impact_line(demo, client):
    seller = db.session.scalar(sa.select(Organization).where(
        Organization.slug == "ressourcerie-la-trouvaille"))
    want = expected(seller.id)
    page = client.get(f"/sellers/{seller.slug}").get_data(as_text=True)
    objects = "object" if want["reused"] == 1 else "objects"
    assert f"{want['reused']} {objects} reused" in page
    kilograms = (Decimal(want["grams"]) / 1000).quantize(Decimal("0.1"))
    assert f"{kilograms:,.1f}".rstrip("0").rstrip(".") + " kg of waste avoided" in page


@pytest.mark.english
def test_a_campaigns_report_counts_what_its_cards_paid(demo, client, login):
    campaign = db.session.scalar(sa.select(Campaign).join(Beneficiary).where(
        Beneficiary.card_id.is_not(None)).limit(1))
    card_id = db.session.scalar(sa.select(Beneficiary.card_id).where(
        Beneficiary.campaign_id == campaign.id, Beneficiary.card_id.is_not(None)).limit(1))
    shop = db.session.scalar(sa.select(Organization).where(Organization.slug == "recyclerie-recup-r"))
    cards.redeem(card_id, 1750, organization=shop, nonce="impact-test")
    db.session.commit()
    login(_owner(campaign.organization))
    answer = client.get(f"/orgs/{campaign.organization_id}/campaigns/{campaign.id}/impact.pdf")
    assert answer.status_code == 200
    text = pdf_text(answer.data).replace("\r", "").replace("\n", " ")
    assert "Spent at sellers' counters €17.50" in text
    assert "Sellers supported 1" in text


@pytest.mark.parametrize(("typed", "grams"), [
    ("3,2", 3200), ("0.25", 250), ("12 kg", 12000), ("1\u00a0000", 1_000_000), ("0,0005", 1),
])
def test_weights_are_typed_in_kilograms(typed, grams):
    assert parse_kilograms(typed) == grams


@pytest.mark.parametrize("typed", ["", "abc", "1,2,3", "-4", "3,2 t", "1e3"])
def test_what_is_not_a_weight_is_refused(typed):
    with pytest.raises(ValueError):
        parse_kilograms(typed)


@pytest.mark.english
def test_the_product_form_keeps_weight_and_kind(app, client, login):
    from tests import factories

    owner = factories.make_user(email="owner@example.org", locale="en")
    seller = factories.make_organization(owner=owner)
    product = factories.make_product(seller)
    db.session.commit()
    login(owner)
    form = {"title": product.title, "description": "", "price": "15,00", "vat_rate_bp": "2000",
            "category_id": str(product.category_id), "reuse_weight": "3,2", "impact_kind": "reuse"}
    answer = client.post(f"/orgs/{seller.id}/products/{product.id}", data=form)
    assert answer.status_code == 302
    db.session.refresh(product)
    assert (product.reuse_weight_grams, product.impact_kind) == (3200, ImpactKind.REUSE)
    bad = client.post(f"/orgs/{seller.id}/products/{product.id}",
                      data={**form, "reuse_weight": "lourd", "impact_kind": "nonsense"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "Type a weight in kilograms, for example 3,2." in page
    db.session.refresh(product)
    assert (product.reuse_weight_grams, product.impact_kind) == (3200, ImpactKind.REUSE)
    assert client.post(f"/orgs/{seller.id}/products/{product.id}",
                       data={**form, "reuse_weight": "", "impact_kind": ""}).status_code == 302
    db.session.refresh(product)
    assert (product.reuse_weight_grams, product.impact_kind) == (None, None)
    with app.test_request_context():
        assert kilograms_text(3200) == "3.2"


@pytest.mark.english
def test_a_report_for_a_year_out_of_range_is_not_found(client, login):
    from tests import factories

    owner = factories.make_user(email="owner2@example.org", locale="en")
    seller = factories.make_organization(owner=owner)
    db.session.commit()
    login(owner)
    next_year = utcnow().year + 1
    for year in (2019, next_year):
        answer = client.get(f"/orgs/{seller.id}/impact/{year}.pdf")
        assert answer.status_code == 404
        assert "There is no report for this year." in answer.get_data(as_text=True)
    empty = client.get(f"/orgs/{seller.id}/impact/{utcnow().year}.pdf")
    assert empty.status_code == 200
    assert "Objects reused 0" in pdf_text(empty.data).replace("\r", "").replace("\n", " ")
