"""Today's pickups at a seller's counter: each of today's slots (local day) with who comes,
what is still to hand over and what was collected, when and by whom."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from marketplace.db import db, utcnow
from marketplace.orders.models import Order, OrderPart, OrderStatus
from marketplace.pickup.models import PickupLocation, PickupSlot
from marketplace.pickup.services import local_zone
from marketplace.vouchers.models import Collection, Voucher
from marketplace.vouchers.services import IN_SLOT_LIST, collections_of, vouchers_of


class PickupState(enum.StrEnum):
    TO_COLLECT = "to_collect"
    PARTLY_COLLECTED = "partly_collected"  # some lines handed over, others still to come
    COLLECTED = "collected"
    NOT_COLLECTED = "not_collected"  # marked as a no-show
    REFUNDED = "refunded"  # nothing left to hand over


@dataclass
class Pickup:
    part: OrderPart
    voucher: Voucher | None
    collections: list[Collection]

    @property
    def state(self) -> PickupState:
        if self.part.collected_at is not None:
            return PickupState.COLLECTED
        if self.part.status == OrderStatus.NO_SHOW:
            return PickupState.NOT_COLLECTED
        if self.part.status == OrderStatus.REFUNDED:
            return PickupState.REFUNDED
        if self.collections:
            return PickupState.PARTLY_COLLECTED
        return PickupState.TO_COLLECT


@dataclass
class SlotPickups:
    slot: PickupSlot
    pickups: list[Pickup] = field(default_factory=list)


WAITING = (PickupState.TO_COLLECT, PickupState.PARTLY_COLLECTED)


@dataclass
class TodaysPickups:
    slots: list[SlotPickups]

    def count(self, *states: PickupState) -> int:
        return sum(1 for group in self.slots for pickup in group.pickups if pickup.state in states)

    @property
    def to_collect(self) -> int:
        return self.count(*WAITING)

    @property
    def collected(self) -> int:
        return self.count(PickupState.COLLECTED)


def local_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The local day of `now`, from midnight to midnight (23 or 25 hours when the clocks move)."""
    zone = local_zone()
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def todays_pickups(organization, *, now: datetime | None = None) -> TodaysPickups:
    """The slots of `organization` starting today, each with its paid orders (by name)."""
    start, end = local_day_bounds(now or utcnow())
    slots = db.session.scalars(
        sa.select(PickupSlot)
        .join(PickupSlot.location)
        .where(PickupLocation.organization_id == organization.id,
               PickupSlot.starts_at >= start, PickupSlot.starts_at < end)
        .order_by(PickupSlot.starts_at, PickupSlot.id)
    ).all()
    groups = {slot.id: SlotPickups(slot) for slot in slots}
    if not groups:
        return TodaysPickups([])
    parts = list(db.session.scalars(
        sa.select(OrderPart)
        .join(Order, Order.id == OrderPart.order_id)
        .options(sa.orm.contains_eager(OrderPart.order))
        .where(OrderPart.slot_id.in_(groups), OrderPart.organization_id == organization.id,
               OrderPart.status.in_(IN_SLOT_LIST))
        .order_by(sa.func.lower(Order.name), Order.id)
    ))
    found = vouchers_of(parts)
    collections = collections_of(found.values())
    for part in parts:
        groups[part.slot_id].pickups.append(
            Pickup(part, found.get(part.id), collections.get(part.id, [])))
    # A closed slot nobody booked is no news at the counter.
    return TodaysPickups([group for group in groups.values()
                          if group.pickups or not group.slot.is_closed])
