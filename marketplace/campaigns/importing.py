"""A beneficiaries import waits, with every problem of every line, until the manager has fixed
them all (in the page, or by sending the file again); only then do its lines become the
campaign's beneficiaries. Nothing is kept while a problem remains."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from flask import current_app

from marketplace.campaigns import services
from marketplace.campaigns.models import (
    AmountMode,
    Campaign,
    CampaignEvent,
    PendingImport,
    PendingLine,
)
from marketplace.campaigns.services import CampaignError
from marketplace.campaigns.spreadsheet import FIELDS, Sheet
from marketplace.db import db
from marketplace.i18n import lazy_gettext as _l
from marketplace.i18n import money_filter
from marketplace.money import parse_euros

NAME_MAX = 120
NUMBER_MAX = 40
CHILDREN_MAX = 30

COLUMN_LABELS = {
    "last_name": _l("Last name"),
    "first_name": _l("First name"),
    "email": _l("Email"),
    "amount": _l("Amount"),
    "employee_number": _l("Employee number"),
    "children": _l("Number of children"),
}

# Every problem a line or a file can have, with its sentence (params filled when shown).
MESSAGES = {
    "missing_column": _l("The column “%(column)s” is missing: add it to the file and send it "
                         "again."),
    "unknown_column": _l("The column “%(header)s” is not one we know: rename it (last name, first "
                         "name, email, amount, employee number, number of children) or leave it "
                         "out."),
    "unnamed_column": _l("Column %(position)s has no header: name it, or leave it out."),
    "duplicate_column": _l("The column “%(header)s” appears twice: leave one out."),
    "amount_ignored": _l("Everyone receives %(amount)s in this campaign: the amount column is not "
                         "used."),
    "empty_line": _l("This line is empty: delete it."),
    "last_name_missing": _l("The last name is missing."),
    "first_name_missing": _l("The first name is missing."),
    "email_missing": _l("The email address is missing."),
    "amount_missing": _l("The amount is missing."),
    "too_long": _l("“%(column)s” is too long (%(max)s characters at most)."),
    "bad_email": _l("“%(value)s” is not a valid email address."),
    "amount_not_number": _l("The amount “%(value)s” is not a number of euros (for example 50 or "
                            "12,50)."),
    "amount_not_positive": _l("The amount must be more than zero."),
    "amount_above_max": _l("The amount %(amount)s is above what one card can carry (%(max)s)."),
    "children_not_number": _l("The number of children “%(value)s” is not a whole number between "
                              "0 and %(max)s."),
    "duplicate_email": _l("This email address is also on line %(other)s."),
    "duplicate_number": _l("The employee number %(value)s is also on line %(other)s."),
}


@dataclass
class Problem:
    code: str
    params: dict = field(default_factory=dict)
    field: str | None = None  # the cell at fault, for the page

    def text(self) -> str:
        """The sentence in the reader's language."""
        return str(MESSAGES[self.code]) % {k: str(v) for k, v in self.params.items()}


@dataclass
class Review:
    """Where a pending import stands: problems of the file, of each line, and the lines that
    would be kept."""

    pending: PendingImport
    file_problems: list[Problem]
    notices: list[Problem]
    lines: list  # the pending lines, as rows (id, line, the cells, extra)
    line_problems: dict[int, list[Problem]]  # PendingLine.id -> problems
    rows: list[dict]  # the beneficiaries, once no problem is left

    @property
    def problem_count(self) -> int:
        return len(self.file_problems) + sum(len(p) for p in self.line_problems.values())

    @property
    def lines_with_problems(self) -> list:
        return [line for line in self.lines if line.id in self.line_problems]

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def total_cents(self) -> int:
        return sum(row["amount_cents"] for row in self.rows)


def max_lines() -> int:
    return int(current_app.config["CAMPAIGN_IMPORT_MAX_LINES"])


def pending_of(campaign: Campaign) -> PendingImport | None:
    return db.session.scalar(sa.select(PendingImport).where(PendingImport.campaign_id == campaign.id))


