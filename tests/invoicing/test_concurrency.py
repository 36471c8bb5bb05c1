"""Eight issuers at once never skip nor repeat a number (PostgreSQL, real threads)."""
from datetime import date

import pytest
import sqlalchemy as sa

from marketplace.db import db
from marketplace.invoicing import services as invoicing
from marketplace.invoicing import transfers
from marketplace.invoicing.models import Document, DocumentKind
from tests.invoicing.helpers import CSE, campaign_lines
from tests.threads import at_once

pytestmark = pytest.mark.postgres

DAY = date(2026, 12, 3)


def test_forty_invoices_from_eight_threads_are_numbered_one_to_forty(app):
    def issue_five(i):
        numbers = []
        for _ in range(5):  # five units of work per thread, each committing its invoice
            numbers.append(invoicing.issue_invoice(CSE, campaign_lines(), subject=f"t:{i}",
                                                   issued_on=DAY).number)
            db.session.commit()
        return numbers

    results, errors = at_once(app, issue_five, 8)

    assert errors == []
    numbers = sorted(n for result in results for n in result)
    assert numbers == [f"F-2026-{n:05d}" for n in range(1, 41)]
    db.session.expire_all()
    sequences = db.session.scalars(sa.select(Document.sequence).where(
        Document.kind == DocumentKind.INVOICE).order_by(Document.sequence)).all()
    assert sequences == list(range(1, 41))


def test_a_thread_that_rolls_back_gives_its_number_to_the_next(app):
    def issue(i):
        number = invoicing.issue_invoice(CSE, campaign_lines(), subject=f"t:{i}",
                                         issued_on=DAY).number
        if i % 2:
            raise RuntimeError("the unit of work failed after issuing")  # rolled back
        return number

    results, errors = at_once(app, issue, 8, commit=True)

    assert len(errors) == 4 and len(results) == 4
    db.session.expire_all()
    sequences = db.session.scalars(sa.select(Document.sequence).where(
        Document.kind == DocumentKind.INVOICE).order_by(Document.sequence)).all()
    assert sequences == [1, 2, 3, 4]  # the numbers the failed units took were given back


def test_a_new_year_started_by_eight_threads_at_once(app):
    def issue(i):
        return invoicing.issue_quote(CSE, campaign_lines(), subject=f"t:{i}",
                                     issued_on=date(2027, 1, 1)).number

    results, errors = at_once(app, issue, 8, commit=True)

    assert errors == []
    assert sorted(results) == [f"DEV-2027-{n:05d}" for n in range(1, 9)]


def test_one_invoice_for_a_proforma_paid_and_invoiced_by_two_jobs_at_once(app):
    proforma = invoicing.issue_proforma(CSE, campaign_lines(), subject="campaign:1",
                                        issued_on=DAY)
    transfers.record_transfer(proforma, amount_cents=proforma.total_incl_vat_cents,
                              received_on=DAY)
    db.session.commit()
    proforma_id = proforma.id

    def invoice(i):
        return invoicing.invoice_for_proforma(db.session.get(Document, proforma_id)).number

    results, errors = at_once(app, invoice, 4, commit=True)

    assert errors == [] and results == ["F-2026-00001"] * 4
