"""The campaign pages: the works council's journey through HTTP, who may open them, CSRF, and
bad files answered with a message and a 4xx."""
import io
import re

import pytest

from marketplace.campaigns import importing
from marketplace.campaigns.models import Beneficiary, Campaign, CampaignStatus
from marketplace.db import db
from marketplace.organizations.models import OrganizationKind, Role

GOOD = ("Nom;Prénom;Courriel;Matricule\n"
        "Lefèvre;Hélène;helene@example.fr;A1\n"
        "Martin;Paul;paul-at-example.fr;A2\n").encode("cp1252")


def campaign_form(**changes):
    data = {"name": "Noël 2026", "event": "christmas", "year": "2026", "send_on": "2026-12-15",
            "validity_months": "12", "amount_mode": "same", "amount": "180",
            "unspent_policy": "credit", "unspent_association": "0"}
    data.update(changes)
    return data


def upload(client, url, data: bytes, filename="salaries.csv"):
    return client.post(url, data={"spreadsheet": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_a_works_council_runs_a_campaign_through_the_pages(client, login, cse, officer):
    login(officer)
    base = f"/orgs/{cse.id}/campaigns"
    assert "Campaigns" in client.get(f"/orgs/{cse.id}/").get_data(as_text=True)

    response = client.post(f"{base}/new", data=campaign_form())
    assert response.status_code == 302
    campaign = db.session.query(Campaign).one()
    assert response.location.endswith(f"{base}/{campaign.id}/import")
    assert campaign.amount_cents == 18000
    assert campaign.restriction_profile.category_slugs  # the event's usual goods

    response = upload(client, f"{base}/{campaign.id}/import", GOOD)
    assert response.status_code == 302
    page = client.get(f"{base}/{campaign.id}/import/review").get_data(as_text=True)
    assert "Line 3" in page and "“paul-at-example.fr” is not a valid email address." in page
    assert db.session.query(Beneficiary).count() == 0
    assert client.post(f"{base}/{campaign.id}/import/confirm").status_code == 409
    assert db.session.query(Beneficiary).count() == 0

    line = next(line for line in importing.review(importing.pending_of(campaign)).lines
                if line.line == 3)
    response = client.post(f"{base}/{campaign.id}/import/lines/{line.id}",
                           data={f"line-{line.id}-email": "paul@example.fr",
                                 f"line-{line.id}-last_name": "Martin",
                                 f"line-{line.id}-first_name": "Paul"})
    assert response.status_code == 302
    page = client.get(f"{base}/{campaign.id}/import/review").get_data(as_text=True)
    assert "No problem found." in page
    response = client.post(f"{base}/{campaign.id}/import/confirm")
    assert response.status_code == 302
    assert db.session.query(Beneficiary).count() == 2
    assert campaign.status == CampaignStatus.BENEFICIARIES_IMPORTED

    page = client.get(f"{base}/{campaign.id}/urssaf").get_data(as_text=True)
    assert "Every voucher of this campaign meets the URSSAF conditions." in page
    csv = client.get(f"{base}/{campaign.id}/compliance.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "helene@example.fr" in csv.get_data(as_text=True)
    pdf = client.get(f"{base}/{campaign.id}/compliance.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "Hélène" in client.get(f"{base}/{campaign.id}/beneficiaries").get_data(as_text=True)


def test_the_risk_is_accepted_with_a_ticked_box(client, login, cse, officer, make_campaign):
    campaign = make_campaign(event="none", categories=None, amount_cents=30000)
    from marketplace.campaigns import services

    services.replace_beneficiaries(campaign, [
        {"last_name": "A", "first_name": "B", "email": "a@example.org", "employee_number": None,
         "children": 0, "amount_cents": 30000, "line": 2}], by=officer, filename="x.csv")
    login(officer)
    url = f"/orgs/{cse.id}/campaigns/{campaign.id}/urssaf"
    page = client.get(url).get_data(as_text=True)
    assert "€300.00" in page and "Record my decision" in page

    client.post(f"{url}/acknowledge")  # the box not ticked
    assert db.session.get(Campaign, campaign.id).risk_acknowledged_at is None
    client.post(f"{url}/acknowledge", data={"knowingly": "yes"})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).risk_acknowledged_by_id == officer.id
    assert "went ahead knowingly" in client.get(url).get_data(as_text=True)


def test_a_form_with_mistakes_is_shown_again_with_a_400(client, login, cse, officer):
    login(officer)
    response = client.post(f"/orgs/{cse.id}/campaigns/new",
                           data=campaign_form(validity_months="6", amount="abc"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Between 12 and 60 months." in page
    assert "Write an amount in euros, for example 50 or 12,50." in page
    response = client.post(f"/orgs/{cse.id}/campaigns/new",
                           data=campaign_form(categories=["books", "food"]))
    assert response.status_code == 400
    assert "cannot buy everyday food or fuel" in response.get_data(as_text=True)
    assert db.session.query(Campaign).count() == 0


@pytest.mark.parametrize(("data", "filename", "status", "message"), [
    (b"", "vide.csv", 400, "The file is empty."),
    (bytes(range(256)) * 40, "photo.csv", 400, "neither a CSV nor an Excel"),
    (b"%PDF-1.7\x00\x01\x02" * 50, "devis.pdf", 400, "neither a CSV nor an Excel"),
    (b"PK\x03\x04garbage", "liste.xlsx", 400, "neither a CSV nor an Excel"),
])
def test_bad_files_get_a_message_and_a_4xx(client, login, cse, officer, make_campaign, data,
                                           filename, status, message):
    campaign = make_campaign()
    login(officer)
    response = upload(client, f"/orgs/{cse.id}/campaigns/{campaign.id}/import", data, filename)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert importing.pending_of(campaign) is None


def test_too_large_and_too_long_files_get_a_413(app, client, login, cse, officer, make_campaign):
    campaign = make_campaign()
    login(officer)
    url = f"/orgs/{cse.id}/campaigns/{campaign.id}/import"
    app.config["CAMPAIGN_IMPORT_MAX_LINES"] = 10
    rows = "".join(f"N;P;p{i}@example.org\n" for i in range(11))
    response = upload(client, url, ("Nom;Prénom;Email\n" + rows).encode())
    assert response.status_code == 413
    assert "more than 10 lines" in response.get_data(as_text=True)
    app.config["CAMPAIGN_IMPORT_MAX_BYTES"] = 1024
    response = upload(client, url, ("Nom;Prénom;Email\n" + rows * 10).encode())
    assert response.status_code == 413
    assert "The file is larger than" in response.get_data(as_text=True)
    assert importing.pending_of(campaign) is None


@pytest.fixture
def pages(cse, make_campaign):
    campaign = make_campaign()
    base = f"/orgs/{cse.id}/campaigns"
    return [f"{base}", f"{base}/new", f"{base}/{campaign.id}", f"{base}/{campaign.id}/edit",
            f"{base}/{campaign.id}/import", f"{base}/{campaign.id}/urssaf",
            f"{base}/{campaign.id}/beneficiaries", f"{base}/{campaign.id}/compliance.csv",
            f"{base}/{campaign.id}/compliance.pdf"]


def test_sellers_and_shoppers_never_see_a_works_council_s_campaigns(
        client, login, make_user, make_organization, pages):
    seller_owner = make_user()
    make_organization(owner=seller_owner)
    shopper = make_user()
    for user in (seller_owner, shopper):
        login(user)
        for page in pages:
            response = client.get(page)
            assert response.status_code == 404, (page, response.status_code)
            assert "CSE Textiles" not in response.get_data(as_text=True)


def test_a_read_only_member_sees_but_does_not_change(client, login, make_user, cse, pages):
    viewer = make_user()
    db.session.add(cse.memberships[0].__class__(organization=cse, user=viewer, role=Role.COUNTER))
    login(viewer)
    campaign_page = client.get(pages[2]).get_data(as_text=True)
    assert "Change the campaign" not in campaign_page
    for page in (pages[1], pages[3], pages[4]):
        assert client.get(page).status_code == 403
    for page in (pages[0], pages[2], pages[5], pages[6]):
        assert client.get(page).status_code == 200


def test_works_councils_and_sellers_keep_to_their_own_pages(app, client, login, make_user,
                                                            make_organization, cse, officer):
    login(officer)
    for page in ("products", "orders", "counter", "pickup", "payouts", "slots"):
        assert client.get(f"/orgs/{cse.id}/{page}").status_code == 403, page
    assert client.get(f"/orgs/{cse.id}/members").status_code == 200
    seller_owner = make_user()
    seller = make_organization(owner=seller_owner)
    login(seller_owner)
    assert client.get(f"/orgs/{seller.id}/campaigns").status_code == 403
    assert client.get(f"/orgs/{seller.id}/campaigns/new").status_code == 403


def test_every_works_council_page_is_closed_to_sellers_and_every_seller_page_to_works_councils(
        app, client, login, make_user, make_organization):
    from tests.organizations.test_access import build_path, call, methods, org_rules

    cse_owner, seller_owner = make_user(), make_user()
    council = make_organization(kind=OrganizationKind.WORKS_COUNCIL, owner=cse_owner)
    seller = make_organization(owner=seller_owner)
    checked = 0
    for rule in org_rules(app):
        kinds = app.view_functions[rule.endpoint].organization_kinds
        if len(kinds) == len(OrganizationKind):
            continue
        who, where = ((seller_owner, seller) if OrganizationKind.WORKS_COUNCIL in kinds
                      else (cse_owner, council))
        login(who)
        for method in methods(rule):
            response = call(client, method, build_path(rule, where.id))
            assert response.status_code == 403, (method, rule.rule, response.status_code)
            checked += 1
    assert checked > 40


def test_the_role_descriptions_of_a_works_council_speak_of_campaigns(client, login, cse,
                                                                    officer):
    login(officer)
    page = client.get(f"/orgs/{cse.id}/members").get_data(as_text=True)
    descriptions = re.search(r'<dl class="facts">(.*?)</dl>', page, re.S).group(1)
    assert "Creates the campaigns, imports the beneficiaries" in descriptions
    assert "Follows the campaigns and their beneficiaries" in descriptions
    assert "product" not in descriptions and "vouchers" not in descriptions


def test_every_form_carries_its_csrf_token_and_needs_it(make_app, cse, officer, make_campaign):
    campaign = make_campaign()
    from tests import factories

    key = factories.make_session_key(officer)
    db.session.commit()
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = key
    base = f"/orgs/{cse.id}/campaigns"
    for page in (f"{base}/new", f"{base}/{campaign.id}/edit", f"{base}/{campaign.id}",
                 f"{base}/{campaign.id}/import"):
        html = client.get(page).get_data(as_text=True)
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S)
        assert forms, page
        assert all('name="csrf_token"' in form for form in forms), page
    assert client.post(f"{base}/new", data=campaign_form()).status_code == 400
    assert client.post(f"{base}/{campaign.id}/cancel").status_code == 400
    with app.app_context():
        assert db.session.get(Campaign, campaign.id).status == CampaignStatus.DRAFT
