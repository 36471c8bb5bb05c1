"""Folding text for matching: the same rule wherever words are compared (the catalogue's search,
the sellers' list)."""
from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case, accents removed, ligatures split: 'Œufs Frais' -> 'oeufs frais'."""
    text = (text or "").replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
