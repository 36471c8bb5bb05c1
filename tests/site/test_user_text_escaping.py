"""Text that people write (titles, descriptions, names, addresses, reasons, gift messages) is
shown as text everywhere: every page, form, flash message and HTML email that shows such a
field contains its escaped form and never a tag it carries.

One world is built per payload, every user-written field holding the payload after a label that
says which field it is ("Title<script>..."); then the pages of each audience (visitor, shopper,
staff, admin), the HTML emails and the PDFs are read, and the forms are sent. A test lists
every place where a tag came through raw, or where a field is missing (the page no longer shows
it: fix the list)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
from flask import flash, jsonify, redirect, render_template_string
from markupsafe import escape
from wtforms.fields import Label

from marketplace.accounts import services as accounts
from marketplace.db import db, utcnow
from marketplace.giftcards import notify as card_notify
from marketplace.giftcards import services as cards
from marketplace.i18n import lazy_gettext
from marketplace.orders.links import order_key
from marketplace.orders.models import OrderStatus
from marketplace.orders.status import transition
from marketplace.orders.withdrawal import request_withdrawal
from marketplace.organizations import members
from marketplace.organizations import services as organizations
from marketplace.organizations.models import Membership, OrganizationStatus, Role
from marketplace.payments import services as payments
from marketplace.payments.demo_gateway import DemoGateway
from marketplace.pickup import services as pickup
from marketplace.vouchers.models import Voucher
from tests import factories
from tests.orders.helpers import make_cart, place_order

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
}
# What must never reach a page raw: the start of each payload's tag.
RAW = {"script": "<script>alert", "attribute": "<img src=x onerror"}


@dataclass
class World:
    kind: str  # a key of PAYLOADS
    payload: str
    admin: object
    owner: object
    counter: object
    shopper: object
    seller: object
    pending_seller: object
    location: object
    slot: object
    product: object
    order: object
    part: object
    voucher: object
    card: object
    invitation_path: str

    def text(self, label: str) -> str:
        return f"{label}{self.payload}"


def _user(label, payload, **kwargs):
    return factories.make_user(name=f"{label}{payload}", locale="en", **kwargs)


def build_world(kind: str, outbox: list) -> World:
    """Every user-written field holds the payload; one paid order, partly refunded, collected,
    partly returned (withdrawal), a gift card, an invitation, a rejected application."""
    payload = PAYLOADS[kind]
    t = lambda label: f"{label}{payload}"  # noqa: E731 - short on purpose, used everywhere
    admin = _user("Admin", payload, is_admin=True)
    owner, counter, shopper = _user("Owner", payload), _user("Counter", payload), _user("Shopper", payload)
    seller = factories.make_organization(name=t("Seller"), members={Role.OWNER: owner, Role.COUNTER: counter})
    seller.description = t("SellerDescription")
    seller.address_line = t("SellerAddress")
    seller.legal_form = t("LegalForm")
    seller.contact_email = "contact@seller.example"
    location = pickup.save_location(
        None, seller, by=None, name=t("Place"), address_line=t("PlaceAddress"), postcode="69003",
        town=t("Town"), instructions=t("Instructions"), opening_hours=t("Hours"))
    starts = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    slot = pickup.add_slot(location, starts_at=starts, ends_at=starts + timedelta(hours=2),
                           capacity=5, cutoff_hours=1, by=None)
    product = factories.make_product(seller, title=t("Title"), description=t("Description"),
                                     price_cents=1500, stock=10)

    pending_seller = factories.make_organization(name=t("Applicant"), status=OrganizationStatus.PENDING,
                                                 owner=_user("ApplicantOwner", payload))
    db.session.commit()
    organizations.reject(pending_seller, by=admin, reason=t("RejectionReason"))

    order = place_order(make_cart((product, 4)), {seller: slot}, name=t("Buyer"),
                        email=shopper.email)
    order.user_id, order.phone, order.locale = shopper.id, "06 12 34 56 78", "en"
    session = payments.start_payment(order)
    DemoGateway().complete(session.id)
    db.session.commit()
    payments.fulfil_checkout_session(session.id)  # commits; the confirmation email
    part = order.parts[0]
    payments.refund_part(part, quantities={part.lines[0].id: 1}, by=owner, reason=t("RefundReason"))
    part.collected_at = utcnow() - timedelta(days=1)
    transition(part, OrderStatus.COLLECTED)
    db.session.commit()
    request_withdrawal(order, lines={part.lines[0].id: 1}, reason=t("WithdrawalReason"))
    db.session.commit()
    voucher = db.session.scalar(sa.select(Voucher).where(Voucher.order_part_id == part.id))

    card = cards.issue(5000, buyer_email=shopper.email, buyer_name=t("CardBuyer"), buyer_user_id=shopper.id,
                       recipient_name=t("Recipient"), recipient_email="friend@example.org",
                       message=t("GiftMessage"), locale="en")
    card_notify.send_card(card)
    cards.adjust(card.id, -500, reason=t("AdjustReason"), by=admin)
    cards.block(card.id, reason=t("BlockReason"), by=admin)
    db.session.commit()

    members.invite(seller, email=shopper.email, role=Role.COUNTER, by=owner)
    db.session.commit()
    mail = next(m for m in outbox if shopper.email in m.to and "/invitations/" in m.body)
    invitation_path = re.search(r"https?://[^/\s]+(/invitations/\S+)", mail.body).group(1)

    accounts.request_password_reset(shopper.email)  # an HTML account email with their name
    db.session.commit()
    return World(kind, payload, admin, owner, counter, shopper, seller, pending_seller, location, slot,
                 product, order, part, voucher, card, invitation_path)


# --- what each audience sees -----------------------------------------------------------------
# (name, path or function of the world, fields that page shows)

def _order_path(w):
    return f"/orders/{w.order.reference}?key={order_key(w.order)}"


PUBLIC = [
    ("home", "/", ["Title"]),
    ("catalogue", "/products", ["Title", "Seller"]),
    ("search", "/search?q=Title", ["Title"]),
    ("product", lambda w: f"/products/{w.product.id}", ["Title", "Description", "Seller"]),
    ("seller", lambda w: f"/sellers/{w.seller.slug}", ["Seller", "SellerDescription", "SellerAddress"]),
    ("order (guest link)", _order_path, ["Title", "Seller", "Place", "Instructions", "Buyer"]),
    ("withdrawal", lambda w: f"/orders/{w.order.reference}/withdrawal?key={order_key(w.order)}",
     ["Title", "Seller"]),
    ("voucher", lambda w: f"/v/{w.voucher.token}", ["Title", "Seller", "Place", "Instructions"]),
    ("gift card", lambda w: f"/cards/{w.card.code}", ["Recipient", "GiftMessage"]),
]

SHOPPER = [
    ("account", "/account", ["Shopper"]),
    ("my orders", "/account/orders", []),
    ("my gift cards", "/account/cards", ["Recipient"]),
    ("order (account)", lambda w: f"/orders/{w.order.reference}", ["Title", "Seller", "Buyer"]),
    ("invitation", lambda w: w.invitation_path, ["Seller"]),
]

STAFF = [
    ("dashboard", lambda w: f"/orgs/{w.seller.id}/", ["Seller"]),
    ("my organizations", "/my/organizations", ["Seller"]),
    ("products", lambda w: f"/orgs/{w.seller.id}/products", ["Title"]),
    ("product form", lambda w: f"/orgs/{w.seller.id}/products/{w.product.id}", ["Title", "Description"]),
    ("organization form", lambda w: f"/orgs/{w.seller.id}/edit",
     ["Seller", "SellerDescription", "SellerAddress"]),
    ("members", lambda w: f"/orgs/{w.seller.id}/members", ["Owner", "Counter"]),
    ("pickup places", lambda w: f"/orgs/{w.seller.id}/pickup", ["Place"]),
    ("pickup place", lambda w: f"/orgs/{w.seller.id}/pickup/{w.location.id}", ["Place", "Instructions"]),
    ("pickup place form", lambda w: f"/orgs/{w.seller.id}/pickup/{w.location.id}/edit",
     ["Place", "PlaceAddress", "Instructions", "Hours"]),
    ("orders", lambda w: f"/orgs/{w.seller.id}/orders", ["Buyer"]),
    ("order part and refund form", lambda w: f"/orgs/{w.seller.id}/orders/{w.part.id}",
     ["Buyer", "Title", "RefundReason", "WithdrawalReason"]),
    ("slots", lambda w: f"/orgs/{w.seller.id}/slots", ["Place"]),
    ("slot", lambda w: f"/orgs/{w.seller.id}/slots/{w.slot.id}", ["Buyer", "Title"]),
    ("counter scan", lambda w: f"/orgs/{w.seller.id}/counter/scan?q={w.voucher.token}",
     ["Buyer", "Title"]),
    ("payouts", lambda w: f"/orgs/{w.seller.id}/payouts", ["Seller"]),
    ("gift card at the counter", lambda w: f"/orgs/{w.seller.id}/counter/cards?q={w.card.code}", []),
]

ADMIN = [
    ("admin dashboard", "/admin/", []),
    ("admin organizations", "/admin/organizations?status=rejected", ["Applicant"]),
    ("admin organization", lambda w: f"/admin/organizations/{w.pending_seller.id}",
     ["Applicant", "RejectionReason", "ApplicantOwner"]),
    ("admin seller", lambda w: f"/admin/organizations/{w.seller.id}",
     ["Seller", "SellerDescription", "SellerAddress", "LegalForm"]),
    ("audit log", "/admin/audit", ["Title", "Admin"]),
    ("admin cards", "/admin/cards", []),
    ("admin card", lambda w: f"/admin/cards/{w.card.id}",
     ["Recipient", "CardBuyer", "AdjustReason", "BlockReason"]),
]

AUDIENCES = {"public": (None, PUBLIC), "shopper": ("shopper", SHOPPER),
             "staff": ("owner", STAFF), "admin": ("admin", ADMIN)}  # who is logged in


def problems_in(html: str, world: World, labels, where: str) -> list[str]:
    found = []
    raw = RAW[world.kind]
    if raw in html:
        found.append(f"{where}: the raw tag {raw!r} is in the page")
    for label in labels:
        if str(escape(world.text(label))) not in html:
            found.append(f"{where}: {label} is not shown escaped")
    return found


@pytest.fixture(params=PAYLOADS, ids=list(PAYLOADS))
def world(request, app, outbox):
    return build_world(request.param, outbox)


def test_every_page_and_html_email_shows_user_text_escaped(client, login, world, outbox):
    found = []
    for audience, (who, pages) in AUDIENCES.items():
        if who is not None:
            login(getattr(world, who))
        for name, path, labels in pages:
            url = path(world) if callable(path) else path
            response = client.get(url)
            if response.status_code != 200:
                found.append(f"{audience}, {name}: {url} answered {response.status_code}")
                continue
            found += problems_in(response.get_data(as_text=True), world, labels,
                                 f"{audience}, {name}")
    found += email_problems(world, outbox) + pdf_problems(client, world)
    assert not found, "\n".join(found)


PDFS = [("voucher PDF", "/v/{w.voucher.token}/voucher.pdf", ["Title", "Seller", "Place"]),
        ("gift card PDF", "/cards/{w.card.code}/card.pdf", ["Recipient"])]


def pdf_problems(client, world) -> list[str]:
    """A PDF is not HTML: the text is printed as it was written, whatever it holds."""
    found = []
    for name, path, labels in PDFS:
        response = client.get(path.format(w=world))
        if response.status_code != 200 or response.mimetype != "application/pdf":
            found.append(f"{name}: answered {response.status_code} {response.mimetype}")
            continue
        document = pdfium.PdfDocument(response.data)
        text = re.sub(r"\s+", "", "".join(page.get_textpage().get_text_range() for page in document))
        found += [f"{name}: {label} is not printed as written" for label in labels
                  if re.sub(r"\s+", "", world.text(label)) not in text]
    return found


def _html_emails(outbox) -> list[tuple[str, str, str]]:
    """(recipient, subject, HTML body) of every email sent with an HTML part."""
    return [(mail.to[0], mail.subject, body) for mail in outbox
            for body, mimetype in getattr(mail, "alternatives", []) if mimetype == "text/html"]


def email_problems(world, outbox) -> list[str]:
    sent = _html_emails(outbox)
    expected = [  # (to, words of the subject, fields shown)
        (world.shopper.email, "is confirmed", ["Buyer", "Title", "Seller", "Place", "Instructions"]),
        ("friend@example.org", "gift card", ["Recipient", "GiftMessage", "CardBuyer"]),
        (world.shopper.email, "new password", ["Shopper"]),
    ]
    found = []
    for to, words, labels in expected:
        mails = [(subject, body) for address, subject, body in sent
                 if address == to and words in subject]
        if len(mails) != 1:
            found.append(f"expected one HTML email to {to} about {words!r}, got {len(mails)}")
            continue
        found += problems_in(mails[0][1], world, labels, f"email {mails[0][0]!r}")
    for _to, subject, body in sent:  # and no other HTML email lets a tag through
        found += problems_in(body, world, [], f"email {subject!r}")
    return found


def test_flash_messages_and_form_errors_show_user_text_escaped(client, login, world):
    """What a visitor typed, or a seller's text inside a message, in the answers to forms."""
    w, found = world, []

    def check(response, labels, where, status=200):
        if response.status_code != status:
            found.append(f"{where}: answered {response.status_code}")
        else:
            found.extend(problems_in(response.get_data(as_text=True), w, labels, where))

    added = client.post("/cart/add", data={"product_id": w.product.id, "quantity": 1},
                        follow_redirects=True)
    check(added, ["Title"], "flash after adding to the cart")
    gift = {"amount": "2000", "for_whom": "gift", "recipient_name": w.text("CartRecipient"),
            "recipient_email": "pal@example.org", "message": w.text("CartMessage")}
    check(client.post("/cards/buy", data={**gift, "recipient_email": "not an address"}),
          ["CartRecipient", "CartMessage"], "gift card form sent back", status=400)
    check(client.post("/cards/buy", data=gift, follow_redirects=True),
          ["Title", "CartRecipient"], "cart with a gift card")
    check(client.get("/checkout"), ["Title", "Seller", "Place", "CartRecipient"], "checkout")
    buyer = {"name": w.text("Buyer"), "email": "ada@example.org", "phone": "", "accept_terms": "y"}
    check(client.post("/checkout", data=buyer), ["Seller", "Buyer"], "checkout without a slot",
          status=400)
    with_card = {**buyer, f"slot-{w.seller.id}": w.slot.id, "gift_cards": w.payload}
    check(client.post("/checkout", data=with_card), ["Buyer"], "checkout with a typed card code",
          status=400)

    url = f"/orders/{w.order.reference}/withdrawal?key={order_key(w.order)}"
    line = w.part.lines[0]
    check(client.post(url, data={f"line_{line.id}": "9", "reason": w.text("Why")}),
          ["Title"], "withdrawal of too many", status=400)

    other = factories.make_organization(name="Épicerie du Port")
    stranger = factories.make_user(name="Lou", locale="en")
    db.session.add(Membership(organization=other, user=stranger, role=Role.COUNTER))
    db.session.commit()
    login(stranger)
    check(client.get(f"/orgs/{other.id}/counter/scan?q={w.voucher.token}"), ["Seller"],
          "another seller's counter scanning the voucher", status=403)
    assert not found, "\n".join(found)


