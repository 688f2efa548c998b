"""One release, several languages: each row becomes a version of a release.

Revision ID: 0005
Revises: 0004

Before, an item was its release (gov.kz kind + id, or title + day), so the English and the
Russian text of release 123 rewrote one row in turn. Now a row is a *version*: `release`
holds what the versions share and `key` is the release plus the language of the row's text,
which gives the row a new uid (the Atom id). This is the one change of Atom ids docs/SPEC.md
announces; the new ids are what a fresh ingest of the same dumps gives, in any order. Every
existing row was its release's only version, so each is the version shown in feeds without
`?lang=`. Nothing else moves: ids, follows and topics stay with their rows.
"""

import sqlalchemy as sa
from alembic import op

from feeds.dumps.records import bounded_release, item_uid, version_key

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("release", sa.String(512), nullable=False, server_default=""))
        batch.add_column(sa.Column("shown", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("item_topics") as batch:
        batch.add_column(sa.Column("shown", sa.Boolean(), nullable=False, server_default=sa.true()))
    _rekey_items()
    _reindex()
    # Pages rendered before carry the old ids; nothing may serve them again.
    op.execute("DELETE FROM rendered")


def _rekey_items() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, key, lang FROM items ORDER BY id")).all()
    changes = []
    for row_id, key, lang in rows:
        release = bounded_release(key)
        new_key = version_key(release, lang)
        changes.append({"row_id": row_id, "release": release, "key": new_key})
    # A new key never equals another row's old one: old keys never end in "#" + language.
    update = sa.text(
        "UPDATE items SET release = :release, key = :key, uid = :uid WHERE id = :row_id"
    )
    for start in range(0, len(changes), _BATCH):
        batch = changes[start : start + _BATCH]
        connection.execute(update, [{**c, "uid": item_uid(c["key"])} for c in batch])


def _reindex() -> None:
    op.drop_index("ix_items_order", "items")
    op.drop_index("ix_items_agency", "items")
    op.drop_index("ix_item_topics_order", "item_topics")
    op.create_index("ix_items_order", "items", ["shown", "sort_key", "id"])
    op.create_index("ix_items_agency", "items", ["agency", "shown", "sort_key", "id"])
    op.create_index("ix_items_release", "items", ["release"])
    op.create_index(
        "ix_item_topics_order", "item_topics", ["topic", "shown", "sort_key", "item_id"]
    )


def downgrade() -> None:
    raise NotImplementedError("versions cannot be merged back into one row per release")
