"""Background job of the accounting: the last month's commission invoices."""
from marketplace.extensions import celery


@celery.task(name="accounting.issue_commission_invoices")
def issue_commission_invoices() -> int:
    """The last month's commission invoice of each seller that has none yet (run daily: the
    first run of a month issues them, the others find them issued)."""
    from marketplace.accounting.commission import issue_month, month_to_invoice
    from marketplace.i18n import local_today

    return len(issue_month(month_to_invoice(None, today=local_today())).issued)
