"""The seller back office for pickup: locations, weekly slots, generated slots; managers only."""
from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask import g
from freezegun import freeze_time

from marketplace.db import db
from marketplace.organizations.models import Role
from marketplace.pickup import services as pickup
from marketplace.pickup.models import PickupLocation, PickupSlot, SlotTemplate
from tests.factories import make_session_key

# A Tuesday, 09:00 in Paris (UTC+1 in winter).
NOW = "2026-12-01 08:00:00"


@pytest.fixture
def login(login):
    """Save what the test built (a failed request rolls the session back), then log in."""

    def do_login(user):
        db.session.commit()
        g.pop("_login_user", None)
        return login(user)

    return do_login


@pytest.fixture
def shop(make_user, make_organization):
    manager = make_user(name="Karim Benali", locale="en")
    counter = make_user(name="Lucie Moreau", locale="en")
    org = make_organization(
        name="Ressourcerie La Trouvaille", owner=make_user(locale="en"),
        members={Role.MANAGER: manager, Role.COUNTER: counter},
    )
    return org, manager, counter


def make_location(org, **fields) -> PickupLocation:
    values = {"name": "Boutique", "address_line": "14 rue Francis de Pressensé", "postcode": "69100",
              "town": "Villeurbanne", "instructions": "Sonnez", "opening_hours": "Mar-sam 10h-18h"}
    values.update(fields)
    return pickup.save_location(None, org, by=None, **values)


def text(response) -> str:
    return response.get_data(as_text=True)


def slots_of(location) -> list[PickupSlot]:
    return db.session.scalars(
        sa.select(PickupSlot).where(PickupSlot.location_id == location.id).order_by(PickupSlot.starts_at)
    ).all()


LOCATION_FORM = {"name": "Entrepôt", "address_line": "3 rue du Port", "postcode": "69007",
                 "town": "Lyon", "instructions": "Porte bleue", "opening_hours": "Samedi matin",
                 "is_active": "y"}


# --- locations -------------------------------------------------------------------------------


def test_manager_creates_and_edits_a_pickup_location(client, shop, login):
    org, manager, _counter = shop
    login(manager)

    assert "No pickup location yet" in text(client.get(f"/orgs/{org.id}/pickup"))
    refused = client.post(f"/orgs/{org.id}/pickup/new", data={**LOCATION_FORM, "postcode": "6900"})
    assert refused.status_code == 400
    assert "The postcode must have 5 digits." in text(refused)

    response = client.post(f"/orgs/{org.id}/pickup/new", data=LOCATION_FORM)

    assert response.status_code == 302
    (location,) = pickup.locations_of(org.id)
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/pickup/{location.id}")
    assert (location.name, location.postcode, location.town, location.is_active) == (
        "Entrepôt", "69007", "Lyon", True)
    assert "Entrepôt" in text(client.get(f"/orgs/{org.id}/pickup"))

    edit = f"/orgs/{org.id}/pickup/{location.id}/edit"
    assert 'value="Entrepôt"' in text(client.get(edit))
    response = client.post(edit, data={**LOCATION_FORM, "name": "Entrepôt du port", "is_active": ""})
    assert response.status_code == 302
    assert (location.name, location.is_active) == ("Entrepôt du port", False)
    assert "This location is inactive" in text(client.get(f"/orgs/{org.id}/pickup/{location.id}"))


# --- weekly templates and slots ---------------------------------------------------------------


