"""A seller's period in double entry: one balanced accounting entry per ledger entry (a sale, a
gift card spent at its counter, a card given to it, a refund, a payout), in the order the
ledger wrote them, numbered 1, 2, 3... without a gap; and the period's summary (sales by VAT
rate, commission, cards, refunds, payouts) read from the very same entries.

Every amount is signed: positive on the debit side, negative on the credit side, so that an
entry balances when its amounts add up to zero (checked when it is built). The platform keeps
what it owes the seller on one account (467 by default): sales and cards spent are debited to
it, the commission kept and the payouts credited, so that its balance is the "What we owe you"
balance. The commission is booked with each operation (VAT included, split at the platform's
rate when the seller may deduct it); the monthly commission invoice is its supporting document.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app

from marketplace.accounting import queries
from marketplace.accounting.models import AccountingSettings
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.ledger.statement import Period
from marketplace.pickup.services import local_zone

# The FEC is a French legal file: its labels are French whatever the reader's language.
ACCOUNT_LABELS = {
    "sales_account": "Ventes de marchandises",
    "vat_collected_account": "TVA collectée",
    "commission_account": "Commissions de la plateforme",
    "vat_deductible_account": "TVA déductible sur services",
    "platform_account": "Plateforme de vente (à recevoir)",
    "gift_card_account": "Plateforme - cartes cadeaux à recevoir",
    "donation_account": "Dons manuels",
    "bank_account": "Banque",
}
JOURNALS = {
    "VT": "Ventes",
    "OD": "Opérations diverses",
    "BQ": "Banque",
}
JOURNAL_OF = {
    EntryKind.SALE: "VT", EntryKind.CARD: "VT", EntryKind.REFUND: "VT",
    EntryKind.DONATION: "OD", EntryKind.PAYOUT: "BQ", EntryKind.PAYOUT_FAILED: "BQ",
}


def vat_included(amount_cents: int, rate_bp: int) -> int:
    """The VAT inside an amount that includes it, rounded half up to the cent (signed)."""
    sign = -1 if amount_cents < 0 else 1
    return sign * ((abs(amount_cents) * rate_bp * 2 + 10000 + rate_bp) // (2 * (10000 + rate_bp)))


def share(amount_cents: int, weights: dict[int, int]) -> dict[int, int]:
    """`amount_cents` shared in proportion to `weights` (largest remainders), adding up exactly."""
    total = sum(weights.values())
    if not weights or total == 0:
        return {}
    sign, amount = (-1 if amount_cents < 0 else 1), abs(amount_cents)
    parts = {key: amount * weight // total for key, weight in weights.items()}
    rest = amount - sum(parts.values())
    by_remainder = sorted(weights, key=lambda key: (-(amount * weights[key] % total), key))
    for key in by_remainder[:rest]:
        parts[key] += 1
    return {key: sign * value for key, value in parts.items()}


@dataclass(frozen=True)
class Line:
    account_field: str  # which of the seller's accounts (AccountingSettings' column)
    account: str
    amount_cents: int  # signed: debit > 0, credit < 0
    vat_rate_bp: int | None = None

    @property
    def debit_cents(self) -> int:
        return max(self.amount_cents, 0)

    @property
    def credit_cents(self) -> int:
        return max(-self.amount_cents, 0)

    @property
    def account_label(self) -> str:
        return ACCOUNT_LABELS[self.account_field]


@dataclass
class Entry:
    number: int
    journal: str
    day: date
    piece: str
    label: str
    kind: EntryKind
    lines: list[Line] = field(default_factory=list)
    # What the summary adds up: amounts including VAT per rate, before and after VAT.
    sales_by_rate: dict[int, tuple[int, int]] = field(default_factory=dict)  # rate -> (HT, VAT)
    gross_cents: int = 0
    commission_cents: int = 0
    commission_vat_cents: int = 0  # the VAT in it, as the commission invoice charges it

    @property
    def balance_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


class Unbalanced(AssertionError):
    """A bug: an entry whose debits and credits differ is never written."""


@dataclass
class Journal:
    organization: object
    period: Period
    settings: AccountingSettings
    entries: list[Entry]

    def totals(self) -> tuple[int, int]:
        debit = sum(line.debit_cents for entry in self.entries for line in entry.lines)
        credit = sum(line.credit_cents for entry in self.entries for line in entry.lines)
        return debit, credit


def _invoiced_vat_rate() -> int:
    """The VAT rate in the platform's commission: none when the platform charges no VAT."""
    if not current_app.config.get("PLATFORM_VAT_NUMBER"):
        return 0
    return current_app.config["INVOICING_SERVICE_FEE_VAT_BP"]


def _commission_vat_rate(organization) -> int:
    """The VAT in the platform's commission that the seller may deduct: none when the seller is
    under the VAT franchise (the commission is then a cost, VAT included)."""
    return 0 if organization.vat_exempt else _invoiced_vat_rate()


