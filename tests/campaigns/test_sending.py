"""Sending a campaign's cards by email: queued after the commit on the sending date, one email
per employee in their language, each sent once; a refused address retried then given up on;
a corrected address gets the card again under a new code, spent value kept; the printable
batch and the signature sheet."""
from __future__ import annotations

import smtplib
from datetime import UTC, date, datetime

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa

from marketplace import uow
from marketplace.campaigns import printing, sending
from marketplace.campaigns.models import Beneficiary, CampaignStatus
from marketplace.db import db
from marketplace.giftcards import services as cards
from marketplace.giftcards.models import GiftCard
from marketplace.notifications import services as notifications
from tests.campaigns.helpers import issued_campaign
from tests.invoicing.helpers import pdf_text

SEND_DAY = date(2026, 12, 10)


def _sent(outbox) -> dict[str, object]:
    return {message.to[0]: message for message in outbox}


def test_nothing_leaves_before_the_sending_date(app, make_campaign, outbox):
    issued_campaign(make_campaign(send_on=SEND_DAY), count=3)
    with uow.unit():
        assert sending.send_due(today=date(2026, 12, 9)) == 0
    assert outbox == []


def test_on_the_sending_date_each_employee_gets_their_card_once(app, make_campaign, outbox,
                                                                  make_user):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=3)
    make_user(email="employee1@example.org", name="Ana", locale="fr")  # her account is in French
    with uow.unit():
        assert sending.send_due(today=SEND_DAY) == 3
        assert outbox == []  # not before the commit
    assert sorted(_sent(outbox)) == [f"employee{n}@example.org" for n in range(3)]
    # The platform's language for those without an account (French in production, English in
    # these tests), the account's language for the others.
    english, french = _sent(outbox)["employee0@example.org"], _sent(outbox)["employee1@example.org"]
    card = _beneficiary(campaign, 1).card
    assert french.subject == "CSE Textiles vous offre une carte cadeau de 50,00\u00a0€\u00a0: Noël"
    assert "Bonjour Prénom1," in french.body and card.display_code in french.body
    assert "Valable jusqu'au 10\u00a0décembre 2027" in french.body
    assert "Où la dépenser\u00a0: dans ces catégories\u00a0: " in french.body
    assert "Jouets" in french.body
    assert "Ce qui restera dessus à l'expiration\u00a0: " in french.body
    assert english.subject == "CSE Textiles offers you a gift card of €50.00: Christmas"
    assert "Where it may be spent: in these categories: " in english.body
    names = [a.get_filename() if hasattr(a, "get_filename") else a[0]
             for a in english.attachments]
    assert names == ["gift-card-qr.png",
                     f"carte-cadeau-{_beneficiary(campaign, 0).card.code[-4:]}.pdf"]
    progress = sending.progress(campaign)
    assert (progress.total, progress.sent, progress.failed, progress.percent) == (3, 3, 0, 100)

    outbox.clear()
    with uow.unit():
        assert sending.send_due(today=SEND_DAY) == 0  # sent is sent
    assert outbox == []


def test_a_campaign_not_issued_sends_nothing(app, make_campaign):
    campaign = make_campaign()
    with pytest.raises(sending.CampaignError) as refused, uow.unit():
        sending.queue_sending(campaign)
    assert refused.value.status_code == 409
    assert campaign.status == CampaignStatus.DRAFT


def test_a_refused_address_is_tried_again_then_given_up_on(app, make_campaign, outbox,
                                                           monkeypatch):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=2)
    real_send = notifications.send_now

    def send_now(message):
        if message.to == ["employee1@example.org"]:
            raise smtplib.SMTPRecipientsRefused(
                {"employee1@example.org": (550, b"5.1.1 User unknown")})
        real_send(message)

    monkeypatch.setattr(sending, "send_now", send_now)
    with uow.unit():
        sending.send_due(today=SEND_DAY)
    bad = db.session.get(Beneficiary, _beneficiary(campaign, 1).id)
    # In-process (no broker) the retries follow each other at once; a worker waits between them.
    assert bad.sent_at is None and bad.send_failures == app.config["CAMPAIGN_MAIL_ATTEMPTS"]
    assert bad.send_error == "550 5.1.1 User unknown"
    assert list(_sent(outbox)) == ["employee0@example.org"]
    progress = sending.progress(campaign)
    assert (progress.sent, progress.failed, progress.waiting) == (1, 1, 0)
    assert [b.email for b in db.session.scalars(sending.failed(campaign))] == [
        "employee1@example.org"]
    with uow.unit():
        assert sending.send_due(today=SEND_DAY) == 0  # given up on: the address needs fixing


