"""Every kind of audit entry, in one place: the action recorded, a short label (the log's
filter), the sentence shown to the reader, an example of the data its entries carry, and how the
sentence is filled (see sentences.py).

A new `audit.record("x.y", ...)` needs its kind here: tests/test_audit_kinds.py scans the code and
fails on an action without one, and recording it in the tests raises UnknownAction. The data of
old entries stays as it was recorded, so every kind reads entries that lack a key (the sentence
then says less, never shows a code). No entry carries a gift card's full code: its last 4
characters at most.
"""
from __future__ import annotations

from flask_babel import ngettext

from marketplace.audit.sentences import KINDS, Facts, kind
from marketplace.i18n import lazy_gettext as _l

# The filter's groups: an action prefix and its label.
GROUPS = {
    "organization.": _l("Organizations"),
    "member.": _l("Members"),
    "account.": _l("Accounts"),
    "product.": _l("Products"),
    "stock.": _l("Stock"),
    "pickup.": _l("Pickup slots"),
    "order.": _l("Orders"),
    "voucher.": _l("Counter: vouchers"),
    "giftcard.": _l("Gift cards"),
    "payout": _l("Payouts"),
    "invoicing.": _l("Invoicing"),
    "accounting.": _l("Accounting"),
    "campaign.": _l("Works-council campaigns"),
    "customers.": _l("Messages to customers"),
}

# Stored codes, as the audit reads them (the data keeps the codes of the day it was recorded).
ROLES = {"owner": _l("Owner"), "manager": _l("Manager"), "counter": _l("Counter staff")}
ORGANIZATION_FIELDS = {
    "name": _l("name"), "legal_form": _l("legal form"), "siret": _l("SIRET"),
    "rna": _l("RNA number"), "local_register": _l("local register"),
    "ess_status": _l("place in the social economy"), "address_line": _l("address"),
    "postcode": _l("postcode"), "town": _l("town"), "vat_exempt": _l("VAT"),
    "description": _l("description"), "contact_email": _l("contact email"),
    "phone": _l("phone"), "website": _l("website"),
    "restock_no_shows": _l("restocking of uncollected orders"),
}
# Reasons that are codes, not words of a person (refunds, released orders).
CODED_REASONS = {"withdrawal", "late_payment", "refunded_at_gateway", "refund"}

REASON = _l("Reason: %(reason)s")
ERROR = _l("Error given: %(error)s")
BALANCE_AFTER = _l("Balance after: %(balance)s")


def _reason(f: Facts, key: str = "reason") -> None:
    reason = f.text(key)
    if reason not in CODED_REASONS:
        f.detail(REASON, reason=reason)


# --- organizations ---------------------------------------------------------------------------

@kind("organization.applied", _l("Application sent"),
      _l("%(actor)s applied to join the marketplace with %(organization)s"), example={})
def _organization_applied(f: Facts):
    return {"organization": f.organization()}


@kind("organization.updated", _l("Details changed"),
      _l("At %(organization)s, %(actor)s changed these details: %(fields)s"),
      example={"fields": ["name", "siret", "website"]},
      unknown=_l("At %(organization)s, %(actor)s changed the details"))
def _organization_updated(f: Facts):
    fields = f.labels("fields", ORGANIZATION_FIELDS)
    if fields is None:
        f.use("unknown")
    return {"organization": f.organization(), "fields": fields}


@kind("organization.resubmitted", _l("Application corrected and sent again"),
      _l("%(actor)s corrected the application of %(organization)s and sent it for a new review"),
      example={})
def _organization_resubmitted(f: Facts):
    return {"organization": f.organization()}


@kind("organization.approved", _l("Organization approved"),
      _l("%(actor)s approved %(organization)s"), example={})
def _organization_approved(f: Facts):
    return {"organization": f.organization()}


@kind("organization.rejected", _l("Application rejected"),
      _l("%(actor)s rejected the application of %(organization)s"),
      example={"reason": "Le SIRET ne correspond pas au nom."})
def _organization_rejected(f: Facts):
    f.detail(REASON, reason=f.text("reason"))
    return {"organization": f.organization()}


# --- members and accounts --------------------------------------------------------------------

@kind("member.invited", _l("Invitation sent"),
      _l("%(actor)s invited %(email)s to join %(organization)s as %(role)s"),
      example={"email": "nour@example.org", "role": "counter"})
def _member_invited(f: Facts):
    return {"email": f.text("email"), "organization": f.organization(),
            "role": f.label("role", ROLES)}


@kind("member.joined", _l("Member joined"),
      _l("%(actor)s joined %(organization)s as %(role)s"),
      example={"email": "nour@example.org", "role": "counter", "invitation_id": 4})
def _member_joined(f: Facts):
    return {"organization": f.organization(), "role": f.label("role", ROLES)}


@kind("member.invitation_revoked", _l("Invitation withdrawn"),
      _l("At %(organization)s, %(actor)s withdrew the invitation sent to %(email)s"),
      example={"email": "nour@example.org"})
