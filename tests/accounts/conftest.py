"""The accounts tests read the English messages (the msgids), so they keep passing once the
French catalog fills in; tests/test_translations.py checks that French is the default."""
import functools

import pytest


@pytest.fixture
def make_app(make_app):
    def build(**overrides):
        overrides.setdefault("BABEL_DEFAULT_LOCALE", "en")
        return make_app(**overrides)

    return build


@pytest.fixture
def make_user(make_user):
    return functools.partial(make_user, locale="en")
