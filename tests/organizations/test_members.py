"""Members: invitations by email, roles, and the organization's last owner."""
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db, utcnow
from marketplace.organizations.models import Invitation, Membership, Role


@pytest.fixture
def owner(make_user):
    return make_user(name="Olga Owner", email="olga@example.org")


@pytest.fixture
def org(make_organization, owner):
    return make_organization(name="Ressourcerie des Canuts", owner=owner)


def invitation_link(mail) -> str:
    (line,) = [line for line in mail.body.splitlines() if "/invitations/" in line]
    return line.strip()


def invite(client, org, email, role="manager"):
    return client.post(f"/orgs/{org.id}/invitations", data={"email": email, "role": role})


def test_owner_invites_and_the_invited_user_accepts(client, org, owner, make_user, login, outbox):
    invited = make_user(name="Ines Invitée", email="ines@example.org", locale="en")
    login(owner)

    response = invite(client, org, " Ines@Example.org ", role="manager")

    assert response.status_code == 302
    (mail,) = outbox
    assert mail.to == ["ines@example.org"]
    assert "Ressourcerie des Canuts" in mail.subject
    link = invitation_link(mail)
    assert link.startswith("http://localhost/invitations/")
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalar(sa.select(Invitation))
    assert stored.token_hash != token and token not in stored.token_hash  # only the hash is kept
    assert "ines@example.org" in client.get(f"/orgs/{org.id}/members").get_data(as_text=True)

    login(invited)
    page = client.get(link).get_data(as_text=True)
    assert "Join Ressourcerie des Canuts" in page
    assert invited.membership_in(org.id) is None  # opening the link alone does nothing

    response = client.post(link)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/")
    membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == invited.id))
    assert membership.role == Role.MANAGER
    assert client.get(f"/orgs/{org.id}/edit").status_code == 200
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["member.invited", "member.joined"]

    # The link works once.
    again = client.post(link)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_expired_invitation_is_refused_clearly(client, org, owner, make_user, login, outbox):
    invited = make_user(email="late@example.org")
    login(owner)
    invite(client, org, "late@example.org")
    link = invitation_link(outbox[0])
    db.session.scalar(sa.select(Invitation)).expires_at = utcnow() - timedelta(minutes=1)
    login(invited)

    response = client.post(link)

    assert response.status_code == 410
    assert "This invitation has expired" in response.get_data(as_text=True)
    assert invited.membership_in(org.id) is None


def test_invitation_opened_by_another_account_is_refused(client, org, owner, make_user, login, outbox):
    someone_else = make_user(email="mallory@example.org")
    login(owner)
    invite(client, org, "ines@example.org")
    link = invitation_link(outbox[0])
    login(someone_else)

    page = client.get(link)
    response = client.post(link)

    assert page.status_code == response.status_code == 403
    assert "This invitation was sent to ines@example.org" in response.get_data(as_text=True)
    assert someone_else.membership_in(org.id) is None
    assert db.session.scalar(sa.select(Invitation)).accepted_at is None


def test_anonymous_visitor_is_offered_to_log_in_and_come_back(client, org, owner, login, logout, outbox):
    login(owner)
    invite(client, org, "new@example.org", role="counter")
    link = invitation_link(outbox[0])
    logout()

    page = client.get(link).get_data(as_text=True)

    assert "Join Ressourcerie des Canuts" in page
    assert "Counter staff" in page
    path = link.removeprefix("http://localhost")
    hrefs = [unquote(href) for href in re.findall(r'href="([^"]+)"', page)]
    assert f"/login?next={path}" in hrefs
    assert any(href.startswith("/register?") and f"next={path}" in href for href in hrefs)


def test_unknown_or_revoked_invitation_link(client, org, owner, make_user, login, outbox):
    invited = make_user(email="ines@example.org")
    login(owner)
    invite(client, org, "ines@example.org")
    link = invitation_link(outbox[0])
    invitation = db.session.scalar(sa.select(Invitation))
    revoked = client.post(f"/orgs/{org.id}/invitations/{invitation.id}/revoke", follow_redirects=True)
    assert "was withdrawn" in revoked.get_data(as_text=True)
    login(invited)

    response = client.post(link)

    assert response.status_code == 410
    assert "This invitation was withdrawn" in response.get_data(as_text=True)
    assert client.get("/invitations/not-a-real-token").status_code == 404
    assert invited.membership_in(org.id) is None


