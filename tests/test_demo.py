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


def test_the_full_slot_of_the_demo_is_full_of_real_paid_orders(app):
    """The slot the demo shows as full ("Complet") is full because shoppers booked it: one paid
    order with its pickup voucher per place, each from another shopper."""
    from marketplace.orders.models import OrderPart
    from marketplace.pickup import services as pickup
    from marketplace.pickup.models import PickupSlot
    from marketplace.vouchers.models import Voucher

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    full = [slot for slot in db.session.scalars(sa.select(PickupSlot))
            if pickup.slot_state(slot) == pickup.SlotState.FULL]
    assert len(full) == 1
    (slot,) = full
    parts = db.session.scalars(sa.select(OrderPart).where(OrderPart.slot_id == slot.id)).all()
    assert len(parts) == slot.capacity == slot.booked
    assert all(part.status.value == "paid" and part.order.status.value == "paid" for part in parts)
    assert len({part.order.email for part in parts}) == slot.capacity
    vouchers = db.session.scalars(sa.select(Voucher).where(Voucher.order_part_id.in_([p.id for p in parts]))).all()
    assert len(vouchers) == slot.capacity
    # Every other slot's bookings are real orders too.
    for other in db.session.scalars(sa.select(PickupSlot)):
        booked = db.session.scalar(sa.select(sa.func.count()).select_from(OrderPart).where(
            OrderPart.slot_id == other.id, OrderPart.status.in_(["paid", "collected"])))
        assert other.booked == booked, other


def test_the_demo_publishes_slots_as_far_ahead_as_its_pages_say(app):
    import re
    from datetime import timedelta

    from marketplace.db import utcnow
    from marketplace.pickup import services as pickup
    from marketplace.pickup.models import PickupLocation, PickupSlot

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    client = app.test_client()
    login = client.post("/login", data={"email": "claire.dumont@demo.ess-marche.fr",
                                        "password": "solidaire-2026"})
    assert login.status_code == 302
    org = db.session.scalar(sa.select(Organization).where(Organization.slug == "ressourcerie-la-trouvaille"))
    page = client.get(f"/orgs/{org.id}/pickup").get_data(as_text=True)
    said = re.search(r"(\d+)\s+semaines", page)
    assert said, page
    weeks = int(said.group(1))
    today = utcnow().astimezone(pickup.local_zone()).date()
    for location in db.session.scalars(sa.select(PickupLocation)):
        last = db.session.scalar(sa.select(sa.func.max(PickupSlot.starts_at))
                                 .where(PickupSlot.location_id == location.id))
        last_day = last.astimezone(pickup.local_zone()).date() if last.tzinfo else last.date()
        assert today + timedelta(weeks=weeks - 1) <= last_day < today + timedelta(weeks=weeks), location.name


def test_the_demo_works_council_has_a_christmas_campaign_with_two_lines_at_risk(app):
    from marketplace.campaigns import services, urssaf
    from marketplace.campaigns.models import Campaign, CampaignStatus

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # still the same two campaigns
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 2
    (campaign,) = db.session.scalars(sa.select(Campaign).where(
        Campaign.status == CampaignStatus.BENEFICIARIES_IMPORTED)).all()
    assert services.totals(campaign)[0] == 30
    check = urssaf.check_campaign(campaign)
    assert check.lines_at_risk == 2 and check.at_risk_cents > 0


def test_a_command_that_fails_after_writing_leaves_nothing(app, monkeypatch):
    """create-admin runs as one unit of work: a refusal after the account was written (and
    flushed) rolls it back, and nothing is committed half-way."""
    from marketplace.accounts import services as accounts
    from marketplace.errors import DomainError

    real_create_admin = accounts.create_admin

    def create_then_refuse(**kwargs):
        real_create_admin(**kwargs)
        db.session.flush()
        raise DomainError("Refused after writing.")

    monkeypatch.setattr(accounts, "create_admin", create_then_refuse)
    result = app.test_cli_runner().invoke(
        args=["create-admin", "late@example.org", "--password", "un mot de passe long"])

    assert result.exit_code != 0 and "Refused after writing." in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_every_command_runs_as_a_unit_of_work(app):
    """Each of our commands' callbacks is wrapped by uow.in_unit (directly, or by a
    UnitOfWorkGroup)."""
    from marketplace import uow

    in_unit_code = uow.in_unit(lambda: None).__code__

    def commands(group, prefix=""):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from commands(command, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}", command.callback

    checked = set()
    for name, callback in commands(app.cli):
        chain = [callback]
        while hasattr(chain[-1], "__wrapped__"):
            chain.append(chain[-1].__wrapped__)
        if chain[-1].__module__ != "marketplace.cli":
            continue  # Flask's and Flask-Migrate's own
        assert any(getattr(f, "__code__", None) is in_unit_code for f in chain), (
            f"flask {name} does not run as a unit of work")
        checked.add(name)
    assert {"seed-demo", "create-admin", "pickup generate-slots", "payouts run"} <= checked


def test_the_works_council_has_a_paid_campaign_whose_cards_exist(app):
    """Quoted, accepted, paid by a transfer the admin recorded: the campaign is paid (the
    invoicing's proforma_paid -> campaigns.billing -> mark_paid), and campaign_paid had its
    cards issued (campaigns.issuance), which then issued the invoice."""
    from marketplace.campaigns import billing
    from marketplace.campaigns.models import Beneficiary, Campaign, CampaignStatus
    from marketplace.invoicing.models import PaymentStatus

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    db.session.expire_all()
    paid = db.session.scalars(sa.select(Campaign).where(
        Campaign.status.in_([CampaignStatus.PAID, CampaignStatus.ISSUED]))).all()
    assert len(paid) == 1
    campaign = paid[0]
    proforma = billing.proforma_of(billing.current_quote(campaign))
    assert proforma.payment_status == PaymentStatus.PAID and proforma.transfers
    beneficiaries = db.session.scalars(
        sa.select(Beneficiary).where(Beneficiary.campaign_id == campaign.id)).all()
    assert len(beneficiaries) == 12
    assert all(b.card_id is not None for b in beneficiaries)  # issued by campaigns.issuance
