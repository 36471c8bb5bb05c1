from datetime import timedelta

from freezegun import freeze_time

from marketplace.db import db, utcnow
from tests.accounts.helpers import compared_text, is_logged_in, link_path, log_in, mails_to, text

NEW_PASSWORD = "un tout nouveau secret"
INVALID = "This password reset link is not valid, has expired or was already used."


def ask_for_reset(client, email):
    return client.post("/password/forgot", data={"email": email})


def reset_link(outbox, email):
    return link_path(mails_to(outbox, email)[-1], "/password/reset/")


def choose(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={"password": password, "confirm": confirm or password})


def test_full_reset_flow_logs_out_other_sessions(app, client, make_user, outbox):
    make_user(email="forgetful@example.org")
    db.session.commit()
    other_device = app.test_client()
    log_in(other_device, "forgetful@example.org", remember_me="y")
    assert is_logged_in(other_device)

    response = ask_for_reset(client, "forgetful@example.org")
    assert "If an account exists for forgetful@example.org" in text(response)
    path = reset_link(outbox, "forgetful@example.org")

    page = text(client.get(path))
    assert "Choose a new password" in page and 'autocomplete="new-password"' in page

    response = choose(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Your password was changed" in text(client.get("/login"))

    assert log_in(client, "forgetful@example.org").status_code == 200  # old password refused
    assert log_in(client, "forgetful@example.org", NEW_PASSWORD).status_code == 302
    assert not is_logged_in(other_device)
    # The owner is told that the password changed.
    assert "password was changed" in mails_to(outbox, "forgetful@example.org")[-1].subject


def test_reset_answers_the_same_for_unknown_addresses(client, make_user, outbox):
    make_user(email="exists@example.org")
    db.session.commit()

    known = ask_for_reset(client, "exists@example.org")
    unknown = ask_for_reset(client, "ghost@example.org")

    assert known.status_code == unknown.status_code == 200
    assert compared_text(known).replace("exists@", "X@") == compared_text(unknown).replace("ghost@", "X@")
    assert [mail.to for mail in outbox] == [["exists@example.org"]]


def test_a_reset_link_works_only_once(client, make_user, outbox):
    make_user(email="once@example.org")
    db.session.commit()
    ask_for_reset(client, "once@example.org")
    path = reset_link(outbox, "once@example.org")
    choose(client, path)

    for response in (client.get(path), choose(client, path, "encore un autre secret")):
        assert response.status_code == 400
        assert INVALID in text(response)
    assert log_in(client, "once@example.org", "encore un autre secret").status_code == 200
    assert log_in(client, "once@example.org", NEW_PASSWORD).status_code == 302


def test_an_older_link_dies_when_the_password_changes_another_way(client, make_user, outbox):
    make_user(email="two-links@example.org")
    db.session.commit()
    ask_for_reset(client, "two-links@example.org")
    first = reset_link(outbox, "two-links@example.org")
    ask_for_reset(client, "two-links@example.org")
    second = reset_link(outbox, "two-links@example.org")

    choose(client, second)

    assert client.get(first).status_code == 400


def test_an_expired_reset_link_is_refused(app, client, make_user, outbox):
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    with freeze_time(utcnow()) as clock:
        make_user(email="slow@example.org")
        db.session.commit()
        ask_for_reset(client, "slow@example.org")
        path = reset_link(outbox, "slow@example.org")

        clock.tick(timedelta(seconds=max_age - 60))
        assert client.get(path).status_code == 200

        clock.tick(timedelta(seconds=120))
        response = choose(client, path)

    assert response.status_code == 400
    assert INVALID in text(response)
    assert 'href="/password/forgot"' in text(response)
    assert log_in(client, "slow@example.org", NEW_PASSWORD).status_code == 200


def test_tampered_reset_links_are_refused(client, make_user, outbox):
    user = make_user(email="victim@example.org", verified=False)
    db.session.commit()
    ask_for_reset(client, "victim@example.org")
    token = reset_link(outbox, "victim@example.org").rsplit("/", 1)[1]
    # A confirmation link is signed with the same key, but for another purpose.
    client.post("/verify-email/resend", data={"email": "victim@example.org"})
    verify_token = link_path(mails_to(outbox, "victim@example.org")[-1], "/verify-email/").rsplit(
        "/", 1
    )[1]
    payload, _, signature = token.partition(".")

    for bad in (f"{payload}.AAAA{signature[4:]}", "garbage", f"x{token}", verify_token):
        response = choose(client, f"/password/reset/{bad}")
        assert response.status_code == 400, bad
        assert INVALID in text(response)
    assert log_in(client, "victim@example.org", NEW_PASSWORD).status_code == 200
    assert not user.is_verified


def test_a_reset_proves_the_mailbox_so_it_confirms_the_address(client, make_user, outbox):
    make_user(email="never-confirmed@example.org", verified=False)
    db.session.commit()
    ask_for_reset(client, "never-confirmed@example.org")
    choose(client, reset_link(outbox, "never-confirmed@example.org"))

    assert log_in(client, "never-confirmed@example.org", NEW_PASSWORD).status_code == 302


def test_the_new_password_follows_the_policy(client, make_user, outbox):
    make_user(email="policy@example.org")
    db.session.commit()
    ask_for_reset(client, "policy@example.org")
    path = reset_link(outbox, "policy@example.org")

    assert "at least 10 characters" in text(choose(client, path, "short"))
    assert "must not be your email address" in text(choose(client, path, "Policy@example.org"))
    assert "not the same" in text(choose(client, path, NEW_PASSWORD, NEW_PASSWORD + "!"))
    # The link still works after those mistakes.
    assert choose(client, path).status_code == 302
