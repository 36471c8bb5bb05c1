"""Weekly templates generate slots; states explain why a slot cannot be chosen."""
from datetime import UTC, date, datetime, time, timedelta

import pytest
from freezegun import freeze_time

from marketplace.db import db
from marketplace.pickup import services as pickup
from marketplace.pickup.services import PickupError, SlotState
from tests.threads import second_waits_for_first


def _location(organization):
    return pickup.save_location(
        None, organization, by=None, name="Boutique", address_line="1 rue A", postcode="69100",
        town="Villeurbanne", instructions="Sonnez", opening_hours="Mar-sam 10h-18h",
    )


@freeze_time("2026-12-01 08:00:00")  # a Tuesday, 09:00 in Paris
def test_weekly_template_generates_local_time_slots_once(app, make_organization):
    location = _location(make_organization())
    pickup.save_template(None, location, weekday=2, start_time=time(17), end_time=time(19),
                         capacity=8, cutoff_hours=2, by=None)
    slots = pickup.generate_slots(location, weeks=2)
    assert [s.starts_at for s in slots] == [
        datetime(2026, 12, 2, 16, 0, tzinfo=UTC),  # 17:00 in Paris (UTC+1)
        datetime(2026, 12, 9, 16, 0, tzinfo=UTC),
    ]
    assert all(s.capacity == 8 and s.ends_at - s.starts_at == timedelta(hours=2) for s in slots)
    assert pickup.generate_slots(location, weeks=2) == []  # idempotent


@freeze_time("2026-06-30 08:00:00")
def test_summer_time_is_respected(app, make_organization):
    location = _location(make_organization())
    pickup.save_template(None, location, weekday=2, start_time=time(10), end_time=time(12),
                         capacity=3, cutoff_hours=0, by=None)
    (slot,) = pickup.generate_slots(location, weeks=1, today=date(2026, 6, 30))
    assert slot.starts_at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Paris (UTC+2)


def test_slot_states(app, make_organization):
    location = _location(make_organization())
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    slot = pickup.add_slot(location, starts_at=now + timedelta(hours=5), ends_at=now + timedelta(hours=7),
                           capacity=2, cutoff_hours=3, by=None)
    assert pickup.slot_state(slot, now=now) == SlotState.OPEN
    assert pickup.slot_state(slot, now=now + timedelta(hours=2, minutes=1)) == SlotState.PAST_CUTOFF
    assert pickup.slot_state(slot, now=now + timedelta(hours=8)) == SlotState.PAST
    slot.booked = 2
    assert pickup.slot_state(slot, now=now) == SlotState.FULL
    pickup.close_slot(slot, reason="Jour férié", by=None)
    assert pickup.slot_state(slot, now=now) == SlotState.CLOSED


def test_closed_slot_is_not_recreated_by_the_generator(app, make_organization):
    with freeze_time("2026-12-01 08:00:00"):
        location = _location(make_organization())
        pickup.save_template(None, location, weekday=3, start_time=time(14), end_time=time(16),
                             capacity=4, cutoff_hours=1, by=None)
        first, *_ = pickup.generate_slots(location, weeks=2)
        pickup.close_slot(first, reason="Inventaire", by=None)
        assert pickup.generate_slots(location, weeks=2) == []
        assert first.closed_reason == "Inventaire"


@pytest.mark.postgres
def test_a_slot_added_twice_at_once_is_added_once(app, make_organization):
    """A double click on "add": the second waits for the first, then is told the slot exists
    (the code before failed on the UNIQUE constraint, a 500)."""
    from marketplace.pickup.models import PickupLocation, PickupSlot

    location = _location(make_organization())
    db.session.commit()
    location_id = location.id
    starts = datetime(2030, 12, 3, 16, tzinfo=UTC)

    def add():
        return pickup.add_slot(db.session.get(PickupLocation, location_id), starts_at=starts,
                               ends_at=starts + timedelta(hours=2), capacity=4, cutoff_hours=1,
                               by=None).id

    first, second = second_waits_for_first(app, add, add)
    assert first.error is None
    assert isinstance(second.error, PickupError), second.error
    assert second.error.status_code < 500 and "already a slot" in str(second.error.message)
    db.session.expire_all()
    assert db.session.query(PickupSlot).filter_by(location_id=location_id).count() == 1
