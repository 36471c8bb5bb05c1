"""A paid campaign's cards: one named card per beneficiary, issued in batches by one job, safe to
run twice or at once; the CLI with its progress bar, and the progress on the campaign page."""
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from marketplace import uow
from marketplace.audit.models import AuditEntry
from marketplace.campaigns import issuance, services
from marketplace.campaigns.models import AmountMode, Beneficiary, Campaign, CampaignStatus
from marketplace.campaigns.services import CampaignError
from marketplace.db import db
from marketplace.giftcards import bulk, codes
from marketplace.giftcards.models import CardTransaction, GiftCard, TransactionKind
from marketplace.giftcards.services import CardError


def rows(n: int, amount=lambda i: 5000):
    return [{"last_name": f"Martin{i}", "first_name": "Léa", "email": f"lea.{i}@example.org",
             "employee_number": f"M{i}", "children": 0, "amount_cents": amount(i), "line": i + 2}
            for i in range(n)]


@pytest.fixture
def paid_campaign(make_campaign, officer):
    """paid_campaign(n): a campaign of n beneficiaries, quoted and paid (committed). Its
    issuance job is queued for after the next unit of work's commit, as in production; the
    tests that call issue_cards themselves run before any unit ends."""

    def build(n=3, *, amount=lambda i: 5000, **settings):
        mode = AmountMode.PER_BENEFICIARY
        campaign = make_campaign(mode=mode, **settings)
        services.replace_beneficiaries(campaign, rows(n, amount), by=officer, filename="l.csv")
        if services.ready_for_quote(campaign):
            services.acknowledge_risk(campaign, by=officer)
        services.mark_quoted(campaign, by=officer)
        services.mark_paid(campaign, by=officer)
        db.session.commit()
        return campaign

    return build


def cards_of(campaign) -> list[GiftCard]:
    return list(db.session.scalars(
        sa.select(GiftCard).join(Beneficiary, Beneficiary.card_id == GiftCard.id)
        .where(Beneficiary.campaign_id == campaign.id).order_by(Beneficiary.id)))


def card_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(GiftCard.id)))


def test_each_beneficiary_gets_a_named_card_with_the_campaign_s_amount_expiry_and_profile(
        paid_campaign, officer):
    campaign = paid_campaign(3, amount=lambda i: 4000 + i * 1000, send_on=date(2026, 12, 10))

    assert issuance.issue_cards(campaign, by=officer) == 3

    assert campaign.status == CampaignStatus.ISSUED and campaign.issued_at is not None
    cards = cards_of(campaign)
    assert [(c.holder_name, c.holder_email, c.initial_cents, c.balance_cents) for c in cards] == [
        (f"Léa Martin{i}", f"lea.{i}@example.org", 4000 + i * 1000, 4000 + i * 1000)
        for i in range(3)]
    # Valid 12 months from the sending day, at midnight in Paris (23:00 UTC in winter).
    assert {c.expires_at for c in cards} == {datetime(2027, 12, 9, 23, 0, tzinfo=UTC)}
    assert {c.restriction_profile_id for c in cards} == {campaign.restriction_profile_id}
    assert campaign.restriction_profile_id is not None
    assert all(c.is_named and not c.is_gift and codes.is_valid(c.code) for c in cards)
    assert {c.buyer_name for c in cards} == {campaign.organization.name}
    issues = db.session.scalars(sa.select(CardTransaction)).all()
    assert sorted((t.card_id, t.kind, t.amount_cents, t.balance_after_cents) for t in issues) == \
        sorted((c.id, TransactionKind.ISSUE, c.initial_cents, c.initial_cents) for c in cards)
    # One audit line for the batch, not one per card.
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action.startswith("giftcard."))).all()
    assert [(e.action, e.subject_type, e.subject_id, e.data["count"], e.data["total_cents"])
            for e in entries] == [("giftcard.issued_named", "Campaign", campaign.id, 3, 15000)]
    assert issuance.progress_of(campaign.id) == issuance.Progress(issued=3, total=3)


