"""Audit log: who did what to which record, kept forever and searchable by admins."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None]
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))

    actor = relationship("User", lazy="joined")
    organization = relationship("Organization", lazy="joined")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.subject_type}:{self.subject_id}>"
