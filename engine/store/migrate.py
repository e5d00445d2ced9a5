"""Bring a results database to the current schema with Alembic.

Every `RunStore` opens the database through `upgrade`: a new database gets
every migration, an old one the ones it lacks, so a release that changes the
tables never loses a user's kept runs. A database made before migrations
existed (tables, no `alembic_version`) is stamped at the first revision, whose
tables are the ones `create_all` made.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

__all__ = ["MIGRATIONS", "alembic_config", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"
FIRST_REVISION = "0001"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Run the migrations the database lacks (one transaction per revision)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "backtest_runs" in tables and "alembic_version" not in tables:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")
