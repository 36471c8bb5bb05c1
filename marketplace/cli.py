"""flask commands: seed-demo, create-admin (the operations' commands join them as domains grow).

Each command is one unit of work (marketplace.uow): it commits once, at its end, and rolls back
if it fails; the commands of a group are units through UnitOfWorkGroup, the top-level ones
through in_unit."""
from __future__ import annotations

import click
from flask import Flask

from marketplace import demo
from marketplace.accounting.commission import issue_month, month_to_invoice
from marketplace.accounts import services as accounts
from marketplace.campaigns import issuance, sending
from marketplace.campaigns.issuance import issue_paid
from marketplace.campaigns.models import Campaign, CampaignStatus
from marketplace.db import LockTimeout, db
from marketplace.errors import DomainError
from marketplace.giftcards.notify import deliver_due
from marketplace.giftcards.services import expire_due
from marketplace.i18n import local_today, money_filter
from marketplace.ledger import services as ledger
from marketplace.payments.services import expire_stale_orders, reconcile_report
from marketplace.pickup import tasks as pickup_tasks
from marketplace.pickup.alerts import send_daily_alerts
from marketplace.uow import UnitOfWorkGroup, in_unit


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no user yet.")
    @in_unit
    def seed_demo(if_empty: bool):
        """Load the demo sellers, works council, admin and staff (safe to run twice)."""
        if if_empty and not demo.database_is_empty():
            click.echo("The database already has data: demo data not loaded.")
            return
        report = demo.seed()
        click.echo(demo.describe(report))

    pickup_cli = UnitOfWorkGroup("pickup", help="Pickup slots.")
    app.cli.add_command(pickup_cli)

    @pickup_cli.command("generate-slots")
    @click.option("--weeks", default=3, show_default=True, type=click.IntRange(1, 12))
    def generate_slots(weeks: int):
        """Create the coming weeks' slots from the weekly templates (safe to run twice)."""
        click.echo(f"{pickup_tasks.generate_slots(weeks)} slot(s) created.")

    alerts_cli = UnitOfWorkGroup("alerts", help="The sellers' daily alerts email.")
    app.cli.add_command(alerts_cli)

    @alerts_cli.command("send")
    def send_alerts():
        """Email today's alerts to the managers who asked for them (once a day each)."""
        click.echo(f"{send_daily_alerts()} alert email(s) queued.")

    payments_cli = UnitOfWorkGroup("payments", help="Payments: holds, reconciliation with Stripe.")
    app.cli.add_command(payments_cli)

    @payments_cli.command("expire-holds")
    def expire_holds():
        """Release unpaid orders whose hold has ended and end their payment sessions."""
        click.echo(f"{expire_stale_orders()} unpaid order(s) released.")

    @payments_cli.command("reconcile")
    @click.option("--since-hours", default=48, show_default=True, type=click.IntRange(1, 24 * 30),
                  help="Look at unpaid orders created this recently.")
    def reconcile(since_hours: int):
        """Ask the gateway about recent unpaid orders (for webhooks that never came)."""
        click.echo(reconcile_report(since_hours=since_hours).describe())

    giftcards_cli = UnitOfWorkGroup("giftcards", help="Gift cards: delivery of gifts, expiry.")
    app.cli.add_command(giftcards_cli)

    @giftcards_cli.command("deliver")
    def deliver_gifts():
        """Email the gift cards whose delivery date has come."""
        click.echo(f"{deliver_due()} gift card(s) emailed.")

    @giftcards_cli.command("expire")
    def expire_cards():
        """Cards past their expiry: what is left follows GIFTCARD_EXPIRY_POLICY."""
        click.echo(f"{expire_due()} card(s) expired.")

    payouts_cli = UnitOfWorkGroup("payouts", help="Payouts to the sellers' Stripe accounts.")
    app.cli.add_command(payouts_cli)

    @payouts_cli.command("run")
    def run_payouts():
        """One payout per seller owed at least PAYOUT_MINIMUM_CENTS, to its connected account."""
        result = ledger.run_payouts()
        for payout in result.paid:
            click.echo(f"paid     {payout.organization.name}: {money_filter(payout.amount_cents)} "
                       f"({payout.transfer_id})")
        for payout in result.failed:
            click.echo(f"FAILED   {payout.organization.name}: {money_filter(payout.amount_cents)} "
                       f"({payout.failure})")
        for organization, amount in result.without_account:
            click.echo(f"no Stripe account yet: {organization.name}: {money_filter(amount)} "
                       "(not paid)")
        click.echo(f"{len(result.paid)} payout(s) sent, {len(result.failed)} failed, "
                   f"{len(result.without_account)} seller(s) without an account, "
                   f"{len(result.below_minimum)} below the minimum.")

    campaigns_cli = UnitOfWorkGroup("campaigns", help="Works-council campaigns: their cards.")
    app.cli.add_command(campaigns_cli)

    @campaigns_cli.command("issue")
    @click.argument("campaign_id", type=int)
    @click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 5000),
                  help="Cards written (and committed) together.")
    def issue_campaign_cards(campaign_id: int, batch: int):
        """Issue the cards of a paid campaign (safe to run twice: only the missing ones)."""
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise click.ClickException(f"No campaign has the id {campaign_id}.")
        before = issuance.progress_of(campaign_id)
        if campaign.status == CampaignStatus.ISSUED:
            click.echo(f"Campaign {campaign_id} ({campaign.name}) is already issued: "
                       f"{before.issued} of {before.total} card(s). Nothing to do.")
            return
        if campaign.status != CampaignStatus.PAID:
            raise click.ClickException(
                f"Campaign {campaign_id} ({campaign.name}) is not paid (status: "
                f"{campaign.status.value}): its cards cannot be issued yet.")
        with click.progressbar(length=before.total, label=f"Issuing the cards of {campaign.name}",
                               show_pos=True) as bar:
            bar.update(before.issued)
            shown = before.issued

            def advance(now: issuance.Progress) -> None:
                nonlocal shown
                bar.update(now.issued - shown)
                shown = now.issued

            try:
                issued = issuance.issue_cards(campaign, batch=batch, progress=advance)
            except DomainError as exc:  # the unit rolls back the batch under way
                raise click.ClickException(str(exc.message)) from exc
            except LockTimeout as exc:
                raise click.ClickException(
                    f"Campaign {campaign_id} is busy (another run is issuing its cards): "
                    "run the command again in a moment; the cards issued so far stay.") from exc
        after = issuance.progress_of(campaign_id)
        click.echo(f"{issued} card(s) issued by this run; {after.issued} of {after.total} "
                   f"beneficiaries have their card; campaign status: {campaign.status.value}.")

    @campaigns_cli.command("send")
    @click.argument("campaign_id", type=int)
    def send_campaign_cards(campaign_id: int):
        """Queue the emails of the campaign's cards not sent yet (once its sending date has
        come; the hourly job does it too). They leave when the command ends: through the
        worker with a broker, from this command without one. Follow them with `follow`."""
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise click.ClickException(f"No campaign has the id {campaign_id}.")
        if campaign.send_on > sending.local_today():
            raise click.ClickException(
                f"Campaign {campaign_id} sends its cards on {campaign.send_on:%d/%m/%Y}, not before.")
        try:
            queued = sending.queue_sending(campaign)
        except DomainError as exc:
            raise click.ClickException(str(exc.message)) from exc
        click.echo(f"{queued} card(s) queued for sending.")

    @campaigns_cli.command("follow")
    @click.argument("campaign_id", type=int)
    @click.option("--timeout", default=3600, show_default=True, help="Seconds to wait at most.")
    def follow_campaign_sending(campaign_id: int, timeout: int):
        """A progress bar of the campaign's emails until none is waiting (sent or refused)."""
        import time

        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise click.ClickException(f"No campaign has the id {campaign_id}.")
        now = sending.progress(campaign)
        deadline = time.monotonic() + timeout
        with click.progressbar(length=now.total, label=f"Sending the cards of {campaign.name}",
                               show_pos=True) as bar:
            bar.update(now.sent + now.failed)
            done = now.sent + now.failed
            while now.waiting and time.monotonic() < deadline:
                time.sleep(1)
                db.session.expire_all()  # each read sees what the workers committed
                now = sending.progress(campaign)
                bar.update(now.sent + now.failed - done)
                done = now.sent + now.failed
        click.echo(f"{now.sent} sent, {now.failed} refused (to correct on the campaign's "
                   f"sending page), {now.waiting} waiting.")
        if now.waiting:
            raise click.ClickException("Some cards are still waiting: is a worker running?")

    @campaigns_cli.command("issue-paid")
    def issue_paid_campaigns():
        """Finish every paid campaign whose cards are not all issued (for cron, without a worker)."""
        click.echo(f"{issue_paid()} card(s) issued.")

    accounting_cli = UnitOfWorkGroup("accounting", help="The sellers' accounts and invoices.")
    app.cli.add_command(accounting_cli)

    @accounting_cli.command("invoice-commissions")
    @click.option("--month", default=None, help="YYYY-MM; the last month when not given.")
    def invoice_commissions(month: str | None):
        """Issue a month's commission invoice to each seller that has none yet (safe to run
        again: a seller invoiced already is left as it is)."""
        try:
            run = issue_month(month_to_invoice(month, today=local_today()))
        except DomainError as exc:
            raise click.ClickException(str(exc.message)) from None
        for invoice in run.issued:
            click.echo(f"issued   {invoice.document.number} {invoice.organization.name}: "
                       f"{money_filter(invoice.document.total_incl_vat_cents)}")
        click.echo(f"{len(run.issued)} invoice(s) issued, {run.already} already issued.")

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--name", default="Administrateur", show_default=True)
    @click.password_option(
        "--password", envvar="ADMIN_PASSWORD", help="Asked for when not given (or ADMIN_PASSWORD)."
    )
    @in_unit
    def create_admin(email: str, name: str, password: str):
        """Create a platform admin, or make an existing account one."""
        try:
            user, created = accounts.create_admin(email=email, name=name, password=password)
        except DomainError as exc:  # the unit rolls back
            raise click.ClickException(str(exc.message)) from exc
        verb = "created" if created else "promoted to admin (password unchanged)"
        click.echo(f"Admin {user.email} {verb}.")