def _member_invitation_revoked(f: Facts):
    return {"organization": f.organization(), "email": f.text("email")}


@kind("member.role_changed", _l("Role changed"),
      _l("At %(organization)s, %(actor)s changed the role given to %(member)s: "
         "%(old_role)s → %(new_role)s"),
      example={"email": "nour@example.org", "old_role": "counter", "new_role": "manager"})
def _member_role_changed(f: Facts):
    return {"organization": f.organization(), "member": f.text("email"),
            "old_role": f.label("old_role", ROLES), "new_role": f.label("new_role", ROLES)}


@kind("member.removed", _l("Member removed"),
      _l("At %(organization)s, %(actor)s removed %(member)s from the team (%(role)s)"),
      example={"email": "nour@example.org", "role": "counter"})
def _member_removed(f: Facts):
    return {"organization": f.organization(), "member": f.text("email"),
            "role": f.label("role", ROLES)}


@kind("account.password_reset", _l("Password reset"),
      _l("%(actor)s reset their password with the link sent by email"), example={})
def _account_password_reset(f: Facts):
    return {}


@kind("account.password_changed", _l("Password changed"),
      _l("%(actor)s changed their password"), example={})
def _account_password_changed(f: Facts):
    return {}


@kind("account.erased", _l("Account erased"),
      _l("An account was erased at its holder's request (%(orders)s orders kept, anonymised)"),
      example={"orders": 2})
def _account_erased(f: Facts):
    return {"orders": f.number("orders")}


# --- products and stock ----------------------------------------------------------------------

@kind("product.created", _l("Product added"),
      _l("At %(organization)s, %(actor)s added the product %(product)s at %(price)s"),
      example={"title": "Lampe de bureau", "price_cents": 1500, "stock": 3})
def _product_created(f: Facts):
    return {"organization": f.organization(), "product": f.product(),
            "price": f.money("price_cents")}


def _product_changes(f: Facts) -> str | None:
    changes = []
    for key, labelled in (("title", _l("title “%(old)s” → “%(new)s”")),
                          ("price_cents", _l("price %(old)s → %(new)s")),
                          ("vat_rate_bp", _l("VAT rate %(old)s → %(new)s"))):
        pair = f.data.get(key)
        if not (isinstance(pair, list) and len(pair) == 2):
            continue
        old, new = pair
        if key == "price_cents":
            old, new = (f.money_of(value) for value in pair)
        elif key == "vat_rate_bp":
            old, new = f.percent(old), f.percent(new)
        changes.append(str(labelled) % {"old": old, "new": new})
    if "category_id" in f.data:
        changes.append(str(_l("category")))
    perishable = f.data.get("is_perishable")
    if isinstance(perishable, list) and len(perishable) == 2:
        changes.append(str(_l("perishable")) if perishable[1] else str(_l("not perishable")))
    if "condition" in f.data:
        changes.append(str(_l("condition")))
    if "low_stock_threshold" in f.data:
        changes.append(str(_l("low-stock alert")))
    return f.listing(changes)


@kind("product.updated", _l("Product changed"),
      _l("At %(organization)s, %(actor)s changed the product %(product)s: %(changes)s"),
      example={"title": ["Lampe", "Lampe de bureau"], "price_cents": [1500, 1200],
               "vat_rate_bp": [2000, 550], "category_id": [3, 4],
               "is_perishable": [False, True]},
      unknown=_l("At %(organization)s, %(actor)s changed the product %(product)s"))
def _product_updated(f: Facts):
    changes = _product_changes(f)
    if changes is None:
        f.use("unknown")
    title = f.data.get("title")
    product = f.product()
    if isinstance(title, list) and len(title) == 2:
        product = type(product)(product.kind, product.key, str(title[1]))
    return {"organization": f.organization(), "product": product, "changes": changes}


@kind("product.archived", _l("Product archived"),
      _l("At %(organization)s, %(actor)s archived the product %(product)s"), example={})
def _product_archived(f: Facts):
    return {"organization": f.organization(), "product": f.product()}


@kind("product.restored", _l("Product back on sale"),
      _l("At %(organization)s, %(actor)s put the product %(product)s back on sale"), example={})
def _product_restored(f: Facts):
    return {"organization": f.organization(), "product": f.product()}


@kind("product.published", _l("Draft published"),
      _l("At %(organization)s, %(actor)s put the draft %(product)s on sale"), example={})
def _product_published(f: Facts):
    return {"organization": f.organization(), "product": f.product()}


@kind("product.photo_added", _l("Photo added"),
      _l("At %(organization)s, %(actor)s added a photo to the product %(product)s"), example={})
def _product_photo_added(f: Facts):
    return {"organization": f.organization(), "product": f.product()}


@kind("product.photo_removed", _l("Photo removed"),
      _l("At %(organization)s, %(actor)s removed a photo of the product %(product)s"),
      example={})
def _product_photo_removed(f: Facts):
    return {"organization": f.organization(), "product": f.product()}


