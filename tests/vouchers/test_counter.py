"""The counter: a scanner's URL, a typed code or a camera frame finds the voucher; "Collected"
hands it over once; a retry gets the first answer; every refusal says why and changes nothing."""
import io
import re
from zoneinfo import ZoneInfo

import pytest
import qrcode
import sqlalchemy as sa
from PIL import Image, ImageDraw

from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.orders.models import OrderStatus
from marketplace.organizations import tickets
from marketplace.payments import refunds
from marketplace.vouchers import qr
from marketplace.vouchers.models import Collection
from tests.factories import make_product
from tests.payments.helpers import place_order, reload
from tests.vouchers.helpers import make_shop, nonce_of, paid_order, ticket_of, voucher_of


@pytest.fixture
def shop(app):
    return make_shop("Ressourcerie du Canal")


@pytest.fixture
def order(shop):
    lamp = make_product(shop.organization, title="Lampe de bureau", price_cents=1550, stock=5)
    chair = make_product(shop.organization, title="Chaise en bois", price_cents=2500, stock=5)
    return paid_order([(lamp, 2), (chair, 1)])


def counter_url(shop, suffix=""):
    return f"/orgs/{shop.organization.id}/counter{suffix}"


def scan(client, shop, text):
    return client.get(counter_url(shop, "/scan"), query_string={"q": text})


def collect(client, shop, voucher, nonce, lines=None, *, by=None):
    """ "Collected" on the page of a voucher that `by` (the shop's counter volunteer by default)
    scanned at this shop's counter."""
    data = {"nonce": nonce, "ticket": ticket_for(shop, voucher, by or shop.counter)}
    if lines is not None:
        data["line"] = [str(line_id) for line_id in lines]
    else:
        part = reload(voucher.part)
        data["line"] = [str(line.id) for line in part.lines]
    return client.post(counter_url(shop, "/collect"), data=data)


def ticket_for(shop, voucher, user) -> str:
    """What the counter page gives with a voucher found by its code (see test_a_bare_voucher_id...)."""
    return tickets.issue("voucher", voucher.id, user_id=user.id, organization_id=shop.organization.id)


def collections(voucher):
    return db.session.scalars(sa.select(Collection).where(Collection.voucher_id == voucher.id)).all()


def test_the_counter_page_has_a_focused_field_and_the_camera_script(client, login, shop):
    login(shop.counter)
    html = client.get(counter_url(shop)).get_data(as_text=True)
    assert re.search(r'<input id="q" name="q" type="text" value="" autofocus', html)
    assert "/static/js/counter.js" in html and 'id="camera-start"' in html


def test_a_scanner_typing_the_voucher_url_finds_the_voucher(client, login, shop, order):
    login(shop.counter)
    voucher = voucher_of(order.parts[0])
    response = scan(client, shop, qr.voucher_url(voucher))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Camille Martin" in html and order.reference in html
    assert "2 × Lampe de bureau" in html and "1 × Chaise en bois" in html
    assert ">Collected</button>" in html


@pytest.mark.parametrize("typed", ["{a}-{b}", "{a}{b}", " {la} {lb} ", "{la}-{lb}"])
def test_a_code_typed_by_hand_in_any_case_and_spacing_finds_it(client, login, shop, order, typed):
    login(shop.counter)
    code = voucher_of(order.parts[0]).code
    text = typed.format(a=code[:4], b=code[4:], la=code[:4].lower(), lb=code[4:].lower())
    response = scan(client, shop, text)
    assert response.status_code == 200 and "Lampe de bureau" in response.get_data(as_text=True)


@pytest.mark.parametrize("text", ["", "hello", "ABCD-EFG", "https://evil.example/x", "Z" * 600,
                                  "https://marche.example.org/v/" + "a" * 32])
def test_what_is_not_a_known_voucher_gets_a_clear_404(client, login, shop, order, text):
    login(shop.counter)
    response = scan(client, shop, text)
    assert response.status_code == 404
    assert "voucher" in response.get_data(as_text=True).lower()