def test_a_corrected_address_gets_the_card_under_a_new_code_and_keeps_what_was_spent(
        app, make_campaign, outbox, officer, make_organization):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=1)
    with uow.unit():
        sending.send_due(today=SEND_DAY)
    beneficiary = _beneficiary(campaign, 0)
    card = beneficiary.card
    old_code = card.code
    seller = make_organization(name="Ressourcerie")
    with uow.unit():
        cards.redeem(card.id, 1500, organization=seller, category="toys")
    outbox.clear()

    with uow.unit():
        assert sending.resend(beneficiary, " Employee0@Exemple.org ", by=officer) is True
    (message,) = outbox
    assert message.to == ["employee0@exemple.org"]
    db.session.expire_all()
    card = db.session.get(GiftCard, card.id)
    assert card.code != old_code and card.display_code in message.body
    assert card.balance_cents == 5000 - 1500 and card.holder_email == "employee0@exemple.org"
    assert cards.by_code(old_code) is None  # the code sent to the wrong address is void
    assert db.session.get(Beneficiary, beneficiary.id).sent_at is not None

    outbox.clear()
    with uow.unit():  # the same address again: sent again, same code
        assert sending.resend(beneficiary, "employee0@exemple.org", by=officer) is False
    assert len(outbox) == 1 and db.session.get(GiftCard, card.id).code == card.code


@pytest.mark.parametrize("address", ["", "pas une adresse", "a@b"])
def test_a_wrong_correction_is_refused_and_changes_nothing(app, make_campaign, officer, address):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=2)
    beneficiary = _beneficiary(campaign, 0)
    code = beneficiary.card.code
    with pytest.raises(sending.CampaignError) as refused, uow.unit():
        sending.resend(beneficiary, address, by=officer)
    assert refused.value.status_code == 400
    db.session.expire_all()
    assert db.session.get(GiftCard, beneficiary.card_id).code == code


def test_another_employees_address_is_refused(app, make_campaign, officer):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=2)
    with pytest.raises(sending.CampaignError) as refused, uow.unit():
        sending.resend(_beneficiary(campaign, 0), "employee1@example.org", by=officer)
    assert refused.value.status_code == 409


def test_a_card_queued_but_never_sent_is_queued_again_later(app, make_campaign, outbox,
                                                            monkeypatch):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=2)
    monkeypatch.setattr(sending, "_enqueue", lambda ids: None)  # the jobs are lost
    with uow.unit():
        assert sending.queue_sending(campaign, now=datetime(2026, 12, 10, 8, tzinfo=UTC)) == 2
    with uow.unit():  # within the hour: still in the queue, not queued twice
        assert sending.queue_sending(campaign, now=datetime(2026, 12, 10, 8, 30, tzinfo=UTC)) == 0
    with uow.unit():
        assert sending.queue_sending(campaign, now=datetime(2026, 12, 10, 9, 1, tzinfo=UTC)) == 2


@pytest.mark.parametrize(("layout", "pages"), [("a6", 6), ("a4x4", 2)])
def test_the_printable_batch(app, make_campaign, layout, pages):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=6)
    data = printing.cards_pdf(campaign, layout=layout)
    assert len(pdfium.PdfDocument(data)) == pages
    text = pdf_text(data)
    for n in range(6):
        assert _beneficiary(campaign, n).card.display_code in text
    assert "Offered by CSE Textiles" in text and "For: Christmas" in text


def test_the_signature_sheet(app, make_campaign):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=3)
    text = pdf_text(printing.signature_sheet_pdf(campaign, site_name="ESS Marché"))
    assert "Signature sheet: Noël" in text
    for n in range(3):
        beneficiary = _beneficiary(campaign, n)
        assert beneficiary.last_name in text and beneficiary.employee_number in text
        assert beneficiary.card.code[-4:] in text
    assert "Total: €150.00" in text


def _beneficiary(campaign, n: int) -> Beneficiary:
    return db.session.scalar(sa.select(Beneficiary).where(
        Beneficiary.campaign_id == campaign.id, Beneficiary.line == n + 2))


def test_the_email_has_the_qr_inline_and_a_link_to_the_card(app, make_campaign):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=1)
    beneficiary = _beneficiary(campaign, 0)
    message = sending.card_email(beneficiary)
    assert 'src="cid:campaign-card-qr"' in message.html
    assert f"/cards/{beneficiary.card.code}" in message.html
    assert f"/cards/{beneficiary.card.code}" in message.body
    assert "Hello Prénom0," in message.body


def test_the_commands_send_then_follow_with_a_progress_bar(app, make_campaign, outbox,
                                                           monkeypatch):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=4)
    runner = app.test_cli_runner()
    monkeypatch.setattr(sending, "local_today", lambda: date(2026, 12, 1))
    early = runner.invoke(args=["campaigns", "send", str(campaign.id)])
    assert early.exit_code == 1 and "sends its cards on 10/12/2026, not before" in early.output
    assert outbox == []

    monkeypatch.setattr(sending, "local_today", lambda: SEND_DAY)
    result = runner.invoke(args=["campaigns", "send", str(campaign.id)])
    assert result.exit_code == 0, result.output
    assert "4 card(s) queued for sending." in result.output
    assert len(outbox) == 4  # no broker: sent when the command's unit committed
    follow = runner.invoke(args=["campaigns", "follow", str(campaign.id)])
    assert follow.exit_code == 0, follow.output
    assert "Sending the cards of Noël" in follow.output and "4 sent, 0 refused" in follow.output
    assert runner.invoke(args=["campaigns", "send", "999"]).exit_code == 1
