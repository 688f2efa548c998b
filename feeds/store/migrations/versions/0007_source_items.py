"""What each source's last ingests found, segment by segment: a re-ingest parses only what
changed (issue 18).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_items",
        sa.Column("source", sa.String(1024), primary_key=True),
        sa.Column("fingerprint", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(512)),
        sa.Column("problems", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_source_items_key", "source_items", ["key"])


def downgrade() -> None:
    op.drop_index("ix_source_items_key", "source_items")
    op.drop_table("source_items")
