"""With CSRF protection on (as in production), every form of these pages carries its token."""
import re

from marketplace.db import db
from marketplace.organizations.models import OrganizationStatus, Role
from tests.factories import make_session_key


def test_every_post_form_carries_a_csrf_token(make_app, make_user, make_organization):
    owner = make_user()
    admin = make_user(is_admin=True)
    org = make_organization(owner=owner, members={Role.COUNTER: make_user()}, status=OrganizationStatus.PENDING)
    pages = {
        make_session_key(owner): ["/organizations/apply", f"/orgs/{org.id}/edit", f"/orgs/{org.id}/members"],
        make_session_key(admin): [f"/admin/organizations/{org.id}", f"/admin/organizations/{org.id}/approve",
                                  f"/admin/organizations/{org.id}/reject"],
    }
    db.session.commit()
    org_id = org.id
    secure_app = make_app(WTF_CSRF_ENABLED=True)
    client = secure_app.test_client()

    forms_seen = 0
    for user_id, paths in pages.items():
        with client.session_transaction() as session:
            session["_user_id"] = user_id
        for path in paths:
            page = client.get(path).get_data(as_text=True)
            for form in re.findall(r'<form[^>]*method="post".*?</form>', page, flags=re.S):
                assert re.search(r'name="[\w-]*csrf_token"', form), (path, form[:200])
                forms_seen += 1
    assert forms_seen >= 8

    # A post without its token changes nothing; with the token of the page, it goes through.
    assert client.post(f"/admin/organizations/{org_id}/approve").status_code == 400
    page = client.get(f"/admin/organizations/{org_id}/approve").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    version = re.search(r'name="reviewed_version" type="hidden" value="([^"]+)"', page)[1]
    response = client.post(f"/admin/organizations/{org_id}/approve",
                           data={"csrf_token": token, "reviewed_version": version})
    assert response.status_code == 302
    with secure_app.app_context():
        assert db.session.get(type(org), org_id).status == OrganizationStatus.APPROVED