def start(campaign: Campaign, sheet: Sheet, *, filename: str, by) -> PendingImport:
    """A new pending import of `sheet` for the campaign (replacing one not confirmed). Under the
    campaign's row lock: a file sent twice at once (a double click) leaves the later one, not
    a clash of two pending imports."""
    services._lock(campaign)  # noqa: SLF001 - the campaign's lock, taken by every change of it
    if campaign.status not in services.EDITABLE:
        raise CampaignError(_l("This campaign can no longer be changed."), status_code=409)
    discard(campaign)
    seen = set()
    columns = []
    for header, name in zip(sheet.headers, sheet.fields, strict=True):
        duplicate = name is not None and name in seen
        seen.add(name)
        columns.append({"header": header, "field": None if duplicate else name,
                        "duplicate": duplicate})
    pending = PendingImport(campaign_id=campaign.id, filename=filename[:200],
                            uploaded_by_id=getattr(by, "id", None), columns=columns,
                            ignored_columns=[])
    db.session.add(pending)
    db.session.flush()
    values = []
    for number, cells in sheet.rows:
        row = {"import_id": pending.id, "line": number, "extra": {}}
        for name in FIELDS:
            row[name] = ""
        for column, cell in zip(columns, cells, strict=True):
            if column["field"]:
                row[column["field"]] = cell[:300]
            elif cell:
                row["extra"][str(_column_key(columns, column))] = cell[:300]
        values.append(row)
    # Core, not the ORM's bulk insert: 20,000 lines in one executemany (bench/RESULTS.md).
    db.session.execute(sa.insert(PendingLine.__table__), values)
    return pending


def _column_key(columns: list[dict], column: dict) -> int:
    return columns.index(column)


def discard(campaign: Campaign) -> None:
    pending = pending_of(campaign)
    if pending is not None:
        db.session.execute(sa.delete(PendingLine).where(PendingLine.import_id == pending.id))
        db.session.delete(pending)
        db.session.flush()


def _line(pending: PendingImport, line_id: int) -> PendingLine:
    line = db.session.scalar(sa.select(PendingLine).where(
        PendingLine.id == line_id, PendingLine.import_id == pending.id))
    if line is None:
        raise CampaignError(_l("This line is no longer in the import."), status_code=404)
    return line


def fix_line(pending: PendingImport, line_id: int, values: dict) -> None:
    """The line as corrected in the page (each cell as text; checked by review())."""
    line = _line(pending, line_id)
    for name in FIELDS:
        if name in values:
            setattr(line, name, (values[name] or "").strip()[:300])
    db.session.flush()


def delete_line(pending: PendingImport, line_id: int) -> None:
    db.session.delete(_line(pending, line_id))
    db.session.flush()


def ignore_column(pending: PendingImport, position: int) -> None:
    """Leave out a column we do not know (or a second copy of one)."""
    if not 0 <= position < len(pending.columns) or pending.columns[position]["field"]:
        raise CampaignError(_l("This column cannot be left out."), status_code=400)
    pending.ignored_columns = sorted({*pending.ignored_columns, position})
    db.session.flush()


def review(pending: PendingImport) -> Review:
    campaign = pending.campaign
    # Rows, not ORM objects: the page reads them, and reading 20,000 objects cost seconds.
    table = PendingLine.__table__
    lines = list(db.session.execute(sa.select(table).where(
        table.c.import_id == pending.id).order_by(table.c.line, table.c.id)))
    file_problems, notices = _file_problems(pending, campaign)
    present = {column["field"] for column in pending.columns if column["field"]}
    context = _Context(campaign=campaign, present=present)
    line_problems: dict[int, list[Problem]] = {}
    rows = []
    emails: dict[str, list] = defaultdict(list)
    numbers: dict[str, list] = defaultdict(list)
    for line in lines:
        problems, row = _check_line(line, context)
        if problems:
            line_problems[line.id] = problems
        if row is not None:
            rows.append(row)
        email = line.email.strip().lower()
        if email:
            emails[email].append(line)
        number = line.employee_number.strip().upper()
        if number:
            numbers[number].append(line)
    for same, code, key in ((emails, "duplicate_email", "email"),
                            (numbers, "duplicate_number", "employee_number")):
        for duplicates in same.values():
            if len(duplicates) < 2:
                continue
            for line in duplicates:
                other = next(d.line for d in duplicates if d is not line)
                line_problems.setdefault(line.id, []).append(Problem(
                    code, {"other": other, "value": getattr(line, key).strip()}, field=key))
    if file_problems or line_problems:
        rows = []
    return Review(pending=pending, file_problems=file_problems, notices=notices, lines=lines,
                  line_problems=line_problems, rows=rows)


@dataclass
class _Context:
    campaign: Campaign
    present: set

    @property
    def per_beneficiary(self) -> bool:
        return self.campaign.amount_mode == AmountMode.PER_BENEFICIARY


def required_fields(campaign: Campaign) -> list[str]:
    fields = ["last_name", "first_name", "email"]
    if campaign.amount_mode == AmountMode.PER_BENEFICIARY:
        fields.append("amount")
    if campaign.event == CampaignEvent.BACK_TO_SCHOOL:
        fields.append("children")
    return fields


