"""Alembic environment: always run in-process on a connection `engine.store.migrate` hands over."""
from __future__ import annotations

from alembic import context

from engine.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
