"""The French catalogue reads as French, not as a translation: French spacing before `: ; ! ? %`
and inside « », elision before names, plurals that agree (zero and one are singular in French),
one clock ("14 h 00"), no English left over, nothing fuzzy.

Each check reads translations/fr/LC_MESSAGES/messages.po and lists every entry that breaks it,
so a failure says what to fix."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parent.parent / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
NBSP = "\u00a0"  # no-break space: before « : » and « % », « € », inside guillemets
NNBSP = "\u202f"  # narrow no-break space: before « ; ! ? » (U+00A0 is accepted too)
HARD_SPACES = NBSP + NNBSP

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
URL = re.compile(r"https?://\S+")

# Placeholders that never start with a vowel sound, so "de %(amount)s", "le %(date)s" or
# "que %(time)s" never need an elision: amounts, numbers, dates, times, codes and references.
NO_ELISION = {
    "amount", "balance", "commission", "net", "price", "purchase", "minimum", "low", "high",
    "refunded", "paid", "delta", "stock", "num", "n", "count", "left", "min", "max", "mb",
    "days", "weeks", "page", "pages", "number", "quantity", "bought", "booked", "capacity",
    "date", "day", "time", "start", "end", "when", "deadline", "collected", "period", "delay",
    "code", "card", "reference", "references", "order", "transfer", "account", "rate", "old",
    "new", "weekday", "status", "current", "ip",
}
# Entries where an article or "de" before a name is right, each with its reason.
ELISION_ALLOWED: dict[str, str] = {}

# English words that have no business in a French sentence (API field names, Stripe, PDF,
# CSV and "QR code" are French usage and are not listed).
ENGLISH_WORDS = {
    "the", "and", "of", "your", "you", "with", "from", "is", "are", "this", "that", "please",
    "order", "orders", "cart", "seller", "sellers", "pickup", "voucher", "vouchers", "slot",
    "slots", "refund", "balance", "email", "emails", "admin", "dashboard", "checkout", "shop",
    "to", "for", "what", "when", "who", "here", "click", "next", "previous", "back",
}
# Single words that French and English spell alike are fine; a longer message left as its
# English msgid is not, except these.
SAME_IN_BOTH = {"%(quantity)s × %(title)s", "%(quantity)d × %(title)s"}

Check = Callable[[str, str], list[str]]  # (msgid, one translation) -> what is wrong


def _text(translation: str) -> str:
    """The translation with its placeholders and web addresses made neutral, `%%` as `%`."""
    return PLACEHOLDER.sub("X", URL.sub("URL", translation)).replace("%%", "%")


def spacing(msgid: str, translation: str) -> list[str]:
    """« Total : 12 € », « Merci ! », « 5 % »: a (narrow) no-break space, never a plain space
    nor none, before : ; ! ? % and a euro sign after a number."""
    text = _text(translation)
    found = [m.group(0) for m in re.finditer(r"(.)([:;!?%])", text) if m.group(1) not in HARD_SPACES]
    found += [m.group(0) for m in re.finditer(r"\d(\s?)€", text) if m.group(1) != NBSP]
    return [f"space before {f!r}" for f in found]


def guillemets(msgid: str, translation: str) -> list[str]:
    text = re.sub(r"<[^>]*>", "", _text(translation))  # an attribute's quotes are HTML
    problems = []
    if re.search(f"«[^{HARD_SPACES}]", text) or re.search(f"[^{HARD_SPACES}]»", text):
        problems.append("« » without no-break spaces inside")
    if re.search(r"[“”\"]", text):
        problems.append("English quotes")
    return problems


def apostrophes_and_ellipses(msgid: str, translation: str) -> list[str]:
    problems = []
    if "\u2019" in translation:
        problems.append("typographic apostrophe (the catalogue uses ')")
    if "..." in translation:
        problems.append("three dots instead of …")
    return problems


ELIDING = re.compile(r"(?<![\w'])([Dd]e|[Ll]e|[Ll]a|[Qq]ue)\s+%\((\w+)\)s")


def elision(msgid: str, translation: str) -> list[str]:
    """"Rôle de Élodie Perrin", "vendeurs de ESS Marché": a name may start with a vowel, so no
    "de", "le", "la" or "que" sits right before it ("Rôle : %(name)s", "chez %(name)s",
    "de la structure %(name)s"...)."""
    if msgid in ELISION_ALLOWED:
        return []
    return [f"{m.group(0)!r} needs an elision before a vowel"
            for m in ELIDING.finditer(translation) if m.group(2) not in NO_ELISION]


def counts(msgid: str, translation: str) -> list[str]:
    """"Plus que 1 en stock": "que <number>" reads "que 1" (or "que 0") in the singular."""
    if re.search(r"\bque\s+%\(\w+\)d", translation):
        return ["\"que <number>\" reads \"que 1\": use ngettext and say \"qu'un\""]
    return []


def clock(msgid: str, translation: str) -> list[str]:
    """Times are written "14 h 00" in French, never "14:00", "14h" nor "14 h"."""
    text = URL.sub("", translation)
    if re.search(r"\d:\d\d|\d[\s" + HARD_SPACES + r"]?h\b(?![\s" + HARD_SPACES + r"]?\d)|\d{1,2}h\d", text):
        return ["a time not written \"14 h 00\""]
    return []


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[A-Za-z_]+", PLACEHOLDER.sub(" ", text))}


def english(msgid: str, translation: str) -> list[str]:
    problems = []
    if leftovers := _words(translation) & ENGLISH_WORDS:
        problems.append(f"English words {sorted(leftovers)}")
    if translation == msgid and len(_words(msgid)) > 1 and msgid not in SAME_IN_BOTH:
        problems.append("left in English")
    return problems


CHECKS: list[Check] = [spacing, guillemets, apostrophes_and_ellipses, elision, counts, clock, english]


def _entries() -> list[Message]:
    with CATALOG.open("rb") as handle:
        return [message for message in read_po(handle, locale="fr") if message.id]


def _msgid(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _translations(message: Message) -> list[str]:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return [s for s in strings if s]


def _report(problems: list[str]) -> str:
    return f"{len(problems)} French messages to fix:\n" + "\n".join(problems[:80])


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_french_catalogue(check):
    problems = []
    for message in _entries():
        msgid = _msgid(message)
        translations = _translations(message)
        if check is counts and message.pluralizable:
            translations = translations[:1]  # the plural form is never "1"
        for translation in translations:
            problems += [f"{p}: {translation!r}" for p in check(msgid, translation)]
    assert not problems, _report(problems)


def test_no_fuzzy_entry():
    fuzzy = [_msgid(m) for m in _entries() if m.fuzzy]
    assert not fuzzy, _report(fuzzy)


def test_plural_forms_differ():
    """A message counted with ngettext has a singular (0 and 1 in French) and a plural that
    differ: "Plus que %(num)d en stock" twice says "Plus que 1 en stock"."""
    same = [_translations(m)[0] for m in _entries()
            if m.pluralizable and len(set(_translations(m))) < 2]
    assert not same, _report(same)


@pytest.mark.parametrize("msgid,translation", [
    ("Role of %(name)s", "Rôle de %(name)s"),
    ("at any seller of %(site)s", "chez tous les vendeurs de %(site)s"),
    ("Only %(left)d left", "Plus que %(left)d en stock"),
    ("Pickup (for %(name)s): %(amount)s", "Retrait (pour %(name)s): %(amount)s"),
    ("%(amount)s (5%%)", "%(amount)s (5%%)"),
    ("From 10:00 to 12:00", "De 10:00 à 12:00"),
    ("Open 10 am", "Ouvert à 10 h"),
    ("Products matching “%(query)s”", "Produits correspondant à « %(query)s »"),
    ("Admin panel", "Admin panel"),
    ("It costs 5 €", "Cela coûte 5 €"),
])
def test_the_checks_catch_what_the_issue_found(msgid, translation):
    assert any(check(msgid, translation) for check in CHECKS), translation


@pytest.mark.parametrize("msgid,translation", [
    ("Role: %(name)s", "Rôle\u00a0: %(name)s"),
    ("From %(start)s to %(end)s", "De %(start)s à %(end)s"),
    ("Only one left", "Plus qu'un exemplaire"),
    ("See %(url)s", "Voir https://example.org/a?b=c"),
    ("Open at 10", "Ouvert de 10\u00a0h\u00a000 à 12\u00a0h\u00a030"),
    ("VAT 0 %%", "TVA 0\u00a0%%"),
])
def test_the_checks_accept_good_french(msgid, translation):
    assert not any(check(msgid, translation) for check in CHECKS), translation