def test_collected_once_with_the_audit_entry_then_a_new_scan_says_when_and_by_whom(
        client, login, shop, order):
    login(shop.counter)
    voucher = voucher_of(order.parts[0])
    nonce = nonce_of(scan(client, shop, voucher.code).get_data(as_text=True))
    response = collect(client, shop, voucher, nonce)
    assert response.status_code == 200
    assert "2 lines handed over to Camille Martin" in response.get_data(as_text=True)
    part = reload(order.parts[0])
    assert part.status == OrderStatus.COLLECTED and part.collected_at is not None
    assert reload(order).status == OrderStatus.COLLECTED
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "voucher.collected"))
    assert entry.actor_id == shop.counter.id and entry.organization_id == shop.organization.id
    assert entry.data["complete"] is True and entry.data["reference"] == order.reference

    again = scan(client, shop, voucher.code)
    html = again.get_data(as_text=True)
    assert again.status_code == 409
    when = part.collected_at.astimezone(ZoneInfo("Europe/Paris"))  # shown in French time
    assert "Already collected on" in html and "by Lucie Moreau" in html
    assert f"at {when:%H:%M} by Lucie Moreau" in html
    assert ">Collected</button>" not in html
    # The same scanned page posted again with a new nonce (another tab): refused, one collection.
    refused = collect(client, shop, voucher, "another-nonce")
    assert refused.status_code == 409 and "Already collected on" in refused.get_data(as_text=True)
    assert len(collections(voucher)) == 1


def test_a_retried_request_with_the_same_nonce_gets_the_first_answer(client, login, shop, order):
    login(shop.counter)
    voucher = voucher_of(order.parts[0])
    nonce = nonce_of(scan(client, shop, voucher.code).get_data(as_text=True))
    first = collect(client, shop, voucher, nonce)
    second = collect(client, shop, voucher, nonce)
    assert first.status_code == second.status_code == 200
    assert "handed over to Camille Martin" in second.get_data(as_text=True)
    assert len(collections(voucher)) == 1


def test_some_lines_now_and_the_rest_later(client, login, shop, order):
    login(shop.counter)
    voucher = voucher_of(order.parts[0])
    lamp_line, chair_line = order.parts[0].lines
    nonce = nonce_of(scan(client, shop, voucher.code).get_data(as_text=True))
    response = collect(client, shop, voucher, nonce, lines=[lamp_line.id])
    html = response.get_data(as_text=True)
    assert "1 line handed over" in html and "Some lines are still to collect" in html
    assert reload(order.parts[0]).status == OrderStatus.PAID

    html = scan(client, shop, voucher.code).get_data(as_text=True)
    assert "1 × Chaise en bois" in html and f'value="{chair_line.id}"' in html
    assert f'value="{lamp_line.id}"' not in html  # already handed over: no box for it
    collect(client, shop, voucher, nonce_of(html), lines=[chair_line.id])
    assert reload(order.parts[0]).status == OrderStatus.COLLECTED
    assert len(collections(voucher)) == 2


def test_no_line_ticked_is_a_400_and_nothing_happens(client, login, shop, order):
    login(shop.counter)
    voucher = voucher_of(order.parts[0])
    response = collect(client, shop, voucher, "n1", lines=[])
    assert response.status_code == 400 and "Tick at least one line" in response.get_data(as_text=True)
    assert collections(voucher) == []


@pytest.mark.parametrize("line", ["abc", "-1", "9" * 30])
def test_a_forged_line_value_is_a_400(client, login, shop, order, line):
    login(shop.counter)
    voucher = voucher_of(order.parts[0])
    response = client.post(counter_url(shop, "/collect"), data={
        "nonce": "n1", "line": line, "ticket": ticket_for(shop, voucher, shop.counter)})
    assert response.status_code == 400 and collections(voucher) == []


