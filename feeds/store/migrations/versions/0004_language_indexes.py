"""Language-filtered feeds read one index range: `?lang=` on an agency or topic feed.

Revision ID: 0004
Revises: 0003

Before, `/agencies/<slug>.atom?lang=ru` walked the agency's items (or the language's) and
`/topics/<slug>.atom?lang=kk` every item of the topic, looking for the page's rows: a feed
with no such item read them all. The topic rows now carry their item's language, as they
carry its order, and both tables have an index that starts with the filter.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_topics") as batch:
        batch.add_column(sa.Column("lang", sa.String(8), nullable=False, server_default=""))
    op.execute(
        "UPDATE item_topics SET lang = "
        "(SELECT items.lang FROM items WHERE items.id = item_topics.item_id)"
    )
    op.create_index("ix_item_topics_lang", "item_topics", ["topic", "lang", "sort_key", "item_id"])
    op.create_index("ix_items_agency_lang", "items", ["agency", "lang", "sort_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_items_agency_lang", "items")
    op.drop_index("ix_item_topics_lang", "item_topics")
    with op.batch_alter_table("item_topics") as batch:
        batch.drop_column("lang")
