"""Follow state and enrichment of items.

Revision ID: 0002
Revises: 0001
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from feeds.store.schema import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column(
            "item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("next_try", UtcDateTime),
        sa.Column("followed_at", UtcDateTime),
        sa.Column("title", sa.Text),
        sa.Column("body_html", sa.Text),
        sa.Column("published", UtcDateTime),
        sa.Column("image", sa.Text),
        sa.Column("content_hash", sa.String(64)),
    )
    op.create_index("ix_follows_due", "follows", ["next_try"])
    # Every item already stored with a followable link is due now.
    op.get_bind().execute(
        sa.text(
            "INSERT INTO follows (item_id, status, attempts, next_try) "
            "SELECT id, 'pending', 0, :now FROM items WHERE kind = 'press/news'"
        ),
        {"now": datetime.now(UTC).replace(tzinfo=None)},
    )


def downgrade() -> None:
    op.drop_table("follows")