def test_a_missing_nonce_is_refused(client, login, shop, order):
    login(shop.counter)
    voucher = voucher_of(order.parts[0])
    response = client.post(counter_url(shop, "/collect"), data={
        "line": [str(line.id) for line in order.parts[0].lines],
        "ticket": ticket_for(shop, voucher, shop.counter)})
    assert response.status_code == 400 and collections(voucher) == []


def test_the_voucher_of_another_seller_is_refused_with_its_name(client, login, shop, order):
    other = make_shop("Épicerie Solidaire")
    login(other.counter)
    voucher = voucher_of(order.parts[0])
    response = scan(client, other, voucher.code)
    assert response.status_code == 403
    assert "another seller: Ressourcerie du Canal" in response.get_data(as_text=True)
    # Even with what a scan at its own counter would give, the other seller cannot collect it.
    response = collect(client, other, voucher, "n1")
    assert response.status_code == 403
    assert collections(voucher) == [] and reload(order.parts[0]).status == OrderStatus.PAID


def test_a_refunded_part_is_refused(client, login, shop, order):
    part = order.parts[0]
    refunds.refund_part(part, quantities=None, by=shop.manager, reason="Out of stock")
    db.session.commit()
    login(shop.counter)
    voucher = voucher_of(part)
    response = scan(client, shop, voucher.code)
    assert response.status_code == 409 and "was refunded" in response.get_data(as_text=True)
    assert collect(client, shop, voucher, "n1").status_code == 409
    assert collections(voucher) == []


def test_a_partly_refunded_line_hands_over_what_is_left(client, login, shop, order):
    part = order.parts[0]
    lamp_line = part.lines[0]
    refunds.refund_part(part, quantities={lamp_line.id: 1}, by=shop.manager, reason="Broken")
    db.session.commit()
    login(shop.counter)
    html = scan(client, shop, voucher_of(part).code).get_data(as_text=True)
    assert "1 × Lampe de bureau" in html


def test_an_unpaid_or_cancelled_order_is_refused(app, shop):
    from marketplace.orders import services as orders
    from marketplace.vouchers import services as vouchers

    lamp = make_product(shop.organization, stock=5)
    order = paid_order([(lamp, 1)])
    part = order.parts[0]
    # A voucher can only exist for a paid part; the rule still holds if the status moved back
    # by hand in the database (defence in depth).
    for status, words in ((OrderStatus.PENDING_PAYMENT, "not paid"),
                          (OrderStatus.CANCELLED, "cancelled")):
        part.status = status
        refused = vouchers.refusal(part)
        assert words in str(refused.message)
    db.session.rollback()
    pending = place_order([(lamp, 1)])
    orders.release(pending, status=OrderStatus.CANCELLED)
    db.session.commit()
    assert voucher_of(pending.parts[0]) is None


def test_staff_must_be_logged_in_and_members(client, login, shop, order, make_user):
    voucher = voucher_of(order.parts[0])
    response = collect(client, shop, voucher, "n1")
    assert response.status_code == 302 and "/login" in response.location
    login(make_user(email="stranger@example.org"))
    assert collect(client, shop, voucher, "n1").status_code == 404
    assert collections(voucher) == []


def test_a_bare_voucher_id_never_hands_goods_over(client, login, shop, order):
    """Voucher ids run 1, 2, 3...: collecting needs the voucher scanned or typed in this visit,
    by this volunteer, at this counter."""
    voucher = voucher_of(order.parts[0])
    lines = [str(line.id) for line in order.parts[0].lines]
    login(shop.counter)
    old_url = counter_url(shop, f"/vouchers/{voucher.id}/collect")
    assert client.post(old_url, data={"nonce": "n1", "line": lines}).status_code == 404
    for ticket in (None, "", str(voucher.id), f"{voucher.id}.x.y"):
        data = {"nonce": "n2", "line": lines} | ({} if ticket is None else {"ticket": ticket})
        response = client.post(counter_url(shop, "/collect"), data=data)
        assert response.status_code == 404
        assert "Scan the voucher" in response.get_data(as_text=True)
    # What the manager's scan gave is not the volunteer's.
    login(shop.manager)
    html = scan(client, shop, voucher.code).get_data(as_text=True)
    login(shop.counter)
    response = client.post(counter_url(shop, "/collect"), data={
        "nonce": "n3", "line": lines, "ticket": ticket_of(html)})
    assert response.status_code == 404
    assert collections(voucher) == [] and reload(order.parts[0]).status == OrderStatus.PAID
    # Scanned by the volunteer: collected.
    html = scan(client, shop, voucher.code).get_data(as_text=True)
    response = client.post(counter_url(shop, "/collect"), data={
        "nonce": nonce_of(html), "line": lines, "ticket": ticket_of(html)})
    assert response.status_code == 200 and len(collections(voucher)) == 1


