"""What the accounting pages and files read: a seller's ledger entries of a period and what
explains them (the VAT rates of the goods sold, the order each refund was for), and the
commission invoices issued."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa

from marketplace.accounting.models import CommissionInvoice
from marketplace.db import db
from marketplace.giftcards.models import CardTransaction, GiftCard
from marketplace.invoicing.models import Document
from marketplace.ledger.models import EntryKind, LedgerEntry, Payout
from marketplace.orders.models import Order, OrderLine, OrderPart
from marketplace.organizations.models import Organization
from marketplace.payments.models import Refund


def ledger_entries(organization_id: int, start: datetime, end: datetime) -> list[LedgerEntry]:
    """The seller's entries from `start` (included) to `end` (excluded), in the order they
    were written: the FEC's chronological order, the same every time."""
    return list(db.session.scalars(
        sa.select(LedgerEntry)
        .where(LedgerEntry.organization_id == organization_id,
               LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .order_by(LedgerEntry.created_at, LedgerEntry.id)))


def _numbers(entries, kind: EntryKind) -> list[int]:
    ids = []
    for entry in entries:
        _prefix, _sep, number = entry.source.partition(":")
        if entry.kind == kind and number.isdigit():
            ids.append(int(number))
    return ids


def sale_rates(part_ids: list[int]) -> dict[int, dict[int, int]]:
    """For each order part: its amount including VAT per VAT rate (basis points)."""
    result: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    if part_ids:
        rows = db.session.execute(
            sa.select(OrderLine.part_id, OrderLine.vat_rate_bp,
                      sa.func.sum(OrderLine.unit_price_cents * OrderLine.quantity))
            .where(OrderLine.part_id.in_(part_ids))
            .group_by(OrderLine.part_id, OrderLine.vat_rate_bp))
        for part_id, rate, amount in rows:
            result[part_id][rate] += int(amount)
    return result


def refund_parts(refund_ids: list[int]) -> dict[int, int]:
    """The order part each refund gave money back for."""
    if not refund_ids:
        return {}
    return {refund_id: part_id for refund_id, part_id in db.session.execute(
        sa.select(Refund.id, Refund.part_id).where(Refund.id.in_(refund_ids)))
        if part_id is not None}


def card_codes(transaction_ids: list[int]) -> dict[int, str]:
    if not transaction_ids:
        return {}
    return dict(db.session.execute(
        sa.select(CardTransaction.id, GiftCard.code)
        .join(GiftCard, GiftCard.id == CardTransaction.card_id)
        .where(CardTransaction.id.in_(transaction_ids))).all())


def transfers(payout_ids: list[int]) -> dict[int, str | None]:
    if not payout_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Payout.id, Payout.transfer_id).where(Payout.id.in_(payout_ids))).all())


def explanations(entries: list[LedgerEntry]) -> dict:
    """Everything the journal needs besides the entries, read in a few queries."""
    sale_parts = _numbers(entries, EntryKind.SALE)
    refunds = refund_parts(_numbers(entries, EntryKind.REFUND))
    cards = _numbers(entries, EntryKind.CARD) + _numbers(entries, EntryKind.DONATION)
    return {
        "rates": sale_rates(sorted(set(sale_parts) | set(refunds.values()))),
        "refund_parts": refunds,
        "card_codes": card_codes(cards),
        "transfers": transfers(sorted({e.payout_id for e in entries if e.payout_id})),
    }


def commission_by_seller(start: datetime, end: datetime) -> list[tuple[int, int, int]]:
    """(organization id, commission kept on sales and refunds, on cards spent at the counter)
    of every seller with ledger entries carrying commission between `start` and `end`."""
    rows = db.session.execute(
        sa.select(LedgerEntry.organization_id,
                  sa.func.sum(sa.case((LedgerEntry.kind == EntryKind.CARD, 0),
                                      else_=LedgerEntry.commission_cents)),
                  sa.func.sum(sa.case((LedgerEntry.kind == EntryKind.CARD,
                                       LedgerEntry.commission_cents), else_=0)))
        .where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end,
               LedgerEntry.commission_cents != 0)
        .group_by(LedgerEntry.organization_id)
        .order_by(LedgerEntry.organization_id))
    return [(org_id, int(sales or 0), int(cards or 0)) for org_id, sales, cards in rows]


def commission_invoice(organization_id: int, year: int, month: int) -> CommissionInvoice | None:
    return db.session.scalar(sa.select(CommissionInvoice).where(
        CommissionInvoice.organization_id == organization_id,
        CommissionInvoice.year == year, CommissionInvoice.month == month))


def commission_invoices_of(organization_id: int) -> list[CommissionInvoice]:
    return list(db.session.scalars(
        sa.select(CommissionInvoice).where(CommissionInvoice.organization_id == organization_id)
        .join(Document, Document.id == CommissionInvoice.document_id)
        .order_by(Document.id.desc())))


def all_commission_invoices():
    """Every commission invoice, newest first, with its seller and document (a statement, for
    the admin page to paginate)."""
    return (sa.select(CommissionInvoice)
            .join(Document, Document.id == CommissionInvoice.document_id)
            .join(Organization, Organization.id == CommissionInvoice.organization_id)
            .options(sa.orm.contains_eager(CommissionInvoice.document),
                     sa.orm.contains_eager(CommissionInvoice.organization))
            .order_by(Document.id.desc()))


def order_references(part_ids: list[int]) -> dict[int, str]:
    if not part_ids:
        return {}
    return {part_id: reference or "" for part_id, reference in db.session.execute(
        sa.select(OrderPart.id, Order.reference).join(Order, Order.id == OrderPart.order_id)
        .where(OrderPart.id.in_(part_ids)))}