@kind("stock.adjusted", _l("Stock changed"),
      _l("At %(organization)s, %(actor)s changed the stock of %(product)s by %(delta)s "
         "(%(stock)s left)"),
      example={"delta": -2, "stock_after": 5, "note": "Deux cassés au déballage"})
def _stock_adjusted(f: Facts):
    f.detail(_l("Note: %(note)s"), note=f.text("note"))
    return {"organization": f.organization(), "product": f.product(), "delta": f.signed("delta"),
            "stock": f.number("stock_after")}


@kind("stock.imported", _l("Products imported"),
      _l("At %(organization)s, %(actor)s imported a spreadsheet of products: %(created)s "
         "created, %(updated)s changed, %(photos)s photos added"),
      example={"created": 12, "updated": 3, "photos": 5})
def _stock_imported(f: Facts):
    return {"organization": f.organization(), "created": f.number("created"),
            "updated": f.number("updated"), "photos": f.number("photos")}


@kind("stock.take_started", _l("Stock-take started"),
      _l("At %(organization)s, %(actor)s started a stock-take"), example={})
def _stock_take_started(f: Facts):
    return {"organization": f.organization()}


@kind("stock.take_confirmed", _l("Stock-take confirmed"),
      _l("At %(organization)s, %(actor)s confirmed a stock-take: %(lines)s products counted, "
         "%(movements)s stocks changed"),
      example={"lines": 40, "movements": 6})
def _stock_take_confirmed(f: Facts):
    return {"organization": f.organization(), "lines": f.number("lines"),
            "movements": f.number("movements")}


@kind("stock.take_cancelled", _l("Stock-take abandoned"),
      _l("At %(organization)s, %(actor)s abandoned a stock-take"), example={})
def _stock_take_cancelled(f: Facts):
    return {"organization": f.organization()}


@kind("stock.counted", _l("Stock counted"),
      _l("At %(organization)s, %(actor)s counted the stock of %(product)s: %(stock)s"),
      example={"stock": 12})
def _stock_counted(f: Facts):
    return {"organization": f.organization(), "product": f.product(),
            "stock": f.number("stock")}


@kind("stock.unlimited", _l("Stock made unlimited"),
      _l("At %(organization)s, %(actor)s made the stock of %(product)s unlimited"),
      example={"stock": None})
def _stock_unlimited(f: Facts):
    return {"organization": f.organization(), "product": f.product()}


# --- pickup ----------------------------------------------------------------------------------

@kind("pickup.location_created", _l("Pickup location added"),
      _l("At %(organization)s, %(actor)s added the pickup location %(location)s"),
      example={"name": "Boutique"})
def _pickup_location_created(f: Facts):
    return {"organization": f.organization(), "location": f.text("name")}


@kind("pickup.location_updated", _l("Pickup location changed"),
      _l("At %(organization)s, %(actor)s changed the pickup location %(location)s"),
      example={"name": "Boutique"})
def _pickup_location_updated(f: Facts):
    return {"organization": f.organization(), "location": f.text("name")}


@kind("pickup.template_saved", _l("Weekly slot saved"),
      _l("At %(organization)s, %(actor)s saved the weekly slot of %(weekday)s, "
         "%(start)s–%(end)s, %(capacity)s"),
      example={"weekday": 2, "start": "14:00:00", "end": "18:00:00", "capacity": 8})
def _pickup_template_saved(f: Facts):
    capacity = f.number("capacity")
    return {"organization": f.organization(), "weekday": f.weekday("weekday"),
            "start": f.clock("start"), "end": f.clock("end"),
            "capacity": None if capacity is None else ngettext(
                "%(num)d order at most", "%(num)d orders at most", capacity)}


@kind("pickup.slot_added", _l("Pickup slot added"),
      _l("At %(organization)s, %(actor)s added a pickup slot on %(when)s"),
      example={"starts_at": "2026-12-09T13:00:00+00:00"},
      undated=_l("At %(organization)s, %(actor)s added a pickup slot"))
def _pickup_slot_added(f: Facts):
    when = f.moment("starts_at")
    if when is None:
        f.use("undated")
    return {"organization": f.organization(), "when": when}


@kind("pickup.slot_closed", _l("Pickup slot closed"),
      _l("At %(organization)s, %(actor)s closed the pickup slot of %(when)s (%(booked)s)"),
      example={"reason": "Jour férié", "booked": 2, "starts_at": "2026-12-09T13:00:00+00:00"},
      undated=_l("At %(organization)s, %(actor)s closed a pickup slot (%(booked)s)"))
def _pickup_slot_closed(f: Facts):
    when = f.moment("starts_at")
    if when is None:
        f.use("undated")
    booked = f.number("booked")
    f.detail(REASON, reason=f.text("reason"))
    return {"organization": f.organization(), "when": when,
            "booked": None if booked is None else ngettext(
                "%(num)d order booked", "%(num)d orders booked", booked) if booked else _l(
                "no order booked")}


