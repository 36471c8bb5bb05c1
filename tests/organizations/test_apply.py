"""Applying to sell: the form, the identifiers, the owner membership, the emails."""
import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.organizations.models import (
    Membership,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Role,
)


def application(**overrides):
    data = {
        "kind": "association",
        "name": "Ressourcerie de la Croix-Rousse",
        "legal_form": "Association loi 1901",
        "ess_status": "association",
        "siret": "",
        "rna": "w691234567",
        "local_register": "",
        "address_line": "3 rue d'Austerlitz",
        "postcode": "69004",
        "town": "Lyon",
        "description": "Objets de seconde main, atelier de réparation.",
        "contact_email": "Contact@Ressourcerie.example.org",
        "phone": "04 72 00 00 00",
        "website": "www.ressourcerie.example.org",
    }
    data.update(overrides)
    return data


def organizations():
    return db.session.scalars(sa.select(Organization)).all()


@pytest.fixture
def applicant(make_user, login):
    return login(make_user(name="Alix Durand", email="alix@example.org", locale="en"))


def test_association_applies_with_rna_and_becomes_owner_of_a_pending_organization(
    client, applicant, make_user, outbox
):
    admin = make_user(name="Admin", email="admin@example.org", is_admin=True)
    db.session.commit()

    response = client.post("/organizations/apply", data=application())

    assert response.status_code == 302
    (org,) = organizations()
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/")
    assert org.status == OrganizationStatus.PENDING
    assert org.rna == "W691234567"
    assert org.slug == "ressourcerie-de-la-croix-rousse"
    assert org.website == "https://www.ressourcerie.example.org"
    assert org.contact_email == "contact@ressourcerie.example.org"
    assert org.applied_by_id == applicant.id
    (membership,) = org.memberships
    assert (membership.user_id, membership.role) == (applicant.id, Role.OWNER)
    assert db.session.scalar(
        sa.select(AuditEntry.action).where(AuditEntry.organization_id == org.id)
    ) == "organization.applied"

    # The applicant is thanked, every admin is told, with a link to the review page.
    by_recipient = {tuple(mail.to): mail for mail in outbox}
    assert set(by_recipient) == {("alix@example.org",), (admin.email,)}
    assert "Ressourcerie de la Croix-Rousse" in by_recipient[("alix@example.org",)].subject
    assert f"http://localhost/admin/organizations/{org.id}" in by_recipient[(admin.email,)].body

    page = client.get(f"/orgs/{org.id}/").get_data(as_text=True)
    assert "Pending review" in page
    assert "being reviewed" in page


def test_social_enterprise_applies_with_a_siret_typed_with_spaces(client, applicant):
    response = client.post(
        "/organizations/apply",
        data=application(kind="social_enterprise", ess_status="esus", rna="", siret="443 061 841 00047"),
    )

    assert response.status_code == 302
    (org,) = organizations()
    assert org.kind == OrganizationKind.SOCIAL_ENTERPRISE
    assert org.siret == "44306184100047"
    assert org.rna is None


