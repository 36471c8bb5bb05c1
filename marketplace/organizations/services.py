"""Organizations: applications, approval, members, invitations, and the public seller list."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace import audit, caching, uow
from marketplace.accounts.models import User, normalize_email
from marketplace.db import db, lock_rows, utcnow
from marketplace.i18n import lazy_gettext as _l
from marketplace.notifications.services import queue_email
from marketplace.organizations.models import (
    SELLER_KINDS,
    EssStatus,
    Membership,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Role,
)
from marketplace.organizations.signals import organization_updated
from marketplace.organizations.validators import (
    OrganizationError,
    clean_postcode,
    clean_rna,
    clean_siret,
    clean_website,
    in_alsace_moselle,
)
from marketplace.text import fold
from marketplace.urls import external_url

__all__ = ["ApplicationChanged", "OrganizationError"]


class ApplicationChanged(OrganizationError):
    """The application is no longer the one the admin confirmed (the applicant edited it)."""

    status_code = 409

# Checked by the platform team before approval: read-only once the organization is approved.
IDENTITY_FIELDS = ("name", "legal_form", "siret", "rna", "local_register", "ess_status")
# What the organization's managers keep up to date themselves.
CONTACT_FIELDS = (
    "address_line", "postcode", "town", "vat_exempt", "description", "contact_email", "phone",
    "website",
)
# Seller settings, changed with the details but not part of an application.
SETTINGS_FIELDS = ("restock_no_shows",)


def public_sellers(*, query: str | None = None) -> sa.Select:
    """Approved sellers (not works councils), optionally those whose name, town, postcode or
    description contains every word of `query`, accents and case ignored ("epicerie" finds
    "Épicerie"). Sellers are few (thousands at most): the words are matched in Python."""
    stmt = (
        sa.select(Organization)
        .where(
            Organization.status == OrganizationStatus.APPROVED,
            Organization.kind.in_(SELLER_KINDS),
        )
        .order_by(Organization.name)
    )
    if query is not None:
        wanted = fold(query).split()
        if wanted:
            rows = db.session.execute(
                stmt.with_only_columns(
                    Organization.id, Organization.name, Organization.town,
                    Organization.postcode, Organization.description,
                )
            )
            ids = [
                row.id for row in rows
                if all(word in fold(f"{row.name} {row.town} {row.postcode} {row.description}")
                       for word in wanted)
            ]
            stmt = stmt.where(Organization.id.in_(ids))
    return stmt


def get_public_seller(slug: str) -> Organization | None:
    return db.session.scalar(public_sellers().where(Organization.slug == slug))


def ids_of_slugs(slugs: set[str]) -> dict[str, int]:
    """{slug: id} of the organizations with these slugs (the shopfronts' view counts)."""
    if not slugs:
        return {}
    return dict(db.session.execute(
        sa.select(Organization.slug, Organization.id).where(Organization.slug.in_(sorted(slugs)))).all())


def get_public_seller_by_id(seller_id: int) -> Organization | None:
    return db.session.scalar(public_sellers().where(Organization.id == seller_id))


def public_sellers_page(*, query: str | None, page: int, per_page: int) -> tuple[list[Organization], int]:
    """One page of public_sellers(query) (by name, then id: a stable order for the API), and
    how many there are in all."""
    stmt = public_sellers(query=query)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.order_by(Organization.id.asc()).limit(per_page)
                               .offset((page - 1) * per_page)).all()
    return list(items), total


# --- Applications and review -------------------------------------------------------------


def apply(*, by: User, kind: OrganizationKind, details: Mapping[str, Any]) -> Organization:
    """A verified user applies for an organization; it waits, pending, for an admin's review."""
    if not by.is_verified:
        raise OrganizationError(
            _l("Please confirm your email address first: open the link we emailed you."),
            status_code=403,
        )
    kind = OrganizationKind(kind)
    values = _clean_details(kind, details)
    _check_identifiers_free(values)
    organization = Organization(
        kind=kind,
        status=OrganizationStatus.PENDING,
        slug=unique_slug(values["name"]),
        applied_by=by,
        **values,
    )
    # By the user's id: the user's memberships, in the session, are read again after the write
    # (the membership is made once, and written again if a slug is drawn again).
    membership = Membership(organization=organization, user_id=by.id, role=Role.OWNER)

    def write():
        db.session.add(organization)
        db.session.add(membership)

    def draw_again():
        organization.slug = unique_slug(values["name"])

    _with_a_free_slug(write, draw_again)
    db.session.expire(by, ["memberships"])
    audit.record("organization.applied", organization, by=by)
    queue_email(
        "organization_application_received",
        to=by.email,
        locale=by.locale,
        user=by,
        organization=organization,
        link=external_url("organizations.dashboard", org_id=organization.id),
    )
    _tell_admins(organization, resubmitted=False)
    return organization


