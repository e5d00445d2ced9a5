"""The Alembic migrations make exactly the schema the models describe, and keep old databases."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from engine.store.migrate import upgrade
from engine.store.runs import RunStore
from engine.store.schema import Base


def _diff(engine) -> list[object]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_migrations_build_the_schema_the_models_describe(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'runs.db'}")
    upgrade(engine)
    assert _diff(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0001"


def test_upgrade_twice_changes_nothing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'runs.db'}")
    upgrade(engine)
    upgrade(engine)
    assert _diff(engine) == []


def test_a_database_from_before_migrations_is_stamped_and_keeps_its_runs(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'runs.db'}")
    Base.metadata.create_all(engine)  # what the store did before migrations existed
    with engine.begin() as conn:
        conn.execute(text(
            "insert into backtest_runs (id, created_at, strategy_name, strategy_hash, timeframe, symbols, "
            "starting_balance, params, settings, metrics, n_trades, superbot_version) values "
            "('a' , '2026-01-01 00:00:00', 's', 'h', '5m', '[]', 1000, '{}', '{}', '{}', 0, '0')"))
    RunStore(engine=engine)
    assert "alembic_version" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from backtest_runs")).scalar() == 1


def test_migrations_run_on_postgresql() -> None:
    url = os.environ.get("SUPERBOT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    engine = create_engine(url)
    try:
        engine.connect().close()
    except Exception as exc:
        reason = f"PostgreSQL not reachable at {url}: {type(exc).__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must run this test)")
        pytest.skip(reason)
    schema = "migrations_test"
    with engine.begin() as conn:
        conn.execute(text(f"drop schema if exists {schema} cascade"))
        conn.execute(text(f"create schema {schema}"))
    scoped = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(scoped)
        assert _diff(scoped) == []
    finally:
        scoped.dispose()
        with engine.begin() as conn:
            conn.execute(text(f"drop schema if exists {schema} cascade"))
        engine.dispose()