@kind("pickup.slot_reopened", _l("Pickup slot reopened"),
      _l("At %(organization)s, %(actor)s reopened the pickup slot of %(when)s"),
      example={"starts_at": "2026-12-09T13:00:00+00:00"},
      undated=_l("At %(organization)s, %(actor)s reopened a pickup slot"))
def _pickup_slot_reopened(f: Facts):
    when = f.moment("starts_at")
    if when is None:
        f.use("undated")
    return {"organization": f.organization(), "when": when}


# --- orders ----------------------------------------------------------------------------------

@kind("order.placed", _l("Order placed"),
      _l("%(actor)s placed order %(order)s (%(amount)s)"),
      example={"reference": "ESS-2026-000042", "total_cents": 4550},
      guest=_l("A shopper without an account placed order %(order)s (%(amount)s)"),
      seller_view=_l("%(actor)s placed order %(order)s"),
      seller_view_guest=_l("A shopper without an account placed order %(order)s"))
def _order_placed(f: Facts):
    if f.seller_view:
        f.use("seller_view" if f.has_actor else "seller_view_guest")
    elif not f.has_actor:
        f.use("guest")
    return {"order": f.order(), "amount": f.money("total_cents")}


@kind("order.paid", _l("Order paid"),
      _l("Payment of %(amount)s received for order %(order)s"),
      example={"reference": "ESS-2026-000042", "amount_paid_cents": 4550},
      seller_view=_l("Payment received for order %(order)s"))
def _order_paid(f: Facts):
    if f.seller_view:
        f.use("seller_view")
    return {"order": f.order(), "amount": f.money("amount_paid_cents")}


@kind("order.paid_too_late", _l("Paid after its hold ended"),
      _l("Order %(order)s was paid (%(amount)s) after its hold ended, with the goods gone: "
         "the payment is refunded"),
      example={"reference": "ESS-2026-000042", "amount_paid_cents": 4550},
      seller_view=_l("Order %(order)s was paid after its hold ended, with the goods gone: "
                     "the payment is refunded"))
def _order_paid_too_late(f: Facts):
    if f.seller_view:
        f.use("seller_view")
    return {"order": f.order(), "amount": f.money("amount_paid_cents")}


@kind("order.cancelled", _l("Order cancelled before payment"),
      _l("%(actor)s cancelled order %(order)s before paying"),
      example={"reference": "ESS-2026-000042", "reason": "cancelled by the shopper"},
      replaced=_l("%(actor)s checked out again: the unpaid order %(order)s was cancelled"),
      nobody=_l("Order %(order)s was cancelled before payment"))
def _order_cancelled(f: Facts):
    if not f.has_actor:
        f.use("nobody")
    elif f.text("reason") == "replaced by a new checkout":
        f.use("replaced")
    return {"order": f.order()}


@kind("order.expired", _l("Order not paid in time"),
      _l("Order %(order)s was not paid in time: what it held is free again"),
      example={"reference": "ESS-2026-000042", "reason": "hold_ended"},
      declined=_l("The payment of order %(order)s was declined: what it held is free again"),
      abandoned=_l("The payment page of order %(order)s closed without a payment: what it "
                   "held is free again"))
def _order_expired(f: Facts):
    reason = f.text("reason")
    if reason == "payment_declined":
        f.use("declined")
    elif reason == "payment_not_completed":
        f.use("abandoned")
    return {"order": f.order()}


@kind("order.refunded", _l("Refund"),
      _l("At %(organization)s, %(actor)s refunded %(amount)s on order %(order)s"),
      example={"reference": "ESS-2026-000042", "refund_id": 3, "amount_cents": 1500,
               "reason": "Arrivée cassée", "part_id": 5, "lines": {"8": 1},
               "gateway_refund_id": "re_123"},
      whole_order=_l("%(actor)s refunded %(amount)s on order %(order)s"),
      late_payment=_l("Refund of %(amount)s on order %(order)s: it was paid after its hold "
                      "ended, with the goods gone"),
      at_gateway=_l("Refund of %(amount)s on order %(order)s, made from the payment "
                    "provider's dashboard"),
      withdrawal=_l("At %(organization)s, refund of %(amount)s on order %(order)s after the "
                    "shopper's withdrawal"))
def _order_refunded(f: Facts):
    reason = f.text("reason")
    if reason == "late_payment":
        f.use("late_payment")
    elif reason == "refunded_at_gateway":
        f.use("at_gateway")
    elif reason == "withdrawal" and f.has_organization:
        f.use("withdrawal")
    elif not f.has_organization:
        f.use("whole_order")
    _reason(f)
    return {"organization": f.organization(), "amount": f.money("amount_cents"),
            "order": f.order()}


@kind("order.refund_failed", _l("Refund refused"),
      _l("Refund of %(amount)s on order %(order)s refused by the payment provider"),
      example={"reference": "ESS-2026-000042", "refund_id": 3, "amount_cents": 1500,
               "error": "charge_already_refunded"})
def _order_refund_failed(f: Facts):
    f.detail(ERROR, error=f.text("error"))
    return {"amount": f.money("amount_cents"), "order": f.order()}


