"""Numbers per kind and calendar year, unbroken, starting again at 1 on 1 January, following
the dates; a unit of work that rolls back gives its number back."""
from datetime import date

import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.invoicing import services as invoicing
from marketplace.invoicing.models import Document, DocumentCounter, DocumentKind
from tests.invoicing.helpers import CSE, campaign_lines


def _invoice(day: date) -> Document:
    return invoicing.issue_invoice(CSE, campaign_lines(), subject="campaign:1", issued_on=day)


def test_each_kind_has_its_own_series_per_year(app):
    quote = invoicing.issue_quote(CSE, campaign_lines(), subject="campaign:1",
                                  issued_on=date(2026, 11, 2))
    proforma = invoicing.proforma_from_quote(quote, issued_on=date(2026, 11, 3))
    first = _invoice(date(2026, 11, 4))
    second = _invoice(date(2026, 11, 4))
    credit = invoicing.issue_credit_note(first, campaign_lines(cards=1, fee_cents=0),
                                         reason="Une carte annulée avant l'envoi",
                                         issued_on=date(2026, 11, 5))

    assert quote.number == "DEV-2026-00001"
    assert proforma.number == "PF-2026-00001"
    assert (first.number, second.number) == ("F-2026-00001", "F-2026-00002")
    assert credit.number == "AV-2026-00001"


def test_the_invoices_restart_at_one_on_the_first_of_january(app):
    numbers = [_invoice(day).number for day in (
        date(2026, 12, 30), date(2026, 12, 31), date(2026, 12, 31),
        date(2027, 1, 1), date(2027, 1, 2))]

    assert numbers == ["F-2026-00001", "F-2026-00002", "F-2026-00003",
                       "F-2027-00001", "F-2027-00002"]
    counters = {(c.kind, c.year): c.last_number for c in db.session.scalars(
        sa.select(DocumentCounter))}
    assert counters == {(DocumentKind.INVOICE, 2026): 3, (DocumentKind.INVOICE, 2027): 2}


def test_a_hundred_invoices_are_numbered_one_to_a_hundred(app):
    for _ in range(100):
        _invoice(date(2026, 12, 3))
    db.session.commit()
    sequences = db.session.scalars(sa.select(Document.sequence).where(
        Document.kind == DocumentKind.INVOICE).order_by(Document.sequence)).all()
    assert sequences == list(range(1, 101))
    assert db.session.scalar(sa.select(sa.func.max(Document.number))) == "F-2026-00100"


def test_a_unit_of_work_rolled_back_gives_its_number_back(app):
    assert _invoice(date(2026, 12, 3)).number == "F-2026-00001"
    db.session.commit()
    assert _invoice(date(2026, 12, 3)).number == "F-2026-00002"
    db.session.rollback()  # the request failed after issuing: nothing of it stays

    assert _invoice(date(2026, 12, 3)).number == "F-2026-00002"


def test_a_document_is_never_dated_before_the_one_numbered_before_it(app):
    _invoice(date(2026, 12, 10))
    with pytest.raises(invoicing.InvoicingError) as refused:
        _invoice(date(2026, 12, 9))
    assert refused.value.status_code == 409
    assert " ".join(str(refused.value.message).replace("\u00a0", " ").split()) == (
        "Ce document ne peut pas être daté du 9 décembre 2026 : le document numéroté avant "
        "lui est daté du 10 décembre 2026, et les numéros suivent l'ordre des dates.")
