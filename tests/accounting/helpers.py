"""Reading a FEC back as an accountant's software would: the csv module, tab-separated."""
import csv
import io
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from marketplace.accounting.files import FEC_COLUMNS


def cents(text: str) -> int:
    assert "." not in text and text.count(",") == 1 and len(text.split(",")[1]) == 2, text
    return int(Decimal(text.replace(",", ".")) * 100)


def parse_fec(text: str) -> list[dict]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    header = next(reader)
    assert tuple(header) == FEC_COLUMNS
    rows = [dict(zip(header, row, strict=True)) for row in reader]
    for row in rows:
        for column in ("EcritureDate", "PieceDate", "ValidDate"):
            datetime.strptime(row[column], "%Y%m%d")
        assert row["CompteNum"].isdigit() and row["JournalCode"] and row["PieceRef"]
        assert row["EcritureLib"] and row["CompteLib"]
    return rows


def check_fec(text: str) -> dict[int, list[dict]]:
    """Every entry balances, entries are numbered 1..N without a gap, in date order, and the
    whole file balances; returns the lines of each entry."""
    rows = parse_fec(text)
    entries: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        entries[int(row["EcritureNum"])].append(row)
    assert sorted(entries) == list(range(1, len(entries) + 1))
    numbers_in_file_order = list(dict.fromkeys(int(row["EcritureNum"]) for row in rows))
    assert numbers_in_file_order == sorted(numbers_in_file_order)
    dates = [entries[n][0]["EcritureDate"] for n in sorted(entries)]
    assert dates == sorted(dates)
    for number, lines in entries.items():
        debit = sum(cents(line["Debit"]) for line in lines)
        credit = sum(cents(line["Credit"]) for line in lines)
        assert debit == credit, (number, debit, credit)
        assert len({(line["JournalCode"], line["EcritureDate"]) for line in lines}) == 1
    assert sum(cents(r["Debit"]) for r in rows) == sum(cents(r["Credit"]) for r in rows)
    return entries


def balance(rows, account: str) -> int:
    """Debit minus credit of an account over the file."""
    return sum(cents(r["Debit"]) - cents(r["Credit"]) for r in rows if r["CompteNum"] == account)