@kind("order.withdrawal", _l("Withdrawal"),
      _l("%(actor)s withdrew from order %(order)s at %(organization)s: %(amount)s refunded"),
      example={"reference": "ESS-2026-000042", "part_id": 5, "lines": {"8": 1},
               "amount_cents": 1500, "reason": "Ne convient pas"},
      guest=_l("The shopper withdrew from order %(order)s at %(organization)s: %(amount)s "
               "refunded"))
def _order_withdrawal(f: Facts):
    if not f.has_actor:
        f.use("guest")
    _reason(f)
    return {"order": f.order(), "organization": f.organization(),
            "amount": f.money("amount_cents")}


@kind("order.withdrawal_failed", _l("Withdrawal refund refused"),
      _l("The refund of a withdrawal from order %(order)s at %(organization)s was refused by "
         "the payment provider"),
      example={"reference": "ESS-2026-000042", "part_id": 5, "error": "card_declined"})
def _order_withdrawal_failed(f: Facts):
    f.detail(ERROR, error=f.text("error"))
    return {"order": f.order(), "organization": f.organization()}


# --- the counter -----------------------------------------------------------------------------

def _handed_over(f: Facts) -> str | None:
    lines = f.data.get("lines")
    if not isinstance(lines, list):
        return None
    return f.listing(
        str(_l("%(quantity)s × %(title)s")) % {"quantity": line.get("quantity"),
                                                "title": line.get("title")}
        for line in lines if isinstance(line, dict) and line.get("title"))


@kind("voucher.collected", _l("Goods handed over"),
      _l("At %(organization)s, %(actor)s handed over order %(order)s: %(lines)s"),
      example={"reference": "ESS-2026-000042", "voucher": "V-123",
               "lines": [{"title": "Lampe de bureau", "quantity": 2}], "complete": True},
      partly=_l("At %(organization)s, %(actor)s handed over part of order %(order)s: "
                "%(lines)s"),
      no_lines=_l("At %(organization)s, %(actor)s handed over order %(order)s"))
def _voucher_collected(f: Facts):
    lines = _handed_over(f)
    if lines is None:
        f.use("no_lines")
    elif f.data.get("complete") is False:
        f.use("partly")
    return {"organization": f.organization(), "order": f.order(), "lines": lines}


@kind("voucher.no_show", _l("Not collected"),
      _l("At %(organization)s, %(actor)s marked order %(order)s as not collected"),
      example={"reference": "ESS-2026-000042", "slot_id": 9, "restocked": True},
      restocked=_l("At %(organization)s, %(actor)s marked order %(order)s as not collected: "
                   "its items are back in stock"))
def _voucher_no_show(f: Facts):
    if f.data.get("restocked") is True:
        f.use("restocked")
    return {"organization": f.organization(), "order": f.order()}


# --- gift cards ------------------------------------------------------------------------------

CARD = {"amount_cents": 1250, "balance_after_cents": 3750, "last4": "8WHN"}


def _card_balance(f: Facts) -> None:
    f.detail(BALANCE_AFTER, balance=f.money("balance_after_cents"))


@kind("giftcard.issued", _l("Card issued"),
      _l("Gift card %(card)s worth %(amount)s issued"),
      example={"amount_cents": 5000, "last4": "8WHN", "reference": "ESS-2026-000042"},
      bought=_l("Gift card %(card)s worth %(amount)s issued, bought with order %(order)s"),
      by_someone=_l("%(actor)s issued gift card %(card)s worth %(amount)s"))
def _giftcard_issued(f: Facts):
    if f.order() is not None:
        f.use("bought")
    elif f.has_actor:
        f.use("by_someone")
    return {"card": f.card(), "amount": f.money("amount_cents"), "order": f.order()}


@kind("giftcard.redeemed", _l("Card cashed at a counter"),
      _l("%(actor)s cashed %(amount)s on card %(card)s at %(organization)s"),
      example=CARD)
def _giftcard_redeemed(f: Facts):
    _card_balance(f)
    return {"amount": f.money("amount_cents"), "card": f.card(),
            "organization": f.organization()}


@kind("giftcard.paid_order", _l("Card spent online"),
      _l("%(actor)s paid %(amount)s of order %(order)s with card %(card)s"),
      example={**CARD, "reference": "ESS-2026-000042"},
      guest=_l("Card %(card)s paid %(amount)s of order %(order)s"))
def _giftcard_paid_order(f: Facts):
    if not f.has_actor:
        f.use("guest")
    _card_balance(f)
    return {"card": f.card(), "amount": f.money("amount_cents"), "order": f.order()}


@kind("giftcard.refunded", _l("Money back on a card"),
      _l("%(amount)s of order %(order)s went back on card %(card)s"),
      example={**CARD, "reference": "ESS-2026-000042"},
      no_order=_l("%(amount)s went back on card %(card)s"))
def _giftcard_refunded(f: Facts):
    if f.order() is None:
        f.use("no_order")
    _card_balance(f)
    return {"card": f.card(), "amount": f.money("amount_cents"), "order": f.order()}


