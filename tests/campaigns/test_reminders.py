"""Reminders with frozen time: to employees who have not opened their card after 3 days, 10 days,
then every month; to everyone with a balance 30 and 7 days before expiry; each once; none after
the one-click opt-out, which works without logging in."""
from __future__ import annotations

from datetime import date

import pytest
from freezegun import freeze_time

from marketplace import uow
from marketplace.campaigns import reminders, sending
from marketplace.campaigns.models import Beneficiary
from marketplace.db import db
from marketplace.giftcards import services as cards
from tests.campaigns.helpers import issued_campaign

SEND_DAY = date(2026, 12, 10)  # cards valid until 10 December 2027


@pytest.fixture
def sent(app, make_campaign, outbox):
    campaign = issued_campaign(make_campaign(send_on=SEND_DAY), count=2)
    with freeze_time("2026-12-10 08:00"), uow.unit():
        sending.send_due(today=SEND_DAY)
    outbox.clear()
    return campaign


def _run(day: str, outbox) -> list[tuple[str, str]]:
    outbox.clear()
    with freeze_time(f"{day} 06:00"), uow.unit():
        reminders.send_due()
    return sorted((message.to[0], message.subject) for message in outbox)


def _beneficiary(campaign, n):
    return db.session.query(Beneficiary).filter_by(campaign_id=campaign.id, line=n + 2).one()


@pytest.mark.parametrize(("days", "kind"), [(2, None), (3, "unopened-3"), (9, "unopened-3"),
                                            (10, "unopened-10"), (29, "unopened-10"),
                                            (30, "unopened-month-1"), (65, "unopened-month-2")])
def test_the_not_opened_reminder_due_after_so_many_days(days, kind):
    assert reminders.unopened_kind(days) == kind


@pytest.mark.parametrize(("left", "kind"), [(31, None), (30, "expiry-30"), (8, "expiry-30"),
                                            (7, "expiry-7"), (1, "expiry-7"), (0, None)])
def test_the_expiry_reminder_due_with_so_many_days_left(left, kind):
    assert reminders.expiry_kind(left) == kind


def test_the_right_emails_on_the_right_days_once_each(sent, outbox, client):
    unopened = "Your gift card of €50.00 from CSE Textiles is waiting for you"
    both = [("employee0@example.org", unopened), ("employee1@example.org", unopened)]
    assert _run("2026-12-12", outbox) == []  # 2 days after
    assert _run("2026-12-13", outbox) == both  # 3 days after
    assert _run("2026-12-13", outbox) == []  # once
    assert _run("2026-12-15", outbox) == []

    # Employee 1 opens their card (the link of the email): no more "not opened" reminders.
    card = _beneficiary(sent, 1).card
    assert client.get(f"/cards/{card.code}").status_code == 200
    assert _run("2026-12-20", outbox) == [("employee0@example.org", unopened)]  # 10 days
    assert _run("2027-01-09", outbox) == [("employee0@example.org", unopened)]  # a month
    assert _run("2027-02-08", outbox) == [("employee0@example.org", unopened)]  # two months
    assert _run("2027-02-20", outbox) == []

    # Employee 0 spends it all: nothing more to remind about; employee 1 keeps a balance.
    cards.redeem(_beneficiary(sent, 0).card_id, 5000, organization=_seller(), category="toys")
    db.session.commit()
    assert _run("2027-11-10", outbox) == [
        ("employee1@example.org", "Your gift card expires in 30 days: €50.00 left")]
    assert _run("2027-11-11", outbox) == []
    assert _run("2027-12-03", outbox) == [
        ("employee1@example.org", "Your gift card expires in 7 days: €50.00 left")]
    assert _run("2027-12-04", outbox) == []


def test_the_one_click_opt_out_stops_every_reminder(sent, outbox, client):
    assert len(_run("2026-12-13", outbox)) == 2
    message = next(m for m in outbox if m.to == ["employee0@example.org"])
    stop = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert stop in message.body
    path = stop.replace("http://localhost", "")
    page = client.get(path)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200 and "Stop the reminders" in page.get_data(as_text=True)
    assert _beneficiary(sent, 0).reminders_off_at is None
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # no login, no CSRF token
    assert done.status_code == 200 and "you will receive no more reminders" in done.get_data(
        as_text=True)
    db.session.expire_all()
    assert _beneficiary(sent, 0).reminders_off_at is not None
    assert _run("2026-12-20", outbox) == [
        ("employee1@example.org", "Your gift card of €50.00 from CSE Textiles is waiting for you")]
    assert [to for to, _ in _run("2027-11-10", outbox)] == ["employee1@example.org"]


def test_a_forged_opt_out_link_is_refused(sent, client):
    assert client.post("/reminders/off/not-a-token").status_code == 404
    assert client.get("/reminders/off/MQ.forged").status_code == 404


def _seller():
    from tests.factories import make_organization

    return make_organization(name="Ressourcerie")
