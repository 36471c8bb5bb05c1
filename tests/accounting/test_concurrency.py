"""The monthly commission invoices issued by four jobs at once: one per seller, numbers without
a gap; a seller's first accounting settings saved twice at once (PostgreSQL, real threads)."""

import pytest
import sqlalchemy as sa

from marketplace.accounting import commission
from marketplace.accounting.models import DEFAULT_ACCOUNTS, AccountingSettings, CommissionInvoice
from marketplace.accounting.services import save_settings
from marketplace.db import db
from marketplace.invoicing.models import Document, DocumentKind
from tests.accounting.test_commission_invoices import DECEMBER_5
from tests.accounting.test_journal import NOVEMBER, build_books
from tests.threads import at_once, second_waits_for_first

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


def test_first_settings_saved_twice_at_once_are_saved_once(app, make_organization):
    """A double click on the first "save": the second waits for the first, then changes the row
    it added (the code before failed on the row's key, a 500)."""
    from marketplace.organizations.models import Organization

    organization_id = make_organization().id
    db.session.commit()

    def save(rate):
        return lambda: save_settings(db.session.get(Organization, organization_id), {
            **DEFAULT_ACCOUNTS, "counter_vat_rate_bp": rate, "vat_number": ""}).organization_id

    first, second = second_waits_for_first(app, save("550"), save("1000"))
    assert first.error is None and second.error is None, second.error
    db.session.expire_all()
    assert db.session.scalars(sa.select(AccountingSettings.counter_vat_rate_bp).where(
        AccountingSettings.organization_id == organization_id)).all() == [1000]
