"""French full-text search that ignores accents and plurals, on SQLite (FTS5) and PostgreSQL.

A product is found by three parts of its text, lower-cased and without accents (`fold()`): its
title, its category's names (French and English, with the parent category), and the rest (its
description, its seller's name and town). Every word of a query must be in one of them, and
relevance weighs a word by where it is: in the title 10, in the category 4, elsewhere 1, so a
search for "velo" lists the bikes before the padlocks of a seller named "Atelier vélo".

PostgreSQL keeps a GIN-indexed tsvector of the three parts with weights A, B and D (`setweight`),
made with a French configuration that also runs `unaccent` (the query goes through the same
configuration, so "Vélos" finds "velo"), and ranks with `ts_rank` weighted 1.0 / 0.4 / 0.1.
SQLite keeps an FTS5 table with one column per part, whose words are made singular by
`singular()` (queries alike: "livres" finds "livre"), and ranks with `bm25` weighted 10 / 4 / 1.
`Product.search_text` keeps the three parts together, as indexed.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event

from marketplace.db import EXTERNAL_SCHEMA_OBJECTS, db
from marketplace.text import fold

PG_CONFIG = "fr_unaccent"
FTS_TABLE = "product_fts"
_WORD = re.compile(r"[a-z0-9]+")
MAX_QUERY_WORDS = 8


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def singular(word: str) -> str:
    """A light French singular: enough for matching, applied alike to documents and queries."""
    if len(word) > 4 and word.endswith("aux"):
        return word[:-3] + "al"  # chevaux -> cheval, journaux -> journal
    if len(word) > 3 and word[-1] in "sx" and not word.endswith("ss"):
        return word[:-1]  # livres -> livre, jeux -> jeu
    return word


def document_for(*parts: str) -> str:
    return " ".join(words(" ".join(p for p in parts if p)))


@dataclass(frozen=True)
class SearchDocument:
    """The folded words a product is found by, in the three parts that relevance weighs."""

    title: str
    category: str
    body: str

    @property
    def text(self) -> str:
        return " ".join(part for part in (self.title, self.category, self.body) if part)

    def row(self, product_id: int) -> dict:
        """This product's entry for `index_rows()`."""
        return {"id": product_id, "title": self.title, "category": self.category, "body": self.body}


def search_document(*, title: str, description: str, category_names: Sequence[str],
                    seller_name: str, town: str) -> SearchDocument:
    return SearchDocument(
        title=document_for(title),
        category=document_for(*category_names),
        body=document_for(description, seller_name, town),
    )


def query_words(query: str) -> list[str]:
    return words(query)[:MAX_QUERY_WORDS]


# --- schema objects outside the ORM metadata -------------------------------------------------

# S608: every name formatted into SQL here is a module constant, never user input.
PG_SETUP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"""
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{PG_CONFIG}') THEN
        CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = french);
        ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG}
          ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
      END IF;
    END $$
    """,  # noqa: S608
    # A stored vector, written by reindex(): matching and ranking read it instead of parsing
    # every row's text. It cannot be a generated column: the category's names are in another
    # table.
    "ALTER TABLE product ADD COLUMN IF NOT EXISTS search_vector tsvector",
    "CREATE INDEX IF NOT EXISTS ix_product_search_vector ON product USING gin (search_vector)",
]
SQLITE_SETUP = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, category, body, "
    "tokenize='unicode61 remove_diacritics 2')",
]
PG_TEARDOWN = [
    "DROP INDEX IF EXISTS ix_product_search_vector",
    "ALTER TABLE product DROP COLUMN IF EXISTS search_vector",
]
SQLITE_TEARDOWN = [f"DROP TABLE IF EXISTS {FTS_TABLE}"]
# Alembic's comparison must not report these as missing from the models (FTS5 adds
# shadow tables named product_fts_*).
EXTERNAL_SCHEMA_OBJECTS.update(
    {"ix_product_search_vector", "search_vector", FTS_TABLE, f"{FTS_TABLE}_*"}
)

