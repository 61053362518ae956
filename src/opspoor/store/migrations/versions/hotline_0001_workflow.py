"""Hotline: users, web sessions, reports, items, assessments, encrypted media, notices, re-checks,
jobs, abuse-contact overrides, partner hotlines.

Revision ID: hotline_0001
Revises:
Create Date: 2026-11-21

Hand-written to run on SQLite and PostgreSQL alike; it mirrors opspoor/store/hotline.py.
"""

import sqlalchemy as sa
from alembic import op

revision = "hotline_0001"
down_revision = None
branch_labels = ("hotline",)
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", _BIG_ID, primary_key=True)


def _item_fk(table: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        "item_id",
        _BIG_ID,
        sa.ForeignKey("hotline_items.id", name=f"fk_{table}_item_id_hotline_items"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "hotline_users",
        _id(),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("blur", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hotline_users"),
        sa.UniqueConstraint("username", name="uq_hotline_users_username"),
    )
    op.create_table(
        "hotline_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "user_id",
            _BIG_ID,
            sa.ForeignKey("hotline_users.id", name="fk_hotline_sessions_user_id_hotline_users"),
            nullable=False,
        ),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_hotline_sessions"),
    )
    op.create_index("ix_hotline_sessions_user_id", "hotline_sessions", ["user_id"])
    op.create_table(
        "hotline_reports",
        _id(),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("reporter", sa.String(255), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_hotline_reports"),
    )
    op.create_table(
        "hotline_items",
        _id(),
        sa.Column(
            "report_id",
            _BIG_ID,
            sa.ForeignKey("hotline_reports.id", name="fk_hotline_items_report_id_hotline_reports"),
            nullable=False,
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("risk_parts", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("sha1", sa.String(40), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("pdq_quality", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("matches", sa.JSON(), nullable=False),
        sa.Column("classification", sa.String(64), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("triaged_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("noticed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("notices_sent", sa.Integer(), nullable=False),
        sa.Column("scanner_queue_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_hotline_items"),
    )
    op.create_index("ix_hotline_items_report_id", "hotline_items", ["report_id"])
    op.create_index("ix_hotline_items_state_risk", "hotline_items", ["state", "risk"])
    op.create_index("ix_hotline_items_sha256", "hotline_items", ["sha256"])
    op.create_index("ix_hotline_items_url", "hotline_items", ["url"])
    op.create_table(
        "hotline_assessments",
        _id(),
        _item_fk("hotline_assessments"),
        sa.Column("analyst", sa.String(64), nullable=False),
        sa.Column("classification", sa.String(64), nullable=False),
        sa.Column("senior", sa.Boolean(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hotline_assessments"),
        sa.UniqueConstraint("item_id", "analyst", "round", name="uq_hotline_assessments_item_id"),
    )
    op.create_index("ix_hotline_assessments_item_id", "hotline_assessments", ["item_id"])
    op.create_table(
        "hotline_media",
        _item_fk("hotline_media"),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
        sa.Column("delete_after", sa.DateTime(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("item_id", name="pk_hotline_media"),
    )
    op.create_table(
        "hotline_notices",
        _id(),
        _item_fk("hotline_notices"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hotline_notices"),
    )
    op.create_index("ix_hotline_notices_item_id", "hotline_notices", ["item_id"])
    op.create_table(
        "hotline_rechecks",
        _id(),
        _item_fk("hotline_rechecks"),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("same", sa.Boolean(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_hotline_rechecks"),
    )
    op.create_index("ix_hotline_rechecks_item_id", "hotline_rechecks", ["item_id"])
    op.create_table(
        "hotline_jobs",
        _id(),
        sa.Column("kind", sa.String(16), nullable=False),
        _item_fk("hotline_jobs", nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hotline_jobs"),
    )
    op.create_index("ix_hotline_jobs_item_id", "hotline_jobs", ["item_id"])
    op.create_index("ix_hotline_jobs_due", "hotline_jobs", ["state", "due_at"])
    op.create_table(
        "hotline_contacts",
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("webhook", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("host", name="pk_hotline_contacts"),
    )
    op.create_table(
        "hotline_partners",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("webhook", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("country", name="pk_hotline_partners"),
    )


def downgrade() -> None:
    for table in (
        "hotline_partners", "hotline_contacts", "hotline_jobs", "hotline_rechecks", "hotline_notices",
        "hotline_media", "hotline_assessments", "hotline_items", "hotline_reports", "hotline_sessions",
        "hotline_users",
    ):  # fmt: skip
        op.drop_table(table)
