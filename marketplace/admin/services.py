"""What the platform admin pages read that no other module's service answers: an order's
whole story (its audit entries and those of the gift cards it used or bought), its refunds."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from marketplace.audit.models import AuditEntry
from marketplace.db import db
from marketplace.orders.models import Order
from marketplace.organizations.models import Organization
from marketplace.payments.models import Refund


def order_by_reference(reference: str) -> Order | None:
    return db.session.scalar(sa.select(Order).where(Order.reference == reference[:20]))


def order_history(order: Order, *, card_ids: Iterable[int]) -> list[AuditEntry]:
    """The audit entries of the order, its parts, and the gift cards (`card_ids`) it was paid
    with or bought, in order; a card's entries about other orders are left out."""
    card_ids = set(card_ids)
    subjects = [sa.and_(AuditEntry.subject_type == "Order", AuditEntry.subject_id == order.id),
                sa.and_(AuditEntry.subject_type == "OrderPart",
                        AuditEntry.subject_id.in_([part.id for part in order.parts]))]
    if card_ids:
        subjects.append(sa.and_(AuditEntry.subject_type == "GiftCard",
                                AuditEntry.subject_id.in_(card_ids)))
    return [
        entry for entry in db.session.scalars(
            sa.select(AuditEntry).where(sa.or_(*subjects)).order_by(AuditEntry.id))
        # A card's entries about other orders (or none) are the card's story, not this order's.
        if entry.subject_type != "GiftCard" or (entry.data or {}).get("reference") == order.reference
    ]


def refunds_of(order: Order) -> list[Refund]:
    return list(db.session.scalars(
        sa.select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)))


def organization_choices() -> list[tuple[int, str]]:
    """(id, name) of every organization, by name: the audit log's filter."""
    return [tuple(row) for row in db.session.execute(
        sa.select(Organization.id, Organization.name).order_by(Organization.name))]
