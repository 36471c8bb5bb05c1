"""Payments: one gateway interface (Stripe Checkout, or a local demo page), the webhook, the
one fulfilment function, refunds. `init_app` is called by create_app."""
from __future__ import annotations

from flask import Flask

STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def init_app(app: Flask) -> None:
    """Allow the checkout form's redirect to Stripe's hosted page (CSP form-action), and say
    loudly which gateway takes the payments."""
    if app.config.get("STRIPE_SECRET_KEY"):
        extra = list(app.config.get("CSP_EXTRA_FORM_ACTION") or [])
        if STRIPE_CHECKOUT_ORIGIN not in extra:
            # A new list: the one in config.default is shared by every app of the process.
            app.config["CSP_EXTRA_FORM_ACTION"] = [*extra, STRIPE_CHECKOUT_ORIGIN]
        if not app.config.get("STRIPE_WEBHOOK_SECRET"):
            app.logger.warning(
                "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: webhooks will be "
                "refused; payments are then confirmed by the success page and by "
                "`flask payments reconcile` only."
            )
    elif app.config.get("CONFIG_NAME") == "production":
        app.logger.warning(
            "No STRIPE_SECRET_KEY: payments run on the DEMO gateway, where anyone can 'pay' "
            "without money moving. Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET."
        )
