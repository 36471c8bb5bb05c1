"""What the sellers' order pages read (orders.staff_views): each function says what it returns;
the pages build no query of their own."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from marketplace import audit
from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.orders.models import Order, OrderPart, OrderStatus
from marketplace.pickup.models import PickupLocation, PickupSlot


def seller_parts(organization_id: int, *, statuses: Collection[OrderStatus] | None = None,
                 slot_id: int | None = None, text: str | None = None) -> sa.Select:
    """The statement of a seller's order parts, newest slot first, each with its order and
    slot loaded; only those in `statuses` (all when None), of `slot_id`, whose reference or
    name contains `text`. A statement, for the page to paginate."""
    stmt = (
        sa.select(OrderPart)
        .join(OrderPart.order)
        .join(OrderPart.slot)
        .options(contains_eager(OrderPart.order), contains_eager(OrderPart.slot))
        .where(OrderPart.organization_id == organization_id)
    )
    if statuses is not None:
        stmt = stmt.where(OrderPart.status.in_(statuses))
    if slot_id:
        stmt = stmt.where(OrderPart.slot_id == slot_id)
    if text:
        stmt = stmt.where(sa.or_(Order.reference.icontains(text, autoescape=True),
                                 Order.name.icontains(text, autoescape=True)))
    return stmt.order_by(PickupSlot.starts_at.desc(), OrderPart.id.desc())


def seller_slots_around(organization_id: int, now: datetime, *, days_back: int,
                        days_ahead: int, also_slot_id: int | None = None) -> list[PickupSlot]:
    """The seller's slots starting from `days_back` days before `now` to `days_ahead` days
    after it (and `also_slot_id`, if it is the seller's), in time order."""
    window = sa.and_(PickupSlot.starts_at >= now - timedelta(days=days_back),
                     PickupSlot.starts_at < now + timedelta(days=days_ahead))
    if also_slot_id:
        window = sa.or_(window, PickupSlot.id == also_slot_id)
    return list(db.session.scalars(
        sa.select(PickupSlot)
        .join(PickupSlot.location)
        .where(PickupLocation.organization_id == organization_id, window)
        .order_by(PickupSlot.starts_at, PickupSlot.id)
    ))


def audit_entries_of_part(part: OrderPart) -> list[AuditEntry]:
    """The audit entries about the part's order or about the part itself, oldest first (the
    other sellers' included: the page filters them)."""
    return list(db.session.scalars(
        audit.search()
        .where(sa.or_(
            sa.and_(AuditEntry.subject_type == "Order", AuditEntry.subject_id == part.order_id),
            sa.and_(AuditEntry.subject_type == "OrderPart", AuditEntry.subject_id == part.id),
        ))
        .order_by(None)
        .order_by(AuditEntry.id)
    ))