def test_invalid_siret_is_refused_on_the_field_and_nothing_is_saved(client, applicant, outbox):
    response = client.post(
        "/organizations/apply",
        data=application(kind="social_enterprise", ess_status="esus", rna="", siret="443 061 841 00048"),
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This SIRET is not valid: check the 14 digits." in page
    assert 'id="siret-error"' in page  # the message sits on the field
    assert organizations() == []
    assert outbox == []


def test_invalid_rna_is_refused_on_the_field_and_nothing_is_saved(client, applicant):
    response = client.post("/organizations/apply", data=application(rna="W69123"))

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This RNA number is not valid" in page
    assert 'id="rna-error"' in page
    assert organizations() == []


def test_social_enterprise_without_siret_is_told_it_needs_one(client, applicant):
    response = client.post(
        "/organizations/apply", data=application(kind="social_enterprise", ess_status="esus")
    )

    assert response.status_code == 400
    assert "A social enterprise or a works council gives its SIRET" in response.get_data(as_text=True)
    assert organizations() == []


def test_association_needs_an_rna_a_siret_or_in_alsace_moselle_a_local_register(client, applicant):
    response = client.post("/organizations/apply", data=application(rna=""))
    assert response.status_code == 400
    assert "An association gives its RNA number or its SIRET" in response.get_data(as_text=True)

    response = client.post(
        "/organizations/apply", data=application(rna="", local_register="TJ Lyon vol. 3")
    )
    assert response.status_code == 400
    assert "only in Alsace-Moselle" in response.get_data(as_text=True)
    assert organizations() == []

    response = client.post(
        "/organizations/apply",
        data=application(rna="", local_register="TJ Strasbourg vol. 12 folio 345", postcode="67000", town="Strasbourg"),
    )
    assert response.status_code == 302
    (org,) = organizations()
    assert org.local_register == "TJ Strasbourg vol. 12 folio 345"


def test_a_siret_already_registered_is_refused_with_a_clear_message(
    client, applicant, make_organization
):
    make_organization(name="Première structure", kind=OrganizationKind.SOCIAL_ENTERPRISE, siret="44306184100047")
    db.session.commit()

    response = client.post(
        "/organizations/apply",
        data=application(kind="social_enterprise", ess_status="esus", rna="", siret="44306184100047"),
    )

    assert response.status_code == 400
    assert "This SIRET is already registered for another organization" in response.get_data(as_text=True)
    assert [o.name for o in organizations()] == ["Première structure"]


def test_an_rna_already_registered_is_refused_with_a_clear_message(client, applicant, make_organization):
    make_organization(name="Première association", rna="W691234567")
    db.session.commit()

    response = client.post("/organizations/apply", data=application(rna="W691234567"))

    assert response.status_code == 400
    assert "This RNA number is already registered" in response.get_data(as_text=True)
    assert len(organizations()) == 1


def test_same_name_gets_a_distinct_slug_without_accents(client, applicant):
    for _ in range(3):
        rna = f"W69{len(organizations()) + 1:07d}"
        response = client.post("/organizations/apply", data=application(name="Épicerie Solidaire d'Ève", rna=rna))
        assert response.status_code == 302

    assert sorted(o.slug for o in organizations()) == [
        "epicerie-solidaire-d-eve", "epicerie-solidaire-d-eve-2", "epicerie-solidaire-d-eve-3",
    ]


def test_a_slug_taken_at_the_same_moment_is_drawn_again(client, applicant, monkeypatch):
    """Two organizations of one name applying at once draw the same slug; the second one's
    write fails on the slug's UNIQUE constraint. That is no identifier of theirs: another slug
    is drawn and the application is saved (the code before said the identifiers were taken)."""
    from marketplace.organizations import services

    assert client.post("/organizations/apply", data=application(
        name="Épicerie Solidaire d'Ève", rna="W691234567")).status_code == 302
    real = services.unique_slug
    drawn = []

    def drawn_before_the_other_was_saved(name, **kwargs):
        drawn.append(name)
        return "epicerie-solidaire-d-eve" if len(drawn) == 1 else real(name, **kwargs)

    monkeypatch.setattr(services, "unique_slug", drawn_before_the_other_was_saved)
    response = client.post("/organizations/apply", data=application(
        name="Épicerie Solidaire d'Ève", rna="W691234568"))

    assert response.status_code == 302
    assert len(drawn) == 2
    assert sorted(o.slug for o in organizations()) == [
        "epicerie-solidaire-d-eve", "epicerie-solidaire-d-eve-2"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 2


def test_a_slug_taken_again_and_again_asks_to_send_the_form_again(client, applicant,
                                                                  monkeypatch):
    from marketplace.organizations import services

    assert client.post("/organizations/apply", data=application(
        name="Épicerie Solidaire d'Ève", rna="W691234567")).status_code == 302
    monkeypatch.setattr(services, "unique_slug", lambda name, **kwargs: "epicerie-solidaire-d-eve")
    response = client.post("/organizations/apply", data=application(
        name="Épicerie Solidaire d'Ève", rna="W691234568"))

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Another organization of this name was saved at the same moment" in text
    assert "already registered" not in text
    assert len(organizations()) == 1


def test_unverified_user_is_asked_to_confirm_their_email_first(client, make_user, login):
    login(make_user(verified=False))

    response = client.post("/organizations/apply", data=application())

    assert response.status_code == 403
    assert "Please confirm your email address first" in response.get_data(as_text=True)
    assert organizations() == []


def test_anonymous_visitor_is_sent_to_the_login_page_and_back(client):
    response = client.get("/organizations/apply")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert "next=" in response.headers["Location"]


def test_apply_form_labels_every_input(client, applicant):
    page = client.get("/organizations/apply").get_data(as_text=True)

    for name in ("kind", "name", "siret", "rna", "local_register", "postcode", "website"):
        assert f'<label for="{name}"' in page


def test_my_organizations_lists_role_and_status(client, make_user, make_organization, login):
    user = make_user()
    make_organization(name="Recyclerie des Pentes", owner=user)
    make_organization(name="Bricolerie", members={Role.COUNTER: user}, status=OrganizationStatus.PENDING)
    make_organization(name="Pas la mienne")
    login(user)

    page = client.get("/my/organizations").get_data(as_text=True)

    assert "Recyclerie des Pentes" in page and "Bricolerie" in page
    assert "Pas la mienne" not in page
    assert "Owner" in page and "Counter staff" in page
    assert "Pending review" in page and "Approved" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 2