@freeze_time(NOW)
def test_a_weekly_slot_publishes_three_weeks_of_slots_in_french_time(client, shop, login):
    org, manager, _counter = shop
    location = make_location(org)
    login(manager)
    page = f"/orgs/{org.id}/pickup/{location.id}"
    form = text(client.get(page))
    assert re.search(r'<option value="0">Monday</option>.*<option value="6">Sunday</option>', form, re.S)
    assert 'type="time"' in form

    response = client.post(f"{page}/templates", data={
        "weekday": "2", "start_time": "17:00", "end_time": "19:00", "capacity": "8", "cutoff_hours": "2",
    })

    assert response.status_code == 302
    (template,) = location.templates
    assert (template.weekday, template.start_time, template.capacity) == (2, time(17), 8)
    slots = slots_of(location)
    assert [s.starts_at for s in slots] == [
        datetime(2026, 12, d, 16, 0, tzinfo=UTC) for d in (2, 9, 16)  # 17:00 in Paris
    ]
    shown = text(client.get(page))
    assert "Wednesday 2 December" in shown
    assert "17:00 to 19:00" in shown
    assert "0 of 8" in shown

    # Publishing again adds nothing: the coming weeks are already there.
    client.post(f"{page}/generate")
    assert len(slots_of(location)) == 3


@freeze_time(NOW)
def test_refused_weekly_slot_shows_the_error(client, shop, login):
    org, manager, _counter = shop
    location = make_location(org)
    login(manager)

    response = client.post(f"/orgs/{org.id}/pickup/{location.id}/templates", data={
        "weekday": "2", "start_time": "19:00", "end_time": "17:00", "capacity": "0", "cutoff_hours": "2",
    })

    assert response.status_code == 400
    assert "The slot must end after it starts." in text(response)
    assert "Number must be between 1 and 1000." in text(response)
    assert location.templates == [] and slots_of(location) == []


@freeze_time(NOW)
def test_editing_pausing_and_activating_a_weekly_slot(client, shop, login):
    org, manager, _counter = shop
    location = make_location(org)
    template = pickup.save_template(None, location, weekday=5, start_time=time(10), end_time=time(12),
                                    capacity=4, cutoff_hours=2, by=None)
    login(manager)
    base = f"/orgs/{org.id}/pickup/{location.id}/templates/{template.id}"

    assert 'value="10:00"' in text(client.get(base))
    response = client.post(base, data={"weekday": "5", "start_time": "09:30", "end_time": "12:00",
                                       "capacity": "6", "cutoff_hours": "24", "is_active": "y"})
    assert response.status_code == 302
    assert (template.start_time, template.capacity, template.cutoff_hours) == (time(9, 30), 6, 24)
    assert [s.starts_at.astimezone(pickup.local_zone()).time() for s in slots_of(location)] == [time(9, 30)] * 3

    assert client.post(f"{base}/deactivate").status_code == 302
    assert template.is_active is False
    assert "Paused" in text(client.get(f"/orgs/{org.id}/pickup/{location.id}"))
    assert client.post(f"{base}/activate").status_code == 302
    assert template.is_active is True


@freeze_time(NOW)
def test_manager_closes_a_slot_with_a_reason_and_reopens_it(client, shop, login):
    org, manager, _counter = shop
    location = make_location(org)
    pickup.save_template(None, location, weekday=3, start_time=time(14), end_time=time(16),
                         capacity=4, cutoff_hours=1, by=None)
    first, *_others = pickup.generate_slots(location, weeks=3)
    login(manager)
    page = f"/orgs/{org.id}/pickup/{location.id}"
    close = f"{page}/slots/{first.id}/close"

    refused = client.post(close, data={f"slot-{first.id}-reason": "  "})
    assert refused.status_code == 400
    assert "Say why the slot is closed" in text(refused)
    assert first.closed_reason is None

    assert client.post(close, data={f"slot-{first.id}-reason": "Jour férié"}).status_code == 302
    assert first.closed_reason == "Jour férié"
    assert pickup.slot_state(first) == pickup.SlotState.CLOSED
    row = re.search(r'<tr class="meta">\s*<th scope="row">Thursday 3 December</th>.*?</tr>',
                    text(client.get(page)), re.S)
    assert row and "Closed: Jour férié" in row.group(0)  # greyed and labelled in words

    client.post(f"{page}/generate")
    assert first.closed_reason == "Jour férié"  # not recreated nor reopened by the generator

    assert client.post(f"{page}/slots/{first.id}/reopen").status_code == 302
    assert first.closed_reason is None


