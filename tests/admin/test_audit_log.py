"""The audit log page: newest first, filtered by action and organization, paginated."""
from marketplace import audit
from marketplace.db import db


def test_audit_log_lists_entries_newest_first_with_actor_and_data(
    client, make_user, make_organization, login
):
    admin = make_user(name="Sam Admin", is_admin=True)
    actor = make_user(name="Alix Durand")
    org = make_organization(name="Recyclerie du Rhône")
    audit.record("organization.applied", org, by=actor)
    audit.record("organization.rejected", org, by=admin, data={"reason": "SIRET inconnu"})
    login(admin)

    page = client.get("/admin/audit").get_data(as_text=True)

    assert page.index("organization.rejected") < page.index("organization.applied")
    assert "SIRET inconnu" in page
    assert "Alix Durand" in page
    assert "Recyclerie du Rhône" in page


def test_audit_log_filters_by_action_prefix_and_organization(
    client, make_user, make_organization, login
):
    admin = make_user(is_admin=True)
    first = make_organization(name="Première")
    second = make_organization(name="Seconde")
    audit.record("organization.approved", first, by=admin)
    audit.record("member.role_changed", first, by=admin)
    audit.record("organization.approved", second, by=admin, data={"marker": "second-org"})
    login(admin)

    page = client.get("/admin/audit?action=member.").get_data(as_text=True)
    assert "member.role_changed" in page and "organization.approved" not in page

    page = client.get(f"/admin/audit?organization={first.id}").get_data(as_text=True)
    assert "second-org" not in page
    assert "member.role_changed" in page


def test_audit_log_is_paginated(client, make_user, make_organization, login):
    admin = make_user(is_admin=True)
    org = make_organization()
    for n in range(55):
        audit.record("organization.updated", org, by=admin, data={"n": f"entry-{n:02d}"})
    db.session.commit()
    login(admin)

    first_page = client.get("/admin/audit").get_data(as_text=True)
    second_page = client.get("/admin/audit?page=2").get_data(as_text=True)

    assert "entry-54" in first_page and "entry-04" not in first_page
    assert "entry-04" in second_page and "entry-54" not in second_page
    assert "Page 1 of 2" in first_page