def test_inviting_a_current_member_says_so(client, org, owner, login, outbox):
    login(owner)

    response = invite(client, org, "olga@example.org")

    assert response.status_code == 400
    assert "olga@example.org is already a member of this organization." in response.get_data(as_text=True)
    assert outbox == []


def test_owner_changes_a_role_and_it_is_audited(client, org, owner, make_user, login):
    member = make_user(name="Marc Manager")
    membership = Membership(organization=org, user=member, role=Role.MANAGER)
    db.session.add(membership)
    login(owner)

    response = client.post(
        f"/orgs/{org.id}/members/{membership.id}/role",
        data={f"member-{membership.id}-role": "counter"},
        follow_redirects=True,
    )

    assert "Marc Manager is now counter staff of the organization." in response.get_data(as_text=True)
    db.session.refresh(membership)
    assert membership.role == Role.COUNTER
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "member.role_changed"))
    assert entry.data["old_role"] == "manager" and entry.data["new_role"] == "counter"
    assert entry.actor_id == owner.id


def test_the_last_owner_can_be_neither_demoted_nor_removed(client, org, owner, login):
    mine = owner.membership_in(org.id)
    login(owner)

    demoted = client.post(
        f"/orgs/{org.id}/members/{mine.id}/role", data={f"member-{mine.id}-role": "manager"},
        follow_redirects=True,
    )
    removed = client.post(f"/orgs/{org.id}/members/{mine.id}/remove", follow_redirects=True)

    for response in (demoted, removed):
        assert "An organization always keeps at least one owner" in response.get_data(as_text=True)
    db.session.refresh(mine)
    assert mine.role == Role.OWNER
    assert db.session.scalar(sa.select(AuditEntry.id)) is None


def test_with_a_second_owner_the_first_may_step_down(client, org, owner, make_user, login):
    second = Membership(organization=org, user=make_user(), role=Role.OWNER)
    db.session.add(second)
    mine = owner.membership_in(org.id)
    login(owner)

    client.post(f"/orgs/{org.id}/members/{mine.id}/role", data={f"member-{mine.id}-role": "manager"})

    db.session.refresh(mine)
    assert mine.role == Role.MANAGER


def test_owner_removes_a_member_who_then_loses_access(client, org, owner, make_user, login):
    member = make_user(name="Carla Counter")
    membership = Membership(organization=org, user=member, role=Role.COUNTER)
    db.session.add(membership)
    login(owner)

    response = client.post(f"/orgs/{org.id}/members/{membership.id}/remove", follow_redirects=True)

    assert "Carla Counter is no longer a member of the organization." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(AuditEntry.action)) == "member.removed"
    login(member)
    assert client.get(f"/orgs/{org.id}/").status_code == 404


def test_manager_sees_members_but_no_owner_controls(client, org, make_user, login):
    manager = make_user(name="Marc Manager")
    db.session.add(Membership(organization=org, user=manager, role=Role.MANAGER))
    login(manager)

    page = client.get(f"/orgs/{org.id}/members").get_data(as_text=True)

    assert "Olga Owner" in page
    assert "Invite someone" not in page
    assert "/remove" not in page and "/role" not in page


def test_a_refused_change_answered_by_a_redirect_keeps_nothing(client, org, owner, login,
                                                                 monkeypatch):
    """A refused change is flashed on a redirect (a 302, which would commit): the view refuses
    the unit of work, so what the service wrote before refusing is not saved."""
    from marketplace.organizations import members as members_service
    from marketplace.organizations.validators import OrganizationError

    def change_role_then_refuse(membership, *, role, by):
        membership.role = role
        db.session.flush()
        raise OrganizationError("Refused after writing.")

    monkeypatch.setattr(members_service, "change_role", change_role_then_refuse)
    mine = owner.membership_in(org.id)
    login(owner)

    response = client.post(f"/orgs/{org.id}/members/{mine.id}/role",
                           data={f"member-{mine.id}-role": "manager"}, follow_redirects=True)

    assert "Refused after writing." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Membership, mine.id).role == Role.OWNER
