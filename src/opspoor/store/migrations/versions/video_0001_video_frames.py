"""Video frames: the per-frame PDQ hashes behind a list's vpdq / vpdq_trim entries.

Revision ID: video_0001
Revises:
Create Date: 2026-11-21

Hand-written to run on SQLite and PostgreSQL alike; it mirrors opspoor/store/video.py. Frames are
keyed by (signal_type, digest), the value of the list entries that refer to them, so one video in
several lists is stored once. Depends on the lists branch (the entries that give frames meaning).
"""

import sqlalchemy as sa
from alembic import op

revision = "video_0001"
down_revision = None
branch_labels = ("video",)
depends_on = "lists_0001"

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "video_frames",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("frame", sa.Integer(), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.Column("pdq", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("end_timestamp", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_video_frames"),
        sa.UniqueConstraint(
            "signal_type", "digest", "position", name="uq_video_frames_signal_digest_position"
        ),
    )
    op.create_index("ix_video_frames_signal_digest", "video_frames", ["signal_type", "digest"])


def downgrade() -> None:
    op.drop_table("video_frames")
