"""The sending pages of a campaign: progress on the campaign page, "send now" once the date has
come, addresses to correct with a form per line, the printable cards and the signature sheet."""
from __future__ import annotations

import smtplib
from datetime import date

import pypdfium2 as pdfium
import pytest

from marketplace.campaigns import sending
from marketplace.campaigns.models import Beneficiary
from marketplace.db import db
from tests.campaigns.helpers import issued_campaign

SEND_DAY = date(2026, 12, 10)


@pytest.fixture
def today(monkeypatch):
    """The platform's date (Paris) as the pages see it: set with today(date)."""
    def set_today(day: date) -> None:
        monkeypatch.setattr(sending, "local_today", lambda: day)

    return set_today


def _url(campaign, tail=""):
    return f"/orgs/{campaign.organization_id}/campaigns/{campaign.id}{tail}"


def test_before_the_date_the_page_says_when_and_nothing_can_be_sent(
        client, login, officer, make_campaign, outbox, today):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=3)
    login(officer)
    today(date(2026, 12, 1))
    html = client.get(_url(campaign)).get_data(as_text=True)
    assert "0 cards sent out of 3" in html and '<progress id="sending-progress" max="3" value="0">' in html
    assert "The cards leave by email on 10 December 2026" in html
    assert "Send the cards not sent yet" not in html
    assert client.post(_url(campaign, "/send")).status_code == 409
    assert outbox == []


def test_on_the_date_the_manager_sends_and_follows(client, login, officer, make_campaign, outbox, today):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=3)
    login(officer)
    today(SEND_DAY)
    assert "Send the cards not sent yet" in client.get(_url(campaign)).get_data(as_text=True)
    answer = client.post(_url(campaign, "/send"))
    assert answer.status_code == 303 and answer.location.endswith(_url(campaign, "/sending"))
    assert len(outbox) == 3
    html = client.get(answer.location).get_data(as_text=True)
    assert "3 cards are on their way." in html
    assert "No address refused the email." in html
    assert client.post(_url(campaign, "/send")).status_code == 303
    assert len(outbox) == 3  # each card once


def test_a_refused_address_is_corrected_in_the_page(client, login, officer, make_campaign, outbox,
                                                    monkeypatch, today):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=2)
    real_send = sending.send_now

    def send_now(message):
        if message.to == ["employee1@example.org"]:
            raise smtplib.SMTPRecipientsRefused({"employee1@example.org": (550, "No such user")})
        real_send(message)

    monkeypatch.setattr(sending, "send_now", send_now)
    login(officer)
    today(SEND_DAY)
    client.post(_url(campaign, "/send"))
    html = client.get(_url(campaign, "/sending")).get_data(as_text=True)
    assert "550 No such user" in html and "Nom1" in html
    bad = db.session.query(Beneficiary).filter_by(email="employee1@example.org").one()
    old_code = bad.card.code

    wrong = client.post(_url(campaign, f"/beneficiaries/{bad.id}/resend"),
                        data={"email": "pas-une-adresse"})
    assert wrong.status_code == 400
    assert "Give a valid email address." in wrong.get_data(as_text=True)

    answer = client.post(_url(campaign, f"/beneficiaries/{bad.id}/resend"),
                         data={"email": "employee1@example.com"})
    assert answer.status_code == 303
    db.session.expire_all()
    bad = db.session.get(Beneficiary, bad.id)
    assert bad.email == "employee1@example.com" and bad.sent_at is not None
    assert bad.card.code != old_code
    assert outbox[-1].to == ["employee1@example.com"]


def test_the_printable_cards_and_the_signature_sheet(client, login, officer, make_campaign):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=5)
    login(officer)
    four = client.get(_url(campaign, "/cards.pdf?layout=a4x4"))
    assert four.status_code == 200 and four.mimetype == "application/pdf"
    assert len(pdfium.PdfDocument(four.data)) == 2
    one = client.get(_url(campaign, "/cards.pdf"))
    assert len(pdfium.PdfDocument(one.data)) == 5
    assert client.get(_url(campaign, "/cards.pdf?layout=a3")).status_code == 400
    sheet = client.get(_url(campaign, "/signature-sheet.pdf"))
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF")


def test_nothing_to_print_before_the_cards_are_issued(client, login, officer, make_campaign):
    campaign = make_campaign(send_on=SEND_DAY)
    login(officer)
    assert client.get(_url(campaign, "/cards.pdf")).status_code == 409
    assert client.get(_url(campaign, "/signature-sheet.pdf")).status_code == 409
