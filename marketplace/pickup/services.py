"""Pickup operations: locations, weekly templates, slot generation, closing a slot."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import sqlalchemy as sa

from marketplace import audit
from marketplace.db import db, lock_rows, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import local_today, local_zone
from marketplace.pickup.models import PickupLocation, PickupSlot, SlotTemplate

DEFAULT_WEEKS_AHEAD = 3


class PickupError(DomainError):
    pass


class SlotState(enum.StrEnum):
    OPEN = "open"
    FULL = "full"
    PAST_CUTOFF = "past_cutoff"
    CLOSED = "closed"
    PAST = "past"


# --- locations -------------------------------------------------------------------------------


def save_location(location: PickupLocation | None, organization, *, by, **fields) -> PickupLocation:
    postcode = (fields.get("postcode") or "").strip()
    if not (len(postcode) == 5 and postcode.isdigit()):
        raise PickupError(_l("The postcode must have 5 digits."))
    created = location is None
    if created:
        location = PickupLocation(organization=organization)
        db.session.add(location)
    for name in ("name", "address_line", "postcode", "town", "instructions", "opening_hours"):
        if name in fields:
            setattr(location, name, (fields[name] or "").strip())
    if "is_active" in fields:
        location.is_active = bool(fields["is_active"])
    db.session.flush()
    audit.record("pickup.location_created" if created else "pickup.location_updated", location,
                 by=by, organization=organization, data={"name": location.name})
    return location


# --- templates and generation ----------------------------------------------------------------


def save_template(
    template: SlotTemplate | None,
    location: PickupLocation,
    *,
    weekday: int,
    start_time: time,
    end_time: time,
    capacity: int,
    cutoff_hours: int,
    is_active: bool = True,
    by,
) -> SlotTemplate:
    if not 0 <= weekday <= 6:
        raise PickupError(_l("Choose a day of the week."))
    if end_time <= start_time:
        raise PickupError(_l("The slot must end after it starts."))
    if capacity < 1:
        raise PickupError(_l("A slot takes at least one order."))
    if not 0 <= cutoff_hours <= 24 * 14:
        raise PickupError(_l("Orders close between 0 hours and 14 days before the slot."))
    created = template is None
    if created:
        template = SlotTemplate(location=location)
        db.session.add(template)
    template.weekday, template.start_time, template.end_time = weekday, start_time, end_time
    template.capacity, template.cutoff_hours, template.is_active = capacity, cutoff_hours, is_active
    db.session.flush()
    audit.record("pickup.template_saved", template, by=by, organization=location.organization,
                 data={"weekday": weekday, "start": start_time.isoformat(), "end": end_time.isoformat(),
                       "capacity": capacity})
    return template


def _local_datetime(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=local_zone())


def generate_slots(
    location: PickupLocation, *, weeks: int = DEFAULT_WEEKS_AHEAD, today: date | None = None
) -> list[PickupSlot]:
    """Create the missing slots of the location's active templates for the coming weeks.

    Safe to run twice: a slot already at that start (even closed) is left alone.
    """
    if not location.is_active:
        return []
    # Two runs at once (a double click on "publish", the background job) would insert the same
    # slots and one would fail on the UNIQUE constraint: the second waits here, then sees them.
    lock_rows(PickupLocation, [location.id])
    today = today or local_today()
    existing = set(
        db.session.scalars(
            sa.select(PickupSlot.starts_at).where(
                PickupSlot.location_id == location.id,
                PickupSlot.starts_at >= _local_datetime(today, time.min),
            )
        )
    )
    now = utcnow()
    created = []
    for offset in range(weeks * 7):
        day = today + timedelta(days=offset)
        for template in location.templates:
            if not template.is_active or template.weekday != day.weekday():
                continue
            starts = _local_datetime(day, template.start_time)
            if starts <= now or starts in existing:
                continue
            slot = PickupSlot(
                location=location,
                template_id=template.id,
                starts_at=starts,
                ends_at=_local_datetime(day, template.end_time),
                capacity=template.capacity,
                cutoff_hours=template.cutoff_hours,
            )
            db.session.add(slot)
            existing.add(starts)
            created.append(slot)
    db.session.flush()
    return created


def generate_all_slots(*, weeks: int = DEFAULT_WEEKS_AHEAD) -> int:
    locations = db.session.scalars(sa.select(PickupLocation).where(PickupLocation.is_active)).all()
    return sum(len(generate_slots(location, weeks=weeks)) for location in locations)


def add_slot(location: PickupLocation, *, starts_at: datetime, ends_at: datetime, capacity: int,
             cutoff_hours: int, by) -> PickupSlot:
    if ends_at <= starts_at:
        raise PickupError(_l("The slot must end after it starts."))
    if capacity < 1:
        raise PickupError(_l("A slot takes at least one order."))
    # As in generate_slots: a slot added twice at once (a double click) would fail on the
    # UNIQUE constraint; the second waits here, then finds the first and says so.
    lock_rows(PickupLocation, [location.id])
    clash = db.session.scalar(
        sa.select(PickupSlot.id).where(
            PickupSlot.location_id == location.id, PickupSlot.starts_at == starts_at
        )
    )
    if clash:
        raise PickupError(_l("There is already a slot starting at that time here."))
    slot = PickupSlot(location=location, starts_at=starts_at, ends_at=ends_at, capacity=capacity,
                      cutoff_hours=cutoff_hours)
    db.session.add(slot)
    db.session.flush()
    audit.record("pickup.slot_added", slot, by=by, organization=location.organization,
                 data={"starts_at": slot.starts_at.isoformat()})
    return slot


def close_slot(slot: PickupSlot, *, reason: str, by) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise PickupError(_l("Say why the slot is closed (for example: public holiday)."))
    slot.closed_reason = reason[:200]
    db.session.flush()
    audit.record("pickup.slot_closed", slot, by=by, organization=slot.location.organization,
                 data={"reason": slot.closed_reason, "booked": slot.booked,
                       "starts_at": slot.starts_at.isoformat()})


def reopen_slot(slot: PickupSlot, *, by) -> None:
    slot.closed_reason = None
    db.session.flush()
    audit.record("pickup.slot_reopened", slot, by=by, organization=slot.location.organization,
                 data={"starts_at": slot.starts_at.isoformat()})


# --- reading ---------------------------------------------------------------------------------


def slot_state(slot: PickupSlot, *, now: datetime | None = None, taken: int | None = None) -> SlotState:
    """Why a shopper can or cannot choose this slot. `taken` defaults to the booked orders."""
    now = now or utcnow()
    if slot.is_closed:
        return SlotState.CLOSED
    if slot.ends_at <= now:
        return SlotState.PAST
    if now >= slot.cutoff_at:
        return SlotState.PAST_CUTOFF
    if (slot.booked if taken is None else taken) >= slot.capacity:
        return SlotState.FULL
    return SlotState.OPEN


def upcoming_slots(organization_id: int, *, days: int = 14, location_id: int | None = None) -> list[PickupSlot]:
    return db.session.scalars(
        upcoming_slots_query(organization_id, days=days, location_id=location_id)
    ).all()


def upcoming_slots_query(organization_id: int, *, days: int = 14, location_id: int | None = None):
    """The SELECT behind upcoming_slots, for a caller that reads more columns with the slots."""
    now = utcnow()
    stmt = _upcoming_slots(organization_id, now, now + timedelta(days=days))
    if location_id:
        stmt = stmt.where(PickupSlot.location_id == location_id)
    return stmt


@cache
def upcoming_slots_statement() -> sa.Select:
    """upcoming_slots_query() of any organization built once, with named parameters
    (upcoming_slots_parameters): for a hot path (the checkout reads each seller's slots)."""
    return _upcoming_slots(sa.bindparam("slots_organization", type_=sa.Integer()),
                           sa.bindparam("slots_now", type_=PickupSlot.ends_at.type),
                           sa.bindparam("slots_until", type_=PickupSlot.starts_at.type))


def upcoming_slots_parameters(organization_id: int, *, days: int, now: datetime) -> dict:
    return {"slots_organization": organization_id, "slots_now": now,
            "slots_until": now + timedelta(days=days)}


def _upcoming_slots(organization_id, now, until) -> sa.Select:
    return (
        sa.select(PickupSlot)
        .join(PickupLocation)
        .where(
            PickupLocation.organization_id == organization_id,
            PickupLocation.is_active,
            PickupSlot.ends_at > now,
            PickupSlot.starts_at < until,
        )
        .order_by(PickupSlot.starts_at, PickupSlot.id)
    )


# How far ahead a product page shows the seller's pickup slots.
NEXT_SLOTS_DAYS = 14


@dataclass(frozen=True)
class NextSlots:
    """A seller's active pickup places and, per place id, its slots of the next `days` days with
    their state (a SlotState value)."""

    locations: list[PickupLocation]
    slots: dict[int, list[tuple[PickupSlot, str]]]
    days: int


def next_slots(organization_id: int, *, days: int = NEXT_SLOTS_DAYS) -> NextSlots:
    """Where and when a seller's products can be collected (the product page, through the
    `pickup_next_slots` template global the pickup blueprint registers)."""
    now = utcnow()
    locations = locations_of(organization_id, active_only=True)
    slots: dict[int, list[tuple[PickupSlot, str]]] = {location.id: [] for location in locations}
    for slot in upcoming_slots(organization_id, days=days):
        slots.setdefault(slot.location_id, []).append((slot, slot_state(slot, now=now).value))
    return NextSlots(locations=locations, slots=slots, days=days)


def slot_of(location: PickupLocation, slot_id: int) -> PickupSlot | None:
    """The slot with this id if it belongs to `location`."""
    return db.session.scalar(
        sa.select(PickupSlot).where(PickupSlot.id == slot_id, PickupSlot.location_id == location.id)
    )


def locations_of(organization_id: int, *, active_only: bool = False) -> list[PickupLocation]:
    stmt = sa.select(PickupLocation).where(PickupLocation.organization_id == organization_id)
    if active_only:
        stmt = stmt.where(PickupLocation.is_active)
    return db.session.scalars(stmt.order_by(PickupLocation.name)).all()
