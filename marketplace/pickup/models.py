"""Pickup: a seller's locations, the weekly templates that generate slots, and the slots."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import TimestampMixin, UTCDateTime, db


class PickupLocation(TimestampMixin, db.Model):
    __tablename__ = "pickup_location"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    address_line: Mapped[str] = mapped_column(sa.String(200))
    postcode: Mapped[str] = mapped_column(sa.String(5))
    town: Mapped[str] = mapped_column(sa.String(100))
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    opening_hours: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    organization = relationship("Organization")
    templates = relationship(
        "SlotTemplate", back_populates="location", cascade="all, delete-orphan",
        order_by="(SlotTemplate.weekday, SlotTemplate.start_time)",
    )


class SlotTemplate(TimestampMixin, db.Model):
    """Every <weekday> from start_time to end_time, <capacity> orders: generates PickupSlots."""

    __tablename__ = "slot_template"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("cutoff_hours >= 0", name="cutoff_not_negative"),
        sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(
        sa.ForeignKey("pickup_location.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]  # Monday = 0, as datetime.weekday()
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)
    capacity: Mapped[int]
    cutoff_hours: Mapped[int] = mapped_column(default=2)
    is_active: Mapped[bool] = mapped_column(default=True)

    location = relationship("PickupLocation", back_populates="templates")


class PickupSlot(db.Model):
    """A window in which `capacity` orders can be collected. `booked` counts confirmed orders;
    `held_places` the places of holds in state "held", expired or not (kept by the orders
    domain, which discounts the expired ones: a hold stops counting at its expiry)."""

    __tablename__ = "pickup_slot"
    __table_args__ = (
        sa.UniqueConstraint("location_id", "starts_at"),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("cutoff_hours >= 0", name="cutoff_not_negative"),
        sa.CheckConstraint("held_places >= 0", name="held_places_not_negative"),
        sa.Index("ix_pickup_slot_location_starts", "location_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(
        sa.ForeignKey("pickup_location.id", ondelete="CASCADE")
    )
    template_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("slot_template.id", ondelete="SET NULL")
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)
    held_places: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    cutoff_hours: Mapped[int] = mapped_column(default=2)
    closed_reason: Mapped[str | None] = mapped_column(sa.String(200))

    location = relationship("PickupLocation", lazy="joined", innerjoin=True)

    @property
    def is_closed(self) -> bool:
        return self.closed_reason is not None

    @property
    def cutoff_at(self) -> datetime:
        return self.starts_at - timedelta(hours=self.cutoff_hours)

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked, 0)
