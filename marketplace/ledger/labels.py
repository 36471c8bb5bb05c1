"""The words of the seller's money pages, PDF and CSV: what each ledger entry and payout is."""
from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from marketplace.ledger.models import EntryKind, PayoutStatus

KIND_LABELS = {
    EntryKind.SALE: _l("Sale"),
    EntryKind.CARD: _l("Gift card spent with you"),
    EntryKind.DONATION: _l("Gift card given to you"),
    EntryKind.REFUND: _l("Refund to a shopper"),
    EntryKind.PAYOUT: _l("Payout to your bank account"),
    EntryKind.PAYOUT_FAILED: _l("Payout failed: amount back"),
}
PAYOUT_STATUS_LABELS = {
    PayoutStatus.PENDING: _l("Being sent"),
    PayoutStatus.PAID: _l("Sent"),
    PayoutStatus.FAILED: _l("Failed"),
}


def kind_label(kind) -> str:
    return str(KIND_LABELS[EntryKind(kind)])


def payout_status_label(status) -> str:
    return str(PAYOUT_STATUS_LABELS[PayoutStatus(status)])
