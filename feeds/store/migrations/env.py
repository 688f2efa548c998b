"""Alembic environment: run on the connection the store hands over (see feeds.store.engine)."""

from alembic import context

from feeds.store.schema import declared_here, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    include_name=declared_here,  # the search index is made by its own DDL
)
with context.begin_transaction():
    context.run_migrations()