def test_the_validity_counts_months_in_paris_time_across_summer_time(paid_campaign, officer):
    campaign = paid_campaign(1, send_on=date(2026, 7, 31))
    campaign.validity_months = 14
    issuance.issue_cards(campaign, by=officer)
    # 31 July (summer, UTC+2) + 14 months = 30 September 2027 (the month is shorter), midnight
    # in Paris, still summer time: 22:00 UTC the day before.
    assert cards_of(campaign)[0].expires_at == datetime(2027, 9, 29, 22, 0, tzinfo=UTC)


def test_named_cards_may_go_above_the_anonymous_cap_up_to_the_campaign_cap(
        app, paid_campaign, officer):
    assert app.config["GIFTCARD_MAX_CENTS"] == 15000
    campaign = paid_campaign(2, amount=lambda i: [18000, 100000][i])
    issuance.issue_cards(campaign, by=officer)
    assert [c.initial_cents for c in cards_of(campaign)] == [18000, 100000]

    now = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(CardError) as refused:
        bulk.issue_named([bulk.NamedCard("Léa Martin", "lea@example.org", 100001)],
                         valid_from=now, months=12, subject=campaign)
    assert refused.value.status_code == 400 and "lea@example.org" in str(refused.value.message)
    with pytest.raises(CardError):
        bulk.issue_named([bulk.NamedCard("Léa Martin", "lea@example.org", 5000)],
                         valid_from=now, months=11, subject=campaign)
    with pytest.raises(CardError):
        bulk.issue_named([bulk.NamedCard("", "lea@example.org", 5000)],
                         valid_from=now, months=12, subject=campaign)
    assert card_count() == 2


def test_codes_already_taken_or_drawn_twice_are_drawn_again(app, monkeypatch, paid_campaign):
    campaign = paid_campaign(1)
    issuance.issue_cards(campaign)
    taken = cards_of(campaign)[0].code
    fresh = [codes.new_code() for _ in range(3)]
    draws = iter([taken, fresh[0], fresh[0], fresh[1], fresh[2]])
    monkeypatch.setattr(codes, "new_codes", lambda count: [next(draws) for _ in range(count)])

    assert sorted(bulk.free_codes(2)) == sorted(fresh[:2])


def test_codes_drawn_in_bulk_are_valid_and_use_the_whole_alphabet():
    drawn = codes.new_codes(2000)
    assert len(set(drawn)) == 2000 and all(codes.is_valid(code) for code in drawn)
    assert {code[i] for code in drawn for i in range(codes.RANDOM_LENGTH)} == set(codes.ALPHABET)


def test_a_second_run_issues_nothing(paid_campaign, officer):
    campaign = paid_campaign(4)
    assert issuance.issue_cards(campaign, by=officer, batch=3) == 4
    db.session.commit()
    before = {c.id for c in cards_of(campaign)}

    assert issuance.issue_cards(campaign, by=officer) == 0
    assert card_count() == 4 and {c.id for c in cards_of(campaign)} == before
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "giftcard.issued_named")) == 2  # two batches: 3, then 1


def test_a_run_that_fails_after_a_batch_is_finished_by_the_next_without_duplicates(
        monkeypatch, paid_campaign, officer):
    campaign = paid_campaign(5)
    real = bulk.issue_named
    calls = []

    def failing_second_time(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "issue_named", failing_second_time)
    with pytest.raises(RuntimeError), uow.unit():
        issuance.issue_cards(campaign, by=officer, batch=2)

    db.session.expire_all()
    assert issuance.progress_of(campaign.id) == issuance.Progress(issued=2, total=5)
    assert card_count() == 2  # the first batch stands, the second was rolled back
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.PAID

    monkeypatch.setattr(bulk, "issue_named", real)
    with uow.unit():
        assert issuance.issue_cards(db.session.get(Campaign, campaign.id), batch=2) == 3
    db.session.expire_all()
    cards = cards_of(campaign)
    assert len(cards) == 5 == card_count() == len({c.id for c in cards})
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.ISSUED


