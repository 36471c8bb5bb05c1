"""A voucher per paid order part, and the collections recorded when staff hand goods over."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, db, utcnow


class Voucher(db.Model):
    """What the shopper shows at the counter: `token` is in the QR code's URL (192 bits,
    unguessable), `code` is the short form read aloud or typed by hand."""

    __tablename__ = "voucher"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_part_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_part.id", ondelete="CASCADE"), unique=True
    )
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    part = relationship("OrderPart", lazy="joined", innerjoin=True,
                        backref=sa.orm.backref("voucher", uselist=False, lazy="select"))
    collections = relationship("Collection", back_populates="voucher", order_by="Collection.id")

    @property
    def display_code(self) -> str:
        return f"{self.code[:4]}-{self.code[4:]}"

    @property
    def masked_code(self) -> str:
        """What lists for staff show (slot page, CSV): which voucher, not a code to collect it
        with. A non-breaking hyphen (U+2011) keeps it on one line."""
        return f"••••\u2011{self.code[4:]}"


class Collection(db.Model):
    """One hand-over at the counter: some or all of the voucher's lines, by one staff member.

    `nonce` comes from the counter page that showed the voucher: a retried request with the
    same nonce finds this row and gets the same answer instead of a second collection."""

    __tablename__ = "collection"
    __table_args__ = (sa.UniqueConstraint("voucher_id", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(
        sa.ForeignKey("voucher.id", ondelete="CASCADE"), index=True
    )
    nonce: Mapped[str] = mapped_column(sa.String(64))
    collected_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    # Kept as written at the time: the staff member may leave the organization later.
    collected_by_name: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    voucher = relationship("Voucher", back_populates="collections")
    lines = relationship("CollectedLine", back_populates="collection", lazy="selectin",
                         order_by="CollectedLine.id")


class CollectedLine(db.Model):
    """An order line handed over. UNIQUE(order_line_id): a line is collected once, whatever
    races the counter has."""

    __tablename__ = "collected_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("collection.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_line.id", ondelete="CASCADE"), unique=True
    )
    quantity: Mapped[int]

    collection = relationship("Collection", back_populates="lines")
    order_line = relationship("OrderLine", lazy="joined", innerjoin=True)