def update(organization: Organization, *, by: User, details: Mapping[str, Any]) -> list[str]:
    """Save the organization's details; returns the names of the fields that changed.

    Once approved, the legal identity is frozen (the admins checked it). A rejected application
    that is corrected goes back to the admins for a new review.
    """
    # Locked and re-read: an admin may be approving it at this very moment.
    db.session.expire(organization)
    lock_rows(Organization, [organization.id])
    merged = {name: getattr(organization, name)
              for name in IDENTITY_FIELDS + CONTACT_FIELDS + SETTINGS_FIELDS}
    merged.update({k: v for k, v in details.items() if k in merged})
    values = _clean_details(organization.kind, merged)
    values.update({name: bool(merged[name]) for name in SETTINGS_FIELDS})
    changed = [name for name, value in values.items() if getattr(organization, name) != value]
    if organization.is_approved and set(changed) & set(IDENTITY_FIELDS):
        raise OrganizationError(
            _l("The legal identity of an approved organization can only be changed by the platform team.")
        )
    _check_identifiers_free(values, exclude_id=organization.id)
    if not changed:
        return []
    slug = None
    if "name" in changed and not organization.is_approved:
        # Not public yet: the address of the shop can still follow its name.
        slug = unique_slug(values["name"], exclude_id=organization.id)

    def write():
        if slug is not None:
            organization.slug = slug
        for name in changed:
            setattr(organization, name, values[name])

    def draw_again():
        nonlocal slug
        slug = unique_slug(values["name"], exclude_id=organization.id)

    _with_a_free_slug(write, draw_again)
    audit.record("organization.updated", organization, by=by, data={"fields": changed})
    if organization.status == OrganizationStatus.REJECTED:
        organization.status = OrganizationStatus.PENDING
        organization.reviewed_by = None
        organization.reviewed_at = None
        organization.rejection_reason = None
        audit.record("organization.resubmitted", organization, by=by)
        _tell_admins(organization, resubmitted=True)
    organization_updated.send(organization, changed=changed)
    return changed


def review_version(organization: Organization) -> str:
    """A short fingerprint of what an admin reviews (identity and contact details): the
    confirmation page sends it back, so what is approved or rejected is what was shown."""
    values = [organization.kind.value] + [
        str(getattr(organization, name)) for name in IDENTITY_FIELDS + CONTACT_FIELDS]
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:20]


def approve(organization: Organization, *, by: User, seen_version: str | None = None) -> Organization:
    """`seen_version`: the review_version() of the page the admin confirmed; refused
    (ApplicationChanged) when the application changed since."""
    _lock_pending(organization, seen_version)
    organization.status = OrganizationStatus.APPROVED
    caching.catalog_changed()  # its shopfront and products are public from the commit on
    organization.reviewed_by = by
    organization.reviewed_at = utcnow()
    organization.rejection_reason = None
    audit.record("organization.approved", organization, by=by)
    _tell_applicant(organization, "organization_approved")
    return organization


def reject(organization: Organization, *, by: User, reason: str,
           seen_version: str | None = None) -> Organization:
    reason = (reason or "").strip()
    if not reason:
        raise OrganizationError(
            _l("Give the reason for the rejection: the applicant will read it."), field="reason"
        )
    _lock_pending(organization, seen_version)
    organization.status = OrganizationStatus.REJECTED
    organization.reviewed_by = by
    organization.reviewed_at = utcnow()
    organization.rejection_reason = reason
    audit.record("organization.rejected", organization, by=by, data={"reason": reason})
    _tell_applicant(organization, "organization_rejected", reason=reason)
    return organization


def _lock_pending(organization: Organization, seen_version: str | None = None) -> None:
    """Lock the row and re-read it, so two admins cannot both review the same application, nor
    review another version of it than the one they saw."""
    db.session.expire(organization)
    lock_rows(Organization, [organization.id])
    if organization.status == OrganizationStatus.APPROVED:
        raise OrganizationError(_l("This organization has already been approved."))
    if organization.status == OrganizationStatus.REJECTED:
        raise OrganizationError(_l("This application has already been rejected."))
    if seen_version is not None and seen_version != review_version(organization):
        raise ApplicationChanged(_l("The application changed since you opened this page: "
                                    "check it again before deciding."))