def test_a_beneficiary_given_a_card_meanwhile_undoes_the_batch(monkeypatch, paid_campaign):
    """Where row locks do not exist (SQLite), another run may give a card between the read of
    the beneficiaries and their UPDATE: the UPDATE's `card_id IS NULL` sees it, and the batch
    is undone rather than a second card issued."""
    campaign = paid_campaign(3)
    real = bulk.issue_named

    def another_run_was_faster(*args, **kwargs):
        ids = real(*args, **kwargs)
        db.session.execute(sa.update(Beneficiary).where(Beneficiary.campaign_id == campaign.id)
                           .where(Beneficiary.line == 2).values(card_id=ids[0]))
        return ids

    monkeypatch.setattr(bulk, "issue_named", another_run_was_faster)
    with pytest.raises(CampaignError) as refused, uow.unit():
        issuance.issue_cards(campaign)
    assert refused.value.status_code == 409
    db.session.expire_all()
    assert card_count() == 0 and issuance.progress_of(campaign.id).issued == 0


def test_progress_is_reported_after_each_batch(paid_campaign):
    campaign = paid_campaign(5)
    seen = []
    issuance.issue_cards(campaign, batch=2, progress=seen.append)
    assert [(p.issued, p.total) for p in seen] == [(2, 5), (4, 5), (5, 5)]


def test_a_campaign_not_paid_is_refused(make_campaign, officer):
    campaign = make_campaign()
    services.replace_beneficiaries(campaign, rows(2), by=officer, filename="l.csv")
    with pytest.raises(CampaignError) as refused:
        issuance.issue_cards(campaign, by=officer)
    assert refused.value.status_code == 409
    assert card_count() == 0


def test_paying_the_campaign_issues_its_cards_through_the_job(make_campaign, officer):
    campaign = make_campaign(mode=AmountMode.PER_BENEFICIARY)
    services.replace_beneficiaries(campaign, rows(3), by=officer, filename="l.csv")
    services.mark_quoted(campaign, by=officer)
    db.session.commit()

    with uow.unit():  # the unit that records the payment (a transfer marked received, say)
        services.mark_paid(campaign, by=officer)
        assert card_count() == 0  # the job waits for the payment to be committed

    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.status == CampaignStatus.ISSUED
    assert len(cards_of(campaign)) == 3


def test_a_payment_rolled_back_issues_nothing(make_campaign, officer):
    campaign = make_campaign(mode=AmountMode.PER_BENEFICIARY)
    services.replace_beneficiaries(campaign, rows(2), by=officer, filename="l.csv")
    services.mark_quoted(campaign, by=officer)
    db.session.commit()

    with pytest.raises(RuntimeError), uow.unit():
        services.mark_paid(campaign, by=officer)
        raise RuntimeError("the transfer did not match")

    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.QUOTED
    assert card_count() == 0


# --- the command -------------------------------------------------------------------------------

def test_the_command_issues_with_a_progress_bar_then_says_there_is_nothing_left(
        app, paid_campaign):
    campaign = paid_campaign(5)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["campaigns", "issue", str(campaign.id), "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "Issuing the cards of Noël" in result.output
    assert "5 card(s) issued by this run; 5 of 5 beneficiaries have their card; campaign " \
           "status: issued." in result.output
    db.session.expire_all()
    assert card_count() == 5

    again = runner.invoke(args=["campaigns", "issue", str(campaign.id)])
    assert again.exit_code == 0
    assert "is already issued: 5 of 5 card(s). Nothing to do." in again.output
    assert card_count() == 5


def test_the_command_refuses_an_unknown_or_unpaid_campaign(app, make_campaign):
    campaign = make_campaign()
    db.session.commit()
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["campaigns", "issue", "999"])
    assert unknown.exit_code == 1 and "No campaign has the id 999." in unknown.output

    unpaid = runner.invoke(args=["campaigns", "issue", str(campaign.id)])
    assert unpaid.exit_code == 1
    assert "is not paid (status: draft): its cards cannot be issued yet." in unpaid.output
    assert card_count() == 0


