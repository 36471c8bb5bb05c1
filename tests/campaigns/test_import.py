"""Beneficiaries from a spreadsheet: every encoding and separator French offices produce, XLSX,
and a file full of mistakes, each named on its line; nothing kept while a problem remains."""
import io

import pytest
from openpyxl import Workbook

from marketplace.campaigns import importing, services
from marketplace.campaigns.models import AmountMode, Beneficiary, CampaignEvent, CampaignStatus
from marketplace.campaigns.spreadsheet import SpreadsheetError, read
from marketplace.db import db
from marketplace.money import parse_euros
from tests.threads import second_waits_for_first

FRENCH = ("Nom;Prénom;Courriel;Montant;Matricule;Nombre d'enfants\r\n"
          "Lefèvre;Hélène;helene.lefevre@example.fr;45,50;A-001;2\r\n"
          "Nguyễn;Anh;anh.nguyen@example.fr;30;A-002;0\r\n"
          "D'Aubigné;Françoise;f.daubigne@example.fr;12,5;A-003;\r\n")


def load(campaign, data: bytes, filename="salaries.csv", user=None):
    sheet = read(data, filename, max_lines=importing.max_lines())
    pending = importing.start(campaign, sheet, filename=filename, by=user)
    return pending, importing.review(pending)


def kept(campaign):
    return db.session.query(Beneficiary).filter_by(campaign_id=campaign.id).count()


@pytest.fixture
def per_person(make_campaign):
    return make_campaign(mode=AmountMode.PER_BENEFICIARY)


def assert_french_file_read(per_person, pending, result, officer):
    assert result.ok, [(line, [p.text() for p in ps]) for line, ps in result.line_problems.items()]
    assert importing.confirm(pending, by=officer) == 3
    rows = {b.email: b for b in db.session.query(Beneficiary).filter_by(campaign_id=per_person.id)}
    assert rows["helene.lefevre@example.fr"].amount_cents == 4550
    assert rows["helene.lefevre@example.fr"].last_name == "Lefèvre"
    assert rows["helene.lefevre@example.fr"].children == 2
    assert rows["anh.nguyen@example.fr"].last_name == "Nguyễn"
    assert rows["f.daubigne@example.fr"].amount_cents == 1250
    assert rows["f.daubigne@example.fr"].first_name == "Françoise"
    assert rows["f.daubigne@example.fr"].employee_number == "A-003"
    assert per_person.status == CampaignStatus.BENEFICIARIES_IMPORTED
    assert importing.pending_of(per_person) is None


def test_utf8_with_bom_and_semicolons(per_person, officer):
    assert_french_file_read(per_person, *load(per_person, b"\xef\xbb\xbf" + FRENCH.encode()),
                            officer)


def test_utf8_without_bom_and_commas(per_person, officer):
    text = FRENCH.replace(";", ",").replace("45,50", '"45,50"').replace("12,5", '"12,5"')
    assert_french_file_read(per_person, *load(per_person, text.encode()), officer)


def test_windows_1252_as_french_excel_saves_it(per_person, officer):
    text = FRENCH.replace("Nguyễn", "Nguyen")  # not in Windows-1252
    pending, result = load(per_person, text.encode("cp1252"))
    assert result.ok
    importing.confirm(pending, by=officer)
    names = {b.last_name for b in db.session.query(Beneficiary)}
    assert names == {"Lefèvre", "Nguyen", "D'Aubigné"}


def test_trailing_empty_columns_and_lines_are_ignored(per_person, officer):
    text = "\r\n".join(line + ";;;" for line in FRENCH.strip().split("\r\n")) + "\r\n;;;;;;\r\n\r\n"
    pending, result = load(per_person, text.encode("utf-8"))
    assert result.ok and len(result.rows) == 3


def test_english_headers_in_another_order(per_person, officer):
    text = ("Email,Amount,First name,Last name,Employee number,Children\n"
            "jo@example.org,20.50,Jo,Smith,7,1\n")
    pending, result = load(per_person, text.encode())
    assert result.ok
    assert result.rows[0] | {"line": 2} == {
        "line": 2, "last_name": "Smith", "first_name": "Jo", "email": "jo@example.org",
        "employee_number": "7", "children": 1, "amount_cents": 2050}


def test_an_excel_workbook(per_person, officer):
    book = Workbook()
    sheet = book.active
    sheet.append(["Prénom", "Nom", "E-mail", "Montant (€)", "Matricule", None, None])
    sheet.append(["Hélène", "Lefèvre", "helene@example.fr", 45.5, 1001])
    sheet.append(["Anh", "Nguyễn", "anh@example.fr", 30, 1002])
    buffer = io.BytesIO()
    book.save(buffer)
    pending, result = load(per_person, buffer.getvalue(), filename="salaries.xlsx")
    assert result.ok
    importing.confirm(pending, by=officer)
    rows = {b.email: b for b in db.session.query(Beneficiary)}
    assert rows["helene@example.fr"].amount_cents == 4550
    assert rows["helene@example.fr"].employee_number == "1001"
    assert rows["anh@example.fr"].last_name == "Nguyễn"


