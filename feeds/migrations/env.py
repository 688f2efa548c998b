"""Alembic environment: run on the connection the store hands over (see feeds.store.engine)."""

from alembic import context

from feeds.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
