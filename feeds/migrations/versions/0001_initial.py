"""Items, sources and state.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from feeds.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(512), nullable=False, unique=True),
        sa.Column("kind", sa.String(64)),
        sa.Column("govkz_id", sa.String(32)),
        sa.Column("agency", sa.String(128)),
        sa.Column("link", sa.Text),
        sa.Column("link_lang", sa.String(8)),
        sa.Column("other_sources", sa.Text, nullable=False),
        sa.Column("sections", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("published", UtcDateTime, nullable=False),
        sa.Column("updated", UtcDateTime, nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("first_source", sa.Text, nullable=False),
        sa.Column("first_line", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_items_order", "items", [sa.text("published DESC"), "position", sa.text("id DESC")]
    )
    op.create_index("ix_items_agency", "items", ["agency"])
    op.create_table(
        "sources",
        sa.Column("name", sa.String(1024), primary_key=True),
        sa.Column("content_sha256", sa.String(64)),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_ingest", UtcDateTime),
        sa.Column("items_found", sa.Integer, nullable=False),
        sa.Column("problems", sa.Integer, nullable=False),
    )
    op.create_table(
        "state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("state")
    op.drop_table("sources")
    op.drop_table("items")