# --- the page ----------------------------------------------------------------------------------

def test_the_campaign_page_shows_the_progress_then_the_cards_issued(
        client, login, cse, officer, paid_campaign):
    campaign = paid_campaign(3)
    login(officer)
    url = f"/orgs/{cse.id}/campaigns/{campaign.id}"

    page = client.get(url).get_data(as_text=True)  # its end runs the job queued by the payment
    assert '<progress id="issuance-bar" max="3" value="0"' in page
    assert "0 of 3 cards issued (0 %)…" in page
    assert f'data-progress-url="{url}/issuance"' in page
    assert "js/campaign_issuance.js" in page

    figures = client.get(f"{url}/issuance").get_json()
    assert figures == {"issued": 3, "total": 3, "percent": 100, "issuing": False,
                       "text": "All 3 cards are issued."}
    page = client.get(url).get_data(as_text=True)
    assert '<progress id="issuance-bar" max="3" value="3"' in page
    assert "All 3 cards are issued." in page and "data-progress-url" not in page
    assert "The beneficiaries are not imported." not in page  # what a quote lacks: not shown


def test_no_progress_before_the_campaign_is_paid(client, login, cse, officer, make_campaign):
    campaign = make_campaign()
    login(officer)
    url = f"/orgs/{cse.id}/campaigns/{campaign.id}"
    assert "issuance-bar" not in client.get(url).get_data(as_text=True)
    assert client.get(f"{url}/issuance").status_code == 409


def test_another_organization_cannot_read_the_progress(
        client, login, make_user, make_organization, paid_campaign):
    from marketplace.organizations.models import OrganizationKind

    campaign = paid_campaign(1)
    stranger = make_user(email="autre@cse.fr")
    other = make_organization(kind=OrganizationKind.WORKS_COUNCIL, owner=stranger)
    login(stranger)
    assert client.get(f"/orgs/{other.id}/campaigns/{campaign.id}/issuance").status_code == 404


# --- two runs at once (PostgreSQL: real row locks) ---------------------------------------------

@pytest.mark.postgres
def test_two_runs_at_once_issue_each_card_once(app, paid_campaign):
    from tests.threads import at_once

    campaign = paid_campaign(300)
    campaign_id = campaign.id
    db.session.commit()

    def run(_i):
        with uow.unit():
            return issuance.issue_cards(db.session.get(Campaign, campaign_id), batch=40)

    results, errors = at_once(app, run, 2)
    assert errors == []
    assert len(results) == 2 and sum(results) == 300
    db.session.expire_all()
    cards = cards_of(db.session.get(Campaign, campaign_id))
    assert len(cards) == 300 == card_count() == len({c.id for c in cards})
    assert db.session.get(Campaign, campaign_id).status == CampaignStatus.ISSUED
    assert db.session.scalar(sa.select(sa.func.count(CardTransaction.id))) == 300


def test_the_periodic_job_finishes_what_a_failed_run_left(monkeypatch, app, paid_campaign):
    first, second = paid_campaign(3), paid_campaign(2, name="Fête des mères")
    issuance.issue_cards(first, batch=2)  # done

    def stopped(*args, **kwargs):
        raise RuntimeError("the worker was stopped")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError), uow.unit():
        patched.setattr(bulk, "issue_named", stopped)
        issuance.issue_cards(db.session.get(Campaign, second.id))

    result = app.test_cli_runner().invoke(args=["campaigns", "issue-paid"])
    assert result.exit_code == 0 and "2 card(s) issued." in result.output
    db.session.expire_all()
    assert db.session.get(Campaign, second.id).status == CampaignStatus.ISSUED
    assert card_count() == 5
