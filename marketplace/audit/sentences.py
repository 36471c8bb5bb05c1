"""Audit entries told as sentences in the reader's language, with links to what they concern.

The sentences themselves are in kinds.py (one kind per action). Here: how a kind's template is
filled. A kind's `build(facts)` returns the values of its placeholders; a value that names a
thing (an organization, an order, a gift card, a product, a person) is a Ref, which the page's
Reader turns into a link (or into plain text where the reader has no page for it). Everything
written by a person (a name, a reason, a product title) is escaped; only the links are markup.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from babel.dates import get_day_names
from babel.lists import format_list
from flask_babel import format_decimal, get_locale
from markupsafe import Markup, escape

from marketplace.i18n import format_clock, format_moment, format_rate, money_filter
from marketplace.i18n import lazy_gettext as _l

CARD_MASK = "•••• "


@dataclass(frozen=True)
class Ref:
    """Something an entry names. `key` says which one (an id, an order reference); `text` is
    its name as recorded, if any (else the reader may know it)."""

    kind: str  # "organization", "order", "card", "product", "user"
    key: int | str | None
    text: str | None = None


class Reader:
    """How one page shows entries. The base reader links nothing. `organization_id` is set on a
    seller's page: sentences then leave out what is not that seller's business (the amount of
    a whole order that other sellers share)."""

    def __init__(self, *, organization_id: int | None = None):
        self.organization_id = organization_id

    def load(self, refs: Iterable[Ref]) -> None:
        """Called once with every Ref of the page, before any name(): fetch names in bulk."""

    def name(self, ref: Ref) -> str | None:
        return None

    def url(self, ref: Ref) -> str | None:
        return None


@dataclass(frozen=True)
class ActionKind:
    action: str
    label: Any  # a short name, for the log's filter
    sentence: Any  # the translatable template (lazy string)
    build: Callable[[Facts], dict]
    example: dict  # the data its entries carry (documentation, and the registry's tests)
    variants: dict[str, Any] = field(default_factory=dict)  # other templates build() may pick

    def template(self, variant: str | None):
        return self.sentence if variant is None else self.variants[variant]


# The registry: every action kind, by action (filled by kinds.py, imported with the package).
KINDS: dict[str, ActionKind] = {}


def kind(action: str, label, sentence, *, example: dict, **variants):
    """Register the kind of `action`: its filter label, its sentence (and other templates that
    its build function may pick with facts.use(name)), and an example of its entries' data."""

    def register(build: Callable[[Facts], dict]):
        if action in KINDS:
            raise ValueError(f"audit action {action!r} has two kinds")
        KINDS[action] = ActionKind(action, label, sentence, build, example, variants)
        return build

    return register


@dataclass
class Described:
    entry: Any
    sentence: Markup
    details: list[Markup]


