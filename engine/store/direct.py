"""Keep a backtest run: straight into SQLite when it can, through `RunStore` otherwise.

Steps of `keep_run`:
1. build the rows (`engine.store.rows`, shared with `RunStore.save_run`);
2. when the results database is a SQLite file that already exists and whose
   `alembic_version` is the current `HEAD`, insert them with the standard
   library's `sqlite3` in one transaction (`_insert_sqlite`): no SQLAlchemy
   import, no migration check, so a cold `superbot backtest` pays a few
   milliseconds to keep its run instead of the ~0.3 s SQLAlchemy costs to import;
3. otherwise (PostgreSQL, a new or older database) `RunStore`, which creates
   or migrates the schema and reports an unreachable server.

SQLAlchemy writes these columns the same way: JSON as `json.dumps` text and a
timezone-aware `created_at` as naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff`;
a test reads rows written here through `RunStore`.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.kernel.trades import SimResult
from engine.store.migrate import HEAD
from engine.store.paths import database_url
from engine.store.rows import run_row, trade_rows

__all__ = ["keep_run", "sqlite_path"]

_RUNS, _TRADES = "backtest_runs", "backtest_trades"


def sqlite_path(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL (no driver, no query); None for anything else."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix):]
    return Path(path).expanduser() if path and path != ":memory:" else None


def _sql_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def _insert(connection: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    names = list(rows[0])
    sql = f"insert into {table} ({', '.join(names)}) values ({', '.join('?' for _ in names)})"
    connection.executemany(sql, [[_sql_value(r[n]) for n in names] for r in rows])


def _insert_sqlite(path: Path, run: dict[str, Any], trades: list[dict[str, Any]]) -> bool:
    """Insert into an existing database at `HEAD`; False (nothing written) when it is not."""
    if not path.is_file():
        return False
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        try:
            revision = connection.execute("select version_num from alembic_version").fetchone()
        except sqlite3.DatabaseError:        # no alembic_version table, or not a database
            return False
        if revision is None or revision[0] != HEAD:
            return False
        connection.execute("begin immediate")
        try:
            _insert(connection, _RUNS, [run])
            if trades:
                _insert(connection, _TRADES, trades)
        except BaseException:
            connection.execute("rollback")
            raise
        connection.execute("commit")
        return True
    finally:
        connection.close()


def keep_run(result: SimResult, *, strategy_name: str, strategy_hash: str, params: dict[str, Any],
             metrics: dict[str, Any], settings: dict[str, Any] | None = None,
             url: str | None = None) -> str:
    """Keep one run with its trades in the results database; returns the run id."""
    target = database_url(url)
    path = sqlite_path(target)
    if path is not None:
        run = run_row(result, strategy_name=strategy_name, strategy_hash=strategy_hash,
                      params=params, metrics=metrics, settings=settings)
        if _insert_sqlite(path, run, trade_rows(str(run["id"]), result)):
            return str(run["id"])
    from engine.store.runs import RunStore
    with RunStore(target) as store:
        return store.save_run(result, strategy_name=strategy_name, strategy_hash=strategy_hash,
                              params=params, metrics=metrics, settings=settings)
