"""Platform admins review seller applications: approve, reject with a reason, never twice."""
import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.organizations.models import OrganizationKind, OrganizationStatus, Role


@pytest.fixture
def admin(make_user, login):
    return login(make_user(name="Sam Admin", email="sam@platform.example.org", is_admin=True))


@pytest.fixture
def pending_org(make_user, make_organization):
    applicant = make_user(name="Alix Durand", email="alix@example.org", locale="en")
    org = make_organization(
        name="Atelier Vélo Solidaire", owner=applicant, status=OrganizationStatus.PENDING,
        siret="73282932000074",
    )
    org.applied_by = applicant
    db.session.commit()
    return org


def audit_actions(org):
    return db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.organization_id == org.id).order_by(AuditEntry.id)
    ).all()


def test_dashboard_counts_and_lists_pending_applications(client, admin, pending_org, make_organization):
    make_organization(name="Déjà approuvée")

    page = client.get("/admin/").get_data(as_text=True)

    assert "Atelier Vélo Solidaire" in page
    assert f"/admin/organizations/{pending_org.id}" in page
    assert "Déjà approuvée" not in page  # only pending applications are listed
    assert "<strong>1</strong> Pending review" in page
    assert "<strong>1</strong> Approved" in page


def test_detail_page_shows_the_identity_and_the_applicant(client, admin, pending_org):
    page = client.get(f"/admin/organizations/{pending_org.id}").get_data(as_text=True)

    assert "73282932000074" in page
    assert "Alix Durand" in page and "alix@example.org" in page
    assert "Approve" in page and "Reject" in page


def test_approval_puts_the_seller_on_the_home_page_and_emails_the_applicant(
    client, admin, pending_org, outbox
):
    public_link = f'href="/sellers/{pending_org.slug}"'
    assert public_link not in client.get("/").get_data(as_text=True)

    response = client.post(f"/admin/organizations/{pending_org.id}/approve", follow_redirects=True)

    assert "Atelier Vélo Solidaire is approved; the applicant was emailed." in response.get_data(as_text=True)
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.APPROVED
    assert pending_org.reviewed_by_id == admin.id
    assert pending_org.reviewed_at is not None
    home = client.get("/").get_data(as_text=True)
    assert public_link in home and "Atelier Vélo Solidaire" in home
    (mail,) = outbox
    assert mail.to == ["alix@example.org"]
    assert "approved" in mail.subject
    assert f"http://localhost/orgs/{pending_org.id}/" in mail.body
    assert audit_actions(pending_org) == ["organization.approved"]


def test_a_second_approval_is_refused_with_a_message(client, admin, pending_org, outbox):
    client.post(f"/admin/organizations/{pending_org.id}/approve")

    response = client.post(f"/admin/organizations/{pending_org.id}/approve", follow_redirects=True)

    assert response.status_code == 200
    assert "This organization has already been approved." in response.get_data(as_text=True)
    assert len(outbox) == 1
    assert audit_actions(pending_org) == ["organization.approved"]


def test_rejection_needs_a_reason(client, admin, pending_org, outbox):
    response = client.post(f"/admin/organizations/{pending_org.id}/reject", data={"reason": "  "})

    assert response.status_code == 400
    assert "Give the reason for the rejection" in response.get_data(as_text=True)
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.PENDING
    assert outbox == []


def test_rejection_emails_the_reason_and_shows_it_to_the_applicant(
    client, admin, pending_org, outbox, login
):
    reason = "Le SIRET ne correspond pas au nom de l'association."

    response = client.post(
        f"/admin/organizations/{pending_org.id}/reject", data={"reason": reason}, follow_redirects=True
    )

    assert "the applicant was emailed the reason" in response.get_data(as_text=True)
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.REJECTED
    assert pending_org.rejection_reason == reason
    (mail,) = outbox
    assert mail.to == ["alix@example.org"]
    assert reason in mail.body
    assert f"http://localhost/orgs/{pending_org.id}/edit" in mail.body
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "organization.rejected"))
    assert entry.data == {"reason": reason}
    assert entry.actor_id == admin.id
    # A rejected organization is never public.
    assert f'href="/sellers/{pending_org.slug}"' not in client.get("/").get_data(as_text=True)

    login(pending_org.applied_by)
    page = client.get(f"/orgs/{pending_org.id}/").get_data(as_text=True)
    assert "Rejected" in page
    assert "Le SIRET ne correspond pas au nom de l&#39;association." in page


def test_rejected_applicant_corrects_the_details_and_is_reviewed_again(
    client, admin, pending_org, outbox, login
):
    client.post(f"/admin/organizations/{pending_org.id}/reject", data={"reason": "SIRET faux."})
    login(pending_org.applied_by)
    form = client.get(f"/orgs/{pending_org.id}/edit").get_data(as_text=True)
    assert "sends your application to the platform team for a new review" in form

    response = client.post(
        f"/orgs/{pending_org.id}/edit",
        data={
            "name": "Atelier Vélo Solidaire", "ess_status": "association", "siret": "55210055400013",
            "rna": pending_org.rna, "address_line": "1 place Bellecour", "postcode": "69002",
            "town": "Lyon",
        },
    )

    assert response.status_code == 302
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.PENDING
    assert pending_org.siret == "55210055400013"
    assert pending_org.rejection_reason is None
    assert "organization.resubmitted" in audit_actions(pending_org)
    assert "sam@platform.example.org" in [mail.to[0] for mail in outbox]


def test_organizations_list_filters_by_status_and_kind(client, admin, make_organization):
    make_organization(name="Asso approuvée")
    make_organization(name="Asso en attente", status=OrganizationStatus.PENDING)
    make_organization(name="CSE Usine", kind=OrganizationKind.WORKS_COUNCIL, siret="55210055400013")

    page = client.get("/admin/organizations?status=pending").get_data(as_text=True)
    assert "Asso en attente" in page and "Asso approuvée" not in page

    page = client.get("/admin/organizations?kind=works_council").get_data(as_text=True)
    assert "CSE Usine" in page and "Asso approuvée" not in page

    page = client.get("/admin/organizations?q=55210055400013").get_data(as_text=True)
    assert "CSE Usine" in page and "Asso en attente" not in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/"),
        ("get", "/admin/organizations"),
        ("get", "/admin/organizations/{id}"),
        ("post", "/admin/organizations/{id}/approve"),
        ("post", "/admin/organizations/{id}/reject"),
        ("get", "/admin/audit"),
    ],
)
def test_admin_pages_are_forbidden_to_other_users(
    client, make_user, make_organization, login, pending_org, method, path
):
    # Even the organization's owner cannot review it.
    owner = pending_org.memberships[0].user
    assert pending_org.memberships[0].role == Role.OWNER
    login(owner)

    response = getattr(client, method)(path.format(id=pending_org.id), data={"reason": "x"})

    assert response.status_code == 403
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.PENDING


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