MISTAKES = (
    "Nom;Prénom;Courriel;Montant;Matricule;Nombre d'enfants;Service\n"
    "Martin;Léa;lea@example.fr;50;M1;0;Compta\n"  # 2: right
    "Bernard;Paul;paul-at-example.fr;50;M2;0;\n"  # 3: bad email
    "Petit;Zoé;zoe@example.fr;cinquante;M3;0;\n"  # 4: amount not a number
    "Durand;Luc;luc@example.fr;0;M4;0;\n"  # 5: zero
    "Leroy;Emma;emma@example.fr;-20;M5;0;\n"  # 6: negative
    "Moreau;Hugo;hugo@example.fr;1500,00;M6;0;\n"  # 7: above the card maximum
    "Simon;Chloé;lea@example.fr;50;M7;0;\n"  # 8: the email of line 2
    "Laurent;Noé;noe@example.fr;50;M1;0;\n"  # 9: the employee number of line 2
    ";Inès;ines@example.fr;50;M9;0;\n"  # 10: no last name
    "Roux;;roux@example.fr;50;M10;0;\n"  # 11: no first name
    "Fournier;Jade;;50;M11;0;\n"  # 12: no email
    ";;;;;;\n"  # 13: an empty line in the middle
    "Girard;Léo;leo@example.fr;50;M13;deux;\n"  # 14: children not a number
    "Bonnet;Lina;lina@example.fr;;M14;0;\n"  # 15: no amount
    + "X" * 130 + ";Tom;tom@example.fr;50;M15;0;\n"  # 16: last name too long
    "Dupont;Sam;sam@example.fr;12,345;M16;0;\n"  # 17: three decimals
)
EXPECTED = {
    3: {"bad_email"}, 4: {"amount_not_number"}, 5: {"amount_not_positive"},
    6: {"amount_not_positive"}, 7: {"amount_above_max"}, 8: {"duplicate_email"},
    2: {"duplicate_email", "duplicate_number"}, 9: {"duplicate_number"},
    10: {"last_name_missing"}, 11: {"first_name_missing"}, 12: {"email_missing"},
    13: {"empty_line"}, 14: {"children_not_number"}, 15: {"amount_missing"},
    16: {"too_long"}, 17: {"amount_not_number"},
}


def test_every_mistake_is_named_on_its_line_and_nothing_is_kept(per_person, officer):
    pending, result = load(per_person, MISTAKES.encode())

    found = {line.line: {p.code for p in result.line_problems[line.id]}
             for line in result.lines_with_problems}
    assert found == EXPECTED
    assert [p.code for p in result.file_problems] == ["unknown_column"]
    assert result.file_problems[0].text() == (
        "The column “Service” is not one we know: rename it (last name, first name, email, "
        "amount, employee number, number of children) or leave it out.")
    messages = {line.line: [p.text() for p in result.line_problems[line.id]]
                for line in result.lines_with_problems}
    assert messages[3] == ["“paul-at-example.fr” is not a valid email address."]
    assert messages[7] == ["The amount €1,500.00 is above what one card can carry (€1,000.00)."]
    assert messages[8] == ["This email address is also on line 2."]
    assert messages[9] == ["The employee number M1 is also on line 2."]
    assert not result.rows
    with pytest.raises(services.CampaignError):
        importing.confirm(pending, by=officer)
    assert kept(per_person) == 0
    assert per_person.status == CampaignStatus.DRAFT

    # Fixed in the page, line by line; the import survives between the pages.
    lines = {line.line: line for line in result.lines}
    fixes = {3: {"email": "paul@example.fr"}, 4: {"amount": "50"}, 5: {"amount": "10"},
             6: {"amount": "20"}, 7: {"amount": "150"}, 8: {"email": "chloe@example.fr"},
             9: {"employee_number": "M8"}, 10: {"last_name": "Faure"},
             11: {"first_name": "Rémi"}, 12: {"email": "jade@example.fr"},
             14: {"children": "2"}, 15: {"amount": "12,50"}, 16: {"last_name": "Tom"},
             17: {"amount": "12,35"}}
    for number, values in fixes.items():
        importing.fix_line(pending, lines[number].id, values)
    importing.delete_line(pending, lines[13].id)
    still = importing.review(importing.pending_of(per_person))
    assert not still.ok and [p.code for p in still.file_problems] == ["unknown_column"]
    assert kept(per_person) == 0

    importing.ignore_column(pending, 6)
    assert importing.review(pending).ok
    assert importing.confirm(pending, by=officer) == 15
    assert kept(per_person) == 15


