"""Platform admins review seller applications: the identifiers' check and the public registries,
a confirmation page before approving or rejecting (with a reason), never twice."""
import html
import re

import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.organizations.models import OrganizationKind, OrganizationStatus, Role
from tests import factories


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


def text(response) -> str:
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body))


def confirmation_version(client, org, step) -> str:
    """What the confirmation page puts in its form: the version of the application it shows."""
    page = client.get(f"/admin/organizations/{org.id}/{step}").get_data(as_text=True)
    return re.search(r'name="reviewed_version" type="hidden" value="([^"]+)"', page).group(1)


def approve(client, org):
    version = confirmation_version(client, org, "approve")
    return client.post(f"/admin/organizations/{org.id}/approve",
                       data={"reviewed_version": version}, follow_redirects=True)


def reject(client, org, reason):
    version = confirmation_version(client, org, "reject")
    return client.post(f"/admin/organizations/{org.id}/reject",
                       data={"reason": reason, "reviewed_version": version}, follow_redirects=True)


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
    counts = " ".join(page.split())
    assert "<strong>1</strong> application to review" in counts
    assert "<strong>1</strong> organization approved" in counts


def test_detail_page_shows_the_identity_and_the_applicant(client, admin, pending_org):
    page = client.get(f"/admin/organizations/{pending_org.id}").get_data(as_text=True)

    assert "732 829 320 00074" in page
    assert "Alix Durand" in page and "alix@example.org" in page
    # The decision starts on a confirmation page, never from a one-click form here.
    assert f'href="/admin/organizations/{pending_org.id}/approve"' in page
    assert f'href="/admin/organizations/{pending_org.id}/reject"' in page
    assert f'action="/admin/organizations/{pending_org.id}/approve"' not in page


def test_detail_page_shows_what_was_checked_of_the_siret_and_the_rna(client, admin, pending_org):
    pending_org.rna = "W691234567"
    db.session.commit()

    page = text(client.get(f"/admin/organizations/{pending_org.id}"))
    links = client.get(f"/admin/organizations/{pending_org.id}").get_data(as_text=True)

    assert "SIRET 732 829 320 00074: valid" in page
    assert "SIREN 732 829 320: valid" in page
    assert "RNA number W691234567: well formed" in page
    assert "Not checked: that the organization exists" in page
    assert "Not checked: that the association exists" in page
    assert 'href="https://annuaire-entreprises.data.gouv.fr/etablissement/73282932000074"' in links
    assert 'href="https://annuaire-entreprises.data.gouv.fr/entreprise/732829320"' in links
    assert ('href="https://www.journal-officiel.gouv.fr/pages/associations-recherche/?q=W691234567"'
            in links)


@pytest.mark.parametrize(("siret", "rna", "postcode", "expected"), [
    ("73282932000079", "W691234567", "69002", "SIRET 732 829 320 00079: not valid (wrong check digit"),
    ("7328293200007", "W691234567", "69002", "SIRET 7328293200007: not valid (a SIRET has 14 digits"),
    (None, "W69123", "69002", "RNA number W69123: not valid (W followed by 9 digits"),
    (None, None, "67000", "No RNA number: associations of Alsace-Moselle are not in the RNA"),
    (None, None, "69002", "No RNA number given"),
    (None, None, "69002", "No SIRET given"),
])
def test_a_wrong_or_missing_identifier_is_named(client, admin, pending_org, siret, rna, postcode,
                                               expected):
    # Stored before the checks existed, or by hand: the page still tells the truth.
    pending_org.siret, pending_org.rna, pending_org.postcode = siret, rna, postcode
    db.session.commit()

    page = text(client.get(f"/admin/organizations/{pending_org.id}"))

    assert expected in page


def test_approval_is_confirmed_on_a_page_with_the_key_facts(client, admin, pending_org, outbox):
    page = client.get(f"/admin/organizations/{pending_org.id}/approve")

    assert page.status_code == 200
    body = text(page)
    assert "Approve Atelier Vélo Solidaire?" in body
    assert "732 829 320 00074" in body and "SIRET 732 829 320 00074: valid" in body
    assert "Alix Durand" in body and "alix@example.org" in body
    html_page = page.get_data(as_text=True)
    assert f'<form method="post" action="/admin/organizations/{pending_org.id}/approve"' in html_page
    assert 'name="reviewed_version"' in html_page
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.PENDING and outbox == []  # nothing yet


def test_a_post_without_the_confirmation_page_approves_nothing(client, admin, pending_org, outbox):
    response = client.post(f"/admin/organizations/{pending_org.id}/approve")

    assert response.status_code == 400
    assert "Confirm from the confirmation page" in response.get_data(as_text=True)
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.PENDING and outbox == []


