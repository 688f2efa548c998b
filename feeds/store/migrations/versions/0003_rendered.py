"""Rendered feed pages shared by all web workers.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from feeds.store.schema import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rendered",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("last_modified", UtcDateTime, nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("gzipped", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rendered")
