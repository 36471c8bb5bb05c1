"""The next number of a series (a kind of document, a calendar year), gapless.

One row per series in invoicing_counter. Taking a number is one atomic
`UPDATE ... SET last_number = last_number + 1 ... RETURNING last_number`: the UPDATE locks the
row until the unit of work ends, so a concurrent issuer waits for it and then reads the number
that unit committed (READ COMMITTED re-reads an updated row), and a unit that rolls back gives
its number back with everything else. The row of a new year is created by an
INSERT ... ON CONFLICT DO NOTHING first, so two units starting a year together make one row.

The counter row stays locked until the unit commits: issue documents at the end of a unit,
after the slow work (the counter is one row for all issuers of a kind).
"""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.db import db, insert_on_conflict, lock_waits
from marketplace.invoicing.models import PREFIXES, DocumentCounter, DocumentKind


def next_sequence(kind: DocumentKind, year: int) -> int:
    """Take the next number of the series `kind`/`year` (1 for the first of the year)."""
    table = DocumentCounter.__table__
    with lock_waits():
        db.session.execute(insert_on_conflict(table).values(kind=kind.value, year=year, last_number=0)
                           .on_conflict_do_nothing(index_elements=["kind", "year"]))
        return db.session.execute(
            sa.update(table)
            .where(table.c.kind == kind.value, table.c.year == year)
            .values(last_number=table.c.last_number + 1)
            .returning(table.c.last_number)
        ).scalar_one()


def format_number(kind: DocumentKind, year: int, sequence: int) -> str:
    """F-2026-00001; a sixth digit appears after 99,999 documents of a kind in a year."""
    return f"{PREFIXES[kind]}-{year}-{sequence:05d}"
