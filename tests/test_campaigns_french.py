"""The campaign pages as a French works council reads them (the campaign tests read English)."""
import html
import io
from datetime import date

from marketplace.campaigns import services
from marketplace.campaigns.models import AmountMode, CampaignEvent, UnspentPolicy
from marketplace.db import db
from marketplace.organizations.models import OrganizationKind


def test_a_french_officer_reads_the_import_problems_and_the_urssaf_check_in_french(
        client, login, make_user, make_organization):
    officer = make_user(locale="fr")
    cse = make_organization(kind=OrganizationKind.WORKS_COUNCIL, owner=officer,
                            siret="55210055400013")
    settings = services.CampaignSettings(
        name="Noël", event=CampaignEvent.CHRISTMAS, year=2026, send_on=date(2026, 12, 15),
        validity_months=12, amount_mode=AmountMode.PER_BENEFICIARY, amount_cents=None,
        unspent_policy=UnspentPolicy.CREDIT, category_slugs={"toys"})
    campaign = services.create_campaign(cse, settings, by=officer, today=date(2026, 1, 1))
    login(officer)
    base = f"/orgs/{cse.id}/campaigns/{campaign.id}"
    data = ("Nom;Prénom;Courriel;Montant\nMartin;Léa;lea@example.fr;1500\n"
            "Petit;Zoé;zoe-example.fr;25,50\n").encode("cp1252")
    client.post(f"{base}/import", content_type="multipart/form-data",
                data={"spreadsheet": (io.BytesIO(data), "salariés.csv")})
    page = html.unescape(client.get(f"{base}/import/review").get_data(as_text=True))
    assert "2 problèmes à corriger\u00a0: rien n'est conservé tant qu'une ligne est fausse." in page
    assert ("Le montant de 1\u202f500,00\u00a0€ dépasse ce qu'une carte peut porter "
            "(1\u202f000,00\u00a0€).") in page
    assert "«\u00a0zoe-example.fr\u00a0» n'est pas une adresse e-mail valide." in page
    assert "Ligne 3" in page

    services.replace_beneficiaries(campaign, [
        {"line": 2, "last_name": "Martin", "first_name": "Léa", "email": "lea@example.fr",
         "employee_number": None, "children": 0, "amount_cents": 25000}],
        by=officer, filename="x.csv")
    db.session.commit()
    page = html.unescape(client.get(f"{base}/urssaf").get_data(as_text=True))
    assert "Au-dessus du plafond de l'événement" in page
    assert "200,25\u00a0€" in page and "4\u202f005,00\u00a0€" in page
    assert "Montant à risque" in page