class _Builder:
    def __init__(self, organization, settings: AccountingSettings, context: dict):
        self.organization = organization
        self.settings = settings
        self.context = context
        self.commission_rate = _commission_vat_rate(organization)
        self.invoiced_rate = _invoiced_vat_rate()
        self.zone = local_zone()

    def account(self, name: str) -> str:
        return getattr(self.settings, name)

    def line(self, name: str, amount: int, rate: int | None = None) -> Line:
        return Line(name, self.account(name), amount, rate)

    def entry(self, number: int, ledger: LedgerEntry) -> Entry:
        kind = EntryKind(ledger.kind)
        day = ledger.created_at.astimezone(self.zone).date()
        piece, label = self.describe(ledger)
        result = Entry(number, JOURNAL_OF[kind], day, piece, label, kind)
        if kind in (EntryKind.SALE, EntryKind.CARD, EntryKind.REFUND):
            self.sale(result, ledger)
        elif kind == EntryKind.DONATION:
            result.gross_cents = ledger.gross_cents
            result.lines = [self.line("platform_account", ledger.amount_cents),
                            self.line("donation_account", -ledger.amount_cents)]
        else:  # a payout leaves the platform's account for the bank; a failed one comes back
            result.lines = [self.line("bank_account", -ledger.amount_cents),
                            self.line("platform_account", ledger.amount_cents)]
        result.lines = [line for line in result.lines if line.amount_cents]
        if result.balance_cents != 0:
            raise Unbalanced(f"entry {number} ({ledger.source}) is off by {result.balance_cents}")
        return result

    def rates_of(self, ledger: LedgerEntry) -> dict[int, int]:
        """The entry's amount including VAT per VAT rate (one rate for the counter)."""
        if self.organization.vat_exempt:
            return {0: ledger.gross_cents}
        kind = EntryKind(ledger.kind)
        number = int(ledger.source.partition(":")[2] or 0)
        if kind == EntryKind.CARD:
            return {self.settings.counter_vat_rate_bp: ledger.gross_cents}
        part_id = number if kind == EntryKind.SALE else self.context["refund_parts"].get(number)
        weights = {rate: amount for rate, amount in
                   self.context["rates"].get(part_id, {}).items() if amount > 0}
        if not weights:  # no goods to read the rates from: the standard rate
            return {current_app.config["INVOICING_SERVICE_FEE_VAT_BP"]: ledger.gross_cents}
        return share(ledger.gross_cents, weights)

    def sale(self, result: Entry, ledger: LedgerEntry) -> None:
        receivable = "gift_card_account" if ledger.kind == EntryKind.CARD else "platform_account"
        commission = ledger.commission_cents
        commission_vat = vat_included(commission, self.commission_rate)
        lines = [self.line(receivable, ledger.amount_cents),
                 self.line("commission_account", commission - commission_vat),
                 self.line("vat_deductible_account", commission_vat, self.commission_rate)]
        for rate, amount in sorted(self.rates_of(ledger).items()):
            vat = vat_included(amount, rate)
            lines.append(self.line("sales_account", -(amount - vat), rate))
            lines.append(self.line("vat_collected_account", -vat, rate))
            result.sales_by_rate[rate] = (amount - vat, vat)
        result.lines = lines
        result.gross_cents = ledger.gross_cents
        result.commission_cents = commission
        # What the summary shows: the VAT the commission invoice charges, deductible or not.
        result.commission_vat_cents = vat_included(commission, self.invoiced_rate)

    def describe(self, ledger: LedgerEntry) -> tuple[str, str]:
        """The piece's reference and the entry's label (French, as the FEC is)."""
        kind = EntryKind(ledger.kind)
        number = int(ledger.source.partition(":")[2] or 0)
        if kind == EntryKind.SALE:
            reference = ledger.reference or f"V{number}"
            return reference, f"Vente en ligne commande {reference}"
        if kind == EntryKind.REFUND:
            reference = ledger.reference or "?"
            return f"{reference}-R{number}", f"Remboursement commande {reference}"
        if kind in (EntryKind.CARD, EntryKind.DONATION):
            code = self.context["card_codes"].get(number, "")
            piece = f"CARTE-{number}"
            what = "Carte cadeau encaissée" if kind == EntryKind.CARD else "Don par carte cadeau"
            return piece, f"{what} {'…' + code[-4:] if code else ''}".strip()
        transfer = self.context["transfers"].get(ledger.payout_id)
        piece = transfer or f"VIR-{ledger.payout_id}"
        if kind == EntryKind.PAYOUT:
            return piece, "Virement de la plateforme"
        return piece, "Virement de la plateforme refusé"


def journal(organization, period: Period, settings: AccountingSettings) -> Journal:
    """The period's entries, numbered from 1 in the ledger's order: the same period gives the
    same numbers every time (the ledger only grows, and never in the past)."""
    start, end = period.bounds()
    ledger = queries.ledger_entries(organization.id, start, end)
    builder = _Builder(organization, settings, queries.explanations(ledger))
    return Journal(organization, period, settings,
                   [builder.entry(number, entry) for number, entry in enumerate(ledger, start=1)])


# --- the summary -----------------------------------------------------------------------------

@dataclass
class Summary:
    """The period's figures (cents): sales online and at the counter by VAT rate, refunds by
    VAT rate, the commission, cards given, payouts."""

    sales: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    cards: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    refunds: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    commission_cents: int = 0
    commission_vat_cents: int = 0
    donations_cents: int = 0
    payouts_cents: int = 0  # sent to the bank (positive), less those that failed

    @property
    def net_cents(self) -> int:
        """What the period added to what the platform owes, before payouts."""
        def gross(table):
            return sum(ht + vat for ht, vat in table.values())
        return (gross(self.sales) + gross(self.cards) + gross(self.refunds)
                + self.donations_cents - self.commission_cents)


def summary(result: Journal) -> Summary:
    figures = Summary()
    tables = {EntryKind.SALE: figures.sales, EntryKind.CARD: figures.cards,
              EntryKind.REFUND: figures.refunds}
    for entry in result.entries:
        if entry.kind in tables:
            for rate, (ht, vat) in entry.sales_by_rate.items():
                tables[entry.kind][rate][0] += ht
                tables[entry.kind][rate][1] += vat
            figures.commission_cents += entry.commission_cents
            figures.commission_vat_cents += entry.commission_vat_cents
        elif entry.kind == EntryKind.DONATION:
            figures.donations_cents += entry.gross_cents
        else:
            figures.payouts_cents += sum(line.amount_cents for line in entry.lines
                                         if line.account_field == "bank_account")
    return figures