@freeze_time(NOW)
def test_full_and_past_cutoff_slots_are_labelled(client, shop, login):
    org, manager, _counter = shop
    location = make_location(org)
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    soon = pickup.add_slot(location, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2),
                           capacity=3, cutoff_hours=2, by=None)
    full = pickup.add_slot(location, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=2),
                           capacity=2, cutoff_hours=2, by=None)
    full.booked = 2
    login(manager)

    page = text(client.get(f"/orgs/{org.id}/pickup/{location.id}"))

    rows = re.findall(r"<tr[^>]*>\s*<th scope=\"row\">.*?</tr>", page, re.S)
    slot_rows = [r for r in rows if "to " in r and " of " in r]
    assert len(slot_rows) == 2
    assert 'class="meta"' in slot_rows[0] and "Orders closed (too close to the slot)" in slot_rows[0]
    assert 'class="meta"' in slot_rows[1] and "Full" in slot_rows[1] and "2 of 2" in slot_rows[1]
    assert soon.id != full.id


@freeze_time(NOW)
def test_manager_adds_a_one_off_slot(client, shop, login):
    org, manager, _counter = shop
    location = make_location(org)
    login(manager)
    url = f"/orgs/{org.id}/pickup/{location.id}/slots"
    data = {"one-off-day": "2026-12-24", "one-off-start_time": "10:00", "one-off-end_time": "12:00",
            "one-off-capacity": "10", "one-off-cutoff_hours": "3"}

    assert client.post(url, data=data).status_code == 302
    (slot,) = slots_of(location)
    assert (slot.starts_at, slot.capacity, slot.cutoff_hours) == (datetime(2026, 12, 24, 9, tzinfo=UTC), 10, 3)

    again = client.post(url, data=data)
    assert again.status_code == 400
    assert "There is already a slot starting at that time here." in text(again)
    past = client.post(url, data={**data, "one-off-day": "2026-11-30"})
    assert past.status_code == 400
    assert "Choose a slot that starts in the future." in text(past)
    assert len(slots_of(location)) == 1


# --- access ----------------------------------------------------------------------------------


def pickup_calls(app, org_id: int, **ids) -> list[tuple[str, str]]:
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("pickup."):
            path = rule.rule.replace("<int:org_id>", str(org_id))
            for name, value in ids.items():
                path = path.replace(f"<int:{name}>", str(value))
            assert "<" not in path, path
            calls += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return calls


def _everything(org):
    location = make_location(org, name="Boutique secrète")
    with freeze_time(NOW):
        template = pickup.save_template(None, location, weekday=2, start_time=time(17),
                                        end_time=time(19), capacity=8, cutoff_hours=2, by=None)
        slot = pickup.generate_slots(location, weeks=3)[0]
    return location, template, slot


def _snapshot(location):
    db.session.expire_all()
    return (
        [(loc.name, loc.is_active) for loc in db.session.scalars(sa.select(PickupLocation))],
        [(t.start_time, t.is_active) for t in db.session.scalars(sa.select(SlotTemplate))],
        [(s.starts_at, s.closed_reason) for s in db.session.scalars(sa.select(PickupSlot))],
    )


HOSTILE_FORM = {"name": "Piraté", "address_line": "x", "postcode": "75001", "town": "Paris",
                "weekday": "1", "start_time": "08:00", "end_time": "09:00", "capacity": "1",
                "cutoff_hours": "0", "reason": "Piraté", "one-off-day": "2026-12-20",
                "one-off-start_time": "08:00", "one-off-end_time": "09:00", "one-off-capacity": "1",
                "one-off-cutoff_hours": "0"}