def _tell_applicant(organization: Organization, template: str, **context) -> None:
    for user in _applicants(organization):
        queue_email(
            template,
            to=user.email,
            locale=user.locale,
            user=user,
            organization=organization,
            link=external_url("organizations.dashboard", org_id=organization.id),
            edit_link=external_url("organizations.edit", org_id=organization.id),
            **context,
        )


def _applicants(organization: Organization) -> list[User]:
    """Who applied; if that account is gone, the owners."""
    if organization.applied_by is not None:
        return [organization.applied_by]
    return [m.user for m in organization.memberships if m.role == Role.OWNER]


def _tell_admins(organization: Organization, *, resubmitted: bool) -> None:
    admins = db.session.scalars(
        sa.select(User).where(User.is_admin.is_(True), User.is_active_account.is_(True)).order_by(User.id)
    )
    link = external_url("admin.organization", org_id=organization.id)
    for admin in admins:
        queue_email(
            "organization_application_admin",
            to=admin.email,
            locale=admin.locale,
            user=admin,
            organization=organization,
            resubmitted=resubmitted,
            link=link,
        )


# --- Cleaning and uniqueness ---------------------------------------------------------------


def _text(value: Any, *, max_length: int) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value[:max_length] or None


def _clean_details(kind: OrganizationKind, details: Mapping[str, Any]) -> dict[str, Any]:
    """Every field of IDENTITY_FIELDS and CONTACT_FIELDS, cleaned, with the rules per kind."""
    values = {
        "name": _text(details.get("name"), max_length=150),
        "legal_form": _text(details.get("legal_form"), max_length=80),
        "siret": clean_siret(details.get("siret")),
        "rna": clean_rna(details.get("rna")),
        "local_register": _text(details.get("local_register"), max_length=80),
        "address_line": _text(details.get("address_line"), max_length=200),
        "postcode": clean_postcode(details.get("postcode")),
        "town": _text(details.get("town"), max_length=100),
        "vat_exempt": bool(details.get("vat_exempt")),
        "description": _text(details.get("description"), max_length=5000) or "",
        "contact_email": _text(normalize_email(details.get("contact_email") or ""), max_length=254),
        "phone": _text(details.get("phone"), max_length=30),
        "website": clean_website(details.get("website")),
    }
    try:
        values["ess_status"] = EssStatus(details.get("ess_status"))
    except ValueError:
        raise OrganizationError(_l("Choose how you belong to the social economy."), field="ess_status") from None
    for name, message in (
        ("name", _l("Give the organization's name.")),
        ("address_line", _l("Give the street address.")),
        ("town", _l("Give the town.")),
    ):
        if not values[name]:
            raise OrganizationError(message, field=name)

    if kind == OrganizationKind.ASSOCIATION:
        if not (values["siret"] or values["rna"] or values["local_register"]):
            raise OrganizationError(
                _l("An association gives its RNA number or its SIRET (or, in Alsace-Moselle, its local register reference)."),
                field="rna",
            )
        if not (values["siret"] or values["rna"]) and not in_alsace_moselle(values["postcode"]):
            raise OrganizationError(
                _l("A local register reference replaces the RNA number only in Alsace-Moselle (postcodes 57, 67 and 68). Give your RNA number or your SIRET."),
                field="local_register",
            )
    else:
        if not values["siret"]:
            raise OrganizationError(
                _l("A social enterprise or a works council gives its SIRET (14 digits)."), field="siret"
            )
        values["rna"] = None
        values["local_register"] = None
    return values


def _check_identifiers_free(values: Mapping[str, Any], *, exclude_id: int | None = None) -> None:
    for name, column, message in (
        ("siret", Organization.siret, _l("This SIRET is already registered for another organization. If it is yours, contact us.")),
        ("rna", Organization.rna, _l("This RNA number is already registered for another organization. If it is yours, contact us.")),
    ):
        if not values.get(name):
            continue
        stmt = sa.select(Organization.id).where(column == values[name])
        if exclude_id is not None:
            stmt = stmt.where(Organization.id != exclude_id)
        if db.session.scalar(stmt.limit(1)) is not None:
            raise OrganizationError(message, field=name)


