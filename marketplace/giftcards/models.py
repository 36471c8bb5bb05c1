"""A gift card, and the transactions that make its balance (issue, redeem, refund, expire,
donate, adjust). The cached balance changes only under the card's row lock, with a transaction
written in the same unit of work; CHECK keeps it from going below zero."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import TimestampMixin, UTCDateTime, db, utcnow
from marketplace.giftcards import codes
from marketplace.organizations.models import _enum


class CardStatus(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # reported lost or stolen: nothing can be spent


class TransactionKind(enum.StrEnum):
    ISSUE = "issue"
    REDEEM = "redeem"
    REFUND = "refund"
    EXPIRE = "expire"
    DONATE = "donate"
    ADJUST = "adjust"


class CampaignEvent(enum.StrEnum):
    """The 11 events URSSAF lists for gift vouchers, and none (DOMAIN.md)."""

    NONE = "none"
    BIRTH = "birth"
    ADOPTION = "adoption"
    MARRIAGE = "marriage"
    PACS = "pacs"
    RETIREMENT = "retirement"
    MOTHERS_DAY = "mothers_day"
    FATHERS_DAY = "fathers_day"
    SAINTE_CATHERINE = "sainte_catherine"
    SAINT_NICOLAS = "saint_nicolas"
    CHRISTMAS = "christmas"
    BACK_TO_SCHOOL = "back_to_school"


restriction_category = sa.Table(
    "restriction_profile_category",
    db.metadata,
    sa.Column("profile_id", sa.ForeignKey("restriction_profile.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("category_id", sa.ForeignKey("category.id", ondelete="CASCADE"), primary_key=True),
)

restriction_seller = sa.Table(
    "restriction_profile_seller",
    db.metadata,
    sa.Column("profile_id", sa.ForeignKey("restriction_profile.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("organization_id", sa.ForeignKey("organization.id", ondelete="CASCADE"),
              primary_key=True),
)


class RestrictionProfile(TimestampMixin, db.Model):
    """Where a campaign's cards may be spent: these product categories (a main category covers
    its subcategories) and, if any are named, only at these sellers. A profile tied to an event
    never allows everyday food or fuel (checked by campaigns.restrictions when it is saved).
    A card that names a profile is spent only within it (giftcards.restrictions)."""

    __tablename__ = "restriction_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    event: Mapped[CampaignEvent] = mapped_column(_enum(CampaignEvent, 20))

    categories = relationship("Category", secondary=restriction_category, lazy="selectin",
                              order_by="Category.id")
    sellers = relationship("Organization", secondary=restriction_seller, lazy="selectin",
                           order_by="Organization.name")

    @property
    def category_slugs(self) -> set[str]:
        return {category.slug for category in self.categories}


class GiftCard(TimestampMixin, db.Model):
    __tablename__ = "gift_card"
    __table_args__ = (
        sa.CheckConstraint("balance_cents >= 0", name="balance_not_negative"),
        sa.CheckConstraint("initial_cents > 0", name="initial_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    initial_cents: Mapped[int]
    balance_cents: Mapped[int]
    status: Mapped[CardStatus] = mapped_column(_enum(CardStatus, 10), default=CardStatus.ACTIVE)
    blocked_reason: Mapped[str | None] = mapped_column(sa.String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    buyer_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    holder_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    buyer_name: Mapped[str] = mapped_column(sa.String(120), default="")
    buyer_email: Mapped[str] = mapped_column(sa.String(254), default="")
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    # A gift: who receives it, the buyer's message, and the day it is emailed (None: at once).
    recipient_name: Mapped[str | None] = mapped_column(sa.String(120))
    recipient_email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    message: Mapped[str | None] = mapped_column(sa.Text)
    deliver_on: Mapped[date | None] = mapped_column(sa.Date)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("order.id", ondelete="SET NULL"), index=True)
    # A named card (a works council's card for an employee): whose it is. Named cards are not
    # capped at the anonymous cards' maximum (DOMAIN.md); CAMPAIGN_CARD_MAX_CENTS caps them.
    holder_name: Mapped[str | None] = mapped_column(sa.String(250))
    holder_email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    # Where it may be spent (None: anywhere on the marketplace).
    restriction_profile_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("restriction_profile.id", ondelete="RESTRICT"), index=True)

    # When the card's page was first opened (named cards: the works council's reminders go to
    # employees who never opened theirs).
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The holder of a named card lets the works council that offered it see its balance (off
    # by default: the council sees totals only).
    balance_shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Where what is left goes at expiry, when the issuer chose (a works council's campaign):
    # this association; None: the platform's setting (GIFTCARD_EXPIRY_POLICY) for an anonymous
    # card, kept for a named card (its issuer decides what becomes of it: campaigns.closing).
    expiry_association_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="SET NULL"))

    restriction_profile = relationship("RestrictionProfile")
    transactions = relationship(
        "CardTransaction", back_populates="card", order_by="CardTransaction.id",
        lazy="select", cascade="all, delete-orphan",
    )

    @property
    def display_code(self) -> str:
        return codes.display(self.code)

    @property
    def masked_code(self) -> str:
        return codes.masked(self.code)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())

    @property
    def is_gift(self) -> bool:
        return bool(self.recipient_email)

    @property
    def is_named(self) -> bool:
        return bool(self.holder_email)


class CardTransaction(db.Model):
    """One movement of a card's balance; `amount_cents` is signed (+ issue/refund, - spending)."""

    __tablename__ = "card_transaction"
    __table_args__ = (
        sa.CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        sa.CheckConstraint("balance_after_cents >= 0", name="balance_after_not_negative"),
        sa.UniqueConstraint("card_id", "nonce"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(
        sa.ForeignKey("gift_card.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TransactionKind] = mapped_column(_enum(TransactionKind, 10))
    amount_cents: Mapped[int]
    balance_after_cents: Mapped[int]
    # The seller where it was spent, or the association it was given to.
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organization.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order.id"), index=True)
    nonce: Mapped[str | None] = mapped_column(sa.String(64))
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    card = relationship("GiftCard", back_populates="transactions")
    organization = relationship("Organization")


class CartCard(db.Model):
    """A gift card waiting in a cart (with the goods, if any): bought when the order is paid."""

    __tablename__ = "cart_card"
    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(sa.ForeignKey("cart.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[int]
    recipient_name: Mapped[str | None] = mapped_column(sa.String(120))
    recipient_email: Mapped[str | None] = mapped_column(sa.String(254))
    message: Mapped[str | None] = mapped_column(sa.Text)
    deliver_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Cart.cards: read with the cart and its lines (orders.cart._find_cart), in one query.
    cart = relationship("Cart", backref=sa.orm.backref(
        "cards", order_by="CartCard.id", lazy="select", cascade="all, delete-orphan"))


class OrderCard(db.Model):
    """A gift card bought with an order; `card_id` is set when the order is paid."""

    __tablename__ = "order_card"
    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[int]
    recipient_name: Mapped[str | None] = mapped_column(sa.String(120))
    recipient_email: Mapped[str | None] = mapped_column(sa.String(254))
    message: Mapped[str | None] = mapped_column(sa.Text)
    deliver_on: Mapped[date | None] = mapped_column(sa.Date)
    card_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("gift_card.id", ondelete="SET NULL"), unique=True)

    card = relationship("GiftCard")

    @property
    def is_gift(self) -> bool:
        return bool(self.recipient_email)


class OrderCardPayment(db.Model):
    """Part of an order paid with a gift card (debited at checkout, like a hold: given back if
    the order is not paid in time, cancelled or refunded)."""

    __tablename__ = "order_card_payment"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "card_id"),
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents",
                           name="refund_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id", ondelete="CASCADE"), index=True)
    card_id: Mapped[int] = mapped_column(sa.ForeignKey("gift_card.id"), index=True)
    amount_cents: Mapped[int]
    refunded_cents: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    card = relationship("GiftCard")