def _file_problems(pending: PendingImport, campaign: Campaign) -> tuple[list, list]:
    problems, notices = [], []
    present = {column["field"] for column in pending.columns if column["field"]}
    for name in required_fields(campaign):
        if name not in present:
            problems.append(Problem("missing_column", {"column": COLUMN_LABELS[name]}))
    for position, column in enumerate(pending.columns):
        if column["field"] or position in pending.ignored_columns:
            continue
        if column.get("duplicate"):
            problems.append(Problem("duplicate_column", {"header": column["header"],
                                                         "position": position}))
        elif not column["header"]:
            problems.append(Problem("unnamed_column", {"position": _letter(position),
                                                      "index": position}))
        else:
            problems.append(Problem("unknown_column", {"header": column["header"],
                                                       "position": position}))
    if "amount" in present and campaign.amount_mode == AmountMode.SAME:
        notices.append(Problem("amount_ignored", {"amount": money_filter(campaign.amount_cents)}))
    return problems, notices


def _letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _check_line(line, context: _Context) -> tuple[list[Problem], dict | None]:
    values = {name: getattr(line, name).strip() for name in FIELDS}
    if not any(values.values()) and not any(str(v).strip() for v in (line.extra or {}).values()):
        return [Problem("empty_line")], None
    problems = []
    for name, code in (("last_name", "last_name_missing"), ("first_name", "first_name_missing"),
                       ("email", "email_missing")):
        if not values[name]:
            problems.append(Problem(code, field=name))
        elif len(values[name]) > (254 if name == "email" else NAME_MAX):
            problems.append(Problem("too_long", {"column": COLUMN_LABELS[name],
                                                 "max": 254 if name == "email" else NAME_MAX},
                                    field=name))
    email = values["email"].lower()
    if values["email"] and len(values["email"]) <= 254:
        try:
            email = valid_email(values["email"])
        except EmailNotValidError:
            problems.append(Problem("bad_email", {"value": values["email"]}, field="email"))
    amount_cents = context.campaign.amount_cents
    if context.per_beneficiary:
        amount_cents, problem = _amount(values["amount"])
        if problem:
            problems.append(problem)
    children = 0
    if values["children"]:
        if re.fullmatch(r"\d{1,2}", values["children"]) and int(values["children"]) <= CHILDREN_MAX:
            children = int(values["children"])
        else:
            problems.append(Problem("children_not_number",
                                    {"value": values["children"], "max": CHILDREN_MAX},
                                    field="children"))
    number = values["employee_number"] or None
    if number and len(number) > NUMBER_MAX:
        problems.append(Problem("too_long", {"column": COLUMN_LABELS["employee_number"],
                                             "max": NUMBER_MAX}, field="employee_number"))
    if problems:
        return problems, None
    return [], {"line": line.line, "last_name": values["last_name"],
                "first_name": values["first_name"], "email": email, "employee_number": number,
                "children": children, "amount_cents": amount_cents}


def _amount(text: str) -> tuple[int | None, Problem | None]:
    if not text:
        return None, Problem("amount_missing", field="amount")
    try:
        cents = parse_euros(text)
    except ValueError:
        return None, Problem("amount_not_number", {"value": text}, field="amount")
    if cents <= 0:
        return None, Problem("amount_not_positive", field="amount")
    maximum = services.card_max_cents()
    if cents > maximum:
        return None, Problem("amount_above_max", {"amount": money_filter(cents),
                                                  "max": money_filter(maximum)}, field="amount")
    return cents, None


# An address of the common kind (ASCII, dot-atoms, a domain of letters, digits and hyphens):
# accepted as it is, without email_validator's full parse (30 µs an address, 0,6 s for 20,000,
# most of the review's time). Anything else goes through email_validator.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63})")


def valid_email(address: str) -> str:
    """The address, normalised (lower case), or EmailNotValidError."""
    match = _PLAIN_EMAIL.fullmatch(address)
    if (match and len(address.split("@", 1)[0]) <= 64
            and match.group(1).lower() not in SPECIAL_USE_DOMAIN_NAMES):
        return address.lower()
    return validate_email(address, check_deliverability=False).normalized.lower()


def confirm(pending: PendingImport, *, by) -> int:
    """The lines become the campaign's beneficiaries, if no problem is left; the pending import
    is gone. Returns the number of beneficiaries."""
    result = review(pending)
    if not result.ok:
        raise CampaignError(_l("Some lines still have a problem: nothing was imported."),
                            status_code=409)
    campaign = pending.campaign
    filename = pending.filename
    count = services.replace_beneficiaries(campaign, result.rows, by=by, filename=filename)
    discard(campaign)
    return count
