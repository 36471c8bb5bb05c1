"""flask commands: seed-demo, create-admin (the operations' commands join them as domains grow)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.db import db


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no user yet.")
    def seed_demo(if_empty: bool):
        """Load the demo sellers, works council, admin and staff (safe to run twice)."""
        from marketplace import demo

        if if_empty and not demo.database_is_empty():
            click.echo("The database already has data: demo data not loaded.")
            return
        report = demo.seed()
        db.session.commit()
        click.echo(demo.describe(report))

    pickup_cli = AppGroup("pickup", help="Pickup slots.")
    app.cli.add_command(pickup_cli)

    @pickup_cli.command("generate-slots")
    @click.option("--weeks", default=3, show_default=True, type=click.IntRange(1, 12))
    def generate_slots(weeks: int):
        """Create the coming weeks' slots from the weekly templates (safe to run twice)."""
        from marketplace.pickup.tasks import generate_slots as job

        click.echo(f"{job(weeks)} slot(s) created.")

    payments_cli = AppGroup("payments", help="Payments: holds, reconciliation with Stripe.")
    app.cli.add_command(payments_cli)

    @payments_cli.command("expire-holds")
    def expire_holds():
        """Release unpaid orders whose hold has ended and end their payment sessions."""
        from marketplace.payments.services import expire_stale_orders

        click.echo(f"{expire_stale_orders()} unpaid order(s) released.")

    @payments_cli.command("reconcile")
    @click.option("--since-hours", default=48, show_default=True, type=click.IntRange(1, 24 * 30),
                  help="Look at unpaid orders created this recently.")
    def reconcile(since_hours: int):
        """Ask the gateway about recent unpaid orders (for webhooks that never came)."""
        from marketplace.payments.services import reconcile_report

        click.echo(reconcile_report(since_hours=since_hours).describe())

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--name", default="Administrateur", show_default=True)
    @click.password_option(
        "--password", envvar="ADMIN_PASSWORD", help="Asked for when not given (or ADMIN_PASSWORD)."
    )
    def create_admin(email: str, name: str, password: str):
        """Create a platform admin, or make an existing account one."""
        from marketplace.accounts import services as accounts
        from marketplace.errors import DomainError

        try:
            user, created = accounts.create_admin(email=email, name=name, password=password)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc
        db.session.commit()
        verb = "created" if created else "promoted to admin (password unchanged)"
        click.echo(f"Admin {user.email} {verb}.")
