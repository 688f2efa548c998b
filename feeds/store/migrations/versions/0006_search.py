"""The full-text index of releases (issue 17): `?q=` on every feed, `/search`.

Revision ID: 0006
Revises: 0005

An FTS5 table on SQLite, a tsvector table with a GIN index on PostgreSQL, both holding the
stems `feeds.text.search_terms` makes (see feeds/store/search.py); every item already stored is
indexed here, so search works right after the upgrade.
"""

from alembic import op

from feeds.store.search import create_index, drop_index, rebuild

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    create_index(connection)
    rebuild(connection)


def downgrade() -> None:
    drop_index(op.get_bind())
