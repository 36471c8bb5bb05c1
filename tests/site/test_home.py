from marketplace.organizations.models import OrganizationKind, OrganizationStatus


def test_home_lists_only_approved_sellers_in_french(client, make_organization):
    make_organization(name="Ressourcerie du Canal")
    make_organization(name="Épicerie en attente", status=OrganizationStatus.PENDING)
    make_organization(name="CSE Usine", kind=OrganizationKind.WORKS_COUNCIL)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ressourcerie du Canal" in page
    assert "Épicerie en attente" not in page
    assert "CSE Usine" not in page
    assert '<html lang="fr">' in page
