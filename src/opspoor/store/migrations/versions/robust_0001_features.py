"""Robust matching: ORB features per list item (see opspoor/store/robust.py).

Revision ID: robust_0001
Revises:
Create Date: 2026-11-21

Hand-written for SQLite and PostgreSQL; keyed by the item's SHA-256, the item_key of list entries.
"""

import sqlalchemy as sa
from alembic import op

revision = "robust_0001"
down_revision = None
branch_labels = ("robust",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "robust_features",
        sa.Column("item_key", sa.String(128), nullable=False),
        sa.Column("orb", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("item_key", name="pk_robust_features"),
    )


def downgrade() -> None:
    op.drop_table("robust_features")
