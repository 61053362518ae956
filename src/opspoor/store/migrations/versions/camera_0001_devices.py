"""camera: enrolled camera devices and their fingerprint files

Revision ID: camera_0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "camera_0001"
down_revision = None
branch_labels = ("camera",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_device",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("make", sa.String(200), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("serial", sa.String(200), nullable=True),
        sa.Column("case_ref", sa.String(200), nullable=True),
        sa.Column("item_ref", sa.String(200), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("fingerprint_path", sa.String(500), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(64), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_device")),
        sa.UniqueConstraint("name", name=op.f("uq_camera_device_name")),
    )


def downgrade() -> None:
    op.drop_table("camera_device")
