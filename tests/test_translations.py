"""French is the default language: every message in the code and templates has a French
translation, and the compiled catalog is in use."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
METHODS = [
    ("marketplace/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _source_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_a_french_translation():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    missing = sorted(
        msgid
        for msgid in _source_messages()
        if msgid
        and (
            catalog.get(msgid) is None
            or not catalog.get(msgid).string
            or (isinstance(catalog.get(msgid).string, tuple) and not all(catalog.get(msgid).string))
            or catalog.get(msgid).fuzzy
        )
    )
    assert not missing, f"{len(missing)} messages lack a French translation, e.g. {missing[:10]}"


def test_pages_are_in_french_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert "Aller au contenu" in page  # "Skip to content"
    assert "Skip to content" not in page
