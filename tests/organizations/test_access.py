"""Every staff page under /orgs/ is closed to outsiders and respects the role hierarchy.

The routes are read from app.url_map, so pages added later by other domains are checked too.
"""
import re
import uuid

import pytest

from marketplace.organizations.models import ROLE_RANK, Role

_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-zA-Z_]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
DUMMY_BY_CONVERTER = {"int": "1", "float": "1.0", "uuid": str(uuid.uuid4()), "path": "x/y"}


def org_rules(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/orgs/")]
    assert rules, "no /orgs/ route found: the walk below would prove nothing"
    return rules


def build_path(rule, org_id: int) -> str:
    """The rule's URL for this organization, with a dummy value for every other argument."""

    def value(match):
        if match["name"] == "org_id":
            return str(org_id)
        return DUMMY_BY_CONVERTER.get(match["converter"] or "default", "x")

    return _ARGUMENT.sub(value, rule.rule)


def methods(rule):
    # OPTIONS is answered by Flask itself (an Allow header), without running the view.
    return sorted(rule.methods - {"OPTIONS"})


def call(client, method, path):
    return client.open(path, method=method, data={})


def test_every_orgs_page_is_closed_to_the_owner_of_another_organization(
    app, client, make_user, make_organization, login
):
    target = make_organization(name="Cible Secrète Ressourcerie", owner=make_user())
    outsider = make_user()
    make_organization(name="Autre structure", owner=outsider)
    login(outsider)

    checked = 0
    for rule in org_rules(app):
        path = build_path(rule, target.id)
        for method in methods(rule):
            response = call(client, method, path)
            assert response.status_code in (403, 404), (method, path, response.status_code)
            assert "Cible Secrète Ressourcerie" not in response.get_data(as_text=True), (method, path)
            checked += 1
    assert checked >= 8


def test_every_orgs_page_declares_the_role_it_needs(app):
    for rule in org_rules(app):
        view = app.view_functions[rule.endpoint]
        assert isinstance(getattr(view, "required_role", None), Role), (
            f"{rule.rule} is not protected by @member_required"
        )


@pytest.mark.parametrize("role", [Role.COUNTER, Role.MANAGER])
def test_members_get_403_on_pages_above_their_role(app, client, make_user, make_organization, login, role):
    member = make_user()
    org = make_organization(name="Ma Ressourcerie", owner=make_user(), members={role: member})
    login(member)

    above = allowed = 0
    for rule in org_rules(app):
        required = app.view_functions[rule.endpoint].required_role
        if ROLE_RANK[required] <= ROLE_RANK[role]:
            allowed += 1
            continue
        for method in methods(rule):
            response = call(client, method, build_path(rule, org.id))
            assert response.status_code == 403, (role, method, rule.rule, response.status_code)
            above += 1
    assert above and allowed


def test_counter_staff_sees_the_dashboard_but_not_the_manager_pages(
    client, make_user, make_organization, login
):
    counter = make_user()
    org = make_organization(name="Ma Ressourcerie", owner=make_user(), members={Role.COUNTER: counter})
    login(counter)

    dashboard = client.get(f"/orgs/{org.id}/")

    assert dashboard.status_code == 200
    assert "Ma Ressourcerie" in dashboard.get_data(as_text=True)
    assert f"/orgs/{org.id}/edit" not in dashboard.get_data(as_text=True)  # no link to a closed page
    assert client.get(f"/orgs/{org.id}/edit").status_code == 403
    assert client.get(f"/orgs/{org.id}/members").status_code == 403
    assert client.post(f"/orgs/{org.id}/invitations", data={"email": "x@example.org"}).status_code == 403


def test_manager_edits_details_but_cannot_invite_or_change_roles(
    client, make_user, make_organization, login, outbox
):
    manager = make_user()
    owner = make_user()
    org = make_organization(owner=owner, members={Role.MANAGER: manager})
    owner_membership = owner.membership_in(org.id)
    login(manager)

    assert client.get(f"/orgs/{org.id}/members").status_code == 200
    invite = client.post(f"/orgs/{org.id}/invitations", data={"email": "x@example.org", "role": "owner"})
    promote = client.post(
        f"/orgs/{org.id}/members/{owner_membership.id}/role",
        data={f"member-{owner_membership.id}-role": "counter"},
    )
    remove = client.post(f"/orgs/{org.id}/members/{owner_membership.id}/remove")

    assert (invite.status_code, promote.status_code, remove.status_code) == (403, 403, 403)
    assert owner_membership.role == Role.OWNER
    assert outbox == []


def test_platform_admin_is_not_a_member(client, make_user, make_organization, login):
    org = make_organization(owner=make_user())
    login(make_user(is_admin=True))

    assert client.get(f"/orgs/{org.id}/").status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(client, make_organization):
    org = make_organization()

    response = client.get(f"/orgs/{org.id}/")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