def test_an_application_changed_since_the_confirmation_page_is_not_approved(
    client, admin, pending_org, outbox
):
    version = confirmation_version(client, pending_org, "approve")
    pending_org.siret = "55210055400013"  # the applicant corrected it meanwhile
    db.session.commit()

    response = client.post(f"/admin/organizations/{pending_org.id}/approve",
                           data={"reviewed_version": version})

    assert response.status_code == 409
    body = text(response)
    assert "The application changed since you opened this page" in body
    assert "552 100 554 00013" in body  # the page shows it again, up to date
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.PENDING and outbox == []


def test_rejection_is_confirmed_on_a_page_with_the_reason(client, admin, pending_org, outbox):
    page = client.get(f"/admin/organizations/{pending_org.id}/reject")

    assert page.status_code == 200
    body = text(page)
    assert "Reject the application of Atelier Vélo Solidaire?" in body
    assert "SIRET 732 829 320 00074: valid" in body
    html_page = page.get_data(as_text=True)
    assert f'<form method="post" action="/admin/organizations/{pending_org.id}/reject"' in html_page
    assert 'name="reason"' in html_page and 'name="reviewed_version"' in html_page
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.PENDING and outbox == []


def test_a_decided_application_has_no_confirmation_page(client, admin, pending_org, outbox):
    approve(client, pending_org)

    response = client.get(f"/admin/organizations/{pending_org.id}/reject", follow_redirects=True)

    assert "This organization has already been approved." in response.get_data(as_text=True)
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.APPROVED and len(outbox) == 1


def test_the_confirmation_forms_carry_the_csrf_token_and_need_it(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        admin_user = factories.make_user(is_admin=True, email="csrf-admin@example.org")
        org = factories.make_organization(name="Atelier Vélo Solidaire",
                                          status=OrganizationStatus.PENDING)
        key = factories.make_session_key(admin_user)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = key
        for step in ("approve", "reject"):
            page = client.get(f"/admin/organizations/{org.id}/{step}").get_data(as_text=True)
            assert 'name="csrf_token"' in page
            version = re.search(r'name="reviewed_version" type="hidden" value="([^"]+)"', page)
            response = client.post(f"/admin/organizations/{org.id}/{step}",
                                   data={"reviewed_version": version.group(1), "reason": "x"})
            assert response.status_code == 400
        db.session.refresh(org)
        assert org.status == OrganizationStatus.PENDING


def test_approval_puts_the_seller_on_the_home_page_and_emails_the_applicant(
    client, admin, pending_org, outbox
):
    public_link = f'href="/sellers/{pending_org.slug}"'
    assert public_link not in client.get("/").get_data(as_text=True)

    response = approve(client, pending_org)

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
    version = confirmation_version(client, pending_org, "approve")
    client.post(f"/admin/organizations/{pending_org.id}/approve", data={"reviewed_version": version})

    response = client.post(f"/admin/organizations/{pending_org.id}/approve",
                           data={"reviewed_version": version}, follow_redirects=True)

    assert response.status_code == 200
    assert "This organization has already been approved." in response.get_data(as_text=True)
    assert len(outbox) == 1
    assert audit_actions(pending_org) == ["organization.approved"]


def test_rejection_needs_a_reason(client, admin, pending_org, outbox):
    version = confirmation_version(client, pending_org, "reject")
    response = client.post(f"/admin/organizations/{pending_org.id}/reject",
                           data={"reason": "  ", "reviewed_version": version})

    assert response.status_code == 400
    assert "Give the reason for the rejection" in response.get_data(as_text=True)
    db.session.refresh(pending_org)
    assert pending_org.status == OrganizationStatus.PENDING
    assert outbox == []


def test_rejection_emails_the_reason_and_shows_it_to_the_applicant(
    client, admin, pending_org, outbox, login
):
    reason = "Le SIRET ne correspond pas au nom de l'association."

    response = reject(client, pending_org, reason)

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
    reject(client, pending_org, "SIRET faux.")
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
        ("get", "/admin/organizations/{id}/approve"),
        ("post", "/admin/organizations/{id}/approve"),
        ("get", "/admin/organizations/{id}/reject"),
        ("post", "/admin/organizations/{id}/reject"),
        ("get", "/admin/orders/ANY-REF"),
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


def test_a_refused_decision_keeps_nothing_though_the_answer_is_a_redirect(
        client, admin, pending_org, monkeypatch):
    """The refusal is flashed on a redirect (a 302, which would commit): the view refuses the
    unit of work, so what the service wrote before refusing is not saved."""
    from marketplace.organizations import services as organizations
    from marketplace.organizations.validators import OrganizationError

    def approve_then_refuse(org, *, by, seen_version=None):
        org.status = OrganizationStatus.APPROVED
        db.session.flush()
        raise OrganizationError("Refused after writing.")

    monkeypatch.setattr(organizations, "approve", approve_then_refuse)
    response = approve(client, pending_org)

    assert "Refused after writing." in text(response)
    db.session.expire_all()
    assert pending_org.status == OrganizationStatus.PENDING
