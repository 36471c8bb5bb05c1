"""The sellers' daily alerts email: products under their low-stock threshold, pickup slots full
for the coming week, drafts waiting to be published. Sent to the owners and managers who asked
for it (Membership.daily_alerts, off by default), at most once a Paris day each, from
DAILY_ALERTS_HOUR on, and only when there is something to say.

It lives in the pickup domain because it reads the slots, the highest of what it reads
(pickup > catalog > organizations). Run by the beat entry "send-daily-alerts" (hourly: the
first run of the day past the hour sends) or `flask alerts send`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.db import db, utcnow
from marketplace.notifications.services import queue_email
from marketplace.organizations.models import Membership, Organization, Role
from marketplace.pickup.models import PickupLocation, PickupSlot
from marketplace.pickup.services import local_zone
from marketplace.urls import external_url

DAYS_AHEAD = 7
MAX_LISTED = 50  # per section: the email links to the full lists


@dataclass
class Alerts:
    organization: Organization
    low_stock: list[Product] = field(default_factory=list)
    full_slots: list[PickupSlot] = field(default_factory=list)
    drafts: list[Product] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.low_stock or self.full_slots or self.drafts)


def alerts_of(organization: Organization, *, now: datetime | None = None) -> Alerts:
    now = now or utcnow()
    low_stock = db.session.scalars(
        sa.select(Product).where(
            Product.organization_id == organization.id,
            Product.status == ProductStatus.ACTIVE,
            Product.low_stock_threshold.is_not(None),
            Product.stock.is_not(None),
            Product.stock < Product.low_stock_threshold,
        ).order_by(Product.stock, Product.title).limit(MAX_LISTED)
    ).all()
    full_slots = db.session.scalars(
        sa.select(PickupSlot).join(PickupLocation).where(
            PickupLocation.organization_id == organization.id,
            PickupLocation.is_active,
            PickupSlot.closed_reason.is_(None),
            PickupSlot.starts_at >= now,
            PickupSlot.starts_at < now + timedelta(days=DAYS_AHEAD),
            PickupSlot.booked + PickupSlot.held_places >= PickupSlot.capacity,
        ).order_by(PickupSlot.starts_at).limit(MAX_LISTED)
    ).all()
    drafts = db.session.scalars(
        sa.select(Product).where(
            Product.organization_id == organization.id, Product.status == ProductStatus.DRAFT,
        ).order_by(Product.id).limit(MAX_LISTED)
    ).all()
    return Alerts(organization, low_stock, full_slots, drafts)


def today_in_paris(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(local_zone()).date()


def send_daily_alerts(*, now: datetime | None = None) -> int:
    """Queue each subscribed manager's email (sent after the commit); returns how many.

    A member is marked as served for the day (a conditional UPDATE, so that two runs at once
    send one email) whether or not there was something to say: a later run that day sends
    nothing, and nothing is sent before DAILY_ALERTS_HOUR."""
    now = now or utcnow()
    local = now.astimezone(local_zone())
    if local.hour < current_app.config["DAILY_ALERTS_HOUR"]:
        return 0
    today = local.date()
    rows = db.session.execute(
        sa.select(Membership.id, Membership.organization_id)
        .where(
            Membership.daily_alerts,
            Membership.role.in_([Role.OWNER, Role.MANAGER]),
            sa.or_(Membership.daily_alerts_sent_on.is_(None),
                   Membership.daily_alerts_sent_on < today),
        )
        .order_by(Membership.organization_id, Membership.id)
    ).all()
    sent = 0
    by_organization: dict[int, Alerts] = {}
    for membership_id, organization_id in rows:
        claimed = db.session.execute(
            sa.update(Membership)
            .where(Membership.id == membership_id,
                   sa.or_(Membership.daily_alerts_sent_on.is_(None),
                          Membership.daily_alerts_sent_on < today))
            .values(daily_alerts_sent_on=today)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:  # another run took it
            continue
        if organization_id not in by_organization:
            organization = db.session.get(Organization, organization_id)
            by_organization[organization_id] = alerts_of(organization, now=now)
        alerts = by_organization[organization_id]
        if not alerts:
            continue
        membership = db.session.get(Membership, membership_id)
        user: User = membership.user
        queue_email(
            "daily_alerts", to=user.email, locale=user.locale, user=user, alerts=alerts,
            today=today,
            products_link=external_url("catalog_staff.products", org_id=organization_id),
            drafts_link=external_url("catalog_staff.products", org_id=organization_id,
                                     status="draft"),
            slots_link=external_url("pickup.locations", org_id=organization_id),
            product_link=lambda product, org_id=organization_id: external_url(
                "catalog_staff.edit_product", org_id=org_id, product_id=product.id),
        )
        sent += 1
    db.session.flush()
    return sent
