"""Alembic migrations of the results database (run by `engine.store.migrate`)."""