@kind("giftcard.donated", _l("Card given to an association"),
      _l("%(actor)s gave %(amount)s from card %(card)s to %(organization)s"),
      example={"amount_cents": 2500, "balance_after_cents": 0, "last4": "8WHN"},
      holder=_l("The holder of card %(card)s gave %(amount)s to %(organization)s"))
def _giftcard_donated(f: Facts):
    if not f.has_actor:
        f.use("holder")
    _card_balance(f)
    return {"amount": f.money("amount_cents"), "card": f.card(),
            "organization": f.organization()}


@kind("giftcard.adjusted", _l("Balance adjusted"),
      _l("%(actor)s adjusted the balance of card %(card)s by %(delta)s"),
      example={"delta_cents": -500, "balance_after_cents": 2500, "last4": "8WHN",
               "reason": "Erreur de caisse"})
def _giftcard_adjusted(f: Facts):
    f.detail(REASON, reason=f.text("reason"))
    _card_balance(f)
    return {"card": f.card(), "delta": f.money("delta_cents", sign=True)}


@kind("giftcard.blocked", _l("Card blocked"),
      _l("%(actor)s blocked card %(card)s"),
      example={"reason": "Perdue", "last4": "8WHN"})
def _giftcard_blocked(f: Facts):
    f.detail(REASON, reason=f.text("reason"))
    return {"card": f.card()}


@kind("giftcard.balance_shared", _l("Balance shared with the works council"),
      _l("The holder of card %(card)s let the works council that offered it see its balance"),
      example={"last4": "8WHN"})
def _giftcard_balance_shared(f: Facts):
    return {"card": f.card()}


@kind("giftcard.balance_unshared", _l("Balance no longer shared"),
      _l("The holder of card %(card)s stopped sharing its balance with the works council"),
      example={"last4": "8WHN"})
def _giftcard_balance_unshared(f: Facts):
    return {"card": f.card()}


@kind("giftcard.unblocked", _l("Card unblocked"),
      _l("%(actor)s unblocked card %(card)s: it can be spent again"),
      example={"last4": "8WHN"})
def _giftcard_unblocked(f: Facts):
    return {"card": f.card()}


@kind("giftcard.expired", _l("Card expired"),
      _l("Card %(card)s expired with %(amount)s left, kept by the platform"),
      example={"amount_cents": 1200, "last4": "8WHN"},
      given=_l("Card %(card)s expired: the %(amount)s left were given to %(organization)s"))
def _giftcard_expired(f: Facts):
    if f.has_organization:
        f.use("given")
    return {"card": f.card(), "amount": f.money("amount_cents"),
            "organization": f.organization()}


@kind("giftcard.issued_named", _l("Named cards issued"),
      _l("%(count)s issued for %(organization)s, %(total)s in all"),
      example={"count": 500, "total_cents": 2500000, "campaign": "Noël 2026",
               "expires_at": "2027-12-17T23:00:00+00:00"},
      by_someone=_l("%(actor)s issued %(count)s for %(organization)s, %(total)s in all"))
def _giftcard_issued_named(f: Facts):
    if f.has_actor:
        f.use("by_someone")
    count = f.number("count")
    f.detail(_l("Campaign: %(name)s"), name=f.text("campaign"))
    f.detail(_l("Valid until: %(moment)s"), moment=f.moment("expires_at"))
    return {"organization": f.organization(), "total": f.money("total_cents"),
            "count": None if count is None else ngettext(
                "%(num)d named gift card", "%(num)d named gift cards", count)}


# --- accounting ------------------------------------------------------------------------------

@kind("accounting.settings_changed", _l("Accounting settings changed"),
      _l("The accounts of %(organization)s's FEC file were changed"),
      example={"sales_account": "707", "platform_account": "467", "bank_account": "512",
               "counter_vat_rate_bp": 2000, "vat_number": "FR40123456824"})
def _accounting_settings_changed(f: Facts):
    f.detail(_l("Sales account: %(account)s"), account=f.text("sales_account"))
    f.detail(_l("Platform account: %(account)s"), account=f.text("platform_account"))
    f.detail(_l("Bank account: %(account)s"), account=f.text("bank_account"))
    return {"organization": f.organization()}


# --- payouts ---------------------------------------------------------------------------------

@kind("payout.started", _l("Payout started"),
      _l("Payout of %(amount)s started for %(organization)s"),
      example={"payout_id": 4, "amount_cents": 3800})
def _payout_started(f: Facts):
    return {"amount": f.money("amount_cents"), "organization": f.organization()}


@kind("payout.paid", _l("Payout made"),
      _l("%(amount)s paid out to %(organization)s"),
      example={"transfer_id": "tr_123", "amount_cents": 3800})
def _payout_paid(f: Facts):
    f.detail(_l("Transfer reference: %(transfer)s"), transfer=f.text("transfer_id"))
    return {"amount": f.money("amount_cents"), "organization": f.organization()}


