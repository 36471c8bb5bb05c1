"""Organizations: applications, approval, members, invitations, and the public seller list."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.db import db
from marketplace.organizations.models import (
    SELLER_KINDS,
    Organization,
    OrganizationStatus,
)


def public_sellers(*, query: str | None = None) -> sa.Select:
    """Approved sellers (not works councils), optionally matching a name, town or postcode."""
    stmt = (
        sa.select(Organization)
        .where(
            Organization.status == OrganizationStatus.APPROVED,
            Organization.kind.in_(SELLER_KINDS),
        )
        .order_by(Organization.name)
    )
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Organization.name).like(like),
                sa.func.lower(Organization.town).like(like),
                Organization.postcode.like(like),
                sa.func.lower(Organization.description).like(like),
            )
        )
    return stmt


def get_public_seller(slug: str) -> Organization | None:
    return db.session.scalar(public_sellers().where(Organization.slug == slug))