SLUG_ATTEMPTS = 3  # slugs drawn when others of the same name are saved at the same moment
_UNIQUE_COLUMN = re.compile(r"uq_organization_(\w+)|organization\.(\w+)")


class _SlugTaken(Exception):
    """The slug drawn was taken meanwhile: the caller draws another one and writes again."""


def _with_a_free_slug(write: Callable[[], None], draw_again: Callable[[], None]) -> None:
    """write() under _guarding_unique; when the slug it writes was taken meanwhile by another
    organization of the same name (saved at the same moment), draw_again() and write again,
    SLUG_ATTEMPTS times in all."""
    for attempt in range(1, SLUG_ATTEMPTS + 1):
        try:
            with _guarding_unique(last_attempt=attempt == SLUG_ATTEMPTS):
                write()
            return
        except _SlugTaken:
            draw_again()


def _unique_column(exc: IntegrityError) -> str | None:
    """The organization's column whose UNIQUE constraint failed: PostgreSQL names the
    constraint (uq_organization_siret), SQLite the column (organization.siret). Not a word of
    the message: a slug or a value may contain "rna" or "siret"."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    match = _UNIQUE_COLUMN.fullmatch(name) if name else _UNIQUE_COLUMN.search(str(exc.orig))
    return (match.group(1) or match.group(2)) if match else None


@contextmanager
def _guarding_unique(*, last_attempt: bool = True) -> Iterator[None]:
    """The UNIQUE columns are the last guard when two applications race: say which one hit.

    The checks before it catch every case but a race. What the block adds or changes is
    flushed inside a SAVEPOINT: a duplicate rolls back that much only, and the request's
    transaction stays usable to render the error (even reading the user's language needs it).
    A slug taken meanwhile (two organizations of one name at once) is not the applicant's
    mistake: _SlugTaken asks the caller to draw another one, until the `last_attempt`.
    """
    try:
        with uow.savepoint():
            yield
    except IntegrityError as exc:
        column = _unique_column(exc)
        if column == "slug":
            if not last_attempt:
                raise _SlugTaken() from exc
            raise OrganizationError(
                _l("Another organization of this name was saved at the same moment: please "
                   "send the form again."), field="name") from None
        raise OrganizationError(
            _l("These identifiers are already registered for another organization. If it is yours, contact us."),
            field=column if column in ("siret", "rna") else None,
        ) from None


def slugify(name: str) -> str:
    """"Épicerie Solidaire d'Ève" -> "epicerie-solidaire-d-eve" (standard library only)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:150].rstrip("-") or "organization"


def unique_slug(name: str, *, exclude_id: int | None = None) -> str:
    base = slugify(name)
    stmt = sa.select(Organization.slug).where(
        sa.or_(Organization.slug == base, Organization.slug.like(f"{base}-%"))
    )
    if exclude_id is not None:
        stmt = stmt.where(Organization.id != exclude_id)
    taken = set(db.session.scalars(stmt))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


# --- Queries for the pages ------------------------------------------------------------------


def search(
    *, status: OrganizationStatus | None = None, kind: OrganizationKind | None = None, query: str = ""
) -> sa.Select:
    """Admin list: newest first, filters combine."""
    stmt = sa.select(Organization).order_by(Organization.created_at.desc(), Organization.id.desc())
    if status:
        stmt = stmt.where(Organization.status == status)
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    query = (query or "").strip().lower()
    if query:
        like = f"%{query}%"
        compact = re.sub(r"[\s.\-]", "", query)
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Organization.name).like(like),
                sa.func.lower(Organization.town).like(like),
                Organization.siret == compact,
                Organization.rna == compact.upper(),
            )
        )
    return stmt


def pending_applications() -> sa.Select:
    """Oldest first: first come, first reviewed."""
    return (
        sa.select(Organization)
        .where(Organization.status == OrganizationStatus.PENDING)
        .order_by(Organization.created_at, Organization.id)
    )


def counts_by_status() -> dict[OrganizationStatus, int]:
    rows = db.session.execute(
        sa.select(Organization.status, sa.func.count()).group_by(Organization.status)
    )
    counts = dict.fromkeys(OrganizationStatus, 0)
    counts.update({OrganizationStatus(status): n for status, n in rows})
    return counts


def set_daily_alerts(membership, wanted: bool) -> None:
    """A member's choice of the daily alerts email (pickup/alerts.py), off by default."""
    if membership.daily_alerts == bool(wanted):
        return
    membership.daily_alerts = bool(wanted)
    db.session.flush()
