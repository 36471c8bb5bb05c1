"""Search relevance weighs the title, the category and the rest of a product's text

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 11:00:00

Before, the search index held one undivided text per product: on SQLite nothing was ranked
(relevance meant newest first), and PostgreSQL could not tell a word of the title from a word of
the description. Now PostgreSQL's `product.search_vector` is a plain tsvector written by the
application with weights A (title), B (category names) and D (description, seller's name and
town) instead of a column generated from `search_text`, and SQLite's FTS5 table has one column
per part. Both are filled here from the products as they are; `search_text` becomes the three
parts in that order.
"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

FTS_OPTIONS = "tokenize='unicode61 remove_diacritics 2'"
WORD = re.compile(r"[a-z0-9]+")

# The rows of the three parts, from the tables as they are (the category tree has two levels).
PARTS = """
    SELECT product.id, product.title, product.description,
           category.name_fr, category.name_en, parent.name_fr AS parent_fr, parent.name_en AS parent_en,
           organization.name AS seller, organization.town
    FROM product
    JOIN category ON category.id = product.category_id
    LEFT JOIN category AS parent ON parent.id = category.parent_id
    JOIN organization ON organization.id = product.organization_id
"""


# Text folding and singulars as marketplace/catalog/search.py does them at this revision.
def fold_words(*parts):
    text = " ".join(p for p in parts if p)
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join(WORD.findall("".join(c for c in decomposed if not unicodedata.combining(c)).lower()))


def singular(word):
    if len(word) > 4 and word.endswith("aux"):
        return word[:-3] + "al"
    if len(word) > 3 and word[-1] in "sx" and not word.endswith("ss"):
        return word[:-1]
    return word


def singular_words(text):
    return " ".join(singular(w) for w in text.split())


def pg_fold(expression):
    """fold_words() in SQL: unaccent, lower case, anything but letters and digits a space."""
    return f"trim(regexp_replace(lower(unaccent({expression})), '[^a-z0-9]+', ' ', 'g'))"


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        title = pg_fold("product.title")
        category = pg_fold("concat_ws(' ', category.name_fr, category.name_en, parent.name_fr, parent.name_en)")
        body = pg_fold("concat_ws(' ', product.description, organization.name, organization.town)")
        op.execute("DROP INDEX IF EXISTS ix_product_search_vector")
        op.execute("ALTER TABLE product DROP COLUMN IF EXISTS search_vector")
        op.execute("ALTER TABLE product ADD COLUMN search_vector tsvector")
        op.execute(f"""
            UPDATE product SET
              search_text = trim(concat_ws(' ', parts.title, parts.category, parts.body)),
              search_vector = setweight(to_tsvector('fr_unaccent', parts.title), 'A')
                || setweight(to_tsvector('fr_unaccent', parts.category), 'B')
                || setweight(to_tsvector('fr_unaccent', parts.body), 'D')
            FROM (
              SELECT product.id, {title} AS title, {category} AS category, {body} AS body
              FROM product
              JOIN category ON category.id = product.category_id
              LEFT JOIN category AS parent ON parent.id = category.parent_id
              JOIN organization ON organization.id = product.organization_id
            ) AS parts
            WHERE parts.id = product.id
        """)
        op.execute("CREATE INDEX ix_product_search_vector ON product USING gin (search_vector)")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS product_fts")
        op.execute(f"CREATE VIRTUAL TABLE product_fts USING fts5(title, category, body, {FTS_OPTIONS})")
        rows, texts = [], []
        for row in bind.execute(sa.text(PARTS)).mappings():
            title = fold_words(row["title"])
            category = fold_words(row["name_fr"], row["name_en"], row["parent_fr"], row["parent_en"])
            body = fold_words(row["description"], row["seller"], row["town"])
            rows.append({"id": row["id"], "title": singular_words(title),
                         "category": singular_words(category), "body": singular_words(body)})
            texts.append({"id": row["id"], "text": " ".join(p for p in (title, category, body) if p)})
        if rows:
            bind.execute(sa.text("INSERT INTO product_fts (rowid, title, category, body) "
                                 "VALUES (:id, :title, :category, :body)"), rows)
            bind.execute(sa.text("UPDATE product SET search_text = :text WHERE id = :id"), texts)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_product_search_vector")
        op.execute("ALTER TABLE product DROP COLUMN IF EXISTS search_vector")
        op.execute("ALTER TABLE product ADD COLUMN search_vector tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('fr_unaccent'::regconfig, search_text)) STORED")
        op.execute("CREATE INDEX ix_product_search_vector ON product USING gin (search_vector)")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS product_fts")
        op.execute(f"CREATE VIRTUAL TABLE product_fts USING fts5(body, {FTS_OPTIONS})")
        rows = [{"id": row.id, "body": singular_words(row.search_text)}
                for row in bind.execute(sa.text("SELECT id, search_text FROM product"))]
        if rows:
            bind.execute(sa.text("INSERT INTO product_fts (rowid, body) VALUES (:id, :body)"), rows)
