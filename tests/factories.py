"""Small factories that build valid records through the models (flushed, not committed)."""
from __future__ import annotations

import itertools

from marketplace.accounts.models import User
from marketplace.accounts.services import hash_password
from marketplace.db import db, utcnow
from marketplace.organizations.models import (
    EssStatus,
    Membership,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Role,
)

DEFAULT_PASSWORD = "correct horse battery"
_sequence = itertools.count(1)

# Valid SIRETs (Luhn) for tests: SIREN 732829320 (a real company's public number) + NIC.
_VALID_SIRETS = ["73282932000074", "35600000000048", "44306184100047", "55210055400013"]


def make_user(
    *,
    email: str | None = None,
    name: str = "Camille Martin",
    password: str = DEFAULT_PASSWORD,
    verified: bool = True,
    is_admin: bool = False,
    locale: str = "fr",
) -> User:
    n = next(_sequence)
    user = User(
        email=(email or f"user{n}@example.org").lower(),
        name=name,
        password_hash=hash_password(password),
        email_verified_at=utcnow() if verified else None,
        is_admin=is_admin,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_session_key(user: User, *, remembered: bool = False) -> str:
    """A login of `user` on a new device (a UserSession, flushed): the key that the session
    cookie's "_user_id" holds, as after the login form."""
    from marketplace.accounts import sessions

    return sessions.start_session(user, remembered=remembered, user_agent="")


def make_organization(
    *,
    name: str | None = None,
    kind: OrganizationKind = OrganizationKind.ASSOCIATION,
    status: OrganizationStatus = OrganizationStatus.APPROVED,
    members: dict[Role, User] | None = None,
    owner: User | None = None,
    town: str = "Lyon",
    postcode: str = "69003",
    siret: str | None = None,
    rna: str | None = None,
) -> Organization:
    n = next(_sequence)
    org = Organization(
        kind=kind,
        status=status,
        name=name or f"Ressourcerie n°{n}",
        slug=f"org-{n}",
        rna=rna if rna is not None else (f"W69{n:07d}" if kind == OrganizationKind.ASSOCIATION else None),
        siret=siret,
        address_line=f"{n} rue de la République",
        postcode=postcode,
        town=town,
        ess_status=EssStatus.WORKS_COUNCIL if kind == OrganizationKind.WORKS_COUNCIL else EssStatus.ASSOCIATION,
        description="Une structure de test.",
    )
    db.session.add(org)
    db.session.flush()
    members = dict(members or {})
    if owner is not None:
        members[Role.OWNER] = owner
    for role, user in members.items():
        db.session.add(Membership(organization=org, user=user, role=role))
    db.session.flush()
    return org


def make_product(
    organization: Organization | None = None,
    *,
    title: str = "Lampe de bureau vintage",
    description: str = "",
    price_cents: int = 1500,
    stock: int | None = 5,
    category_slug: str = "home-decor",
    vat_rate_bp: int = 2000,
    is_perishable: bool = False,
):
    from marketplace.catalog import services as catalog
    from marketplace.catalog.services import get_category

    organization = organization or make_organization()
    return catalog.create_product(
        organization,
        title=title,
        description=description,
        price_cents=price_cents,
        vat_rate_bp=vat_rate_bp,
        category=get_category(category_slug),
        stock=stock,
        is_perishable=is_perishable,
        by=None,
    )
