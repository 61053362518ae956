"""Scanner: scans, hosts, pages, media sightings, risk scores, analyst queue, re-visits.

Revision ID: scanner_0001
Revises:
Create Date: 2026-11-21

Hand-written to run on SQLite and PostgreSQL alike; it mirrors opspoor/store/scanner.py.
"""

import sqlalchemy as sa
from alembic import op

revision = "scanner_0001"
down_revision = None
branch_labels = ("scanner",)
depends_on = None

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", _BIG_ID, primary_key=True)


def upgrade() -> None:
    op.create_table(
        "scan_scans",
        _id(),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("seeds", sa.JSON(), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("scope_hosts", sa.JSON(), nullable=False),
        sa.Column("max_pages", sa.Integer(), nullable=False),
        sa.Column("max_depth", sa.Integer(), nullable=False),
        sa.Column("robots", sa.String(8), nullable=False),
        sa.Column("lists", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=True),
        sa.Column("pages_count", sa.Integer(), nullable=False),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.Column("matched_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scan_scans"),
    )
    op.create_table(
        "scan_hosts",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("pages_count", sa.Integer(), nullable=False),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.Column("matched_count", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scan_hosts"),
        sa.UniqueConstraint("name", name="uq_scan_hosts_name"),
    )
    op.create_table(
        "scan_pages",
        _id(),
        sa.Column("scan_id", _BIG_ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("links_count", sa.Integer(), nullable=False),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.Column("matched_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scan_pages"),
        sa.ForeignKeyConstraint(["scan_id"], ["scan_scans.id"], name="fk_scan_pages_scan_id_scan_scans"),
        sa.UniqueConstraint("scan_id", "url", name="uq_scan_pages_scan_id"),
    )
    op.create_index("ix_scan_pages_scan_id", "scan_pages", ["scan_id"])
    op.create_index("ix_scan_pages_host", "scan_pages", ["host"])
    op.create_table(
        "scan_sightings",
        _id(),
        sa.Column("scan_id", _BIG_ID, nullable=False),
        sa.Column("page_id", _BIG_ID, nullable=False),
        sa.Column("page_url", sa.Text(), nullable=False),
        sa.Column("page_host", sa.String(255), nullable=False),
        sa.Column("media_url", sa.Text(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("found_as", sa.String(16), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("sha1", sa.String(40), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("pdq_quality", sa.Integer(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("matches", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scan_sightings"),
        sa.ForeignKeyConstraint(["scan_id"], ["scan_scans.id"], name="fk_scan_sightings_scan_id_scan_scans"),
        sa.ForeignKeyConstraint(["page_id"], ["scan_pages.id"], name="fk_scan_sightings_page_id_scan_pages"),
        sa.UniqueConstraint("page_id", "media_url", name="uq_scan_sightings_page_id"),
    )
    for column in ("scan_id", "page_id", "sha256", "pdq", "host", "country"):
        op.create_index(f"ix_scan_sightings_{column}", "scan_sightings", [column])
    op.create_table(
        "scan_risk",
        _id(),
        sa.Column("subject_kind", sa.String(8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("scan_id", _BIG_ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scan_risk"),
        sa.ForeignKeyConstraint(["scan_id"], ["scan_scans.id"], name="fk_scan_risk_scan_id_scan_scans"),
        sa.UniqueConstraint("subject_kind", "subject", name="uq_scan_risk_subject_kind"),
    )
    op.create_index("ix_scan_risk_score", "scan_risk", ["score"])
    op.create_table(
        "scan_queue",
        _id(),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("sighting_id", _BIG_ID, nullable=False),
        sa.Column("media_url", sa.Text(), nullable=False),
        sa.Column("page_url", sa.Text(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scan_queue"),
        sa.ForeignKeyConstraint(
            ["sighting_id"], ["scan_sightings.id"], name="fk_scan_queue_sighting_id_scan_sightings"
        ),
        sa.UniqueConstraint("sha256", name="uq_scan_queue_sha256"),
    )
    op.create_index("ix_scan_queue_state", "scan_queue", ["state"])
    op.create_table(
        "scan_revisits",
        _id(),
        sa.Column("sighting_id", _BIG_ID, nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("changed", sa.Boolean(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("pdq_distance", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scan_revisits"),
        sa.ForeignKeyConstraint(
            ["sighting_id"], ["scan_sightings.id"], name="fk_scan_revisits_sighting_id_scan_sightings"
        ),
    )
    op.create_index("ix_scan_revisits_sighting_id", "scan_revisits", ["sighting_id"])


def downgrade() -> None:
    for table in (
        "scan_revisits",
        "scan_queue",
        "scan_risk",
        "scan_sightings",
        "scan_pages",
        "scan_hosts",
        "scan_scans",
    ):
        op.drop_table(table)
