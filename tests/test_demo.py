"""flask seed-demo: credible data, printed logins, safe to run twice."""
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.db import db
from marketplace.organizations.models import Organization, OrganizationStatus, Role


def test_seed_demo_is_idempotent_and_lists_the_logins(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.ess-marche.fr" in first.output and "solidaire-2026" in first.output
    counts = (
        db.session.scalar(sa.select(sa.func.count()).select_from(User)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Organization)),
    )
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "already has data" in skipped.output
    db.session.expire_all()
    assert counts == (
        db.session.scalar(sa.select(sa.func.count()).select_from(User)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Organization)),
    )

    approved = db.session.scalars(
        sa.select(Organization).where(Organization.status == OrganizationStatus.APPROVED)
    ).all()
    assert sum(org.is_seller for org in approved) >= 5
    assert any(not org.is_seller for org in approved)  # the works council
    roles = {m.role for org in approved for m in org.memberships}
    assert roles == {Role.OWNER, Role.MANAGER, Role.COUNTER}
    assert db.session.scalar(sa.select(User).where(User.is_admin)) is not None

    page = app.test_client().get("/").get_data(as_text=True)
    assert "Ressourcerie La Trouvaille" in page and "Atelier vélo La Roue Libre" in page


def test_create_admin_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "Chef@Example.org", "--password", "un mot de passe long"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "chef@example.org"))
    assert user.is_admin and user.is_verified
    again = runner.invoke(args=["create-admin", "chef@example.org", "--password", "whatever-else-1"])
    assert again.exit_code == 0 and "promoted" in again.output
    short = runner.invoke(args=["create-admin", "new@example.org", "--password", "short"])
    assert short.exit_code != 0 and "au moins 10 caractères" in short.output


def test_the_demo_has_money_to_pay_out_once(app):
    """Paid orders, a gift card spent at a counter, two sellers with a (simulated) Stripe
    account: a payout run pays each of those exactly its balance; a second run pays nothing."""
    from marketplace.giftcards.models import GiftCard
    from marketplace.ledger import services as ledger

    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["seed-demo"])
    assert "Demo gift card" in seeded.output
    card = db.session.scalar(sa.select(GiftCard))
    assert card.balance_cents == 3000
    owed = {org.id: ledger.balance(org.id) for org in db.session.scalars(
        sa.select(Organization).where(Organization.payouts_enabled.is_(True)))}
    assert len(owed) == 2 and all(amount > 0 for amount in owed.values())
    first = runner.invoke(args=["payouts", "run"])
    assert first.exit_code == 0 and "2 payout(s) sent" in first.output
    assert "no Stripe account yet: Épicerie solidaire Le Panier Partagé" in first.output
    from marketplace.ledger.models import Payout

    paid = {p.organization_id: p.amount_cents for p in db.session.scalars(sa.select(Payout))}
    assert paid == owed
    second = runner.invoke(args=["payouts", "run"])
    assert "0 payout(s) sent" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 2
