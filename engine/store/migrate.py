"""Bring a results database to the current schema with Alembic, checking cheaply first.

Every `RunStore` opens the database through `ensure_schema`: a database whose
`alembic_version` already names `HEAD` is used as it is (one small query, no
Alembic import: a backtest that keeps its run pays only that); any other gets
`upgrade`: a new database every migration, an old one the ones it lacks, so a
release that changes the tables never loses a user's kept runs. A database
made before migrations existed (tables, no `alembic_version`) is stamped at
the first revision, whose tables are the ones `create_all` made.

`HEAD` is written here rather than read from the migration scripts because
reading them means importing Alembic; `tests/test_store_migrations.py` fails
when it is not the scripts' head.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # SQLAlchemy and Alembic load in the functions: HEAD is read without them
    from alembic.config import Config
    from sqlalchemy import Engine
    from sqlalchemy.exc import DBAPIError

__all__ = ["HEAD", "MIGRATIONS", "alembic_config", "ensure_schema", "schema_revision", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"
FIRST_REVISION = "0001"
HEAD = "0001"   # the newest revision in migrations/versions; bump with each new revision


def alembic_config() -> Config:
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def schema_revision(engine: Engine) -> str | None:
    """The revision the database says it is at; None when it has no `alembic_version`."""
    from sqlalchemy import exc, text
    try:
        with engine.connect() as connection:
            return connection.execute(text("select version_num from alembic_version")).scalar()
    except (exc.OperationalError, exc.ProgrammingError) as error:
        if _missing_table(error):
            return None
        raise


def _missing_table(error: DBAPIError) -> bool:
    message = str(error.orig).lower()
    return "no such table" in message or "does not exist" in message


def upgrade(engine: Engine) -> None:
    """Run the migrations the database lacks (one transaction per revision)."""
    from alembic import command
    from sqlalchemy import inspect
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "backtest_runs" in tables and "alembic_version" not in tables:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")


def ensure_schema(engine: Engine) -> bool:
    """Make the database current; True when migrations had to run."""
    if schema_revision(engine) == HEAD:
        return False
    upgrade(engine)
    return True