# Relevance: how much a word counts in the title, the category and the rest. ts_rank takes its
# weights in the order D, C, B, A (C is unused); bm25 one per FTS5 column.
PG_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
FTS_WEIGHTS = (10.0, 4.0, 1.0)

PG_INDEX = (
    f"UPDATE product SET search_vector = "  # noqa: S608
    f"setweight(to_tsvector('{PG_CONFIG}', :title), 'A') || "
    f"setweight(to_tsvector('{PG_CONFIG}', :category), 'B') || "
    f"setweight(to_tsvector('{PG_CONFIG}', :body), 'D') WHERE id = :id"
)


def setup_statements(dialect: str) -> list[str]:
    return {"postgresql": PG_SETUP, "sqlite": SQLITE_SETUP}.get(dialect, [])


def teardown_statements(dialect: str) -> list[str]:
    return {"postgresql": PG_TEARDOWN, "sqlite": SQLITE_TEARDOWN}.get(dialect, [])


def install_ddl_events(product_table: sa.Table) -> None:
    """create_all()/drop_all() (tests) build the same search objects as the migration."""

    @event.listens_for(product_table, "after_create")
    def _create(target, connection, **kw):
        for statement in setup_statements(connection.dialect.name):
            connection.exec_driver_sql(statement)

    @event.listens_for(product_table, "before_drop")
    def _drop(target, connection, **kw):
        for statement in teardown_statements(connection.dialect.name):
            connection.exec_driver_sql(statement)


# --- keeping the index current and querying it -----------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def document_of(product) -> SearchDocument:
    category_names = []
    category = product.category
    while category is not None:
        category_names += [category.name_fr, category.name_en]
        category = category.parent
    seller = product.organization
    return search_document(
        title=product.title,
        description=product.description,
        category_names=category_names,
        seller_name=seller.name if seller else "",
        town=seller.town if seller else "",
    )


def index_rows(rows: list[dict]) -> None:
    """Write the search index of products whose `search_text` is saved: one dict per product
    (`SearchDocument.row()`); several at once for bulk loads."""
    if not rows:
        return
    dialect = _dialect()
    if dialect == "postgresql":
        db.session.execute(sa.text(PG_INDEX), rows)
    elif dialect == "sqlite":
        db.session.execute(
            sa.text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), [{"id": r["id"]} for r in rows]  # noqa: S608
        )
        db.session.execute(
            sa.text(f"INSERT INTO {FTS_TABLE} (rowid, title, category, body) "  # noqa: S608
                    "VALUES (:id, :title, :category, :body)"),
            [{key: _singular_words(value) if key != "id" else value for key, value in row.items()}
             for row in rows],
        )


