"""Editing an organization's details, and the database as the last guard on identifiers."""
import pytest
import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.organizations import services
from marketplace.organizations.models import (
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Role,
)


def contact(**overrides):
    data = {
        "address_line": "8 quai Saint-Vincent", "postcode": "69001", "town": "Lyon",
        "description": "Nouvelle description.", "contact_email": "", "phone": "", "website": "",
    }
    data.update(overrides)
    return data


def test_manager_edits_contact_details_but_not_the_approved_identity(
    client, make_user, make_organization, login
):
    manager = make_user()
    org = make_organization(name="Recyclerie Vérifiée", members={Role.MANAGER: manager}, owner=make_user())
    rna, slug = org.rna, org.slug
    login(manager)

    form = client.get(f"/orgs/{org.id}/edit").get_data(as_text=True)
    assert 'name="name"' not in form and 'name="rna"' not in form
    assert "Recyclerie Vérifiée" in form  # shown, read-only

    response = client.post(
        f"/orgs/{org.id}/edit",
        data=contact(name="Autre nom", rna="W690000099", vat_exempt="y"),
        follow_redirects=True,
    )

    assert "The organization&#39;s details were saved." in response.get_data(as_text=True)
    db.session.refresh(org)
    assert (org.name, org.rna, org.slug) == ("Recyclerie Vérifiée", rna, slug)
    assert org.description == "Nouvelle description."
    assert org.address_line == "8 quai Saint-Vincent"
    assert org.vat_exempt is True
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "organization.updated"))
    assert set(entry.data["fields"]) >= {"description", "address_line", "vat_exempt"}


def test_invalid_postcode_is_shown_on_the_field_and_not_saved(client, make_user, make_organization, login):
    owner = make_user()
    org = make_organization(owner=owner, postcode="69003")
    login(owner)

    response = client.post(f"/orgs/{org.id}/edit", data=contact(postcode="6900"))

    assert response.status_code == 400
    assert "A postcode has 5 digits." in response.get_data(as_text=True)
    db.session.refresh(org)
    assert org.postcode == "69003"


def test_pending_organization_may_still_fix_its_siret(client, make_user, make_organization, login):
    owner = make_user()
    org = make_organization(
        name="Entreprise d'insertion", kind=OrganizationKind.SOCIAL_ENTERPRISE,
        status=OrganizationStatus.PENDING, siret="73282932000074", owner=owner,
    )
    login(owner)

    response = client.post(
        f"/orgs/{org.id}/edit",
        data=contact(name="Entreprise d'insertion", ess_status="siae", siret="552 100 554 00013"),
    )

    assert response.status_code == 302
    db.session.refresh(org)
    assert org.siret == "55210055400013"
    assert org.status == OrganizationStatus.PENDING


def test_unique_columns_turn_a_race_into_a_clear_message(
    client, make_user, make_organization, login, monkeypatch
):
    # Two applications with the same SIRET at the same moment both pass the check before the
    # insert: the UNIQUE constraint stops the second, and the user reads why.
    make_organization(name="Arrivée la première", kind=OrganizationKind.SOCIAL_ENTERPRISE, siret="44306184100047")
    monkeypatch.setattr(services, "_check_identifiers_free", lambda *args, **kwargs: None)
    login(make_user())

    response = client.post(
        "/organizations/apply",
        data={
            "kind": "social_enterprise", "name": "Arrivée la seconde", "ess_status": "esus",
            "siret": "44306184100047", **contact(),
        },
    )

    assert response.status_code == 400
    assert "already registered for another organization" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Organization.name)).all() == ["Arrivée la première"]


def test_service_refuses_to_change_an_approved_identity(make_user, make_organization):
    owner = make_user()
    org = make_organization(name="Nom vérifié", owner=owner)
    db.session.commit()

    with pytest.raises(services.OrganizationError, match="can only be changed by the platform team"):
        services.update(org, by=owner, details={"name": "Nom changé", "siret": "732 829 320 00074"})

    db.session.rollback()  # what the view does with a refused change
    db.session.refresh(org)
    assert (org.name, org.siret) == ("Nom vérifié", None)


def test_a_race_on_an_edit_keeps_nothing_of_it(
    client, make_user, make_organization, login, monkeypatch
):
    """The duplicate SIRET is caught in a SAVEPOINT: the answer is a 400 with the message, the
    request's transaction stays usable, and nothing of the edit (the new name) is saved."""
    make_organization(name="Déjà là", kind=OrganizationKind.SOCIAL_ENTERPRISE, siret="44306184100047")
    owner = make_user()
    org = make_organization(
        name="Refusée", kind=OrganizationKind.SOCIAL_ENTERPRISE, siret="55210055400013",
        status=OrganizationStatus.REJECTED, owner=owner,
    )
    db.session.commit()
    monkeypatch.setattr(services, "_check_identifiers_free", lambda *args, **kwargs: None)
    login(owner)

    response = client.post(
        f"/orgs/{org.id}/edit",
        data=contact(name="Nouveau nom", ess_status="esus", siret="443 061 841 00047"),
    )

    assert response.status_code == 400
    assert "already registered for another organization" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organization, org.id).name == "Refusée"
    assert db.session.get(Organization, org.id).status == OrganizationStatus.REJECTED
    assert db.session.scalar(sa.select(AuditEntry.id)) is None


def test_a_slug_taken_at_the_same_moment_by_a_renamed_application_is_drawn_again(
    client, make_user, make_organization, login, monkeypatch
):
    """A rejected application renamed while another organization of the new name is saved:
    the slug drawn is taken on the write, another one is drawn (not "identifiers taken")."""
    make_organization(name="Atelier Vélo", kind=OrganizationKind.SOCIAL_ENTERPRISE,
                      siret="44306184100047")
    owner = make_user()
    org = make_organization(
        name="Refusée", kind=OrganizationKind.SOCIAL_ENTERPRISE, siret="55210055400013",
        status=OrganizationStatus.REJECTED, owner=owner,
    )
    db.session.commit()
    taken = db.session.scalar(sa.select(Organization.slug).where(Organization.name == "Atelier Vélo"))
    real = services.unique_slug
    drawn = []

    def drawn_before_the_other_was_saved(name, **kwargs):
        drawn.append(name)
        return taken if len(drawn) == 1 else real(name, **kwargs)

    monkeypatch.setattr(services, "unique_slug", drawn_before_the_other_was_saved)
    login(owner)

    response = client.post(f"/orgs/{org.id}/edit", data=contact(name="Atelier Vélo", ess_status="esus"))

    assert response.status_code == 302 and len(drawn) == 2
    db.session.expire_all()
    renamed = db.session.get(Organization, org.id)
    assert (renamed.name, renamed.slug) == ("Atelier Vélo", "atelier-velo")  # drawn again
    assert renamed.status == OrganizationStatus.PENDING