def test_a_missing_required_column_is_a_problem_of_the_file(per_person):
    _, result = load(per_person, b"Nom;Prenom;Montant\nMartin;Lea;50\n")
    assert [p.text() for p in result.file_problems] == [
        "The column “Email” is missing: add it to the file and send it again."]
    assert not result.ok


def test_back_to_school_needs_the_children_and_same_amount_ignores_the_amounts(make_campaign):
    campaign = make_campaign(event=CampaignEvent.BACK_TO_SCHOOL, amount_cents=8000)
    _, result = load(campaign, b"Nom;Prenom;Email;Montant\nMartin;Lea;lea@example.fr;abc\n")
    assert [p.code for p in result.file_problems] == ["missing_column"]
    assert [p.code for p in result.notices] == ["amount_ignored"]
    assert not result.line_problems  # the amount column is not read: everyone gets 80 €


def test_a_new_file_replaces_the_pending_import(per_person):
    load(per_person, MISTAKES.encode())
    pending, result = load(per_person, FRENCH.encode())
    assert result.ok and len(result.lines) == 3
    assert importing.pending_of(per_person).id == pending.id


@pytest.mark.postgres
def test_a_file_sent_twice_at_once_leaves_the_later_import(app, per_person):
    """A double click on "send": the second upload waits for the first, then replaces it (the
    code before failed on the campaign's one pending import, a 500)."""
    from marketplace.campaigns.models import Campaign

    db.session.commit()
    campaign_id = per_person.id

    def upload(filename):
        return lambda: load(db.session.get(Campaign, campaign_id), FRENCH.encode(),
                            filename=filename)[0].id

    first, second = second_waits_for_first(app, upload("first.csv"), upload("second.csv"))
    assert first.error is None and second.error is None, second.error
    db.session.expire_all()
    pending = importing.pending_of(per_person)
    assert (pending.id, pending.filename) == (second.result, "second.csv")
    assert len(importing.review(pending).lines) == 3


@pytest.mark.parametrize(("data", "status", "message"), [
    (b"", 400, "The file is empty."),
    (b"   \r\n ", 400, "The file is empty."),
    (bytes(range(256)) * 20, 400, "This file is neither a CSV nor an Excel (.xlsx) spreadsheet."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, 400,
     "This is an old Excel file (.xls): save it as .xlsx or as CSV and send it again."),
    (b"PK\x03\x04not really a zip", 400,
     "This file is neither a CSV nor an Excel (.xlsx) spreadsheet."),
    (b"Nom;Prenom;Email\n", 400, "The file has a header but no beneficiary."),
])
def test_files_that_cannot_be_read_get_a_clear_message(app, data, status, message):
    with pytest.raises(SpreadsheetError) as error:
        read(data, "x.csv", max_lines=20000)
    assert error.value.status_code == status
    assert str(error.value.message) == message


def test_more_lines_than_allowed_is_refused(app):
    data = "Nom;Prenom;Email\n" + "".join(f"N;P;p{i}@example.org\n" for i in range(101))
    with pytest.raises(SpreadsheetError) as error:
        read(data.encode(), "x.csv", max_lines=100)
    assert error.value.status_code == 413
    assert str(error.value.message) == (
        "The file has more than 100 lines: split it into several campaigns.")
    assert read(data.encode(), "x.csv", max_lines=101).rows[-1][0] == 102


@pytest.mark.parametrize(("text", "cents"), [
    ("12,50", 1250), ("12.5", 1250), ("1 234,50 €", 123450), ("€40", 4000), ("EUR 40", 4000),
    ("40 euros", 4000), ("1.234,50", 123450), ("1,234.50", 123450), ("-5", -500),
    ("50\u00a0€", 5000),
])
def test_amounts_as_french_and_english_offices_write_them(text, cents):
    assert parse_euros(text) == cents


@pytest.mark.parametrize("text", ["abc", "12,345", "1,2,3", "12..5", "", "€"])
def test_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_euros(text)


@pytest.mark.parametrize("address", [
    "a@b.fr", "Prenom.Nom@Entreprise-Exemple.FR", "a..b@x.fr", "a.@x.fr", ".a@x.fr",
    "a@-x.fr", "a@x-.fr", "a@x.test", "a@x.local", "très@exemple.fr", "a@x.f", "a b@x.fr",
    "a@x..fr", "x" * 65 + "@x.fr", "a+tag@sub.domaine.fr", "a@123.fr", "a@x.123",
])
def test_the_quick_email_check_agrees_with_email_validator(address):
    from email_validator import EmailNotValidError, validate_email

    try:
        expected = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        expected = None
    try:
        found = importing.valid_email(address)
    except EmailNotValidError:
        found = None
    assert found == expected
