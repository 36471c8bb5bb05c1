from marketplace.db import db
from marketplace.organizations import services as organizations


def _names(query):
    return [o.name for o in db.session.scalars(organizations.public_sellers(query=query))]


def test_seller_search_ignores_accents_and_case(app, make_organization):
    make_organization(name="Épicerie solidaire du Partage", town="Saint-Étienne", postcode="42000")
    make_organization(name="Atelier vélo", town="Lyon")
    assert _names("epicerie") == ["Épicerie solidaire du Partage"]
    assert _names("SAINT-ETIENNE") == ["Épicerie solidaire du Partage"]
    assert _names("42") == ["Épicerie solidaire du Partage"]
    assert _names("velo lyon") == ["Atelier vélo"]
    assert _names("velo paris") == []
    assert _names("\x00") == []  # nothing to match, no database error