def insert_indexed(table: sa.Table, rows: list[dict], documents: list[SearchDocument]) -> list[int]:
    """Insert new products (`rows`, their `search_text` set) with their search index, in one
    multi-row INSERT; their ids, in the order of `rows`. On PostgreSQL the vector is written by
    the INSERT itself (an UPDATE after it wrote every row and its indexes twice)."""
    if not rows:
        return []
    if _dialect() == "postgresql":
        from sqlalchemy.dialects.postgresql import TSVECTOR

        # The product table as the database has it (search_vector is not in the models).
        stored = sa.Table(table.name, sa.MetaData(),
                          *(sa.Column(column.name, column.type, primary_key=column.primary_key)
                            for column in table.columns),
                          sa.Column("search_vector", TSVECTOR))
        config = sa.literal_column(f"'{PG_CONFIG}'::regconfig")

        def part(name: str, weight: str):
            return sa.func.setweight(sa.func.to_tsvector(config, sa.bindparam(name, type_=sa.Text)),
                                     sa.literal_column(f"'{weight}'"))

        vector = part("doc_title", "A").op("||")(part("doc_category", "B")).op("||")(
            part("doc_body", "D"))
        statement = sa.insert(stored).values(search_vector=vector).returning(
            stored.c.id, sort_by_parameter_order=True)
        parameters = [{**row, "doc_title": document.title, "doc_category": document.category,
                       "doc_body": document.body} for row, document in zip(rows, documents, strict=True)]
        return list(db.session.execute(statement, parameters).scalars())
    ids = list(db.session.execute(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
    index_rows([document.row(product_id) for document, product_id in zip(documents, ids, strict=True)])
    return ids


def _singular_words(text: str) -> str:
    return " ".join(singular(word) for word in text.split())


def reindex_all(products) -> None:
    """Recompute `search_text` and the index of several products (a seller renamed)."""
    rows = []
    for product in products:
        document = document_of(product)
        product.search_text = document.text
        rows.append(document.row(product.id))
    db.session.flush()
    index_rows(rows)


def reindex(product) -> None:
    """Recompute `search_text` and the index after the product or its seller changed."""
    document = document_of(product)
    product.search_text = document.text
    db.session.flush()
    index_rows([document.row(product.id)])


def _pg_tsquery(terms: list[str]):
    return sa.func.to_tsquery(
        sa.literal_column(f"'{PG_CONFIG}'::regconfig"), " & ".join(f"{t}:*" for t in terms)
    )


def _fts_query(terms: list[str]) -> str:
    return " ".join(f'"{singular(t)}"*' for t in terms)


def match_clause(product_table, query: str):
    """A where-clause for the products matching every word of `query` (a word may be the
    start of a longer one); None when the query has no searchable word."""
    terms = query_words(query)
    if not terms:
        return None
    if _dialect() == "postgresql":
        vector = sa.literal_column(f"{product_table.name}.search_vector")
        return vector.op("@@")(_pg_tsquery(terms))
    matching = sa.select(sa.column("rowid")).select_from(sa.table(FTS_TABLE)).where(
        sa.text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=_fts_query(terms))
    )
    return product_table.c.id.in_(matching)


def relevance(product_table, query: str, matching: sa.Select, *, candidates: int) -> sa.Select:
    """SELECT id, score of the `candidates` newest products of `matching` (a filtered select
    of products, not yet restricted to the query) that match every word of `query`; the
    higher the score, the better the match. Only the candidates are ranked: ranking every
    match of a common word costs tens of milliseconds at 100,000 products."""
    terms = query_words(query)
    if _dialect() == "postgresql":
        vector = sa.literal_column(f"{product_table.name}.search_vector")
        tsquery = _pg_tsquery(terms)
        # The newest matches come from a backward scan of the primary key in a few ms; the
        # rank is worked out after, for those only.
        newest = (
            matching.where(vector.op("@@")(tsquery))
            .with_only_columns(product_table.c.id)
            .order_by(product_table.c.id.desc())
            .limit(candidates)
            .subquery()
        )
        score = sa.func.ts_rank(sa.literal(PG_WEIGHTS).cast(sa.ARRAY(sa.REAL)), vector, tsquery)
        return (
            sa.select(product_table.c.id, score.label("score"))
            .join(newest, newest.c.id == product_table.c.id)
        )
    # SQLite: one pass over the index, newest first (FTS5 reads it in rowid order and stops at
    # the limit), each match joined to its product by primary key. `rowid + 0` keeps SQLite
    # from looking the index up once per product instead, which would also work bm25's word
    # statistics out again for every row.
    fts = sa.table(FTS_TABLE, sa.column("rowid"))
    score = -sa.func.bm25(sa.literal_column(FTS_TABLE), *FTS_WEIGHTS)
    newest = (
        matching.join(fts, (fts.c.rowid + 0) == product_table.c.id)
        .where(sa.text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=_fts_query(terms)))
        .with_only_columns(product_table.c.id, score.label("score"))
        .order_by(fts.c.rowid.desc())
        .limit(candidates)
        .subquery()
    )
    return sa.select(newest.c.id, newest.c.score)
