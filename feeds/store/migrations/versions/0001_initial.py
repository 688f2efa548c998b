"""Items, sources and state.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from feeds.store.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(512), nullable=False, unique=True),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
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
        sa.Column("sort_key", sa.BigInteger, nullable=False),
        sa.Column("first_source", sa.Text, nullable=False),
        sa.Column("first_line", sa.Integer, nullable=False),
    )
    op.create_index("ix_items_order", "items", ["sort_key", "id"])
    op.create_index("ix_items_agency", "items", ["agency", "sort_key", "id"])
    op.create_index("ix_items_lang", "items", ["lang", "sort_key", "id"])
    op.create_table(
        "item_topics",
        sa.Column("topic", sa.String(128), primary_key=True),
        sa.Column(
            "item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("sort_key", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_item_topics_order", "item_topics", ["topic", "sort_key", "item_id"])
    op.create_index("ix_item_topics_item", "item_topics", ["item_id"])
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
    op.drop_table("item_topics")
    op.drop_table("items")