@kind("payout.failed", _l("Payout failed"),
      _l("A payout to %(organization)s failed: the amount is owed to it again"),
      example={"detail": "account_closed"})
def _payout_failed(f: Facts):
    f.detail(ERROR, error=f.text("detail"))
    return {"organization": f.organization()}


@kind("payouts.account_created", _l("Payout account opened"),
      _l("A payout account was opened for %(organization)s at the payment provider"),
      example={"account": "acct_123"})
def _payouts_account_created(f: Facts):
    return {"organization": f.organization()}


@kind("payouts.account_updated", _l("Payouts enabled or suspended"),
      _l("The payment provider enabled payouts to %(organization)s"),
      example={"payouts_enabled": False},
      suspended=_l("The payment provider suspended payouts to %(organization)s"))
def _payouts_account_updated(f: Facts):
    if f.data.get("payouts_enabled") is False:
        f.use("suspended")
    return {"organization": f.organization()}


@kind("invoicing.issued", _l("Document issued"),
      _l("Invoice %(number)s issued to %(customer)s for %(amount)s"),
      example={"number": "F-2026-00001", "kind": "invoice", "amount_cents": 250000,
               "customer": "CSE Acme"},
      quote=_l("Quote %(number)s issued to %(customer)s for %(amount)s"),
      proforma=_l("Pro-forma %(number)s issued to %(customer)s for %(amount)s"),
      credit_note=_l("Credit note %(number)s issued to %(customer)s for %(amount)s"))
def _invoicing_issued(f: Facts):
    if f.text("kind") in ("quote", "proforma", "credit_note"):
        f.use(f.text("kind"))
    return {"number": f.text("number"), "customer": f.text("customer"),
            "amount": f.money("amount_cents")}


@kind("invoicing.transfer_recorded", _l("Transfer received"),
      _l("Transfer of %(amount)s recorded against pro-forma %(number)s: paid"),
      example={"number": "PF-2026-00001", "amount_cents": 250000, "status": "paid"},
      discrepancy=_l("Transfer of %(amount)s recorded against pro-forma %(number)s: the amount "
                     "does not match what is due"))
def _invoicing_transfer_recorded(f: Facts):
    if f.text("status") != "paid":
        f.use("discrepancy")
    return {"number": f.text("number"), "amount": f.money("amount_cents")}


@kind("invoicing.refund_sent", _l("Excess sent back"),
      _l("%(amount)s sent back to the customer of pro-forma %(number)s"),
      example={"number": "PF-2026-00001", "amount_cents": 1000, "status": "paid"})
def _invoicing_refund_sent(f: Facts):
    return {"number": f.text("number"), "amount": f.money("amount_cents")}


# --- works-council campaigns -----------------------------------------------------------------

CAMPAIGN_STATUSES = {
    "draft": _l("draft"), "beneficiaries_imported": _l("beneficiaries imported"),
    "quoted": _l("quote sent"), "paid": _l("paid"), "issued": _l("cards issued"),
    "cancelled": _l("cancelled"),
}


@kind("campaign.created", _l("Campaign created"),
      _l("At %(organization)s, %(actor)s created the campaign “%(name)s” (%(year)s)"),
      example={"name": "Noël 2026", "event": "christmas", "year": 2026})
def _campaign_created(f: Facts):
    return {"organization": f.organization(), "name": f.text("name"), "year": f.number("year")}


@kind("campaign.updated", _l("Campaign changed"),
      _l("At %(organization)s, %(actor)s changed the campaign “%(name)s”"),
      example={"name": "Noël 2026"})
def _campaign_updated(f: Facts):
    return {"organization": f.organization(), "name": f.text("name")}


@kind("campaign.beneficiaries_imported", _l("Beneficiaries imported"),
      _l("At %(organization)s, %(actor)s imported the beneficiaries of the campaign “%(name)s”: "
         "%(count)s, %(total)s in all"),
      example={"name": "Noël 2026", "count": 30, "total_cents": 150000,
               "filename": "salaries.xlsx"})
def _campaign_beneficiaries_imported(f: Facts):
    count = f.number("count")
    f.detail(_l("File: %(filename)s"), filename=f.text("filename"))
    return {"organization": f.organization(), "name": f.text("name"),
            "count": None if count is None else ngettext(
                "%(num)d beneficiary", "%(num)d beneficiaries", count),
            "total": f.money("total_cents")}


@kind("campaign.moved", _l("Campaign moved on"),
      _l("The campaign “%(name)s” of %(organization)s went from “%(before)s” to “%(after)s” "
         "(%(actor)s)"),
      example={"name": "Noël 2026", "from": "beneficiaries_imported", "to": "quoted"})
def _campaign_moved(f: Facts):
    return {"organization": f.organization(), "name": f.text("name"),
            "before": f.label("from", CAMPAIGN_STATUSES), "after": f.label("to", CAMPAIGN_STATUSES)}


@kind("campaign.cancelled", _l("Campaign cancelled"),
      _l("At %(organization)s, %(actor)s cancelled the campaign “%(name)s”"),
      example={"name": "Noël 2026", "from": "draft", "to": "cancelled", "reason": "Doublon"})
