from datetime import timedelta

from freezegun import freeze_time

from marketplace.accounts import services as accounts
from marketplace.db import db, utcnow
from tests.accounts.helpers import compared_text, link_path, log_in, mails_to, text


def verification_link(outbox, email):
    return link_path(mails_to(outbox, email)[-1], "/verify-email/")


def test_an_expired_link_says_so_and_offers_a_new_one(client, make_user, outbox, app):
    max_age = app.config["EMAIL_VERIFICATION_MAX_AGE"]
    with freeze_time(utcnow()) as clock:
        user = make_user(email="late@example.org", verified=False)
        accounts.send_verification(user)
        db.session.commit()
        path = verification_link(outbox, "late@example.org")

        clock.tick(timedelta(seconds=max_age + 1))
        response = client.get(path)

    assert response.status_code == 400
    page = text(response)
    assert "This confirmation link is not valid or has expired." in page
    # The form to get a new link is there, already filled in with the address.
    assert 'action="/verify-email/resend"' in page
    assert 'value="late@example.org"' in page
    assert not user.is_verified

    response = client.post("/verify-email/resend", data={"email": "late@example.org"})
    assert "we have sent a new link" in text(response)
    client.get(verification_link(outbox, "late@example.org"))
    assert user.is_verified


def test_a_tampered_or_foreign_link_is_refused_without_an_error_page(client, make_user, outbox):
    user = make_user(email="target@example.org", verified=False)
    accounts.send_verification(user)
    db.session.commit()
    path = verification_link(outbox, "target@example.org")
    token = path.rsplit("/", 1)[1]
    # A reset token is signed with the same key, but for another purpose.
    accounts.request_password_reset("target@example.org")
    db.session.commit()
    reset_path = link_path(mails_to(outbox, "target@example.org")[-1], "/password/reset/")
    reset_token = reset_path.rsplit("/", 1)[1]

    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense", reset_token):
        response = client.get(f"/verify-email/{bad}")
        assert response.status_code == 400
        assert "This confirmation link is not valid or has expired." in text(response)
        assert 'value="target@example.org"' not in text(response)
    assert not user.is_verified


def test_following_the_link_twice_is_harmless(client, make_user, outbox):
    user = make_user(email="twice@example.org", verified=False)
    accounts.send_verification(user)
    db.session.commit()
    path = verification_link(outbox, "twice@example.org")
    client.get(path)
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200
    assert "already confirmed" in text(response)


def test_asking_for_a_new_link_never_tells_whether_the_address_exists(client, make_user, outbox):
    make_user(email="waiting@example.org", verified=False)
    make_user(email="done@example.org", verified=True)
    db.session.commit()

    pages = {}
    for email in ("waiting@example.org", "done@example.org", "nobody@example.org"):
        response = client.post("/verify-email/resend", data={"email": email})
        assert response.status_code == 200
        pages[email] = compared_text(response).replace(email, "EMAIL")
    assert len(set(pages.values())) == 1
    # Only the account that is really waiting gets a link.
    assert [mail.to for mail in outbox] == [["waiting@example.org"]]


def test_confirmed_link_lets_the_user_log_in(client, make_user, outbox):
    make_user(email="new@example.org", verified=False)
    db.session.commit()
    log_in(client, "new@example.org")
    client.get(verification_link(outbox, "new@example.org"))
    assert log_in(client, "new@example.org").status_code == 302
