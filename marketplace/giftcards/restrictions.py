"""Where a restricted card may pay, defined once: a card whose `restriction_profile_id` names a
profile (a works council's card) pays only for goods of the profile's categories (a main
category covers its subcategories) and, when the profile names sellers, only at those sellers.
A card without a profile pays anywhere; a profile that names neither categories nor sellers
restricts nothing.

The rule has two forms built from the same facts, as `rules.py` has for "spendable":
`Restriction.allows` (Python: the checkout's lines, the pages) and `allows_sql` (the counter's
debit, in the UPDATE that checks and changes the balance); tests/giftcards/test_restrictions.py
checks that they agree. What the profile allows is given as a reason in the reader's language
("This card from your works council is for back-to-school purchases: …").

That an event-linked profile never allows everyday food or fuel is checked when the profile is
saved (campaigns.restrictions): this module applies what the profile says.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from marketplace.catalog.models import Category, Product
from marketplace.db import db
from marketplace.giftcards.models import (
    CampaignEvent,
    GiftCard,
    RestrictionProfile,
    restriction_category,
    restriction_seller,
)
from marketplace.i18n import LazyText, current_locale_code, lazy_text
from marketplace.organizations.models import Organization

E = CampaignEvent

# What the card is for, per event: `categories` is the list of the profile's category names.
_PURPOSES = {
    E.NONE: lambda names: _(
        "This card from your works council is for these purchases only: %(categories)s.",
        categories=names),
    E.CHRISTMAS: lambda names: _(
        "This card from your works council is for Christmas purchases: %(categories)s.",
        categories=names),
    E.BACK_TO_SCHOOL: lambda names: _(
        "This card from your works council is for back-to-school purchases: %(categories)s.",
        categories=names),
    E.BIRTH: lambda names: _(
        "This card from your works council is a gift for a birth, to spend on: %(categories)s.",
        categories=names),
    E.ADOPTION: lambda names: _(
        "This card from your works council is a gift for an adoption, to spend on: "
        "%(categories)s.", categories=names),
    E.MARRIAGE: lambda names: _(
        "This card from your works council is a wedding gift, to spend on: %(categories)s.",
        categories=names),
    E.PACS: lambda names: _(
        "This card from your works council is a gift for a civil partnership (PACS), to spend "
        "on: %(categories)s.", categories=names),
    E.RETIREMENT: lambda names: _(
        "This card from your works council is a retirement gift, to spend on: %(categories)s.",
        categories=names),
    E.MOTHERS_DAY: lambda names: _(
        "This card from your works council is for Mother's Day purchases: %(categories)s.",
        categories=names),
    E.FATHERS_DAY: lambda names: _(
        "This card from your works council is for Father's Day purchases: %(categories)s.",
        categories=names),
    E.SAINTE_CATHERINE: lambda names: _(
        "This card from your works council is for Sainte-Catherine purchases: %(categories)s.",
        categories=names),
    E.SAINT_NICOLAS: lambda names: _(
        "This card from your works council is for Saint-Nicolas purchases: %(categories)s.",
        categories=names),
}


@dataclass(frozen=True)
class AllowedCategory:
    id: int
    slug: str
    name_fr: str
    name_en: str

    def name(self, locale: str | None = None) -> str:
        locale = locale or current_locale_code()
        return self.name_en if locale == "en" else self.name_fr


@dataclass(frozen=True)
class Restriction:
    """What a profile allows, read once (plain values: its reason can be shown after the
    session that read it has ended)."""

    profile_id: int
    event: CampaignEvent
    categories: tuple[AllowedCategory, ...]  # in the catalogue's order
    sellers: tuple[tuple[int, str], ...]  # (organization id, name), by name

    @property
    def category_ids(self) -> frozenset[int]:
        return frozenset(category.id for category in self.categories)

    @property
    def seller_ids(self) -> frozenset[int]:
        return frozenset(seller_id for seller_id, _name in self.sellers)

    @property
    def limits_categories(self) -> bool:
        return bool(self.categories)

    def allows_seller(self, organization_id: int) -> bool:
        return not self.sellers or organization_id in self.seller_ids

    def allows_category(self, category_ids: Iterable[int | None] | None) -> bool:
        """`category_ids`: the category of what is bought and its parent (None: not said)."""
        if not self.categories:
            return True
        return bool(category_ids) and not self.category_ids.isdisjoint(category_ids)

    def allows(self, organization_id: int, category_ids: Iterable[int | None] | None) -> bool:
        """The Python twin of `allows_sql`."""
        return self.allows_seller(organization_id) and self.allows_category(category_ids)

    @property
    def reason(self) -> LazyText:
        """What the card is for, in the reader's language."""
        return lazy_text(_reason, self)


def _reason(restriction: Restriction) -> str:
    locale = current_locale_code()
    sentences = []
    if restriction.categories:
        names = ", ".join(_lower_first(c.name(locale)) for c in restriction.categories)
        sentences.append(_PURPOSES[restriction.event](names))
    if restriction.sellers:
        names = ", ".join(name for _id, name in restriction.sellers)
        sentences.append(
            _("It can be spent only at: %(sellers)s.", sellers=names) if restriction.categories
            else _("This card from your works council can be spent only at: %(sellers)s.",
                   sellers=names))
    return " ".join(sentences)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --- reading profiles ---------------------------------------------------------------------------