def _campaign_cancelled(f: Facts):
    _reason(f)
    return {"organization": f.organization(), "name": f.text("name")}


@kind("campaign.risk_acknowledged", _l("URSSAF risk accepted"),
      _l("At %(organization)s, %(actor)s went ahead knowingly with the campaign “%(name)s”: "
         "%(amount)s of vouchers may not be exempt from social contributions"),
      example={"name": "Noël 2026", "at_risk_cents": 45000, "lines": 3, "year": 2026})
def _campaign_risk_acknowledged(f: Facts):
    lines = f.number("lines")
    if lines is not None:
        f.detail(_l("Beneficiaries concerned: %(count)s"), count=lines)
    return {"organization": f.organization(), "name": f.text("name"),
            "amount": f.money("at_risk_cents")}


CAMPAIGN_PAYMENT_METHODS = {"card": _l("by card"),
                            "stripe_transfer": _l("by bank transfer through Stripe")}


@kind("campaign.payment_started", _l("Campaign payment started"),
      _l("At %(organization)s, %(actor)s started paying the campaign “%(name)s” %(method)s: "
         "order %(reference)s, %(amount)s"),
      example={"name": "Noël 2026", "method": "card", "reference": "ESS-2026-000042",
               "amount_cents": 151200, "proforma": "PF-2026-00003"})
def _campaign_payment_started(f: Facts):
    f.detail(_l("Pro-forma: %(number)s"), number=f.text("proforma"))
    return {"organization": f.organization(), "name": f.text("name"),
            "method": f.label("method", CAMPAIGN_PAYMENT_METHODS),
            "reference": f.text("reference"), "amount": f.money("amount_cents")}


@kind("campaign.paid_online", _l("Campaign paid online"),
      _l("The campaign “%(name)s” of %(organization)s was paid %(method)s: %(amount)s "
         "(order %(reference)s)"),
      example={"name": "Noël 2026", "method": "stripe_transfer", "reference": "ESS-2026-000042",
               "amount_cents": 151200, "proforma": "PF-2026-00003"})
def _campaign_paid_online(f: Facts):
    f.detail(_l("Pro-forma: %(number)s"), number=f.text("proforma"))
    return {"organization": f.organization(), "name": f.text("name"),
            "method": f.label("method", CAMPAIGN_PAYMENT_METHODS),
            "reference": f.text("reference"), "amount": f.money("amount_cents")}
@kind("campaign.sending_queued", _l("Cards queued for sending"),
      _l("The cards of the campaign “%(name)s” of %(organization)s were queued for sending by "
         "email: %(count)s (%(actor)s)"),
      example={"name": "Noël 2026", "count": 30})
def _campaign_sending_queued(f: Facts):
    count = f.number("count")
    return {"organization": f.organization(), "name": f.text("name"),
            "count": None if count is None else ngettext("%(num)d card", "%(num)d cards", count)}


@kind("campaign.card_resent", _l("Card sent again"),
      _l("At %(organization)s, %(actor)s sent again the card of line %(line)s to %(to)s"),
      example={"line": 12, "new_code": True, "last4": "8WHN", "from": "lea@exmaple.org",
               "to": "lea@example.org"})
def _campaign_card_resent(f: Facts):
    if f.data.get("new_code"):
        f.detail(_l("New address (before: %(before)s): the card got a new code, ending in "
                    "%(last4)s; the old code no longer works"),
                 before=f.text("from"), last4=f.text("last4"))
    return {"organization": f.organization(), "line": f.number("line"), "to": f.text("to")}


@kind("campaign.reminders_off", _l("Reminders stopped"),
      _l("An employee of the campaign “%(name)s” of %(organization)s (line %(line)s) asked for no "
         "more reminders about their card"),
      example={"name": "Noël 2026", "line": 12})
def _campaign_reminders_off(f: Facts):
    return {"organization": f.organization(), "name": f.text("name"), "line": f.number("line")}


@kind("campaign.closed", _l("Campaign closed"),
      _l("The cards of the campaign “%(name)s” of %(organization)s have all expired: %(spent)s "
         "spent, %(left)s left at expiry"),
      example={"name": "Noël 2026", "spent_cents": 120000, "left_cents": 3000})
def _campaign_closed(f: Facts):
    return {"organization": f.organization(), "name": f.text("name"),
            "spent": f.money("spent_cents"), "left": f.money("left_cents")}


__all__ = ["GROUPS", "KINDS"]


# --- messages to customers -------------------------------------------------------------------

@kind("customers.message_sent", _l("Message to customers"),
      _l("%(actor)s wrote “%(subject)s” to the customers who agreed to hear from "
         "%(organization)s (%(count)s addresses)"),
      example={"subject": "Portes ouvertes samedi", "count": 42})
def _customers_message_sent(f: Facts):
    return {"organization": f.organization(), "subject": f.text("subject"),
            "count": f.number("count")}