@freeze_time(NOW)
def test_counter_staff_gets_403_on_every_pickup_page_and_nothing_changes(app, client, shop, login):
    org, _manager, counter = shop
    location, template, slot = _everything(org)
    before = _snapshot(location)
    login(counter)

    calls = pickup_calls(app, org.id, location_id=location.id, template_id=template.id, slot_id=slot.id)
    assert len(calls) >= 12
    for method, path in calls:
        data = {**HOSTILE_FORM, f"slot-{slot.id}-reason": "Piraté"} if method == "POST" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (method, path)
        assert "Boutique secrète" not in text(response)

    assert _snapshot(location) == before


@freeze_time(NOW)
def test_another_organizations_pickup_records_are_a_404(app, client, shop, make_user, make_organization, login):
    org, manager, _counter = shop
    other = make_organization(name="Autre boutique", owner=make_user())
    location, template, slot = _everything(other)
    mine = make_location(org, name="Ma boutique")
    before = _snapshot(location)
    login(manager)

    for method, path in pickup_calls(app, org.id, location_id=location.id, template_id=template.id,
                                     slot_id=slot.id):
        if path.endswith(("/pickup", "/pickup/new")):
            continue
        data = {**HOSTILE_FORM, f"slot-{slot.id}-reason": "Piraté"} if method == "POST" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code == 404, (method, path)
        assert "Boutique secrète" not in text(response)
    # Their slot or template reached through my location is not found either.
    assert client.post(f"/orgs/{org.id}/pickup/{mine.id}/slots/{slot.id}/close",
                       data={f"slot-{slot.id}-reason": "x"}).status_code == 404
    assert client.get(f"/orgs/{org.id}/pickup/{mine.id}/templates/{template.id}").status_code == 404

    assert _snapshot(location)[1:] == before[1:]
    assert "Boutique secrète" in [name for name, _ in _snapshot(location)[0]]


@freeze_time(NOW)
def test_every_post_form_carries_the_csrf_token_and_ids_are_unique(app, client, shop, login):
    org, manager, _counter = shop
    location, template, slot = _everything(org)
    pickup.close_slot(slot, reason="Inventaire", by=None)
    login(manager)
    app.config["WTF_CSRF_ENABLED"] = True

    for path in (f"/orgs/{org.id}/pickup/{location.id}", f"/orgs/{org.id}/pickup/new",
                 f"/orgs/{org.id}/pickup/{location.id}/edit",
                 f"/orgs/{org.id}/pickup/{location.id}/templates/{template.id}"):
        page = text(client.get(path))
        forms = re.findall(r'<form\b[^>]*method="post".*?</form>', page, flags=re.S)
        assert len(forms) >= 3
        for form in forms:
            assert 'name="csrf_token"' in form, form[:120]
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        assert re.findall(r"<h([1-6])", page)[0] == "1"

    assert client.post(f"/orgs/{org.id}/pickup/{location.id}/slots/{slot.id}/reopen").status_code == 400
    assert slot.closed_reason == "Inventaire"


@pytest.mark.postgres
def test_a_double_click_on_publish_is_not_an_error(app, shop):
    """Two "publish" requests at once: the second waits for the first, then finds nothing to add."""
    org, manager, _counter = shop
    location = make_location(org)
    for weekday in range(7):
        pickup.save_template(None, location, weekday=weekday, start_time=time(22), end_time=time(23),
                             capacity=3, cutoff_hours=0, by=None)
    user_id = make_session_key(manager)
    db.session.commit()
    url = f"/orgs/{org.id}/pickup/{location.id}/generate"
    statuses, start = [], threading.Barrier(2)

    def click():
        client = app.test_client()
        with app.app_context():
            with client.session_transaction() as session:
                session["_user_id"] = user_id
            start.wait()
            statuses.append(client.post(url).status_code)
            db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302, 302]
    assert len(slots_of(location)) >= 20  # 3 weeks of daily slots, each once (UNIQUE)
