"""audit.record(...): one line in the audit log, flushed with the unit of work."""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context, has_request_context, request

from marketplace.audit.models import AuditEntry
from marketplace.audit.sentences import KINDS
from marketplace.db import db, utcnow

log = logging.getLogger(__name__)


class UnknownAction(ValueError):
    """An action without a kind in kinds.py (it would have no sentence in the log)."""


def record(
    action: str,
    subject: Any,
    *,
    by=None,
    organization=None,
    data: dict | None = None,
) -> AuditEntry:
    """Record `action` (e.g. "organization.approved") on `subject` (a model instance).

    `organization` defaults to the subject itself when it is an organization, or to its
    `organization` attribute, so a seller can later see its own log.
    """
    if organization is None:
        if type(subject).__name__ == "Organization":
            organization = subject
        else:
            organization = getattr(subject, "organization", None)
    if getattr(subject, "id", 0) is None:
        db.session.flush()  # the subject needs its id
    entry = AuditEntry(**values(
        action, subject_type=type(subject).__name__, subject_id=getattr(subject, "id", None),
        by=by, organization_id=getattr(organization, "id", None), data=data,
    ))
    db.session.add(entry)
    db.session.flush()
    return entry


def insert_values(entry: dict) -> None:
    """The same line as record(), written at once by one INSERT without an ORM object, from
    what values() built: for a hot path that has no model instance of its subject at hand and
    keeps nothing of the entry (the counter's redemptions on SQLite)."""
    db.session.execute(_INSERT, entry)


_INSERT = sa.insert(AuditEntry.__table__)


def values(action, *, subject_type, subject_id, by, organization_id, data) -> dict:
    """The columns of an audit line: for a hot path that writes it within a statement of its
    own (the counter's redemptions on PostgreSQL), or with insert_values()."""
    if action not in KINDS:
        if has_app_context() and current_app.testing:
            raise UnknownAction(f"{action}: add its kind to marketplace/audit/kinds.py")
        log.warning("audit action %s has no kind: the log will not describe it", action)
    return {
        "created_at": utcnow(),
        "action": action,
        "actor_id": getattr(by, "id", None),
        "organization_id": organization_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "data": data or {},
        "ip_address": request.remote_addr if has_request_context() else None,
    }


def search(
    *, action: str | None = None, organization_id: int | None = None, actor_id: int | None = None
) -> sa.Select:
    """Newest first; filters combine."""
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    if organization_id:
        stmt = stmt.where(AuditEntry.organization_id == organization_id)
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    return stmt
