"""Where an event's cards may be spent: the categories suggested for each event, and the rule
that an event-linked card never buys everyday food or fuel (URSSAF, once the yearly 5 % is
passed). The categories are the catalogue's top-level slugs (a main category covers its
subcategories)."""
from __future__ import annotations

from marketplace.campaigns.models import CampaignEvent

# Everyday food (and fuel, should the catalogue ever sell it): never on an event-linked card.
# The catalogue has no category of festive food yet, which URSSAF admits at Christmas: when one
# is added, it goes in CHRISTMAS_ONLY and out of the everyday food below.
EVERYDAY_FOOD_AND_FUEL = frozenset({"food", "food-fresh", "food-grocery", "food-drinks", "fuel"})
CHRISTMAS_ONLY: frozenset[str] = frozenset()

SUGGESTED_CATEGORIES: dict[CampaignEvent, tuple[str, ...]] = {
    CampaignEvent.CHRISTMAS: ("toys", "books", "culture", "clothing", "crafts", "home"),
    CampaignEvent.BACK_TO_SCHOOL: ("books", "clothing", "culture"),
    CampaignEvent.BIRTH: ("toys", "clothing", "home"),
    CampaignEvent.ADOPTION: ("toys", "clothing", "home"),
    CampaignEvent.MARRIAGE: ("home", "culture", "crafts", "mobility"),
    CampaignEvent.PACS: ("home", "culture", "crafts", "mobility"),
    CampaignEvent.RETIREMENT: ("home", "culture", "crafts", "mobility"),
    CampaignEvent.MOTHERS_DAY: ("clothing", "culture", "crafts", "books", "hygiene"),
    CampaignEvent.FATHERS_DAY: ("clothing", "culture", "crafts", "books", "hygiene"),
    CampaignEvent.SAINTE_CATHERINE: ("clothing", "culture", "crafts", "books", "hygiene"),
    CampaignEvent.SAINT_NICOLAS: ("clothing", "culture", "crafts", "books", "hygiene"),
}


def forbidden_categories(event: CampaignEvent, slugs) -> set[str]:
    """The categories among `slugs` that a card of `event` may not allow."""
    event = CampaignEvent(event)
    if event == CampaignEvent.NONE:
        return set()
    forbidden = set(EVERYDAY_FOOD_AND_FUEL)
    if event != CampaignEvent.CHRISTMAS:
        forbidden |= CHRISTMAS_ONLY
    return set(slugs) & forbidden


def profile_fits_event(profile, event: CampaignEvent) -> bool:
    """True when the cards' use is tied to the event: a profile made for this event, naming at
    least one category, none of them forbidden for it."""
    if profile is None or CampaignEvent(event) == CampaignEvent.NONE:
        return False
    slugs = profile.category_slugs
    return (profile.event == CampaignEvent(event) and bool(slugs)
            and not forbidden_categories(event, slugs))
