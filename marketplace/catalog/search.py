"""French full-text search that ignores accents and plurals, on SQLite (FTS5) and PostgreSQL.

Each product keeps `search_text`: its title, description, category and seller, lower-cased and
without accents. PostgreSQL keeps a stored, GIN-indexed tsvector of it, made with a French
configuration that also runs `unaccent` (the query goes through the same configuration, so
"Vélos" finds "velo"). SQLite keeps an FTS5 table whose rows are the same words made singular
by `singular()`, and queries are made singular the same way ("livres" finds "livre").
"""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from sqlalchemy import event

from marketplace.db import EXTERNAL_SCHEMA_OBJECTS, db

PG_CONFIG = "fr_unaccent"
FTS_TABLE = "product_fts"
_WORD = re.compile(r"[a-z0-9]+")
MAX_QUERY_WORDS = 8


def fold(text: str) -> str:
    """Lower-case, accents removed, ligatures split: 'Œufs Frais' -> 'oeufs frais'."""
    text = (text or "").replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


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
    # A stored vector: matching and ranking read it instead of re-parsing every row's text.
    f"ALTER TABLE product ADD COLUMN IF NOT EXISTS search_vector tsvector "
    f"GENERATED ALWAYS AS (to_tsvector('{PG_CONFIG}'::regconfig, search_text)) STORED",
    "CREATE INDEX IF NOT EXISTS ix_product_search_vector ON product USING gin (search_vector)",
]
SQLITE_SETUP = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(body, "
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


def reindex(product) -> None:
    """Recompute `search_text` (and the SQLite FTS row) after the product or its seller changed."""
    category_names = []
    category = product.category
    while category is not None:
        category_names += [category.name_fr, category.name_en]
        category = category.parent
    product.search_text = document_for(
        product.title,
        product.description,
        *category_names,
        product.organization.name if product.organization else "",
        product.organization.town if product.organization else "",
    )
    db.session.flush()
    if _dialect() == "sqlite":
        body = " ".join(singular(w) for w in product.search_text.split())
        db.session.execute(sa.text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": product.id})  # noqa: S608
        db.session.execute(
            sa.text(f"INSERT INTO {FTS_TABLE} (rowid, body) VALUES (:id, :body)"),  # noqa: S608
            {"id": product.id, "body": body},
        )


def forget(product_id: int) -> None:
    if _dialect() == "sqlite":
        db.session.execute(sa.text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": product_id})  # noqa: S608


def match_clause(product_table, query: str):
    """(where-clause, rank expression or None) for products matching every word of `query`.

    Returns (None, None) when the query has no searchable word.
    """
    terms = query_words(query)
    if not terms:
        return None, None
    if _dialect() == "postgresql":
        tsquery = sa.func.to_tsquery(
            sa.literal_column(f"'{PG_CONFIG}'::regconfig"), " & ".join(f"{t}:*" for t in terms)
        )
        vector = sa.literal_column(f"{product_table.name}.search_vector")
        return vector.op("@@")(tsquery), sa.func.ts_rank(vector, tsquery)
    fts_query = " ".join(f'"{singular(t)}"*' for t in terms)
    matching = sa.select(sa.column("rowid")).select_from(sa.table(FTS_TABLE)).where(
        sa.text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=fts_query)
    )
    return product_table.c.id.in_(matching), None