def test_a_voucher_scanned_long_ago_must_be_scanned_again(client, login, shop, order, app):
    voucher = voucher_of(order.parts[0])
    login(shop.counter)
    html = scan(client, shop, voucher.code).get_data(as_text=True)
    app.config["COUNTER_TICKET_SECONDS"] = -1
    response = client.post(counter_url(shop, "/collect"), data={
        "nonce": nonce_of(html), "ticket": ticket_of(html),
        "line": [str(line.id) for line in order.parts[0].lines]})
    assert response.status_code == 400 and "scan it again" in response.get_data(as_text=True)
    assert collections(voucher) == []


def test_the_counter_form_sends_the_scan_in_the_body_not_in_the_address(
        client, login, shop, order):
    """A code in a URL stays in the till's history and in the access logs."""
    login(shop.counter)
    html = client.get(counter_url(shop)).get_data(as_text=True)
    form = re.search(r'<form[^>]*id="counter-scan"[^>]*>', html, re.S).group(0)
    assert 'method="post"' in form
    voucher = voucher_of(order.parts[0])
    response = client.post(counter_url(shop, "/scan"), data={"q": qr.voucher_url(voucher)})
    assert response.status_code == 200 and "2 × Lampe de bureau" in response.get_data(as_text=True)


def camera_frame(text: str) -> bytes:
    """A photo-like JPEG: the QR small, off-centre and slightly turned on a grey desk."""
    frame = Image.new("RGB", (1280, 720), (118, 112, 104))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((100, 80, 700, 650), fill=(235, 232, 225))  # a sheet of paper
    code = qrcode.make(text, box_size=6, border=4).get_image().convert("RGB").rotate(
        7, expand=True, fillcolor=(235, 232, 225))
    frame.paste(code, (220, 160))
    buffer = io.BytesIO()
    frame.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def test_a_camera_frame_is_decoded_on_the_server_and_then_finds_the_voucher(
        client, login, shop, order):
    login(shop.counter)
    voucher = voucher_of(order.parts[0])
    url = qr.voucher_url(voucher)
    response = client.post(counter_url(shop, "/decode"),
                           data={"frame": (io.BytesIO(camera_frame(url)), "frame.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and response.json == {"text": url}
    assert scan(client, shop, response.json["text"]).status_code == 200


def test_a_frame_without_a_code_decodes_to_nothing(client, login, shop):
    login(shop.counter)
    blank = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 90, 90)).save(blank, format="JPEG")
    response = client.post(counter_url(shop, "/decode"),
                           data={"frame": (io.BytesIO(blank.getvalue()), "f.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and response.json == {"text": None}


@pytest.mark.parametrize("payload", [b"", b"not an image", b"GIF89a" + b"\0" * 50])
def test_a_frame_that_is_not_a_picture_is_a_json_400(client, login, shop, payload):
    login(shop.counter)
    response = client.post(counter_url(shop, "/decode"),
                           data={"frame": (io.BytesIO(payload), "f.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "picture" in response.json["error"]


def test_a_huge_declared_frame_is_refused_without_decoding(client, login, shop):
    login(shop.counter)
    bomb = io.BytesIO()
    Image.new("L", (8000, 8000)).save(bomb, format="PNG")
    response = client.post(counter_url(shop, "/decode"),
                           data={"frame": (io.BytesIO(bomb.getvalue()), "f.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
