"""Counters of held units on products and held places on slots

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 18:19:00

A checkout used to add up every running hold of the product inside the product's lock, so it
slowed down with the number of unpaid checkouts. The counters hold the quantity of holds in
state "held" (expired or not); they are filled here from the holds as they are.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COUNTERS = (
    # table, counter column, hold column, check constraint name
    ("product", "held_units", "product_id", "ck_product_held_units_not_negative"),
    ("pickup_slot", "held_places", "slot_id", "ck_pickup_slot_held_places_not_negative"),
)


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, hold_column, check in COUNTERS:
        if sqlite:
            # SQLite adds a column with its CHECK in place, without a batch copy of the table.
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER DEFAULT 0 NOT NULL "
                       f"CONSTRAINT {check} CHECK ({column} >= 0)")
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), server_default=sa.text("0"),
                                           nullable=False))
            op.create_check_constraint(op.f(check), table, f"{column} >= 0")
        op.execute(
            f"UPDATE {table} SET {column} = (SELECT coalesce(sum(quantity), 0) FROM hold "
            f"WHERE hold.{hold_column} = {table}.id AND hold.state = 'held')"
        )


def downgrade():
    for table, column, _hold_column, check in reversed(COUNTERS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(check), type_="check")
            batch_op.drop_column(column)
