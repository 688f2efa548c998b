"""Where each version came from (issue 27): `dump`, `rss` (the portal's official RSS) and
`api` (following its link), as words of `items.origins`.

Every item before this revision came from a dump; those the API answered came from it too.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("origins", sa.Text, nullable=False, server_default="dump"))
    op.execute(
        "UPDATE items SET origins = 'api dump' "
        "WHERE id IN (SELECT item_id FROM follows WHERE status = 'ok')"
    )


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("origins")
