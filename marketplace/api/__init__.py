"""The read-only JSON API under /api/v1 (flask-smorest, OpenAPI 3 at /api/v1/openapi.json).

Errors are JSON everywhere under /api/: {"status": 400, "message": "...", "errors": {...}},
in the language the client asks for (`?lang=`, else Accept-Language), French by default.
Bad query parameters (unknown parameter, out-of-range limit, unknown sort or category slug,
a negative price, min above max, a tampered cursor) are a 400; filters that are valid but
match nothing (an unknown seller id, a town without sellers, a search without results) give
an empty list. An unknown or non-public product or seller is a 404.
"""
from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import refresh
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from marketplace import caching
from marketplace.api.schemas import ErrorSchema
from marketplace.errors import MESSAGES
from marketplace.extensions import csrf
from marketplace.i18n import current_locale_code
from marketplace.i18n import lazy_gettext as _l

API_PREFIX = "/api/"

API_DESCRIPTION = (
    "Read-only catalogue of ESS Marché: the products and sellers that the public sees. "
    "Amounts are integer cents with their currency (EUR) and include VAT. Lists of products "
    "are paginated with an opaque cursor (`next_cursor`), lists of sellers with page numbers.\n\n"
    "Bad parameters (an unknown parameter, limit outside 1..100, an unknown sort, category "
    "slug or boolean, a negative price, min_price_cents above max_price_cents, a tampered "
    "cursor) answer 400 with a JSON body. A valid filter that matches nothing (a seller id "
    "that is not on the marketplace, a town without sellers) answers an empty list. A method "
    "that a URL does not take answers 405 with an `Allow` header.\n\n"
    "Messages (`message`, and the field errors in `errors`) are in French unless the request "
    "asks for English: `?lang=en` on any operation, else the best of `Accept-Language` among "
    "French and English. Each answer says its language in `Content-Language`."
)


INVALID_PARAMETERS = _l("Some parameters are not valid: see errors.")


class MarketplaceApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        # flask-smorest would handle HTTPException for the whole app, turning every HTML error
        # page into JSON: the API's blueprints get their own handler instead (see init_app),
        # and marketplace.errors answers JSON for any other error under /api/.
        pass


def api_error(exc: HTTPException):
    """flask-smorest's abort() and webargs' validation errors, as the site's JSON error body."""
    data = getattr(exc, "data", None) or {}
    code = exc.code or 500
    errors = data.get("errors") or data.get("messages")
    message = data.get("message") or (INVALID_PARAMETERS if errors else None)
    body = {"status": code, "message": str(message or MESSAGES.get(code) or exc.description)}
    if errors:
        body["errors"] = _as_text(errors)
    return body, code, data.get("headers") or {}


def _as_text(errors):
    """Field errors with their lazily translated messages made text, in the request's language."""
    if isinstance(errors, dict):
        return {key: _as_text(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [_as_text(value) for value in errors]
    return str(errors)


def api_locale() -> str:
    """`?lang=` if it is a language of the site, else the best of Accept-Language, else the
    default (French). Neither the site's language cookie nor the account's choice apply."""
    languages = list(current_app.config["LANGUAGES"])
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _choose_language():
    # An app-wide hook, not the blueprints': it must also run for a URL that matches no
    # route (404) or not with this method (405), which belongs to no blueprint.
    if request.path.startswith(API_PREFIX):
        g.forced_locale = api_locale()
        refresh()


def _say_language(response):
    if request.path.startswith(API_PREFIX):
        response.headers["Content-Language"] = current_locale_code()
        response.vary.add("Accept-Language")
    return response


def init_app(app: Flask) -> None:
    from marketplace.api import products, sellers

    app.config.setdefault("API_TITLE", "ESS Marché API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    # No Swagger UI, ReDoc or RapiD: they load their assets from the internet (CSP says 'self').
    app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": API_DESCRIPTION}})

    api = MarketplaceApi(app)
    for blueprint in (products.blp, sellers.blp):
        csrf.exempt(blueprint)  # read-only GETs; nothing for a forged request to change
        api.register_blueprint(blueprint)
    app.extensions["marketplace_api"] = api
    app.before_request(_choose_language)

    # The same answer for every client: served from the shared cache (marketplace/caching.py),
    # by language, logged in or not.
    for endpoint in ("api_products.products", "api_products.product"):
        caching.cacheable(endpoint, variant=api_locale, anonymous_only=False, forced_locale=True)
    app.after_request(_say_language)


def setup_blueprint(blueprint) -> None:
    blueprint.register_error_handler(HTTPException, api_error)