class Facts:
    """One entry, as a kind's build() reads it."""

    def __init__(self, entry, reader: Reader):
        self.entry = entry
        self.data: dict = entry.data if isinstance(entry.data, dict) else {}
        self.reader = reader
        self.variant: str | None = None
        self.details: list[tuple[Any, dict]] = []

    # --- what the sentence should say ---

    def use(self, variant: str) -> None:
        """Fill another of the kind's templates (declared as a keyword of kind())."""
        self.variant = variant

    def detail(self, template, **params) -> None:
        """A line under the sentence, e.g. detail(_l("Reason: %(reason)s"), reason=...);
        skipped when one of its values is missing."""
        if all(value not in (None, "") for value in params.values()):
            self.details.append((template, params))

    # --- who, where, for whom ---

    @property
    def has_actor(self) -> bool:
        return self.entry.actor is not None

    @property
    def seller_view(self) -> bool:
        """The page is one seller's (not the platform team's)."""
        return self.reader.organization_id is not None

    @property
    def has_organization(self) -> bool:
        return self.entry.organization_id is not None

    # --- values ---

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        return None if value in (None, "") or isinstance(value, bool) else str(value)

    def number(self, key: str) -> int | None:
        value = self.data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def money(self, key: str, *, sign: bool = False) -> str | None:
        return self.money_of(self.data.get(key), sign=sign)

    def money_of(self, cents, *, sign: bool = False) -> str | None:
        if not isinstance(cents, int) or isinstance(cents, bool):
            return None
        formatted = money_filter(abs(cents) if sign else cents)
        if sign:
            return ("+" if cents >= 0 else "−") + formatted
        return formatted

    def signed(self, key: str) -> str | None:
        value = self.number(key)
        return None if value is None else format_decimal(value, "+#,##0;−#,##0")

    def percent(self, basis_points: int | None) -> str | None:
        if not isinstance(basis_points, int):
            return None
        return format_rate(basis_points)

    def clock(self, key: str) -> str | None:
        try:
            return format_clock(time.fromisoformat(self.data[key]))
        except (KeyError, TypeError, ValueError):
            return None

    def moment(self, key: str) -> str | None:
        """A stored ISO date and time, in the reader's timezone: "mercredi 9 décembre 2026 à
        14 h 00", "Wednesday 9 December 2026 at 14:00"."""
        try:
            moment = datetime.fromisoformat(self.data[key])
        except (KeyError, TypeError, ValueError):
            return None
        return format_moment(moment, "full")

    def weekday(self, key: str) -> str | None:
        day = self.number(key)
        if day is None or not 0 <= day <= 6:
            return None
        return get_day_names("wide", locale=get_locale())[day]

    def listing(self, items: Iterable[str]) -> str | None:
        items = [str(item) for item in items if item]
        return format_list(items, locale=get_locale()) if items else None

    def labels(self, key: str, labels: dict) -> str | None:
        """The labels of a list of codes stored under `key` (unknown codes are left out)."""
        codes = self.data.get(key)
        if not isinstance(codes, list):
            return None
        return self.listing(str(labels[code]) for code in codes if code in labels)

    def label(self, key: str, labels: dict) -> str | None:
        code = self.data.get(key)
        return str(labels[code]) if isinstance(code, str) and code in labels else None

    # --- things, linked by the reader ---

    def organization(self) -> Ref:
        organization = self.entry.organization
        return Ref("organization", self.entry.organization_id,
                   organization.name if organization is not None else None)

    def order(self) -> Ref | None:
        reference = self.text("reference")
        return Ref("order", reference, reference) if reference else None

    def card(self) -> Ref:
        last4 = self.text("last4")
        key = self.entry.subject_id if self.entry.subject_type == "GiftCard" else None
        return Ref("card", key, CARD_MASK + last4 if last4 else None)

    def product(self) -> Ref:
        key = self.entry.subject_id if self.entry.subject_type == "Product" else None
        return Ref("product", key, self.text("title"))

    def named(self, kind: str, key) -> Ref:
        return Ref(kind, key)


# --- filling the templates -------------------------------------------------------------------

SOMEONE = _l("someone")
UNKNOWN = "—"
FALLBACK_NAMES = {
    "organization": _l("an organization"),
    "product": _l("a product"),
    "card": _l("a gift card"),
    "order": _l("an order"),
    "user": _l("someone"),
}


def describe(entries: Iterable, reader: Reader | None = None) -> list[Described]:
    """The entries as sentences (same order), for one page."""
    reader = reader or Reader()
    built = []
    for entry in entries:
        kind = KINDS.get(entry.action)
        facts = Facts(entry, reader)
        params = kind.build(facts) if kind is not None else {"action": entry.action}
        if entry.actor is not None:
            params.setdefault("actor", Ref("user", entry.actor_id, entry.actor.name))
        built.append((entry, kind, facts, params))
    reader.load(value for *_, params in built for value in params.values()
                if isinstance(value, Ref))
    return [
        Described(entry, _fill(kind.template(facts.variant) if kind else UNKNOWN_ACTION,
                               params, reader, actor_missing=entry.actor is None),
                  [_fill(template, values, reader) for template, values in facts.details])
        for entry, kind, facts, params in built
    ]


# An action that has no kind any more (recorded by an older version): its code is all there is.
UNKNOWN_ACTION = _l("%(actor)s: an action this version does not describe (%(action)s)")


def _fill(template, params: dict, reader: Reader, *, actor_missing: bool = False) -> Markup:
    text = str(template)
    names = _placeholders(text)
    opening = names[0] if names and text.startswith(f"%({names[0]})s") else None
    if actor_missing:
        params = {"actor": str(SOMEONE), **params}
    values = {name: _value(value, reader, capital=name == opening)
              for name, value in params.items()}
    for name in names:
        values.setdefault(name, UNKNOWN)
    return escape(text) % values


def _value(value, reader: Reader, *, capital: bool = False):
    """A placeholder's value: a link or plain text (escaped when the template is filled)."""
    if isinstance(value, Ref):
        text = value.text or reader.name(value) or str(FALLBACK_NAMES.get(value.kind, UNKNOWN))
        text = text[:1].upper() + text[1:] if capital else text
        url = reader.url(value) if value.key is not None else None
        return Markup('<a href="{}">{}</a>').format(url, text) if url else text
    if value is None:
        return UNKNOWN
    value = str(value)
    return value[:1].upper() + value[1:] if capital else value


def _placeholders(template: str) -> list[str]:
    return re.findall(r"%\((\w+)\)s", template)
