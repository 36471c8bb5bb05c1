"""The monthly commission invoices issued by four jobs at once: one per seller, numbers without
a gap (PostgreSQL, real threads)."""
import pytest
import sqlalchemy as sa

from marketplace.accounting import commission
from marketplace.accounting.models import CommissionInvoice
from marketplace.db import db
from marketplace.invoicing.models import Document, DocumentKind
from tests.accounting.test_commission_invoices import DECEMBER_5
from tests.accounting.test_journal import NOVEMBER, build_books
from tests.threads import at_once

pytestmark = pytest.mark.postgres


def test_four_jobs_at_once_issue_one_invoice_per_seller(app):
    build_books()
    build_books(siret=None)
    db.session.commit()

    def run(i):
        return [invoice.document.number for invoice in
                commission.issue_month(NOVEMBER, issued_on=DECEMBER_5).issued]

    results, errors = at_once(app, run, 4, commit=True)

    assert errors == []
    assert sorted(n for result in results for n in result) == ["FC-2026-00001", "FC-2026-00002"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommissionInvoice)) == 2
    assert db.session.scalars(sa.select(Document.sequence).where(
        Document.kind == DocumentKind.COMMISSION).order_by(Document.sequence)).all() == [1, 2]
