"""Organizations (sellers and works councils), their members and invitations."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import TimestampMixin, UTCDateTime, db


class OrganizationKind(enum.StrEnum):
    ASSOCIATION = "association"
    SOCIAL_ENTERPRISE = "social_enterprise"
    WORKS_COUNCIL = "works_council"


SELLER_KINDS = (OrganizationKind.ASSOCIATION, OrganizationKind.SOCIAL_ENTERPRISE)


class OrganizationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class EssStatus(enum.StrEnum):
    """How the organization belongs to the social and solidarity economy."""

    ASSOCIATION = "association"  # loi 1901 (or local law in Alsace-Moselle)
    ESUS = "esus"  # agrément entreprise solidaire d'utilité sociale
    SCOP = "scop"
    SCIC = "scic"
    SIAE = "siae"  # structure d'insertion par l'activité économique
    MUTUAL = "mutual"
    FOUNDATION = "foundation"
    WORKS_COUNCIL = "works_council"
    OTHER = "other"


class Role(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    COUNTER = "counter"


# What each role may do includes what the roles below it may do.
ROLE_RANK = {Role.COUNTER: 1, Role.MANAGER: 2, Role.OWNER: 3}


def _enum(enum_cls, length=24):
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganizationKind] = mapped_column(_enum(OrganizationKind))
    status: Mapped[OrganizationStatus] = mapped_column(
        _enum(OrganizationStatus), default=OrganizationStatus.PENDING, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(150))
    slug: Mapped[str] = mapped_column(sa.String(160), unique=True)
    legal_form: Mapped[str | None] = mapped_column(sa.String(80))
    siret: Mapped[str | None] = mapped_column(sa.String(14), unique=True)
    rna: Mapped[str | None] = mapped_column(sa.String(10), unique=True)
    # Alsace-Moselle associations are registered at the court, not in the RNA.
    local_register: Mapped[str | None] = mapped_column(sa.String(80))
    address_line: Mapped[str] = mapped_column(sa.String(200))
    postcode: Mapped[str] = mapped_column(sa.String(5), index=True)
    town: Mapped[str] = mapped_column(sa.String(100), index=True)
    vat_exempt: Mapped[bool] = mapped_column(default=False)
    ess_status: Mapped[EssStatus] = mapped_column(_enum(EssStatus))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    website: Mapped[str | None] = mapped_column(sa.String(200))
    # Platform commission on this seller's sales, in basis points (500 = 5 %); None = the
    # platform default (PLATFORM_COMMISSION_BP).
    commission_rate_bp: Mapped[int | None]
    # What happens to the goods of an order nobody came for: back on sale (True), or kept
    # aside so the shopper can still collect them (False).
    restock_no_shows: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # The seller's Stripe connected account (Express), where payouts are sent.
    stripe_account_id: Mapped[str | None] = mapped_column(sa.String(255))
    payouts_enabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The payer at Stripe of a works council paying by bank transfer (its virtual IBAN is
    # Stripe's, kept for all its payments): created once, by campaigns.card_payment.
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)

    applied_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)

    applied_by = relationship("User", foreign_keys=[applied_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    memberships = relationship(
        "Membership", back_populates="organization", cascade="all, delete-orphan"
    )

    @property
    def is_seller(self) -> bool:
        return self.kind in SELLER_KINDS

    @property
    def is_approved(self) -> bool:
        return self.status == OrganizationStatus.APPROVED

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r} {self.status}>"


class Membership(TimestampMixin, db.Model):
    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, 10))
    # The daily email of stock, slot and draft alerts (managers and owners who ask for it).
    daily_alerts: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    daily_alerts_sent_on: Mapped[date | None] = mapped_column(sa.Date)  # Paris day: once a day

    organization = relationship("Organization", back_populates="memberships", lazy="joined")
    user = relationship("User", back_populates="memberships")

    def has_role(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[Role(role)]


class Invitation(TimestampMixin, db.Model):
    """An owner invites someone by email; the link holds a token whose hash only is stored."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, 10))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization = relationship("Organization")
    invited_by = relationship("User", foreign_keys=[invited_by_id])