def of_card(card: GiftCard | None) -> Restriction | None:
    """The card's restriction, or None when it pays anywhere (two queries for a restricted card,
    none otherwise)."""
    if card is None or card.restriction_profile_id is None:
        return None
    return of_profiles([card.restriction_profile_id]).get(card.restriction_profile_id)


def of_cards(found: Iterable[GiftCard]) -> dict[int, Restriction]:
    """{card id: its restriction} for the restricted cards among `found` (two queries in all)."""
    found = list(found)
    profiles = of_profiles({card.restriction_profile_id for card in found
                            if card.restriction_profile_id is not None})
    return {card.id: profiles[card.restriction_profile_id] for card in found
            if card.restriction_profile_id in profiles}


def of_profiles(profile_ids: Iterable[int]) -> dict[int, Restriction]:
    """{profile id: Restriction} for the profiles that restrict something: one query for the
    events and categories, one for the sellers."""
    profile_ids = sorted(set(profile_ids))
    if not profile_ids:
        return {}
    rows = db.session.execute(
        sa.select(RestrictionProfile.id, RestrictionProfile.event, Category.id, Category.slug,
                  Category.name_fr, Category.name_en)
        .select_from(RestrictionProfile)
        .outerjoin(restriction_category,
                   restriction_category.c.profile_id == RestrictionProfile.id)
        .outerjoin(Category, Category.id == restriction_category.c.category_id)
        .where(RestrictionProfile.id.in_(profile_ids))
        .order_by(RestrictionProfile.id, Category.parent_id.is_not(None), Category.position,
                  Category.id)
    ).all()
    events: dict[int, CampaignEvent] = {}
    categories: dict[int, list[AllowedCategory]] = {}
    for profile_id, event, category_id, slug, name_fr, name_en in rows:
        events[profile_id] = event
        if category_id is not None:
            categories.setdefault(profile_id, []).append(
                AllowedCategory(category_id, slug, name_fr, name_en))
    sellers: dict[int, list[tuple[int, str]]] = {}
    for profile_id, organization_id, name in db.session.execute(
        sa.select(restriction_seller.c.profile_id, Organization.id, Organization.name)
        .join(Organization, Organization.id == restriction_seller.c.organization_id)
        .where(restriction_seller.c.profile_id.in_(profile_ids))
        .order_by(restriction_seller.c.profile_id, Organization.name, Organization.id)
    ):
        sellers.setdefault(profile_id, []).append((organization_id, name))
    restrictions = {}
    for profile_id, event in events.items():
        if categories.get(profile_id) or sellers.get(profile_id):
            restrictions[profile_id] = Restriction(
                profile_id, CampaignEvent(event), tuple(categories.get(profile_id, ())),
                tuple(sellers.get(profile_id, ())))
    return restrictions


# --- what is being paid for ---------------------------------------------------------------------

def categories_of_products(product_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    """{product id: (its category id, the category's parent id if any)}, in one query."""
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return {}
    rows = db.session.execute(
        sa.select(Product.id, Category.id, Category.parent_id)
        .join(Category, Category.id == Product.category_id)
        .where(Product.id.in_(product_ids)))
    return {product_id: _path(category_id, parent_id)
            for product_id, category_id, parent_id in rows}


def category_path(key: int | str) -> tuple[int, ...]:
    """The category a counter says is being bought (its id, or its slug), with its parent:
    () when no category has this id or slug (one query)."""
    condition = (Category.slug == key.strip().lower()) if isinstance(key, str) \
        else (Category.id == key)
    row = db.session.execute(sa.select(Category.id, Category.parent_id).where(condition)).first()
    return () if row is None else _path(*row)


def _path(category_id: int, parent_id: int | None) -> tuple[int, ...]:
    return (category_id,) if parent_id is None else (category_id, parent_id)


# --- the SQL form -------------------------------------------------------------------------------

def allows_sql(organization_id: int, category_ids: Iterable[int] | None,
               card=GiftCard) -> sa.ColumnElement[bool]:
    """The SQL condition: the card (the mapped class, or a table with gift_card's columns) may
    pay at `organization_id` for goods of `category_ids` (a category and its parent; None or
    empty: not said). True for a card without a profile."""
    ids = sorted({i for i in (category_ids or ()) if i is not None})
    return allows_sql_bound(card, organization_id=organization_id, category_ids=ids or None)


def allows_sql_bound(card, *, organization_id, category_ids) -> sa.ColumnElement[bool]:
    """allows_sql() with the seller and the categories given as SQL values, e.g. bound
    parameters for a statement built once (the counter's debit): `category_ids` is None when
    no category was said, else a list or an expanding parameter of them."""
    columns = getattr(card, "c", card)
    profile_id = columns.restriction_profile_id
    categories, sellers = restriction_category.c, restriction_seller.c
    names_categories = sa.exists().where(categories.profile_id == profile_id)
    names_sellers = sa.exists().where(sellers.profile_id == profile_id)
    category_ok = (
        sa.or_(~names_categories, sa.exists().where(categories.profile_id == profile_id,
                                                    categories.category_id.in_(category_ids)))
        if category_ids is not None else ~names_categories)
    seller_ok = sa.or_(~names_sellers, sa.exists().where(
        sellers.profile_id == profile_id, sellers.organization_id == organization_id))
    return sa.or_(profile_id.is_(None), sa.and_(category_ok, seller_ok))
