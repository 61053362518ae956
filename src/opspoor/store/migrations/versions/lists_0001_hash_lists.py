"""Hash lists: lists, entries, entry history and list history.

Revision ID: lists_0001
Revises:
Create Date: 2026-11-21

Hand-written to run on SQLite and PostgreSQL alike; it mirrors opspoor/store/lists.py.
"""

import sqlalchemy as sa
from alembic import op

revision = "lists_0001"
down_revision = None
branch_labels = ("lists",)
depends_on = None

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hash_lists",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("supplier", sa.String(200), nullable=True),
        sa.Column("supplied_at", sa.DateTime(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("owner_tenant", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hash_lists"),
        sa.UniqueConstraint("name", name="uq_hash_lists_name"),
    )
    op.create_index("ix_hash_lists_owner_tenant", "hash_lists", ["owner_tenant"])

    op.create_table(
        "list_entries",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.Column("classification", sa.String(64), nullable=True),
        sa.Column("ai_generated", sa.Boolean(), nullable=False),
        sa.Column("source_ref", sa.String(512), nullable=True),
        sa.Column("item_key", sa.String(128), nullable=True),
        sa.Column("quality", sa.SmallInteger(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_list_entries"),
        sa.ForeignKeyConstraint(["list_id"], ["hash_lists.id"], name="fk_list_entries_list_id_hash_lists"),
        sa.UniqueConstraint("list_id", "signal_type", "value", name="uq_list_entries_list_signal_value"),
        sa.CheckConstraint("state IN ('active', 'disabled', 'disputed')", name="ck_list_entries_state"),
    )
    op.create_index("ix_list_entries_item_key", "list_entries", ["item_key"])

    op.create_table(
        "list_entry_events",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("entry_id", _BIG_ID, nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_list_entry_events"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["list_entries.id"], name="fk_list_entry_events_entry_id_list_entries"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["hash_lists.id"], name="fk_list_entry_events_list_id_hash_lists"
        ),
    )
    op.create_index("ix_list_entry_events_entry", "list_entry_events", ["entry_id"])

    op.create_table(
        "list_events",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_list_events"),
        sa.ForeignKeyConstraint(["list_id"], ["hash_lists.id"], name="fk_list_events_list_id_hash_lists"),
    )
    op.create_index("ix_list_events_list", "list_events", ["list_id"])


def downgrade() -> None:
    op.drop_table("list_events")
    op.drop_table("list_entry_events")
    op.drop_table("list_entries")
    op.drop_table("hash_lists")