def test_a_line_break_in_a_name_stays_inside_the_subject_line(app, outbox):
    """A name goes into email subjects: a line break in it must not end the header (nor make
    the email fail to send)."""
    card = cards.issue(2000, buyer_email="giver@example.org", buyer_name="Gil",
                       recipient_name="Ann\r\nBcc: everyone@example.org", locale="en",
                       recipient_email="friend@example.org")
    card_notify.send_card(card)
    db.session.commit()
    (mail,) = outbox
    assert mail.subject == "Ann Bcc: everyone@example.org, an ethical gift card for you"
    assert mail.recipients() == ["friend@example.org"]
    assert mail.message()["Bcc"] is None


def test_a_lazy_message_is_text_in_html_forms_flashes_and_json(make_app):
    """marketplace.i18n.lazy_gettext (`_l`): escaped once wherever HTML shows it, plain text
    in JSON; flask-babel's own lazy strings passed for markup."""
    app = make_app(BABEL_DEFAULT_LOCALE="en")
    message = lazy_gettext("“%(title)s” was already refunded.", title='<b>"Bol"</b>')
    escaped = "“&lt;b&gt;&#34;Bol&#34;&lt;/b&gt;” was already refunded."

    @app.get("/_test/flash")
    def flash_it():
        flash(message, "info")
        return redirect("/_test/shown")

    @app.get("/_test/shown")
    def shown():
        return render_template_string(
            "{% for m in get_flashed_messages() %}<p>{{ m }}</p>{% endfor %}"
            "<p>{{ message }}</p><p>{{ _('Note: %(m)s', m=message) }}</p>", message=message)

    @app.get("/_test/json")
    def as_json():
        return jsonify(message=message)

    client = app.test_client()
    with app.app_context():
        page = client.get("/_test/flash", follow_redirects=True).get_data(as_text=True)
        assert page.count(escaped) == 3 and "<b>" not in page and "&amp;" not in page
        assert client.get("/_test/json").json == {"message": '“<b>"Bol"</b>” was already refunded.'}
        label = Label("line_1", message)()
        assert escaped in label and "<b>" not in label
